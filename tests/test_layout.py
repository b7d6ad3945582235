"""The layout audit (tests/audit.py) on a few of the hardest kits, and on pages made to fail it.
bench/audit.py runs it over every role, level, paper, forms setting, plan and the team example."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import weasyprint
from pypdf import PdfReader

from kit.layers import find_layers
from kit.manifest import People
from kit.pipeline import Request, make_kit
from kit.scaffold import scaffold
from kit.validate import load_library
from tests.audit import audit_pdf
from tests.conftest import squash

LONG = People("Maximiliana Wolfeschlegelsteinhausen", "Bartholomew Featherstonehaugh-Cholmondeley", "2026-12-03")


def audited(tmp_path: Path, config: Path | None = None, **settings) -> tuple[list[Path], list[str]]:
    library = load_library(find_layers(config, cwd=tmp_path))
    paths = [p for p in make_kit(Request(out=tmp_path / "out", **settings), library) if p.suffix == ".pdf"]
    minutes = {q.id: q.minutes for q in library.questions.values()}
    return paths, [str(d) for path in paths for d in audit_pdf(path, minutes)]


@pytest.mark.slow
def test_a_staff_kit_on_letter_keeps_every_page_inside_its_box(tmp_path: Path) -> None:
    """The staff deep-learning kit's long questions once ran their notes through the footer on Letter."""
    _, defects = audited(tmp_path, role="dl-engineer", level="staff", paper="letter", people=LONG, calibration=True)
    assert defects == []


@pytest.mark.slow
def test_the_team_example_with_five_stages_and_eight_competencies(tmp_path: Path) -> None:
    """Eight competencies once pushed the scorecard's signature onto a page of its own; five stages once
    printed the loop table's column headers over each other."""
    scaffold(tmp_path / "team")
    _, defects = audited(tmp_path, tmp_path / "team" / "kitgen.yaml", role="cv-platform-engineer", level="junior",
                         paper="letter", people=LONG, plan=True)
    assert defects == []


@pytest.mark.slow
def test_every_cover_schedule_ends_at_the_length_it_states(tmp_path: Path) -> None:
    paths, defects = audited(tmp_path, role="nlp-engineer", level="junior", plan=True, forms=False)
    assert defects == []
    for path in paths:
        cover = PdfReader(path).pages[0].extract_text()
        stated = re.search(r"Time plan · (\d+) minutes", cover)
        if stated:  # interviewer packets
            end = re.search(r"(\d+):(\d\d) End", cover)
            assert end and int(end[1]) * 60 + int(end[2]) == int(stated[1]), path.name


def page(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "bad.pdf"
    css = "@page { size: A4; margin: 20mm 16mm 18mm 16mm } p { margin: 0; font-size: 10pt }"
    weasyprint.HTML(string=f"<style>{css}</style>{body}").write_pdf(path)
    return path


@pytest.mark.parametrize(("body", "kind"), [
    ('<p style="position: absolute; bottom: -5mm">into the footer</p>', "text outside the content box"),
    ('<p style="margin-left: -10mm">past the left margin</p>', "text outside the content box"),
    ("<p>one line</p><p style='margin-top: -10pt'>over another</p>", "text lines overlap"),
    ('<div style="height: 250mm"></div><h2>A heading alone</h2>', "a page holding only a heading or a lone row"),
    ('<div style="height: 300mm; border: 1pt solid"></div>', "drawing outside the content box"),
])
def test_the_audit_finds_what_it_is_for(tmp_path: Path, body: str, kind: str) -> None:
    assert kind in {d.kind for d in audit_pdf(page(tmp_path, body))}


def test_the_audit_measures_notes_and_keeps_the_scorecard_whole(tmp_path: Path) -> None:
    notes = "<p>Technical · 10 min · q-one</p><p>NOTES ON Q1: WHAT THE CANDIDATE SAID AND DID</p>"
    assert [d.kind for d in audit_pdf(page(tmp_path, '<div style="height: 200mm"></div>' + notes), {"q-one": 10})] \
        == ["notes area too small"]
    split = "<p>Scorecard</p><p>Justification</p><p style='break-before: page'>Signed</p>"
    assert "scorecard split over pages" in [d.kind for d in audit_pdf(page(tmp_path, split))]


@pytest.mark.slow
def test_a_panel_sits_together_and_each_member_sees_the_whole_stage(tmp_path: Path) -> None:
    """Both members of a 60-minute panel hold the stage's one schedule: one welcome, each one's questions in
    turn (their own marked), one close, ending at 1:00."""
    paths, defects = audited(tmp_path, role="cv-engineer", level="senior", plan=True, panel=2, forms=False)
    assert defects == []
    covers = {p.name: squash(PdfReader(p).pages[0].extract_text()) for p in paths if "technical" in p.name}
    assert sorted(covers) == ["interviewer-technical-1.pdf", "interviewer-technical-2.pdf"]
    for name, cover in covers.items():
        other = "2" if name.endswith("1.pdf") else "1"
        assert "Timeplan·60minutes" in cover and "1:00End" in cover and "sittingtogether" in cover
        assert "You·Q1" in cover and f"Interviewer{other}·Q1" in cover
