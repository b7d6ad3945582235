"""Where kitgen's own files live: inside the installed package, or at the top of a checkout."""

from __future__ import annotations

from pathlib import Path

_HERE = Path(__file__).resolve().parent


def asset_dir(name: str) -> Path:
    """The folder ``templates``, ``questions`` or ``rubrics`` that ships with kitgen.

    A wheel carries them inside the package; a checkout (or editable install) keeps them at the top.
    """
    packaged = _HERE / name
    return packaged if packaged.is_dir() else _HERE.parent / name
