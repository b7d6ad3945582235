"""A kill at any point leaves the old kit or the new one, whole; the next run clears what was left;
a killed batch takes its workers with it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import select
from pathlib import Path

import pytest

from kit import output
from tests.conftest import until

QUICK = ["--role", "cv-engineer", "--level", "senior"]


def _kitgen(*args: str | Path) -> list[str]:
    return [sys.executable, "-m", "kit", *map(str, args)]


KILLER = """
import os, shutil, signal, sys
from pathlib import Path
from kit import output
from tests.conftest import until

folder, target, call, exchange = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3]), sys.argv[4] == "yes"
module, name = target.rsplit(".", 1)
owner = {"output": output, "os": output.os, "shutil": output.shutil}[module]
original, calls = getattr(owner, name), []

def killed(*args, **kwargs):
    calls.append(1)
    if len(calls) == call:
        os.kill(os.getpid(), signal.SIGKILL)
    return original(*args, **kwargs)

setattr(owner, name, killed)
if not exchange:
    output._exchange = lambda a, b: False
output.write_kit(folder, {"interviewer.pdf": b"new", "prescreen.pdf": b"new", "kit.yaml": b"new"}, force=True)
"""
POINTS = [  # (what the kill interrupts, the call it lands on)
    ("output._write", 1), ("output._write", 3), ("output._sync", 1), ("output._swap", 1), ("output._exchange", 1),
    ("output._sync", 2), ("shutil.rmtree", 1), ("os.rename", 1), ("os.rename", 2), ("os.rename", 3),
]


@pytest.mark.parametrize("exchange", ["yes", "no"], ids=["exchange", "two-renames"])
@pytest.mark.parametrize("target, call", POINTS, ids=[f"{t}#{c}" for t, c in POINTS])
def test_a_kill_at_any_point_leaves_the_old_kit_or_the_new_one(tmp_path: Path, target: str, call: int,
                                                               exchange: str) -> None:
    folder = tmp_path / "kit"
    output.write_kit(folder, {"interviewer.pdf": b"old", "prescreen.pdf": b"old", "kit.yaml": b"old"}, force=False)
    process = subprocess.run([sys.executable, "-c", KILLER, folder, target, str(call), exchange], capture_output=True)
    assert process.returncode in (0, -signal.SIGKILL), process.stderr
    output.write_files(tmp_path, {"later.txt": b"x"})  # whoever writes next clears what the kill left
    contents = {p.name: p.read_bytes() for p in folder.iterdir()}
    assert contents in ({n: b"old" for n in contents}, {n: b"new" for n in contents})
    assert sorted(contents) == ["interviewer.pdf", "kit.yaml", "prescreen.pdf"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["kit", "later.txt"]


def test_a_kill_between_two_renames_is_undone_by_the_next_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Where the system cannot exchange two folders in one step, the old kit is set aside first: a kill
    then leaves it hidden, and whoever next writes the folder puts it back."""
    folder = tmp_path / "kit"
    output.write_kit(folder, {"interviewer.pdf": b"old", "kit.yaml": b"old"}, force=False)
    monkeypatch.setattr(output, "_exchange", lambda a, b: False)
    renames = []

    def killed_after_one(source: object, target: object) -> None:
        renames.append((source, target))
        if len(renames) == 2:
            raise KeyboardInterrupt  # the kill
        os.replace(source, target)

    monkeypatch.setattr(output.os, "rename", killed_after_one)
    with pytest.raises(KeyboardInterrupt):
        output.write_kit(folder, {"interviewer.pdf": b"new", "kit.yaml": b"new"}, force=True)
    monkeypatch.undo()
    assert not folder.exists() and any(p.name.startswith(".kitgen-old-kit-") for p in tmp_path.iterdir())
    output.write_files(tmp_path, {"notes.txt": b"x"})  # any later write to the folder
    assert (folder / "kit.yaml").read_bytes() == b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["kit", "notes.txt"]
    monkeypatch.setattr(output, "_exchange", lambda a, b: False)
    output.write_kit(folder, {"interviewer.pdf": b"new", "kit.yaml": b"new"}, force=True)
    assert (folder / "kit.yaml").read_bytes() == b"new" and sorted(p.name for p in tmp_path.iterdir()) == ["kit", "notes.txt"]


def test_stale_temporary_files_and_old_lock_files_are_cleared(tmp_path: Path) -> None:
    stale = [".kitgen-part-a.pdf-k3j4h5g6", ".kitgen.lock", ".kitgen-probe-abcdefgh", ".kitgen-new-kit-abcd1234"]
    for name in stale[:3]:
        (tmp_path / name).write_bytes(b"x")
    (tmp_path / stale[3]).mkdir()
    mine = [".mine", ".draft.20240101.part", ".photos.new-2024_jan", ".thesis.old-20240101"]  # users' own
    for name in mine:
        (tmp_path / name).mkdir()
    output.write_files(tmp_path, {"a.pdf": b"x"})
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([*mine, "a.pdf"])


def test_a_folder_holding_anything_but_a_kit_is_never_replaced(tmp_path: Path) -> None:
    folder = tmp_path / "kit"
    output.write_kit(folder, {"interviewer.pdf": b"old", "kit.yaml": b"old"}, force=False)
    (folder / "debrief.pdf").write_bytes(b"the committee's debrief")
    with pytest.raises(output.KitgenError, match="holds 'debrief.pdf', which is not part of a kit"):
        output.write_kit(folder, {"interviewer.pdf": b"new"}, force=True)
    assert (folder / "debrief.pdf").read_bytes() == b"the committee's debrief"
    assert (folder / "kit.yaml").read_bytes() == b"old"


def _children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        found += [int(c) for c in (task / "children").read_text().split()]
    return found


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="needs Linux's /proc to find the workers")
def test_a_killed_batch_takes_its_workers_with_it(tmp_path: Path) -> None:
    roster = tmp_path / "roster.csv"
    roster.write_text("candidate,role,level\n" + "".join(f"C{n},nlp-engineer,junior\n" for n in range(6)))
    batch = subprocess.Popen(_kitgen("batch", roster, "--out", tmp_path / "out", "--workers", "2"),
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    until(batch.stderr, "Making kits: 1 of 6")  # both workers are running by then
    workers = _children(batch.pid)  # the two workers and multiprocessing's resource tracker
    assert len(workers) >= 2
    ends = [os.pidfd_open(w) for w in workers]  # readable once that process has ended
    batch.send_signal(signal.SIGKILL)
    batch.wait()
    for end in ends:  # a bound on waiting, not a timed assertion
        assert select.select([end], [], [], 60)[0], "a worker outlived its batch"
        os.close(end)
