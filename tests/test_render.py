"""Rendering: content is data. Markup in YAML or names shows as text and fetches nothing."""

from __future__ import annotations

import dataclasses
import logging
from pathlib import Path

import pytest
from pypdf import PdfReader

from kit.manifest import People
from kit.pdf import AssetsOnlyFetcher, print_pdf
from kit.render import markdown, render_documents
from kit.select import select_kit
from kit.validate import load_library
from tests.conftest import squash

HOSTILE = (
    '<script>alert(1)</script> <img src="file:///etc/passwd"> '
    '<a rel="attachment" href="file:///etc/hostname">x</a> '
    "<style>@import url(http://127.0.0.1:9/x.css)</style> {{ 7*7 }} {% raw %} "
    "![img](http://127.0.0.1:9/p.png) [link](file:///etc/passwd)"
)


def test_markdown_keeps_code_and_lists_and_shows_html_as_text() -> None:
    html = str(markdown("Intro with `x.view(-1)`:\n\n- one\n- two\n\n```python\nfor x in y:\n    pass\n```\n\n<b>bold</b>"))
    assert "<code>x.view(-1)</code>" in html and "<li>one</li>" in html
    assert '<pre><code class="language-python">' in html and "for" in html
    assert "&lt;b&gt;bold&lt;/b&gt;" in html and "<b>" not in html


@pytest.mark.slow
def test_hostile_question_and_names_render_as_text(tmp_path: Path) -> None:
    library = load_library()
    kit = select_kit(library, "cv-engineer", "senior")
    evil = dataclasses.replace(kit, questions=(kit.questions[0].model_copy(update={"text": HOSTILE}), *kit.questions[1:]),
                               prescreen=(kit.prescreen[0].model_copy(update={"text": HOSTILE}), *kit.prescreen[1:]))
    people = People(candidate='"><script>x</script>{{ 7*7 }}', interviewer="<b>Bob</b>")
    pages = render_documents(library, [evil], people, ("deadbeef", "feedbeef"))
    for html in pages.values():
        assert "<script>" not in html and "<img" not in html and 'rel="attachment"' not in html
        assert "<style>@import" not in html and "<a " not in html
        assert "{{ 7*7 }}" in html and "49" not in html.replace("deadbeef", "")
    pdf = tmp_path / "interviewer.pdf"
    pdf.write_bytes(print_pdf(pages["interviewer"]))
    reader = PdfReader(pdf)
    text = squash(" ".join(page.extract_text() for page in reader.pages))
    assert squash('<script>alert(1)</script> <img src="file:///etc/passwd">') in text
    assert squash("{{ 7*7 }}") in text and squash("![img](http://127.0.0.1:9/p.png)") in text
    assert reader.attachments == {}


def test_fetcher_serves_only_kitgen_assets(tmp_path: Path) -> None:
    from kit.assets import asset_dir

    fetcher = AssetsOnlyFetcher([asset_dir("templates")])
    own = (asset_dir("templates") / "print.css").resolve().as_uri()
    assert b"@page" in fetcher.fetch(own).read()
    outside = tmp_path / "secret.txt"
    outside.write_text("secret")
    for url in (outside.as_uri(), "file:///etc/passwd", "http://127.0.0.1:9/x", "data:text/plain,hi",
                own.replace("print.css", "../../../etc/passwd")):
        with pytest.raises(ValueError):
            fetcher.fetch(url)
    assert len(fetcher.refused) == 5


def test_raw_html_that_asks_for_files_gets_nothing(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """Even unescaped markup (say, a broken template override) cannot pull files into the PDF."""
    secret = tmp_path / "secret.txt"
    secret.write_text("top secret")
    html = (f'<html><body><p>hello</p><img src="{secret.as_uri()}">'
            f'<a rel="attachment" href="{secret.as_uri()}">a</a>'
            f'<link rel="stylesheet" href="{secret.as_uri()}"></body></html>')
    with caplog.at_level(logging.WARNING):
        pdf = tmp_path / "out.pdf"
        pdf.write_bytes(print_pdf(html))
    assert PdfReader(pdf).attachments == {}
    assert b"top secret" not in pdf.read_bytes()
    assert any("kitgen refused to fetch" in r.getMessage() for r in caplog.records)
