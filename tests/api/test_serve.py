"""`huashu serve` start-up policy: migrations, agent access notice, dev token, worker/bus rules."""

from __future__ import annotations

import io
import os
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from app.config import Settings
from app.serve import preflight

pytestmark = pytest.mark.timeout(60)


def run(settings: Settings, workers: int = 1) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = preflight(settings, workers=workers, out=out, err=err)
    return code, out.getvalue(), err.getvalue()


def test_sqlite_default_is_migrated_at_start_in_wal_mode(tmp_path: Path) -> None:
    database = tmp_path / "huashu.db"
    code, _, _ = run(Settings(database_url=f"sqlite:///{database}", agent_tokens="alice:t"))
    assert code == 0
    with sqlite3.connect(database) as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert db.execute("SELECT version_num FROM alembic_version").fetchone() is not None


def test_without_agent_tokens_agent_access_is_closed_with_a_notice(tmp_path: Path) -> None:
    code, out, _ = run(Settings(database_url=f"sqlite:///{tmp_path / 'h.db'}", agent_tokens=""))
    assert code == 0 and "agent access" in out and "is closed" in out and "HUASHU_AGENT_TOKENS" in out


def test_dev_token_is_generated_only_when_asked(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HUASHU_AGENT_TOKENS", "")  # recorded, so the generated token is undone after the test
    code, out, _ = run(
        Settings(database_url=f"sqlite:///{tmp_path / 'h.db'}", agent_tokens="", dev_token=True)
    )
    token = os.environ["HUASHU_AGENT_TOKENS"]
    assert code == 0 and token.startswith("dev:") and token in out
    assert Settings().agent_credentials() == {token.removeprefix("dev:"): "dev"}  # what the workers will read


def test_malformed_agent_tokens_refuse_to_start(tmp_path: Path) -> None:
    code, _, err = run(Settings(database_url=f"sqlite:///{tmp_path / 'h.db'}", agent_tokens="alice"))
    assert code == 2 and "HUASHU_AGENT_TOKENS" in err


def test_several_workers_need_redis(tmp_path: Path) -> None:
    code, _, err = run(Settings(database_url=f"sqlite:///{tmp_path / 'h.db'}", agent_tokens="a:t"), workers=2)
    assert code == 2 and "HUASHU_REDIS_URL" in err


def test_unreachable_redis_refuses_to_start(tmp_path: Path) -> None:
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'h.db'}", agent_tokens="a:t", redis_url="redis://127.0.0.1:9/0"
    )
    code, _, err = run(settings)
    assert code == 2 and "Redis" in err


@pytest.mark.postgres
def test_unmigrated_postgres_refuses_to_start_saying_what_to_run(
    postgres_databases: Callable[[], str], tmp_path: Path
) -> None:
    env = {**os.environ, "HUASHU_DATABASE_URL": postgres_databases(), "HUASHU_AGENT_TOKENS": "a:t"}
    done = subprocess.run(
        [sys.executable, "-m", "app.cli", "serve", "--port", "1"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        check=False,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert "huashu db upgrade" in done.stderr and "not migrated" in done.stderr
    assert "Traceback" not in done.stderr + done.stdout


def test_broken_content_refuses_to_start_naming_file_and_line(tmp_path: Path) -> None:
    import shutil

    from app.config import PROJECT_ROOT

    flows = tmp_path / "flows"
    shutil.copytree(PROJECT_ROOT / "flows", flows)
    with (flows / "default.yaml").open("a", encoding="utf-8") as file:
        file.write("  broken: [\n")
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'huashu.db'}", flows_dir=flows)
    code, _, err = run(settings)
    assert code == 2
    assert "default.yaml:" in err and "yaml-syntax" in err and "huashu check" in err
    assert not (tmp_path / "huashu.db").exists()  # refused before touching the database


def test_a_fixed_dev_token_is_used_as_given(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HUASHU_AGENT_TOKENS", "")
    code, out, _ = run(Settings(database_url=f"sqlite:///{tmp_path / 'h.db'}", agent_tokens="", dev_token="s3cr3t-dev"))
    assert code == 0 and os.environ["HUASHU_AGENT_TOKENS"] == "dev:s3cr3t-dev"
    assert out.splitlines()[0].endswith(": s3cr3t-dev")  # what to paste comes first, bare


def test_a_generated_dev_token_kept_in_a_file_survives_a_restart(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HUASHU_AGENT_TOKENS", "")
    keep = tmp_path / "secrets" / "dev-token"
    settings = {"database_url": f"sqlite:///{tmp_path / 'h.db'}", "agent_tokens": "", "dev_token": "1",
                "dev_token_file": keep}
    run(Settings(**settings))
    first = os.environ["HUASHU_AGENT_TOKENS"]
    monkeypatch.setenv("HUASHU_AGENT_TOKENS", "")
    run(Settings(**settings))
    assert os.environ["HUASHU_AGENT_TOKENS"] == first == f"dev:{keep.read_text(encoding='utf-8').strip()}"
    assert oct(keep.stat().st_mode & 0o777) == "0o600"
