"""The intent model cache: a load reads the model fit before from the same data, and anything else fits again."""

from __future__ import annotations

import json
import logging
import os
import shutil
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from pathlib import Path

import pytest
import yaml

from app.nlu.analyzer import Analyzer
from app.nlu.intent import IntentModel
from app.nlu.model_cache import ENVIRONMENT_VARIABLE, MAX_ENTRIES, ModelCache, key
from tests.nlu.support import INTENTS

SCRIPTS = Path(__file__).resolve().parents[2] / "scripts_zh"
TODAY = date(2026, 11, 22)
MESSAGES = ("我的快递到哪了", "发票怎么开", "送货师傅把地板刮坏了,你们得给个说法", "好的")


def _no_fit(*args: object, **kwargs: object) -> IntentModel:
    raise AssertionError("the model was fit although the cache holds it")


def _entries(folder: Path) -> list[Path]:
    return sorted(folder.glob("intent-*.json"))


@pytest.fixture
def small_pack(tmp_path: Path) -> Path:
    """The default pack's NLU data with two examples per intent: quick to fit."""
    scripts = tmp_path / "scripts_zh"
    shutil.copytree(SCRIPTS / "nlu", scripts / "nlu")
    for path in (scripts / "nlu" / "intents").glob("*.yaml"):
        path.unlink()
    entries = [{"intent": name, "description": name, "examples": [f"{name}例句甲", f"{name}例句乙"]}
               for name in INTENTS]
    (scripts / "nlu" / "intents" / "all.yaml").write_text(yaml.safe_dump(entries, allow_unicode=True), encoding="utf-8")
    return scripts


def test_a_second_load_reads_the_stored_model_and_understands_alike(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cache = ModelCache(tmp_path / "models")
    fitted = Analyzer.load(SCRIPTS, cache_size=0, model_cache=cache)
    assert len(_entries(tmp_path / "models")) == 1

    monkeypatch.setattr(IntentModel, "fit", _no_fit)
    read = Analyzer.load(SCRIPTS, cache_size=0, model_cache=cache)

    assert read.intents.model.rows == fitted.intents.model.rows
    assert read.intents.model.priors == fitted.intents.model.priors
    for message in MESSAGES:
        assert read.analyze(message, today=TODAY) == fitted.analyze(message, today=TODAY)


def test_an_edited_example_is_another_model(tmp_path: Path, small_pack: Path) -> None:
    cache = ModelCache(tmp_path / "models")
    Analyzer.load(small_pack, cache_size=0, model_cache=cache)
    intents = small_pack / "nlu" / "intents" / "all.yaml"
    entries = yaml.safe_load(intents.read_text(encoding="utf-8"))
    entries[0]["examples"].append("新加的一句话")
    intents.write_text(yaml.safe_dump(entries, allow_unicode=True), encoding="utf-8")

    edited = Analyzer.load(small_pack, cache_size=0, model_cache=cache)

    assert len(_entries(tmp_path / "models")) == 2
    assert "新加" in edited.intents.model.rows


def test_the_key_covers_samples_labels_and_intent_order() -> None:
    samples = [(frozenset({"发", "票"}), "invoice"), (frozenset({"你", "好"}), "greeting")]
    base = key(samples, ["invoice", "greeting"])

    assert key(list(samples), ["invoice", "greeting"]) == base
    assert key(samples, ["greeting", "invoice"]) != base
    assert key([(frozenset({"发", "票"}), "greeting"), samples[1]], ["invoice", "greeting"]) != base
    assert key([(frozenset({"发"}), "invoice"), samples[1]], ["invoice", "greeting"]) != base


def test_a_corrupt_entry_is_fit_again_and_replaced(tmp_path: Path, small_pack: Path,
                                                   caplog: pytest.LogCaptureFixture) -> None:
    cache = ModelCache(tmp_path / "models")
    fitted = Analyzer.load(small_pack, cache_size=0, model_cache=cache)
    [entry] = _entries(tmp_path / "models")
    entry.write_text('{"format": 1, "intents": ["greeting"]', encoding="utf-8")  # cut short

    with caplog.at_level(logging.WARNING, logger="app.nlu.model_cache"):
        again = Analyzer.load(small_pack, cache_size=0, model_cache=cache)

    assert again.intents.model.rows == fitted.intents.model.rows
    assert "ignoring unreadable intent model cache entry" in caplog.text
    assert json.loads(entry.read_text(encoding="utf-8"))["intents"] == list(fitted.intents.intents)


def test_an_unwritable_folder_still_loads(tmp_path: Path, small_pack: Path, caplog: pytest.LogCaptureFixture) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the cache folder should be", encoding="utf-8")

    with caplog.at_level(logging.WARNING, logger="app.nlu.model_cache"):
        analyzer = Analyzer.load(small_pack, cache_size=0, model_cache=ModelCache(blocker / "models"))

    assert analyzer.analyze("handoff例句甲", today=TODAY).intent == "handoff"
    assert "intent model not cached" in caplog.text


def test_loads_racing_on_one_folder_agree_and_leave_one_whole_entry(tmp_path: Path, small_pack: Path) -> None:
    """Workers starting together may all fit and write the same entry: they agree, and one whole entry stays."""
    cache = ModelCache(tmp_path / "models")
    with ThreadPoolExecutor(max_workers=4) as pool:
        loaded = list(pool.map(lambda _: Analyzer.load(small_pack, cache_size=0, model_cache=cache), range(4)))

    assert all(analyzer.intents.model.rows == loaded[0].intents.model.rows for analyzer in loaded)
    assert len(_entries(tmp_path / "models")) == 1
    assert list((tmp_path / "models").glob("*.tmp")) == []


def test_old_entries_are_pruned(tmp_path: Path, small_pack: Path) -> None:
    folder = tmp_path / "models"
    folder.mkdir()
    for number in range(MAX_ENTRIES + 3):
        stale = folder / f"intent-stale{number:02d}.json"
        stale.write_text("{}", encoding="utf-8")
        os.utime(stale, (number, number))

    Analyzer.load(small_pack, cache_size=0, model_cache=ModelCache(folder))

    entries = _entries(folder)
    assert len(entries) == MAX_ENTRIES
    assert not (folder / "intent-stale00.json").exists()
    assert (folder / f"intent-stale{MAX_ENTRIES + 2:02d}.json").exists()


def test_the_folder_comes_from_the_environment(tmp_path: Path) -> None:
    assert ModelCache.from_environment({ENVIRONMENT_VARIABLE: str(tmp_path)}).directory == tmp_path
    assert ModelCache.from_environment({ENVIRONMENT_VARIABLE: "off"}).directory is None
    assert ModelCache.from_environment({"XDG_CACHE_HOME": str(tmp_path)}).directory == tmp_path / "huashu" / "models"
    assert ModelCache.from_environment({}).directory == Path.home() / ".cache" / "huashu" / "models"


def test_load_follows_the_environment_and_off_keeps_nothing(
        tmp_path: Path, small_pack: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ENVIRONMENT_VARIABLE, str(tmp_path / "models"))
    Analyzer.load(small_pack, cache_size=0)
    assert len(_entries(tmp_path / "models")) == 1
    shutil.rmtree(tmp_path / "models")

    monkeypatch.setenv(ENVIRONMENT_VARIABLE, "off")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    analyzer = Analyzer.load(small_pack, cache_size=0)

    assert analyzer.analyze("handoff例句甲", today=TODAY).intent == "handoff"
    assert not (tmp_path / "huashu").exists() and not (tmp_path / "models").exists()
