"""Step 2, validate: turn loaded YAML into typed models and check that they fit together.

Every problem in every file is collected and reported at once, each with its file and line.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ValidationError

from kit import models
from kit.assets import asset_dir
from kit.errors import InputError, Problem, unknown
from kit.load import line_of, read_yaml, yaml_files

M = TypeVar("M", bound=BaseModel)
T = TypeVar("T")

_FIELD_NAMES = sorted(
    {name for model in vars(models).values() if isinstance(model, type) and issubclass(model, BaseModel)
     for name in model.model_fields}
)


@dataclass(frozen=True)
class Library:
    """Everything a kit is made from: the rubric, the role profiles and the question bank."""

    rubric: models.Rubric
    roles: dict[str, models.Role]
    questions: dict[str, models.Question]
    reference: models.ReferenceCard = models.ReferenceCard(sections=[])

    def competency(self, competency_id: str) -> models.Competency:
        return next(c for c in self.rubric.competencies if c.id == competency_id)


def load_library(questions_dir: Path | None = None, rubrics_dir: Path | None = None) -> Library:
    """Load and check the banks and rubrics (kitgen's own unless folders are given)."""
    questions_dir = questions_dir or asset_dir("questions")
    rubrics_dir = rubrics_dir or asset_dir("rubrics")
    missing = [Problem(d, None, "no such folder; check the path") for d in (questions_dir, rubrics_dir) if not d.is_dir()]
    if missing:
        raise InputError(missing)
    problems: list[Problem] = []
    rubric = _parse(rubrics_dir / "rubric.yaml", models.Rubric, problems)

    roles: dict[str, _Sourced[models.Role]] = {}
    for path in yaml_files(rubrics_dir / "roles") if (rubrics_dir / "roles").is_dir() else []:
        role = _parse(path, models.Role, problems)
        if role:
            _add(roles, role.id, _Sourced(role, path, ()), "role", problems)
    if not roles and not problems:
        problems.append(Problem(rubrics_dir / "roles", None, "no role profiles found; add a <role>.yaml file"))

    questions: dict[str, _Sourced[models.Question]] = {}
    for path in yaml_files(questions_dir):
        bank = _parse(path, models.QuestionFile, problems)
        for index, question in enumerate(bank.questions if bank else []):
            _add(questions, question.id, _Sourced(question, path, ("questions", index)), "question", problems)

    reference_path = rubrics_dir / "reference.yaml"
    reference = _parse(reference_path, models.ReferenceCard, problems) if reference_path.is_file() else None
    sections = [_Sourced(s, reference_path, ("sections", i)) for i, s in enumerate(reference.sections if reference else [])]

    if rubric:
        problems += _cross_check(rubric, roles, questions, sections)
    if problems:
        raise InputError(problems)
    assert rubric is not None
    return Library(rubric, {k: v.item for k, v in roles.items()}, {k: v.item for k, v in questions.items()},
                   reference or models.ReferenceCard(sections=[]))


@dataclass(frozen=True)
class _Sourced(Generic[T]):
    """A model with the file and YAML path it came from, for error messages."""

    item: T
    path: Path
    loc: tuple[str | int, ...]

    def problem(self, loc: tuple[str | int, ...], message: str) -> Problem:
        return Problem(self.path, line_of(self.path, self.loc + loc), message)


def _add(found: dict[str, _Sourced[T]], key: str, entry: _Sourced[T], what: str, problems: list[Problem]) -> None:
    if key in found:
        first = found[key]
        problems.append(entry.problem(("id",), f"{what} id {key!r} is already used in {first.path}; give one of them a new id"))
    else:
        found[key] = entry


def _parse(path: Path, model: type[M], problems: list[Problem]) -> M | None:
    """Validate one file into ``model``; record its problems with line numbers and return None on failure."""
    try:
        data = read_yaml(path)
        return model.model_validate(data)
    except InputError as exc:
        problems += exc.problems
    except ValidationError as exc:
        problems += [Problem(path, line_of(path, err["loc"]), _message(err, data)) for err in exc.errors()]
    return None


def _message(err: Any, data: Any) -> str:
    """One plain sentence for a pydantic error, naming the field and how to fix it."""
    loc = err["loc"]
    kind = err["type"]
    if kind == "extra_forbidden":
        key = str(loc[-1])
        near = difflib.get_close_matches(key, _FIELD_NAMES, n=1)
        hint = f"; did you mean {near[0]!r}?" if near else "; remove it"
        return f"{_where(loc[:-1], data)}: unknown key {key!r}{hint}"
    if kind == "missing":
        return f"{_where(loc[:-1], data)}: required key {str(loc[-1])!r} is missing"
    if kind == "string_pattern_mismatch":
        return f"{_where(loc, data)}: use lowercase letters, digits and hyphens only (like vis-receptive-field)"
    return f"{_where(loc, data)}: {err['msg'].removeprefix('Value error, ')}"


def _where(loc: tuple[Any, ...], data: Any) -> str:
    """A readable path such as ``questions[3] (vis-pooling).guidance``."""
    text, node = "", data
    for part in loc:
        node = node[part] if isinstance(node, (dict, list)) and _has(node, part) else None
        text += f"[{part}]" if isinstance(part, int) else f".{part}"
        if isinstance(part, int) and isinstance(node, dict) and isinstance(node.get("id"), str):
            text += f" ({node['id']})"
    return text.lstrip(".") or "top level"


def _has(node: dict[Any, Any] | list[Any], part: Any) -> bool:
    return part in node if isinstance(node, dict) else isinstance(part, int) and part < len(node)


def _cross_check(
    rubric: models.Rubric,
    roles: dict[str, _Sourced[models.Role]],
    questions: dict[str, _Sourced[models.Question]],
    sections: list[_Sourced[models.ReferenceSection]],
) -> Iterator[Problem]:
    """References between files: the competencies and roles named must exist."""
    competencies = [c.id for c in rubric.competencies]
    role_ids = sorted(roles)
    for role in roles.values():
        for index, weight in enumerate(role.item.competencies):
            yield from _missing(role, ("competencies", index), [weight.id], "competency", competencies)
    for entry in questions.values():
        yield from _missing(entry, ("competency",), [entry.item.competency], "competency", competencies)
        yield from _missing(entry, ("roles",), entry.item.roles, "role", role_ids)
    for entry in sections:
        yield from _missing(entry, ("roles",), entry.item.roles, "role", role_ids)


def _missing(
    entry: _Sourced[Any], loc: tuple[str | int, ...], values: list[str], what: str, valid: list[str]
) -> Iterator[Problem]:
    """A problem for each of ``values`` that is not in ``valid``, at ``loc`` of ``entry``."""
    kind = type(entry.item).__name__.lower().replace("referencesection", "reference section")
    for value in values:
        if value not in valid:
            yield entry.problem(loc, f"{kind} {entry.item.id!r}: " + unknown(what, value, valid))
