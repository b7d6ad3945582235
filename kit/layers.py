"""Where the YAML comes from: kitgen's built-in layer, then a team's layer named by its kitgen.yaml.

A layer is a set of files; later layers add entries and override earlier ones by id (see merge.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from kit.assets import asset_dir
from kit.errors import InputError, Problem
from kit.load import position, yaml_files

if TYPE_CHECKING:
    from kit.models import BrandSettings

CONFIG_NAME = "kitgen.yaml"
LOGO_TYPES = (".svg", ".png")
MAX_LOGO = 1024 * 1024  # bytes


@dataclass(frozen=True)
class Brand:
    """The company on a team's documents; ``logo`` is a checked file inside the team folder."""

    company: str
    logo: Path | None = None
    accent: str | None = None


@dataclass(frozen=True)
class Layer:
    """The files one layer contributes, by kind."""

    name: str
    banks: tuple[Path, ...] = ()
    rubrics: tuple[Path, ...] = ()
    roles: tuple[Path, ...] = ()
    reference: tuple[Path, ...] = ()
    fairness: tuple[Path, ...] = ()
    templates: Path | None = None
    stack: tuple[str, ...] | None = None  # the team's frameworks; None: every question suits
    brand: Brand | None = None

    @property
    def files(self) -> tuple[Path, ...]:
        """Every YAML file of the layer."""
        return self.banks + self.rubrics + self.roles + self.reference + self.fairness


def builtin_layer() -> Layer:
    """kitgen's own banks, rubric, roles, reference card, fairness terms and templates."""
    rubrics = asset_dir("rubrics")
    return Layer(
        name="built-in",
        banks=tuple(yaml_files(asset_dir("questions"))),
        rubrics=(rubrics / "rubric.yaml",),
        roles=tuple(yaml_files(rubrics / "roles")),
        reference=(rubrics / "reference.yaml",),
        fairness=(rubrics / "fairness.yaml",),
        templates=asset_dir("templates"),
    )


def find_layers(config: Path | None, cwd: Path | None = None) -> list[Layer]:
    """The built-in layer, then the team layer from ``config`` or a ``kitgen.yaml`` in ``cwd``."""
    if config is None:
        candidate = (cwd or Path.cwd()) / CONFIG_NAME
        config = candidate if candidate.is_file() else None
    return [builtin_layer()] + ([team_layer(config)] if config else [])


def team_layer(config: Path) -> Layer:
    """The layer a team's ``kitgen.yaml`` describes; paths in it are relative to the file."""
    from kit.models import TeamConfig  # noqa: PLC0415 - pydantic only when a config is used
    from kit.parse import parse  # noqa: PLC0415

    settings = parse(config, TeamConfig)
    problems: list[Problem] = []

    def files(key: str) -> tuple[Path, ...]:
        found: list[Path] = []
        for index, entry in enumerate(getattr(settings, key)):
            path = (config.parent / entry).resolve()
            if path.is_dir():
                found += yaml_files(path)
            elif path.is_file():
                found.append(path)
            else:
                problems.append(Problem(config, position(config, (key, index)), f"{key}: {entry!r} does not exist"))
        return tuple(found)

    layer = Layer(
        name=f"team ({config})",
        banks=files("banks"),
        rubrics=files("rubrics"),
        roles=files("roles"),
        reference=files("reference"),
        fairness=files("fairness"),
        templates=(config.parent / settings.templates).resolve() if settings.templates else None,
        stack=tuple(settings.stack) if settings.stack is not None else None,
        brand=_brand(config, settings.brand, problems) if settings.brand else None,
    )
    if layer.templates and not layer.templates.is_dir():
        problems.append(Problem(config, position(config, ("templates",)), f"templates: {settings.templates!r} is not a folder"))
    if problems:
        raise InputError(problems)
    return layer



def _brand(config: Path, settings: BrandSettings, problems: list[Problem]) -> Brand:
    """The team's brand, its logo checked: an SVG or PNG file of at most 1 MB inside the team folder
    (symlinks resolved), since the renderer reads that one file and nothing else of the team's."""
    logo = None
    if settings.logo:
        path = (config.parent / settings.logo).resolve()
        where = position(config, ("brand", "logo"))
        if not path.is_relative_to(config.parent.resolve()):
            problems.append(Problem(config, where, f"brand logo {settings.logo!r} is outside the team folder"))
        elif path.suffix.lower() not in LOGO_TYPES or not path.is_file():
            problems.append(Problem(config, where, f"brand logo {settings.logo!r} must be an existing .svg or .png file"))
        elif path.stat().st_size > MAX_LOGO:
            problems.append(Problem(config, where, f"brand logo {settings.logo!r} is over {MAX_LOGO // 1024} kB"))
        else:
            logo = path
    return Brand(settings.company, logo, settings.accent)
