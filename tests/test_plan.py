"""Interview plans, panels and rounds: disjoint stage packets with a coverage table; --avoid."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from kit.select import SelectionError, select_plan
from kit.library import Library
from kit.validate import load_library
from tests.conftest import pdf_text


@pytest.fixture(scope="module")
def library() -> Library:
    return load_library()


@pytest.mark.parametrize("panel", [1, 2])
def test_plan_stages_are_disjoint_and_cover_every_competency(library: Library, panel: int) -> None:
    kits = select_plan(library, "cv-engineer", "senior", panel=panel)
    ids = [q.id for kit in kits for q in kit.questions]
    assert len(ids) == len(set(ids))
    assert {q.competency for kit in kits for q in kit.questions} == {w.id for w in library.roles["cv-engineer"].competencies}
    for kit in kits:
        assert {q.competency for q in kit.questions} == {w.id for w in kit.weights}
        assert sum(q.minutes for q in kit.questions) <= kit.plan.question_minutes
    stages = [kit.stage.id for kit in kits]
    assert stages == (["technical", "coding", "systems", "behavioural"] if panel == 1
                      else ["technical", "technical", "coding", "systems", "systems", "behavioural"])


def test_plan_packets_show_the_loop_coverage(run, tmp_path: Path) -> None:
    result = run("--role", "cv-engineer", "--level", "senior", "--plan", "--out", tmp_path)
    assert result.exit_code == 0, result.output
    folder = tmp_path / "cv-engineer-senior"
    names = sorted(p.name for p in folder.glob("*.pdf"))
    assert names == ["interviewer-behavioural.pdf", "interviewer-coding.pdf", "interviewer-systems.pdf",
                     "interviewer-technical.pdf", "prescreen.pdf", "screener.pdf"]
    manifest = yaml.safe_load((folder / "kit.yaml").read_text())
    assert [p["stage"] for p in manifest["packets"]] == ["technical", "coding", "systems", "behavioural"]
    text = pdf_text(folder / "interviewer-coding.pdf")
    assert "Theinterviewloop" in text and "Technicaldeepdive" in text and "Coding" in text
    assert all(q.replace("-", "") in text.replace("-", "") for q in manifest["packets"][1]["questions"])


def test_one_stage_matches_the_whole_plan(run, tmp_path: Path) -> None:
    assert run("--role", "cv-engineer", "--level", "senior", "--stage", "coding", "--out", tmp_path / "one").exit_code == 0
    one = yaml.safe_load((tmp_path / "one" / "cv-engineer-senior-coding" / "kit.yaml").read_text())
    whole = select_plan(load_library(), "cv-engineer", "senior")
    assert one["questions"] == [q.id for kit in whole if kit.stage.id == "coding" for q in kit.questions]
    bad = run("--role", "cv-engineer", "--level", "senior", "--stage", "codng", "--out", tmp_path / "bad")
    assert bad.exit_code == 2 and "unknown stage 'codng'; did you mean 'coding'?" in bad.stderr


def test_avoid_earlier_rounds_then_run_out(run, tmp_path: Path) -> None:
    rounds = []
    for n in range(1, 4):
        out = tmp_path / f"round{n}"
        result = run("--role", "dl-scientist", "--level", "junior", "--out", out, *[a for r in rounds for a in ("--avoid", r)])
        assert result.exit_code == 0, result.output
        rounds.append(out)
    asked = [set(yaml.safe_load((r / "dl-scientist-junior" / "kit.yaml").read_text())["questions"]) for r in rounds]
    assert not (asked[0] & asked[1]) and not (asked[0] & asked[2]) and not (asked[1] & asked[2])
    library = load_library()
    with pytest.raises(SelectionError, match="after leaving out .* questions of earlier kits"):
        from kit.select import select_kit

        select_kit(library, "dl-scientist", "junior", exclude=set(library.questions) - {"res-results-table"})
