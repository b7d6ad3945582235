"""A content-addressed cache of work that depends only on file contents.

Keys are hashes of the bytes read (and kitgen's version), so an edited file is never served
stale. The cache is an optimisation only: a missing, unreadable or unwritable cache folder is
ignored. ``KITGEN_CACHE_DIR`` moves it; ``KITGEN_CACHE=off`` turns it off.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path

from kit import __version__


def folder() -> Path | None:
    if os.environ.get("KITGEN_CACHE", "").lower() in ("0", "off", "no"):
        return None
    if configured := os.environ.get("KITGEN_CACHE_DIR"):
        return Path(configured)
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "kitgen"


def key(*parts: bytes | str) -> str:
    """A hash of kitgen's version and ``parts``."""
    digest = hashlib.sha256(__version__.encode())
    for part in parts:
        digest.update(part.encode() if isinstance(part, str) else part)
        digest.update(b"\0")
    return digest.hexdigest()[:32]


def files_key(paths: Iterable[Path], *extra: str) -> str | None:
    """A key for everything in ``paths`` (names and contents); None if one cannot be read."""
    parts: list[bytes | str] = list(extra)
    try:
        for path in paths:
            parts += [str(path), path.read_bytes()]
    except OSError:
        return None
    return key(*parts)


def read(name: str) -> bytes | None:
    where = folder()
    try:
        return (where / name).read_bytes() if where else None
    except OSError:
        return None


def write(name: str, data: bytes) -> None:
    """Store ``data`` atomically; failures are ignored (the cache is only an optimisation)."""
    where = folder()
    if where is None:
        return
    try:
        where.mkdir(parents=True, exist_ok=True)
        fd, temp = tempfile.mkstemp(dir=where, prefix=".", suffix=".part")
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(temp, where / name)
    except OSError:
        pass


def memo_text(kind: str, paths: Iterable[Path], compute: Callable[[], str]) -> str:
    """``compute()``'s text, or the text it gave before for the same files' contents."""
    name = f"{kind}-{files_key(paths, kind)}.txt"
    if (hit := read(name)) is not None:
        return hit.decode("utf-8")
    text = compute()
    write(name, text.encode("utf-8"))
    return text
