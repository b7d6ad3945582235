"""Lay out once what every candidate of a selection shares.

Candidates of one role, level and seed get the same question pages, scorecard and reference card;
only the cover, the running header and footer (names, kit id) and the page numbers differ. A batch
worker keeps the last few such documents laid out and, for the next candidate, lays out only a
*stamp*: that candidate's own HTML up to the shared pages, then one empty page for each shared page.
The stamp's cover pages, and its page furniture (margin boxes) on every shared page, go onto the
kept pages; WeasyPrint then writes the PDF as usual (fields, tags, attachment).

A document opts in with ``render.SHARED_PAGES``, where its shared pages begin (a forced page break).
Reuse is checked, never assumed: two documents share pages only if their HTML after the marker is
the same and before it differs in nothing but the kit's own values (ids and names); the first
document of a selection is laid out whole and its own stamp must reproduce its cover and furniture
exactly (checked when a second candidate of the selection comes, so a roster where nobody shares
pays nothing); and every later stamp must paginate the same. Anything else is laid out whole.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from markupsafe import escape
from weasyprint.document import Document, Page
from weasyprint.formatting_structure.boxes import MarginBox, TextBox

from kit.render import SHARED_PAGES

ANCHOR = "shared-pages"  # the marker's id
BLANK = '<div class="shared-pages"></div>'  # one more page in a stamp: the same forced page break

Render = Callable[[str], Document]


@dataclass(frozen=True)
class _Unchecked:
    document: Document  # the first candidate's, laid out whole
    before: str  # its HTML before the marker


@dataclass(frozen=True)
class _Shared:
    document: Document  # the first candidate's, laid out whole
    first: int  # index of its first shared page


class Layouts:
    """The shared pages of the last ``keep`` selections a worker printed (a bounded memory)."""

    def __init__(self, keep: int = 2) -> None:
        self._kept: OrderedDict[bytes, _Unchecked | _Shared | None] = OrderedDict()
        self._keep = keep
        self.reused = 0  # documents made from kept pages, for tests and the benchmark

    def document(self, html: str, per_kit: Sequence[str], render: Render) -> Document:
        """``html`` laid out: from kept pages where it shares them, else whole. ``per_kit`` are the
        values (ids, names) in which documents of one selection may differ."""
        if html.count(SHARED_PAGES) != 1:
            return render(html)
        before, after = html.split(SHARED_PAGES)
        key = _key(before, after, per_kit)
        if key not in self._kept:
            whole = render(html)
            self._kept[key] = _Unchecked(whole, before)  # checked when a second candidate comes
            if len(self._kept) > self._keep:
                self._kept.popitem(last=False)
            return whole
        self._kept.move_to_end(key)
        shared = self._kept[key]
        if isinstance(shared, _Unchecked):
            shared = self._kept[key] = _checked(shared.document, shared.before, render)
        stamped = _stamped(shared, before, render) if shared else None
        if stamped is None:
            return render(html)
        self.reused += 1
        return stamped


def _key(before: str, after: str, per_kit: Sequence[str]) -> bytes:
    """Equal for two documents whose HTML differs only in their own values before the marker."""
    for value in sorted({str(escape(v)) for v in per_kit if v}, key=len, reverse=True):
        before = before.replace(value, "\0")
    return hashlib.sha256(f"{before}\0{SHARED_PAGES}\0{after}".encode()).digest()


def _checked(whole: Document, before: str, render: Render) -> _Shared | None:
    """The whole layout, kept for reuse if its own stamp reproduces its cover pages and the furniture
    of every page (else None: this selection is always laid out whole)."""
    first = _first_shared(whole)
    if first is None or any(page._page_box.page_type.name for page in whole.pages[first:]):
        return None  # no marker laid out, or named pages a stamp would not reproduce
    stamp = render(_stamp_html(before, len(whole.pages) - first))
    same = (len(stamp.pages) == len(whole.pages) and _first_shared(stamp) == first
            and all(_text(a, whole_page=True) == _text(b, whole_page=True) for a, b in zip(stamp.pages[:first], whole.pages))
            and all(_text(a) == _text(b) for a, b in zip(stamp.pages[first:], whole.pages[first:])))
    return _Shared(whole, first) if same else None


def _stamped(shared: _Shared, before: str, render: Render) -> Document | None:
    """A candidate's document: their stamp's cover pages, then the kept pages under their furniture."""
    kept, first = shared.document.pages, shared.first
    stamp = render(_stamp_html(before, len(kept) - first))
    if len(stamp.pages) != len(kept) or _first_shared(stamp) != first:
        return None
    pages = [*stamp.pages[:first], *(_under(body, furniture) for body, furniture in zip(kept[first:], stamp.pages[first:]))]
    return stamp.copy(pages)


def _stamp_html(before: str, shared_pages: int) -> str:
    return before + SHARED_PAGES + BLANK * (shared_pages - 1)


def _first_shared(document: Document) -> int | None:
    return next((n for n, page in enumerate(document.pages) if ANCHOR in page.anchors), None)


def _under(body: Page, furniture: Page) -> Page:
    """``body``'s content under ``furniture``'s margin boxes (header, footer, page number)."""
    content = [box for box in body._page_box.children if not isinstance(box, MarginBox)]
    margins = [box for box in furniture._page_box.children if isinstance(box, MarginBox)]
    return Page(body._page_box.copy_with_children([*content, *margins]))


def _text(page: Page, whole_page: bool = False) -> tuple[object, ...]:
    """What a page shows in its margin boxes (or everywhere), and its size."""
    boxes = [page._page_box] if whole_page else [b for b in page._page_box.children if isinstance(b, MarginBox)]
    texts = [d.text for box in boxes for d in box.descendants() if isinstance(d, TextBox)]
    return (page.width, page.height, *texts)
