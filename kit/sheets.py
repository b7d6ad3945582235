"""What each interviewer said: filled packets, typed-up score sheets and marked screener keys, read
into verdicts against the kit (or loop) being scored.

Every input is untrusted: sheets go through the bounded YAML loader and strict models, packets
through pdfread.py, and every problem is one line naming the file (and line) and the fix.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

from pydantic import Field, StrictInt, StringConstraints, ValidationError, model_validator

from kit.errors import MAX_PROBLEMS, InputError, KitgenError, Problem
from kit.library import Library
from kit.manifest import NAME_LENGTH, Manifest, read_manifest
from kit.models import Model
from kit.parse import message
from kit.review import Corrections

if TYPE_CHECKING:
    from kit.scanned import Scans

MAX_SHEET_BYTES = 1024 * 1024  # a full panel's sheet is a few kB
SCAN_SUFFIXES = (".png", ".jpg", ".jpeg")  # photos and single scanned pages; scanned PDFs are told apart by content
Words = Annotated[str, StringConstraints(max_length=20_000)]
Score = StrictInt | Annotated[str, StringConstraints(max_length=100)] | None  # checked against the scale, by line


@dataclass(frozen=True)
class Verdict:
    """One interviewer's ratings and words, from one packet or one entry of a score sheet."""

    source: Path
    name: str
    group: str  # the loop or kit id it scores
    stage: str | None = None
    competencies: dict[str, int] = field(default_factory=dict)
    questions: dict[str, int] = field(default_factory=dict)
    recommendation: str | None = None
    justification: str | None = None
    red_flags: tuple[str, ...] = ()
    label: str = ""  # the name, told apart from others of the same name
    corrected: tuple[str, ...] = ()  # answers a scan left undecided and a person settled (review.py)
    notes: dict[str, bytes] = field(default_factory=dict, repr=False)  # areas written in, as scanned (PNG)


@dataclass(frozen=True)
class Screen:
    """The prescreen marked on the screener key: points per prescreen question."""

    source: Path
    group: str
    points: dict[str, int]
    corrected: tuple[str, ...] = ()




class SheetEntry(Model):
    """One interviewer on a typed-up score sheet."""

    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=NAME_LENGTH)]
    recommendation: Words | StrictInt | None = None
    justification: Words | None = None
    red_flags: list[str] = []
    ratings: dict[str, Score] = {}


class SheetFile(Model):
    """A YAML score sheet: one interviewer at the top level, or several under ``interviewers``."""

    kit_id: Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{8}$")]
    interviewer: str | None = None
    recommendation: Words | StrictInt | None = None
    justification: Words | None = None
    red_flags: list[str] = []
    ratings: dict[str, Score] = {}
    interviewers: list[SheetEntry] = []
    points: dict[str, Score] = Field({}, description="Prescreen points, typed up from the screener key.")

    @model_validator(mode="after")
    def _one_form(self) -> SheetFile:
        if self.points and (self.ratings or self.interviewers):
            raise ValueError("a sheet holds either prescreen `points` or interview `ratings`; use two sheets")
        if self.interviewers and (self.interviewer or self.ratings):
            raise ValueError("give either `interviewer` and `ratings`, or a list of `interviewers`, not both")
        if not self.interviewers and not (self.interviewer or "").strip():
            raise ValueError("name the interviewer: `interviewer: <name>`")
        return self

    def entries(self) -> list[SheetEntry]:
        if self.interviewers:
            return list(self.interviewers)
        return [SheetEntry(name=self.interviewer or "", recommendation=self.recommendation,
                           justification=self.justification, red_flags=self.red_flags, ratings=self.ratings)]


class Reader:
    """Turns inputs into verdicts against the kit (or loop) being scored."""

    def __init__(self, manifest: Manifest, library: Library, folder: Path | None = None,
                 corrections: Corrections | None = None) -> None:
        self.manifest, self.library, self.rubric, self.folder = manifest, library, library.rubric, folder
        self.corrections = corrections  # a person's word on answers an earlier reading left undecided
        self.scans: Scans | None = None  # pages read from scans and photos, once there are some
        self.scale = len(library.rubric.scale)
        self.manifests: dict[str, Manifest] = {manifest.kit_id: manifest}  # kits of the loop seen so far

    def read(self, path: Path) -> list[Verdict | Screen]:
        suffix = path.suffix.lower()
        if suffix in SCAN_SUFFIXES or (suffix == ".pdf" and _scanned(path)):
            return self.scan(path)
        if suffix == ".pdf":
            return [self.packet(path)]
        if suffix in (".yaml", ".yml"):
            return self.yaml_sheet(path)
        if suffix == ".csv":
            return self.csv_sheet(path)
        raise KitgenError(f"{path}: expected a filled packet or a scan (.pdf, .png, .jpg) or a score sheet (.yaml, .csv)")

    def packet(self, path: Path) -> Verdict | Screen:
        """Ratings, recommendation, justification and red flags from a filled packet's form fields,
        or the points ticked on a screener key."""
        from kit.pdfread import form_values, printed_id  # noqa: PLC0415 - only packets need pypdf

        attached = read_manifest(path)
        if printed_id(path) != attached.kit_id:
            raise KitgenError(f"{path}: the attached manifest's kit id {attached.kit_id} is not the one printed "
                              "on the packet; score with the kit folder's own kit.yaml (--kit)")
        if attached.group != self.manifest.group:
            return Verdict(path, "", attached.group)
        if attached.kit_id in self.manifests and self.manifests[attached.kit_id] != attached:
            raise KitgenError(f"{path}: its manifest differs from kit {attached.kit_id}'s; it was edited")
        self.manifests[attached.kit_id] = attached
        return self._from_fields(path, attached, form_values(path))

    def _from_fields(self, path: Path, attached: Manifest, values: dict[str, str], stage: str | None = None
                     ) -> Verdict | Screen:
        """A verdict (or the prescreen's points) from one document's fields, filled in or read from a scan;
        the stage of a plan's packet is found from what it rates, unless known (a scanned page's code
        names its packet)."""
        if any(name.startswith("p:") for name in values):
            return self._screen(path, attached.group, {k[2:]: v for k, v in values.items() if k.startswith("p:")},
                                _raising(path))
        ratings = {name: self._rating(path, name, value) for name, value in values.items() if name[:2] in ("q:", "c:")}
        stage = stage or self._stage(path, attached, ratings)
        if not ratings:
            raise KitgenError(f"{path}: no ratings are filled in; tick at least the scorecard "
                              "(or, on a screener key, the points)")
        name = (values.get("interviewer") or attached.interviewer or path.stem).strip()
        if len(name) > NAME_LENGTH:
            raise KitgenError(f"{path}: the interviewer's name is {len(name)} characters long; shorten it to {NAME_LENGTH}")
        choice = values.get("recommendation")
        return Verdict(
            source=path, name=name,
            group=attached.group, stage=stage,
            competencies={k[2:]: v for k, v in ratings.items() if k.startswith("c:")},
            questions={k[2:]: v for k, v in ratings.items() if k.startswith("q:")},
            recommendation=self._recommendation(path, choice) if choice else None,
            justification=(values.get("justification") or "").strip() or None,
            red_flags=tuple(sorted(name[5:] for name, value in values.items() if name.startswith("flag:") and value)),
        )

    def scan(self, path: Path) -> list[Verdict | Screen]:
        """Read the scanned or photographed pages in ``path``; their verdicts come from ``scanned`` once
        every input is read, since one packet's pages may be spread over several photos."""
        if self.folder is None:
            raise KitgenError(f"{path}: a scan carries no kit; pass --kit with the kit folder it was printed from")
        if self.scans is None:
            from kit.scanned import Scans  # noqa: PLC0415

            self.scans = Scans(self.manifest, self.folder, self.corrections)
        self.scans.read(path)
        return []

    def scanned(self) -> list[Verdict | Screen]:
        """One verdict per document read from scans (raises review.Unsettled when some cannot be read for
        certain): the same as a packet filled in on screen, with what a person settled and the notes."""
        if self.scans is None:  # corrections with no scan to settle are refused, not passed over
            if unused := self.corrections.unused() if self.corrections else []:
                raise InputError(unused)
            return []
        verdicts: list[Verdict | Screen] = []
        for document in self.scans.documents():
            found = replace(self._from_fields(document.source, document.manifest, document.values, document.stage),
                            corrected=tuple(document.corrected))
            verdicts.append(replace(found, notes=document.notes) if isinstance(found, Verdict) else found)
        return verdicts

    def yaml_sheet(self, path: Path) -> list[Verdict | Screen]:
        from kit.parse import parse_yaml  # noqa: PLC0415

        text = _text(path)
        sheet = parse_yaml(path, text, SheetFile)
        if sheet.kit_id != self.manifest.kit_id and sheet.kit_id not in self.manifests:
            return [Verdict(path, "", sheet.kit_id)]
        found: list[tuple[tuple[Any, ...], str]] = []  # placed in the file only when reported, at most MAX_PROBLEMS
        verdicts: list[Verdict | Screen] = []
        if sheet.points:
            verdicts.append(self._screen(path, self.manifest.group, sheet.points, lambda loc, msg: found.append((loc, msg))))
        for index, entry in enumerate(sheet.entries() if not sheet.points else []):
            base = ("interviewers", index) if sheet.interviewers else ()
            verdicts.append(self._entry(path, entry, lambda loc, msg, base=base: found.append(((*base, *loc), msg))))
        if found:
            raise InputError([_at(path, text, loc, msg) for loc, msg in found[:MAX_PROBLEMS]],
                             more=max(0, len(found) - MAX_PROBLEMS))
        return verdicts

    def csv_sheet(self, path: Path) -> list[Verdict]:
        """Rows ``interviewer,id,rating[,text]``: one interviewer or several; every bad row reported at once.

        ``id`` is a competency or question id (rating 1..scale), ``recommendation`` (its label or row),
        ``justification`` (the text column, or the rating column), or ``red_flag`` (a question id).
        """
        reader = csv.DictReader(io.StringIO(_text(path)))
        columns = [c.strip().lower() for c in reader.fieldnames or []]
        if not {"interviewer", "id", "rating"} <= set(columns):
            raise KitgenError(f"{path}:1: a score sheet needs the columns interviewer,id,rating[,text]")
        reader.fieldnames = columns
        entries: dict[str, dict[str, Any]] = {}
        lines: dict[tuple[str, tuple[str, ...]], int] = {}
        try:
            for row in reader:
                values = {k: (v or "").strip() for k, v in row.items() if isinstance(k, str)}
                name, key, rating = values.get("interviewer", ""), values.get("id", ""), values.get("rating", "")
                if not any(values.values()):
                    continue
                entry = entries.setdefault(name, {"name": name, "ratings": {}, "red_flags": []})
                if key == "recommendation":
                    entry["recommendation"], loc = rating, ("recommendation",)
                elif key == "justification":
                    entry["justification"], loc = values.get("text") or rating, ("justification",)
                elif key == "red_flag":
                    entry["red_flags"].append(rating)
                    loc = ("red_flags", len(entry["red_flags"]) - 1)
                else:
                    number = small_number(rating)
                    entry["ratings"][key] = (rating or None) if number is None else number
                    loc = ("ratings", key)
                lines[(name, loc)] = reader.line_num
        except csv.Error as exc:
            raise KitgenError(f"{path}:{reader.line_num}: not valid CSV ({exc})") from None
        problems: list[Problem] = []
        verdicts = []
        for name, data in entries.items():
            def report(loc: tuple[Any, ...], message: str, name: str = name) -> None:
                line = lines.get((name, loc[:2])) or lines.get((name, loc[:1]))
                problems.append(Problem(path, (line, 1) if line else None, message))
            if not name:
                report(("ratings",), "a row without an interviewer; fill in the interviewer column")
                continue
            try:
                entry = SheetEntry.model_validate(data)
            except ValidationError as exc:
                for err in exc.errors():
                    report(tuple(err["loc"]), f"{name}: {message(err, '')}")
                continue
            verdicts.append(self._entry(path, entry, report))
        if problems:
            raise InputError(problems)
        if not verdicts:
            raise KitgenError(f"{path}: no ratings are filled in")
        return verdicts

    def _entry(self, path: Path, entry: SheetEntry, report: Any) -> Verdict:
        """One interviewer's sheet entry checked against the kit: ids, scale, labels."""
        competencies = set(self.manifest.weights)
        questions = {q for m in self.manifests.values() for q in m.questions}
        found: dict[str, dict[str, int]] = {"c": {}, "q": {}}
        given = [value for value in entry.ratings.values() if value is not None]
        for key, value in entry.ratings.items():
            if value is None:
                continue
            kind = "c" if key in competencies else "q" if key in questions else None
            if kind is None:
                report(("ratings", key), f"unknown id {key!r}; use the competency and question ids of kit "
                                         f"{self.manifest.kit_id}")
            elif isinstance(value, str) or not 1 <= value <= self.scale:
                report(("ratings", key), f"rating {value!r} for {key!r} is outside the scale 1–{self.scale}")
            else:
                found[kind][key] = value
        for index, flag in enumerate(entry.red_flags):
            if flag not in questions:
                report(("red_flags", index), f"red flag for unknown question {flag!r}; use a question id of the kit")
        recommendation = None
        if entry.recommendation is not None and str(entry.recommendation).strip():
            recommendation = self._label(str(entry.recommendation))
            if recommendation is None:
                report(("recommendation",), f"unknown recommendation {entry.recommendation!r}; use one of "
                                            + ", ".join(rec.label for rec in self.rubric.recommendation))
        if not given:
            report(("ratings",), f"{entry.name}: no ratings are filled in")
        return Verdict(path, entry.name, self.manifest.group, None, found["c"], found["q"], recommendation,
                       (entry.justification or "").strip() or None, tuple(entry.red_flags))

    def _screen(self, path: Path, group: str, points: dict[str, Any], report: Any) -> Screen:
        """Prescreen points checked against the kit's prescreen questions and the screening scale."""
        most = self.rubric.screening.points
        found = {}
        for qid, value in points.items():
            if value is None:
                continue
            if qid not in self.manifest.prescreen:
                report(("points", qid), f"unknown prescreen question {qid!r}; use the ids on the screener key")
            elif (number := small_number(str(value))) is None or not 0 <= number <= most:
                report(("points", qid), f"points {value!r} for {qid!r} are outside 0–{most}")
            else:
                found[qid] = number
        if not found:
            report(("points",), "no prescreen points are filled in")
        return Screen(path, group, found)

    def _rating(self, path: Path, name: str, value: str) -> int:
        number = small_number(value)
        if number is None or not 1 <= number <= self.scale:
            raise KitgenError(f"{path}: field {name!r} holds {value[:20]!r}, not a rating 1–{self.scale}")
        return number

    def _recommendation(self, path: Path, choice: str) -> str:
        label = self._label(choice)
        if label is None:
            raise KitgenError(f"{path}: the recommendation field holds {choice[:20]!r}, which is not one of its rows")
        return label

    def _label(self, value: str) -> str | None:
        """A recommendation given as its label (any case) or its row number."""
        recs = self.rubric.recommendation
        if (row := small_number(value.strip())) is not None:
            return recs[row - 1].label if 1 <= row <= len(recs) else None
        found = self.rubric.label(value)
        return found.label if found else None

    def _stage(self, path: Path, attached: Manifest, ratings: dict[str, int]) -> str | None:
        """The stage of a plan's packet, found from the questions it rates (a plan prints one packet per stage)."""
        if not attached.packets:
            return None
        if len(attached.packets) == 1:
            return attached.packets[0].stage
        rated = {name[2:] for name in ratings}
        stages = {p.stage for p in attached.packets if rated & {*p.questions, *p.competencies}}
        if len(stages) > 1:
            raise KitgenError(f"{path}: ratings from {len(stages)} stages in one packet file; give each stage's packet")
        return stages.pop() if stages else None


def small_number(text: str) -> int | None:
    """``text`` as a whole number of at most four ASCII digits (a rating, points, a row), else None."""
    return int(text) if text.isascii() and text.isdigit() and len(text) <= 4 else None


def _raising(path: Path) -> Callable[[tuple[Any, ...], str], None]:
    """A problem reporter for packets: the first problem ends the run (a PDF has no lines to list)."""
    def report(_loc: tuple[Any, ...], message: str) -> None:
        raise KitgenError(f"{path}: {message}")
    return report


def _text(path: Path) -> str:
    try:
        if path.stat().st_size > MAX_SHEET_BYTES:
            raise KitgenError(f"{path}: larger than {MAX_SHEET_BYTES // 2**20} MB; not a score sheet")
        return path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise KitgenError(f"{path}: cannot read this score sheet ({getattr(exc, 'strerror', None) or exc})") from None


def _at(path: Path, text: str, loc: tuple[Any, ...], message: str) -> Problem:
    from kit.load import position_in  # noqa: PLC0415

    return Problem(path, position_in(text, loc), message)


def blank_sheet(manifest: Manifest, library: Library) -> str:
    """The YAML score sheet for one interviewer's paper packet of this kit."""
    rubric = library.rubric
    lines = [
        f"# kitgen score sheet for kit {manifest.kit_id}: {manifest.role}, {manifest.level}",
        f"# Ratings 1-{len(rubric.scale)} ({', '.join(f'{s.rating} {s.label}' for s in rubric.scale)}).",
        "# Fill in the scorecard's competency ratings; question ratings are optional. Leave blank what",
        "# you did not rate. Then: kitgen score --kit <kit folder> this-file.yaml [other interviewers...]",
        f"kit_id: {manifest.kit_id}",
        "interviewer: ",
        f"recommendation:    # one of: {', '.join(rec.label for rec in rubric.recommendation)}",
        "justification: |",
        "  ",
        "red_flags: []    # ids of questions where you saw a red flag, e.g. [" + (manifest.questions or ["q-id"])[0] + "]",
        "ratings:",
        "  # scorecard",
        *(f"  {cid}:    # {library.competency(cid).title}" for cid in manifest.weights),
        "  # questions",
        *(f"  {qid}:" for qid in manifest.questions),
    ]
    return "\n".join(lines) + "\n"


def _scanned(path: Path) -> bool:
    """Whether a PDF is a scan (pages as images, no kitgen manifest) rather than a filled packet."""
    from kit.manifest import MANIFEST_NAME  # noqa: PLC0415
    from kit.pdfread import attachment  # noqa: PLC0415 - only readers of PDFs pay for pypdf

    try:
        return attachment(path, MANIFEST_NAME) is None
    except KitgenError:
        return True  # pypdf cannot read it (a scanner's encrypted PDF, say): PDFium, which draws scans, may
