"""Fitted intent models kept on disk under the hash of everything they were fit from.

Fitting is most of `Analyzer.load()` (the regression and the scikit-learn import it needs: about 1.4 of
2.0 s for the default pack), and every worker, reload and CLI run repeats it. The key covers what the
weights depend on — the training samples' features and labels in order, the intents' order, the source
of the model code (hyper-parameters included) and the solver's library versions — so an edited pack, a
changed feature or a new scikit-learn never meets a stale model, and no build step is needed.

The cache is only an optimisation: a missing, unreadable or corrupt entry is fit again, and a folder
that cannot be written is used read-only or not at all; the model is the same either way.
`HUASHU_MODEL_CACHE` names the folder (default `$XDG_CACHE_HOME/huashu/models`, else
`~/.cache/huashu/models`); `off` disables it.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import tempfile
from collections.abc import Mapping, Sequence
from collections.abc import Set as AbstractSet
from importlib import metadata
from pathlib import Path
from typing import Final

import app.nlu.intent as intent_module
from app.nlu.intent import LOGISTIC_WEIGHT, IntentModel

log = logging.getLogger(__name__)

ENVIRONMENT_VARIABLE: Final = "HUASHU_MODEL_CACHE"
DISABLED: Final = "off"
FORMAT: Final = 1  # of the entry files; part of the key
MAX_ENTRIES: Final = 16  # older entries (by last use) are removed when a new one is written
_SOLVER_PACKAGES: Final = ("scikit-learn", "scipy", "numpy")

Samples = Sequence[tuple[AbstractSet[str], str]]


class ModelCache:
    """Fits an `IntentModel` (blended, `LOGISTIC_WEIGHT`) or reads the one fit before from the same data."""

    def __init__(self, directory: Path | None) -> None:
        self.directory = directory  # None: always fit, keep nothing

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] = os.environ) -> ModelCache:
        configured = environ.get(ENVIRONMENT_VARIABLE, "").strip()
        if configured.lower() == DISABLED:
            return cls(None)
        if configured:
            return cls(Path(configured))
        base = environ.get("XDG_CACHE_HOME")
        if not base:
            try:
                base = str(Path.home() / ".cache")
            except RuntimeError:  # no home directory to cache in (a bare service account)
                return cls(None)
        return cls(Path(base) / "huashu" / "models")

    def fit(self, samples: Samples, intents: Sequence[str]) -> IntentModel:
        if self.directory is None:
            return IntentModel.fit(samples, intents, logistic_weight=LOGISTIC_WEIGHT)
        path = self.directory / f"intent-{key(samples, intents)}.json"
        model = _read(path, tuple(intents))
        if model is None:
            model = IntentModel.fit(samples, intents, logistic_weight=LOGISTIC_WEIGHT)
            self._write(path, model)
        return model

    def _write(self, path: Path, model: IntentModel) -> None:
        document = {"format": FORMAT, "intents": list(model.intents), "priors": list(model.priors),
                    "rows": {feature: format(row, "x") for feature, row in model.rows.items()}}
        aside: str | None = None
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            # Written aside and renamed: a reader (another worker) sees the whole entry or none.
            with tempfile.NamedTemporaryFile("w", dir=path.parent, suffix=".tmp", delete=False,
                                             encoding="utf-8") as handle:
                aside = handle.name
                json.dump(document, handle, ensure_ascii=False, separators=(",", ":"))
            os.chmod(aside, 0o644)  # readable by the serving user when baked into an image
            os.replace(aside, path)
            _prune(path.parent, keep=MAX_ENTRIES)
        except OSError as error:
            if aside is not None:
                with contextlib.suppress(OSError):
                    os.unlink(aside)
            log.warning("intent model not cached in %s (%s); it will be fit again at the next load",
                        path.parent, error)


def key(samples: Samples, intents: Sequence[str]) -> str:
    """The hex digest naming a model fit from `samples` for `intents` by this code and these solver versions."""
    digest = hashlib.sha256()
    digest.update(json.dumps([FORMAT, list(intents), _solver_versions()], ensure_ascii=False).encode())
    digest.update(Path(intent_module.__file__).read_bytes())
    for features, label in samples:
        digest.update(json.dumps([label, sorted(features)], ensure_ascii=False).encode())
    return digest.hexdigest()[:32]


def _solver_versions() -> list[str]:
    versions = []
    for package in _SOLVER_PACKAGES:
        try:
            versions.append(f"{package}=={metadata.version(package)}")
        except metadata.PackageNotFoundError:
            versions.append(f"{package} missing")
    return versions


def _read(path: Path, intents: tuple[str, ...]) -> IntentModel | None:
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
        if document["format"] != FORMAT or tuple(document["intents"]) != intents:
            raise ValueError("entry made for other intents")
        priors = tuple(float(prior) for prior in document["priors"])
        rows = {str(feature): int(row, 16) for feature, row in document["rows"].items()}
        if len(priors) != len(intents) or not all(rows.values()):
            raise ValueError("entry has the wrong shape")
    except FileNotFoundError:
        return None
    except (OSError, ValueError, TypeError, KeyError, AttributeError) as error:
        log.warning("ignoring unreadable intent model cache entry %s (%s); fitting again", path, error)
        return None
    with contextlib.suppress(OSError):  # a read-only cache (baked into an image) is still used
        os.utime(path)  # last use, for pruning
    return IntentModel(intents, priors, rows)


def _prune(directory: Path, *, keep: int) -> None:
    """Remove all but the `keep` most recently used entries; another worker pruning at once is no error."""
    def last_use(entry: Path) -> float:
        try:
            return entry.stat().st_mtime
        except OSError:
            return 0.0

    for stale in sorted(directory.glob("intent-*.json"), key=last_use, reverse=True)[keep:]:
        with contextlib.suppress(OSError):
            stale.unlink()
