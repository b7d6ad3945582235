"""Precision and recall of the fairness lint (rubrics/fairness.yaml) on the labelled corpus
tests/fairness_corpus.yaml, per category and overall, with every misclassified sentence.

    .venv/bin/python bench/fairness.py [--corpus FILE] [--terms FILE ...]

Extra ``--terms`` files are layered over kitgen's own by id, as a team's fairness file is.
A sentence counts as flagged when any term flags it; precision is flagged-and-protected over
flagged, recall is flagged-and-protected over protected. Exit 1 when anything is misclassified.
"""

from __future__ import annotations

import argparse
import sys
from collections import defaultdict
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from kit.fairness import flagged, rules  # noqa: E402
from kit.merge import overlay  # noqa: E402
from kit.models import FairnessFile, FairnessTerm  # noqa: E402


def load_terms(paths: list[Path]) -> list[FairnessTerm]:
    merged: dict[str, dict] = {}
    for path in paths:
        for term in yaml.safe_load(path.read_text())["protected"]:
            merged[term["id"]] = overlay(merged[term["id"]], term) if term["id"] in merged else term
    return list(FairnessFile.model_validate({"protected": list(merged.values())}).protected)


def classify(corpus: Path, terms: list[FairnessTerm]) -> list[tuple[dict, list[tuple[str, str]]]]:
    compiled = rules(terms)
    return [(s, [(t.id, words) for t, words in flagged(compiled, s["text"])])
            for s in yaml.safe_load(corpus.read_text())["sentences"]]


def ratio(a: int, b: int) -> str:
    return f"{a / b:.3f}" if b else "  -  "


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=ROOT / "tests" / "fairness_corpus.yaml")
    parser.add_argument("--terms", type=Path, nargs="*", default=[])
    args = parser.parse_args()
    results = classify(args.corpus, load_terms([ROOT / "rubrics" / "fairness.yaml", *args.terms]))

    counts: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0, 0])  # sentences, protected, tp, fp, fn
    wrong = []
    for sentence, hits in results:
        for key in (sentence["category"], "overall"):
            c = counts[key]
            c[0] += 1
            c[1] += sentence["protected"]
            c[2] += bool(hits) and sentence["protected"]
            c[3] += bool(hits) and not sentence["protected"]
            c[4] += not hits and sentence["protected"]
        if bool(hits) != sentence["protected"]:
            wrong.append((sentence, hits))

    print(f"fairness lint on {args.corpus.relative_to(ROOT) if args.corpus.is_relative_to(ROOT) else args.corpus}")
    print(f"{'category':<10} {'sentences':>9} {'protected':>9} {'precision':>9} {'recall':>7} {'false +':>7} {'missed':>6}")
    for key in sorted(k for k in counts if k != "overall") + ["overall"]:
        n, p, tp, fp, fn = counts[key]
        print(f"{key:<10} {n:>9} {p:>9} {ratio(tp, tp + fp):>9} {ratio(tp, p):>7} {fp:>7} {fn:>6}")
    if wrong:
        print("\nmisclassified:")
        for sentence, hits in wrong:
            kind = "missed" if sentence["protected"] else "false +"
            why = ", ".join(f"{term}: {words!r}" for term, words in hits)
            print(f"  {kind:<8}{sentence['category']:<10}{sentence['text']}" + (f"   [{why}]" if why else ""))
    else:
        print("\nmisclassified: none")
    return 1 if wrong else 0


if __name__ == "__main__":
    sys.exit(main())
