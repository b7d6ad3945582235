"""The kit manifest: the record of what a kit holds, the ids derived from it, and its one reader.

A manifest is written beside the PDFs as ``kit.yaml`` and attached to the interviewer's
documents; the candidate's prescreen sheet carries only :class:`SheetRecord`, what is printed
on it. Every id is a hash of the record it names, so a reader recomputes it and refuses a
manifest that was edited after printing.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import yaml
from pydantic import Field, StringConstraints

from kit import __version__
from kit.errors import KitgenError
from kit.models import Id, Level, Model

if TYPE_CHECKING:
    from kit.select import Kit

MANIFEST_NAME = "kit.yaml"
SHEET_NAME = "prescreen.yaml"  # the prescreen sheet's attachment

Digest = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{8}$")]
NAME_LENGTH = 200  # characters of a person's name, wherever one is given
Name = Annotated[str, StringConstraints(max_length=NAME_LENGTH)]


@dataclass(frozen=True)
class People:
    """Who the kit is for; blank lines are printed for what is not known."""

    candidate: str | None = None
    interviewer: str | None = None
    date: str | None = None


class Packet(Model):
    """One interviewer's packet of a plan: its stage, the competencies it scores, its questions."""

    name: Annotated[str, StringConstraints(pattern=r"^interviewer(-[a-z0-9-]+)?$")]
    stage: Id | None
    competencies: list[Id]
    questions: list[Id]


class Manifest(Model):
    """What a kit holds. ``kit_id`` hashes the rest; ``loop`` hashes the whole interview plan, so
    packets of one plan printed stage by stage (``--stage``) share it and are scored together."""

    kit_id: Digest
    kitgen: str
    role: Id
    level: Level
    seed: int
    candidate: Name | None
    interviewer: Name | None
    date: Name | None
    weights: dict[Id, Annotated[float, Field(gt=0, le=1000)]] = Field(min_length=1, max_length=100)
    questions: list[Id] = Field(max_length=1000)
    prescreen: list[Id] = Field(max_length=100)
    packets: list[Packet] = Field([], max_length=100)
    loop: Digest | None = None

    def check_id(self, where: Path) -> Manifest:
        """This manifest, if it hashes to its ``kit_id``; else the edit is refused."""
        if digest(self.model_dump(mode="json", exclude={"kit_id"})) != self.kit_id:
            raise KitgenError(f"{where}: the kit manifest does not match its kit id {self.kit_id} "
                              "(it was edited after printing); score with the kit folder's own kit.yaml")
        return self

    @property
    def documents(self) -> list[str]:
        """The kit's documents in the order they are printed, by file name without ``.pdf``: the index a
        page's QR code gives (marks.py)."""
        return [*([p.name for p in self.packets] or ["interviewer"]), "prescreen", "screener"]

    @property
    def group(self) -> str:
        """What packets are scored together by: the loop of a plan, else the kit."""
        return self.loop or self.kit_id


class SheetRecord(Model):
    """The prescreen sheet's attachment: only what the candidate sees on it, and its own id."""

    sheet_id: Digest
    kitgen: str
    role: Id
    candidate: Name | None
    date: Name | None
    prescreen: list[Id] = Field(max_length=100)


def digest(record: dict[str, object]) -> str:
    """The short id of a record: the first 8 hex digits of the SHA-256 of its canonical JSON."""
    return hashlib.sha256(json.dumps(record, sort_keys=True, ensure_ascii=False).encode()).hexdigest()[:8]


def manifest(kits: list[Kit], people: People, plan: list[Kit] | None = None) -> Manifest:
    """The manifest of ``kits`` (one kit, or packets of a plan); ``plan`` is the whole plan they come from."""
    first = kits[0]
    record: dict[str, object] = {
        "kitgen": __version__, "role": first.role.id, "level": first.level, "seed": first.seed,
        "candidate": people.candidate, "interviewer": people.interviewer, "date": people.date,
        "weights": {w.id: w.weight for w in first.role.weights_for(first.level)},
        "questions": [q.id for kit in kits for q in kit.questions],
        "prescreen": [q.id for q in first.prescreen],
        "packets": [_packet(kit) for kit in kits] if first.stage else [],
        "loop": None,
    }
    if plan:  # the stages of one loop may have different interviewers and dates
        record["loop"] = digest({**record, "interviewer": None, "date": None,
                                 "questions": [q.id for kit in plan for q in kit.questions],
                                 "packets": [_packet(kit) for kit in plan]})
    return Manifest.model_validate({"kit_id": digest(record), **record})


def sheet_record(manifest: Manifest) -> SheetRecord:
    """What the prescreen sheet may carry: nothing of the interview (ids, weights, level, interviewer)."""
    record = {"kitgen": manifest.kitgen, "role": manifest.role, "candidate": manifest.candidate,
              "date": manifest.date, "prescreen": manifest.prescreen}
    return SheetRecord.model_validate({"sheet_id": digest(record), **record})


def dump(model: Manifest | SheetRecord) -> bytes:
    """The YAML of a manifest, as written to ``kit.yaml`` and attached to PDFs."""
    return yaml.safe_dump(model.model_dump(mode="json"), sort_keys=False, allow_unicode=True).encode()


def _packet(kit: Kit) -> dict[str, object]:
    return {"name": kit.name, "stage": kit.stage.id if kit.stage else None,
            "competencies": [w.id for w in kit.weights], "questions": [q.id for q in kit.questions]}


def read_manifest(path: Path) -> Manifest:
    """The one reader of manifests: a kit folder, its ``kit.yaml``, or a PDF's attachment.

    Everything goes through the bounded YAML loader and the strict model; the kit id is
    recomputed. Anything wrong is one line naming the file (and line) and how to fix it.
    """
    from kit.parse import parse_yaml  # noqa: PLC0415 - pydantic only when a manifest is read

    if path.suffix.lower() == ".pdf":
        from kit.pdfread import attachment  # noqa: PLC0415 - only readers of PDFs pay for pypdf

        text = attachment(path, MANIFEST_NAME)
        if text is None:
            raise KitgenError(f"{path}: not a kitgen interviewer document (no kit manifest attached)")
        return parse_yaml(path, text, Manifest).check_id(path)
    file = path / MANIFEST_NAME if path.is_dir() else path
    try:
        if file.stat().st_size > 1024 * 1024:
            raise KitgenError(f"{file}: too large to be a kit manifest (over 1 MB)")
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise KitgenError(f"{file}: cannot read the kit manifest ({getattr(exc, 'strerror', None) or exc}); "
                          "give a kit folder or its kit.yaml") from None
    return parse_yaml(file, text, Manifest).check_id(file)


def verify_kit(folder: Path) -> Manifest:
    """The manifest of a kit folder whose documents all agree with it: every interviewer document it
    lists carries it, the prescreen sheet carries its record. KitgenError for a missing or damaged part."""
    from kit.parse import parse_yaml  # noqa: PLC0415
    from kit.pdfread import attachment  # noqa: PLC0415

    record = read_manifest(folder)
    documents = [p.name for p in record.packets] or ["interviewer"]
    for name in [*documents, "screener", *(["calibration"] if (folder / "calibration.pdf").exists() else [])]:
        if read_manifest(folder / f"{name}.pdf").kit_id != record.kit_id:
            raise KitgenError(f"{folder / name}.pdf belongs to another kit than {folder / MANIFEST_NAME}")
    sheet = folder / "prescreen.pdf"
    text = attachment(sheet, SHEET_NAME)
    if text is None or parse_yaml(sheet, text, SheetRecord) != sheet_record(record):
        raise KitgenError(f"{sheet} is not the prescreen sheet of {folder / MANIFEST_NAME}")
    return record


def used_questions(paths: Iterable[Path]) -> set[str]:
    """Every question of the kits at ``paths``: manifests, kit folders, or folders of kits."""
    used: set[str] = set()
    for path in paths:
        manifests = sorted(m for m in path.rglob(MANIFEST_NAME) if not any(  # not in kitgen's hidden temporary folders
            part.startswith(".") for part in m.relative_to(path).parts)) \
            if path.is_dir() and not (path / MANIFEST_NAME).is_file() else [path]
        if not manifests:
            raise KitgenError(f"{path}: no kit manifests (kit.yaml) found to avoid")
        for found in manifests:
            record = read_manifest(found)
            used.update(record.questions, record.prescreen)
    return used
