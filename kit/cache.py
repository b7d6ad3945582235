"""A cache of work that depends only on file contents, which cannot be turned against its user.

- Names are hashes of the bytes read and kitgen's version, so an edited file is never served stale.
- Entries are data only (parsed YAML as marshal of plain values, or text), never code or pickles,
  and each carries an HMAC made with a secret key kept in the folder: a planted, copied or damaged
  entry fails the check and is ignored.
- The folder must be a real directory owned by the user that no one else can open (the check
  Jinja's bytecode cache makes); otherwise kitgen works without it.
- Every failure to read or write is a silent fallback to no cache.

``KITGEN_CACHE_DIR`` moves the folder (default ``$XDG_CACHE_HOME/kitgen`` or ``~/.cache/kitgen``);
``KITGEN_CACHE=off`` turns it off; deleting the folder clears it.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import stat
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path

from kit import __version__

KEY_NAME = "key"
MAX_ENTRY = 64 * 1024 * 1024  # bytes; a larger file in the folder is not kitgen's
_TAG = 32  # bytes of HMAC-SHA256 in front of each entry


def folder() -> Path | None:
    """The cache folder, or None when the cache is off."""
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
    """The data stored under ``name``, if it is there and was written by this user's kitgen."""
    try:
        where, secret = _open()
        entry = where / name
        info = entry.lstat()
        if not stat.S_ISREG(info.st_mode) or info.st_size > MAX_ENTRY:
            return None
        data = entry.read_bytes()
    except (OSError, TypeError):
        return None
    tag, payload = data[:_TAG], data[_TAG:]
    return payload if hmac.compare_digest(tag, _sign(secret, name, payload)) else None


def write(name: str, data: bytes) -> None:
    """Store ``data`` under ``name`` atomically; any failure is ignored (the cache is only an optimisation)."""
    try:
        where, secret = _open(create=True)
        fd, temp = tempfile.mkstemp(dir=where, prefix=".", suffix=".part")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(_sign(secret, name, data) + data)
            os.replace(temp, where / name)
        finally:
            if os.path.exists(temp):
                os.unlink(temp)
    except (OSError, TypeError):
        pass


def memo_text(kind: str, paths: Iterable[Path], compute: Callable[[], str]) -> str:
    """``compute()``'s text, or the text it gave before for the same files' contents."""
    name = f"{kind}-{files_key(paths, kind)}.txt"
    if (hit := read(name)) is not None:
        try:
            return hit.decode("utf-8")
        except UnicodeDecodeError:
            pass
    text = compute()
    write(name, text.encode("utf-8"))
    return text


def _sign(secret: bytes, name: str, data: bytes) -> bytes:
    return hmac.new(secret, name.encode() + b"\0" + data, hashlib.sha256).digest()


def _open(create: bool = False) -> tuple[Path, bytes]:
    """The folder and its secret key, once both are checked to be this user's alone.

    Raises OSError (or TypeError when the cache is off) for anything else, which callers treat as
    "no cache".
    """
    where = folder()
    if where is None:
        raise TypeError("the cache is off")
    if create and not os.path.lexists(where):
        where.mkdir(mode=0o700, parents=True)
    _private(where, stat.S_ISDIR)
    path = where / KEY_NAME
    if create and not os.path.lexists(path):
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(secrets.token_bytes(32))
    _private(path, stat.S_ISREG)
    secret = path.read_bytes()
    if len(secret) != 32:
        raise OSError(f"{path} is not a cache key")
    return where, secret


def _private(path: Path, kind: Callable[[int], bool]) -> None:
    """Refuse (OSError) ``path`` unless it is of ``kind``, not a link, this user's, and closed to others."""
    info = path.lstat()
    if not kind(info.st_mode) or info.st_uid != getattr(os, "getuid", lambda: info.st_uid)():
        raise OSError(f"{path} is not this user's")
    if info.st_mode & 0o077:
        os.chmod(path, stat.S_IMODE(info.st_mode) & 0o700)  # our own folder, opened up: close it, as Jinja does
