"""Fillable packets and kitgen score: fill packets as a PDF reader would, score them, check the sums and rules."""

from __future__ import annotations

import csv
import hashlib
import json
from pathlib import Path

import pikepdf
import pytest
import yaml
from pypdf import PdfReader

from kit.manifest import Manifest, digest
from kit.pdf import print_pdf
from kit.score import NOT_ENOUGH, decide
from kit.sheets import Verdict
from kit.validate import load_library
from tests.conftest import pdf_text, squash
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
EXPECTED_TOTAL = (9 + 6 + 20 / 3 + 8 / 3 + 7 / 3 + 3 + 3) / 11
PEOPLE = (("Grace", GRACE, 2), ("Alan", ALAN, 2), ("Kate", KATE, 3))  # recommendation rows: 2 Hire, 3 No hire


@pytest.fixture(scope="module")
def filled(kit: Path, tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    folder = tmp_path_factory.mktemp("filled")
    paths = []
    for name, ratings, rec in PEOPLE:
        path = folder / f"{name.lower()}.pdf"
        fill(kit / "interviewer.pdf", path, {**{f"c:{c}": r for c, r in ratings.items()}, "recommendation": rec},
             {"interviewer": name, "justification": f"{name}'s evidence"})
        paths.append(path)
    return paths


def test_packet_fields_are_named_from_the_manifest(kit: Path) -> None:
    data = manifest(kit)
    fields = set(PdfReader(kit / "interviewer.pdf").get_fields())
    expected = ({f"{kind}:{q}" for q in data["questions"] for kind in ("q", "notes", "flag")}
                | {f"c:{c}" for c in data["weights"]} | {"recommendation", "justification", "interviewer"})
    assert fields == expected
    assert data["weights"] == WEIGHTS


def test_radio_groups_are_one_field_each_with_plain_widgets(kit: Path) -> None:
    with pikepdf.open(kit / "interviewer.pdf") as pdf:
        fields = pdf.Root.AcroForm.Fields
        names = [str(f.T) for f in fields]
        assert len(names) == len(set(names))  # roots only, nothing listed twice
        group = next(f for f in fields if str(f.T) == "c:vision")
        assert len(group.Kids) == 4
        for rating, kid in enumerate(group.Kids, 1):
            assert "/T" not in kid and "/FT" not in kid
            assert set(kid.AP.N.keys()) == {f"/{rating}", "/Off"}


def test_the_scorecard_with_its_rules_and_signature_is_one_page(kit: Path) -> None:
    pages = [squash(page.extract_text()) for page in PdfReader(kit / "interviewer.pdf").pages]
    scorecard = next(text for text in pages if "Scorecard" in text[:200])
    assert all(words in scorecard for words in ("Rules:", "Anyredflag", "Justification", "Signed"))


@pytest.mark.slow
def test_flat_print_version_has_no_fields(run, tmp_path: Path) -> None:
    assert run(*ARGS, "--no-forms", "--out", tmp_path).exit_code == 0
    packet = tmp_path / "cv-engineer-senior-ada-lovelace" / "interviewer.pdf"
    assert PdfReader(packet).get_fields() is None
    assert "Scorecard" in pdf_text(packet)


@pytest.mark.slow
def test_interviewer_documents_carry_the_manifest_and_show_the_kit_id(kit: Path) -> None:
    data = manifest(kit)
    for name in ("interviewer.pdf", "calibration.pdf"):
        reader = PdfReader(kit / name)
        assert yaml.safe_load(reader.attachments["kit.yaml"][0]) == data, name
        assert "/StructTreeRoot" in reader.trailer["/Root"], name
        assert all(f"Kit {data['kit_id']}" in page.extract_text() for page in reader.pages), name


def test_prescreen_carries_nothing_of_the_interview(kit: Path) -> None:
    data = manifest(kit)
    reader = PdfReader(kit / "prescreen.pdf")
    assert list(reader.attachments) == ["prescreen.yaml"]
    record = yaml.safe_load(reader.attachments["prescreen.yaml"][0])
    assert set(record) == {"sheet_id", "kitgen", "role", "candidate", "date", "prescreen"}
    assert record["prescreen"] == data["prescreen"]
    everything = reader.attachments["prescreen.yaml"][0].decode() + str(reader.metadata) + pdf_text(kit / "prescreen.pdf")
    for secret in (*data["questions"], data["kit_id"], "senior"):
        assert secret not in everything, secret
    assert f"Sheet{record['sheet_id']}" in pdf_text(kit / "prescreen.pdf")


def test_scores_three_filled_packets(run, kit: Path, filled: list[Path], tmp_path: Path) -> None:
    before = {p: hashlib.sha256(p.read_bytes()).hexdigest() for p in filled}
    result = run("score", "--kit", kit, *filled, "--out", tmp_path)
    assert result.exit_code == 0, result.output
    scores = json.loads((tmp_path / "scores.json").read_text())
    assert [(i["label"], i["recommendation"], i["justification"]) for i in scores["interviewers"]] == [
        ("Grace", "Hire", "Grace's evidence"), ("Alan", "Hire", "Alan's evidence"), ("Kate", "No hire", "Kate's evidence")]
    rows = {row["id"]: row for row in scores["competencies"]}
    assert rows["vision"]["ratings"] == {"Grace": 4, "Alan": 2, "Kate": 3} and rows["vision"]["mean"] == 3
    assert rows["vision"]["disagreement"] is True and rows["vision"]["spread"] == 2
    assert rows["coding"]["mean"] == pytest.approx(10 / 3) and rows["coding"]["disagreement"] is False
    assert rows["behavioural"]["ratings"]["Alan"] is None and rows["behavioural"]["mean"] == 3
    assert scores["weighted_total"] == pytest.approx(EXPECTED_TOTAL)  # 2.97
    assert scores["rated_share"] == 1 and scores["recommendation"] == "Hire"  # 2.75 <= 2.97 < 3.5, no cap
    assert "weighted total 2.97, 100% of the weight rated → Hire" in result.stdout
    text = pdf_text(tmp_path / "debrief.pdf")
    for words in ("Kate'sevidence", "Nohire", "2.97", "Recommendationbytherubric:Hire", "Anyredflag"):
        assert words in text, words
    assert "weighted_total" in (tmp_path / "scores.csv").read_text()
    assert before == {p: hashlib.sha256(p.read_bytes()).hexdigest() for p in filled}


def test_question_ratings_stand_in_for_a_blank_scorecard_and_are_marked(run, kit: Path, tmp_path: Path) -> None:
    questions = [q for q in manifest(kit)["questions"]]
    library = load_library()
    vision = [q for q in questions if library.questions[q].competency == "vision"][:2]
    packet = tmp_path / "q.pdf"
    fill(kit / "interviewer.pdf", packet, {f"q:{vision[0]}": 2, f"q:{vision[1]}": 3, "c:coding": 4},
         {"interviewer": "Quinn"})
    assert run("score", packet, "--out", tmp_path / "d").exit_code == 0
    rows = {r["id"]: r for r in json.loads((tmp_path / "d" / "scores.json").read_text())["competencies"]}
    assert rows["vision"]["ratings"] == {"Quinn": 2.5} and rows["vision"]["derived"] == ["Quinn"]
    assert rows["coding"]["derived"] == []


def test_paper_score_sheets_give_the_same_result(run, kit: Path, filled: list[Path], tmp_path: Path) -> None:
    assert run("score", "--kit", kit, *filled, "--out", tmp_path / "pdf").exit_code == 0
    assert run("score", "--template", "--kit", kit, "--out", tmp_path).exit_code == 0
    blank = (tmp_path / "score-sheet.yaml").read_text()
    assert f"kit_id: {manifest(kit)['kit_id']}" in blank and "  vision:" in blank
    assert "recommendation:" in blank and "justification:" in blank
    text = blank.replace("interviewer: ", "interviewer: Grace").replace("recommendation: ", "recommendation: Hire")
    text = text.replace("justification: |\n  \n", "justification: |\n  Grace's evidence\n")
    for cid, rating in GRACE.items():
        text = text.replace(f"  {cid}:    #", f"  {cid}: {rating}    #")
    grace = tmp_path / "grace.yaml"
    grace.write_text(text)
    others = tmp_path / "others.csv"  # two interviewers in one CSV sheet
    others.write_text("interviewer,id,rating,text\n"
                      + "".join(f"{n},{c},{r},\n" for n, ratings, _ in PEOPLE[1:] for c, r in ratings.items())
                      + "Alan,recommendation,Hire,\nAlan,justification,,Alan's evidence\n"
                      + "Kate,recommendation,3,\nKate,justification,,Kate's evidence\n")
    assert run("score", "--kit", kit, grace, others, "--out", tmp_path / "paper").exit_code == 0
    from_pdf = json.loads((tmp_path / "pdf" / "scores.json").read_text())
    from_paper = json.loads((tmp_path / "paper" / "scores.json").read_text())
    for scores in (from_pdf, from_paper):
        for person in scores["interviewers"]:
            del person["source"]
    assert from_paper == from_pdf


@pytest.mark.slow
def test_two_interviewers_of_the_same_name_are_both_counted(run, kit: Path, tmp_path: Path) -> None:
    first, second = tmp_path / "a.pdf", tmp_path / "b.pdf"
    fill(kit / "interviewer.pdf", first, {"c:vision": 4, "c:coding": 4}, {"interviewer": "Alex Kim"})
    fill(kit / "interviewer.pdf", second, {"c:vision": 2, "c:coding": 2}, {"interviewer": "Alex Kim"})
    result = run("score", "--kit", kit, first, second, "--out", tmp_path / "d")
    assert result.exit_code == 0, result.output
    scores = json.loads((tmp_path / "d" / "scores.json").read_text())
    assert [i["label"] for i in scores["interviewers"]] == ["Alex Kim (a.pdf)", "Alex Kim (b.pdf)"]
    rows = {r["id"]: r for r in scores["competencies"]}
    assert rows["vision"]["mean"] == 3 and rows["coding"]["mean"] == 3


def test_the_same_packet_twice_is_refused(run, kit: Path, filled: list[Path], tmp_path: Path) -> None:
    copy = tmp_path / "copy.pdf"
    copy.write_bytes(filled[0].read_bytes())
    result = run("score", "--kit", kit, filled[0], copy, "--out", tmp_path / "d")
    assert result.exit_code == 2 and "the same file as" in result.stderr
    assert not (tmp_path / "d").exists()


def _tamper(packet: Path, target: Path, change: dict, recompute: bool) -> None:
    with pikepdf.open(packet) as pdf:
        data = yaml.safe_load(pdf.attachments["kit.yaml"].get_file().read_bytes())
        data.update(change)
        if recompute:
            data["kit_id"] = digest({k: v for k, v in data.items() if k != "kit_id"})
        pdf.attachments["kit.yaml"] = pikepdf.AttachedFileSpec(pdf, yaml.safe_dump(data).encode(), filename="kit.yaml")
        pdf.save(target)


@pytest.mark.parametrize("recompute", [False, True], ids=["same-id", "recomputed-id"])
def test_an_edited_manifest_is_refused(run, kit: Path, filled: list[Path], tmp_path: Path, recompute: bool) -> None:
    tampered = tmp_path / "tampered.pdf"
    _tamper(filled[1], tampered, {"weights": {c: float(w) for c, w in {**WEIGHTS, "coding": 1000}.items()}}, recompute)
    result = run("score", tampered, filled[0], "--out", tmp_path / "d")
    assert result.exit_code == 2 and result.stderr.count("\n") == 1, result.output
    assert ("does not match its kit id" if not recompute else "not the one printed") in result.stderr
    assert not (tmp_path / "d").exists()


@pytest.mark.slow
def test_stage_packets_printed_separately_are_one_loop(run, tmp_path: Path) -> None:
    for stage in ("technical", "coding"):
        assert run(*ARGS, "--stage", stage, "--out", tmp_path).exit_code == 0  # one folder per stage
    folders = [tmp_path / f"cv-engineer-senior-ada-lovelace-{s}" for s in ("technical", "coding")]
    manifests = [manifest(f) for f in folders]
    assert manifests[0]["kit_id"] != manifests[1]["kit_id"] and manifests[0]["loop"] == manifests[1]["loop"]
    tech, code = tmp_path / "tech.pdf", tmp_path / "code.pdf"
    fill(folders[0] / "interviewer-technical.pdf", tech, {"c:vision": 3, "c:training": 3, "c:fundamentals": 4,
                                                          "c:data-eval": 3}, {"interviewer": "Grace"})
    fill(folders[1] / "interviewer-coding.pdf", code, {"c:coding": 2}, {"interviewer": "Grace"})
    result = run("score", tech, code, "--out", tmp_path / "d")
    assert result.exit_code == 0, result.output
    scores = json.loads((tmp_path / "d" / "scores.json").read_text())
    assert scores["loop"] == manifests[0]["loop"]
    assert [(i["label"], i["stage"]) for i in scores["interviewers"]] == [
        ("Grace · technical", "technical"), ("Grace · coding", "coding")]
    rows = {r["id"]: r["mean"] for r in scores["competencies"]}
    assert rows["coding"] == 2 and rows["fundamentals"] == 4
    assert scores["rated_share"] == pytest.approx(9 / 11)


# The rubric's decision rules, on the cases the rubric's words make promises about (cv-engineer weights).
@pytest.mark.parametrize(("ratings", "flags", "expected"), [
    ({**{c: 4 for c in WEIGHTS}, "vision": 2}, (), "No hire"),          # total 3.45, but vision (weight 3) is below the bar
    ({**{c: 4 for c in WEIGHTS}, "behavioural": 1}, (), "No hire"),     # total 3.73, but a strong no
    ({**{c: 4 for c in WEIGHTS}, "production": 3}, (), "Strong hire"),  # 3.91, every competency at 3 or more
    ({**{c: 4 for c in WEIGHTS}, "production": 2}, (), "Hire"),         # 3.82, but not across the board
    ({c: 4 for c in WEIGHTS}, ("q1",), "Review by the hiring committee"),
    ({"training": 3, "behavioural": 3}, (), NOT_ENOUGH),               # 3 of 11 weight units rated
    ({c: 3 for c in WEIGHTS if c != "vision"}, (), "Hire"),              # 8 of 11: above the 67% evidence bar
])
def test_decision_rules(ratings: dict[str, int], flags: tuple[str, ...], expected: str) -> None:
    library = load_library()
    record = {"kitgen": "0", "role": "cv-engineer", "level": "senior", "seed": 1, "candidate": None,
              "interviewer": None, "date": None, "weights": WEIGHTS, "questions": ["q1"], "prescreen": []}
    kit = Manifest.model_validate({"kit_id": digest(record), **record})
    debrief = decide(kit, library, [Verdict(Path("x.yaml"), "X", kit.kit_id, competencies=ratings, red_flags=flags)])
    assert debrief.recommendation == expected
    assert bool(debrief.reasons) == (expected != debrief.by_total)


def test_score_never_writes_over_an_input(run, kit: Path, filled: list[Path], tmp_path: Path) -> None:
    folder = tmp_path / "kit"
    folder.mkdir()
    (folder / "kit.yaml").write_bytes((kit / "kit.yaml").read_bytes())
    sheet = folder / "scores.csv"
    sheet.write_text("interviewer,id,rating\nGrace,vision,3\n")
    result = run("score", "--kit", folder, sheet, "--force")
    assert result.exit_code == 2 and "never writes over an input" in result.stderr
    assert sheet.read_text() == "interviewer,id,rating\nGrace,vision,3\n"


def test_a_csv_sheet_reports_every_bad_row(run, kit: Path, tmp_path: Path) -> None:
    sheet = tmp_path / "bad.csv"
    sheet.write_text("interviewer,id,rating\nGrace,vision,3\nGrace,visoin,3\nGrace,coding,9\nAlan,recommendation,Maybe\n"
                     "Alan,training,2\n")
    result = run("score", "--kit", kit, sheet, "--out", tmp_path / "d")
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert [line.split(": ", 2)[1] for line in lines] == [f"{sheet}:3:1", f"{sheet}:4:1", f"{sheet}:5:1"], lines


def test_bad_inputs_exit_2_with_one_line(run, kit: Path, tmp_path: Path) -> None:
    plain = tmp_path / "plain.pdf"
    plain.write_bytes(print_pdf("<p>Not a packet</p>"))
    empty = tmp_path / "empty.pdf"
    empty.write_bytes((kit / "interviewer.pdf").read_bytes())
    kit_id = manifest(kit)["kit_id"]
    high = tmp_path / "high.yaml"
    high.write_text(f"kit_id: {kit_id}\ninterviewer: X\nratings:\n  vision: 5\n")
    typo = tmp_path / "typo.yaml"
    typo.write_text(f"kit_id: {kit_id}\ninterviewer: X\nratings:\n  visoin: 3\n")
    broken = tmp_path / "broken.yaml"
    broken.write_text(f"kit_id: {kit_id}\ninterviewer: [X\n")
    key = tmp_path / "key.yaml"  # found by bench/fuzz_readers.py: each was a traceback once
    key.write_text(f"kit_id: {kit_id}\ninterviewer: X\nratings:\n  ? [vision]\n  : 3\n")
    digits = tmp_path / "digits.yaml"
    digits.write_text(f"kit_id: {kit_id}\ninterviewer: X\nratings:\n  vision: {'9' * 5000}\n")
    superscript = tmp_path / "superscript.csv"
    superscript.write_text("interviewer,id,rating\nX,vision,²\n")
    cases = {plain: "no kit manifest attached", empty: "no ratings are filled in",
             key: "key.yaml:4:5: not valid YAML: a key must be a plain value", digits: "a value cannot be read",
             superscript: "superscript.csv:2:1: rating '²' for 'vision' is outside the scale",
             high: "high.yaml:4:3: rating 5 for 'vision' is outside the scale 1–4", typo: "unknown id 'visoin'",
             broken: "broken.yaml:3:1: not valid YAML"}
    for path, message in cases.items():
        before = path.read_bytes()
        result = run("score", "--kit", kit, path, "--out", tmp_path / "out")
        assert result.exit_code == 2, path
        assert result.stderr.count("\n") == 1 and message in result.stderr, result.stderr
        assert path.read_bytes() == before
    assert not (tmp_path / "out").exists()


def test_malformed_manifests_are_one_line(run, kit: Path, tmp_path: Path) -> None:
    for text, message in (("kit_id: [\n", "not valid YAML"), ("- a\n- b\n", "kit.yaml"),
                          ((kit / "kit.yaml").read_text().replace("level: senior", "level: sneior"), "kit.yaml:")):
        folder = tmp_path / f"k{len(text)}"
        folder.mkdir()
        (folder / "kit.yaml").write_text(text)
        result = run("score", "--template", "--kit", folder)
        assert result.exit_code == 2 and result.stderr.count("\n") == 1 and message in result.stderr, result.stderr


@pytest.mark.slow
def test_pdf_a_3b_keeps_the_manifest(run, tmp_path: Path) -> None:
    assert run(*ARGS, "--pdf-variant", "pdf/a-3b", "--out", tmp_path).exit_code == 0
    folder = tmp_path / "cv-engineer-senior-ada-lovelace"
    reader = PdfReader(folder / "interviewer.pdf")
    assert "kit.yaml" in reader.attachments
    metadata = reader.trailer["/Root"]["/Metadata"].get_object().get_data()
    assert b'pdfaid:part="3"' in metadata and b'pdfaid:conformance="B"' in metadata
    assert reader.get_fields() is None  # archival copies are flat


def test_screener_key_prints_answer_keys_and_scores_the_prescreen(run, kit: Path, tmp_path: Path) -> None:
    library = load_library()
    prescreen = manifest(kit)["prescreen"]
    text = pdf_text(kit / "screener.pdf")
    for qid in prescreen:
        assert "".join(library.questions[qid].answer_key.split())[:50] in text, qid
    assert "9of15points" in text  # 60% of 5 questions × 3 points
    marked = tmp_path / "marked.pdf"
    points = dict(zip(prescreen, (3, 2, 2, 1, 3)))  # 11 of 15: passed
    fill(kit / "screener.pdf", marked, {f"p:{q}": n for q, n in points.items()})
    typed = tmp_path / "points.yaml"
    typed.write_text(f"kit_id: {manifest(kit)['kit_id']}\ninterviewer: Sam\npoints:\n"
                     + "".join(f"  {q}: {n}\n" for q, n in points.items()))
    for source, out in ((marked, "pdf"), (typed, "yaml")):
        result = run("score", "--kit", kit, source, "--out", tmp_path / out)
        assert result.exit_code == 0, result.output
        pre = json.loads((tmp_path / out / "scores.json").read_text())["prescreen"]
        assert (pre["points"], pre["total"], pre["most"], pre["pass_mark"], pre["passed"]) == (points, 11, 15, 9, True)
        assert "prescreen 11 of 15 points (pass line 9): passed" in result.stdout


FORMULAS = ["=cmd|' /C calc'!A0", "+1+1", "-2+3", "@SUM(A1)", "\t=1", " =1+1", "\n=1", "＝1+1", "=HYPERLINK(\"http://x\")"]


def test_scores_csv_runs_nothing_in_a_spreadsheet(run, kit: Path, tmp_path: Path) -> None:
    """Interviewer names are the user's text: every cell that would start a formula is quoted as text."""
    sheet = tmp_path / "names.csv"
    with sheet.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["interviewer", "id", "rating"])
        writer.writerows([name, "vision", 3] for name in FORMULAS)
    result = run("score", "--kit", kit, sheet, "--out", tmp_path / "out")
    assert result.exit_code == 0, result.output
    with (tmp_path / "out" / "scores.csv").open(newline="") as handle:
        rows = list(csv.reader(handle))
    cells = [cell for row in rows for cell in row]
    assert not [c for c in cells if c.lstrip()[:1] in set("=+-@＝＋－＠") and c != "-"], cells
    assert len(rows[0][2:-3]) >= 7 and all(c.startswith("'") for c in rows[0][2:-3])  # every interviewer's column
    assert "\x1b" not in result.stdout


def test_calibration_sheet_asks_for_a_rating_before_it_shows_the_key(kit: Path) -> None:
    """Each selected question's sample answers, one per rating, under letters in a shuffled order; the key is on
    the back page, and each letter's answer is the sample written for the rating the key gives it."""
    import re

    library = load_library()
    pages = [squash(page.extract_text()) for page in PdfReader(kit / "calibration.pdf").pages]
    body, back = "".join(pages[:-1]), pages[-1]
    assert back.startswith("KeyTheratingeach") and "KeyTheratingeach" not in body
    ids = manifest(kit)["questions"]
    orders = []
    for number, qid in enumerate(ids, 1):
        row = re.search(rf"{number}\.{re.escape(qid)}((?:[A-D]:[1-4])+)", back)
        assert row, qid
        key = dict(re.findall(r"([A-D]):([1-4])", row.group(1)))
        assert sorted(map(int, key.values())) == [1, 2, 3, 4], qid
        samples = library.questions[qid].samples_for("senior")
        for letter, rating in key.items():
            assert f"{letter}.“{squash(samples[int(rating)]).replace('`', '')[:60]}" in body, (qid, letter)
        orders.append([key[letter] for letter in "ABCD"])
    assert ["1", "2", "3", "4"] not in orders and len({tuple(o) for o in orders}) > 1
