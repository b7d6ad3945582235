"""Reading paper back: a generated corpus of marked, degraded kit pages, read as `kitgen score` reads scans.

Run:  .venv/bin/python bench/scan.py [--pages 1000] [--seed 1] [--workers 2] [--keep DIR]

Two real kits are made (an A4 and a Letter one, each an interviewer packet and a screener key). Each
page of the corpus is one of their pages with tick boxes, rendered at 150, 200 or 300 dpi and marked as
pens mark paper (tests/scans.py): ticks, crosses, filled circles, small off-centre ticks, faint strokes,
two boxes ticked, a tick scribbled out for another box, and stray strokes on the page and just beside
boxes. It is then degraded as a scanner does (grey JPEG, or black-and-white) or, one page in three, as a
phone does (perspective, uneven light). The corpus is written to disk first, then read back with
kit/scan.py on ``--workers`` processes, timed from file to verdicts.

Every answer read is compared with the mark made:
- right: the answer the mark means (for two ticks: flagged as unsure, which is what they must give);
- flagged: sent to a person (unsure, or the page unreadable): never scored, never wrong;
- WRONG: an answer scored that the mark does not mean, or a page taken for another; this must stay 0.
Accuracy is right over all answers, so a flagged answer counts against it.
"""

from __future__ import annotations

import argparse
import multiprocessing
import random
import sys
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from kit.manifest import People, read_manifest  # noqa: E402
from kit.marks import PageCode  # noqa: E402
from kit.pipeline import Request, make_kit  # noqa: E402
from kit.scan import UNSURE, Layout, Unreadable, images, layout, read_page  # noqa: E402
from kit.validate import load_library  # noqa: E402
from tests.scans import by_field, degrade, render, stray, tick  # noqa: E402
from PIL import Image  # noqa: E402

# How a field is marked, and how often (a check box, such as a red flag, is never ticked twice).
MARKS = {"blank": 25, "tick": 24, "cross": 12, "filled": 10, "partial": 12, "faint": 5, "two": 5, "correction": 7}
# What a mark may read as and be right, beyond the box it marks: the "ambiguous" marks (two ticks, a
# faint tick, a tick scribbled out for another box) may go to a person; two ticks must. A faint tick read as no
# tick, or a scribbled-out tick read as the answer, is wrong.
AMBIGUOUS = ("faint", "correction")
GOALS = {"scanner": 0.999, "phone": 0.99}

Spec = tuple[int, int, int, int, bool, bool, Path]  # document, page, dpi, seed, photo, bi-level, file
_documents: list[tuple[Path, Layout, str, int]] = []  # each worker's copy: pdf, layout, kit id, document index


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--keep", type=Path, metavar="DIR", help="write the kits and the corpus here and keep them")
    options = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="kitgen-scan-bench-") as scratch:
        tmp = options.keep or scratch
        documents = _kits(Path(tmp))
        rng = random.Random(options.seed)
        specs = []
        for n in range(options.pages):
            document = rng.randrange(len(documents))
            page = rng.choice(sorted(documents[document][1].boxes))
            photo = n % 3 == 0
            bilevel = not photo and rng.random() < 0.3
            specs.append((document, page, rng.choice([150, 200, 300]), rng.randrange(2**32), photo, bilevel,
                          Path(tmp) / f"page-{n:05}.{'png' if bilevel else 'jpg'}"))
        with multiprocessing.Pool(options.workers, _share, (documents,)) as pool:
            start = time.perf_counter()
            truths = pool.map(_make, specs, chunksize=4)
            made = time.perf_counter() - start
            start = time.perf_counter()
            readings = pool.map(_read, [spec[-1] for spec in specs], chunksize=4)
            seconds = time.perf_counter() - start
        _report(options, documents, specs, truths, readings, made, seconds)


def _kits(folder: Path) -> list[tuple[Path, Layout, str, int]]:
    """The documents with tick boxes of two kits (A4 and Letter): pdf, layout, kit id, document index."""
    library = load_library()
    found = []
    for role, level, paper in (("cv-engineer", "senior", "a4"), ("nlp-engineer", "junior", "letter")):
        request = Request(role, level, people=People("Ada Lovelace", "Grace Hopper"), out=folder / paper, paper=paper)
        paths = make_kit(request, library)
        kit_id = read_manifest(next(p for p in paths if p.name == "kit.yaml")).kit_id
        for index, name in ((0, "interviewer.pdf"), (2, "screener.pdf")):
            pdf = next(p for p in paths if p.name == name)
            found.append((pdf, layout(pdf), kit_id, index))
    return found


def _share(documents: list[tuple[Path, Layout, str, int]]) -> None:
    _documents[:] = documents


def _make(spec: Spec) -> dict[str, tuple[str, set[str | None]]]:
    """Write one corpus page; each field's mark and the answers that are right for it."""
    document, page, dpi, seed, photo, bilevel, path = spec
    pdf, printed, _, _ = _documents[document]
    rng = random.Random(seed)
    height = printed.sizes[page - 1][1]
    image = render(pdf, page, dpi)
    boxes = printed.boxes[page]
    truth = {}
    for field, options in by_field(boxes).items():
        kinds = [k for k in MARKS if (len(options) > 1 or k not in ("two", "correction"))
                 and not (bilevel and k == "faint")]  # black-and-white scanning erases a faint mark: no one sees it
        kind = rng.choices(kinds, [MARKS[k] for k in kinds])[0]
        chosen, other = rng.sample(options, 2) if len(options) > 1 else (options[0], None)
        if kind in ("tick", "cross", "filled", "partial"):
            tick(image, chosen, height, dpi, kind, rng)
        elif kind == "faint":
            tick(image, chosen, height, dpi, "faint", rng)
        elif kind == "two":
            tick(image, chosen, height, dpi, rng.choice(["tick", "cross"]), rng)
            tick(image, other, height, dpi, rng.choice(["tick", "cross"]), rng)  # type: ignore[arg-type]
        elif kind == "correction":  # ticked one box, scribbled it out, ticked another
            tick(image, other, height, dpi, "scribble", rng)  # type: ignore[arg-type]
            tick(image, chosen, height, dpi, "tick", rng)
        truth[field] = (kind, {None} if kind == "blank" else {UNSURE} if kind == "two"
                        else {UNSURE, chosen.value} if kind in AMBIGUOUS else {chosen.value})
    for _ in range(rng.randint(0, 3)):
        stray(image, boxes, height, dpi, rng, near=rng.random() < 0.4)
    Image.fromarray(degrade(image, rng, photo=photo, bilevel=bilevel)).save(path)
    return truth


def _read(path: Path) -> tuple[PageCode, dict[str, str | None]] | str:
    """What one corpus file reads as, as `kitgen score` reads it: its code and answers, or why not."""
    try:
        _, image = next(images(path))
        reading = read_page(image, _layout_of)
    except Unreadable as exc:
        return str(exc)
    return reading.code, reading.answers()


def _layout_of(code: PageCode) -> Layout:
    for _, printed, kit_id, index in _documents:
        if (kit_id.upper(), index) == (code.kit_id.upper(), code.document):
            return printed
    raise Unreadable(f"no such document: {code}")


def _report(options: argparse.Namespace, documents: list, specs: list[Spec], truths: list, readings: list,
            made: float, seconds: float) -> None:
    tally: dict[str, Counter[str]] = defaultdict(Counter)
    by_mark: dict[str, Counter[str]] = defaultdict(Counter)
    reasons: Counter[str] = Counter()
    wrongs: list[str] = []
    flagged_pages = false_alarms = 0
    for spec, truth, reading in zip(specs, truths, readings, strict=True):
        document, page, dpi, _, photo, bilevel, _ = spec
        source = "phone" if photo else "scanner"
        kind = f"{source} {'b/w' if bilevel else 'grey'} {dpi} dpi"
        _, _, kit_id, index = documents[document]
        if isinstance(reading, str):
            reasons[reading] += 1
            flagged_pages += 1
            outcomes = {field: "flagged" for field in truth}
        else:
            code, answers = reading
            same_page = (code.kit_id.upper(), code.document, code.page) == (kit_id.upper(), index, page)
            outcomes = {field: _outcome(right, answers.get(field)) if same_page else "WRONG"
                        for field, (mark, right) in truth.items()}
            wrongs += [f"{spec[-1].name} ({kind}): {field} marked {truth[field][0]} {sorted(map(str, truth[field][1]))}, "
                       f"read {answers.get(field)!r}" for field, outcome in outcomes.items() if outcome == "WRONG"]
            flagged = any(answers.get(field) == UNSURE for field in truth)
            flagged_pages += flagged
            false_alarms += flagged and all(mark not in ("two", *AMBIGUOUS) for mark, _ in truth.values())
        for field, outcome in outcomes.items():
            for key in (kind, source):
                tally[key][outcome] += 1
            by_mark[truth[field][0]][outcome] += 1
        tally[kind]["pages"] += 1
        tally[source]["pages"] += 1
    print(f"{len(specs)} generated pages (seed {options.seed}), {sum(t['pages'] for k, t in tally.items() if ' ' in k)}"
          f" read; made in {made:.0f} s. Answers right / flagged / WRONG:")
    for key in sorted(tally, key=lambda k: (" " not in k, k)):
        t = tally[key]
        answers = t["right"] + t["flagged"] + t["WRONG"]
        goal = f"   goal {GOALS[key]:.1%}: {'met' if t['right'] / answers >= GOALS[key] else 'NOT MET'}" if key in GOALS else ""
        print(f"  {key:<22} {t['right']:6} / {t['flagged']:4} / {t['WRONG']:3} of {answers:6} on {t['pages']:4} pages"
              f"   accuracy {t['right'] / max(answers, 1):.4%}{goal}")
    print("By mark:")
    for mark in MARKS:
        t = by_mark[mark]
        print(f"  {mark:<11} {t['right']:6} / {t['flagged']:4} / {t['WRONG']:3}")
    for reason, count in reasons.most_common():
        print(f"  unreadable page: {reason} ({count})")
    for line in wrongs:
        print(f"  WRONG: {line}")
    wrong = sum(t["WRONG"] for k, t in tally.items() if k in GOALS)
    print(f"Silent wrong answers: {wrong} (goal 0: {'met' if wrong == 0 else 'NOT MET'})")
    print(f"Pages flagged for a person: {flagged_pages} of {len(specs)} ({flagged_pages / len(specs):.1%}); "
          f"{sum(reasons.values())} of them unreadable, and {false_alarms} ({false_alarms / len(specs):.1%}) with no ambiguous mark")
    rate = len(specs) / seconds * 60
    print(f"Reading, file to verdicts: {rate:.0f} pages a minute on {options.workers} processes "
          f"(goal 60 on 2 cores: {'met' if rate >= 60 else 'NOT MET'})")


def _outcome(right: set[str | None], got: str | None) -> str:
    if got in right:
        return "right"
    if got == UNSURE:
        return "flagged"
    return "WRONG"


if __name__ == "__main__":
    main()
