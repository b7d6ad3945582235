"""Scanned and photographed pages of a kit, or of a loop printed as several kits, read into each
printed document's answers: scan.py reads a page, this gathers the pages of every input, knows which
are missing, what a person must settle (review.py), and keeps the pictures of the notes written.

Pages come in any order, any way up, spread over any number of files; a page's code names its kit,
document and page. Where a document's boxes lie is read from that kit's own PDF of it, and only after
checking that the PDF is that kit's: a kit of the same loop is looked for beside the kit folder given.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from kit.errors import KitgenError, Problem
from kit.manifest import MANIFEST_NAME, Manifest, read_manifest
from kit.review import Corrections, Undecided, Unread, Unsettled

if TYPE_CHECKING:  # the scanning extra is imported only when a scan is read
    import numpy as np

    from kit.marks import PageCode
    from kit.scan import Layout

Doc = tuple[str, int]  # a printed document: its kit's id and its index among the kit's documents
MAX_NEIGHBOURS = 1000  # folders beside the kit folder looked through for a kit of its loop


@dataclass
class Document:
    """What the scans say of one printed document."""

    manifest: Manifest
    stage: str | None  # the stage of a plan's packet
    source: Path  # the first file one of its pages was read from
    values: dict[str, str] = field(default_factory=dict)  # answers read, or settled by a person
    corrected: list[str] = field(default_factory=list)  # those settled by a person
    notes: dict[str, bytes] = field(default_factory=dict)  # pictures of the areas written in


class Scans:
    """Every scanned page read for one scoring: ``read`` each file, then ``documents``."""

    def __init__(self, manifest: Manifest, folder: Path, corrections: Corrections | None) -> None:
        self.manifest, self.folder, self.corrections = manifest, folder, corrections
        self._kits: dict[str, tuple[Manifest, Path]] = {manifest.kit_id: (manifest, folder)}
        self._layouts: dict[Doc, Layout] = {}  # where each document's boxes and areas are
        self._seen: dict[tuple[str, int, int], tuple[Path, str]] = {}  # which file holds each page read
        self._documents: dict[Doc, Document] = {}
        self._problems: list[Problem] = []  # what is wrong with the scans as a whole,
        self._undecided: list[Undecided] = []  # answers not read for certain,
        self._unread: list[Unread] = []  # and pages not read at all

    def read(self, path: Path) -> None:
        """Read the pages of one scanned PDF or photo; a page without a kitgen code (a cover) is passed over."""
        try:
            from kit import scan  # noqa: PLC0415 - the scanning extra: OpenCV, NumPy, zxing-cpp
        except ImportError:
            raise KitgenError(f"{path}: reading scans needs the scanning extra: pip install 'kitgen[scan]'") from None
        before = self._pages_met()
        try:
            for label, image in scan.images(path):
                self._page(path, label, image)
        except scan.Unreadable as exc:  # the file itself, not one page of it
            raise KitgenError(f"{path}: {exc}") from None
        if self._pages_met() == before:
            raise KitgenError(f"{path}: neither a filled kitgen packet (no kit manifest attached) nor a scan of one "
                              "(no page shows a kitgen page code)")

    def documents(self) -> list[Document]:
        """Every document read, all inputs together; Unsettled, every page and answer listed, if anything
        could not be read for certain, a page with boxes to tick is missing, or a correction could not
        be applied."""
        unsure = [*self._problems, *(u.problem() for u in self._unread), *(u.problem() for u in self._undecided)]
        if self.corrections:
            unsure += [*self.corrections.problems, *self.corrections.unused()]
        for doc, document in sorted(self._documents.items()):  # a page whose code could not be read is missing
            read = {page for kit_id, index, page in self._seen if (kit_id, index) == doc}
            unsure += [Problem(document.source, None, f"page {page} of {self._printed(doc)} has boxes to tick but is "
                               "not among the scans, or its code cannot be read; give every such page")
                       for page in sorted(set(self._layouts[doc].boxes) - read)]
        if unsure:
            raise Unsettled(unsure, self._undecided, self._unread)
        return list(self._documents.values())  # in the order the inputs first showed them

    def _pages_met(self) -> int:
        return len(self._seen) + len(self._problems) + len(self._unread)

    def _page(self, path: Path, label: str, image: np.ndarray) -> None:
        """Read one page into its document's answers; what cannot be read for certain is kept to be listed."""
        from kit import scan  # noqa: PLC0415

        where = f"{label}: " if label else ""
        try:
            reading = scan.read_page(image, self._layout_of)
        except scan.NoCode:
            return
        except scan.Unreadable as exc:
            self._unread.append(Unread(path, label, str(exc), scan.thumbnail(image)))
            return
        code = reading.code
        doc, printed = (code.kit_id, code.document), self._printed((code.kit_id, code.document))
        if (*doc, code.page) in self._seen:
            first, first_label = self._seen[(*doc, code.page)]
            self._problems.append(Problem(path, None, f"{where}the same page as {first.name} {first_label} (page "
                                          f"{code.page} of {printed}); give each page once"))
            return
        self._seen[(*doc, code.page)] = (path, label)
        manifest = self._kits[code.kit_id][0]
        packets = manifest.packets
        document = self._documents.setdefault(doc, Document(
            manifest, packets[code.document].stage if code.document < len(packets) else None, path))
        document.notes.update(scan.notes(reading, self._layouts[doc].areas.get(code.page, [])))
        for name, marks in reading.groups().items():
            read = scan.answer(marks)
            answer = self.corrections.settle(printed, name, read, read != scan.UNSURE, [m.box.value for m in marks],
                                             f"{path.name} {label}".strip()) if self.corrections else read
            if answer == scan.UNSURE:
                self._undecided.append(Undecided(path, label, printed, code.page, name, tuple(
                    (m.box.value, m.ink, m.verdict) for m in marks), scan.group_picture(reading, marks)))
                continue
            if answer != read:
                document.corrected.append(name)
            if answer is not None:
                document.values[name] = answer

    def _printed(self, doc: Doc) -> str:
        """A document's file, as a person finds it: ``interviewer.pdf`` in the kit folder given, else with
        its own kit folder's name (``cv-engineer-senior-coding/interviewer.pdf``)."""
        manifest, folder = self._kits[doc[0]]
        name = f"{manifest.documents[doc[1]]}.pdf"
        return name if doc[0] == self.manifest.kit_id else f"{folder.name}/{name}"

    def _layout_of(self, code: PageCode) -> Layout:
        """Where a scanned page's boxes are: from its kit's own PDF of the document its code names."""
        from kit import scan  # noqa: PLC0415

        manifest, folder = self._kit(code.kit_id)
        documents, index = manifest.documents, code.document
        if not 0 <= index < len(documents) or documents[index] == "prescreen":
            raise scan.Unreadable(f"document {index} of kit {manifest.kit_id} is not one that is scored")
        if (manifest.kit_id, index) not in self._layouts:
            printed = folder / f"{documents[index]}.pdf"
            if not printed.is_file():
                raise scan.Unreadable(f"{folder} has no {printed.name}, which says where this page's boxes are")
            try:
                owner = read_manifest(printed).kit_id
            except KitgenError:
                owner = None
            if owner != manifest.kit_id:  # boxes placed by another kit's PDF would answer the wrong questions
                raise scan.Unreadable(f"{printed} is not kit {manifest.kit_id}'s own; put the kit's own PDFs back")
            found = scan.layout(printed)
            if not found.boxes:
                raise scan.Unreadable(f"{printed} has no form fields (made with --no-forms), so its boxes "
                                      "cannot be placed; make the kit again without --no-forms")
            self._layouts[manifest.kit_id, index] = found
        return self._layouts[manifest.kit_id, index]

    def _kit(self, kit_id: str) -> tuple[Manifest, Path]:
        """The manifest and folder of kit ``kit_id``: the kit given, or a kit of its loop beside it."""
        from kit import scan  # noqa: PLC0415

        if kit_id not in self._kits and self.manifest.loop:
            for folder in _neighbours(self.folder):
                if kit_id in _head(folder / MANIFEST_NAME):  # cheap: most kits beside it are not this one
                    try:
                        found = read_manifest(folder)
                    except KitgenError:
                        continue
                    if found.kit_id == kit_id and found.loop == self.manifest.loop:
                        self._kits[kit_id] = (found, folder)
                        break
        if kit_id not in self._kits:
            loop = " or of a kit of its loop beside it" if self.manifest.loop else ""
            raise scan.Unreadable(f"a page of kit {kit_id}, not of kit {self.manifest.kit_id}{loop}; "
                                  "score it with its own --kit")
        return self._kits[kit_id]


def _neighbours(folder: Path) -> list[Path]:
    """The kit folders beside ``folder`` (the first MAX_NEIGHBOURS by name); folders that cannot be read are
    passed over, as they cannot hold the kit looked for."""
    try:
        beside = sorted(folder.resolve().parent.iterdir())[:MAX_NEIGHBOURS]
    except OSError:
        return []
    found = []
    for other in beside:
        try:
            if (other / MANIFEST_NAME).is_file():
                found.append(other)
        except OSError:
            continue
    return found


def _head(path: Path) -> str:
    """The start of a manifest, where its kit id is: enough to pass over other kits without parsing them."""
    try:
        with path.open(encoding="utf-8", errors="replace") as file:
            return file.read(4096)
    except OSError:
        return ""
