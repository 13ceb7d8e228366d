"""Read the NLU's package data, so an installed package finds it without the repository."""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

import yaml

_DATA_PACKAGE = "app.nlu.data"


class DataError(ValueError):
    """A defect in the NLU's package data (lexicons, training split); the message names the file,
    the offending entry and how to fix it. Raised at load time, never while analysing."""


def read_text(name: str) -> str:
    """The UTF-8 text of the package data file `name`."""
    return resources.files(_DATA_PACKAGE).joinpath(name).read_text(encoding="utf-8")


def read_yaml(name: str) -> dict[str, Any]:
    """A YAML mapping from package data; anything but a mapping is a packaging defect."""
    loaded = yaml.safe_load(read_text(name))
    if not isinstance(loaded, dict):
        raise DataError(f"{_DATA_PACKAGE}/{name}: expected a YAML mapping at the top level")
    return loaded


def read_jsonl(name: str) -> list[dict[str, Any]]:
    """The records of a JSON-lines file from package data (blank lines skipped)."""
    return [json.loads(line) for line in read_text(name).splitlines() if line.strip()]
