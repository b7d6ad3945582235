"""Layer the YAML: each later layer adds entries and overrides earlier ones by id.

Entries (questions, competencies, roles, reference sections, fairness terms) are keyed by id.
An entry whose id a lower layer already has is a patch: mappings merge key by key, lists of
entries with ids merge by id, anything else is replaced. Every entry remembers each file and
place that contributed to it, so errors and ``kitgen explain`` can point there.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kit.errors import InputError, Problem, unknown
from kit.layers import Layer
from kit.load import position, read_yaml

# The top-level keys of each kind of file, and which of them hold a list of entries with ids.
SHAPES: dict[str, dict[str, str | None]] = {
    "banks": {"questions": "question"},
    "rubrics": {"scale": None, "recommendation": None, "decision": None, "screening": None, "competencies": "competency"},
    "reference": {"sections": "section"},
    "fairness": {"protected": "term"},
}


@dataclass(frozen=True)
class Source:
    """One contribution to an entry: which layer, file and place, and what it said there."""

    layer: str
    path: Path
    loc: tuple[str | int, ...]
    raw: dict[str, Any] = field(compare=False, hash=False, repr=False)

    def line(self) -> int | None:
        where = position(self.path, self.loc)
        return where[0] if where else None


def locate(sources: list[Source], loc: tuple[str | int, ...], merged: dict[str, Any] | None = None
           ) -> tuple[Path, tuple[int, int] | None]:
    """File and position of ``loc`` inside an entry: the last contribution that set it.

    An index into a merged list of entries is translated to that entry's index in the file.
    """
    key = loc[0] if loc else None
    item_id = None
    if merged is not None and len(loc) > 1 and isinstance(loc[1], int) and _keyed(merged.get(str(key))):
        item_id = merged[str(key)][loc[1]]["id"]
    for source in reversed(sources):
        if key is None or key in source.raw:
            if item_id is None:
                return source.path, position(source.path, source.loc + loc)
            ids = [e.get("id") for e in source.raw[key] if isinstance(e, dict)] if _keyed(source.raw[key]) else []
            if item_id in ids:
                return source.path, position(source.path, (*source.loc, key, ids.index(item_id), *loc[2:]))
    return sources[0].path, position(sources[0].path, sources[0].loc)


def problem_at(sources: list[Source], loc: tuple[str | int, ...], message: str,
               merged: dict[str, Any] | None = None) -> Problem:
    path, where = locate(sources, loc, merged)
    return Problem(path, where, message)


@dataclass
class Entry:
    """The merged data of one entry and everything that contributed to it, lowest layer first."""

    data: dict[str, Any]
    sources: list[Source] = field(default_factory=list)

    def problem(self, loc: tuple[str | int, ...], message: str) -> Problem:
        return problem_at(self.sources, loc, message, self.data)


@dataclass
class Merged:
    """Everything all layers say, merged: entries by kind and id, plus the scale parts."""

    entries: dict[str, dict[str, Entry]] = field(default_factory=lambda: {k: {} for k in (
        "question", "competency", "role", "section", "term")})
    parts: dict[str, Entry] = field(default_factory=dict)  # "scale", "recommendation", "decision", "screening"


def merge_layers(layers: list[Layer]) -> tuple[Merged, list[Problem]]:
    """Read every layer's files and merge them, bottom layer first, with every problem found.

    An entry with a problem (a duplicate id, a file that does not parse) is left out, so the
    rest can still be checked and all problems reported in one pass.
    """
    merged, problems = Merged(), []
    for layer in layers:
        seen: dict[tuple[str, str], Source] = {}
        for kind, paths in (("banks", layer.banks), ("rubrics", layer.rubrics), ("roles", layer.roles),
                            ("reference", layer.reference), ("fairness", layer.fairness)):
            for path in paths:
                try:
                    data = read_yaml(path)
                except InputError as exc:
                    problems += exc.problems
                    continue
                for what, key, loc, item in _entries(kind, path, data, problems):
                    source = Source(layer.name, path, loc, item)
                    if what in ("scale", "recommendation", "decision", "screening"):
                        merged.parts[what] = Entry({what: item[what]}, [source])
                    elif (what, key) in seen:
                        first = seen[(what, key)]
                        problems.append(Problem(path, position(path, (*loc, "id")),
                                                f"{what} id {key!r} is already used in {first.path}; give one of them a new id"))
                    else:
                        seen[(what, key)] = source
                        _add(merged.entries[what], key, item, source)
    problems += _resolve_extends(merged.entries["role"])
    return merged, problems


def _entries(kind: str, path: Path, data: Any, problems: list[Problem]) -> Iterator[tuple[str, str, tuple, dict]]:
    """(kind of entry, id, place, data) for each entry of one file; shape problems are recorded."""
    if kind == "roles":
        if _is_entry(data, path, (), problems):
            yield "role", data["id"], (), data
        return
    shape = SHAPES[kind]
    if not isinstance(data, dict):
        problems.append(Problem(path, position(path, ()), f"expected a mapping with {' / '.join(shape)}"))
        return
    for key, value in data.items():
        if key not in shape:
            problems.append(Problem(path, position(path, (key,)), unknown("key", str(key), list(shape))))
        elif shape[key] is None:
            yield key, key, (), {key: value}
        elif not isinstance(value, list):
            problems.append(Problem(path, position(path, (key,)), f"{key}: expected a list of entries, each with an id"))
        else:
            for index, item in enumerate(value):
                if _is_entry(item, path, (key, index), problems):
                    yield shape[key], item["id"], (key, index), item  # type: ignore[misc]


def _is_entry(item: Any, path: Path, loc: tuple, problems: list[Problem]) -> bool:
    if isinstance(item, dict) and isinstance(item.get("id"), str):
        return True
    problems.append(Problem(path, position(path, loc), "expected a mapping with an `id`"))
    return False


def _add(entries: dict[str, Entry], key: str, item: dict[str, Any], source: Source) -> None:
    if key in entries:
        entries[key].data = overlay(entries[key].data, item)
        entries[key].sources.append(source)
    else:
        entries[key] = Entry(item, [source])


def overlay(base: Any, patch: Any) -> Any:
    """``patch`` over ``base``: mappings by key, lists of entries by id, anything else replaced."""
    if isinstance(base, dict) and isinstance(patch, dict):
        return {**base, **{k: overlay(base[k], v) if k in base else v for k, v in patch.items()}}
    if _keyed(base) and _keyed(patch):
        by_id = {item["id"]: item for item in base}
        for item in patch:
            by_id[item["id"]] = overlay(by_id[item["id"]], item) if item["id"] in by_id else item
        return list(by_id.values())
    return patch


def _keyed(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(v, dict) and "id" in v for v in value) and bool(value)


def _resolve_extends(roles: dict[str, Entry]) -> list[Problem]:
    """A role with ``extends`` starts from its base role's merged profile; a broken chain drops the role."""
    problems: list[Problem] = []
    done: set[str] = set()
    broken: set[str] = set()

    def resolve(key: str, chain: tuple[str, ...]) -> None:
        entry = roles[key]
        base = entry.data.get("extends")
        if key in done or not base:
            done.add(key)
            return
        if base not in roles or base in chain:
            why = "extends itself through a cycle" if base in chain else unknown("role", str(base), sorted(roles))
            problems.append(entry.problem(("extends",), f"role {key!r}: {why}"))
            done.add(key)
            broken.add(key)
            return
        resolve(base, (*chain, key))
        inherited = {k: v for k, v in roles[base].data.items() if k not in ("id", "extends")}
        entry.data = {**overlay(inherited, entry.data), "extends": base}
        entry.sources[:0] = [s for s in roles[base].sources if s not in entry.sources]
        done.add(key)

    for key in list(roles):
        resolve(key, ())
    for key in broken:
        del roles[key]
    return problems

