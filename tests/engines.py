"""Fill kitgen packets with the engines of real PDF viewers, each the way its viewer does on a click.

One function per engine, all alike: ``fill_<engine>(packet, target, radios, texts)`` ticks option
``rating`` (1-based; it is also the widget's "on" state name) of each named radio group, types
``texts`` into text fields, and saves to ``target`` the way that viewer saves. An engine that is
not installed skips the test that asked for it.

- pdfium: Chrome's viewer (and Edge's): mouse events at the widget's centre, characters typed.
- mupdf: MuPDF and its viewers, through PyMuPDF's widgets.
- pdfjs: Firefox's viewer, under Node (tests/engines/fill_pdfjs.mjs).
- pypdf: pypdf's own form filling, as scripts that fill packets use it.
"""

from __future__ import annotations

import ctypes
import json
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

Filler = Callable[[Path, Path, dict[str, int], dict[str, str]], None]

NODE_DIR = Path(__file__).parent / "engines"
DPI = 96  # the device Chrome's clicks are computed on: a page shown at 100 %


def fill_pdfium(packet: Path, target: Path, radios: dict[str, int], texts: dict[str, str]) -> None:
    """Chrome: PDFium's form environment gets a mouse move, button down and button up at each
    widget's centre (a device pixel turned into page space, as Chrome's PDFiumEngine does), then
    typed characters for text fields and a loss of focus; saved whole with FPDF_SaveAsCopy."""
    pdfium = pytest.importorskip("pypdfium2", reason="pypdfium2 (PDFium, Chrome's engine) is not installed")
    raw = pdfium.raw
    pdf = pdfium.PdfDocument(packet)
    try:
        pdf.init_forms()
        form = pdf.formenv
        wanted = {**{name: str(rating) for name, rating in radios.items()}, **{name: None for name in texts}}
        pages = []
        for index in range(len(pdf)):
            page = pdf[index]
            pages.append(page)  # pages stay loaded until saved, as in a viewer
            for name, state, centre in _pdfium_widgets(raw, form, page):
                if name not in wanted or (wanted[name] is not None and state != wanted[name]):
                    continue
                x, y = centre
                raw.FORM_OnMouseMove(form, page, 0, x, y)
                raw.FORM_OnLButtonDown(form, page, 0, x, y)
                raw.FORM_OnLButtonUp(form, page, 0, x, y)
                if name in texts:
                    units = texts[name].encode("utf-16-le")
                    for i in range(0, len(units), 2):
                        raw.FORM_OnChar(form, page, int.from_bytes(units[i:i + 2], "little"), 0)
                    raw.FORM_ForceToKillFocus(form)
        pdf.save(target)
        for page in pages:
            page.close()
    finally:
        pdf.close()


def _pdfium_widgets(raw, form, page) -> list[tuple[str, str, tuple[float, float]]]:
    """(field name, export value, centre in page space) of each widget on ``page``."""
    width, height = page.get_size()
    size_x, size_y = round(width * DPI / 72), round(height * DPI / 72)
    found = []
    for index in range(raw.FPDFPage_GetAnnotCount(page)):
        annot = raw.FPDFPage_GetAnnot(page, index)
        try:
            name = _pdfium_text(raw.FPDFAnnot_GetFormFieldName, form, annot)
            state = _pdfium_text(raw.FPDFAnnot_GetFormFieldExportValue, form, annot)
            rect = raw.FS_RECTF()
            raw.FPDFAnnot_GetRect(annot, rect)
        finally:
            raw.FPDFPage_CloseAnnot(annot)
        if not name:
            continue
        # The pixel under the mouse: the widget's centre on a page shown at DPI, back to page space.
        dx, dy = ctypes.c_int(), ctypes.c_int()
        raw.FPDF_PageToDevice(page, 0, 0, size_x, size_y, 0, (rect.left + rect.right) / 2,
                              (rect.top + rect.bottom) / 2, dx, dy)
        px, py = ctypes.c_double(), ctypes.c_double()
        raw.FPDF_DeviceToPage(page, 0, 0, size_x, size_y, 0, dx.value, dy.value, px, py)
        found.append((name, state, (px.value, py.value)))
    return found


def _pdfium_text(getter, form, annot) -> str:
    """A UTF-16 string from one of PDFium's two-call getters (length first, then the text)."""
    length = getter(form, annot, None, 0)
    if length <= 2:
        return ""
    buffer = ctypes.create_string_buffer(length)
    getter(form, annot, ctypes.cast(buffer, ctypes.POINTER(ctypes.c_ushort)), length)
    return buffer.raw[:length - 2].decode("utf-16-le")


def fill_mupdf(packet: Path, target: Path, radios: dict[str, int], texts: dict[str, str]) -> None:
    """MuPDF: the chosen radio widget's field_value set to its on state, a text widget's to the
    text, each followed by update(); saved whole."""
    pymupdf = pytest.importorskip("pymupdf", reason="PyMuPDF (MuPDF) is not installed")
    doc = pymupdf.open(packet)
    try:
        for page in doc:
            for widget in page.widgets():
                name = widget.field_name
                if widget.field_type == pymupdf.PDF_WIDGET_TYPE_RADIOBUTTON and name in radios:
                    if widget.on_state() == str(radios[name]):
                        widget.field_value = widget.on_state()
                        widget.update()
                elif widget.field_type == pymupdf.PDF_WIDGET_TYPE_TEXT and name in texts:
                    widget.field_value = texts[name]
                    widget.update()
        doc.save(target)
    finally:
        doc.close()


def fill_pdfjs(packet: Path, target: Path, radios: dict[str, int], texts: dict[str, str]) -> None:
    """Firefox: pdf.js's annotation storage set as its radio and text handlers set it, then
    saveDocument(); run under Node by tests/engines/fill_pdfjs.mjs."""
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed: pdf.js (Firefox's engine) runs under Node")
    if not (NODE_DIR / "node_modules" / "pdfjs-dist").is_dir():
        pytest.skip("pdfjs-dist is not installed: run `npm ci --prefix tests/engines`")
    instructions = {"packet": str(packet), "target": str(target), "radios": radios, "texts": texts}
    done = subprocess.run([node, str(NODE_DIR / "fill_pdfjs.mjs")], input=json.dumps(instructions),
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, f"pdf.js could not fill {packet}:\n{done.stderr}"


def fill_pypdf(packet: Path, target: Path, radios: dict[str, int], texts: dict[str, str]) -> None:
    """pypdf's form filling: a button's value is the state name to show (``/2``), a text field's
    its text; appearances are left as they are (auto_regenerate=False, as pypdf's docs advise)."""
    from pypdf import PdfWriter

    writer = PdfWriter(clone_from=packet)
    values = {**{name: f"/{rating}" for name, rating in radios.items()}, **texts}
    for page in writer.pages:
        if "/Annots" in page:
            writer.update_page_form_field_values(page, values, auto_regenerate=False)
    writer.write(target)


ENGINES: dict[str, Filler] = {
    "pdfium": fill_pdfium,
    "mupdf": fill_mupdf,
    "pdfjs": fill_pdfjs,
    "pypdf": fill_pypdf,
}
