"""Marks that let a scanned or photographed page be read back: four corner squares to find the page and
undo rotation, scale and perspective, and a QR code naming the kit, the document and the page.

They go on every page of an interviewer's document that holds tick boxes or notes, in the margins, clear
of the running header and footer, drawn as vector squares marked as artifacts (not content, for screen
readers). The geometry is fixed in millimetres from the page's corners, so a reader knows where to
look on both papers.
"""

from __future__ import annotations

import hashlib
import io
import re
import zlib
from dataclasses import dataclass, replace

import pikepdf
import segno

MM = 72 / 25.4
CORNER = 5.0  # mm: the side of each corner square
INSET = 6.0  # mm: from the page's edges to the squares (inside what printers can print)
MODULE = 0.5  # mm: one QR module; the code (version 2) is 25 modules, 12.5 mm, inside the 18 mm bottom margin
QR_BOTTOM = 4.0  # mm: from the page's bottom edge to the code, centred across the page
PREFIX = "KG"


CODE = re.compile(r"KG:([0-9A-F]{8}):([0-9]{1,2}):([0-9]{1,4}):([0-9A-F]{4})")


@dataclass(frozen=True)
class PageCode:
    """What a page's QR code holds: the kit, the document's index among the kit's documents, the page,
    and the fingerprint of the document's layout (where its boxes and areas are, :func:`fingerprint`)."""

    kit_id: str
    document: int
    page: int  # 1-based
    layout: str = ""  # filled in when the marks are drawn, from the PDF they are drawn on

    def text(self) -> str:
        return f"{PREFIX}:{self.kit_id.upper()}:{self.document}:{self.page}:{self.layout.upper()}"

    @classmethod
    def parse(cls, text: str) -> PageCode | None:
        """The code a scanned QR holds, or None if it is not a kitgen page code."""
        found = CODE.fullmatch(text)
        if not found:
            return None
        kit_id, document, page, layout = found.groups()
        return cls(kit_id.lower(), int(document), int(page), layout.lower())


def fingerprint(document: pikepdf.Pdf) -> str:
    """Four hex digits that change whenever the document's fields move: each widget's page, name, states
    and place. The same kit id made on other paper, or through another template, gets another one, so a
    page is never read with boxes placed by another print of its kit."""
    widgets = []
    for number, page in enumerate(document.pages):
        for annotation in page.obj.get("/Annots", []):
            if annotation.get("/Subtype") != "/Widget":
                continue
            field = annotation.get("/Parent", annotation)
            states = sorted(str(state) for state in annotation.get("/AP", {}).get("/N", {}).keys()) \
                if isinstance(annotation.get("/AP", {}).get("/N"), pikepdf.Dictionary) else []
            rect = ",".join(f"{float(v):.1f}" for v in annotation.get("/Rect", []))
            widgets.append(f"{number}|{field.get('/T', '')}|{'/'.join(states)}|{rect}")
    return hashlib.sha256("\n".join(widgets).encode()).hexdigest()[:4]


def corners(width: float, height: float) -> list[tuple[float, float, float, float]]:
    """The four squares (x, y, side, side) in PDF points, origin at the bottom left, for a page of that size."""
    side, inset = CORNER * MM, INSET * MM
    far_x, far_y = width - inset - side, height - inset - side
    return [(inset, far_y, side, side), (far_x, far_y, side, side), (inset, inset, side, side), (far_x, inset, side, side)]


def add_marks(pdf: bytes, codes: dict[int, PageCode]) -> bytes:
    """``pdf`` with the corner squares and the QR code on each page in ``codes`` (0-based page index)."""
    if not codes:
        return pdf
    with pikepdf.open(io.BytesIO(pdf)) as document:
        layout = fingerprint(document)
        for index, code in codes.items():
            code = replace(code, layout=layout)
            page = document.pages[index]
            x0, y0, x1, y1 = (float(v) for v in page.mediabox)
            page.contents_add(pikepdf.Stream(document, b"q\n"), prepend=True)  # the page's own state ends...
            marks = pikepdf.Stream(document, b"")
            drawing = f"Q\nq 1 0 0 1 {x0:.3f} {y0:.3f} cm\n".encode() + _drawing(x1 - x0, y1 - y0, code) + b"Q\n"
            marks.write(zlib.compress(drawing), filter=pikepdf.Name.FlateDecode)  # ...before the marks are drawn
            page.contents_add(marks)
        out = io.BytesIO()
        document.save(out, deterministic_id=True)  # the same kit gives the same bytes
    return out.getvalue()


def code_centre(width: float, height: float, code: PageCode) -> tuple[float, float]:
    """Where the centre of ``code``'s QR code is printed, in PDF points from the bottom left."""
    side = len(_matrix(code)) * MODULE * MM
    return width / 2, QR_BOTTOM * MM + side / 2


def _matrix(code: PageCode) -> list[bytearray]:
    return segno.make_qr(code.text(), error="m").matrix


def _drawing(width: float, height: float, code: PageCode) -> bytes:
    """The marks as filled paths, black, outside the document's structure (an artifact)."""
    matrix = _matrix(code)
    module = MODULE * MM
    left = (width - len(matrix) * module) / 2
    top = QR_BOTTOM * MM + len(matrix) * module
    qr = [(left + col * module, top - (row + 1) * module, module, module)
          for row, line in enumerate(matrix) for col, dark in enumerate(line) if dark]
    paths = [[square] for square in corners(width, height)] + [qr]  # one path each: each stays in its margin
    drawn = "".join("".join(f"{x:.3f} {y:.3f} {w:.3f} {h:.3f} re\n" for x, y, w, h in path) + "f\n" for path in paths)
    return f"/Artifact BMC\nq 0 g\n{drawn}Q\nEMC\n".encode()
