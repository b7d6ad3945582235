"""The kit manifest: the record of what a kit holds, and the short kit id derived from it."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from kit import __version__
from kit.errors import KitgenError
from kit.select import Kit

MANIFEST_NAME = "kit.yaml"


@dataclass(frozen=True)
class People:
    """Who the kit is for; blank lines are printed for what is not known."""

    candidate: str | None = None
    interviewer: str | None = None
    date: str | None = None


def manifest(kits: list[Kit], people: People) -> dict[str, Any]:
    """The manifest written beside the PDFs as ``kit.yaml`` and attached to them; its hash is the kit id.

    ``questions`` lists every interview question of the kit; a plan also lists, per packet,
    its stage, the competencies it scores and its questions.
    """
    first = kits[0]
    record: dict[str, Any] = {
        "kitgen": __version__,
        "role": first.role.id,
        "level": first.level,
        "seed": first.seed,
        "candidate": people.candidate,
        "interviewer": people.interviewer,
        "date": people.date,
        "weights": {w.id: w.weight for w in first.role.competencies},
        "questions": [q.id for kit in kits for q in kit.questions],
        "prescreen": [q.id for q in first.prescreen],
    }
    if first.stage:
        record["packets"] = [{"name": kit.name, "stage": kit.stage.id if kit.stage else None,
                              "competencies": [w.id for w in kit.weights], "questions": [q.id for q in kit.questions]}
                             for kit in kits]
    digest = hashlib.sha256(json.dumps(record, sort_keys=True).encode()).hexdigest()
    return {"kit_id": digest[:8], **record}


def load_manifest(path: Path) -> dict[str, Any]:
    """A kit's manifest from its folder or its ``kit.yaml``."""
    file = path / MANIFEST_NAME if path.is_dir() else path
    try:
        data = yaml.safe_load(file.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise KitgenError(f"{file}: cannot read the kit manifest ({exc}); give a kit folder or its kit.yaml") from None
    if not isinstance(data, dict) or "kit_id" not in data or "questions" not in data:
        raise KitgenError(f"{file}: not a kitgen kit manifest (no kit_id or questions)")
    return data


def used_questions(paths: Iterable[Path]) -> set[str]:
    """Every question of the kits at ``paths``: manifests, kit folders, or folders of kits."""
    used: set[str] = set()
    for path in paths:
        manifests = sorted(path.rglob(MANIFEST_NAME)) if path.is_dir() and not (path / MANIFEST_NAME).is_file() else [path]
        if not manifests:
            raise KitgenError(f"{path}: no kit manifests (kit.yaml) found to avoid")
        for found in manifests:
            data = load_manifest(found)
            used.update(data["questions"], data.get("prescreen", []))
    return used
