"""Read YAML into a strict model: every problem as one line naming the file, line and column.

Used for files that are not layered (a team's kitgen.yaml, kit manifests, score sheets); the
layered banks and rubrics go through merge.py and validate.py, with the same messages.
"""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from kit import models
from kit.errors import MAX_PROBLEMS, InputError, Problem
from kit.load import parse_text, position_in, read_yaml

M = TypeVar("M", bound=BaseModel)

_FIELD_NAMES = sorted(
    {name for model in vars(models).values() if isinstance(model, type) and issubclass(model, BaseModel)
     for name in model.model_fields}
)


def parse(path: Path, model: type[M]) -> M:
    """Read one YAML file straight into ``model``."""
    data = read_yaml(path)
    return validated(path, data, model, lambda: path.read_text(encoding="utf-8"))


def parse_yaml(path: Path, text: str, model: type[M]) -> M:
    """YAML ``text`` from ``path`` (a file, or a PDF's attachment named after its PDF) into ``model``."""
    return validated(path, parse_text(path, text), model, lambda: text)


def validated(path: Path, data: Any, model: type[M], text: Any) -> M:
    """``data`` as ``model``; ``text()`` gives the YAML source, read only to place an error."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        source, errors = text(), exc.errors()
        placed = [Problem(path, position_in(source, err["loc"]), message(err, "")) for err in errors[:MAX_PROBLEMS]]
        raise InputError(placed, more=len(errors) - len(placed)) from None


def message(err: Any, label: str) -> str:
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
