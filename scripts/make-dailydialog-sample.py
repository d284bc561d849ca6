#!/usr/bin/env python3
"""Writes the bundled DailyDialog sample (dataset-loaders/samples/dailydialog/<split>/) in the
release's form: pre-tokenised text with ' __eou__' after every utterance, label lines with a
trailing space, LF, final newline; and test/fixtures/dailydialog/sample-golden.json (facts read
back from the written files). The dialogues are invented for this project.

Deterministic: run `python3 scripts/make-dailydialog-sample.py` from the repository root.
"""

import json
import random
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# (text, emotion code, act code). Codes: emotion 0 none, 1 anger, 2 disgust, 3 fear, 4 happiness,
# 5 sadness, 6 surprise; act 1 inform, 2 question, 3 directive, 4 commissive.
TURNS = [
    ("Excuse me , is this seat taken ?", 0, 2), ("No , go ahead .", 0, 1), ("Could you tell me where the bank is ?", 0, 3),
    ("It ’ s across the street , next to the post office .", 0, 1), ("What time does the train leave ?", 0, 2),
    ("At half past seven .", 0, 1), ("I ’ ll call you tomorrow morning .", 0, 4), ("Sure , that works for me .", 0, 1),
    ("How much is this sweater ?", 0, 2), ("It ’ s forty dollars .", 0, 1), ("Let ’ s meet at the library .", 0, 3),
    ("Do you have a reservation ?", 0, 2), ("Yes , under the name Smith .", 0, 1), ("Please fill in this form .", 0, 3),
    ("I usually take the bus to work .", 0, 1), ("What do you do for a living ?", 0, 2), ("I ’ m an accountant .", 0, 1),
    ("That ’ s wonderful ! I ’ m so happy for you !", 4, 1), ("Great ! Thank you so much !", 4, 1),
    ("I love it ! It ’ s beautiful !", 4, 1), ("Congratulations on your promotion !", 4, 1), ("Wow , that sounds like fun !", 4, 1),
    ("I ’ m glad you like it .", 4, 1), ("How wonderful ! We won !", 4, 1),
    ("This is terrible service ! I want to see the manager !", 1, 3), ("Stop shouting at me !", 1, 3),
    ("I ’ m fed up with your excuses !", 1, 1), ("How dare you say that !", 1, 1),
    ("Ugh , this soup tastes awful .", 2, 1), ("That ’ s disgusting , there ’ s a hair in it .", 2, 1),
    ("I ’ m afraid I ’ ll fail the exam .", 3, 1), ("I ’ m scared of flying .", 3, 1),
    ("I ’ m sorry to hear that your dog died .", 5, 1), ("I feel so lonely since she left .", 5, 1),
    ("I lost my wallet , and I ’ m so upset .", 5, 1), ("Really ? I can ’ t believe it !", 6, 2),
    ("What ? You ’ re moving to Paris ?", 6, 2), ("Oh my god , is that true ?", 6, 2),
]
NEUTRAL = [t for t in TURNS if t[1] == 0]
EMOTIONAL = [t for t in TURNS if t[1] != 0]


def dialogue(rng):
    turns = []
    for _ in range(rng.randint(2, 9)):
        turns.append(rng.choice(EMOTIONAL) if rng.random() < 0.25 else rng.choice(NEUTRAL))
    return turns


def main():
    rng = random.Random(2017)
    sizes = {"train": 14, "validation": 5, "test": 6}
    base = ROOT / "dataset-loaders/samples/dailydialog"
    golden = {}
    for split, n in sizes.items():
        dialogues = [dialogue(rng) for _ in range(n)]
        folder = base / split
        folder.mkdir(parents=True, exist_ok=True)
        text = "".join(" ".join(f"{t} __eou__" for t, _, _ in d) + "\n" for d in dialogues)
        emo = "".join("".join(f"{e} " for _, e, _ in d) + "\n" for d in dialogues)
        act = "".join("".join(f"{a} " for _, _, a in d) + "\n" for d in dialogues)
        (folder / f"dialogues_{split}.txt").write_bytes(text.encode("utf-8"))
        (folder / f"dialogues_emotion_{split}.txt").write_bytes(emo.encode("utf-8"))
        (folder / f"dialogues_act_{split}.txt").write_bytes(act.encode("utf-8"))
        # Read back: the documented parsing (split on __eou__, drop the last empty piece, strip).
        lines = (folder / f"dialogues_{split}.txt").read_text(encoding="utf-8").split("\n")[:-1]
        labels = (folder / f"dialogues_emotion_{split}.txt").read_text(encoding="utf-8").split("\n")[:-1]
        utts = [[p.strip() for p in line.split("__eou__")[:-1]] for line in lines]
        codes = [l.split() for l in labels]
        golden[split] = {
            "dialogues": len(lines),
            "utterances": sum(len(u) for u in utts),
            "emotion": dict(sorted(Counter(c for cs in codes for c in cs).items())),
            "first_dialogue": utts[0],
            "last_utterance": utts[-1][-1],
        }
        print(split, golden[split]["utterances"], golden[split]["emotion"])
    out = ROOT / "test/fixtures/dailydialog/sample-golden.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(golden, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
