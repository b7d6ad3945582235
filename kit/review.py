"""A person's word on what a scan could not settle.

When ``kitgen score`` cannot read an answer for certain (two ticks, a mark neither clearly a tick nor
clearly empty) or cannot read a page at all, it scores nothing. It writes ``review.pdf``, a picture of
each such answer's row of boxes and of each such page, and ``corrections.yaml``, one empty line per
answer. Once a person writes there what the paper says, the same command with ``--corrections`` gives
the debrief. A correction settles only an answer the review lists: one that contradicts an answer read
for certain, names no such answer, or names no box of it is refused by line, never applied.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated

from pydantic import StrictInt, StringConstraints

from kit import output
from kit.errors import MAX_PROBLEMS, InputError, KitgenError, Problem
from kit.library import Library
from kit.load import position
from kit.manifest import Manifest
from kit.models import Model

NONE = "none"  # a correction's word for "nothing on this row counts as ticked"
REVIEW = ("review.pdf", "corrections.yaml")
Short = Annotated[str, StringConstraints(max_length=200)]


@dataclass(frozen=True)
class Scanned:
    """Something on one scanned page that a person must see."""

    source: Path  # the file
    label: str  # where in it: "page 3" of a scanned PDF, "" for a photo

    @property
    def where(self) -> str:
        """Which scanned page, for a person: ``scan.pdf, page 3`` or a photo's file name."""
        return f"{self.source.name}, {self.label}" if self.label else self.source.name

    @property
    def message(self) -> str:
        raise NotImplementedError

    def problem(self) -> Problem:
        return Problem(self.source, None, f"{self.label}: {self.message}" if self.label else self.message)


@dataclass(frozen=True)
class Undecided(Scanned):
    """An answer a scan could not settle."""

    document: str  # the printed document's file name, such as "interviewer.pdf"
    page: int  # of the printed document
    field: str  # the answer's form-field name, such as "q:vis-receptive-field"
    boxes: tuple[tuple[str, float, str], ...]  # each box's value, ink share and verdict, in print order
    picture: bytes  # PNG of the row as scanned, each box outlined

    @property
    def why(self) -> str:
        ticked = [value for value, _, verdict in self.boxes if verdict == "ticked"]
        unsure = [value for value, _, verdict in self.boxes if verdict not in ("ticked", "empty")]
        if unsure:
            return f"a mark in box {', '.join(unsure)} is neither clearly a tick nor clearly empty"
        return f"{len(ticked)} boxes look ticked ({', '.join(ticked)})"

    @property
    def choices(self) -> str:
        return f"one of {', '.join(value for value, _, _ in self.boxes)} or {NONE}"

    @property
    def message(self) -> str:
        return f"{self.field}: {self.why}; a person decides it (review.pdf)"


@dataclass(frozen=True)
class Unread(Scanned):
    """A scanned page that could not be read: no answer on it is taken."""

    reason: str
    picture: bytes  # PNG of the page as scanned, small

    @property
    def message(self) -> str:
        return self.reason


class Unsettled(InputError):
    """Scans that cannot be scored yet: every problem, and what of them a person can look at."""

    def __init__(self, problems: list[Problem], undecided: list[Undecided], unread: list[Unread]) -> None:
        super().__init__(problems)
        self.undecided, self.unread = undecided, unread


class CorrectionsFile(Model):
    kit_id: Short
    answers: dict[Short, dict[Short, StrictInt | Short | None] | None] | None = None  # document → answer → value


@dataclass
class Corrections:
    """The values a person gave for answers a scan left undecided (an empty value: not decided yet)."""

    path: Path
    values: dict[tuple[str, str], str]  # (document file name, answer) → box value or NONE
    used: set[tuple[str, str]] = field(default_factory=set)
    problems: list[Problem] = field(default_factory=list)

    def settle(self, document: str, name: str, read: str | None, certain: bool, options: Sequence[str],
               where: str) -> str | None:
        """The answer once corrected: ``read`` unless this file settles it. A correction that names no
        box, or contradicts an answer read for certain, is kept as a problem and not applied."""
        key = (document, name)
        if key not in self.values:
            return read
        self.used.add(key)
        value = self.values[key]
        if value != NONE and value not in options:
            self._problem(key, f"{name}: {value!r} is no box of this answer; write {', '.join(options)} or {NONE}")
        elif certain and (value != NONE or read is not None) and value != read:
            self._problem(key, f"{name}: {where} shows {read or 'no box'} ticked, read for certain; a correction "
                          "settles only an answer review.pdf lists (to change a rating, type it in a score sheet)")
        else:
            return None if value == NONE else value
        return read

    def unused(self) -> list[Problem]:
        """A problem for each correction no scanned answer needed: nothing is applied quietly elsewhere
        (placed by line for as many as are printed)."""
        return [Problem(self.path, position(self.path, ("answers", *key)) if n < MAX_PROBLEMS else None,
                        f"{key[1]}: no scanned page of {key[0]} leaves this answer undecided; remove the line "
                        "(or check the document and answer names against review.pdf)")
                for n, key in enumerate(sorted(set(self.values) - self.used))]

    def _problem(self, key: tuple[str, str], message: str) -> None:
        placed = position(self.path, ("answers", *key)) if len(self.problems) < MAX_PROBLEMS else None
        self.problems.append(Problem(self.path, placed, message))


def read_corrections(path: Path, manifest: Manifest) -> Corrections:
    """The corrections file for the kit being scored."""
    from kit.parse import parse  # noqa: PLC0415

    found = parse(path, CorrectionsFile)
    if found.kit_id.lower() != manifest.kit_id:
        raise InputError([Problem(path, position(path, ("kit_id",)), f"corrections for kit {found.kit_id}, "
                                  f"not kit {manifest.kit_id}; pass the corrections.yaml written for this kit")])
    values = {(document, name): str(value).strip().lower() for document, answers in (found.answers or {}).items()
              for name, value in (answers or {}).items() if value is not None and str(value).strip()}
    return Corrections(path, values)


def corrections_yaml(manifest: Manifest, undecided: list[Undecided]) -> str:
    """The corrections file for ``undecided``: one empty value for each, explained in a comment."""
    lines = [
        f"# kitgen corrections for kit {manifest.kit_id}: the answers its scans did not settle; review.pdf",
        "# shows each. Write after each colon what the paper says: the box that counts, or none if no box",
        "# does. Then run the same kitgen score command again, adding: --corrections <this file>",
        f"kit_id: {json.dumps(manifest.kit_id)}",  # quoted: YAML would read an id of digits as a number
        "answers:" if undecided else "answers: {}",
    ]
    for document in dict.fromkeys(u.document for u in undecided):
        lines.append(f"  {json.dumps(document)}:")  # a folder's name may hold anything YAML reads otherwise
        lines += [f'    {json.dumps(u.field)}:    # page {u.page}: {u.why}; {u.choices}'
                  for u in undecided if u.document == document]
    return "\n".join(lines) + "\n"


def write_review(folder: Path, manifest: Manifest, library: Library, unsettled: Unsettled, force: bool,
                 inputs: Sequence[Path]) -> Problem:
    """Write review.pdf and corrections.yaml for what ``unsettled`` shows a person; the line saying so
    (or why they were not written: kitgen never replaces an input, nor an earlier review without --force)."""
    targets = [folder / name for name in REVIEW]
    if any(t.exists() and p.exists() and t.samefile(p) for t in targets for p in inputs):
        return Problem(folder, None, "review.pdf and corrections.yaml not written again: corrections.yaml is an "
                       "input; the lines below say what is still undecided")
    try:
        output.prepare(folder, list(REVIEW), force)
    except KitgenError as exc:
        return Problem(folder, None, f"review.pdf and corrections.yaml not written: {exc.message}")
    files = {"review.pdf": _review_pdf(manifest, library, unsettled),
             "corrections.yaml": corrections_yaml(manifest, unsettled.undecided).encode()}
    review, corrections = output.write_files(folder, files, force)
    shown = [_count(len(unsettled.undecided), "undecided answer"), _count(len(unsettled.unread), "unread page")]
    then = (f"write what the paper says in {corrections}, then run the same command again with --corrections "
            f"{corrections}") if unsettled.undecided else "see the lines below for each page, then run the same command again"
    return Problem(review, None, f"shows the {' and the '.join(s for s in shown if s)}; {then}")


def _count(n: int, what: str) -> str:
    return "" if n == 0 else f"{what}" if n == 1 else f"{n} {what}s"


def _review_pdf(manifest: Manifest, library: Library, unsettled: Unsettled) -> bytes:
    """The review PDF: each undecided answer's row of boxes and each unread page, as scanned."""
    from kit.pdf import print_with_pictures  # noqa: PLC0415
    from kit.render import asset_roots, render_review  # noqa: PLC0415

    return print_with_pictures(
        lambda urls: render_review(library, manifest, unsettled.undecided, unsettled.unread, urls),
        [item.picture for item in [*unsettled.undecided, *unsettled.unread]], asset_roots(library))
