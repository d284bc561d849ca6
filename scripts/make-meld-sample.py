#!/usr/bin/env python3
"""Writes the bundled MELD sample (dataset-loaders/samples/meld/) and its legacy-form copy
(test/fixtures/meld/legacy/).

The lines are invented for this project in the style of a sitcom transcript; nothing is copied
from MELD. Emotion words correlate with the labels so that a bag-of-words baseline learns
something, as it does on the real data. The files follow the current release's byte
conventions (UTF-8, CRLF, RFC-4180 minimal quoting, quoted times), and the legacy copy follows
the pre-2020-11-15 form (LF, cp1252 punctuation stored as C1 control characters, one NBSP, one
genuine U+2019 left as is), so the loader's repair can be checked on it.

Deterministic: run `python3 scripts/make-meld-sample.py` from the repository root.
"""

import random
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MAIN = ["Ross", "Rachel", "Monica", "Chandler", "Joey", "Phoebe"]
GUESTS = ["Gunther", "Janice", "Mrs. Geller", "The Waitress", "Mike", "Joey and Chandler", "Guy #1"]
NAMES = ["Ross", "Rach", "Mon", "Chandler", "Joey", "Pheebs", "you guys", "man"]

# (text, sentiment) per emotion. Apostrophes are written ' and become U+2019 in the files.
POOLS = {
    "neutral": [
        "So, where are we going for dinner?", "I'm gonna grab some coffee.", "Did you call the landlord?",
        "It's on the table next to the lamp.", "We should leave at eight.", "Okay, so what did he say?",
        "I was just at the store.", "Can you pass me the remote?", "The movie starts at nine.",
        "He's coming over later.", "I think it's in the other room.", "What time is it?",
        "She works at the museum now.", "Let me get my jacket.", "Yeah, I talked to her yesterday.",
        "We have to pick up the chairs.", "Is that the new apartment?", "It's a long story.",
        "I'll see you tomorrow then.", "The meeting got moved to Tuesday.", "Do you want the last muffin?",
        "My cousin is visiting this weekend.", "That's the guy from the coffee house.", "Hey.",
        "Well, I have to go to work.", "Who's watching the duck?", "I left my keys at Monica's.",
        "Do you know where the tape is?", "Uh, I'm not sure.", "So, the thing is, he moved out.",
        "We're out of milk.", "It's in the second drawer.", "I'll take the couch.", "Right.",
        "He said he'd call around six.", "What are you doing tomorrow?", "I was reading the paper.",
        "Okay.", "The bus was late again.", "You can sit here.", "Are those your shoes?",
        "I need to change my shirt.", "Let's just order a pizza.", "She's downstairs.",
        "It's like a twenty minute walk.", "Tell him I said hi.", "We were just talking about that.",
        "Hold on, let me check.", "Yeah, we usually meet on Thursdays.", "Where did you put the bags?",
        "I'm gonna be in the shower.", "So, um, are you ready?", "My dad's picking us up.",
        "I have a question about the rent.", "What's in the box?", "Then he went back to his desk.",
    ],
    "joy": [
        "Oh, this is wonderful! I love it!", "Yay! We got the apartment!", "I'm so happy for you guys!",
        "This is the best day ever!", "Ha! That's hilarious!", "I got the job! I got the job!",
        "Oh, I love you, you're the best!", "That's great news, congratulations!", "Woo-hoo! Let's celebrate!",
        "This is so much fun!", "You're amazing, thank you!", "I'm so excited about the trip!",
        "Aw, that's so sweet! I love it!", "Oh, I'm thrilled, really!", "Best birthday present ever!",
        "We did it! We actually did it!", "Ha ha, I love this song!", "Oh, that's awesome, man!",
        "I'm having such a great time!", "That's fantastic! Way to go!", "Yay! Pizza night!",
        "Oh, you're gonna love this, it's great!", "I'm so proud of you!", "Hooray, it's Friday!",
        "This is perfect! Thank you so much!", "I'm just so happy right now!",
    ],
    "surprise": [
        ("What?! You're kidding!", "negative"), ("Oh my God! Really?", "positive"),
        ("Wait, what? Since when?", "negative"), ("Are you serious?!", "negative"),
        ("No way! You're getting married?", "positive"), ("Whoa! What happened here?", "negative"),
        ("Oh my God, is that a monkey?", "positive"), ("Really? Wow!", "positive"),
        ("What?! He said that?", "negative"), ("You did what?!", "negative"),
        ("Wow, I can't believe it!", "positive"), ("Seriously? Right now?", "negative"),
        ("Oh! Oh my God!", "positive"), ("Huh? Wait, you two?", "negative"),
        ("No way! Really?", "positive"), ("What?! Are you kidding me?", "negative"),
        ("Whoa, whoa, you're pregnant?!", "positive"), ("Oh wow, really?", "positive"),
    ],
    "anger": [
        "Get out of my apartment!", "I can't believe you did that, you jerk!", "Stop it! Just stop it!",
        "That's it, I'm so mad at you!", "Don't you dare touch my stuff!", "Shut up! Just shut up!",
        "How could you do this to me?!", "You ate my sandwich?! MY sandwich?!",
        "I am so angry right now!", "Leave me alone!", "That is so unfair, I hate this!",
        "You lied to me! You liar!", "Stop yelling at me!", "Why would you do that?! Why?!",
        "Hey! That's mine! Give it back!", "I'm furious, do you hear me?", "Damn it, not again!",
        "You are unbelievable! Get out!", "Oh, shut up, Ross!", "This is ridiculous, I'm done!",
    ],
    "sadness": [
        "I miss him so much.", "She's gone. She's really gone.", "I'm sorry, I just feel so alone.",
        "I'm so sad about it.", "Nobody called me on my birthday.", "We broke up.", "I lost my job today.",
        "I just want to cry.", "It's over. It's really over.", "I'm sorry, I can't do this anymore.",
        "I feel terrible.", "He doesn't love me anymore.", "I'm gonna miss you guys so much.",
        "My grandmother died.", "Everything is falling apart.", "I'm so lonely.",
    ],
    "disgust": [
        "Eww! That's disgusting!", "Ugh, gross! What is that smell?", "Eww, that's so gross.",
        "Ugh, that's disgusting, get it away!", "Ew, did you just lick that?", "Gross! Don't touch me with that!",
        "Ugh, I think I'm gonna be sick.", "Eww, there's hair in my soup!",
    ],
    "fear": [
        "I'm scared. What if he finds out?", "Oh no, I'm so nervous!", "Help! There's a spider!",
        "I'm terrified of the dentist.", "What was that noise? I'm scared.", "Please don't make me go up there!",
        "Oh no, oh no, oh no!", "I'm afraid something bad happened.", "I'm so scared of heights!",
    ],
}
SENTIMENT = {"neutral": "neutral", "joy": "positive", "anger": "negative", "sadness": "negative",
             "disgust": "negative", "fear": "negative"}
# MELD-like proportions (train frequencies).
WEIGHTS = {"neutral": 47, "joy": 17, "surprise": 12, "anger": 11, "sadness": 7, "disgust": 3, "fear": 3}
PREFIXES = ["", "", "", "", "Okay, ", "Oh, ", "Well, ", "Hey, ", "Y'know, ", "Uh, "]

LEGACY = {"\u2019": "\x92", "\u2018": "\x91", "\u201c": "\x93", "\u201d": "\x94", "\u2026": "\x85",
          "\u2014": "\x97", "\u2013": "\x96"}


def draw_line(rng, emotion):
    # As in the real data, words alone do not always show the emotion: some emotional turns are
    # plain lines (the emotion is in the delivery), and a few emotional-sounding lines are neutral.
    pool = emotion
    if emotion != "neutral" and rng.random() < 0.15:
        pool = "neutral"
    elif emotion == "neutral" and rng.random() < 0.05:
        pool = rng.choice(["joy", "surprise"])
    item = rng.choice(POOLS[pool])
    if pool != emotion:
        item = item[0] if isinstance(item, tuple) else item
    if isinstance(item, tuple):
        text, sentiment = item
    else:
        text = item
        sentiment = SENTIMENT.get(emotion) or rng.choice(["positive", "negative"])
    r = rng.random()
    if r < 0.25 and text[0].isupper() and not text.startswith("I "):
        text = rng.choice(PREFIXES) + text[0].lower() + text[1:] if rng.random() < 0.5 else text
    elif r < 0.4 and text.endswith((".", "!", "?")):
        text = f"{text[:-1]}, {rng.choice(NAMES)}{text[-1]}"
    return text.replace("'", "\u2019"), sentiment


def quote(field):
    if any(c in field for c in ',"\r\n'):
        return '"' + field.replace('"', '""') + '"'
    return field


def stamp(seconds, short_ms=False):
    h, rem = divmod(seconds, 3600)
    m, s = divmod(rem, 60)
    ms = int(round((s - int(s)) * 1000))
    frac = f"{ms // 10:02d}" if short_ms else f"{ms:03d}"
    return f"{int(h):02d}:{int(m):02d}:{int(s):02d},{frac}"


def make_split(rng, name, n_dialogues, start_sr):
    emotions = list(WEIGHTS)
    weights = [WEIGHTS[e] for e in emotions]
    rows = []
    sr = start_sr
    dia = 0
    for d in range(n_dialogues):
        if d in (3, 11):
            dia += 1  # Dialogue_ID skips, as in the release
        cast = rng.sample(MAIN, 3) + [rng.choice(GUESTS)]
        n_utt = rng.randint(3, 11)
        utt = 1 if d == 5 else 0  # one dialogue starts at Utterance_ID 1
        t = rng.uniform(60, 1300)
        season, episode = rng.randint(1, 9), rng.randint(1, 24)
        for i in range(n_utt):
            if d == 2 and i == 2:
                utt += 1  # a gap inside a dialogue
            emotion = rng.choices(emotions, weights)[0]
            text, sentiment = draw_line(rng, emotion)
            speaker = cast[i % 2] if rng.random() < 0.7 else rng.choice(cast)
            dur = rng.uniform(0.8, 4.5)
            rows.append([str(sr), text, speaker, emotion, sentiment, str(dia), str(utt), str(season),
                         str(episode), stamp(t), stamp(t + dur, short_ms=(d == 7 and i == 0))])
            t += dur + rng.uniform(0.1, 1.2)
            sr += 1
            utt += 1
        dia += 1
    # A few release-style oddities: a quoted line with doubled quotes, an ellipsis, an em dash.
    rows[1][1] = 'He said, "Hey, you\u2019re not Bob."'
    rows[1][3], rows[1][4] = "neutral", "neutral"
    rows[4][1] = "I just\u2026 I don\u2019t know."
    rows[4][3], rows[4][4] = "sadness", "negative"
    rows[6][1] = "Wait\u2014you\u2019re moving?"
    rows[6][3], rows[6][4] = "surprise", "negative"
    return rows


HEADER = ["Sr No.", "Utterance", "Speaker", "Emotion", "Sentiment", "Dialogue_ID", "Utterance_ID",
          "Season", "Episode", "StartTime", "EndTime"]


def render(rows, eol, legacy):
    out = [",".join(HEADER)]
    for k, row in enumerate(rows):
        fields = list(row)
        if legacy:
            for col in (1, 2):
                text = fields[col]
                # Keep one genuine U+2019 (the legacy files hold 58 of them) and put one NBSP in.
                for good, bad in LEGACY.items():
                    keep_one = k == 0 and good == "\u2019"
                    text = text.replace(good, bad, text.count(good) - 1 if keep_one else -1)
                if k == 3 and col == 1 and " " in text:
                    text = text.replace(" ", "\u00a0", 1)
                fields[col] = text
        out.append(",".join(quote(f) if i >= 9 or i in (1, 2) else f for i, f in enumerate(fields)))
    return eol.join(out) + eol


def main():
    rng = random.Random(20190101)
    splits = {"train": make_split(rng, "train", 34, 1), "dev": make_split(rng, "dev", 9, 1),
              "test": make_split(rng, "test", 12, 1)}
    # Row 0 of train must hold an apostrophe for the "genuine U+2019 in legacy" case.
    splits["train"][0][1] = "So you\u2019re telling me it\u2019s Tuesday?"
    for name, rows in splits.items():
        current = ROOT / "dataset-loaders/samples/meld" / f"{name}_sent_emo.csv"
        legacy = ROOT / "test/fixtures/meld/legacy" / f"{name}_sent_emo.csv"
        current.parent.mkdir(parents=True, exist_ok=True)
        legacy.parent.mkdir(parents=True, exist_ok=True)
        current.write_bytes(render(rows, "\r\n", False).encode("utf-8"))
        legacy.write_bytes(render(rows, "\n", True).encode("utf-8"))
        print(name, len(rows))
    write_golden()


def write_golden():
    """Reference facts about the sample, read back with Python's csv module (the tests compare)."""
    import csv
    import json
    from collections import Counter
    golden = {}
    for name in ("train", "dev", "test"):
        path = ROOT / "dataset-loaders/samples/meld" / f"{name}_sent_emo.csv"
        with open(path, encoding="utf-8", newline="") as f:
            rows = list(csv.DictReader(f))
        dialogues = []
        for r in rows:
            if not dialogues or dialogues[-1] != r["Dialogue_ID"]:
                dialogues.append(r["Dialogue_ID"])
        golden[name] = {
            "n": len(rows),
            "dialogues": len(dialogues),
            "emotion": dict(sorted(Counter(r["Emotion"] for r in rows).items())),
            "sentiment": dict(sorted(Counter(r["Sentiment"] for r in rows).items())),
            "first": {"id": f"{name}/dia{rows[0]['Dialogue_ID']}_utt{rows[0]['Utterance_ID']}",
                      "text": rows[0]["Utterance"], "speaker": rows[0]["Speaker"]},
            "last": {"id": f"{name}/dia{rows[-1]['Dialogue_ID']}_utt{rows[-1]['Utterance_ID']}",
                     "text": rows[-1]["Utterance"], "speaker": rows[-1]["Speaker"]},
            "ids": [f"{name}/dia{r['Dialogue_ID']}_utt{r['Utterance_ID']}" for r in rows],
        }
    out = ROOT / "test/fixtures/meld/sample-golden.json"
    out.write_text(json.dumps(golden, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
