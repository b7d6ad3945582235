"""A person's corrections settle only what a scan left undecided, and say by line when they cannot."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from kit.errors import InputError
from kit.review import NONE, Corrections, Undecided, corrections_yaml, read_corrections

OPTIONS = ["1", "2", "3", "4"]


def corrections(tmp_path: Path, answers: dict[str, object], kit_id: str = "abcd1234") -> Corrections:
    path = tmp_path / "corrections.yaml"
    path.write_text(yaml.safe_dump({"kit_id": kit_id, "answers": {"interviewer.pdf": answers}}, sort_keys=False))
    manifest = type("M", (), {"kit_id": "abcd1234"})()
    return read_corrections(path, manifest)  # type: ignore[arg-type]


def test_a_correction_settles_an_undecided_answer(tmp_path: Path) -> None:
    found = corrections(tmp_path, {"q:a": 3, "q:b": "None", "q:c": None})
    assert found.settle("interviewer.pdf", "q:a", "unsure", False, OPTIONS, "scan.pdf") == "3"
    assert found.settle("interviewer.pdf", "q:b", "unsure", False, OPTIONS, "scan.pdf") is None  # nothing counts
    assert found.settle("interviewer.pdf", "q:c", "unsure", False, OPTIONS, "scan.pdf") == "unsure"  # not yet decided
    assert found.problems == [] and found.unused() == []


def test_a_correction_never_changes_an_answer_read_for_certain(tmp_path: Path) -> None:
    found = corrections(tmp_path, {"q:a": 2, "q:b": 4, "q:c": NONE})
    assert found.settle("interviewer.pdf", "q:a", "3", True, OPTIONS, "scan.pdf, page 2") == "3"
    assert found.settle("interviewer.pdf", "q:b", "4", True, OPTIONS, "scan.pdf, page 2") == "4"  # agrees: fine
    assert found.settle("interviewer.pdf", "q:c", "1", True, OPTIONS, "scan.pdf, page 2") == "1"
    assert [str(p) for p in found.problems] == [
        f"{tmp_path / 'corrections.yaml'}:4:5: q:a: scan.pdf, page 2 shows 3 ticked, read for certain; a correction "
        "settles only an answer review.pdf lists (to change a rating, type it in a score sheet)",
        f"{tmp_path / 'corrections.yaml'}:6:5: q:c: scan.pdf, page 2 shows 1 ticked, read for certain; a correction "
        "settles only an answer review.pdf lists (to change a rating, type it in a score sheet)"]


def test_a_correction_that_names_no_box_or_no_answer_is_refused_by_line(tmp_path: Path) -> None:
    found = corrections(tmp_path, {"q:a": 7, "q:gone": 2})
    assert found.settle("interviewer.pdf", "q:a", "unsure", False, OPTIONS, "scan.pdf") == "unsure"
    assert [p.message for p in found.problems] == ["q:a: '7' is no box of this answer; write 1, 2, 3, 4 or none"]
    (unused,) = found.unused()
    assert unused.line == 5 and unused.message.startswith("q:gone: no scanned page of interviewer.pdf leaves")


def test_corrections_for_another_kit_are_refused(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"corrections.yaml:1:1: corrections for kit ffff0000, not kit abcd1234"):
        corrections(tmp_path, {"q:a": 1}, kit_id="ffff0000")


def test_the_corrections_file_written_reads_back_as_nothing_decided(tmp_path: Path) -> None:
    undecided = [Undecided(Path("scan.pdf"), "page 1", "interviewer.pdf", 2, "q:a", (("1", 0.0, "empty"),
                 ("2", 0.4, "ticked"), ("3", 0.5, "ticked"), ("4", 0.0, "empty")), b""),
                 Undecided(Path("key.jpg"), "", "screener.pdf", 1, "p:b", (("0", 0.08, "unsure"), ("1", 0.0, "empty")), b"")]
    text = corrections_yaml(type("M", (), {"kit_id": "abcd1234"})(), undecided)  # type: ignore[arg-type]
    assert "# page 2: 2 boxes look ticked (2, 3); one of 1, 2, 3, 4 or none" in text and "kit_id: \"abcd1234\"" in text
    assert "# page 1: a mark in box 0 is neither clearly a tick nor clearly empty; one of 0, 1 or none" in text
    path = tmp_path / "corrections.yaml"
    path.write_text(text)
    assert yaml.safe_load(text)["answers"] == {"interviewer.pdf": {"q:a": None}, "screener.pdf": {"p:b": None}}
    assert read_corrections(path, type("M", (), {"kit_id": "abcd1234"})()).values == {}  # type: ignore[arg-type]
