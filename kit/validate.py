"""Step 2, validate: turn the merged YAML of all layers into typed models that fit together.

Every problem in every file is collected and reported at once, each with its file, line and column.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from kit import models
from kit.errors import InputError, Problem, unknown
from kit.layers import Layer, builtin_layer
from kit.load import position, read_yaml
from kit.merge import Entry, Source, merge_layers

M = TypeVar("M", bound=BaseModel)

_FIELD_NAMES = sorted(
    {name for model in vars(models).values() if isinstance(model, type) and issubclass(model, BaseModel)
     for name in model.model_fields}
)


@dataclass(frozen=True)
class Library:
    """Everything a kit is made from, merged across layers, with where each entry came from."""

    rubric: models.Rubric
    roles: dict[str, models.Role]
    questions: dict[str, models.Question]  # retired questions are left out
    reference: models.ReferenceCard = models.ReferenceCard(sections=[])
    fairness: tuple[models.FairnessTerm, ...] = ()
    layers: tuple[Layer, ...] = ()
    sources: dict[str, list[Source]] = field(default_factory=dict)  # "question:<id>", "role:<id>", ...

    def competency(self, competency_id: str) -> models.Competency:
        return next(c for c in self.rubric.competencies if c.id == competency_id)

    def lineage(self, role_id: str) -> set[str]:
        """The role and every role it extends: questions tagged for any of them suit it."""
        chain: set[str] = set()
        while role_id in self.roles and role_id not in chain:
            chain.add(role_id)
            role_id = self.roles[role_id].extends or ""
        return chain


def load_library(layers: list[Layer] | None = None) -> Library:
    """Load, merge and check every layer's files (kitgen's own when no layers are given)."""
    layers = layers or [builtin_layer()]
    merged, problems = merge_layers(layers)
    entries = merged.entries

    def build(kind: str, model: type[M]) -> dict[str, M]:
        built = {key: _model(entry, model, kind, problems) for key, entry in entries[kind].items()}
        return {key: value for key, value in built.items() if value is not None}

    questions = build("question", models.Question)
    competencies = build("competency", models.Competency)
    roles = build("role", models.Role)
    sections = build("section", models.ReferenceSection)
    terms = build("term", models.FairnessTerm)
    parts = {name: _part(merged.parts.get(name), name, layers, problems) for name in ("scale", "recommendation")}

    if None not in parts.values():  # the scale is needed to check anchors against it
        rubric = models.Rubric.model_construct(competencies=list(competencies.values()), **parts)
        problems += _cross_check(rubric, entries, roles, questions)
    if problems:
        raise InputError(problems)
    return Library(
        rubric=rubric,
        roles=roles,
        questions={key: q for key, q in questions.items() if not q.retired},
        reference=models.ReferenceCard(sections=list(sections.values())),
        fairness=tuple(terms.values()),
        layers=tuple(layers),
        sources={f"{kind}:{key}": entry.sources for kind, group in entries.items() for key, entry in group.items()},
    )


def parse(path: Path, model: type[M]) -> M:
    """Read one file straight into ``model`` (used for files that are not layered, like kitgen.yaml)."""
    data = read_yaml(path)
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise InputError([Problem(path, position(path, err["loc"]), _message(err, "")) for err in exc.errors()]) from None


def _model(entry: Entry, model: type[M], kind: str, problems: list[Problem]) -> M | None:
    try:
        return model.model_validate(entry.data)
    except ValidationError as exc:
        label = f"{kind} {entry.data.get('id')!r}: "
        problems += [entry.problem(tuple(err["loc"]), _message(err, label)) for err in exc.errors()]
    return None


def _part(entry: Entry | None, name: str, layers: list[Layer], problems: list[Problem]) -> Any:
    """The rating scale or the recommendation scale, checked; the bottom layer must give both."""
    if entry is None:
        first = layers[0].rubrics[0] if layers[0].rubrics else Path("rubric.yaml")
        problems.append(Problem(first, None, f"no `{name}` in any rubric file; the bottom layer must define it"))
        return None
    try:
        return getattr(models.RubricFile.model_validate(entry.data), name)
    except ValidationError as exc:
        problems += [entry.problem(tuple(err["loc"]), _message(err, "")) for err in exc.errors()]
    return None


def _message(err: Any, label: str) -> str:
    """One plain sentence for a pydantic error, naming the field and how to fix it."""
    loc = [str(part) for part in err["loc"]]
    kind = err["type"]
    if kind == "extra_forbidden":
        near = difflib.get_close_matches(loc[-1], _FIELD_NAMES, n=1)
        hint = f"; did you mean {near[0]!r}?" if near else "; remove it"
        return f"{label}unknown key {loc[-1]!r}{hint}"
    if kind == "missing":
        return f"{label}required key {loc[-1]!r} is missing"
    where = ".".join(loc) + ": " if loc else ""
    if kind == "string_pattern_mismatch":
        return f"{label}{where}use lowercase letters, digits and hyphens only (like vis-receptive-field)"
    return f"{label}{where}{err['msg'].removeprefix('Value error, ')}"


def _cross_check(
    rubric: models.Rubric,
    entries: dict[str, dict[str, Entry]],
    roles: dict[str, models.Role],
    questions: dict[str, models.Question],
) -> Iterator[Problem]:
    """References between entries: the competencies and roles named must exist; anchors fit the scale."""
    competencies = [c.id for c in rubric.competencies]
    ratings = [step.rating for step in rubric.scale]
    role_ids = sorted(roles)
    for comp in rubric.competencies:
        entry = entries["competency"][comp.id]
        if sorted(comp.anchors) != ratings:
            yield entry.problem(("anchors",), f"competency {comp.id!r}: needs one anchor for each rating {ratings}")
        for level, anchors in comp.level_anchors.items():
            if not set(anchors) <= set(ratings):
                yield entry.problem(("level_anchors", level), f"competency {comp.id!r}: ratings must be among {ratings}")
    for role in roles.values():
        entry = entries["role"][role.id]
        weighed = [w.id for w in role.competencies]
        for index, weight in enumerate(role.competencies):
            yield from _missing(entry, ("competencies", index), [weight.id], "competency", competencies)
        for index, stage in enumerate(role.plan):
            yield from _missing(entry, ("plan", index, "competencies"), stage.competencies, "competency the role weighs", weighed)
        uncovered = set(weighed) - {c for stage in role.plan for c in stage.competencies}
        if role.plan and uncovered:
            yield entry.problem(("plan",), f"role {role.id!r}: no stage of its plan covers {', '.join(sorted(uncovered))}")
    for question in questions.values():
        entry = entries["question"][question.id]
        yield from _missing(entry, ("competency",), [question.competency], "competency", competencies)
        yield from _missing(entry, ("roles",), question.roles, "role", role_ids)
        if question.anchors and not set(question.anchors) <= set(ratings):
            yield entry.problem(("anchors",), f"question {question.id!r}: anchor ratings must be among {ratings}")
    for key, entry in entries["section"].items():
        yield from _missing(entry, ("roles",), entry.data.get("roles", []), "role", role_ids)


def _missing(entry: Entry, loc: tuple[str | int, ...], values: list[str], what: str, valid: list[str]) -> Iterator[Problem]:
    """A problem for each of ``values`` that is not in ``valid``, at ``loc`` of ``entry``."""
    for value in values:
        if value not in valid:
            yield entry.problem(loc, f"{entry.data.get('id')!r}: " + unknown(what, value, valid))
