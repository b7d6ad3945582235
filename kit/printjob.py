"""Write many PDFs as one print file, streaming: one source open at a time, each object written once read.

Memory is flat in the number of sources: between sources only each output object's byte offset (for
the cross-reference table) and each page's object number are kept. Form fields and other annotations
are flattened into their pages; nothing of a source's catalogue (structure tree, outline, attachments,
form) is copied, since a print job needs only the pages' look.
"""

from __future__ import annotations

import io
from array import array
from collections.abc import Callable, Iterable, Iterator, Sequence
from functools import lru_cache
from pathlib import Path
from typing import BinaryIO

import pikepdf
from pikepdf import Array, Dictionary, Name, Stream

from kit.errors import KitgenError

HEADER = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n"  # the comment's high bytes mark the file as binary
PAGES, CATALOG = 1, 2  # object numbers reserved for the output's page tree root and catalogue
MAX_OFFSET = 9_999_999_999  # a classic cross-reference entry has ten digits: a print file up to 10 GB
_DROP = frozenset({"/Parent", "/Annots", "/StructParents", "/B"})  # a page's links into its source
_INHERITED = ("/Resources", "/MediaBox", "/CropBox", "/Rotate")
_FOREIGN = frozenset({"/Catalog", "/Pages", "/StructTreeRoot", "/StructElem"})  # references to these become null

BLANK_TEXT = b"This page is intentionally blank."
BLANK_WIDTH = 9 * 0.5 * len(BLANK_TEXT)  # Helvetica at 9 pt: about half an em a character
BLANK_FONT = b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>"

Refer = Callable[[pikepdf.Object], bytes]


def write_print_pdf(sources: Iterable[Path], handle: BinaryIO, duplex: bool = False) -> int:
    """Write every page of ``sources``, in order, to ``handle`` as one PDF; return the page count.

    With ``duplex``, a source with an odd number of pages is followed by a page saying it is
    intentionally blank, so that printed on both sides every document starts on a front (right-hand)
    page and no one's prescreen lands on the back of another's packet.

    If a source cannot be read, :class:`KitgenError` names it and ``handle`` holds a partial file,
    so write to a temporary file and rename it when this returns.
    """
    out = _Output(handle)
    out.write(HEADER)
    pages = array("Q")
    for source in sources:
        try:
            pdf = pikepdf.open(source)
        except (pikepdf.PdfError, OSError) as exc:
            raise _unreadable(source, exc) from None
        with pdf, pikepdf.explicit_conversion():  # every scalar a pikepdf object, written by its own unparse()
            try:
                _flatten(pdf)
                pages.extend(_copy_pages(pdf, out))
                if duplex and len(pdf.pages) % 2:
                    box = pdf.pages[-1].mediabox
                    pages.append(out.blank(tuple(float(v) for v in box)))  # type: ignore[arg-type]
            except pikepdf.PdfError as exc:
                raise _unreadable(source, exc) from None
    out.finish(pages)
    return len(pages)


class _Output:
    """The file being written: a running byte count and each object's offset, by object number."""

    def __init__(self, handle: BinaryIO) -> None:
        self.handle = handle
        self.position = 0
        self.offsets = array("Q", [0] * (CATALOG + 1))  # [0] is the head of the free list
        self.font = 0  # the blank pages' font object, once written
        self.blanks: dict[tuple[float, ...], int] = {}  # each paper size's blank-page text

    def write(self, data: bytes) -> None:
        self.handle.write(data)
        self.position += len(data)

    def reserve(self) -> int:
        self.offsets.append(0)
        return len(self.offsets) - 1

    def blank(self, box: tuple[float, float, float, float]) -> int:
        """A page of ``box``'s size saying it is intentionally blank; its text and font are written once."""
        if box not in self.blanks:
            if not self.font:
                self.font = self.reserve()
                self.object(self.font, BLANK_FONT)
            text = _blank_text(box)
            self.blanks[box] = self.reserve()
            self.object(self.blanks[box], b"<< /Length %d >>\nstream\n" % len(text), text, b"\nendstream")
        page = self.reserve()
        self.object(page, b"<< /Type /Page /Parent %d 0 R /MediaBox [%s] /Resources << /Font << /F1 %d 0 R >> >> "
                    b"/Contents %d 0 R >>" % (PAGES, b" ".join(b"%.6f" % v for v in box), self.font, self.blanks[box]))
        return page

    def object(self, number: int, *parts: bytes) -> None:
        if self.position > MAX_OFFSET:
            raise KitgenError(f"the print file would be over {MAX_OFFSET // 10**9} GB; print fewer kits at once")
        self.offsets[number] = self.position
        self.write(b"%d 0 obj\n" % number)
        for part in parts:
            self.write(part)
        self.write(b"\nendobj\n")

    def finish(self, pages: array[int]) -> None:
        """The page tree root, the catalogue, the cross-reference table and the trailer."""
        self.object(PAGES, b"<< /Type /Pages /Count %d /Kids [" % len(pages),
                    b" ".join(b"%d 0 R" % number for number in pages), b"] >>")
        self.object(CATALOG, b"<< /Type /Catalog /Pages %d 0 R >>" % PAGES)
        start = self.position
        self.write(b"xref\n0 %d\n0000000000 65535 f \n" % len(self.offsets))
        for first in range(1, len(self.offsets), 4096):
            self.write(b"".join(b"%010d 00000 n \n" % offset for offset in self.offsets[first:first + 4096]))
        self.write(b"trailer\n<< /Size %d /Root %d 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(self.offsets), CATALOG, start))


def _copy_pages(pdf: pikepdf.Pdf, out: _Output) -> list[int]:
    """Write the pages of ``pdf`` and every object they reach; return the pages' object numbers.

    Objects are numbered on first reference (one number per source object, so a font shared by
    pages is written once) and written after the page that first reached them.
    """
    numbers: dict[tuple[int, int], int] = {}
    todo: list[pikepdf.Object] = []

    def refer(obj: pikepdf.Object) -> bytes:
        if isinstance(obj, Dictionary) and str(obj.get("/Type", "")) in _FOREIGN:
            return b"null"
        number = numbers.get(obj.objgen)
        if number is None:
            number = numbers[obj.objgen] = out.reserve()
            todo.append(obj)
        return b"%d 0 R" % number

    page_objects = [page.obj for page in pdf.pages]
    for page in page_objects:
        numbers[page.objgen] = out.reserve()
    for page in page_objects:
        out.object(numbers[page.objgen], _dictionary(_page_items(page), refer, b"/Parent %d 0 R" % PAGES))
        while todo:
            obj = todo.pop()
            number = numbers[obj.objgen]
            if isinstance(obj, Stream):
                raw = obj.read_raw_bytes()
                items = ((key, value) for key, value in obj.stream_dict.items() if key != "/Length")
                out.object(number, _dictionary(items, refer, b"/Length %d" % len(raw)), b"\nstream\n", raw, b"\nendstream")
            else:
                out.object(number, _direct(obj, refer))
    return [numbers[page.objgen] for page in page_objects]


def _flatten(pdf: pikepdf.Pdf) -> None:
    """Burn form fields and other annotations into their pages' content.

    WeasyPrint asks viewers to redraw fields (/NeedAppearances), and qpdf then flattens none. kitgen's
    ticks have appearances (forms.py) and WeasyPrint draws text values into the page, so the flag is
    dropped and the appearances there are burned in; qpdf's own text appearances (ASCII only) would
    draw garbage with WeasyPrint's subset fonts.
    """
    acro = pdf.Root.get("/AcroForm")
    if isinstance(acro, Dictionary) and "/NeedAppearances" in acro:
        del acro["/NeedAppearances"]
    pdf.flatten_annotations("all")


def _page_items(page: pikepdf.Object) -> Iterator[tuple[str, pikepdf.Object]]:
    """The page's entries without its links into the source, plus the attributes it inherits.

    qpdf pushes inherited attributes down to the pages as it reads the page tree; this is in case it did not.
    """
    own = set(page.keys())
    yield from ((key, value) for key, value in page.items() if key not in _DROP)
    node = page.get("/Parent")
    for _ in range(64):  # a page tree is a few levels deep; a loop in a broken one ends here
        if not isinstance(node, Dictionary):
            break
        for key in _INHERITED:
            if key not in own and key in node:
                own.add(key)
                yield key, node[key]
        node = node.get("/Parent")


def _value(obj: pikepdf.Object | None, refer: Refer) -> bytes:
    """A value inside an object: a reference to an indirect object, else the value itself."""
    if obj is None:
        return b"null"
    return refer(obj) if obj.is_indirect else _direct(obj, refer)


def _direct(obj: pikepdf.Object, refer: Refer) -> bytes:
    if isinstance(obj, Dictionary):
        return _dictionary(obj.items(), refer)
    if isinstance(obj, Array):
        return b"[" + b" ".join(_value(item, refer) for item in obj) + b"]"
    return obj.unparse()  # a name, string, number, boolean or null


def _dictionary(items: Iterable[tuple[str, pikepdf.Object]], refer: Refer, extra: bytes = b"") -> bytes:
    entries = [_name(key) + b" " + _value(value, refer) for key, value in items]
    return b"<< " + b" ".join([*entries, extra] if extra else entries) + b" >>"


@lru_cache(maxsize=4096)
def _name(key: str) -> bytes:
    """A dictionary key as PDF syntax, escaped (``/A#20B``) as the name needs."""
    return Name(key).unparse()


def _blank_text(box: Sequence[float]) -> bytes:
    """The content of a blank page of ``box``'s size: its one line, centred, in font /F1."""
    x = box[0] + (box[2] - box[0] - BLANK_WIDTH) / 2
    return b"BT /F1 9 Tf %.2f %.2f Td (%s) Tj ET" % (x, box[1] + (box[3] - box[1]) / 2, BLANK_TEXT)


def pad_for_duplex(pdf: bytes) -> bytes:
    """``pdf`` with a page saying it is intentionally blank after its last page if it has an odd number
    of pages, so the next document printed two-sided starts on a front page; forms and attachments kept."""
    with pikepdf.open(io.BytesIO(pdf)) as doc:
        if len(doc.pages) % 2 == 0:
            return pdf
        box = [float(v) for v in doc.pages[-1].mediabox]
        font = doc.make_indirect(pikepdf.Object.parse(BLANK_FONT))
        page = Dictionary(Type=Name.Page, MediaBox=Array(box), Contents=doc.make_stream(_blank_text(box)),
                          Resources=Dictionary(Font=Dictionary(F1=font)))
        doc.pages.append(pikepdf.Page(page))
        out = io.BytesIO()
        doc.save(out)
        return out.getvalue()


def _unreadable(path: Path, exc: BaseException) -> KitgenError:
    detail = str(exc).splitlines()[0][:120] if str(exc) else type(exc).__name__
    return KitgenError(f"{path}: cannot read this PDF for the print file ({detail})")
