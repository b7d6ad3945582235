"""Reading paper back: a generated corpus of marked, degraded kit pages, read with kit/scan.py.

Run:  .venv/bin/python bench/scan.py [--pages 120] [--seed 1]

One real kit is made; random pages of its packet are rendered at 150, 200 or 300 dpi, marked with
ticks, crosses and filled circles (about one group in three left blank), then degraded as a scanner or,
for a third of them, a phone does (tests/scans.py). Every answer read is compared with the mark made:
right, unsure (sent to a person) or wrong (a silent error: the figure that must stay 0).
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from kit.manifest import People  # noqa: E402
from kit.pipeline import Request, make_kit  # noqa: E402
from kit.scan import UNSURE, Unreadable, layout, read_page  # noqa: E402
from kit.validate import load_library  # noqa: E402
from tests.scans import degrade, mark_page, render  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=120)
    parser.add_argument("--seed", type=int, default=1)
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        paths = make_kit(Request("cv-engineer", "senior", people=People("Ada", "Grace"), out=Path(tmp)), load_library())
        pdf = next(p for p in paths if p.name == "interviewer.pdf")
        printed = layout(pdf)
        sizes, boxes = printed.sizes, printed.boxes
        rng = random.Random(options.seed)
        tally: dict[str, Counter[str]] = defaultdict(Counter)
        reading_seconds = 0.0
        reasons: Counter[str] = Counter()
        for n in range(options.pages):
            page, dpi, photo = rng.choice(sorted(boxes)), rng.choice([150, 200, 300]), n % 3 == 0
            kind = f"{'phone' if photo else 'scanner'} {dpi} dpi"
            image = render(pdf, page, dpi)
            truth = mark_page(image, boxes[page], sizes[page - 1][1], dpi, rng)
            scan = degrade(image, rng, photo=photo)
            start = time.perf_counter()
            try:
                answers = read_page(scan, lambda code: printed).answers()
            except Unreadable as exc:
                tally[kind]["unreadable page"] += 1
                reasons[str(exc)] += 1
                continue
            finally:
                reading_seconds += time.perf_counter() - start
            tally[kind]["page"] += 1
            for field, value in truth.items():
                got = answers.get(field)
                tally[kind]["right" if got == value else "unsure" if got == UNSURE else "WRONG"] += 1
        print(f"{options.pages} generated pages (seed {options.seed}); answers right / unsure / wrong, pages unreadable")
        for kind in sorted(tally):
            t = tally[kind]
            answers = t["right"] + t["unsure"] + t["WRONG"]
            print(f"  {kind:<18} {t['right']:5} / {t['unsure']:3} / {t['WRONG']:3} of {answers:5}"
                  f"   accuracy {t['right'] / max(answers, 1):.4f}   unreadable {t['unreadable page']}")
        for reason, count in reasons.most_common():
            print(f"  unreadable: {reason} ({count})")
        print(f"  reading alone: {options.pages / reading_seconds * 60:.0f} pages a minute on one core")


if __name__ == "__main__":
    main()
