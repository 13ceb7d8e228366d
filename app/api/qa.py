"""REST routes for QA replay (an `APIRouter`; `app/main.py` includes it).

    POST /api/qa/replay            one transcript object → its assessment; a list → a list, in order
                                   (an invalid item becomes {"index", "error"} in its place; the rest go on)
    POST /api/qa/import/jddc       a JDDC TSV export → transcripts in the interchange format (the QA page)
    GET  /api/conversations/{id}/qa  the stored conversation (via the TranscriptStore) replayed and scored

Both need an agent token: QA results judge agents and quote customers. Replay is CPU work, so it runs in
the thread pool, off the event loop. The assessor is built once per engine from
`<HUASHU_SCRIPTS_DIR>/qa_rules.yaml`; tests override `get_qa_assessor`.
"""

from __future__ import annotations

from typing import Annotated, Any, Final
from weakref import WeakKeyDictionary

from fastapi import APIRouter, Body, Depends, Query, Request
from starlette.concurrency import run_in_threadpool

from app.api.deps import AgentDep, ServicesDep
from app.api.errors import ApiError
from app.api.metrics import Metrics
from app.content.errors import ContentErrors
from app.engine.step import Engine
from app.errors import TranscriptError
from app.export import read_aftercare, to_transcript
from app.qa.assessor import Assessor
from app.qa.jddc import read_jddc
from app.qa.model import Assessment
from app.qa.rules import load_rules, rules_file
from app.transcripts import Transcript

MAX_BATCH: Final = 200  # transcripts per POST; larger batches belong to `huashu qa replay --workers N`

router = APIRouter(tags=["qa"])
_assessors: WeakKeyDictionary[Engine, Assessor] = WeakKeyDictionary()


def get_qa_assessor(services: ServicesDep) -> Assessor:
    """The assessor for the service's engine and its scripts folder's rules (built on first use)."""
    assessor = _assessors.get(services.engine)
    if assessor is None:
        path = rules_file(services.settings.scripts_dir)
        try:
            assessor = Assessor(services.engine, load_rules(path))
        except (ContentErrors, OSError) as exc:
            raise ApiError("unavailable", f"QA rules at {path} cannot be used: {exc}") from None
        _assessors[services.engine] = assessor
    return assessor


AssessorDep = Annotated[Assessor, Depends(get_qa_assessor)]
TurnsQuery = Annotated[bool, Query(description="include the per-turn tags (`turns`)")]


def _result(assessment: Assessment, turns: bool, metrics: Metrics | None = None) -> dict[str, Any]:
    if metrics is not None:
        for finding in assessment.findings:
            metrics.qa_findings.labels(finding.rule).inc()
    data = assessment.to_dict()
    if not turns:
        data.pop("turns")
    return data


@router.post("/api/qa/replay")
async def qa_replay(
    assessor: AssessorDep,
    agent: AgentDep,
    services: ServicesDep,
    body: Annotated[
        dict[str, Any] | list[Any],
        Body(description="one transcript in the interchange format, or a list of them"),
    ],
    turns: TurnsQuery = True,
) -> dict[str, Any] | list[dict[str, Any]]:
    """Score one transcript (→ one object) or a list (→ a list in the same order)."""
    if isinstance(body, dict):
        try:
            transcript = Transcript.from_dict(body)
        except TranscriptError as exc:
            raise ApiError("invalid_field", str(exc)) from None
        return _result(await run_in_threadpool(assessor.assess, transcript), turns, services.metrics)
    if len(body) > MAX_BATCH:
        raise ApiError("invalid_field", f"at most {MAX_BATCH} transcripts per request (got {len(body)})")
    parsed: list[Transcript | str] = []
    for raw in body:
        try:
            parsed.append(Transcript.from_dict(raw))
        except TranscriptError as exc:
            parsed.append(str(exc))

    def assess_all() -> list[dict[str, Any]]:
        return [
            _result(assessor.assess(item), turns, services.metrics) if isinstance(item, Transcript)
            else {"index": index, "error": item}
            for index, item in enumerate(parsed)
        ]

    return await run_in_threadpool(assess_all)


MAX_IMPORT_BYTES: Final = 5_000_000


@router.post("/api/qa/import/jddc")
async def qa_import_jddc(request: Request, agent: AgentDep) -> dict[str, Any]:
    """A JDDC chat export (TSV, UTF-8, the body as is) as transcripts in the interchange format, with the rows
    that could not be read: `{"transcripts": […], "errors": [{"line", "error"}]}`. The QA page replays them."""
    body = await request.body()
    if len(body) > MAX_IMPORT_BYTES:
        raise ApiError("invalid_field", f"at most {MAX_IMPORT_BYTES:,} bytes per import (got {len(body):,})")
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ApiError("invalid_field", f"the file is not UTF-8 text (byte {exc.start + 1})") from None

    def read() -> dict[str, Any]:
        transcripts, errors = [], []
        for item in read_jddc(text.splitlines()):
            if isinstance(item, Transcript):
                transcripts.append(item.to_dict())
            else:
                errors.append(item.to_dict())
        return {"transcripts": transcripts, "errors": errors}

    return await run_in_threadpool(read)


@router.get("/api/conversations/{conversation_id}/qa")
async def conversation_qa(
    conversation_id: str, services: ServicesDep, assessor: AssessorDep, agent: AgentDep, turns: TurnsQuery = True
) -> dict[str, Any]:
    """Replay a stored conversation through the script and score it (404 if the id is unknown)."""
    conversation = await services.store.get_conversation(conversation_id)
    aftercare = await read_aftercare(services.store, conversation_id, services.conversations.clock())
    transcript = to_transcript(conversation, await services.store.messages(conversation_id), aftercare=aftercare)
    return _result(await run_in_threadpool(assessor.assess, transcript, source=f"store:{conversation_id}"), turns,
                   services.metrics)
