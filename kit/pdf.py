"""Step 5, print: turn rendered HTML into PDF bytes with WeasyPrint.

This module imports WeasyPrint (about a second), so only the printing path imports it.
The renderer may read the template folders (kitgen's and a team's) and nothing else: no network,
no other file.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from urllib.parse import unquote, urlsplit

from weasyprint import HTML
from weasyprint.urls import URLFetcher

from kit.assets import asset_dir

log = logging.getLogger(__name__)


class AssetsOnlyFetcher(URLFetcher):
    """Serves ``file:`` URLs inside the given folders and refuses every other URL."""

    def __init__(self, roots: Sequence[Path]) -> None:
        super().__init__(allowed_protocols={"file"}, allow_redirects=False)
        self.roots = [root.resolve() for root in roots]
        self.refused: list[str] = []

    def fetch(self, url: str, headers: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
        parts = urlsplit(url)
        path = Path(unquote(parts.path)).resolve() if parts.scheme == "file" and not parts.netloc else None
        if path is None or not any(path.is_relative_to(root) for root in self.roots):
            self.refused.append(url)
            log.warning("kitgen refused to fetch %s: only its own assets are loaded", url[:200])
            raise ValueError(f"kitgen does not fetch {url[:200]}")
        return super().fetch(url, headers)


def print_pdf(html: str, asset_roots: Sequence[Path] = ()) -> bytes:
    """The PDF of one rendered document; title, author and subject come from its ``<head>``.

    Relative URLs resolve against the first of ``asset_roots`` (kitgen's templates by default).
    """
    roots = list(asset_roots) or [asset_dir("templates")]
    document = HTML(string=html, base_url=str(roots[0]), url_fetcher=AssetsOnlyFetcher(roots))
    return document.write_pdf()
