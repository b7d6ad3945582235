"""Fillable packets and kitgen score: fill packets as a PDF reader would, score them, check the sums."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
import yaml
from pypdf import PdfReader

from kit.pdf import print_pdf
from tests.conftest import pdf_text
from tests.filling import fill

ARGS = ["--role", "cv-engineer", "--level", "senior", "--candidate", "Ada Lovelace"]


@pytest.fixture(scope="module")
def kit(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from click.testing import CliRunner

    from kit.cli import cli

    out = tmp_path_factory.mktemp("kits")
    result = CliRunner().invoke(cli, [*ARGS, "--calibration", "--out", str(out)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return out / "cv-engineer-senior-ada-lovelace"


def manifest(kit: Path) -> dict:
    return yaml.safe_load((kit / "kit.yaml").read_text())


# Ratings per interviewer: scorecard (c:) and a few question ratings (q:), hand-scored below.
WEIGHTS = {"vision": 3, "training": 2, "coding": 2, "data-eval": 1, "production": 1, "fundamentals": 1, "behavioural": 1}
GRACE = {"vision": 4, "training": 3, "coding": 3, "data-eval": 3, "production": 2, "fundamentals": 3, "behavioural": 3}
ALAN = {"vision": 2, "training": 3, "coding": 4, "data-eval": 3, "production": 2, "fundamentals": 3}  # no behavioural
KATE = {"vision": 3, "training": 3, "coding": 3, "data-eval": 2, "production": 3, "fundamentals": 3}
# Means: vision 3, training 3, coding 10/3, data-eval 8/3, production 7/3, fundamentals 3, behavioural 3
# Weighted: (3*3 + 2*3 + 2*10/3 + 8/3 + 7/3 + 3 + 3) / 11 = (9 + 6 + 20/3 + 15/3 + 6) / 11 = 32.666.../11
EXPECTED_TOTAL = (9 + 6 + 20 / 3 + 8 / 3 + 7 / 3 + 3 + 3) / 11


@pytest.fixture(scope="module")
def filled(kit: Path, tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    folder = tmp_path_factory.mktemp("filled")
    paths = []
    for name, ratings, rec in (("Grace", GRACE, 2), ("Alan", ALAN, 2), ("Kate", KATE, 3)):
        path = folder / f"{name.lower()}.pdf"
        fill(kit / "interviewer.pdf", path, {**{f"c:{c}": r for c, r in ratings.items()}, "recommendation": rec},
             {"interviewer": name, "justification": f"{name}'s evidence"})
        paths.append(path)
    return paths


def test_packet_fields_are_named_from_the_manifest(kit: Path) -> None:
    data = manifest(kit)
    fields = {name for name in PdfReader(kit / "interviewer.pdf").get_fields() if "." not in name}
    expected = ({f"q:{q}" for q in data["questions"]} | {f"notes:{q}" for q in data["questions"]}
                | {f"c:{c}" for c in data["weights"]} | {"recommendation", "justification", "interviewer"})
    assert fields == expected
    assert data["weights"] == WEIGHTS


def test_flat_print_version_has_no_fields(run, tmp_path: Path) -> None:
    assert run(*ARGS, "--no-forms", "--out", tmp_path).exit_code == 0
    packet = tmp_path / "cv-engineer-senior-ada-lovelace" / "interviewer.pdf"
    assert PdfReader(packet).get_fields() is None
    assert "Scorecard" in pdf_text(packet)


def test_every_pdf_carries_the_manifest_is_tagged_and_shows_the_kit_id(kit: Path) -> None:
    data = manifest(kit)
    for name in ("interviewer.pdf", "prescreen.pdf", "calibration.pdf"):
        reader = PdfReader(kit / name)
        assert yaml.safe_load(reader.attachments["kit.yaml"][0]) == data, name
        assert "/StructTreeRoot" in reader.trailer["/Root"], name
        assert all(f"Kit {data['kit_id']}" in page.extract_text() for page in reader.pages), name


def test_calibration_sheet_shows_sample_answers(kit: Path) -> None:
    from kit.validate import load_library

    library = load_library()
    text = pdf_text(kit / "calibration.pdf")
    anchored = [library.questions[q] for q in manifest(kit)["questions"] if library.questions[q].anchors]
    assert anchored
    for question in anchored:
        assert question.id.replace("-", "") in text.replace("-", "")
        assert "".join(question.anchors[4].split())[:40].replace("`", "") in text.replace("`", "")


def test_scores_three_filled_packets(run, kit: Path, filled: list[Path], tmp_path: Path) -> None:
    before = {p: hashlib.sha256(p.read_bytes()).hexdigest() for p in filled}
    result = run("score", "--kit", kit, *filled, "--out", tmp_path)
    assert result.exit_code == 0, result.output
    scores = json.loads((tmp_path / "scores.json").read_text())
    assert scores["interviewers"] == ["Grace", "Alan", "Kate"]
    rows = {row["id"]: row for row in scores["competencies"]}
    assert rows["vision"]["ratings"] == {"Grace": 4, "Alan": 2, "Kate": 3} and rows["vision"]["mean"] == 3
    assert rows["vision"]["disagreement"] is True                 # 4 and 2
    assert rows["coding"]["mean"] == pytest.approx(10 / 3) and rows["coding"]["disagreement"] is False
    assert rows["behavioural"]["ratings"]["Alan"] is None and rows["behavioural"]["mean"] == 3
    assert scores["weighted_total"] == pytest.approx(EXPECTED_TOTAL)  # 2.97
    assert scores["recommendation"] == "Hire"                        # 2.75 <= 2.97 < 3.5
    assert scores["unrated"] == [] and scores["foreign"] == []
    assert "weighted total 2.97 → Hire" in result.stdout and "! ratings 2+ apart" in result.stdout
    debrief = PdfReader(tmp_path / "debrief.pdf")
    assert len(debrief.pages) == 1
    assert "2.97" in debrief.pages[0].extract_text() and "Hire" in debrief.pages[0].extract_text()
    assert "weighted_total" in (tmp_path / "scores.csv").read_text()
    assert before == {p: hashlib.sha256(p.read_bytes()).hexdigest() for p in filled}


def test_paper_score_sheets_give_the_same_result(run, kit: Path, filled: list[Path], tmp_path: Path) -> None:
    assert run("score", "--kit", kit, *filled, "--out", tmp_path / "pdf").exit_code == 0
    assert run("score", "--template", "--kit", kit, "--out", tmp_path).exit_code == 0
    blank = (tmp_path / "score-sheet.yaml").read_text()
    assert f"kit_id: {manifest(kit)['kit_id']}" in blank and "  vision:" in blank
    sheets = []
    for name, ratings in (("Grace", GRACE), ("Alan", ALAN)):
        text = blank.replace("interviewer: ", f"interviewer: {name}")
        for cid, rating in ratings.items():
            text = text.replace(f"  {cid}:    #", f"  {cid}: {rating}    #")
        sheets.append(tmp_path / f"{name}.yaml")
        sheets[-1].write_text(text)
    kate = tmp_path / "kate.csv"
    kate.write_text("interviewer,id,rating\n" + "".join(f"Kate,{c},{r}\n" for c, r in KATE.items()))
    assert run("score", "--kit", kit, *sheets, kate, "--out", tmp_path / "paper").exit_code == 0
    from_pdf = json.loads((tmp_path / "pdf" / "scores.json").read_text())
    from_paper = json.loads((tmp_path / "paper" / "scores.json").read_text())
    assert from_paper == from_pdf


def test_packet_of_another_kit_is_flagged_and_left_out(run, kit: Path, filled: list[Path], tmp_path: Path) -> None:
    assert run(*ARGS, "--seed", "2", "--out", tmp_path).exit_code == 0
    other_kit = tmp_path / "cv-engineer-senior-ada-lovelace"
    other = tmp_path / "other.pdf"
    fill(other_kit / "interviewer.pdf", other, {"c:vision": 1}, {"interviewer": "Eve"})
    result = run("score", "--kit", kit, filled[0], other, "--out", tmp_path / "debrief")
    assert result.exit_code == 0, result.output
    scores = json.loads((tmp_path / "debrief" / "scores.json").read_text())
    assert scores["interviewers"] == ["Grace"] and scores["foreign"] == [str(other)]


def test_bad_inputs_exit_2_with_one_line(run, kit: Path, tmp_path: Path) -> None:
    plain = tmp_path / "plain.pdf"
    plain.write_bytes(print_pdf("<p>Not a packet</p>"))
    empty = tmp_path / "empty.pdf"
    empty.write_bytes((kit / "interviewer.pdf").read_bytes())
    high = tmp_path / "high.yaml"
    high.write_text(f"kit_id: {manifest(kit)['kit_id']}\ninterviewer: X\nratings:\n  vision: 5\n")
    typo = tmp_path / "typo.yaml"
    typo.write_text(f"kit_id: {manifest(kit)['kit_id']}\ninterviewer: X\nratings:\n  visoin: 3\n")
    cases = {plain: "not a kitgen interviewer packet", empty: "no ratings are filled in",
             high: "rating 5 for 'vision' is outside the scale 1–4", typo: "unknown id 'visoin'"}
    for path, message in cases.items():
        before = path.read_bytes()
        result = run("score", "--kit", kit, path, "--out", tmp_path / "out")
        assert result.exit_code == 2, path
        assert result.stderr.count("\n") == 1 and message in result.stderr, result.stderr
        assert path.read_bytes() == before
    assert not (tmp_path / "out").exists()


def test_pdf_a_3b_keeps_the_manifest(run, tmp_path: Path) -> None:
    assert run(*ARGS, "--pdf-variant", "pdf/a-3b", "--out", tmp_path).exit_code == 0
    folder = tmp_path / "cv-engineer-senior-ada-lovelace"
    reader = PdfReader(folder / "interviewer.pdf")
    assert "kit.yaml" in reader.attachments
    metadata = reader.trailer["/Root"]["/Metadata"].get_object().get_data()
    assert b'pdfaid:part="3"' in metadata and b'pdfaid:conformance="B"' in metadata
    assert reader.get_fields() is None  # archival copies are flat
