"""The library: everything a kit is made from, merged across layers and checked (see validate.py)."""

from __future__ import annotations

from dataclasses import dataclass, field

from kit import models
from kit.layers import Brand, Layer
from kit.merge import Source


@dataclass(frozen=True)
class Library:
    """Everything a kit is made from, merged across layers, with where each entry came from."""

    rubric: models.Rubric
    roles: dict[str, models.Role]
    questions: dict[str, models.Question]  # retired questions are left out
    reference: models.ReferenceCard = models.ReferenceCard(sections=[])
    fairness: tuple[models.FairnessTerm, ...] = ()
    layers: tuple[Layer, ...] = ()
    sources: dict[str, list[Source]] = field(default_factory=dict)  # "question:<id>", "role:<id>", ...

    def competency(self, competency_id: str) -> models.Competency:
        return next(c for c in self.rubric.competencies if c.id == competency_id)

    @property
    def brand(self) -> Brand | None:
        """The company on every page: the top layer's that names one."""
        return next((layer.brand for layer in reversed(self.layers) if layer.brand), None)

    def lineage(self, role_id: str) -> set[str]:
        """The role and every role it extends: questions tagged for any of them suit it."""
        chain: set[str] = set()
        while role_id in self.roles and role_id not in chain:
            chain.add(role_id)
            role_id = self.roles[role_id].extends or ""
        return chain
