#!/usr/bin/env python3
"""Writes the bundled samples of the six Peng et al. 2023 datasets (dataset-loaders/samples/{sst,
emotionlines-friends, mastodon, cmu-mosi, ch-sims, m3ed}/), a few format fixtures, and the golden
facts the loader tests compare against (test/fixtures/<name>/sample-golden.json).

Every sentence is invented for this project from small phrase pools; nothing is copied from the
real releases. Sentiment and emotion words correlate with the labels so that a bag-of-words
baseline learns something. The files follow each release's byte conventions (peng-dataset-formats.md):
PTB trees with -LRB- escapes, GLUE TSVs with a trailing space before the TAB, EmotionLines JSON
with 4-space indent, ASCII escapes and cp1252 C1 characters and no final newline, Mastodon lines
with a trailing space, MMSA label.csv as pandas writes it, M3ED nested JSON with split lists that
have no final newline.

The golden facts are computed by re-reading the written files with Python's own parsers (json,
csv with QUOTE_NONE for GLUE, a regex for trees) and applying the protocol rules as written in
the docs (e.g. numpy-style round-half-even for MOSI-7), independently of the TypeScript loaders.

Deterministic: run `python3 scripts/make-peng-samples.py` from the repository root.
"""

import csv
import io
import json
import random
import re
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "dataset-loaders" / "samples"
FIXTURES = ROOT / "test" / "fixtures"


def write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text.encode("utf-8"))


def counts(values):
    return dict(sorted(Counter(values).items()))


# --------------------------------------------------------------------------------------------
# SST: PTB trees and GLUE SST-2
# --------------------------------------------------------------------------------------------

SST_SUBJECTS = [
    "the film", "this movie", "the script", "its director", "the cast", "the soundtrack", "the sequel",
    "the documentary", "the remake", "the story", "the lead performance", "the ending", "the comedy",
    "the thriller", "the animation", "the dialogue", "this picture", "the premise",
]
SST_PREDICATES = {
    "0": [
        "is a dreadful , boring mess", "is the worst thing i have sat through all year",
        "is an insult to the audience", "is painfully stupid and utterly lifeless",
        "is a disaster from start to finish", "is unwatchable , ugly and cruel",
        "makes you hate the very idea of cinema", "is a pointless , awful waste of time",
    ],
    "1": [
        "feels tired and predictable", "never quite finds its footing", "is dull in long stretches",
        "is more annoying than funny", "drags badly in the middle", "is a bit too thin to matter",
        "wastes a decent idea", "settles for cliches",
    ],
    "2": [
        "runs about two hours", "is based on a novel", "was shot in the fall",
        "opens in a small town", "follows two brothers", "is told in flashbacks",
        "arrives in theaters this week", "is set in the eighties",
    ],
    "3": [
        "is a pleasant , well-acted diversion", "has some genuinely funny moments",
        "is charming enough", "offers a nice surprise or two", "is a solid piece of work",
        "is smart and often engaging", "is worth a look", "has a likable warmth",
    ],
    "4": [
        "is a stunning , joyous triumph", "is a masterful and moving experience",
        "is brilliant , funny and wise", "is one of the best films of the year",
        "is an absolute delight", "is a gorgeous , wonderful achievement",
        "is simply magnificent", "is a powerful , beautiful masterpiece",
    ],
}
# Tails exercise the PTB escapes the loader must handle.
SST_TAILS = [
    "", "", "", "", " -LRB- mostly -RRB-", " , and\\/or its sequel", " -- `` so to speak ''",
    " , with a 5\\* rating", " -LRB- in 3-D -RRB-", " , for better or worse",
]
SST_POLAR = {
    w: lab
    for lab, preds in SST_PREDICATES.items()
    if lab != "2"
    for p in preds
    for w in p.split()
    if w not in {",", "is", "a", "the", "and", "of", "in", "to", "you", "i", "it", "its", "an", "from",
                 "have", "all", "year", "very", "idea", "more", "than", "too", "one", "or", "two", "look",
                 "piece", "work", "some", "has", "finds", "thing", "sat", "through", "makes", "quite",
                 "long", "stretches", "bit", "matter", "decent", "nice", "enough", "often", "worth",
                 "films", "simply", "experience", "moments", "start", "finish", "time", "middle"}
}


def sst_tree(tokens, root):
    """Right-branching binary tree in the treebank's bracket form; leaves carry word polarity."""

    def leaf(tok):
        return f"({SST_POLAR.get(tok, '2')} {tok})"

    def build(toks, top):
        if len(toks) == 1:
            return leaf(toks[0]) if not top else f"({root} {toks[0]})"
        rest = build(toks[1:], False)
        has_polar = any(t in SST_POLAR for t in toks)
        label = root if top else (root if has_polar else "2")
        return f"({label} {leaf(toks[0])} {rest})"

    return build(tokens, True)


def sst_sentence(rng, label):
    subj = rng.choice(SST_SUBJECTS)
    pred = rng.choice(SST_PREDICATES[label])
    tail = rng.choice(SST_TAILS)
    text = f"{subj} {pred}{tail} ."
    toks = text.split()
    toks[0] = toks[0].capitalize()
    return toks


def make_sst():
    rng = random.Random(2013)
    out = SAMPLES / "sst"
    per_label = {"train": 24, "dev": 12, "test": 14}
    trees = {}
    for split, k in per_label.items():
        labels = [lab for lab in "01234" for _ in range(k)]
        rng.shuffle(labels)
        trees[split] = [(lab, sst_tree(sst_sentence(rng, lab), lab)) for lab in labels]
    # A duplicated sentence, as the real train file has 10.
    trees["train"].append(trees["train"][3])
    for split, rows in trees.items():
        write(out / "trees" / f"{split}.txt", "".join(t + "\n" for _, t in rows))

    def glue_text(tree):
        toks = re.findall(r"\((\d) ([^()\s]+)\)", tree)
        s = " ".join(t for _, t in toks).lower()
        return s.replace("-lrb-", "(").replace("-rrb-", ")").replace("\\/", "/")

    def glue_rows(rows, with_phrases):
        res = []
        for lab, tree in rows:
            if lab == "2":
                continue
            y = "0" if lab in "01" else "1"
            res.append((glue_text(tree), y))
            if with_phrases:  # GLUE train adds sub-sentence phrases with their own labels
                words = glue_text(tree).split()
                res.append((" ".join(words[1:4]), y))
        return res

    gl_train = glue_rows(trees["train"], True)
    gl_dev = glue_rows(trees["dev"], False)
    rng.shuffle(gl_dev)
    write(out / "SST-2" / "train.tsv", "sentence\tlabel\n" + "".join(f"{s} \t{y}\n" for s, y in gl_train))
    write(out / "SST-2" / "dev.tsv", "sentence\tlabel\n" + "".join(f"{s} \t{y}\n" for s, y in gl_dev))
    test_rows = [glue_text(t) for lab, t in trees["test"] if lab != "2"]
    write(out / "SST-2" / "test.tsv", "index\tsentence\n" + "".join(f"{i}\t{s} \n" for i, s in enumerate(test_rows)))

    # Golden facts, re-read from the files.
    golden = {}
    leaf = re.compile(r"\((\d) ([^()\s]+)\)")
    for split in per_label:
        lines = (out / "trees" / f"{split}.txt").read_text("utf-8").split("\n")[:-1]
        roots = [l[1] for l in lines]
        raw = [" ".join(t for _, t in leaf.findall(l)) for l in lines]
        brackets = [s.replace("-LRB-", "(").replace("-RRB-", ")") for s in raw]
        full = [
            " ".join(
                {"-LRB-": "(", "-RRB-": ")", "``": '"', "''": '"'}.get(t, t.replace("\\/", "/").replace("\\*", "*"))
                for t in s.split()
            )
            for s in raw
        ]
        sst5 = ["very negative", "negative", "neutral", "positive", "very positive"]
        golden[split] = {
            "n": len(lines),
            "ids": [f"{split}/{i + 1}" for i in range(len(lines))],
            "roots": counts(roots),
            "text_brackets": brackets,
            "text_raw": raw,
            "text_full": full,
            "sst5": counts(sst5[int(r)] for r in roots),
            "sst2": counts("negative" if r in "01" else "positive" for r in roots if r != "2"),
            "sst2_dropped": {"neutral": roots.count("2")},
        }
    for split in ("train", "dev"):
        with open(out / "SST-2" / f"{split}.tsv", encoding="utf-8", newline="") as f:
            rows = list(csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE))
        golden[f"glue-{split}"] = {
            "n": len(rows),
            "ids": [f"glue-{split}/{i + 2}" for i in range(len(rows))],
            "texts": [r["sentence"].rstrip(" ") for r in rows],
            "sst2": counts("negative" if r["label"] == "0" else "positive" for r in rows),
        }
    write(FIXTURES / "sst" / "sample-golden.json", json.dumps(golden, indent=1, ensure_ascii=False) + "\n")


# --------------------------------------------------------------------------------------------
# EmotionLines Friends
# --------------------------------------------------------------------------------------------

FRIENDS_SPEAKERS = ["Ross", "Rachel", "Monica", "Chandler", "Joey", "Phoebe", "Gunther", "Mr. Heckles"]
# ' is written as U+0092 in the release (cp1252 bytes read as Latin-1); ... as U+0085; -- as U+0097.
FRIENDS_POOLS = {
    "neutral": [
        "So where are we going tonight?", "I'm gonna get some coffee.", "Did you call the super?",
        "It's on the counter.", "We should leave at seven.", "He's coming by later.",
        "What time is it?", "I was at the store.", "The game starts at eight.", "Okay.",
        "Let me get my coat.", "She's upstairs.", "Pass me the paper?", "I'll take the chair.",
    ],
    "joy": [
        "Oh, I love it! This is wonderful!", "Yay! We got the tickets!", "I'm so happy for you!",
        "This is the best day ever!", "Ha! That's hilarious!", "I got the part! I got it!",
        "You're the best, thank you!", "Woo-hoo! Party at my place!",
    ],
    "sadness": [
        "I miss her so much.", "I just feel so alone right now.", "It's over. She's gone.",
        "I'm sorry, I can't stop crying.", "Nobody even remembered my birthday.", "I really lost him this time.",
    ],
    "fear": [
        "I'm scared, what if it comes back?", "Oh no, I'm so nervous\u0085", "Please don't make me go in there!",
        "I'm terrified of that thing.", "What if they find out?",
    ],
    "anger": [
        "Get out of my apartment!", "I can't believe you did that to me!", "That's it, I'm furious!",
        "Don't you dare touch my stuff!", "Are you kidding me? Stop it!", "You ate my sandwich?!",
    ],
    "surprise": [
        "What?! You're kidding!", "Oh my God! Really?", "Wait, since when?", "No way! You're engaged?",
        "Whoa! What happened here?", "You did what?!",
    ],
    "disgust": [
        "Ew, that's disgusting.", "Eww, what is that smell?", "Gross! Get it away from me!",
        "Ugh, that's revolting.", "That is so nasty.",
    ],
    "non-neutral": [
        "Well\u0097that's one way to put it.", "Huh. I don't know what to say.", "Oh, you guys\u0085",
        "Really? Okay then.", "Hmm, interesting.",
    ],
}
FRIENDS_ORDER = ["neutral", "joy", "sadness", "fear", "anger", "surprise", "disgust"]


def friends_votes(rng, label):
    if label == "non-neutral":
        while True:
            v = [0] * 7
            for _ in range(5):
                v[rng.randrange(7)] += 1
            if max(v) < 3:
                return "".join(map(str, v))
    i = FRIENDS_ORDER.index(label)
    top = rng.choice([3, 4, 5])
    v = [0] * 7
    v[i] = top
    for _ in range(5 - top):
        j = rng.choice([k for k in range(7) if k != i])
        v[j] += 1
    return "".join(map(str, v))


def friends_text(rng, label):
    t = rng.choice(FRIENDS_POOLS[label])
    # The release stores the right single quote as U+0092; one genuine U+2019 per file also occurs.
    t = t.replace("'", "\u0092")
    if rng.random() < 0.1:
        t = t.replace(". ", ".  ", 1)  # the release's double spaces
    return t


def make_friends_split(rng, n_dialogues, annotated):
    labels_cycle = ["neutral", "neutral", "joy", "sadness", "fear", "anger", "surprise", "disgust", "non-neutral"]
    dialogues = []
    for _ in range(n_dialogues):
        length = rng.randint(5, 12)
        pair = rng.sample(FRIENDS_SPEAKERS, 3)
        turns = []
        for k in range(length):
            lab = rng.choice(labels_cycle)
            u = {"speaker": pair[k % 3] if k % 4 else pair[0], "utterance": friends_text(rng, lab), "emotion": lab}
            if annotated:
                u["annotation"] = friends_votes(rng, lab)
            turns.append(u)
        dialogues.append(turns)
    # One genuine U+2019 that must survive the repair untouched.
    dialogues[0][0]["utterance"] = "It\u2019s the one with the duck."
    return dialogues


def friends_dump(dialogues):
    return json.dumps(dialogues, indent=4, ensure_ascii=True)  # no final newline, as released


def cp1252_repair(s):
    return "".join(bytes([ord(c)]).decode("cp1252") if 0x80 <= ord(c) <= 0x9F else c for c in s)


def friends_golden(path):
    data = json.loads(path.read_text("utf-8"))
    split = re.search(r"friends_(\w+)\.json", path.name).group(1)
    utts = [(d, u, x) for d, dia in enumerate(data) for u, x in enumerate(dia)]
    labels = [x["emotion"].lower() for _, _, x in utts]  # labels match case-insensitively
    return {
        "dialogues": len(data),
        "n": len(utts),
        "ids": [f"{split}/d{d}_u{u}" for d, u, _ in utts],
        "texts": [cp1252_repair(x["utterance"]) for _, _, x in utts],
        "speakers": [x["speaker"] for _, _, x in utts],
        "emotion": counts(labels),
        "friends7": counts(l for l in labels if l in FRIENDS_ORDER),
        "friends7_dropped": counts(l for l in labels if l not in FRIENDS_ORDER),
        "friends4": counts(l for l in labels if l in ("neutral", "joy", "sadness", "anger")),
        "friends4_dropped": counts(l for l in labels if l not in ("neutral", "joy", "sadness", "anger")),
    }


def make_friends():
    rng = random.Random(2018)
    out = SAMPLES / "emotionlines-friends"
    golden = {}
    for split, n in (("train", 12), ("dev", 8), ("test", 10)):
        path = out / f"friends_{split}.json"
        write(path, friends_dump(make_friends_split(rng, n, annotated=False)))
        golden[split] = friends_golden(path)
    # Fixture: the EmotionX-2019 style (same shape plus "annotation").
    fx = FIXTURES / "friends" / "annotated"
    d2019 = make_friends_split(random.Random(2019), 3, annotated=True)
    # An upper-case label: labels are matched case-insensitively.
    d2019[1][0]["emotion"] = "Joy"
    d2019[1][0]["annotation"] = "0500000"
    write(fx / "friends_test.json", friends_dump(d2019))
    golden["annotated-test"] = friends_golden(fx / "friends_test.json")
    golden["annotated-test"]["annotations"] = [x["annotation"] for dia in d2019 for x in dia]
    write(FIXTURES / "friends" / "sample-golden.json", json.dumps(golden, indent=1, ensure_ascii=False) + "\n")


# --------------------------------------------------------------------------------------------
# Mastodon
# --------------------------------------------------------------------------------------------

MASTODON_POOLS = {
    "+": [
        "thanks so much , this is great !", "love this instance , everyone is so nice :)",
        "congrats on the release ! 🎉", "haha that is brilliant", "what a lovely photo <URL>",
        "awesome work anon , thank you", "this made my day ❤", "welcome aboard ! glad you are here",
        "i really enjoy the local timeline today", "great idea , i like it a lot",
    ],
    "-": [
        "this update broke everything again", "ugh , my server is down and i hate it",
        "that is really sad news", "i am so tired of spam accounts", "this is awful , please stop",
        "sorry but that is a terrible idea", "the federation bug is annoying", "worst week ever",
        "i am angry about the moderation", "nope , that did not work at all :(",
    ],
    "*": [
        "which instance are you on ?", "the migration is scheduled for tomorrow", "<mention> see <URL>",
        "is it open source ?", "i think the toot limit is 500 characters", "you can set it in preferences",
        "where is the settings page ?", "anon posted about it yesterday", "some.website has the docs",
        "did you try restarting the service ?",
    ],
}
MASTODON_ACTS = "I W Q A O R S H D T V J E M F".split()
COGAT_DEV = [12, 15, 16, 17, 49, 53, 63, 72, 79, 81, 103, 110, 117, 118, 138, 144, 164, 166, 192, 211, 214, 236, 245, 253, 259]


def mastodon_lines(rng, n_dialogues, long_dialogues):
    lines = []
    for d in range(n_dialogues):
        length = rng.randint(5, 7) if d in long_dialogues else rng.randint(1, 4)
        for i in range(length):
            s = rng.choice("++--***")
            act = rng.choice(MASTODON_ACTS[:6]) if rng.random() < 0.5 else "I"
            lines.append(f"{i} {s}_{act} {rng.choice(MASTODON_POOLS[s])} \n")
    return lines


def make_mastodon():
    rng = random.Random(2018 * 2)
    out = SAMPLES / "mastodon"
    train = mastodon_lines(rng, 64, set(COGAT_DEV))
    test = mastodon_lines(rng, 40, set())
    write(out / "datatrainJoint.txt", "".join(train))
    write(out / "datatestJoint.txt", "".join(test))
    golden = {}
    names = {"+": "positive", "-": "negative", "*": "neutral"}
    for split, name in (("train", "datatrainJoint.txt"), ("test", "datatestJoint.txt")):
        dialogues = []
        for n, line in enumerate((out / name).read_text("utf-8").split("\n")[:-1]):
            idx, lab, text = line.split(" ", 2)
            if idx == "0":
                dialogues.append([])
            dialogues[-1].append((idx, lab.split("_")[0], text.rstrip(" "), n + 1))
        ids = [f"{split}/d{d}_u{u[0]}" for d, dia in enumerate(dialogues) for u in dia]
        golden[split] = {
            "dialogues": len(dialogues),
            "n": len(ids),
            "ids": ids,
            "texts": [u[2] for dia in dialogues for u in dia],
            "lines": [u[3] for dia in dialogues for u in dia],
            "sentiment": counts(names[u[1]] for dia in dialogues for u in dia),
        }
        if split == "train":
            golden["task-train"] = counts(
                names[u[1]] for d, dia in enumerate(dialogues) if d not in COGAT_DEV for u in dia
            )
            golden["task-dev"] = counts(names[u[1]] for d, dia in enumerate(dialogues) if d in COGAT_DEV for u in dia)
            golden["task-dev-dialogues"] = [f"train/d{d}" for d in range(len(dialogues)) if d in COGAT_DEV]
    write(FIXTURES / "mastodon" / "sample-golden.json", json.dumps(golden, indent=1, ensure_ascii=False) + "\n")


# --------------------------------------------------------------------------------------------
# MMSA label.csv: CMU-MOSI and CH-SIMS
# --------------------------------------------------------------------------------------------

MOSI_POOLS = {
    "neg": [
        "I DID NOT LIKE IT AT ALL", "THE ACTING WAS REALLY BAD", "IT WAS BORING AND WAY TOO LONG",
        "HONESTLY I WAS DISAPPOINTED", "THE PLOT MADE NO SENSE", "I WOULD NOT RECOMMEND IT",
        "IT WAS A WASTE OF MONEY", "THE ENDING WAS TERRIBLE",
    ],
    "zero": [
        "SO I SAW IT LAST WEEKEND", "IT IS ABOUT A FAMILY", "THE MOVIE IS TWO HOURS LONG",
        "IT CAME OUT IN JUNE", "UMM THERE ARE THREE MAIN CHARACTERS",
    ],
    "pos": [
        "I REALLY LOVED THIS MOVIE", "THE ACTING WAS GREAT", "IT WAS FUNNY AND SWEET",
        "I WOULD DEFINITELY SEE IT AGAIN", "THE MUSIC WAS AMAZING", "IT WAS A REALLY GOOD TIME",
        "I ENJOYED EVERY MINUTE", "BEST MOVIE I HAVE SEEN THIS YEAR",
    ],
}
MOSI_VIDEOS = {
    "train": ["03bSnISJMiM", "0h-zjBukYpk", "1DmNV9C1hbY", "2iD-tVS8NPw", "5W7Z1C_fDaE", "6_0THN4chvY",
              "73jzhE8R1TQ", "8d-gEyoeBzc", "9J25DZhivz8", "Af8D0E4ZXaw", "BioHAh1qJAQ", "Clx4VXItLTE"],
    "valid": ["_dI--eQ6qVU", "WKA5OygbEKI", "c5xsKMxpXnc", "atnd_PF-Lbs"],
    "test": ["tmZoasNr4rU", "zhpQhgha_KU", "lXPQBPVc5Cw", "iiK8YX8oH1E", "tStelxIAHjw", "nzpVDcQ0ywM"],
}
# Annotator means as MMSA writes them (pandas float repr).
MOSI_NEG = ["-3.0", "-2.8", "-2.6", "-2.4", "-2.0", "-1.8", "-1.6666666666666667", "-1.5", "-1.4", "-1.0", "-0.8",
            "-0.6", "-0.5", "-0.4", "-0.2", "-2.5"]
MOSI_POS = ["3.0", "2.8", "2.6", "2.4", "2.0", "1.8", "1.6666666666666667", "1.5", "1.4", "1.0", "0.8", "0.6",
            "0.5", "0.4", "0.2", "2.5", "0.3333333333333333"]


def mosi_rows(rng):
    rows = []
    for mode, videos in MOSI_VIDEOS.items():
        for vid in videos:
            for clip in range(1, rng.randint(7, 11)):
                kind = rng.choice(["neg", "neg", "pos", "pos", "zero"])
                label = {"neg": rng.choice(MOSI_NEG), "pos": rng.choice(MOSI_POS), "zero": "0.0"}[kind]
                text = rng.choice(MOSI_POOLS[kind])
                if rng.random() < 0.15:
                    text = "UHH, " + text  # a comma forces CSV quoting
                ann = "Negative" if float(label) < 0 else "Positive" if float(label) > 0 else "Neutral"
                rows.append({"video_id": vid, "clip_id": str(clip), "text": text, "label": label, "label_T": "",
                             "label_A": "", "label_V": "", "annotation": ann, "mode": mode})
    return rows


def csv_text(rows, columns):
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=columns, lineterminator="\n", quoting=csv.QUOTE_MINIMAL)
    w.writeheader()
    w.writerows(rows)
    return buf.getvalue()


MMSA_COLUMNS = ["video_id", "clip_id", "text", "label", "label_T", "label_A", "label_V", "annotation", "mode"]


def round_half_even(x):
    return round(x)  # Python 3 round() rounds half to even, as numpy's np.round does


def mosi_golden(path):
    with open(path, encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    g = {}
    for mode in ("train", "valid", "test"):
        rs = [r for r in rows if r["mode"] == mode]
        ys = [float(r["label"]) for r in rs]
        g[mode] = {
            "n": len(rs),
            "ids": [f"{r['video_id']}$_$" + r["clip_id"] for r in rs],
            "texts": [r["text"] for r in rs],
            "mosi-2": counts("negative" if y < 0 else "positive" for y in ys if y != 0),
            "mosi-2-dropped": {"zero": sum(1 for y in ys if y == 0)} if any(y == 0 for y in ys) else {},
            "mosi-2-has0": counts("negative" if y < 0 else "non-negative" for y in ys),
            "mosi-3": counts("negative" if y < 0 else "positive" if y > 0 else "neutral" for y in ys),
            "mosi-7": counts(str(int(min(3, max(-3, round_half_even(y))))) for y in ys),
        }
    return g


def make_mosi():
    rng = random.Random(2016)
    rows = mosi_rows(rng)
    write(SAMPLES / "cmu-mosi" / "label.csv", csv_text(rows, MMSA_COLUMNS))
    golden = {"sample": mosi_golden(SAMPLES / "cmu-mosi" / "label.csv")}
    # Fixture: the MOSEI-style column order, to prove columns are selected by header name.
    other = ["video_id", "clip_id", "text", "label", "annotation", "mode", "label_T", "label_A", "label_V"]
    fx_rows = rows[:12] + [r for r in rows if r["mode"] == "valid"][:4] + [r for r in rows if r["mode"] == "test"][:6]
    write(FIXTURES / "mosi" / "reordered" / "label.csv", csv_text(fx_rows, other))
    golden["reordered"] = mosi_golden(FIXTURES / "mosi" / "reordered" / "label.csv")
    write(FIXTURES / "mosi" / "sample-golden.json", json.dumps(golden, indent=1, ensure_ascii=False) + "\n")


SIMS_POOLS = {
    -1: ["我真的很讨厌这种人", "太让人失望了", "你怎么能这样对我", "这件事简直糟透了", "我再也不想见到你了", "别烦我，走开"],
    0: ["我们明天早上八点出发", "他说下午会过来", "这是上个月的账单", "你把那本书放哪儿了", "会议改到周三了"],
    1: ["今天真是太开心了", "谢谢你，你真好", "这个主意太棒了", "我们终于成功了", "好喜欢这里的风景", "祝你生日快乐"],
}
SIMS_GRID = ["-1.0", "-0.8", "-0.6", "-0.4", "-0.2", "0.0", "0.2", "0.4", "0.6", "0.8", "1.0"]


def make_sims():
    rng = random.Random(2020)
    rows = []
    clip_video = 1
    for mode, n_videos in (("train", 9), ("valid", 4), ("test", 5)):
        for _ in range(n_videos):
            vid = f"video_{clip_video:04d}"
            clip_video += 1
            for clip in range(1, rng.randint(9, 13)):
                idx = rng.randrange(len(SIMS_GRID))
                label = SIMS_GRID[idx]
                y = float(label)
                pool = -1 if y < -0.1 else 1 if y > 0.1 else 0
                if abs(y) == 0.2 and rng.random() < 0.5:
                    pool = 0
                uni = [SIMS_GRID[max(0, min(10, idx + rng.choice([-1, 0, 0, 1])))] for _ in range(3)]
                ann = "Negative" if y < 0 else "Positive" if y > 0 else "Neutral"
                rows.append({"video_id": vid, "clip_id": f"{clip:04d}", "text": rng.choice(SIMS_POOLS[pool]),
                             "label": label, "label_T": uni[0], "label_A": uni[1], "label_V": uni[2],
                             "annotation": ann, "mode": mode})
    write(SAMPLES / "ch-sims" / "label.csv", csv_text(rows, MMSA_COLUMNS))
    with open(SAMPLES / "ch-sims" / "label.csv", encoding="utf-8", newline="") as f:
        back = list(csv.DictReader(f))

    def b3(y):
        return "negative" if y <= -0.1 else "neutral" if y <= 0.1 else "positive"

    def b5(y):
        for bound, lab in ((-0.7, "negative"), (-0.1, "weakly negative"), (0.1, "neutral"), (0.7, "weakly positive")):
            if y <= bound:
                return lab
        return "positive"

    golden = {}
    for mode in ("train", "valid", "test"):
        rs = [r for r in back if r["mode"] == mode]
        ys = [float(r["label"]) for r in rs]
        golden[mode] = {
            "n": len(rs),
            "ids": [f"{r['video_id']}$_${r['clip_id']}" for r in rs],
            "texts": [r["text"] for r in rs],
            "chsims-2": counts("negative" if y <= 0 else "positive" for y in ys),
            "chsims-2-non0": counts("negative" if y < 0 else "positive" for y in ys if y != 0),
            "zeros": sum(1 for y in ys if y == 0),
            "chsims-3": counts(b3(y) for y in ys),
            "chsims-5": counts(b5(y) for y in ys),
        }
    write(FIXTURES / "sims" / "sample-golden.json", json.dumps(golden, indent=1, ensure_ascii=False) + "\n")


# --------------------------------------------------------------------------------------------
# M3ED
# --------------------------------------------------------------------------------------------

M3ED_POOLS = {
    "Happy": ["太好了，我们赢了", "哈哈，你真逗", "今天真开心", "谢谢你，我好高兴"],
    "Neutral": ["你先把衣服换了", "明天几点开会", "我在楼下等你", "这个放哪儿", "他刚才打电话来了", "晚饭吃什么"],
    "Sad": ["我真的好难过", "他再也不会回来了", "都是我的错", "我好想哭"],
    "Disgust": ["真恶心", "你这个人真让人讨厌", "别碰我，脏死了"],
    "Anger": ["你给我出去", "你凭什么这么说我", "我受够了", "别再骗我了"],
    "Fear": ["我好害怕", "别过来，求你了", "万一被发现怎么办"],
    "Surprise": ["什么？真的吗", "天哪，你怎么来了", "不会吧，这么快"],
}
M3ED_NAMES = ["林晓", "周明", "陈静", "王磊", "赵敏", "刘洋", "孙悦", "郑浩"]
M3ED_SERIES = {
    "train": ["chunfengli", "huayuanjie", "xiaoyuanji"],
    "val": ["yeguangcheng", "yuanzili"],
    "test": ["haibianju", "shanjiaoxia"],
}


def make_m3ed():
    rng = random.Random(2022)
    emos = list(M3ED_POOLS)
    weights = [3, 5, 2, 2, 2, 2, 2]
    data = {}
    for split, series_list in M3ED_SERIES.items():
        for series in series_list:
            n_dialogues = 11 if series == "chunfengli" else rng.randint(5, 7)
            dialogues = {}
            for d in range(1, n_dialogues + 1):
                did = f"{series}_{d}"
                a, b = rng.sample(M3ED_NAMES, 2)
                n_utts = 12 if (series, d) == ("chunfengli", 2) else rng.randint(3, 6)
                dialog = {}
                t = 1
                for u in range(1, n_utts + 1):
                    emo = rng.choices(emos, weights)[0]
                    second = rng.choice(emos)
                    mul = emo if second == emo or rng.random() < 0.6 else f"{emo},{second}"
                    dialog[f"{did}_{u}"] = {
                        "StartTime": f"00:{t // 60:02d}:{t % 60:02d}:{rng.randrange(25):02d}",
                        "EndTime": f"00:{(t + 2) // 60:02d}:{(t + 2) % 60:02d}:{rng.randrange(25):02d}",
                        "Text": rng.choice(M3ED_POOLS[emo]),
                        "Speaker": "A" if u % 2 else "B",
                        "EmoAnnotation": {
                            "EmoAnnotator1": emo, "EmoAnnotator2": emo if rng.random() < 0.8 else second,
                            "EmoAnnotator3": emo, "final_mul_emo": mul, "final_main_emo": emo,
                        },
                    }
                    t += 3
                # Keys stored in string order ("_10" before "_2"), so the loader must sort numerically.
                dialog = dict(sorted(dialog.items()))
                dialogues[did] = {
                    "SpeakerInfo": {
                        "A": {"Name": a, "Age": "mid", "Gender": "female", "OtherName": []},
                        "B": {"Name": b, "Age": "young", "Gender": "male", "OtherName": []},
                    },
                    "Dialog": dialog,
                }
            data[series] = dict(sorted(dialogues.items()))
    out = SAMPLES / "m3ed"
    write(out / "annotation.json", json.dumps(data, indent=4, ensure_ascii=False))
    for split, series_list in M3ED_SERIES.items():
        write(out / "splitInfo" / f"movie_list_{split}.txt", "\n".join(series_list))  # no final newline
    write(out / "splitInfo" / "movie_list_total.txt", "\n".join(s for l in M3ED_SERIES.values() for s in l))

    back = json.loads((out / "annotation.json").read_text("utf-8"))
    num = lambda k: int(k.rsplit("_", 1)[1])  # noqa: E731
    golden = {}
    for split in M3ED_SERIES:
        names = [l.strip() for l in (out / "splitInfo" / f"movie_list_{split}.txt").read_text("utf-8").split("\n")]
        ids, texts, speakers, labels, dia_ids = [], [], [], [], []
        for s in names:
            for did in sorted(back[s], key=num):
                dia = back[s][did]
                dia_ids.append(did)
                for uid in sorted(dia["Dialog"], key=num):
                    u = dia["Dialog"][uid]
                    ids.append(uid)
                    texts.append(u["Text"])
                    speakers.append(dia["SpeakerInfo"][u["Speaker"]]["Name"])
                    labels.append(u["EmoAnnotation"]["final_main_emo"].lower())
        golden[split] = {"dialogues": dia_ids, "n": len(ids), "ids": ids, "texts": texts, "speakers": speakers,
                         "m3ed-7": counts(labels)}
    write(FIXTURES / "m3ed" / "sample-golden.json", json.dumps(golden, indent=1, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    make_sst()
    make_friends()
    make_mastodon()
    make_mosi()
    make_sims()
    make_m3ed()
