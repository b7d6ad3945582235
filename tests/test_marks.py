"""Pages that can be read back: corner squares and a QR code naming kit, document and page, read from a
rendered image of the page as a scanner would see it."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from pypdf import PdfReader

import pikepdf

from kit.marks import CORNER, MM, PageCode, corners, fingerprint

pdfium = pytest.importorskip("pypdfium2")
zxingcpp = pytest.importorskip("zxingcpp", reason="the scanning extra reads QR codes (pip install -e '.[scan]')")

DPI = 150


def read_back(pdf: Path) -> list[tuple[list[PageCode | None], list[int]]]:
    """For each page at 150 dpi: the kitgen codes found, and the darkness (0-255) at each corner square's centre."""
    pages = []
    for page in pdfium.PdfDocument(pdf):
        image = page.render(scale=DPI / 72, grayscale=True).to_pil()
        height = page.get_height()
        codes = [PageCode.parse(found.text) for found in zxingcpp.read_barcodes(image)]
        centres = [((x + CORNER * MM / 2) * DPI / 72, (height - y - CORNER * MM / 2) * DPI / 72)
                   for x, y, _, _ in corners(page.get_width(), height)]
        pages.append((codes, [255 - image.getpixel((round(cx), round(cy))) for cx, cy in centres]))
    return pages


def test_every_page_with_ticks_or_notes_names_its_kit_document_and_page(senior_kit: Path) -> None:
    kit_id = yaml.safe_load((senior_kit / "kit.yaml").read_text())["kit_id"]
    packet = PdfReader(senior_kit / "interviewer.pdf")
    marked = {n for n, page in enumerate(packet.pages, 1)  # pages with a form field: a tick box or notes
              if any(a.get_object().get("/Subtype") == "/Widget" for a in page.get("/Annots", []))}
    pages = read_back(senior_kit / "interviewer.pdf")
    layout, key = (fingerprint(pikepdf.open(senior_kit / name)) for name in ("interviewer.pdf", "screener.pdf"))
    for number, (codes, darkness) in enumerate(pages, 1):
        if number in marked:
            assert codes == [PageCode(kit_id, 0, number, layout)], number
            assert min(darkness) > 200, (number, darkness)  # four solid squares where corners() says
        else:  # the cover and the reference card: nothing to read back, no marks
            assert codes == [] and max(darkness) < 60, (number, darkness)
    assert len(marked) >= 10
    screener = read_back(senior_kit / "screener.pdf")
    assert [codes for codes, _ in screener] == [[PageCode(kit_id, 2, n, key)] for n in range(1, len(screener) + 1)]
    assert all(codes == [] for codes, _ in read_back(senior_kit / "prescreen.pdf"))  # the candidate's sheet


def test_marks_are_no_text_and_leave_the_structure_tree(senior_kit: Path) -> None:
    packet = PdfReader(senior_kit / "interviewer.pdf")
    assert "/StructTreeRoot" in packet.trailer["/Root"]
    assert all("KG:" not in page.extract_text() for page in packet.pages)


@pytest.mark.parametrize("text", ["KG:ABC:0", "XX:AB12CD34:0:1:0A0B", "KG:AB12CD34:x:1:0A0B", "https://example.com",
                                  "KG:AB12CD34:²:2:0A0B", "KG:AB12CD34:0:1", "KG:AB12CD34:0:123456789:0A0B"])
def test_a_code_that_is_not_a_kitgen_page_is_refused(text: str) -> None:
    assert PageCode.parse(text) is None  # superscript digits, a code of the old form, a page number past any kit's
    assert PageCode.parse(PageCode("ab12cd34", 3, 12, "0a0b").text()) == PageCode("ab12cd34", 3, 12, "0a0b")


@pytest.mark.slow
def test_the_same_kit_on_other_paper_has_another_layout_and_is_not_read_with_this_ones(run, tmp_path: Path) -> None:
    """A4 and Letter prints of one kit share its id, not where their boxes are: a Letter page scanned
    against the A4 folder is refused, never read with the A4 boxes."""
    scan = pytest.importorskip("kit.scan")
    from tests.scans import degrade, render

    for paper in ("a4", "letter"):
        assert run("--role", "cv-engineer", "--level", "senior", "--paper", paper, "--out", tmp_path / paper).exit_code == 0
    a4, letter = (scan.layout(tmp_path / paper / "cv-engineer-senior" / "screener.pdf") for paper in ("a4", "letter"))
    assert a4.fingerprint != letter.fingerprint
    image = degrade(render(tmp_path / "letter" / "cv-engineer-senior" / "screener.pdf", 1, 150), __import__("random").Random(1))
    with pytest.raises(scan.Unreadable, match="another print of its kit"):
        scan.read_page(image, lambda code: a4)
    assert scan.read_page(image, lambda code: letter).code.page == 1


@pytest.mark.slow
def test_letter_pages_are_marked_at_their_own_corners(run, tmp_path: Path) -> None:
    assert run("--role", "nlp-engineer", "--level", "junior", "--paper", "letter", "--out", tmp_path).exit_code == 0
    pages = read_back(tmp_path / "nlp-engineer-junior" / "interviewer.pdf")
    assert sum(bool(codes) for codes, _ in pages) >= 5
    assert all(min(darkness) > 200 for codes, darkness in pages if codes)
