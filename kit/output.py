"""Step 6, write: put a kit's files in its folder, atomically, never clobbering without ``--force``.

Each file is written to a temporary name in the same folder and renamed into place only when
every file of the kit has been written, so an interrupted run leaves no half-written PDF.
"""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path

from kit.errors import KitgenError

_UMASK = os.umask(0o022)
os.umask(_UMASK)


def kit_folder(out: Path, role: str, level: str, candidate: str | None) -> Path:
    """``out/<role>-<level>[-<candidate>]`` with the candidate's name made safe for a folder."""
    return out / "-".join(part for part in (role, level, candidate and slug(candidate)) if part)


def slug(name: str) -> str:
    """Lowercase words joined by hyphens: safe as a folder name on any system."""
    words = re.findall(r"\w+", name.lower())
    return "-".join(words)[:60].strip("-_") or "candidate"


def prepare(folder: Path, names: list[str], force: bool) -> None:
    """Make sure ``folder`` can take the kit's files before any work is done."""
    existing = [name for name in names if (folder / name).exists()]
    if existing and not force:
        raise KitgenError(
            f"{folder} already holds a kit ({', '.join(existing)}); "
            "pass --force to replace it or --out to write somewhere else"
        )
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(dir=folder, prefix=".kitgen-probe-")
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        raise KitgenError(f"cannot write to output folder {folder}: {exc.strerror or exc}; choose another with --out") from None


def write_files(folder: Path, files: dict[str, bytes]) -> list[Path]:
    """Write every file under a temporary name, then rename them all into place."""
    temps: dict[str, str] = {}
    try:
        for name, data in files.items():
            fd, temps[name] = tempfile.mkstemp(dir=folder, prefix=f".{name}.", suffix=".part")
            os.fchmod(fd, 0o666 & ~_UMASK)  # mkstemp makes 0600; a kit is an ordinary file
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
        for name, temp in temps.items():
            os.replace(temp, folder / name)
    except OSError as exc:
        raise KitgenError(f"cannot write the kit to {folder}: {exc.strerror or exc}; the kit was not written") from None
    finally:
        for temp in temps.values():
            if os.path.exists(temp):
                os.unlink(temp)
    return [folder / name for name in files]
