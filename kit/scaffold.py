"""``kitgen init``: write a commented, working team folder from kitgen's own example."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

from kit import output
from kit.assets import asset_dir
from kit.errors import KitgenError
from kit.schema import write_schemas


def scaffold(folder: Path) -> list[Path]:
    """Copy the example team folder into ``folder`` (refusing to overwrite) and add the schemas."""
    example = asset_dir("templates") / "init"
    files = sorted(p for p in example.rglob("*") if p.is_file())
    clashes = [folder / p.relative_to(example) for p in files if (folder / p.relative_to(example)).exists()]
    if clashes:
        raise KitgenError(f"{clashes[0]} already exists; kitgen init only writes into a new or empty folder")
    by_folder: dict[Path, dict[str, bytes]] = defaultdict(dict)
    for path in files:
        target = folder / path.relative_to(example)
        by_folder[target.parent][target.name] = path.read_bytes()
    written: list[Path] = []
    for target_folder, contents in by_folder.items():
        output.prepare(target_folder, list(contents), force=False)
        written += output.write_files(target_folder, contents, force=False)
    return written + write_schemas(folder / "schemas")
