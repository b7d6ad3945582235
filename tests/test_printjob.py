"""The print file: every source page, in order, with its text and its ticks, and no form fields left."""

from __future__ import annotations

import io
from pathlib import Path

import pikepdf
import pymupdf
import pytest
from pypdf import PdfReader

from kit.errors import KitgenError
from kit.printjob import write_print_pdf

PACKET = """<html><head><title>Packet</title><style>
input {{ appearance: auto; width: 6mm; height: 6mm; }} textarea {{ appearance: auto; width: 80mm; height: 20mm; }}
.next {{ break-before: page; }}</style></head><body>
<p>Packet for {name}: first page</p>
<p><input type="checkbox" name="agree" checked> Agree <input type="checkbox" name="other"> Other</p>
<p><input type="radio" name="rating" value="1"> One <input type="radio" name="rating" value="2"> Two</p>
<textarea name="notes"></textarea>
<p class="next">Packet for {name}: second page</p>
</body></html>"""
SHEET = "<html><body><p>Prescreen sheet, one page</p></body></html>"
OTHER_BOX = pymupdf.Rect(60, 130, 90, 155)  # around the "Other" checkbox of PACKET's first page


@pytest.fixture(scope="module")
def sources(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """WeasyPrint's PDFs (object and cross-reference streams), one saved with a classic xref table,
    and one with a tick set the way a viewer saves it (the widget's state only)."""
    from kit.pdf import print_pdf  # WeasyPrint is imported by the tests that print only

    folder = tmp_path_factory.mktemp("printjob")
    paths = {"ada": folder / "ada.pdf", "sheet": folder / "sheet.pdf", "grace": folder / "grace.pdf",
             "ticked": folder / "ticked.pdf"}
    paths["ada"].write_bytes(print_pdf(PACKET.format(name="Ada")))
    paths["sheet"].write_bytes(print_pdf(SHEET))
    with pikepdf.open(io.BytesIO(print_pdf(PACKET.format(name="Grace")))) as pdf:
        pdf.save(paths["grace"], object_stream_mode=pikepdf.ObjectStreamMode.disable)
    with pikepdf.open(paths["ada"]) as pdf:
        (other,) = [w for w in pdf.pages[0].Annots if w.get("/T") == "other"]
        other.AS = other.V = pikepdf.Name("/on")
        pdf.save(paths["ticked"])
    return paths


def merged(paths: list[Path]) -> bytes:
    buffer = io.BytesIO()
    count = write_print_pdf(paths, buffer)
    assert count == len(PdfReader(buffer).pages)
    return buffer.getvalue()


def test_every_page_in_order_with_its_text(sources: dict[str, Path]) -> None:
    paths = [sources["ada"], sources["sheet"], sources["grace"], sources["ada"]]
    out = PdfReader(io.BytesIO(merged(paths)))
    expected = [page.extract_text() for path in paths for page in PdfReader(path).pages]
    assert len(out.pages) == 2 + 1 + 2 + 2
    # rstrip: the flattened widgets are drawn by one more content stream, read as one more line break
    assert [page.extract_text().rstrip() for page in out.pages] == [text.rstrip() for text in expected]
    assert "Packet for Grace: second page" in out.pages[4].extract_text()


def test_no_form_fields_annotations_or_structure(sources: dict[str, Path]) -> None:
    data = merged([sources["ada"], sources["grace"], sources["sheet"]])
    assert data.startswith(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    reader = PdfReader(io.BytesIO(data))
    assert reader.get_fields() is None
    assert set(reader.trailer["/Root"].keys()) == {"/Type", "/Pages"}
    assert all("/Annots" not in page and "/StructParents" not in page for page in reader.pages)
    with pikepdf.open(io.BytesIO(data)) as pdf:
        assert pdf.check_pdf_syntax() == []
        assert pdf.get_warnings() == []
        assert pdf.pdf_version == "1.7"
        dictionaries = [obj for obj in pdf.objects if isinstance(obj, pikepdf.Dictionary)]
        assert not [obj for obj in dictionaries if "/FT" in obj or obj.get("/Subtype") == "/Widget"]
        assert not [obj for obj in dictionaries if obj.get("/Type") in ("/StructElem", "/StructTreeRoot")]


def test_objects_shared_by_pages_are_written_once_per_source(sources: dict[str, Path]) -> None:
    with pikepdf.open(io.BytesIO(merged([sources["ada"]]))) as once, \
            pikepdf.open(io.BytesIO(merged([sources["ada"]] * 3))) as thrice:
        fonts = [obj for obj in once.objects if isinstance(obj, pikepdf.Dictionary) and obj.get("/Type") == "/Font"]
        assert fonts
        assert len(thrice.objects) - 2 == 3 * (len(once.objects) - 2)  # two are the page tree root and catalogue


def test_the_print_looks_like_the_source(sources: dict[str, Path]) -> None:
    """MuPDF renders the print file; its first page is the source's without interactive widgets."""
    out = pymupdf.open(stream=merged([sources["ada"]]))
    source = pymupdf.open(sources["ada"])
    printed = out[0].get_pixmap(dpi=50)
    drawn = source[0].get_pixmap(dpi=50, annots=False)
    assert sum(a != b for a, b in zip(printed.samples, drawn.samples, strict=True)) < 100  # antialiasing at most
    assert out.is_form_pdf is False


def test_a_tick_saved_by_a_viewer_is_printed(sources: dict[str, Path]) -> None:
    def ink(path: Path) -> int:
        page = pymupdf.open(stream=merged([path]))[0]
        return sum(value < 128 for value in page.get_pixmap(dpi=72, clip=OTHER_BOX, annots=False).samples)

    assert ink(sources["ticked"]) > ink(sources["ada"]) + 50


def test_inherited_page_attributes_are_copied(tmp_path: Path) -> None:
    """The page tree root holds the page's size, rotation and font; the printed page needs them."""
    pdf = pikepdf.Pdf.new()
    font = pdf.make_indirect(pikepdf.Dictionary(Type=pikepdf.Name.Font, Subtype=pikepdf.Name.Type1,
                                                BaseFont=pikepdf.Name.Helvetica))
    page = pdf.add_blank_page(page_size=(200, 100))
    page.obj.Contents = pdf.make_stream(b"BT /F1 12 Tf 10 50 Td (Inherited) Tj ET")
    pdf.Root.Pages.MediaBox = page.obj.MediaBox
    pdf.Root.Pages.Resources = pikepdf.Dictionary(Font=pikepdf.Dictionary(F1=font))
    pdf.Root.Pages.Rotate = 90
    for key in ("/MediaBox", "/Resources"):
        del page.obj[key]
    pdf.save(tmp_path / "inherits.pdf")
    out = PdfReader(io.BytesIO(merged([tmp_path / "inherits.pdf"])))
    page = out.pages[0]
    assert [float(v) for v in page["/MediaBox"]] == [0, 0, 200, 100]
    assert page["/Rotate"] == 90
    assert page.extract_text() == "Inherited"


@pytest.mark.parametrize("content", [b"not a PDF at all", b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog"])
def test_a_source_that_is_not_a_pdf_is_named(sources: dict[str, Path], tmp_path: Path, content: bytes) -> None:
    bad = tmp_path / "kit-7" / "interviewer.pdf"
    bad.parent.mkdir()
    bad.write_bytes(content)
    with pytest.raises(KitgenError, match=r"kit-7/interviewer\.pdf: cannot read this PDF"):
        write_print_pdf([sources["sheet"], bad], io.BytesIO())


def test_a_missing_source_is_named(tmp_path: Path) -> None:
    with pytest.raises(KitgenError, match=r"gone\.pdf: cannot read this PDF"):
        write_print_pdf([tmp_path / "gone.pdf"], io.BytesIO())


def test_duplex_starts_every_document_on_a_front_page(sources: dict[str, Path]) -> None:
    """Printed on both sides, the next candidate's sheet never lands on the back of someone's packet."""
    paths = [sources["sheet"], sources["ada"], sources["sheet"], sources["sheet"]]
    buffer = io.BytesIO()
    assert write_print_pdf(paths, buffer, duplex=True) == 2 + 2 + 2 + 2
    texts = [page.extract_text() for page in PdfReader(buffer).pages]
    assert [i for i, text in enumerate(texts) if "intentionally blank" in text] == [1, 5, 7]
    assert [i for i, text in enumerate(texts) if "Prescreen sheet" in text or "Ada: " in text and "second" not in text] == [0, 2, 4, 6]
    sizes = {tuple(page.mediabox) for page in PdfReader(buffer).pages}
    assert len(sizes) == 1  # the blank page has its document's paper size


def test_duplex_pads_a_single_document_and_keeps_its_fields_and_attachment(tmp_path: Path) -> None:
    """`kitgen --duplex`: an odd document gets a marked blank back page; its form and manifest stay usable."""
    from kit.pdf import print_pdf
    from kit.printjob import pad_for_duplex

    sheet = print_pdf(SHEET, attach=("kit.yaml", b"kit_id: 0\n"))
    packet = print_pdf(PACKET.format(name="Ada"))
    assert pad_for_duplex(packet) == packet  # already even
    padded = PdfReader(io.BytesIO(pad_for_duplex(sheet)))
    assert len(padded.pages) == 2 and "intentionally blank" in padded.pages[1].extract_text()
    assert padded.attachments["kit.yaml"] == [b"kit_id: 0\n"]
    assert padded.pages[0].mediabox == padded.pages[1].mediabox
    odd = pikepdf.open(io.BytesIO(packet))
    del odd.pages[1]
    buffer = io.BytesIO()
    odd.save(buffer)
    fields = PdfReader(io.BytesIO(pad_for_duplex(buffer.getvalue()))).get_fields()
    assert {"agree", "rating", "notes"} <= set(fields)
