"""Shared pages laid out once in a batch: the PDFs are those a whole layout gives, or it is not used."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from pypdf import PdfReader

from kit.manifest import People
from kit.pdf import print_pdf
from kit.pipeline import Request, make_kit
from kit.render import SHARED_PAGES
from kit.reuse import Layouts
from kit.validate import load_library


def packet(name: str, shared: str = "", css: str = "") -> str:
    """A small packet: a cover with the name, then shared pages; the header and page numbers in margins."""
    return f"""<html lang="en"><head><title>Packet</title><style>
      @page {{ size: A6; @top-left {{ content: string(who) }} @bottom-right {{ content: counter(page) " of " counter(pages) }} }}
      .who {{ string-set: who content(); }} .shared-pages {{ break-before: page; }} {css}
    </style></head><body><p class="who">Packet for {name}</p><h1>Cover: {name}</h1>{SHARED_PAGES}
    <h2>Questions</h2><p>{shared}The same question for everyone.</p>
    <h2 style="break-before: page">Scorecard</h2><p>Tick one.</p></body></html>"""


def pages(pdf: bytes) -> list[str]:
    return [page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages]


def test_the_second_candidate_gets_the_kept_pages_under_their_own_cover_header_and_numbers() -> None:
    layouts = Layouts()
    first = print_pdf(packet("Ada"), layouts=layouts, per_kit=["Ada"])
    second = print_pdf(packet("Alan Mathison Turing"), layouts=layouts, per_kit=["Alan Mathison Turing"])
    assert layouts.reused == 1
    assert pages(first) == pages(print_pdf(packet("Ada")))
    assert pages(second) == pages(print_pdf(packet("Alan Mathison Turing")))
    assert all("Packet for Alan Mathison" in p and "Ada" not in p for p in pages(second))
    assert "3 of 3" in pages(second)[2]


@pytest.mark.parametrize("shared, css", [
    ("{name} asks: ", ""),  # the shared part names the candidate: not the same pages
    ("", "h2 { string-set: who content(); }"),  # the header changes on shared pages: a stamp cannot reproduce it
], ids=["name-in-shared-pages", "header-set-by-shared-pages"])
def test_pages_that_are_not_truly_shared_are_laid_out_whole(shared: str, css: str) -> None:
    layouts = Layouts()
    for name in ("Ada", "Bo", "Cy"):
        html = packet(name, shared.format(name=name), css)
        assert pages(print_pdf(html, layouts=layouts, per_kit=[name])) == pages(print_pdf(html))
    assert layouts.reused == 0


def test_only_a_few_selections_are_kept() -> None:
    layouts = Layouts(keep=1)
    for shared in ("First. ", "Second. ", "First. "):
        print_pdf(packet("Ada", shared), layouts=layouts, per_kit=["Ada"])
    assert layouts.reused == 0 and len(layouts._kept) == 1


@pytest.mark.slow
def test_a_batch_worker_prints_the_very_packets_single_kits_print(tmp_path: Path) -> None:
    library, layouts = load_library(), Layouts()
    for name in ("Ada Lovelace", "Alan Mathison Turing Junior the Third of that Name", "Bo"):
        request = Request("cv-engineer", "senior", people=People(name, "Grace Hopper"), out=tmp_path / "batch")
        make_kit(request, library, layouts=layouts)
        make_kit(Request("cv-engineer", "senior", people=People(name, "Grace Hopper"), out=tmp_path / "single"), library)
    assert layouts.reused == 2
    for folder in (tmp_path / "batch").iterdir():
        kept, whole = PdfReader(folder / "interviewer.pdf"), PdfReader(tmp_path / "single" / folder.name / "interviewer.pdf")
        assert [p.extract_text() for p in kept.pages] == [p.extract_text() for p in whole.pages]
        assert {k: v.get("/V") for k, v in kept.get_fields().items()} == {k: v.get("/V") for k, v in whole.get_fields().items()}
        assert kept.metadata == whole.metadata and kept.attachments == whole.attachments
        assert [p.mediabox for p in kept.pages] == [p.mediabox for p in whole.pages]
        assert "/StructTreeRoot" in kept.trailer["/Root"]  # still tagged for screen readers
