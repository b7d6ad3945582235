"""Step 1, load: read YAML files into plain Python data, safely, refusing duplicate keys.

Parsing uses libyaml's C loader where it is installed. Line numbers are only needed when
something is wrong, so :func:`position` re-reads one file with the composer on demand instead
of carrying marks through every load.
"""

from __future__ import annotations

import gc
import marshal
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml

from kit import cache
from kit.errors import InputError, Problem

_BaseLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


# Bounds that no real bank comes near, so hostile files end quickly with a clear error.
MAX_BYTES = 32 * 1024 * 1024  # one file
MAX_NODES = 2_000_000  # values once aliases are expanded ("billion laughs")
MAX_DEPTH = 64  # nesting


class _StrictLoader(_BaseLoader):  # type: ignore[misc, valid-type]
    """Safe loader that refuses a key given twice in one mapping (PyYAML keeps the last), and
    documents that would expand past :data:`MAX_NODES` values or nest deeper than :data:`MAX_DEPTH`.
    """

    def construct_document(self, node: yaml.Node) -> Any:
        _check_size(node)
        return super().construct_document(node)

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)
            if not isinstance(key, (str, int, float, bool, type(None))):
                raise yaml.constructor.ConstructorError(
                    None, None, "a key must be a plain value, not a list or mapping", key_node.start_mark)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"key {key!r} is given twice in this mapping", key_node.start_mark
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)



def _check_size(root: yaml.Node) -> None:
    """Count the values a document expands to, aliases included, in time linear in its nodes."""
    sizes: dict[int, int] = {}
    stack: list[tuple[yaml.Node, int, bool]] = [(root, 1, False)]
    while stack:
        node, depth, done = stack.pop()
        if id(node) in sizes and not done:
            continue
        if depth > MAX_DEPTH:
            raise yaml.constructor.ConstructorError(
                None, None, f"values are nested more than {MAX_DEPTH} deep", node.start_mark)
        children = [n for pair in node.value for n in pair] if isinstance(node, yaml.MappingNode) else \
            list(node.value) if isinstance(node, yaml.SequenceNode) else []
        if done:
            sizes[id(node)] = 1 + sum(sizes[id(child)] for child in children)
            if sizes[id(node)] > MAX_NODES:
                raise yaml.constructor.ConstructorError(
                    None, None, f"aliases expand this document past {MAX_NODES:,} values", node.start_mark)
        else:
            stack.append((node, depth, True))
            stack += [(child, depth + 1, False) for child in children if id(child) not in sizes]


def read_yaml(path: Path) -> Any:
    """Parse one YAML file; a syntax error or unreadable file becomes an :class:`InputError`.

    Parsed files are cached by content (marshal of plain values, signed: see cache.py), because
    parsing YAML is most of the cost of loading a large bank.
    """
    try:
        if path.stat().st_size > MAX_BYTES:
            raise InputError([Problem(path, None, f"larger than {MAX_BYTES // 2**20} MB; split it into smaller files")])
        raw = path.read_bytes()
        text = raw.decode("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError([Problem(path, None, f"cannot read this file: {_reason(exc)}")]) from None
    name = f"yaml-{cache.key(raw)}.marshal"
    if (hit := cache.read(name)) is not None:
        try:
            return marshal.loads(hit)
        except (EOFError, ValueError, TypeError):
            pass
    data = parse_text(path, text)
    try:
        cache.write(name, marshal.dumps(data))
    except ValueError:  # a value marshal cannot hold (a YAML date): just not cached
        pass
    return data


def parse_text(path: Path, text: str) -> Any:
    """Parse YAML ``text`` that came from ``path`` (a file, or a name for text from elsewhere), bounded
    like any file: size, alias expansion and depth; errors name the line and column."""
    if len(text) > MAX_BYTES:
        raise InputError([Problem(path, None, f"larger than {MAX_BYTES // 2**20} MB; split it into smaller files")])
    gc.disable()  # the collector costs more than half of parsing a large file of small objects
    try:
        return yaml.load(text, Loader=_StrictLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = (mark.line + 1, mark.column + 1) if mark else None
        message = " ".join(part for part in (exc.context, exc.problem) if part)
        raise InputError([Problem(path, where, f"not valid YAML: {message}; fix the syntax there")]) from None
    except yaml.reader.ReaderError as exc:
        line = text.count("\n", 0, exc.position) + 1
        column = exc.position - (text.rfind("\n", 0, exc.position) + 1) + 1
        raise InputError([Problem(path, (line, column), f"not valid YAML: {exc.reason} (character {exc.character!r})")]) from None
    except yaml.YAMLError as exc:
        raise InputError([Problem(path, None, "not valid YAML: " + " ".join(str(exc).split()))]) from None
    except RecursionError:
        raise InputError([Problem(path, None, "values are nested too deeply to read")]) from None
    except (ValueError, OverflowError) as exc:  # a scalar YAML cannot turn into a value (a 5,000-digit number)
        raise InputError([Problem(path, None, f"not valid YAML: a value cannot be read ({str(exc)[:80]})")]) from None
    finally:
        gc.enable()


def yaml_files(folder: Path) -> list[Path]:
    """The ``*.yaml``/``*.yml`` files of a folder, in a stable order."""
    return sorted(p for p in folder.iterdir() if p.suffix in {".yaml", ".yml"} and p.is_file())


def position(path: Path, loc: Iterable[str | int]) -> tuple[int, int] | None:
    """The 1-based (line, column) of ``loc`` (keys and list indexes) in ``path``.

    A key's position is where the key is written; a missing key falls back to the deepest
    part of ``loc`` that exists, so it points at the mapping that should hold it.
    """
    try:
        return position_in(path.read_text(encoding="utf-8"), loc)
    except (OSError, UnicodeDecodeError):
        return None


def position_in(text: str, loc: Iterable[str | int]) -> tuple[int, int] | None:
    """:func:`position` in YAML text that has no file of its own (a PDF's attachment)."""
    try:
        node = yaml.compose(text, Loader=_BaseLoader)  # same parser as the load
    except yaml.YAMLError:
        return None
    if node is None:
        return None
    mark = node.start_mark
    for part in loc:
        found = _child(node, part)
        if found is None:
            break
        mark, node = found[0].start_mark, found[1]
    return mark.line + 1, mark.column + 1


def _child(node: yaml.Node, part: str | int) -> tuple[yaml.Node, yaml.Node] | None:
    """The (node to point at, node to descend into) for one step of a path."""
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            if key.value == str(part):
                return key, value
    if isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
        return node.value[part], node.value[part]
    return None


def _reason(exc: Exception) -> str:
    return exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
