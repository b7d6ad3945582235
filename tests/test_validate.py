"""Broken YAML in any layer: every problem is one line with its file, line and column, and exit code 2."""

from __future__ import annotations

from pathlib import Path

import pytest

from kit.errors import InputError
from kit.validate import load_library
from tests.conftest import QUICK_START, Team

GOOD = """\
questions:
  - id: test-one
    competency: vision
    kind: technical
    roles: [cv-engineer]
    levels: [senior]
    minutes: 5
    text: What does a pooling layer do?
    guidance: [Reduces spatial size, Adds some translation invariance, Has no weights]
    follow_ups: [When would you avoid it?]
    red_flags: [Says it learns weights]
    level_note: Explaining a building block is senior warm-up work.
"""


def problems(team: Team) -> list[str]:
    with pytest.raises(InputError) as caught:
        team.library()
    return [str(p) for p in caught.value.problems]


def test_built_in_bank_is_valid() -> None:
    library = load_library()
    assert {"cv-engineer", "nlp-engineer", "dl-engineer", "dl-scientist"} <= set(library.roles)


def test_malformed_yaml_names_file_line_and_column(team: Team) -> None:
    path = team.write("questions/extra.yaml", GOOD.replace("    minutes: 5\n", "    minutes: [5\n"))
    (found,) = problems(team)
    assert found.startswith(f"{path}:8:9: not valid YAML") and "flow sequence" in found


def test_duplicate_key_is_refused(team: Team) -> None:
    path = team.write("questions/extra.yaml", GOOD.replace("    minutes: 5\n", "    minutes: 5\n    minutes: 6\n"))
    assert problems(team) == [f"{path}:8:5: not valid YAML: key 'minutes' is given twice in this mapping; fix the syntax there"]


def test_schema_errors_name_field_line_and_column_and_are_all_reported(team: Team) -> None:
    broken = GOOD.replace("    guidance:", "    gudiance:").replace("minutes: 5", "minutes: five")
    second = GOOD.replace("test-one", "test-two").replace("    kind: technical\n", "").removeprefix("questions:\n")
    path = team.write("questions/extra.yaml", broken + second)
    assert problems(team) == [
        f"{path}:7:5: question 'test-one': minutes: Input should be a valid integer, unable to parse string as an integer",
        f"{path}:9:5: question 'test-one': unknown key 'gudiance'; did you mean 'guidance'?",
        f"{path}:13:5: question 'test-two': required key 'kind' is missing",
    ]


def test_unknown_top_level_key(team: Team) -> None:
    path = team.write("questions/extra.yaml", GOOD.replace("questions:", "question:"))
    assert problems(team) == [f"{path}:1:1: unknown key 'question'; did you mean 'questions'? (valid: questions)"]


def test_interview_question_needs_red_flags(team: Team) -> None:
    path = team.write("questions/extra.yaml", GOOD.replace("    red_flags: [Says it learns weights]\n", ""))
    assert problems(team) == [f"{path}:2:5: question 'test-one': an interview question needs at least one entry in red_flags"]


def test_unknown_competency_and_role(team: Team) -> None:
    path = team.write("questions/extra.yaml",
                      GOOD.replace("competency: vision", "competency: visoin").replace("[cv-engineer]", "[cv-engineer, ml-wizard]"))
    found = problems(team)
    assert found[0].startswith(f"{path}:3:5: 'test-one': unknown competency 'visoin'; did you mean 'vision'?")
    assert found[1].startswith(f"{path}:5:5: 'test-one': unknown role 'ml-wizard'")


def test_duplicate_question_id_within_a_layer(team: Team) -> None:
    first = team.write("questions/a.yaml", GOOD)
    second = team.write("questions/b.yaml", GOOD)
    assert problems(team) == [f"{second}:2:5: question id 'test-one' is already used in {first}; give one of them a new id"]


def test_role_weighing_an_undefined_competency(team: Team) -> None:
    path = team.write("roles/ops.yaml", "id: ops-engineer\nextends: cv-engineer\ncompetencies:\n  - {id: mlops, weight: 2}\n")
    found = problems(team)
    assert found[0].startswith(f"{path}:4:5: 'ops-engineer': unknown competency 'mlops'")
    assert found[1].endswith("role 'ops-engineer': no stage of its plan covers mlops")  # the inherited plan


def test_role_extending_an_unknown_role(team: Team) -> None:
    path = team.write("roles/ops.yaml", "id: ops-engineer\nextends: cv-enginer\n")
    (found,) = problems(team)
    assert found.startswith(f"{path}:2:1: role 'ops-engineer': unknown role 'cv-enginer'; did you mean 'cv-engineer'?")


def test_rubric_scale_must_have_no_middle(team: Team) -> None:
    path = team.write("rubric.yaml", "scale:\n" + "".join(f"  - {{rating: {n}, label: L{n}, meaning: M{n}}}\n" for n in (1, 2, 3)))
    (found,) = problems(team)
    assert found.startswith(f"{path}:1:1: scale: the scale needs an even number of points: no neutral middle")


def test_competency_anchor_for_a_rating_the_scale_lacks(team: Team) -> None:
    path = team.write("rubric.yaml", "competencies:\n  - id: vision\n    level_anchors:\n      senior: {5: Beyond the scale}\n")
    (found,) = problems(team)
    assert found.startswith(f"{path}:4:7: competency 'vision': ratings must be among [1, 2, 3, 4]")


REFERENCE = """\
sections:
  - id: acts
    title: Activations
    roles: [cv-engineer]
    columns: [Name, Range]
    rows:
      - [ReLU, '[0, inf)']
      - [Sigmoid, '(0, 1)']
"""


def test_reference_card_rows_must_fit_columns(team: Team) -> None:
    path = team.write("reference.yaml", REFERENCE.replace("[Sigmoid, '(0, 1)']", "[Sigmoid]"))
    assert problems(team) == [f"{path}:2:5: section 'acts': row 2 has 1 cells but there are 2 columns"]


def test_reference_card_roles_must_exist(team: Team) -> None:
    path = team.write("reference.yaml", REFERENCE.replace("[cv-engineer]", "[cv-engineer, ml-wizard]"))
    (found,) = problems(team)
    assert found.startswith(f"{path}:4:5: 'acts': unknown role 'ml-wizard'")


def test_config_naming_a_missing_folder(team: Team) -> None:
    team.config.write_text("banks: [questions, more-questions]\n")
    (found,) = problems(team)
    assert found == f"{team.config}:1:20: banks: 'more-questions' does not exist"


def test_config_with_a_typo(team: Team) -> None:
    team.config.write_text("bankz: [questions]\n")
    (found,) = problems(team)
    assert found == f"{team.config}:1:1: unknown key 'bankz'; did you mean 'banks'?"


def test_cli_reports_a_broken_team_layer_with_exit_2_and_no_kit(run, team: Team, tmp_path: Path) -> None:
    path = team.write("questions/extra.yaml", GOOD.replace("    guidance:", "    gudiance:"))
    result = run("--config", team.config, *QUICK_START, "--out", tmp_path / "out")
    assert result.exit_code == 2
    assert result.stderr.strip() == f"Error: {path}:9:5: question 'test-one': unknown key 'gudiance'; did you mean 'guidance'?"
    assert not (tmp_path / "out").exists()
