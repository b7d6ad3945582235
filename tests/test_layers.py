"""Team layers: kitgen init makes a working folder that changes weights, anchors, questions and a template block."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from kit.explain import explain
from kit.layers import find_layers
from kit.select import select_kit
from kit.library import Library
from kit.validate import load_library
from tests.conftest import Team, pdf_text


@pytest.fixture(scope="module")
def team_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from kit.scaffold import scaffold

    folder = tmp_path_factory.mktemp("acme") / "team"
    scaffold(folder)
    return folder


@pytest.fixture(scope="module")
def layered(team_folder: Path) -> Library:
    return load_library(find_layers(team_folder / "kitgen.yaml"))


def test_init_refuses_to_overwrite(team_folder: Path, run) -> None:
    before = (team_folder / "kitgen.yaml").read_text()
    result = run("init", team_folder)
    assert result.exit_code == 2 and "already exists" in result.stderr
    assert (team_folder / "kitgen.yaml").read_text() == before


def test_team_layer_changes_weights_anchors_and_questions(layered: Library) -> None:
    builtin = load_library()
    role = layered.roles["cv-platform-engineer"]
    weights = {w.id: w.weight for w in role.competencies}
    assert weights["production"] == 3 and weights["mlops"] == 2 and weights["vision"] == 3
    assert role.levels["junior"].questions == builtin.roles["cv-engineer"].levels["junior"].questions + 1
    assert role.levels["senior"] == builtin.roles["cv-engineer"].levels["senior"]
    production = layered.competency("production")
    assert production.anchors[3].startswith("Measures before optimising")
    assert production.anchors[1] == builtin.competency("production").anchors[1]
    coding = layered.competency("coding")
    assert coding.anchors_for("senior")[3].startswith("Finds the bug, fixes it and adds the test")
    assert coding.anchors_for("mid") == builtin.competency("coding").anchors_for("mid")
    assert "vis-classic-architectures" in builtin.questions and "vis-classic-architectures" not in layered.questions
    assert layered.questions["vis-iou-nms"].minutes == 6
    assert layered.questions["vis-iou-nms"].text == builtin.questions["vis-iou-nms"].text
    assert "cv-platform-engineer" not in builtin.roles


@pytest.mark.parametrize("level", ["junior", "mid", "senior", "staff"])
def test_extended_role_makes_kits_from_base_and_team_questions(layered: Library, level: str) -> None:
    kit = select_kit(layered, "cv-platform-engineer", level)
    competencies = {q.competency for q in kit.questions}
    assert "mlops" in competencies and "vision" in competencies


@pytest.mark.slow
def test_kit_from_the_team_folder_uses_the_template_override(team_folder: Path, run, tmp_path: Path) -> None:
    result = run("--config", team_folder / "kitgen.yaml", "--role", "cv-platform-engineer", "--level", "senior",
                 "--out", tmp_path)
    assert result.exit_code == 0, result.output
    folder = tmp_path / "cv-platform-engineer-senior"
    text = pdf_text(folder / "interviewer.pdf")
    assert "Howweinterview" in text and "Postyourscorecardwithin24hours" in text
    assert "Runningastructuredinterview" in text  # {{ super() }} keeps kitgen's block too
    assert "Computer-visionplatformengineer" in text and "MLplatformandoperations" in text
    manifest = yaml.safe_load((folder / "kit.yaml").read_text())
    assert any(q.startswith("team-mlops-") for q in manifest["questions"])


def test_kitgen_yaml_in_the_current_folder_is_found(team_folder: Path) -> None:
    layers = find_layers(None, cwd=team_folder)
    assert [layer.name.split()[0] for layer in layers] == ["built-in", "team"]


def test_explain_shows_where_each_part_came_from(layered: Library, team_folder: Path) -> None:
    report = explain(layered, "cv-platform-engineer", "senior")
    role_file = team_folder / "rubrics" / "roles" / "cv-platform-engineer.yaml"
    rubric_file = team_folder / "rubrics" / "rubric.yaml"
    assert "Role cv-platform-engineer (extends cv-engineer)" in report
    lines = report.splitlines()
    production = lines.index(next(line for line in lines if line.startswith("  production ·")))
    assert lines[production].startswith("  production · weight 3")
    assert f"changed in team: {rubric_file}:8 (anchors)" in lines[production + 2]
    assert lines[production + 3] == f"    weight set in team: {role_file}:13"
    vision = lines.index(next(line for line in lines if line.startswith("  vision ·")))
    assert "weight set in built-in" in lines[vision + 2]
    assert any("defined in team:" in line for line in lines if "team-mlops" in line or line.startswith("    defined in team"))


def test_override_of_a_question_in_a_team_layer_keeps_the_rest(team: Team) -> None:
    team.write("questions/patch.yaml", "questions:\n  - id: vis-iou-nms\n    minutes: 4\n    levels: [senior]\n")
    library = team.library()
    question = library.questions["vis-iou-nms"]
    assert question.minutes == 4 and question.levels == ["senior"] and question.guidance
    sources = library.sources["question:vis-iou-nms"]
    assert [s.layer.split()[0] for s in sources] == ["built-in", "team"]


def test_a_team_names_its_stack_and_questions_tied_to_another_framework_leave(tmp_path: Path) -> None:
    """Concept questions are framework-neutral; one whose point is an API says so and carries `stack`."""
    builtin = load_library()
    tied = {key for key, q in builtin.questions.items() if q.stack == "pytorch"}
    assert tied and all("PyTorch" in builtin.questions[key].text for key in tied)

    def library(stack: str) -> Library:
        config = tmp_path / stack / "kitgen.yaml"
        config.parent.mkdir(exist_ok=True)
        config.write_text(f"stack: [{stack}]\n")
        return load_library(find_layers(config))

    assert not tied & set(library("jax").questions)
    assert set(library("jax").questions) == set(builtin.questions) - tied
    assert set(library("pytorch").questions) == set(builtin.questions)


SECRET = "only-the-team-folder-is-read"
LOGO = ('<svg xmlns="http://www.w3.org/2000/svg" width="40" height="20"><rect width="40" height="20" fill="#1a5fb4"/>'
        '<image href="file://{outside}" width="9" height="9"/></svg>')


@pytest.fixture(scope="module")
def branded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A kit from a team that names its company, an SVG logo (which tries to pull in a file from outside
    the team folder) and an accent colour."""
    from click.testing import CliRunner

    from kit.cli import cli

    root = tmp_path_factory.mktemp("brand")
    (root / "outside.txt").write_text(SECRET)
    team = root / "team"
    team.mkdir()
    (team / "logo.svg").write_text(LOGO.format(outside=root / "outside.txt"))
    (team / "kitgen.yaml").write_text('brand: {company: Acme Vision Ltd, logo: logo.svg, accent: "#1a5fb4"}\n')
    result = CliRunner().invoke(cli, ["--config", str(team / "kitgen.yaml"), "--role", "cv-engineer", "--level",
                                      "junior", "--candidate", "Ada Lovelace", "--out", str(root / "out")])
    assert result.exit_code == 0, result.output
    return root / "out" / "cv-engineer-junior-ada-lovelace"


@pytest.mark.slow
def test_a_brand_heads_every_page_and_the_candidate_never_sees_the_product(branded: Path, senior_kit: Path) -> None:
    from pypdf import PdfReader

    for name in ("interviewer.pdf", "prescreen.pdf", "screener.pdf"):
        reader = PdfReader(branded / name)
        assert all("Acme Vision Ltd" in page.extract_text() for page in reader.pages), name
        assert all(SECRET not in page.extract_text() for page in reader.pages), name
    for kit in (branded, senior_kit):  # with a brand and without one
        sheet = PdfReader(kit / "prescreen.pdf")
        assert not any("kitgen" in page.extract_text().lower() for page in sheet.pages)
        assert not any("kitgen" in str(value).lower() for value in sheet.metadata.values())
    assert SECRET.encode() not in (branded / "interviewer.pdf").read_bytes()


@pytest.mark.parametrize(("logo", "message"), [
    ("../logo.svg", "is outside the team folder"),
    ("logo.gif", "must be an existing .svg or .png file"),
    ("missing.png", "must be an existing .svg or .png file"),
])
def test_a_logo_must_be_an_image_inside_the_team_folder(run, tmp_path: Path, logo: str, message: str) -> None:
    team = tmp_path / "team"
    team.mkdir()
    (tmp_path / "logo.svg").write_text("<svg xmlns='http://www.w3.org/2000/svg'/>")
    (team / "logo.gif").write_bytes(b"GIF89a")
    (team / "kitgen.yaml").write_text(f"brand:\n  company: Acme\n  logo: {logo}\n")
    result = run("--config", team / "kitgen.yaml", "--role", "cv-engineer", "--level", "junior", "--out", tmp_path / "out")
    assert result.exit_code == 2 and f"kitgen.yaml:3:3: brand logo {logo!r} {message}" in result.stderr
    assert not (tmp_path / "out").exists()


def test_an_extended_role_gets_its_base_roles_reference_card(layered: Library) -> None:
    from kit.manifest import People
    from kit.render import render_documents

    kit = select_kit(layered, "cv-platform-engineer", "senior")
    html = render_documents(layered, [kit], People(), ("0" * 8, "0" * 8))["interviewer"]
    assert "Reference card" in html and "Object detectors" in html  # cv-engineer's sections
