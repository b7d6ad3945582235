"""kitgen batch: a roster's kits on all cores, resumable after a kill, and one print file."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import yaml
from pypdf import PdfReader

from kit.batch import complete

ROSTER = """candidate,role,level,interviewer
Ada Lovelace,cv-engineer,senior,Grace
Alan Turing,cv-engineer,senior,
Kate Bell,nlp-engineer,junior,
Bad Row,cv-engineer,principal,
"""


def questions(folder: Path) -> list[str]:
    return yaml.safe_load((folder / "kit.yaml").read_text())["questions"]


def test_batch_makes_every_kit_reports_bad_rows_and_merges_a_print_file(run, tmp_path: Path) -> None:
    roster = tmp_path / "roster.csv"
    roster.write_text(ROSTER)
    result = run("batch", roster, "--out", tmp_path / "out", "--workers", "2")
    assert result.exit_code == 1  # one row failed; the others were still made
    assert "3 kits made, 0 already complete, 1 failed" in result.stdout
    assert f"{roster}:5: unknown level 'principal'" in result.stderr
    folders = sorted(p for p in (tmp_path / "out").iterdir() if p.is_dir())
    assert [f.name for f in folders] == ["cv-engineer-senior-ada-lovelace", "cv-engineer-senior-alan-turing",
                                         "nlp-engineer-junior-kate-bell"]
    assert all(complete(f) for f in folders)
    assert questions(folders[0]) == questions(folders[1])  # same role and level: same questions
    printed = [pdf for f in folders for pdf in f.glob("*.pdf") if pdf.name != "screener.pdf"]  # the key stays apart
    pages = sum(len(PdfReader(pdf).pages) for pdf in printed)
    assert len(PdfReader(tmp_path / "out" / "print.pdf").pages) == pages

    again = run("batch", roster, "--out", tmp_path / "out")
    assert "0 kits made, 3 already complete, 1 failed" in again.stdout


def test_vary_gives_equivalent_rotations(run, tmp_path: Path) -> None:
    roster = tmp_path / "roster.csv"
    roster.write_text("candidate,role,level\nAda,cv-engineer,senior\nAlan,cv-engineer,senior\n")
    assert run("batch", roster, "--out", tmp_path, "--vary", "--workers", "1").exit_code == 0
    ada, alan = questions(tmp_path / "cv-engineer-senior-ada"), questions(tmp_path / "cv-engineer-senior-alan")
    assert ada != alan
    from kit.validate import load_library

    library = load_library()
    assert sorted(library.questions[q].competency for q in ada) == sorted(library.questions[q].competency for q in alan)


def test_killed_batch_leaves_only_complete_kits_and_resumes(tmp_path: Path) -> None:
    roster = tmp_path / "roster.csv"
    roster.write_text("candidate,role,level\n" + "".join(f"Candidate {n},nlp-engineer,junior\n" for n in range(6)))
    out = tmp_path / "out"
    command = [sys.executable, "-m", "kit", "batch", str(roster), "--out", str(out), "--workers", "1"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and sum(complete(f) for f in out.glob("*") if f.is_dir()) < 2:
        time.sleep(0.2)
    process.send_signal(signal.SIGTERM)
    process.wait(timeout=120)
    assert process.returncode != 0
    folders = [f for f in out.iterdir() if f.is_dir()]
    done = {f: {p.name: p.stat().st_mtime_ns for p in f.iterdir()} for f in folders if complete(f)}
    assert 2 <= len(done) < 6
    for folder in folders:  # nothing half-made under a final name
        finals = [p for p in folder.iterdir() if not p.name.startswith(".")]
        assert complete(folder) or finals == [], finals
    resumed = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert resumed.returncode == 0, resumed.stderr
    assert f"{6 - len(done)} kits made, {len(done)} already complete, 0 failed" in resumed.stdout
    assert all(complete(f) for f in out.iterdir() if f.is_dir())
    assert all({p.name: p.stat().st_mtime_ns for p in f.iterdir()} == files for f, files in done.items())
    assert (out / "print.pdf").is_file()


def test_a_row_that_cannot_be_written_fails_alone(run, tmp_path: Path) -> None:
    roster = tmp_path / "roster.csv"
    roster.write_text("candidate,role,level\nAda,cv-engineer,senior\nAlan,cv-engineer,senior\n")
    out = tmp_path / "out"
    out.mkdir()
    (out / "cv-engineer-senior-ada").write_text("a file where Ada's folder should go")
    result = run("batch", roster, "--out", out, "--workers", "2")
    assert result.exit_code == 1
    assert f"{roster}:2: cannot write to output folder" in result.stderr
    assert "1 kits made, 0 already complete, 1 failed" in result.stdout
    assert complete(out / "cv-engineer-senior-alan")
    assert (out / "cv-engineer-senior-ada").read_text() == "a file where Ada's folder should go"


def test_a_roster_reports_every_bad_row_at_once(run, tmp_path: Path) -> None:
    roster = tmp_path / "roster.csv"
    roster.write_text("candidate,role,level,seed\nAda,cv-engineer,senior,\n,cv-engineer,senior,\nBo,cv-engineer,mid,x\n")
    result = run("batch", roster, "--out", tmp_path / "out")
    assert result.exit_code == 2 and not (tmp_path / "out").exists()
    assert result.stderr.splitlines() == [f"Error: {roster}:3:1: no candidate; fill in the row or delete it",
                                          f"Error: {roster}:4:1: seed: Input should be a valid integer, unable to parse "
                                          "string as an integer"]
