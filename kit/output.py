"""Step 6, write: put files on disk whole or not at all, never clobbering what is not kitgen's.

- A kit folder is written as a fresh hidden sibling and swapped into place in one atomic exchange
  (two renames where the system has no exchange), so a kill leaves the old kit or the new one.
- Single files (a debrief, ``print.pdf``) are written under a temporary name and renamed into place.
- Writers of one folder take turns (a lock on the folder itself), and whoever holds the lock first
  clears what a killed run left behind: temporary files and folders, and an old kit set aside
  between two renames is put back.
"""

from __future__ import annotations

import ctypes
import errno
import hashlib
import os
import re
import shutil
import tempfile
import time
import unicodedata
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

from kit.errors import KitgenError

_UMASK = os.umask(0o022)
os.umask(_UMASK)

KIT_FILE = re.compile(r"(interviewer(-[a-z0-9-]+)?|prescreen|screener|calibration)\.(pdf|html)|kit\.yaml")
_LEFTOVER = re.compile(  # kitgen's temporary names, all ".kitgen-…" (tempfile adds 8 random characters)
    r"\.kitgen-(?P<kind>new|old)-(?P<name>.+)-\w{8}|\.kitgen-part-.+-\w{8}|\.kitgen-probe-\w{8}|\.kitgen\.lock")
MAX_NAME = 80  # bytes (UTF-8) of a candidate's name in a folder name
MAX_FOLDER = 255 - len(".kitgen-new--12345678")  # bytes of a kit folder's name, so its temporary name fits too
LOCK_WAIT = 30.0  # seconds to wait for another kitgen writing the same folder

Content = bytes | Callable[[BinaryIO], object]  # the bytes, or a function that writes them to a file


# --- Names -----------------------------------------------------------------------------------------


def kit_folder(out: Path, role: str, level: str, candidate: str | None, stage: str | None = None) -> Path:
    """``out/<role>-<level>[-<candidate>][-<stage>]`` with the candidate's name made safe for a folder."""
    name = "-".join(part for part in (role, level, candidate and slug(candidate), stage) if part)
    if len(name.encode()) > MAX_FOLDER:
        raise KitgenError(f"the kit's folder name {name[:40]}… would be {len(name.encode())} bytes, more than file "
                          f"systems allow ({MAX_FOLDER}); use shorter role or stage ids")
    return out / name


_RESERVED = {"con", "prn", "aux", "nul", *(f"com{n}" for n in range(10)), *(f"lpt{n}" for n in range(10))}


def slug(name: str) -> str:
    """Lowercase words joined by hyphens, safe as a folder name on any system.

    Names that read alike give the same slug (case, accents composed or not, punctuation), so a
    roster can tell when two rows would share a folder; a name longer than :data:`MAX_NAME` bytes
    keeps a hash of the whole, so names that differ only past it stay apart.
    """
    words = re.findall(r"\w+", unicodedata.normalize("NFKC", name).casefold())
    text = "-".join(words).strip("_")
    if not text.strip("-_"):
        raise KitgenError(f"the name {name[:80]!r} has no letters or digits to name its folder; write the name out")
    if len(text.encode()) > MAX_NAME:
        head = text.encode()[:MAX_NAME - 9].decode("utf-8", "ignore").rstrip("-_")
        text = f"{head}-{hashlib.sha256(text.encode()).hexdigest()[:8]}"
    return f"{text}-" if text in _RESERVED else text


# --- Kits: whole folders ---------------------------------------------------------------------------


def prepare_kit(folder: Path, force: bool) -> None:
    """Make sure ``folder`` can take a kit before any work is done."""
    _refuse_to_replace(folder, force)
    _probe(folder.parent)


def write_kit(folder: Path, files: dict[str, Content], force: bool) -> list[Path]:
    """Write ``files`` as the whole of ``folder``: an earlier kit there is replaced as one."""
    parent = folder.parent
    with _locked(parent):
        _refuse_to_replace(folder, force)
        fresh = Path(tempfile.mkdtemp(dir=parent, prefix=f".kitgen-new-{folder.name}-"))
        try:
            for name, content in files.items():
                _write(fresh / name, content)
            os.chmod(fresh, 0o777 & ~_UMASK)  # mkdtemp makes 0700; a kit is an ordinary folder
            _sync(fresh)
            _swap(fresh, folder)
            _sync(parent)
        except OSError as exc:
            raise KitgenError(f"cannot write the kit to {folder}: {exc.strerror or exc}; the kit was not written") from None
        finally:
            shutil.rmtree(fresh, ignore_errors=True)  # the old kit, after the swap
    return [folder / name for name in files]


def _refuse_to_replace(folder: Path, force: bool) -> None:
    """An existing folder is replaced only with ``force`` and only if all it holds is a kit."""
    if folder.is_symlink():
        raise KitgenError(f"{folder} is a symbolic link; kitgen does not write through links (remove it or use --out)")
    if not os.path.lexists(folder):
        return
    if not folder.is_dir():
        raise KitgenError(f"{folder} is a file, not a kit folder; move it or use --out")
    names = sorted(p.name for p in folder.iterdir() if not _LEFTOVER.fullmatch(p.name))
    foreign = [n for n in names if not KIT_FILE.fullmatch(n)]
    if foreign:
        raise KitgenError(f"{folder} holds {foreign[0]!r}, which is not part of a kit, so kitgen will not replace the "
                          "folder; move it out, or use --out")
    if names and not force:
        raise KitgenError(f"{folder} already holds a kit ({', '.join(names)}); "
                          "pass --force to replace it or --out to write somewhere else")


def _swap(fresh: Path, folder: Path) -> None:
    """Put ``fresh`` at ``folder``; what was there ends up at ``fresh``."""
    if not os.path.lexists(folder):
        os.rename(fresh, folder)
    elif not _exchange(fresh, folder):
        old = fresh.with_name(fresh.name.replace("-new-", "-old-", 1))
        os.rename(folder, old)  # a kill here leaves the old kit at ``old``; the next run puts it back
        os.rename(fresh, folder)
        os.rename(old, fresh)


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths atomically (Linux's renameat2 with RENAME_EXCHANGE); False where that is missing."""
    try:
        renameat2 = ctypes.CDLL(None, use_errno=True).renameat2
    except (OSError, AttributeError):
        return False
    at_cwd, exchange = -100, 2
    if renameat2(at_cwd, os.fsencode(a), at_cwd, os.fsencode(b), exchange) == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP):
        return False
    raise OSError(code, os.strerror(code), str(b))


# --- Single files ----------------------------------------------------------------------------------


def prepare(folder: Path, names: list[str], force: bool) -> None:
    """Make sure ``folder`` can take the files ``names`` before any work is done."""
    _refuse_to_clobber(folder, names, force)
    _probe(folder)


def _refuse_to_clobber(folder: Path, names: list[str], force: bool) -> None:
    links = [p for p in (folder, *(folder / n for n in names)) if p.is_symlink()]
    if links:
        raise KitgenError(f"{links[0]} is a symbolic link; kitgen does not write through links (remove it or use --out)")
    existing = [name for name in names if (folder / name).exists()]
    if existing and not force:
        raise KitgenError(
            f"{folder} already holds {', '.join(existing)}; pass --force to replace it or --out to write somewhere else")


def write_files(folder: Path, files: dict[str, Content], force: bool = True) -> list[Path]:
    """Write every file under a temporary name, then rename them all into place.

    Under the folder's lock the check against replacing files (unless ``force``) is made again, so
    two runs racing for one folder cannot mix or clobber each other's files.
    """
    temps: dict[str, str] = {}
    try:
        with _locked(folder):
            for name, content in files.items():
                fd, temps[name] = tempfile.mkstemp(dir=folder, prefix=f".kitgen-part-{name}-")
                os.close(fd)
                _write(Path(temps[name]), content)
            _refuse_to_clobber(folder, list(files), force)
            for name, temp in temps.items():
                os.replace(temp, folder / name)
    except OSError as exc:
        raise KitgenError(f"cannot write to {folder}: {exc.strerror or exc}; nothing was written") from None
    finally:
        for temp in temps.values():
            if os.path.exists(temp):
                os.unlink(temp)
    return [folder / name for name in files]


# --- Shared ----------------------------------------------------------------------------------------


def _write(path: Path, content: Content) -> None:
    """Write and flush one file to disk, as an ordinary file (mode from the umask)."""
    with open(path, "wb") as handle:  # noqa: PTH123
        os.fchmod(handle.fileno(), 0o666 & ~_UMASK)
        if callable(content):
            content(handle)
        else:
            handle.write(content)
        handle.flush()
        os.fsync(handle.fileno())


def _sync(folder: Path) -> None:
    """Flush a folder's entries to disk (where the system allows it)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _probe(folder: Path) -> None:
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(dir=folder, prefix=".kitgen-probe-")
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        raise KitgenError(f"cannot write to output folder {folder}: {exc.strerror or exc}; choose another with --out") from None


@contextmanager
def _locked(folder: Path) -> Iterator[None]:
    """Hold ``folder``'s lock (an advisory lock on the folder itself: no lock file to leave behind),
    and clear what killed runs left there."""
    try:
        import fcntl  # noqa: PLC0415 - POSIX only; elsewhere the renames alone keep each file whole
    except ImportError:
        yield
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        deadline = time.monotonic() + LOCK_WAIT
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise KitgenError(f"another kitgen has been writing {folder} for {LOCK_WAIT:.0f} s; "
                                      "try again when it has finished") from None
                time.sleep(0.05)
        _clear_leftovers(folder)
        yield
    finally:
        os.close(fd)


def _clear_leftovers(folder: Path) -> None:
    """Remove what a killed kitgen left in ``folder`` (only a run holding the lock makes these, so any
    found now are stale); an old kit set aside between two renames goes back if nothing replaced it."""
    for entry in folder.iterdir():
        if not (match := _LEFTOVER.fullmatch(entry.name)):
            continue
        target = folder / match["name"] if match["name"] else None
        try:
            if match["kind"] == "old" and target and not os.path.lexists(target):
                os.rename(entry, target)
            elif entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry)
            else:
                entry.unlink()
        except OSError:
            pass
