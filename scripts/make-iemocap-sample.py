#!/usr/bin/env python3
"""Writes the bundled IEMOCAP sample (dataset-loaders/samples/iemocap/IEMOCAP_full_release/) in the
raw release layout, and test/fixtures/iemocap/sample-golden.json: what every IEMOCAP protocol must
produce from it, computed here by an independent implementation of the rules.

IEMOCAP is licensed, so every line is invented for this project. The layout follows the release:
Session{1..5}/dialog/EmoEvaluation/<dialog>.txt with a `%` header, tab-separated summary lines
`[start - end]<TAB>turn<TAB>code<TAB>[V, A, D]` followed by C-/A- annotator lines and a blank line;
Session{1..5}/dialog/transcriptions/<dialog>.txt with `turn [sss.ssss-eee.eeee]: text` lines,
including the non-utterance lines the release has (an XX id, a line without a time). Utterance
numbers count per speaker; some EmoEvaluation files list the F turns before the M turns, so the
loader has to order by time.

Deterministic: run `python3 scripts/make-iemocap-sample.py` from the repository root.
"""

import hashlib
import json
import random
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BASE = ROOT / "dataset-loaders/samples/iemocap/IEMOCAP_full_release"

LINES = {
    "neu": ["I need to fill out this form first.", "Is this the line for the ID cards?", "I came in on Tuesday.",
            "Okay. What do you need from me?", "It's on the second floor.", "I work downtown, at the bank.",
            "So what did the letter say?", "We can talk about it tomorrow."],
    "fru": ["I've been waiting in this line for three hours.", "This is ridiculous, nobody here can help me.",
            "I already filled out that form twice!", "Why does nothing ever work in this place?",
            "You keep sending me to another window."],
    "ang": ["Don't you dare talk to me like that!", "I'm furious, get out of my face!",
            "You lied to me, you liar!", "Shut up! Just shut up!"],
    "sad": ["I just miss him so much.", "He's never coming back, is he?", "I feel so alone since she left.",
            "I'm sorry, I can't stop crying."],
    "hap": ["That's so nice, I'm really happy for you.", "Aw, thank you, that's sweet.",
            "I'm glad we did this, it's lovely."],
    "exc": ["Oh my gosh, we're going to Hawaii! This is amazing!", "Yes! I got in! I got in!",
            "This is the best news ever, I can't wait!"],
    "xxx": ["Well, I don't know what to tell you.", "Maybe, I guess.", "Yeah. Sure."],
    "oth": ["Hmm.", "Whatever you say."],
    "sur": ["Wait, what? Really?", "You're kidding me!"],
    "fea": ["I'm scared, what if they find us?"],
    "dis": ["Ugh, that's disgusting."],
}
WEIGHTS = {"neu": 18, "fru": 16, "ang": 10, "sad": 10, "exc": 9, "hap": 6, "xxx": 20, "oth": 2, "sur": 2,
           "fea": 1, "dis": 1}
CATEGORY = {"neu": "Neutral", "fru": "Frustration", "ang": "Anger", "sad": "Sadness", "hap": "Happiness",
            "exc": "Excited", "xxx": "Other", "oth": "Other", "sur": "Surprise", "fea": "Fear", "dis": "Disgust"}
DIALOGUES = {
    1: ["Ses01F_impro01", "Ses01F_impro04", "Ses01M_script01_1"],
    2: ["Ses02F_impro02", "Ses02M_impro06", "Ses02M_script02_2"],
    3: ["Ses03M_impro05a", "Ses03F_script03_1", "Ses03M_impro08b"],
    4: ["Ses04F_impro07", "Ses04M_script01_3", "Ses04F_impro03"],
    5: ["Ses05M_script01_1b", "Ses05F_impro02", "Ses05M_impro04"],
}


def is_dev(dialog):
    """The documented rule: first 32 bits of sha256(dialogue id) divisible by 6."""
    return int(hashlib.sha256(dialog.encode()).hexdigest()[:8], 16) % 6 == 0


def make_dialogue(rng, dialog, grouped):
    t = rng.uniform(2, 10)
    counters = {"F": 0, "M": 0}
    turns = []
    speaker = rng.choice("FM")
    for _ in range(rng.randint(8, 14)):
        code = rng.choices(list(WEIGHTS), list(WEIGHTS.values()))[0]
        n = counters[speaker]
        counters[speaker] += 1
        dur = rng.uniform(1.0, 5.0)
        turns.append({"id": f"{dialog}_{speaker}{n:03d}", "start": round(t, 4), "end": round(t + dur, 4),
                      "code": code, "text": rng.choice(LINES[code]), "speaker": speaker,
                      "vad": [rng.choice([1.5, 2.0, 2.5, 3.0, 3.5, 4.0]) for _ in range(3)]})
        # Sometimes the next speaker starts before this one ends (overlap), never at the same instant.
        t += dur * rng.choice([0.6, 1.0, 1.1]) + 0.05
        speaker = "M" if speaker == "F" else "F"
    eval_order = sorted(turns, key=lambda x: (x["speaker"], x["id"])) if grouped else list(turns)
    return turns, eval_order


def emo_evaluation(eval_order, rng):
    out = ["% [START_TIME - END_TIME] TURN_NAME EMOTION [V, A, D]", ""]
    for u in eval_order:
        v, a, d = u["vad"]
        out.append(f"[{u['start']:.4f} - {u['end']:.4f}]\t{u['id']}\t{u['code']}\t[{v:.4f}, {a:.4f}, {d:.4f}]")
        cat = CATEGORY[u["code"]]
        for ev in ("E1", "E2", "E4"):
            out.append(f"C-{ev}:\t{cat if rng.random() < 0.7 else 'Neutral'};\t()")
        out.append(f"C-{u['speaker']}1:\t{cat};\t()")
        out.append(f"A-E3:\tval {rng.randint(1, 5)}; act {rng.randint(1, 5)}; dom  {rng.randint(1, 5)};\t()")
        out.append(f"A-{u['speaker']}1:\tval {rng.randint(1, 5)}; act {rng.randint(1, 5)}; dom  {rng.randint(1, 5)};\t()")
        out.append("")
    return "\n".join(out) + "\n"


def transcription(dialog, turns, extra_xx, extra_untimed):
    out = []
    for k, u in enumerate(turns):
        out.append(f"{u['id']} [{u['start']:08.4f}-{u['end']:08.4f}]: {u['text']}")
        if extra_xx and k == 2:
            out.append(f"{dialog}_MXX0 [{u['end']:08.4f}-{u['end'] + 0.5:08.4f}]: [LAUGHTER]")
        if extra_untimed and k == 4:
            out.append("M: [BREATHING]")
    return "\n".join(out) + "\n"


def main():
    rng = random.Random(2008)
    everything = {}
    skipped = {}
    for session, dialogs in DIALOGUES.items():
        ses = f"Session{session}"
        e_dir = BASE / ses / "dialog/EmoEvaluation"
        t_dir = BASE / ses / "dialog/transcriptions"
        e_dir.mkdir(parents=True, exist_ok=True)
        t_dir.mkdir(parents=True, exist_ok=True)
        skipped[ses] = Counter()
        for k, dialog in enumerate(dialogs):
            turns, eval_order = make_dialogue(rng, dialog, grouped=(k == 0))
            (e_dir / f"{dialog}.txt").write_text(emo_evaluation(eval_order, rng), encoding="utf-8")
            xx, untimed = k == 1, k == 2
            (t_dir / f"{dialog}.txt").write_text(transcription(dialog, turns, xx, untimed), encoding="utf-8")
            skipped[ses]["xx"] += xx
            skipped[ses]["noTime"] += untimed
            everything[dialog] = {"session": session, "turns": turns}
        if session == 1:
            # The release also has annotator subfolders inside EmoEvaluation; they are not dialogues.
            cat = e_dir / "Categorical"
            cat.mkdir(exist_ok=True)
            first = everything[dialogs[0]]["turns"][0]
            (cat / f"{dialogs[0]}_e1_cat.txt").write_text(f"{first['id']} :Neutral state; ()\n", encoding="utf-8")

    # Expected protocol outputs, from the rules written out independently of the TypeScript.
    six = {"hap": "happy", "sad": "sad", "neu": "neutral", "ang": "angry", "exc": "excited", "fru": "frustrated"}
    four = {"hap": "happy", "exc": "happy", "ang": "angry", "sad": "sad", "neu": "neutral"}

    def task(mapping, sessions, split):
        labels, dropped, ids = Counter(), Counter(), []
        for dialog, d in sorted(everything.items()):
            if d["session"] not in sessions:
                continue
            if split != "test" and is_dev(dialog) != (split == "dev"):
                continue
            for u in sorted(d["turns"], key=lambda x: x["start"]):
                if u["code"] in mapping:
                    labels[mapping[u["code"]]] += 1
                    ids.append(u["id"])
                else:
                    dropped[u["code"]] += 1
        return {"n": sum(labels.values()), "labels": dict(sorted(labels.items())),
                "dropped_codes": dict(sorted(dropped.items())), "ids": ids}

    golden = {"dev_dialogues": sorted(d for d, v in everything.items() if v["session"] < 5 and is_dev(d)),
              "sessions": {}, "protocols": {}}
    for session in DIALOGUES:
        ses = f"Session{session}"
        golden["sessions"][ses] = {
            "dialogues": DIALOGUES[session],
            "utterances": sum(len(everything[d]["turns"]) for d in DIALOGUES[session]),
            "skipped": {k: v for k, v in skipped[ses].items() if v},
            "order": {d: [u["id"] for u in sorted(everything[d]["turns"], key=lambda x: x["start"])] for d in DIALOGUES[session]},
        }
    rest = lambda k: [s for s in DIALOGUES if s != k]  # noqa: E731
    for split in ("train", "dev", "test"):
        golden["protocols"][f"iemocap-6.{split}"] = task(six, [5] if split == "test" else rest(5), split)
        golden["protocols"][f"iemocap-4.{split}"] = task(four, [5] if split == "test" else rest(5), split)
        for k in DIALOGUES:
            golden["protocols"][f"iemocap-4-fold{k}.{split}"] = task(four, [k] if split == "test" else rest(k), split)
    out = ROOT / "test/fixtures/iemocap/sample-golden.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(golden, indent=1) + "\n", encoding="utf-8")
    print("dev dialogues:", golden["dev_dialogues"])
    for key in ("iemocap-6.train", "iemocap-6.dev", "iemocap-6.test"):
        print(key, golden["protocols"][key]["n"], golden["protocols"][key]["labels"])


if __name__ == "__main__":
    main()
