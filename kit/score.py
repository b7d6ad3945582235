"""``kitgen score``: read filled packets or paper score sheets and compute the debrief.

Inputs are only read, never changed. Each interviewer's rating of a competency is the one
ticked on the scorecard; where that is blank, the mean of their question ratings for it.
"""

from __future__ import annotations

import csv
import io
import logging
import statistics
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from kit.errors import KitgenError
from kit.manifest import MANIFEST_NAME, load_manifest
from kit.library import Library


@dataclass(frozen=True)
class Sheet:
    """One interviewer's ratings for one kit, from a filled packet or a score sheet."""

    source: Path
    kit_id: str | None
    interviewer: str
    competencies: dict[str, int] = field(default_factory=dict)
    questions: dict[str, int] = field(default_factory=dict)
    recommendation: str | None = None


@dataclass(frozen=True)
class Row:
    """One competency of the debrief."""

    id: str
    title: str
    weight: float
    ratings: dict[str, float | None]  # interviewer → rating (None: not rated)
    mean: float | None
    disagreement: bool


@dataclass(frozen=True)
class Debrief:
    manifest: dict[str, Any]
    interviewers: list[str]
    rows: list[Row]
    weighted_total: float | None
    recommendation: str | None
    unrated: list[str]
    foreign: list[str]  # inputs that belong to another kit, left out

    def as_dict(self) -> dict[str, Any]:
        return {
            "kit_id": self.manifest["kit_id"], "role": self.manifest["role"], "level": self.manifest["level"],
            "candidate": self.manifest.get("candidate"), "interviewers": self.interviewers,
            "competencies": [row.__dict__ for row in self.rows],
            "weighted_total": self.weighted_total, "recommendation": self.recommendation,
            "unrated": self.unrated, "foreign": self.foreign,
        }

    def summary(self) -> str:
        """A short terminal table of the debrief."""
        names = self.interviewers
        width = max(len(r.id) for r in self.rows)
        lines = [f"{'competency':<{width}}  weight  " + "  ".join(f"{n[:10]:>10}" for n in names) + "    mean"]
        for row in self.rows:
            cells = "  ".join(f"{'-' if row.ratings[n] is None else f'{row.ratings[n]:g}':>10}" for n in names)
            mean = "-" if row.mean is None else f"{row.mean:.2f}"
            flag = "  ! ratings 2+ apart" if row.disagreement else "  ! nobody rated it" if row.mean is None else ""
            lines.append(f"{row.id:<{width}}  {row.weight:>6g}  {cells}  {mean:>6}{flag}")
        total = "-" if self.weighted_total is None else f"{self.weighted_total:.2f}"
        lines.append(f"weighted total {total} → {self.recommendation or 'no recommendation'}")
        lines += [f"left out (another kit): {source}" for source in self.foreign]
        return "\n".join(lines)


def kit_manifest(path: Path) -> dict[str, Any]:
    """A kit's manifest from its folder, its kit.yaml, or the attachment of one of its PDFs."""
    return _attached_manifest(path) if path.suffix.lower() == ".pdf" else load_manifest(path)


def read_input(path: Path, manifest: dict[str, Any], library: Library) -> Sheet:
    """A filled PDF packet, or a YAML or CSV score sheet."""
    suffix = path.suffix.lower()
    if suffix == ".pdf":
        return read_packet(path, library)
    if suffix in (".yaml", ".yml", ".csv"):
        return read_sheet(path, manifest, library)
    raise KitgenError(f"{path}: expected a filled packet (.pdf) or a score sheet (.yaml, .csv)")


def read_packet(path: Path, library: Library) -> Sheet:
    """Ratings from the form fields of a filled interviewer packet."""
    scale = len(library.rubric.scale)
    fields = _fields(path)
    if not any(name.startswith(("q:", "c:")) for name in fields):
        raise KitgenError(f"{path}: not a kitgen interviewer packet (no rating fields); was it made with --no-forms?")
    manifest = _attached_manifest(path)

    def rating(value: Any) -> int | None:
        text = str(value or "").lstrip("/")
        return int(text) + 1 if text.isdigit() and int(text) < scale else None  # radio value = option index

    ratings = {name: r for name, value in fields.items() if (r := rating(value)) is not None and ":" in name}
    if not ratings:
        raise KitgenError(f"{path}: no ratings are filled in; tick at least the scorecard")
    recommendation = ratings.pop("recommendation", None)
    choices = library.rubric.recommendation
    return Sheet(
        source=path,
        kit_id=manifest["kit_id"],
        interviewer=str(fields.get("interviewer") or "").strip() or manifest.get("interviewer") or path.stem,
        competencies={k[2:]: v for k, v in ratings.items() if k.startswith("c:")},
        questions={k[2:]: v for k, v in ratings.items() if k.startswith("q:")},
        recommendation=choices[recommendation - 1].label if recommendation and recommendation <= len(choices) else None,
    )


def read_sheet(path: Path, manifest: dict[str, Any], library: Library) -> Sheet:
    """Ratings from a paper score sheet typed up as YAML (see blank_sheet) or CSV (id,rating rows)."""
    scale = len(library.rubric.scale)
    try:
        text = path.read_text(encoding="utf-8")
        if path.suffix.lower() == ".csv":
            rows = list(csv.DictReader(io.StringIO(text)))
            data = {"kit_id": manifest["kit_id"], "interviewer": rows[0].get("interviewer") if rows else None,
                    "ratings": {row["id"]: row["rating"] for row in rows if (row.get("rating") or "").strip()}}
        else:
            data = yaml.safe_load(text) or {}
    except (OSError, UnicodeDecodeError, yaml.YAMLError, KeyError, csv.Error) as exc:
        raise KitgenError(f"{path}: cannot read this score sheet ({exc})") from None
    competencies = set(manifest["weights"])
    questions = set(manifest["questions"])
    found: dict[str, dict[str, int]] = {"c": {}, "q": {}}
    for key, value in (data.get("ratings") or {}).items():
        if value in (None, ""):
            continue
        kind = "c" if key in competencies else "q" if key in questions else None
        if kind is None:
            raise KitgenError(f"{path}: unknown id {key!r}; use the competency and question ids of kit {manifest['kit_id']}")
        if not str(value).strip().isdigit() or not 1 <= int(value) <= scale:
            raise KitgenError(f"{path}: rating {value!r} for {key!r} is outside the scale 1–{scale}")
        found[kind][key] = int(value)
    if not found["c"] and not found["q"]:
        raise KitgenError(f"{path}: no ratings are filled in")
    return Sheet(path, str(data.get("kit_id") or "") or None, str(data.get("interviewer") or path.stem),
                 found["c"], found["q"], data.get("recommendation"))


def blank_sheet(manifest: dict[str, Any], library: Library) -> str:
    """The YAML score sheet for one interviewer's paper packet of this kit."""
    lines = [
        f"# kitgen score sheet for kit {manifest['kit_id']}: {manifest['role']}, {manifest['level']}",
        f"# Ratings 1-{len(library.rubric.scale)} ({', '.join(f'{s.rating} {s.label}' for s in library.rubric.scale)}).",
        "# Fill in the scorecard's competency ratings; question ratings are optional. Leave blank what",
        "# you did not rate. Then: kitgen score --kit <kit folder> this-file.yaml [other interviewers...]",
        f"kit_id: {manifest['kit_id']}",
        "interviewer: ",
        "ratings:",
        "  # scorecard",
        *(f"  {cid}:    # {library.competency(cid).title}" for cid in manifest["weights"]),
        "  # questions",
        *(f"  {qid}:" for qid in manifest["questions"]),
    ]
    return "\n".join(lines) + "\n"


def score(manifest: dict[str, Any], library: Library, sheets: list[Sheet]) -> Debrief:
    """Weighted debrief of one candidate's kit across interviewers, with the weights it was printed with."""
    foreign = [str(s.source) for s in sheets if s.kit_id and s.kit_id != manifest["kit_id"]]
    sheets = [s for s in sheets if str(s.source) not in foreign]
    if not sheets:
        raise KitgenError("no packet or score sheet belongs to kit " + manifest["kit_id"])
    names = _unique([s.interviewer for s in sheets])
    rows = []
    for cid, weight in manifest["weights"].items():
        ratings = {name: _rating(sheet, cid, library) for name, sheet in zip(names, sheets)}
        given = [r for r in ratings.values() if r is not None]
        rows.append(Row(cid, library.competency(cid).title, weight, ratings,
                        statistics.fmean(given) if given else None,
                        bool(given) and max(given) - min(given) >= 2))
    rated = [row for row in rows if row.mean is not None]
    total = sum(r.weight * r.mean for r in rated) / sum(r.weight for r in rated) if rated else None  # type: ignore[operator]
    recommendation = next((rec.label for rec in library.rubric.recommendation if total is not None and total >= rec.min), None)
    return Debrief(manifest, names, rows, total, recommendation, [r.id for r in rows if r.mean is None], foreign)


def _rating(sheet: Sheet, competency: str, library: Library) -> float | None:
    if competency in sheet.competencies:
        return float(sheet.competencies[competency])
    asked = [r for qid, r in sheet.questions.items() if qid in library.questions and library.questions[qid].competency == competency]
    return statistics.fmean(asked) if asked else None


def _unique(names: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    result = []
    for name in names:
        seen[name] = seen.get(name, 0) + 1
        result.append(name if seen[name] == 1 else f"{name} ({seen[name]})")
    return result


def _fields(path: Path) -> dict[str, Any]:
    from pypdf import PdfReader  # noqa: PLC0415 - only scoring reads PDFs
    from pypdf.errors import PdfReadError  # noqa: PLC0415

    logging.getLogger("pypdf").setLevel(logging.ERROR)  # WeasyPrint's radio kids repeat their parent's name
    try:
        fields = PdfReader(path).get_fields() or {}
    except (OSError, PdfReadError, ValueError) as exc:
        raise KitgenError(f"{path}: cannot read this PDF ({exc})") from None
    return {name: f.get("/V") for name, f in fields.items() if "." not in name}


def _attached_manifest(path: Path) -> dict[str, Any]:
    from pypdf import PdfReader  # noqa: PLC0415
    from pypdf.errors import PdfReadError  # noqa: PLC0415

    try:
        attached = PdfReader(path).attachments.get(MANIFEST_NAME)
    except (OSError, PdfReadError, ValueError) as exc:
        raise KitgenError(f"{path}: cannot read this PDF ({exc})") from None
    if not attached:
        raise KitgenError(f"{path}: not a kitgen packet (no kit manifest attached)")
    data = yaml.safe_load(attached[0])
    if not isinstance(data, dict) or "kit_id" not in data:
        raise KitgenError(f"{path}: the attached kit.yaml is not a kitgen manifest")
    return data
