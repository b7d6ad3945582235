"""The layout audit over the whole matrix: every role x level x paper x forms on/off, loop plans with
their stage and panel covers, and the `kitgen init` team example; every PDF read back and checked
(tests/audit.py says what a defect is).

    .venv/bin/python bench/audit.py [--quick] [--workers 2]

Prints every defect and a last line "N documents (P pages) checked, D defects"; exit 1 on any defect.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from kit.models import LEVELS  # noqa: E402

ROLES = ("cv-engineer", "dl-engineer", "dl-scientist", "nlp-engineer")
TEAM_ROLE = "cv-platform-engineer"


def matrix(quick: bool) -> list[dict]:
    """One entry per kit to make: its request's settings and whether it uses the team example."""
    papers, forms = ("a4", "letter"), (True, False)
    levels = ("junior", "staff") if quick else LEVELS
    jobs = [{"role": r, "level": lv, "paper": p, "forms": f} for r in ROLES for lv in levels for p in papers for f in forms
            if not quick or f == (p == "a4")]
    jobs += [{"role": r, "level": lv, "paper": p, "forms": False, "plan": True} for r in ROLES for lv in ("junior", "staff")
             for p in papers if not quick or r == "nlp-engineer"]
    jobs += [{"role": "cv-engineer", "level": "senior", "paper": p, "forms": True, "plan": True, "panel": 2} for p in papers]
    jobs += [{"role": TEAM_ROLE, "level": lv, "paper": p, "forms": True, "team": True} for lv in levels for p in papers]
    jobs += [{"role": TEAM_ROLE, "level": "staff", "paper": p, "forms": False, "team": True, "plan": True} for p in papers]
    return jobs


def run(job: dict) -> tuple[str, int, int, list[str]]:
    """Make one kit in a temporary folder and audit its PDFs: (label, documents, pages, defects)."""
    import pymupdf

    from kit.layers import find_layers
    from kit.manifest import People
    from kit.pipeline import Request, make_kit
    from kit.scaffold import scaffold
    from kit.validate import load_library
    from tests.audit import audit_pdf

    label = " ".join(f"{k}={v}" for k, v in job.items())
    with tempfile.TemporaryDirectory() as tmp:
        config = None
        if job.get("team"):
            scaffold(Path(tmp) / "team")
            config = Path(tmp) / "team" / "kitgen.yaml"
        library = load_library(find_layers(config, cwd=Path(tmp)))
        request = Request(role=job["role"], level=job["level"], paper=job["paper"], forms=job["forms"],
                          plan=job.get("plan", False), panel=job.get("panel", 1), out=Path(tmp) / "out",
                          people=People("Ada Lovelace", "Grace Hopper", "2026-12-03"), calibration=True)
        paths = [p for p in make_kit(request, library) if p.suffix == ".pdf"]
        minutes = {q.id: q.minutes for q in library.questions.values()}
        defects = [str(d) for path in paths for d in audit_pdf(path, minutes, f"{label}: {path.name}")]
        pages = sum(pymupdf.open(path).page_count for path in paths)
    return label, len(paths), pages, defects


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="junior and staff only, one forms setting per paper")
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    jobs = matrix(args.quick)
    documents = pages = 0
    defects: list[str] = []
    with ProcessPoolExecutor(args.workers, mp_context=get_context("spawn")) as pool:
        for label, docs, count, found in pool.map(run, jobs):
            documents, pages = documents + docs, pages + count
            defects += found
            print(f"{label}: {docs} documents, {count} pages, {len(found)} defects", flush=True)
    for defect in defects:
        print(defect)
    print(f"{documents} documents ({pages} pages) checked, {len(defects)} defects")
    return 1 if defects else 0


if __name__ == "__main__":
    sys.exit(main())
