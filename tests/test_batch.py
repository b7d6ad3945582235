"""kitgen batch: a roster's kits on all cores, resumable after a kill, and one print file."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from pypdf import PdfReader

from kit.batch import BatchInterrupted, Row, run_batch
from kit.errors import KitgenError
from kit.layers import builtin_layer
from kit.manifest import verify_kit
from tests.conftest import squash, until

ROSTER = """candidate,role,level,interviewer
Ada Lovelace,cv-engineer,senior,Grace
Alan Turing,cv-engineer,senior,
Kate Bell,nlp-engineer,junior,
"""


def complete(folder: Path) -> bool:
    """The folder holds a whole kit: every document carries its manifest."""
    try:
        verify_kit(folder)
    except KitgenError:
        return False
    return True


def questions(folder: Path) -> list[str]:
    return yaml.safe_load((folder / "kit.yaml").read_text())["questions"]


@pytest.mark.slow
def test_batch_makes_every_kit_reports_bad_rows_and_merges_a_print_file(run, tmp_path: Path) -> None:
    roster = tmp_path / "roster.csv"
    roster.write_text(ROSTER)
    result = run("batch", roster, "--out", tmp_path / "out", "--workers", "2")
    assert result.exit_code == 0, result.output
    assert "3 kits made, 0 already complete, 0 failed" in result.stdout
    folders = sorted(p for p in (tmp_path / "out").iterdir() if p.is_dir())
    assert [f.name for f in folders] == ["cv-engineer-senior-ada-lovelace", "cv-engineer-senior-alan-turing",
                                         "nlp-engineer-junior-kate-bell"]
    assert all(complete(f) for f in folders)
    assert questions(folders[0]) == questions(folders[1])  # same role and level: same questions
    # Every packet and sheet (the screener key stays apart), each starting on a front page when printed two-sided.
    printed = [pdf for f in folders for pdf in (*sorted(f.glob("interviewer*.pdf")), f / "prescreen.pdf")]
    merged = PdfReader(tmp_path / "out" / "print.pdf").pages
    start = 0
    for pdf in printed:
        count = len(PdfReader(pdf).pages)
        assert start % 2 == 0 and squash(merged[start].extract_text()) == squash(PdfReader(pdf).pages[0].extract_text())
        assert count % 2 == 0 or "intentionally blank" in merged[start + count].extract_text()
        start += count + count % 2
    assert len(merged) == start

    again = run("batch", roster, "--out", tmp_path / "out")
    assert "0 kits made, 3 already complete, 0 failed" in again.stdout


@pytest.mark.slow
def test_vary_gives_equivalent_rotations(run, tmp_path: Path) -> None:
    roster = tmp_path / "roster.csv"
    roster.write_text("candidate,role,level\nAda,cv-engineer,senior\nAlan,cv-engineer,senior\n")
    assert run("batch", roster, "--out", tmp_path, "--vary", "--workers", "1").exit_code == 0
    ada, alan = questions(tmp_path / "cv-engineer-senior-ada"), questions(tmp_path / "cv-engineer-senior-alan")
    assert ada != alan
    from kit.validate import load_library

    library = load_library()
    assert sorted(library.questions[q].competency for q in ada) == sorted(library.questions[q].competency for q in alan)


@pytest.mark.slow
def test_an_interrupt_lets_the_running_kits_finish_and_starts_no_more(tmp_path: Path) -> None:
    rows = [Row(line=n + 2, candidate=f"C{n}", role="nlp-engineer", level="junior", seed=1) for n in range(6)]

    def ctrl_c_after_the_first_kit(done: int, total: int) -> None:
        if done == 1:
            raise KeyboardInterrupt

    with pytest.raises(BatchInterrupted) as stop:
        run_batch(rows, [builtin_layer()], tmp_path, 2, {}, ctrl_c_after_the_first_kit)
    assert [o.line for o in stop.value.outcomes] == [2, 3] and stop.value.total == 6  # the two that were running
    assert sorted(p.name for p in tmp_path.iterdir()) == ["nlp-engineer-junior-c0", "nlp-engineer-junior-c1"]
    assert all(complete(f) for f in tmp_path.iterdir())


@pytest.mark.slow
def test_ctrl_c_stops_a_batch_between_kits_says_how_to_resume_and_the_rerun_resumes(tmp_path: Path) -> None:
    roster = tmp_path / "roster.csv"
    roster.write_text("candidate,role,level\n" + "".join(f"Candidate {n},nlp-engineer,junior\n" for n in range(6)))
    out = tmp_path / "out"
    command = [sys.executable, "-m", "kit", "batch", str(roster), "--out", str(out), "--workers", "1"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               start_new_session=True)  # its own process group, as a terminal's job is
    until(process.stderr, "Making kits: 2 of 6")
    os.killpg(process.pid, signal.SIGINT)  # Ctrl-C reaches the batch and its workers alike
    stdout, stderr = process.communicate(timeout=120)
    assert process.returncode == 1, stderr
    folders = [f for f in out.iterdir() if f.is_dir()]
    done = {f: {p.name: p.stat().st_mtime_ns for p in f.iterdir()} for f in folders if complete(f)}
    assert len(done) in (2, 3)  # the third kit, if it had started, finished; nothing after it started
    assert f"{len(done)} kits made, 0 already complete, 0 failed" in stdout
    assert (f"Interrupted: {len(done)} of 6 rows done (the kits that were running finished); to make the rest, "
            f"run the same command again: kitgen batch {roster} --out {out}") in stderr
    assert "Traceback" not in stderr and not (out / "print.pdf").exists()
    for folder in folders:  # nothing half-made under a final name
        finals = [p for p in folder.iterdir() if not p.name.startswith(".")]
        assert complete(folder) or finals == [], finals
    resumed = subprocess.run(command, capture_output=True, text=True, timeout=300, check=False)
    assert resumed.returncode == 0, resumed.stderr
    assert f"{6 - len(done)} kits made, {len(done)} already complete, 0 failed" in resumed.stdout
    assert all(complete(f) for f in out.iterdir() if f.is_dir())
    assert all({p.name: p.stat().st_mtime_ns for p in f.iterdir()} == files for f, files in done.items())
    assert (out / "print.pdf").is_file()


@pytest.mark.slow
def test_a_row_that_cannot_be_written_fails_alone(run, tmp_path: Path) -> None:
    roster = tmp_path / "roster.csv"
    roster.write_text("candidate,role,level\nAda,cv-engineer,senior\nAlan,cv-engineer,senior\n")
    out = tmp_path / "out"
    out.mkdir()
    (out / "cv-engineer-senior-ada").write_text("a file where Ada's folder should go")
    result = run("batch", roster, "--out", out, "--workers", "2")
    assert result.exit_code == 1
    assert f"{roster}:2: {out / 'cv-engineer-senior-ada'} is a file, not a kit folder" in result.stderr
    assert "1 kits made, 0 already complete, 1 failed" in result.stdout
    assert complete(out / "cv-engineer-senior-alan")
    assert (out / "cv-engineer-senior-ada").read_text() == "a file where Ada's folder should go"


def test_a_roster_reports_every_bad_row_at_once(run, tmp_path: Path) -> None:
    roster = tmp_path / "roster.csv"
    roster.write_text("candidate,role,level,seed\nAda,cv-engineer,senior,\n,cv-engineer,senior,\nBo,cv-engineer,mid,x\n")
    result = run("batch", roster, "--out", tmp_path / "out")
    assert result.exit_code == 2 and not (tmp_path / "out").exists()
    assert result.stderr.splitlines() == [f"Error: {roster}:3:1: no candidate; fill in the row or delete it",
                                          f"Error: {roster}:4:1: seed: write the seed as a whole number from 0 to "
                                          "2147483647, in the digits 0-9"]


# Hostile and careless rosters: refused as a whole, every problem by line, before anything is made.
CLASHES = {
    "case": ("Ada Lovelace", "ADA LOVELACE", "would share the folder cv-engineer-senior-ada-lovelace"),
    "punctuation": ("Ada Lovelace", '"Ada, Lovelace."', "would share the folder"),
    "accents": ("Jos\u00e9 D\u00edaz", "Jose\u0301 Di\u0301az", "would share the folder"),
    "exact-repeat": ("Ada Lovelace", "Ada Lovelace", "repeats line 2; delete one of them"),
    "no-letters": ("Ada Lovelace", "???", "has no letters or digits"),
}


@pytest.mark.parametrize("first, second, message", CLASHES.values(), ids=CLASHES.keys())
def test_rows_that_would_share_a_folder_are_refused_by_line(run, tmp_path: Path, first: str, second: str,
                                                           message: str) -> None:
    roster = tmp_path / "roster.csv"
    roster.write_text(f"candidate,role,level\n{first},cv-engineer,senior\n{second},cv-engineer,senior\n", encoding="utf-8")
    result = run("batch", roster, "--out", tmp_path / "out")
    assert result.exit_code == 2 and not (tmp_path / "out").exists()
    assert result.stderr.startswith(f"Error: {roster}:3:1: ") and message in result.stderr, result.stderr


def test_long_names_that_differ_late_get_their_own_folders() -> None:
    from kit.batch import Row

    rows = [Row(line=n, candidate="Ada " * 20 + last, role="cv-engineer", level="senior") for n, last in ((2, "A"), (3, "B"))]
    assert rows[0].folder(Path("out")) != rows[1].folder(Path("out"))


@pytest.mark.parametrize("role, level, message", [
    ("../../elsewhere", "senior", "role: use lowercase letters, digits and hyphens"),
    ("cv-engineer", "../../../tmp", "level: use lowercase letters, digits and hyphens"),
    ("cv-engineer", "principal", "unknown level 'principal'"),
    ("cv-enginer", "senior", "unknown role 'cv-enginer'; did you mean 'cv-engineer'?"),
])
def test_role_and_level_are_names_from_the_library_never_paths(run, tmp_path: Path, role: str, level: str,
                                                               message: str) -> None:
    roster = tmp_path / "roster.csv"
    roster.write_text(f"candidate,role,level\nAda,cv-engineer,senior\nBo,{role},{level}\n")
    result = run("batch", roster, "--out", tmp_path / "out")
    assert result.exit_code == 2 and not (tmp_path / "out").exists() and not (tmp_path / "elsewhere").exists()
    assert result.stderr.startswith(f"Error: {roster}:3:1: ") and message in result.stderr, result.stderr


@pytest.mark.parametrize("seed", ["9" * 5000, "\u0661\u0662", "-3", "1e3", "4294967296", "3_0", "3.0", "-0", "+5"])
def test_seeds_are_bounded_ascii_numbers(run, tmp_path: Path, seed: str) -> None:
    roster = tmp_path / "roster.csv"
    roster.write_text(f"candidate,role,level,seed\nAda,cv-engineer,senior,{seed}\n", encoding="utf-8")
    result = run("batch", roster, "--out", tmp_path / "out")
    assert result.exit_code == 2 and result.stderr.startswith(f"Error: {roster}:2:1: seed: ")
    assert result.stderr.count("\n") == 1


@pytest.mark.slow
def test_a_folder_holding_another_kit_is_refused_and_a_damaged_one_remade(run, tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert run("--role", "cv-engineer", "--level", "senior", "--candidate", "Ada", "--seed", "5", "--out", out).exit_code == 0
    assert run("--role", "cv-engineer", "--level", "senior", "--candidate", "Bo", "--out", out).exit_code == 0
    ada, bo = out / "cv-engineer-senior-ada", out / "cv-engineer-senior-bo"
    before = (ada / "interviewer.pdf").read_bytes()
    (bo / "interviewer.pdf").write_bytes((bo / "interviewer.pdf").read_bytes()[:5000])  # damaged
    roster = tmp_path / "roster.csv"
    roster.write_text("candidate,role,level\nAda,cv-engineer,senior\nBo,cv-engineer,senior\n")
    result = run("batch", roster, "--out", out, "--workers", "1")
    assert result.exit_code == 1
    assert f"{roster}:2: {ada} holds another kit" in result.stderr  # seed 5 there, seed 1 in the roster
    assert (ada / "interviewer.pdf").read_bytes() == before
    assert "1 kits made, 0 already complete, 1 failed" in result.stdout and complete(bo)
    counts = [len(PdfReader(bo / n).pages) for n in ("interviewer.pdf", "prescreen.pdf")]
    assert len(PdfReader(out / "print.pdf").pages) == sum(n + n % 2 for n in counts)  # two-sided: blank backs


@pytest.mark.slow
def test_the_print_file_has_no_form_fields_and_shows_the_ticks(run, tmp_path: Path) -> None:
    roster = tmp_path / "roster.csv"
    roster.write_text("candidate,role,level\nAda,nlp-engineer,junior\n")
    assert run("batch", roster, "--out", tmp_path, "--workers", "1").exit_code == 0
    reader = PdfReader(tmp_path / "print.pdf")
    assert "/AcroForm" not in reader.trailer["/Root"] and not any("/Annots" in page for page in reader.pages)
    assert "Ada" in reader.pages[0].extract_text()
