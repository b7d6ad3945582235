"""Broken banks and rubrics: every problem is one line with its file and line, and exit code 2."""

from __future__ import annotations

from pathlib import Path

import pytest

from kit.errors import InputError
from kit.validate import load_library
from tests.conftest import QUICK_START

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


def problems(bank: Path, rubrics: Path) -> list[str]:
    with pytest.raises(InputError) as caught:
        load_library(bank, rubrics)
    return [str(p) for p in caught.value.problems]


def write(bank: Path, text: str) -> Path:
    path = bank / "zz-test.yaml"
    path.write_text(text)
    return path


def test_built_in_bank_is_valid() -> None:
    library = load_library()
    assert {"cv-engineer", "nlp-engineer", "dl-engineer", "dl-scientist"} <= set(library.roles)


def test_malformed_yaml_names_file_and_line(bank_copy) -> None:
    bank, rubrics = bank_copy
    path = write(bank, GOOD.replace("    minutes: 5\n", "    minutes: [5\n"))
    (found,) = problems(bank, rubrics)
    assert found.startswith(f"{path}:8: not valid YAML") and "flow sequence" in found


def test_duplicate_key_is_refused(bank_copy) -> None:
    bank, rubrics = bank_copy
    path = write(bank, GOOD.replace("    minutes: 5\n", "    minutes: 5\n    minutes: 6\n"))
    assert problems(bank, rubrics) == [f"{path}:8: not valid YAML: key 'minutes' is given twice in this mapping; fix the syntax there"]


def test_schema_errors_name_field_and_line_and_are_all_reported(bank_copy) -> None:
    bank, rubrics = bank_copy
    broken = GOOD.replace("    guidance:", "    gudiance:").replace("minutes: 5", "minutes: five")
    second = GOOD.replace("test-one", "test-two").replace("    kind: technical\n", "").removeprefix("questions:\n")
    path = write(bank, broken + second)
    assert problems(bank, rubrics) == [
        f"{path}:7: questions[0] (test-one).minutes: Input should be a valid integer, unable to parse string as an integer",
        f"{path}:9: questions[0] (test-one): unknown key 'gudiance'; did you mean 'guidance'?",
        f"{path}:13: questions[1] (test-two): required key 'kind' is missing",
    ]


def test_interview_question_needs_guidance(bank_copy) -> None:
    bank, rubrics = bank_copy
    path = write(bank, GOOD.replace("    red_flags: [Says it learns weights]\n", ""))
    assert problems(bank, rubrics) == [f"{path}:2: questions[0] (test-one): an interview question needs at least one entry in red_flags"]


def test_unknown_competency_and_role(bank_copy) -> None:
    bank, rubrics = bank_copy
    path = write(bank, GOOD.replace("competency: vision", "competency: visoin").replace("[cv-engineer]", "[cv-engineer, ml-wizard]"))
    found = problems(bank, rubrics)
    assert found[0].startswith(f"{path}:3: question 'test-one': unknown competency 'visoin'; did you mean 'vision'?")
    assert found[1].startswith(f"{path}:5: question 'test-one': unknown role 'ml-wizard'")


def test_duplicate_question_id(bank_copy) -> None:
    bank, rubrics = bank_copy
    write(bank, GOOD)
    second = bank / "zz-twice.yaml"
    second.write_text(GOOD)
    assert problems(bank, rubrics) == [
        f"{second}:2: question id 'test-one' is already used in {bank / 'zz-test.yaml'}; give one of them a new id"
    ]


def test_role_weighing_an_undefined_competency(bank_copy) -> None:
    bank, rubrics = bank_copy
    role = rubrics / "roles" / "cv-engineer.yaml"
    role.write_text(role.read_text().replace("{id: production, weight: 1}", "{id: mlops, weight: 1}"))
    (found,) = problems(bank, rubrics)
    assert found.startswith(f"{role}:") and "unknown competency 'mlops'" in found


def test_rubric_scale_must_have_no_middle(bank_copy) -> None:
    bank, rubrics = bank_copy
    path = rubrics / "rubric.yaml"
    text = path.read_text()
    cut = text.index("  - rating: 4")
    path.write_text(text[:cut] + text[text.index("recommendation:"):])
    assert any("even number of points" in p for p in problems(bank, rubrics))


def test_cli_reports_bad_bank_with_exit_2_and_no_traceback(run, bank_copy, tmp_path: Path) -> None:
    bank, rubrics = bank_copy
    path = write(bank, GOOD.replace("gudiance", "x").replace("    guidance:", "    gudiance:"))
    result = run("--bank", bank, "--rubrics", rubrics, *QUICK_START, "--out", tmp_path / "out")
    assert result.exit_code == 2
    assert result.stderr.strip() == f"Error: {path}:9: questions[0] (test-one): unknown key 'gudiance'; did you mean 'guidance'?"
    assert not (tmp_path / "out").exists()


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


def test_reference_card_rows_must_fit_columns(bank_copy) -> None:
    bank, rubrics = bank_copy
    path = rubrics / "reference.yaml"
    path.write_text(REFERENCE.replace("[Sigmoid, '(0, 1)']", "[Sigmoid]"))
    assert problems(bank, rubrics) == [f"{path}:2: sections[0] (acts): row 2 has 1 cells but there are 2 columns"]


def test_reference_card_roles_must_exist(bank_copy) -> None:
    bank, rubrics = bank_copy
    path = rubrics / "reference.yaml"
    path.write_text(REFERENCE.replace("[cv-engineer]", "[cv-engineer, ml-wizard]"))
    (found,) = problems(bank, rubrics)
    assert found.startswith(f"{path}:4: reference section 'acts': unknown role 'ml-wizard'")
