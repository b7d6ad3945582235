"""``kitgen explain``: for each competency and question of a kit, the layer and file it came from."""

from __future__ import annotations

from kit.load import position
from kit.merge import Source
from kit.select import select_kit
from kit.library import Library


def explain(library: Library, role_id: str, level: str, seed: int = 1) -> str:
    """A readable account of where every part of one kit was defined or changed."""
    kit = select_kit(library, role_id, level, seed)
    role_sources = library.sources[f"role:{kit.role.id}"]
    lines = [
        f"Kit: {kit.role.id} {level}, seed {seed}",
        "Layers, bottom first: " + "; ".join(layer.name for layer in library.layers),
        "",
        f"Role {kit.role.id}" + (f" (extends {kit.role.extends})" if kit.role.extends else ""),
        *_origins(role_sources),
        "",
        "Competencies",
    ]
    for weight in kit.role.weights_for(level):
        comp = library.competency(weight.id)
        lines.append(f"  {comp.id} · weight {weight.weight:g} · {comp.title}")
        lines += _origins(library.sources[f"competency:{comp.id}"], "    rubric ")
        lines.append(f"    weight set in {_weight_origin(role_sources, comp.id)}")
    lines += ["", "Questions"]
    for number, question in enumerate(kit.questions + kit.prescreen, 1):
        label = f"Q{number}" if number <= len(kit.questions) else "prescreen"
        lines.append(f"  {label} {question.id} · {question.competency}")
        lines += _origins(library.sources[f"question:{question.id}"], "    ")
    return "\n".join(lines)


def _weight_origin(role_sources: list[Source], competency_id: str) -> str:
    """The last role file that gives this competency's weight, at the line where it does."""
    for source in reversed(role_sources):
        for index, entry in enumerate(source.raw.get("competencies", [])):
            if isinstance(entry, dict) and entry.get("id") == competency_id:
                where = position(source.path, (*source.loc, "competencies", index))
                return f"{source.layer.split(' ')[0]}: {source.path}:{where[0] if where else '?'}"
    return "?"


def _origins(sources: list[Source], prefix: str = "  ") -> list[str]:
    """One line per contribution: 'defined in' for the first, 'changed in' for the rest."""
    return [
        f"{prefix}{'defined' if n == 0 else 'changed'} in {s.layer.split(' ')[0]}: {s.path}:{s.line()}"
        + ("" if n == 0 else f" ({', '.join(k for k in s.raw if k != 'id')})")
        for n, s in enumerate(sources)
    ]
