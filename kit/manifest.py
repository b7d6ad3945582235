"""The kit manifest: the record of what a kit holds, and the short kit id derived from it."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from kit import __version__
from kit.select import Kit


@dataclass(frozen=True)
class People:
    """Who the kit is for; blank lines are printed for what is not known."""

    candidate: str | None = None
    interviewer: str | None = None
    date: str | None = None


def manifest(kit: Kit, people: People) -> dict[str, Any]:
    """The manifest written beside the PDFs as ``kit.yaml``; its hash is the kit id."""
    record: dict[str, Any] = {
        "kitgen": __version__,
        "role": kit.role.id,
        "level": kit.level,
        "seed": kit.seed,
        "candidate": people.candidate,
        "interviewer": people.interviewer,
        "date": people.date,
        "weights": {w.id: w.weight for w in kit.role.competencies},
        "questions": [q.id for q in kit.questions],
        "prescreen": [q.id for q in kit.prescreen],
    }
    digest = hashlib.sha256(json.dumps(record, sort_keys=True).encode()).hexdigest()
    return {"kit_id": digest[:8], **record}
