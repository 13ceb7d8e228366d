"""docs/protocol.md agrees with the wire models, which are the single source of the protocol."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from fastapi.routing import APIRoute, APIWebSocketRoute
from pydantic import BaseModel

from app.api.messages import ASSIST_CLIENT, CHAT_CLIENT, CLIENT_FRAMES, SERVER_FRAMES, examples, reference
from app.config import Settings
from app.main import create_app

PROTOCOL = Path(__file__).resolve().parents[2] / "docs" / "protocol.md"
ALL_FRAMES = [model for _, model in CLIENT_FRAMES + SERVER_FRAMES]


def generated_section() -> str:
    text = PROTOCOL.read_text(encoding="utf-8")
    match = re.search(r"<!-- BEGIN GENERATED -->\n(.*)<!-- END GENERATED -->", text, re.DOTALL)
    assert match, "docs/protocol.md lost its generated section markers"
    return match.group(1)


def test_frame_reference_in_the_docs_is_generated_from_the_models() -> None:
    assert generated_section().strip() == reference().strip(), (
        "docs/protocol.md is out of date: replace its generated section with `python -m app.api.messages`"
    )


@pytest.mark.parametrize("model", ALL_FRAMES, ids=lambda m: m.__name__)
def test_every_frame_has_an_example_that_validates(model: type[BaseModel]) -> None:
    frame_examples = examples(model)
    assert frame_examples, f"{model.__name__} needs a JSON example"
    for example in frame_examples:
        assert model.model_validate(example).model_dump(exclude_none=True) == {
            k: v for k, v in example.items() if v is not None
        }


@pytest.mark.parametrize(("where", "model"), CLIENT_FRAMES, ids=lambda x: getattr(x, "__name__", x))
def test_client_examples_parse_on_their_endpoint(where: str, model: type[BaseModel]) -> None:
    for example in examples(model):
        parsed = [
            adapter.validate_python(example)
            for path, adapter in (("/ws/chat", CHAT_CLIENT), ("/ws/assist", ASSIST_CLIENT))
            if path in where
        ]
        assert parsed and all(type(frame) is model or example["type"] == "message" for frame in parsed)


def test_every_endpoint_is_documented(tmp_path: Path) -> None:
    text = PROTOCOL.read_text(encoding="utf-8")
    app = create_app(Settings(database_url=f"sqlite:///{tmp_path / 'h.db'}"))
    documented = set(re.findall(r"`(?:GET|POST) (/[^ `?]*)", text)) | set(re.findall(r"`(/ws/[^`]*)`", text))
    routes = {
        r.path
        for r in app.routes
        if isinstance(r, APIRoute | APIWebSocketRoute)
        and not r.path.startswith(("/docs", "/openapi", "/redoc"))
    }
    assert routes - documented == set()
