#!/usr/bin/env python3
"""Writes the bundled EmoryNLP sample in both release forms from one set of invented scenes:

- dataset-loaders/samples/emorynlp/emorynlp_{train,dev,test}_final.csv (the declare-lab CSV form:
  LF, RFC-4180 quoting, Speaker as a Python list literal, only utterances "with subtitle times");
- test/fixtures/emorynlp/json/emotion-detection-{trn,dev,tst}.json (the emorynlp/emotion-detection
  form: 2-space indent, inner arrays on one line, no trailing newline, every utterance);
- test/fixtures/emorynlp/sample-golden.json (reference facts read back with csv/json).

The lines are invented for this project; nothing is copied from the release.
Deterministic: run `python3 scripts/make-emorynlp-sample.py` from the repository root.
"""

import csv
import io
import json
import random
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PEOPLE = ["Monica Geller", "Rachel Green", "Ross Geller", "Chandler Bing", "Joey Tribbiani", "Phoebe Buffay"]
LINES = {
    "Joyful": ["This is so great, I love it!", "Yay, we won the tickets!", "Ha, that's hilarious!",
               "I'm so happy you're here!", "Oh, this is the best surprise ever!", "Woo! Party at our place!"],
    "Mad": ["Get out of here, I'm so mad at you!", "You ate my cheesecake?!", "Stop it, that's not fair!",
            "I can't believe you lied to me!", "Don't touch my stuff!"],
    "Peaceful": ["It's nice, just sitting here together.", "Take your time, it's okay.",
                 "I feel calm for once.", "That was a lovely dinner."],
    "Neutral": ["So, what are you doing tonight?", "The store closes at nine.", "Where's the remote?",
                "I'll be at the museum.", "He's in the kitchen.", "Did you get the mail?", "Okay."],
    "Sad": ["I miss her so much.", "He didn't even call.", "I'm sorry, I just feel awful.", "We broke up."],
    "Powerful": ["I can handle this, trust me.", "I'm the best at this game.", "I know exactly what I'm doing.",
                 "Watch and learn."],
    "Scared": ["What was that noise?!", "I'm scared, what if he finds out?", "Oh no, oh no, oh no!",
               "Please don't make me go up there!"],
}
WEIGHTS = {"Neutral": 30, "Joyful": 22, "Scared": 13, "Mad": 10, "Peaceful": 9, "Powerful": 8, "Sad": 7}
SEASON = {"train": "trn", "dev": "dev", "test": "tst"}
EPISODES = {"train": [(1, 2), (1, 3), (2, 5)], "dev": [(1, 15)], "test": [(3, 7), (4, 1)]}


def build(rng, split):
    episodes = []
    for season, episode in EPISODES[split]:
        scenes = []
        scene_no = rng.randint(1, 3)
        for _ in range(rng.randint(2, 3)):
            utts = []
            u = rng.randint(1, 3)  # scenes rarely start at u001
            t = rng.uniform(2, 600)
            for _ in range(rng.randint(5, 10)):
                emotion = rng.choices(list(WEIGHTS), list(WEIGHTS.values()))[0]
                speakers = [rng.choice(PEOPLE)]
                timed = rng.random() < 0.8
                utts.append({"u": u, "speakers": speakers, "text": rng.choice(LINES[emotion]),
                             "emotion": emotion, "time": (t, t + rng.uniform(1, 4)) if timed else None})
                t += rng.uniform(1, 5)
                u += rng.choice([1, 1, 1, 2])  # gaps, as in the release
            scenes.append({"c": scene_no, "utts": utts})
            scene_no += rng.choice([1, 1, 2])
        episodes.append({"season": season, "episode": episode, "scenes": scenes})
    return episodes


def quirks(data):
    first = data["train"][0]["scenes"][0]["utts"]
    first[0]["speakers"] = ["Monica Geller", "Phoebe Buffay"]  # said together
    first[0]["time"] = first[0]["time"] or (2.877, 7.548)
    first[1]["speakers"] = ["Phoebe's Assistant"]  # Python writes this one with double quotes
    first[1]["time"] = first[1]["time"] or (8.0, 9.5)
    first[2]["text"] = '"So how does it feel knowing you\'re about to die?"'  # quotes inside the text
    first[2]["time"] = first[2]["time"] or (10.0, 12.0)


def tokens(text):
    out, word = [], ""
    for ch in text:
        if ch.isalnum() or ch == "'":
            word += ch
        else:
            if word:
                out.append(word)
                word = ""
            if not ch.isspace():
                out.append(ch)
    return [out + ([word] if word else [])]


def ids(ep, scene, u):
    return f"s{ep['season']:02d}_e{ep['episode']:02d}_c{scene['c']:02d}", f"_u{u['u']:03d}"


def json_text(split, episodes):
    doc = {"season_id": SEASON[split], "episodes": []}
    for ep in episodes:
        e = {"episode_id": f"s{ep['season']:02d}_e{ep['episode']:02d}", "scenes": []}
        for sc in ep["scenes"]:
            scene_id, _ = ids(ep, sc, sc["utts"][0])
            e["scenes"].append({"scene_id": scene_id, "utterances": [
                {"utterance_id": scene_id + ids(ep, sc, u)[1], "speakers": u["speakers"], "transcript": u["text"],
                 "tokens": tokens(u["text"]), "emotion": u["emotion"]} for u in sc["utts"]]})
        doc["episodes"].append(e)
    text = json.dumps(doc, indent=2)
    # The release prints innermost arrays (speakers, each token list) on one line.
    import re
    text = re.sub(r"\[\s+((?:\"(?:[^\"\\]|\\.)*\",?\s*)+)\]",
                  lambda m: "[" + ", ".join(s.strip().rstrip(",") for s in re.findall(r"\"(?:[^\"\\]|\\.)*\",?", m.group(1))) + "]",
                  text)
    return text  # no trailing newline, as in the release


def stamp(t):
    h, rem = divmod(t, 3600)
    m, s = divmod(rem, 60)
    return f"{int(h):02d}:{int(m):02d}:{s:06.3f}"


def csv_text(episodes):
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["Utterance", "Speaker", "Emotion", "Scene_ID", "Utterance_ID", "Season", "Episode", "Start_Time",
                "End_Time"])
    for ep in episodes:
        for sc in ep["scenes"]:
            for u in sc["utts"]:
                if u["time"] is None:
                    continue
                w.writerow([u["text"], repr(u["speakers"]), u["emotion"], sc["c"], u["u"], ep["season"], ep["episode"],
                            stamp(u["time"][0]), stamp(u["time"][1])])
    return buf.getvalue()


def main():
    rng = random.Random(2018)
    data = {split: build(rng, split) for split in SEASON}
    quirks(data)
    golden = {}
    csv_dir = ROOT / "dataset-loaders/samples/emorynlp"
    json_dir = ROOT / "test/fixtures/emorynlp/json"
    csv_dir.mkdir(parents=True, exist_ok=True)
    json_dir.mkdir(parents=True, exist_ok=True)
    for split, episodes in data.items():
        (csv_dir / f"emorynlp_{split}_final.csv").write_bytes(csv_text(episodes).encode("utf-8"))
        (json_dir / f"emotion-detection-{SEASON[split]}.json").write_bytes(json_text(split, episodes).encode("utf-8"))
    # Read back what was written, independently of how it was produced.
    import ast
    for split in SEASON:
        with open(csv_dir / f"emorynlp_{split}_final.csv", encoding="utf-8", newline="") as f:
            rows = list(csv.DictReader(f))
        doc = json.loads((json_dir / f"emotion-detection-{SEASON[split]}.json").read_text(encoding="utf-8"))
        jutts = [u for ep in doc["episodes"] for sc in ep["scenes"] for u in sc["utterances"]]
        golden[split] = {
            "csv": {
                "ids": [f"s{int(r['Season']):02d}_e{int(r['Episode']):02d}_c{int(r['Scene_ID']):02d}_u{int(r['Utterance_ID']):03d}" for r in rows],
                "speakers": [", ".join(ast.literal_eval(r["Speaker"])) for r in rows],
                "emotion": dict(sorted(Counter(r["Emotion"] for r in rows).items())),
                "scenes": len({(r["Season"], r["Episode"], r["Scene_ID"]) for r in rows}),
            },
            "json": {
                "ids": [u["utterance_id"] for u in jutts],
                "texts": [u["transcript"] for u in jutts],
                "emotion": dict(sorted(Counter(u["emotion"] for u in jutts).items())),
                "scenes": sum(len(ep["scenes"]) for ep in doc["episodes"]),
            },
        }
        print(split, len(rows), len(jutts))
    out = ROOT / "test/fixtures/emorynlp/sample-golden.json"
    out.write_text(json.dumps(golden, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
