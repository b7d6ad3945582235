"""The command as a hiring manager uses it: real PDFs, read back and checked for content."""

from __future__ import annotations

import html
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from pypdf import PdfReader

from kit.render import inline, markdown
from kit.validate import load_library
from tests.conftest import QUICK_START, pdf_text, squash

A4 = (595.28, 841.89)
LETTER = (612.0, 792.0)


def plain(text: str, render=markdown) -> str:
    """What Markdown looks like once printed: its text without markup or whitespace."""
    return squash(html.unescape(re.sub(r"<[^>]+>", "", str(render(text)))))


def test_quick_start_writes_two_pdfs_and_a_manifest(senior_kit: Path) -> None:
    names = sorted(p.name for p in senior_kit.iterdir())
    assert names == ["interviewer.html", "interviewer.pdf", "kit.yaml", "prescreen.html", "prescreen.pdf",
                     "screener.html", "screener.pdf"]
    manifest = yaml.safe_load((senior_kit / "kit.yaml").read_text())
    assert manifest["role"] == "cv-engineer" and manifest["level"] == "senior" and manifest["seed"] == 1
    assert len(manifest["questions"]) == 9 and len(manifest["prescreen"]) == 5
    assert re.fullmatch(r"[0-9a-f]{8}", manifest["kit_id"])


def test_interviewer_packet_holds_every_selected_question(senior_kit: Path) -> None:
    library = load_library()
    manifest = yaml.safe_load((senior_kit / "kit.yaml").read_text())
    text = pdf_text(senior_kit / "interviewer.pdf")
    for needle in ("Computer-visionengineer", "Senior", "AdaLovelace", "GraceHopper", "2026-12-01",
                   "Scorecard", "Weightedtotal", "Justification", f"Kit{manifest['kit_id']}"):
        assert needle in text
    for qid in manifest["questions"]:
        question = library.questions[qid]
        assert plain(question.text) in text, qid
        assert all(plain(point, inline) in text for point in question.guidance), qid
        assert all(plain(flag, inline) in text for flag in question.red_flags), qid
    for comp in library.roles["cv-engineer"].competencies:
        assert squash(library.competency(comp.id).title) in text
    assert "Referencecard" in text
    for section in library.reference.sections:
        heading = squash(section.title + section.columns[0].upper())  # the table's title, then its header row
        assert (heading in text) == ("cv-engineer" in section.roles), section.id


def test_prescreen_sheet_has_its_questions_and_nothing_for_the_interviewer(senior_kit: Path) -> None:
    library = load_library()
    manifest = yaml.safe_load((senior_kit / "kit.yaml").read_text())
    text = pdf_text(senior_kit / "prescreen.pdf")
    minutes = sum(library.questions[qid].minutes for qid in manifest["prescreen"])  # the sheet's time adds up
    assert "AdaLovelace" in text and f"Youhave{minutes}minutesfor{len(manifest['prescreen'])}questions" in text
    for qid in manifest["prescreen"]:
        assert plain(library.questions[qid].text) in text, qid
    secrets = [s for q in library.questions.values()
               for s in [*q.guidance, *q.strong, *q.red_flags, *q.follow_ups, *(q.anchors or {}).values(),
                         *q.samples.values(), *(a for by in q.level_samples.values() for a in by.values()),
                         q.answer_key or ""] if s]
    secrets += [a for c in library.rubric.competencies for a in c.anchors.values()]
    leaked = [s for s in secrets if plain(s, inline) in text]
    assert leaked == []
    for word in ("Interviewer", "Redflags", "Rating", "Scorecard", "Strongyes"):
        assert word not in text


def test_pdf_metadata_bookmarks_and_page_size(senior_kit: Path) -> None:
    reader = PdfReader(senior_kit / "interviewer.pdf")
    meta = reader.metadata
    assert meta.title == "Interviewer packet: Computer-vision engineer, senior"
    assert meta.author.startswith("kitgen") and "Structured interview" in meta.subject
    titles = [item.title for item in reader.outline if not isinstance(item, list)]
    assert titles == ["Computer-vision engineer Senior", "Questions", "Scorecard", "Reference card"]
    assert all(tuple(round(float(v), 2) for v in page.mediabox[2:]) == A4 for page in reader.pages)
    assert len(reader.pages) >= 5
    first = reader.pages[1].extract_text()
    assert f"Page 2 of {len(reader.pages)}" in first and "Interviewer packet · Computer-vision engineer · Senior" in first


@pytest.mark.slow
def test_letter_paper(run, tmp_path: Path) -> None:
    result = run(*QUICK_START, "--paper", "letter", "--out", tmp_path)
    assert result.exit_code == 0, result.output
    for name in ("interviewer.pdf", "prescreen.pdf"):
        pages = PdfReader(tmp_path / "cv-engineer-senior" / name).pages
        assert all(tuple(round(float(v), 2) for v in page.mediabox[2:]) == LETTER for page in pages)


@pytest.mark.slow
def test_same_seed_same_kit_other_seed_other_kit(run, tmp_path: Path) -> None:
    for out, seed in (("a", "3"), ("b", "3"), ("c", "4")):
        assert run(*QUICK_START, "--seed", seed, "--out", tmp_path / out).exit_code == 0
    kit = {out: tmp_path / out / "cv-engineer-senior" for out in "abc"}
    manifests = {out: yaml.safe_load((path / "kit.yaml").read_text()) for out, path in kit.items()}
    assert manifests["a"] == manifests["b"]
    assert manifests["a"]["questions"] != manifests["c"]["questions"]
    assert (kit["a"] / "interviewer.pdf").read_bytes() == (kit["b"] / "interviewer.pdf").read_bytes()


@pytest.mark.slow
def test_paths_are_printed(run, tmp_path: Path) -> None:
    result = run(*QUICK_START, "--out", tmp_path)
    folder = tmp_path / "cv-engineer-senior"
    assert result.stdout.split() == [str(folder / n) for n in ("interviewer.pdf", "prescreen.pdf", "screener.pdf", "kit.yaml")]


@pytest.mark.slow
def test_existing_kit_is_kept_without_force(run, tmp_path: Path) -> None:
    assert run(*QUICK_START, "--out", tmp_path).exit_code == 0
    packet = tmp_path / "cv-engineer-senior" / "interviewer.pdf"
    before = packet.read_bytes()
    result = run(*QUICK_START, "--seed", "9", "--out", tmp_path)
    assert result.exit_code == 2
    assert "already holds a kit" in result.stderr and "--force" in result.stderr
    assert packet.read_bytes() == before
    assert run(*QUICK_START, "--seed", "9", "--out", tmp_path, "--force").exit_code == 0
    assert packet.read_bytes() != before
    assert sorted(p.name for p in packet.parent.iterdir()) == ["interviewer.pdf", "kit.yaml", "prescreen.pdf",
                                                               "screener.pdf"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--role", "cv-enginer", "--level", "senior"], "unknown role 'cv-enginer'; did you mean 'cv-engineer'?"),
        (["--role", "cv-engineer", "--level", "seniro"], "unknown level 'seniro'; did you mean 'senior'?"),
        (["--role", "cv-engineer"], "give both --role and --level"),
    ],
)
def test_bad_requests_exit_2_with_one_line(run, tmp_path: Path, args: list[str], message: str) -> None:
    result = run(*args, "--out", tmp_path)
    assert result.exit_code == 2
    assert message in result.stderr
    assert "Traceback" not in result.output
    assert list(tmp_path.iterdir()) == []


def test_unwritable_output_folder(run, tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    result = run(*QUICK_START, "--out", blocker / "kits")
    assert result.exit_code == 2
    assert f"cannot write to output folder {blocker / 'kits'}" in result.stderr
    assert blocker.read_text() == "not a folder"


def test_list_and_questions_export(run) -> None:
    listing = run("list")
    assert listing.exit_code == 0
    row = re.search(r"cv-engineer((?:\s+\d+\+\d+ \(\d+, \d+\)){4})\s+vision\s+Computer-vision engineer", listing.stdout)
    assert row, listing.stdout
    kits = [(int(full), int(top)) for full, top in re.findall(r"\((\d+), (\d+)\)", row.group(1))]
    assert all(full >= 4 and top >= 6 for full, top in kits), kits
    exported = run("questions", "--role", "cv-engineer", "--level", "senior", "--format", "json")
    assert exported.exit_code == 0
    questions = json.loads(exported.stdout)
    library = load_library()
    expected = [q for q in library.questions.values() if "cv-engineer" in q.roles and "senior" in q.levels]
    assert [q["id"] for q in questions] == [q.id for q in expected]
    assert questions[0] == expected[0].model_dump(mode="json")
    as_yaml = yaml.safe_load(run("questions", "--role", "cv-engineer", "--level", "senior", "--format", "yaml").stdout)
    assert [q["id"] for q in as_yaml["questions"]] == [q.id for q in expected]


def test_help_and_list_do_not_import_weasyprint() -> None:
    for args in (["--help"], ["list"], ["--version"]):
        code = f"import sys; from kit.cli import cli; cli({args!r}, standalone_mode=False); print('weasyprint' in sys.modules)"
        done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
        assert done.stdout.strip().splitlines()[-1] == "False", args


def test_python_dash_m_and_version() -> None:
    done = subprocess.run([sys.executable, "-m", "kit", "--version"], capture_output=True, text=True, check=True)
    from kit import __version__

    assert done.stdout.strip() == f"kitgen, version {__version__}"


def test_the_html_preview_needs_nothing_beside_it(senior_kit: Path) -> None:
    """Its font is inlined, so the preview opens the same in a browser from the kit folder alone."""
    html = (senior_kit / "interviewer.html").read_text()
    refs = re.findall(r"""(?:url\(\s*['"]?|\ssrc=")([^'")\s]+)""", html)
    assert refs and all(ref.startswith("data:") for ref in refs), refs
