"""Step 5, print: turn rendered HTML into PDF bytes with WeasyPrint.

This module imports WeasyPrint (about a second), so only the printing path imports it.
The renderer may read the template folders (kitgen's and a team's) and nothing else: no network,
no other file.
"""

from __future__ import annotations

import logging
import os
import tempfile
from datetime import datetime, timezone
from collections.abc import Callable, Sequence
from functools import cache
from pathlib import Path
from typing import Any

from weasyprint import HTML, Attachment
from weasyprint.document import Document, Page
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import URLFetcher

from kit.assets import asset_dir, local_asset
from kit.forms import conform
from kit.marks import PageCode, add_marks
from kit.reuse import Layouts

log = logging.getLogger(__name__)
READ_BACK = {"box", "radio", "ruled-area"}  # fields.html: tick boxes (printed or fillable) and areas written in


class AssetsOnlyFetcher(URLFetcher):
    """Serves ``file:`` URLs inside the given folders and refuses every other URL."""

    def __init__(self, roots: Sequence[Path]) -> None:
        super().__init__(allowed_protocols={"file"}, allow_redirects=False)
        self.roots = list(roots)
        self.refused: list[str] = []

    def fetch(self, url: str, headers: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
        if local_asset(url, self.roots) is None:
            self.refused.append(url)
            log.warning("kitgen refused to fetch %s: only its own assets are loaded", url[:200])
            raise ValueError(f"kitgen does not fetch {url[:200]}")
        return super().fetch(url, headers)


def print_pdf(
    html: str, asset_roots: Sequence[Path] = (), *, attach: tuple[str, bytes] | None = None, variant: str | None = None,
    layouts: Layouts | None = None, per_kit: Sequence[str] = (), code: Callable[[int], PageCode] | None = None,
) -> bytes:
    """The PDF of one rendered document: tagged for screen readers, ``attach`` (name, data) attached,
    form fields made the way every viewer fills them (forms.py).

    Title, author and subject come from the HTML's ``<head>``; relative URLs resolve against
    kitgen's own templates; ``variant`` is a WeasyPrint PDF variant such as ``pdf/a-3b``. With
    ``layouts`` (a batch worker's), pages shared with an earlier document are not laid out again
    (reuse.py); ``per_kit`` are the values, such as names, in which such documents differ. With
    ``code`` (page number to its code), every page holding tick boxes or areas to write in gets the
    marks a scan is read back by (marks.py).
    """
    roots = list(asset_roots) or [asset_dir("templates")]
    fetcher = AssetsOnlyFetcher(roots)
    options = {"pdf_variant": variant, "pdf_tags": True}

    def render(text: str) -> Document:
        return HTML(string=text, base_url=str(asset_dir("templates")), url_fetcher=fetcher).render(
            font_config=_fonts(), **options)

    document = layouts.document(html, per_kit, render) if layouts else render(html)
    stamp = _timestamp()
    attachments = [Attachment(string=attach[1].decode(), name=attach[0], description="kitgen manifest",
                              created=stamp, modified=stamp, url_fetcher=fetcher)] if attach else []
    pdf = conform(document.write_pdf(attachments=attachments, **options))
    if code is None:
        return pdf
    return add_marks(pdf, {n: code(n + 1) for n, page in enumerate(document.pages) if _read_back(page)})


def print_with_pictures(render: Callable[[list[str]], str], pictures: Sequence[bytes], asset_roots: Sequence[Path],
                        **options: Any) -> bytes:
    """The PDF of a document that shows ``pictures`` (PNGs from scans, not kitgen's own assets): they are
    written to a private temporary folder that printing may read, and ``render`` gets their URLs in order."""
    with tempfile.TemporaryDirectory(prefix="kitgen-pictures-") as folder:
        urls = []
        for number, picture in enumerate(pictures):
            path = Path(folder) / f"{number}.png"
            path.write_bytes(picture)
            urls.append(path.as_uri())
        return print_pdf(render(urls), (*asset_roots, Path(folder)), **options)


def _read_back(page: Page) -> bool:
    """Whether a laid-out page holds what a scan is read for: a tick box or an area written in
    (fields.html's ``tick``, ``check`` and ``writein``, printed or fillable)."""
    return any(box.element is not None and READ_BACK & set((box.element.get("class") or "").split())
               for box in page._page_box.descendants() if hasattr(box, "element"))


@cache
def _fonts() -> FontConfiguration:
    """One font configuration for every document a process prints: with one each, WeasyPrint loads the
    fonts again for every document and a batch worker's memory grows by most of a megabyte a kit."""
    return FontConfiguration()


def _timestamp() -> datetime:
    """``SOURCE_DATE_EPOCH`` when set (reproducible builds), else now."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    return datetime.fromtimestamp(int(epoch), timezone.utc) if epoch else datetime.now(timezone.utc)
