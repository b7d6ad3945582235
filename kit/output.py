"""Step 6, write: put a kit's files in its folder, atomically, never clobbering without ``--force``.

Each file is written to a temporary name in the same folder and renamed into place only when
every file of the kit has been written, so an interrupted run leaves no half-written PDF.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from kit.errors import KitgenError

_UMASK = os.umask(0o022)
os.umask(_UMASK)


def kit_folder(out: Path, role: str, level: str, candidate: str | None) -> Path:
    """``out/<role>-<level>[-<candidate>]`` with the candidate's name made safe for a folder."""
    return out / "-".join(part for part in (role, level, candidate and slug(candidate)) if part)


_RESERVED = {"con", "prn", "aux", "nul", *(f"com{n}" for n in range(10)), *(f"lpt{n}" for n in range(10))}


def slug(name: str) -> str:
    """Lowercase words joined by hyphens: safe as a folder name on any system (no dots, no slashes,
    no name Windows reserves)."""
    text = "-".join(re.findall(r"\w+", name.lower()))[:60].strip("-_")
    return f"{text}-" if text in _RESERVED else text or "candidate"


def prepare(folder: Path, names: list[str], force: bool) -> None:
    """Make sure ``folder`` can take the kit's files before any work is done."""
    _refuse_to_clobber(folder, names, force)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(dir=folder, prefix=".kitgen-probe-")
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        raise KitgenError(f"cannot write to output folder {folder}: {exc.strerror or exc}; choose another with --out") from None


def _refuse_to_clobber(folder: Path, names: list[str], force: bool) -> None:
    links = [p for p in (folder, *(folder / n for n in names)) if p.is_symlink()]
    if links:
        raise KitgenError(f"{links[0]} is a symbolic link; kitgen does not write through links (remove it or use --out)")
    existing = [name for name in names if (folder / name).exists()]
    if existing and not force:
        raise KitgenError(
            f"{folder} already holds a kit ({', '.join(existing)}); "
            "pass --force to replace it or --out to write somewhere else"
        )


@contextmanager
def _locked(folder: Path) -> Iterator[None]:
    """One kitgen at a time writes a folder, so a kit never mixes two runs' files."""
    try:
        import fcntl  # noqa: PLC0415 - POSIX only; elsewhere the renames alone keep each file whole
    except ImportError:
        yield
        return
    lock = folder / ".kitgen.lock"
    with open(lock, "w") as handle:  # noqa: PTH123
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            raise KitgenError(f"another kitgen is writing {folder}; try again when it has finished") from None
        try:
            yield
        finally:
            lock.unlink(missing_ok=True)


def write_files(folder: Path, files: dict[str, bytes], force: bool = True) -> list[Path]:
    """Write every file under a temporary name, then rename them all into place.

    Under a lock on the folder, the check against replacing files (unless ``force``) is made
    again, so two runs racing for one folder cannot mix or clobber each other's files.
    """
    temps: dict[str, str] = {}
    try:
        for name, data in files.items():
            fd, temps[name] = tempfile.mkstemp(dir=folder, prefix=f".{name}.", suffix=".part")
            os.fchmod(fd, 0o666 & ~_UMASK)  # mkstemp makes 0600; a kit is an ordinary file
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
        with _locked(folder):
            _refuse_to_clobber(folder, list(files), force)
            for name, temp in temps.items():
                os.replace(temp, folder / name)
    except OSError as exc:
        raise KitgenError(f"cannot write the kit to {folder}: {exc.strerror or exc}; the kit was not written") from None
    finally:
        for temp in temps.values():
            if os.path.exists(temp):
                os.unlink(temp)
    return [folder / name for name in files]
