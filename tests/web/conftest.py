"""The pages in a real browser: a running server on a fresh SQLite file, and Playwright driving Debian's
Chromium (tests/browser.py: skipped without it unless HUASHU_REQUIRE_BROWSER=1; `screenshot` saves to
docs/screenshots/, linked from the README)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.api.server import Server
from tests.browser import OFFLINE_FLAGS, chromium


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    running = Server(f"sqlite:///{tmp_path / 'huashu.db'}", tmp_path).start()
    yield running
    running.stop()


@pytest.fixture
def browser() -> Iterator[Any]:
    sync_playwright = pytest.importorskip("playwright.sync_api").sync_playwright
    executable = chromium()
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=executable,
                                              args=[flag for flag in OFFLINE_FLAGS if flag != "--headless"])
        yield launched
        launched.close()
