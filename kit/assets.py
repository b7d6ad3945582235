"""Where kitgen's own files live: inside the installed package, or at the top of a checkout."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from urllib.parse import unquote, urlsplit

_HERE = Path(__file__).resolve().parent


def asset_dir(name: str) -> Path:
    """The folder ``templates``, ``questions`` or ``rubrics`` that ships with kitgen.

    A wheel carries them inside the package; a checkout (or editable install) keeps them at the top.
    """
    packaged = _HERE / name
    return packaged if packaged.is_dir() else _HERE.parent / name


def local_asset(url: str, roots: Sequence[Path]) -> Path | None:
    """The file a ``file:`` or relative URL (relative to kitgen's templates) names, if it lies inside
    ``roots`` once symbolic links are resolved; None for any other URL. What printing may read."""
    parts = urlsplit(url)
    if parts.scheme not in ("", "file") or parts.netloc:
        return None
    path = (asset_dir("templates") / unquote(parts.path)).resolve()
    return path if any(path.is_relative_to(root.resolve()) for root in roots) else None
