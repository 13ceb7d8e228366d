"""The installed package's version (`app.__version__` is not reliable when `app` resolves as a namespace)."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

try:
    VERSION = version("huashu")
except PackageNotFoundError:  # pragma: no cover - running from a source tree that is not installed
    VERSION = "0.0.0"
