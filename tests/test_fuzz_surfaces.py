"""An attacker's inputs on three surfaces (bench/fuzz.py), a small fixed run of each: roster CSVs for
``kitgen batch`` (one real batch into a folder of sentinels), a cache folder full of planted files, and
team templates that try to leave Jinja's sandbox. Nothing may raise a traceback, run code, change or lose
a sentinel, leave a partial file or fail the surface's own checks."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))  # the workers import it by name too
pytestmark = pytest.mark.slow
fuzz = pytest.importorskip("fuzz", reason="bench/ is not shipped in the sdist")

SEED = 20260101
COUNT = 30  # cases per surface; with two surfaces at a time, about 20 s in all
SURFACES = ("roster", "cache", "templates")

@pytest.fixture(scope="module")
def tallies(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    options = fuzz.Options(count=COUNT, seed=SEED, jobs=2, batch_every=50, check_every=10, cli_every=50,
                           work=str(tmp_path_factory.mktemp("fuzz-surfaces")))
    return fuzz.fuzz(list(SURFACES), options)


def test_cases_are_made_alike_from_one_seed() -> None:
    options = fuzz.Options(count=COUNT, seed=SEED)
    for surface in fuzz.SURFACES:
        for index in range(10):
            first, second = fuzz.generate(surface, SEED, index, options), fuzz.generate(surface, SEED, index, options)
            assert first.described == second.described
    assert fuzz.generate("roster", SEED, 1, options).described != fuzz.generate("roster", SEED + 1, 1, options).described


def test_every_surface_reaches_its_deep_steps(tallies: dict[str, fuzz.Tally]) -> None:
    roster, cache, templates = (tallies[s] for s in SURFACES)
    assert all(tally.cases == COUNT for tally in tallies.values())
    assert roster.statuses["accepted"] > 0 and roster.statuses["refused"] > 0, roster.statuses
    assert roster.notes["batch runs"] == 1, roster.notes  # the batch sub-step, once
    assert cache.statuses["same as uncached"] + cache.statuses["differs"] + cache.statuses["traceback"] == COUNT
    assert templates.notes["check runs"] == COUNT // 10 and templates.notes["cli runs"] == 1, templates.notes
    assert templates.statuses["refused"] > 0 and templates.statuses["rendered"] > 0, templates.statuses


@pytest.mark.parametrize("surface", SURFACES)
def test_no_failures(tallies: dict[str, fuzz.Tally], surface: str) -> None:
    tally = tallies[surface]
    shown = {surface: tally}
    assert tally.failed == 0, f"\n{fuzz.table(shown)}\n\n{fuzz.report(shown)}"
