"""The layout audit: what a printed kitgen page must never show, read back from the PDF with PyMuPDF.

Every text line, drawn path and form field of every page is checked against the page's content box
(print.css's @page margins): nothing outside it but the running header and footer, no two text lines
over each other, no page left with a lone heading or row, each question's notes area at least
``LINES_PER_MINUTE`` ruled lines per minute of question time, and the scorecard on one page.
The test suite runs it on a few kits; ``bench/audit.py`` runs the whole matrix.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import re

import pymupdf

MM = 72 / 25.4
MARGINS_MM = (20, 16, 18, 16)  # top, right, bottom, left: print.css's @page margin
TOLERANCE = 1.0  # points: glyph boxes include a little ascent and descent
LINE_PITCH = 6 * MM  # one ruled line of a notes area
LINES_PER_MINUTE = 1.0
NOTES_LABEL = re.compile(r"NOTES ON Q\d+: WHAT THE CANDIDATE SAID AND DID")
BLANK = "intentionally blank"


@dataclass(frozen=True)
class Defect:
    document: str
    page: int  # 1-based
    kind: str
    detail: str

    def __str__(self) -> str:
        return f"{self.document} page {self.page}: {self.kind}: {self.detail}"


@dataclass(frozen=True)
class Line:
    rect: pymupdf.Rect
    text: str


def content_box(page: pymupdf.Page) -> pymupdf.Rect:
    top, right, bottom, left = (m * MM for m in MARGINS_MM)
    return pymupdf.Rect(left, top, page.rect.width - right, page.rect.height - bottom)


def text_lines(page: pymupdf.Page) -> list[Line]:
    lines = []
    for block in page.get_text("dict")["blocks"]:
        for line in block.get("lines", []):
            text = "".join(span["text"] for span in line["spans"]).strip()
            if text:
                lines.append(Line(pymupdf.Rect(line["bbox"]), text))
    return lines


def audit_pdf(path: Path, minutes: dict[str, int] | None = None, name: str | None = None) -> list[Defect]:
    """Every defect of one PDF; ``minutes`` (question id to minutes) turns on the notes check."""
    name = name or path.name
    with pymupdf.open(path) as doc:
        pages = [(content_box(page), text_lines(page), page) for page in doc]
        defects = [d for number, (box, lines, page) in enumerate(pages, 1)
                   for d in _page_defects(name, number, box, lines, page)]
        if minutes:
            defects += _notes_defects(name, [(box, lines) for box, lines, _ in pages], minutes)
        defects += _scorecard_defects(name, [lines for _, lines, _ in pages])
    return defects


def _page_defects(name: str, number: int, box: pymupdf.Rect, lines: list[Line],
                  page: pymupdf.Page) -> Iterator[Defect]:
    def at(kind: str, detail: str) -> Defect:
        return Defect(name, number, kind, detail)

    inner = box + (-TOLERANCE, -TOLERANCE, TOLERANCE, TOLERANCE)
    # The running header and footer sit in the middle of their margins; a line between them and the
    # content box is body text that spilled out of it.
    header = box.y0 - MARGINS_MM[0] * MM / 4
    footer = box.y1 + MARGINS_MM[2] * MM / 4
    body = [line for line in lines if line.rect.y1 > header and line.rect.y0 < footer]
    for band, inside in (("header", lambda r: r.y1 <= header), ("footer", lambda r: r.y0 >= footer)):
        extra = [line.text for line in lines if inside(line.rect)]
        if len(extra) > 2:
            yield at(f"text in the {band}", " | ".join(extra))
    for line in body:
        if not inner.contains(line.rect):
            yield at("text outside the content box", repr(line.text[:60]))
    for drawing in page.get_drawings():
        rect = pymupdf.Rect(drawing["rect"])
        if not rect.is_empty and not inner.contains(rect) and rect.intersects(box):
            yield at("drawing outside the content box", f"{[round(v) for v in rect]}")
    for widget in page.widgets():
        if not inner.contains(widget.rect):
            yield at("form field outside the content box", widget.field_name or "")
    for first, second in _overlapping(body):
        yield at("text lines overlap", f"{first.text[:40]!r} / {second.text[:40]!r}")
    continued = not body and len(page.get_drawings()) >= 3  # answer lines running on from the page before
    if number > 1 and len(body) <= 2 and not page.first_widget and not continued and not any(
            BLANK in line.text or NOTES_LABEL.fullmatch(line.text) for line in body):
        yield at("a page holding only a heading or a lone row", " | ".join(line.text for line in body) or "empty")


def _overlapping(lines: list[Line]) -> Iterator[tuple[Line, Line]]:
    ordered = sorted(lines, key=lambda line: line.rect.y0)
    for index, first in enumerate(ordered):
        for second in ordered[index + 1:]:
            if second.rect.y0 >= first.rect.y1:
                break
            overlap = first.rect & second.rect
            smaller = min(first.rect.height, second.rect.height)
            if not overlap.is_empty and overlap.height > 0.3 * smaller and overlap.width > 1:
                yield first, second


def _notes_defects(name: str, pages: list[tuple[pymupdf.Rect, list[Line]]], minutes: dict[str, int]) -> Iterator[Defect]:
    """Each question's notes area, from its label to the foot of the page, against its minutes."""
    flat = [(number, box, line) for number, (box, lines) in enumerate(pages, 1) for line in lines]
    for qid, wanted in minutes.items():
        start = next((i for i, (_, _, line) in enumerate(flat) if line.text.endswith(qid) and " min " in line.text), None)
        if start is None:
            continue  # not in this document
        label = next(((n, box, line) for n, box, line in flat[start:] if NOTES_LABEL.fullmatch(line.text)), None)
        if label is None:
            yield Defect(name, flat[start][0], "no notes area", qid)
            continue
        number, box, line = label
        lines = (box.y1 - line.rect.y1) / LINE_PITCH
        if lines < LINES_PER_MINUTE * wanted:
            yield Defect(name, number, "notes area too small", f"{qid}: {lines:.1f} lines for {wanted} min")


def _scorecard_defects(name: str, pages: list[list[Line]]) -> Iterator[Defect]:
    def page_of(text: str) -> int | None:
        return next((n for n, lines in enumerate(pages, 1)
                     if any(line.text == text or line.text.startswith(text + " ") for line in lines)), None)

    start = page_of("Scorecard")
    if start is None:
        return
    for part in ("Justification", "Signed"):
        where = page_of(part)
        if where != start:
            yield Defect(name, where or start, "scorecard split over pages", f"{part!r} on page {where}, scorecard on {start}")
