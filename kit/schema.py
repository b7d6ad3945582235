"""``kitgen schema``: JSON Schema for each kind of YAML file, from the same models that validate it.

An editor with yaml-language-server completes and checks a file as it is typed. Entries in a
team's layer may be patches of built-in ones, so only ``id`` is required in an entry; the full
rules (every field an entry needs once merged) are ``kitgen check``'s job.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from kit import models, output

FILES: dict[str, type[BaseModel]] = {
    "question-bank": models.QuestionFile,
    "rubric": models.RubricFile,
    "role": models.Role,
    "reference": models.ReferenceCard,
    "fairness": models.FairnessFile,
    "kitgen": models.TeamConfig,
}


def schema(model: type[BaseModel]) -> dict[str, Any]:
    """The JSON Schema of one file kind, with only ids required in entries."""
    document = model.model_json_schema()
    for definition in [document, *document.get("$defs", {}).values()]:
        if "required" in definition:
            required = [name for name in definition["required"] if name == "id"]
            if required:
                definition["required"] = required
            else:
                del definition["required"]
    document["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    return document


def write_schemas(folder: Path) -> list[Path]:
    """Write ``<kind>.schema.json`` for every file kind into ``folder`` (generated files: replaced)."""
    files = {f"{name}.schema.json": (json.dumps(schema(model), indent=2) + "\n").encode() for name, model in FILES.items()}
    output.prepare(folder, list(files), force=True)
    return output.write_files(folder, files)
