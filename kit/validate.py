"""Step 2, validate: turn the merged YAML of all layers into typed models that fit together.

Every problem in every file is collected and reported at once, each with its file, line and column.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from kit import models
from kit.errors import InputError, Problem, unknown
from kit.layers import Layer, builtin_layer
from kit.library import Library
from kit.merge import Entry, merge_layers
from kit.parse import message

M = TypeVar("M", bound=BaseModel)


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
    parts = {name: _part(merged.parts.get(name), name, layers, problems) for name in ("scale", "recommendation", "decision", "screening")}

    if None not in parts.values():  # the scale is needed to check anchors against it
        rubric = models.Rubric.model_construct(competencies=list(competencies.values()), **parts)
        problems += _cross_check(rubric, entries, roles, questions)
        problems += _unknown_caps(rubric, merged.parts["decision"])
    if problems:
        raise InputError(problems)
    return Library(
        rubric=rubric,
        roles=roles,
        questions={key: q for key, q in questions.items() if not q.retired and _on_stack(q, layers)},
        reference=models.ReferenceCard(sections=list(sections.values())),
        fairness=tuple(terms.values()),
        layers=tuple(layers),
        sources={f"{kind}:{key}": entry.sources for kind, group in entries.items() for key, entry in group.items()},
    )


def _on_stack(question: models.Question, layers: list[Layer]) -> bool:
    """Whether the question suits the team's frameworks (the top layer that names a stack decides)."""
    stack = next((layer.stack for layer in reversed(layers) if layer.stack is not None), None)
    return question.stack is None or stack is None or question.stack in stack


def _model(entry: Entry, model: type[M], kind: str, problems: list[Problem]) -> M | None:
    try:
        return model.model_validate(entry.data)
    except ValidationError as exc:
        label = f"{kind} {entry.data.get('id')!r}: "
        problems += [entry.problem(tuple(err["loc"]), message(err, label)) for err in exc.errors()]
    return None


def _part(entry: Entry | None, name: str, layers: list[Layer], problems: list[Problem]) -> Any:
    """A part of the rubric (scale, recommendation, decision, screening), checked; the bottom layer gives each."""
    if entry is None:
        first = layers[0].rubrics[0] if layers[0].rubrics else Path("rubric.yaml")
        problems.append(Problem(first, None, f"no `{name}` in any rubric file; the bottom layer must define it"))
        return None
    try:
        return getattr(models.RubricFile.model_validate(entry.data), name)
    except ValidationError as exc:
        problems += [entry.problem(tuple(err["loc"]), message(err, "")) for err in exc.errors()]
    return None


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
        for level, plan in role.levels.items():
            yield from _missing(entry, ("levels", level, "weights"), list(plan.weights), "competency the role weighs", weighed)
        uncovered = set(weighed) - {c for stage in role.plan for c in stage.competencies}
        if role.plan and uncovered:
            yield entry.problem(("plan",), f"role {role.id!r}: no stage of its plan covers {', '.join(sorted(uncovered))}")
    for question in questions.values():
        entry = entries["question"][question.id]
        yield from _missing(entry, ("competency",), [question.competency], "competency", competencies)
        yield from _missing(entry, ("roles",), question.roles, "role", role_ids)
        for field in ("anchors", "samples"):
            if not set(getattr(question, field) or {}) <= set(ratings):
                yield entry.problem((field,), f"question {question.id!r}: {field} ratings must be among {ratings}")
    for key, entry in entries["section"].items():
        yield from _missing(entry, ("roles",), entry.data.get("roles", []), "role", role_ids)


def _unknown_caps(rubric: models.Rubric, decision: Entry) -> list[Problem]:
    """Each cap of the decision rules must name a recommendation label."""
    labels = [rec.label for rec in rubric.recommendation]
    return [decision.problem(("decision", "caps", index, "cap"), unknown("recommendation label", cap.cap, labels))
            for index, cap in enumerate(rubric.decision.caps) if not rubric.label(cap.cap)]


def _missing(entry: Entry, loc: tuple[str | int, ...], values: list[str], what: str, valid: list[str]) -> Iterator[Problem]:
    """A problem for each of ``values`` that is not in ``valid``, at ``loc`` of ``entry``."""
    for value in values:
        if value not in valid:
            yield entry.problem(loc, f"{entry.data.get('id')!r}: " + unknown(what, value, valid))
