"""Shared word runs between the YAML content (banks, rubric, reference card) and source articles.

    .venv/bin/python bench/overlap.py SOURCES_FOLDER [--words 8]

The banks are written in kitgen's own words: facts and topics may come from articles, their
sentences may not. This lists every run of ``--words`` consecutive words (lower-cased,
punctuation dropped) that a YAML string shares with a ``.txt`` file of the folder, with the
file and entry it is in. Exit 1 when any run is shared.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Iterator
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")


def shingles(text: str, size: int) -> set[tuple[str, ...]]:
    words = WORD.findall(text.lower())
    return {tuple(words[i:i + size]) for i in range(len(words) - size + 1)}


def strings(node: object, where: str) -> Iterator[tuple[str, str]]:
    """Every string in a YAML tree with the id of the entry it belongs to."""
    if isinstance(node, dict):
        where = str(node.get("id", where))
        for value in node.values():
            yield from strings(value, where)
    elif isinstance(node, list):
        for value in node:
            yield from strings(value, where)
    elif isinstance(node, str):
        yield where, node


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("sources", type=Path, help="folder of .txt articles the content started from")
    parser.add_argument("--words", type=int, default=8)
    args = parser.parse_args()
    source = set().union(*(shingles(p.read_text(errors="replace"), args.words)
                           for p in sorted(args.sources.glob("*.txt"))))
    files = sorted([*(ROOT / "questions").glob("*.yaml"), *(ROOT / "rubrics").rglob("*.yaml")])
    shared = 0
    for path in files:
        for where, text in strings(yaml.safe_load(path.read_text()), path.stem):
            for run in sorted(shingles(text, args.words) & source):
                shared += 1
                print(f"{path.relative_to(ROOT)}: {where}: {' '.join(run)}")
    print(f"{len(files)} YAML files against {len(source)} {args.words}-word runs of {args.sources}: {shared} shared")
    return 1 if shared else 0


if __name__ == "__main__":
    sys.exit(main())
