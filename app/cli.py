"""The `huashu` command line: chat, analyze, phrases, flows, check, qa (and the service commands)."""

from __future__ import annotations

import asyncio
import io
import json
import os
import re
import sys
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn, TextIO

import typer
from rich.console import Console
from rich.table import Table
from typer.core import TyperGroup

from app.cli_aftercare import aftercare_app, commitments_app, complaints_app
from app.config import Settings

if TYPE_CHECKING:
    from app.nlu.analyzer import Analyzer

def take_pack_option(args: list[str]) -> list[str]:
    """`--pack DIR` (or `--pack=DIR`), before or after any command, is taken out of the arguments and
    becomes `HUASHU_PACK` for this process: every command and sub-command, and the workers
    `huashu serve` starts, then read the same pack (docs/packs.md)."""
    rest: list[str] = []
    items = iter(args)
    for arg in items:
        if arg == "--pack":
            value = next(items, None)
            if value is None:
                raise typer.BadParameter("needs a folder", param_hint="--pack")
            os.environ["HUASHU_PACK"] = value
        elif arg.startswith("--pack="):
            os.environ["HUASHU_PACK"] = arg.partition("=")[2]
        else:
            rest.append(arg)
    return rest


class _PackAwareGroup(TyperGroup):
    """The root command group: reads `--pack DIR` wherever it stands on the command line."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:  # ctx: typer's vendored click Context
        return super().parse_args(ctx, take_pack_option(args))


app = typer.Typer(
    cls=_PackAwareGroup,
    help="Huashu (话术): scripted customer-service conversation engine. "
    "Every command accepts --pack DIR (a pack folder with flows/ and scripts_zh/; default HUASHU_PACK).",
    no_args_is_help=True,
)
flows_app = typer.Typer(help="Inspect flows.", no_args_is_help=True)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
qa_app = typer.Typer(help="QA replay: score transcripts against the service script.", no_args_is_help=True)
app.add_typer(flows_app, name="flows")
app.add_typer(db_app, name="db")
nlu_app = typer.Typer(help="Measure a pack's intent model.", no_args_is_help=True)
app.add_typer(qa_app, name="qa")
app.add_typer(nlu_app, name="nlu")
app.add_typer(commitments_app, name="commitments")
app.add_typer(complaints_app, name="complaints")
app.add_typer(aftercare_app, name="aftercare")

console = Console()
err_console = Console(stderr=True)

FlowsDir = Annotated[Path | None, typer.Option("--flows", help="flows folder (default: HUASHU_FLOWS_DIR or ./flows)")]
ScriptsDir = Annotated[Path | None, typer.Option("--scripts", help="phrasings folder (default: HUASHU_SCRIPTS_DIR)")]


def _settings(flows: Path | None = None, scripts: Path | None = None) -> Settings:
    overrides: dict[str, Any] = {}
    if flows is not None:
        overrides["flows_dir"] = flows
    if scripts is not None:
        overrides["scripts_dir"] = scripts
    try:
        return Settings(**overrides)
    except ValueError as exc:
        err_console.print(f"[red]configuration error:[/red] {exc}")
        raise typer.Exit(2) from None


def _engine(settings: Settings):  # type: ignore[no-untyped-def]
    from app.content.errors import ContentErrors
    from app.runtime import build_engine

    try:
        return build_engine(settings)
    except ContentErrors as exc:
        for defect in exc.defects:
            err_console.print(defect.describe(), markup=False)
        err_console.print(f"[red]{len(exc.defects)} content error(s); run `huashu check` for details[/red]")
        raise typer.Exit(1) from None


MinConfidence = Annotated[float | None, typer.Option(
    "--min-confidence", min=0.0, max=1.0,
    help="report coverage and accuracy of the messages at or above this confidence (default: the default flow's min_confidence)")]


def _acting_threshold(settings: Settings, given: float | None) -> float:
    """The confidence at which the pack's default flow acts on an intent (below it, it clarifies)."""
    from app.content.loader import collect_content
    from app.content.model import DEFAULT_MIN_CONFIDENCE

    if given is not None:
        return given
    flow = collect_content(settings.flows_dir, settings.scripts_dir)[0].flows.get(settings.default_flow)
    return flow.min_confidence if flow is not None else DEFAULT_MIN_CONFIDENCE


# ---------------------------------------------------------------- check


@app.command()
def check(
    flows: FlowsDir = None,
    scripts: ScriptsDir = None,
    as_json: Annotated[bool, typer.Option("--json", help="defects as JSON")] = False,
) -> None:
    """Load every flow, phrasing and QA file; exit non-zero listing every defect (file, line, flow, state, fix)."""
    from app.content.loader import collect_content
    from app.content.ui import ui_defects
    from app.content.validate import intent_warnings
    from app.letters.pack import letter_defects
    from app.qa.commands import qa_file_defects

    settings = _settings(flows, scripts)
    content, defects = collect_content(settings.flows_dir, settings.scripts_dir)
    defects += qa_file_defects(settings.scripts_dir, content)
    defects += letter_defects(settings.scripts_dir, dict(content.facts))
    defects += ui_defects(settings.scripts_dir)
    warnings = intent_warnings(content)
    if as_json:
        print(json.dumps({"ok": not defects, "defects": [d.to_dict() for d in defects],
                          "warnings": [w.to_dict() for w in warnings]}, ensure_ascii=False, indent=2))
        raise typer.Exit(1 if defects else 0)
    for warning in warnings:
        err_console.print(warning.describe(), markup=False)
    if defects:
        for defect in defects:
            err_console.print(defect.describe(), markup=False)
        err_console.print(f"[red]{len(defects)} defect(s)[/red]")
    else:
        console.print(
            f"ok: {len(content.flows)} flow(s), {len(content.phrases)} phrasings, {len(content.facts)} facts, "
            f"{len(content.forbidden)} forbidden phrases, {len(content.intents)} intents (content {content.version})"
        )
    raise typer.Exit(1 if defects else 0)


# ---------------------------------------------------------------- analyze


def analyze_lines(lines: TextIO, out: TextIO, default_today: date, analyzer: Analyzer) -> int:
    """One JSON line out per input line, in order. A line is a JSON object (`{"text", "today"?, "id"?}`) or,
    when it does not start like JSON, the message itself as plain text; a bad line → `{"error", "line"}`.
    Returns the number of bad lines."""
    errors = 0
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            item = json.loads(line) if line.lstrip().startswith(("{", "[")) else {"text": line.strip()}
            if not isinstance(item, dict) or not isinstance(item.get("text"), str):
                raise ValueError('each line must be a JSON object with a string "text"')
            item["text"].encode("utf-8")  # a lone surrogate ("\ud800") is valid JSON but not text
            today = date.fromisoformat(item["today"]) if isinstance(item.get("today"), str) else default_today
            result = analyzer.describe(item["text"], today=today)
            if "id" in item:
                result = {"id": item["id"], **result}
        except UnicodeEncodeError:
            errors += 1
            result = {"error": '"text" is not valid Unicode (lone surrogate)', "line": number}
        except (ValueError, TypeError) as exc:
            errors += 1
            message = f"invalid JSON: {exc.msg}" if isinstance(exc, json.JSONDecodeError) else str(exc)
            result = {"error": message, "line": number}
        out.write(json.dumps(result, ensure_ascii=False) + "\n")
        out.flush()
    return errors


@app.command()
def analyze(
    source: Annotated[str, typer.Argument(
        metavar="[FILE|-|TEXT]",
        help="a file of messages (JSON Lines {\"text\"} or plain text, one per line), - for stdin, "
             "or the message itself (\"huashu analyze 我要退货\")")] = "-",
    today: Annotated[str | None, typer.Option(help="date relative dates resolve against (default: today)")] = None,
) -> None:
    """Understand customer messages: intent, confidence, alternatives, slots, confirmation, emotion, handoff.
    Exit 1 when any line could not be analysed (its output line says why)."""
    try:
        default_today = date.fromisoformat(today) if today else datetime.now(UTC).date()
    except ValueError:
        raise typer.BadParameter(f"{today!r} is not a date (YYYY-MM-DD)", param_hint="--today") from None
    from app.nlu.analyzer import get_analyzer

    analyzer = get_analyzer(_settings().scripts_dir)
    path = Path(source)
    if source == "-":
        errors = analyze_lines(sys.stdin, sys.stdout, default_today, analyzer)
    elif path.is_file():
        with path.open(encoding="utf-8", errors="replace") as lines:
            errors = analyze_lines(lines, sys.stdout, default_today, analyzer)
    elif _looks_like_a_path(source):
        err_console.print(f"no such file: {source}", markup=False)
        raise typer.Exit(2)
    else:
        errors = analyze_lines(io.StringIO(source + "\n"), sys.stdout, default_today, analyzer)
    if errors:
        err_console.print(f"{errors} line(s) could not be analysed", markup=False)
        raise typer.Exit(1)


def _looks_like_a_path(source: str) -> bool:
    """A missing file the user meant ("msgs.jsonl", "./in.txt"), not a message to analyse."""
    return "/" in source or "\\" in source or bool(re.fullmatch(r"[\w.-]+\.(?:jsonl?|txt|tsv|csv)", source, re.ASCII))


# ---------------------------------------------------------------- nlu


def _pack_analyzer(settings: Settings) -> Analyzer:
    from app.content.errors import ContentErrors
    from app.nlu.analyzer import Analyzer
    from app.nlu.resources import DataError

    try:
        return Analyzer.load(settings.scripts_dir, cache_size=0)
    except ContentErrors as exc:
        for defect in exc.defects:
            err_console.print(defect.describe(), markup=False)
        raise typer.Exit(1) from None
    except DataError as exc:
        err_console.print(f"[red]NLU data error:[/red] {exc}", markup=False)
        raise typer.Exit(1) from None


def _print_report(report: Any, as_json: bool, title: str) -> None:
    if as_json:
        print(json.dumps({"title": title, **report.to_dict()}, ensure_ascii=False, indent=2))
        return
    console.print(title, markup=False)
    console.print(report.to_markdown(), markup=False, soft_wrap=True)
    if report.errors:
        console.print("\nmisclassified (text → gold / predicted):", markup=False)
        for text, gold, predicted in report.errors:
            console.print(f"  {text} → {gold} / {predicted}", markup=False, soft_wrap=True)


@nlu_app.command("test")
def nlu_test(
    folds: Annotated[int, typer.Option(min=2, help="number of folds")] = 5,
    as_json: Annotated[bool, typer.Option("--json", help="the report as JSON")] = False,
    min_confidence: MinConfidence = None,
) -> None:
    """k-fold cross-validation on the pack's intent examples: per-intent precision/recall/F1, the most
    confused pairs and every misclassified example."""
    from app.nlu.evaluate import cross_validate

    settings = _settings()
    analyzer = _pack_analyzer(settings)
    from app.content.loader import load_intents

    examples = [(text, spec.name) for spec in load_intents(settings.scripts_dir).values() for text in spec.examples]
    report = cross_validate(analyzer, examples, folds, min_confidence=_acting_threshold(settings, min_confidence))
    _print_report(report, as_json, f"{folds}-fold cross-validation on {len(examples)} examples of {settings.scripts_dir}")


@nlu_app.command("evaluate")
def nlu_evaluate(
    file: Annotated[Path, typer.Argument(help='labelled JSON lines: {"text", "intent"} (or {"session", "turn", "split", "intent"}) per line')],
    as_json: Annotated[bool, typer.Option("--json", help="the report as JSON")] = False,
    split: Annotated[str | None, typer.Option(help="only the lines of this split (dev or test)")] = None,
    data: Annotated[Path | None, typer.Option(
        help="the transcripts (JDDC .tsv or interchange JSON Lines) that lines naming a session and turn refer to")] = None,
    min_confidence: MinConfidence = None,
    agreed_with: Annotated[Path | None, typer.Option(
        "--agreed-with", help="a second annotator's labels of the same lines: score only the lines both labelled alike")] = None,
) -> None:
    """Accuracy of the pack's intent model on a labelled held-out file (never trained on)."""
    from app.nlu.agreement import read_labels
    from app.nlu.evaluate import evaluate, referenced_turns
    from app.nlu.resources import DataError
    from app.qa.sources import customer_turn_texts
    from app.qa.stage_gold import default_data

    if not file.is_file():
        err_console.print(f"[red]no such file:[/red] {file}", markup=False)
        raise typer.Exit(2)
    settings = _settings()
    analyzer = _pack_analyzer(settings)
    threshold = _acting_threshold(settings, min_confidence)
    try:
        texts = None
        wanted = referenced_turns(file)
        if wanted:
            corpus = data or default_data()
            if corpus is None or not corpus.is_file():
                err_console.print(f"[red]no transcript file for the referenced turns:[/red] {corpus or 'give --data PATH'}",
                                  markup=False)
                raise typer.Exit(2)
            texts = customer_turn_texts(corpus, wanted)
        second = read_labels(agreed_with) if agreed_with is not None else None
        report = evaluate(file, analyzer, texts=texts, split=split, min_confidence=threshold, agreed_with=second)
    except (DataError, UnicodeDecodeError, OSError) as exc:
        err_console.print(f"[red]bad labelled file:[/red] {exc}", markup=False)
        raise typer.Exit(2) from None
    what = f"{file}" + (f" ({split} half)" if split else "") + (f" (lines {agreed_with} labels alike)" if agreed_with else "")
    _print_report(report, as_json, f"{what}: {report.correct}/{report.total} correct")


@nlu_app.command("sample")
def nlu_sample(
    transcripts: Annotated[Path, typer.Argument(help="transcripts to draw from: JDDC .tsv or interchange JSON Lines")],
    sessions: Annotated[int, typer.Option(min=1, help="how many conversations to draw")] = 50,
    turns: Annotated[int, typer.Option(min=1, help="the first N customer turns of each")] = 5,
    seed: Annotated[int, typer.Option(help="the draw's seed (the same seed draws the same sample)")] = 1,
    exclude: Annotated[list[Path] | None, typer.Option(
        help="a labelled file (any JSON lines naming sessions) whose sessions are left out; repeatable")] = None,
    split: Annotated[str | None, typer.Option(help='add "split" to every line (dev or test)')] = None,
    out: Annotated[Path | None, typer.Option(help="write the lines here instead of standard output")] = None,
) -> None:
    """Draw customer turns from transcripts for labelling: {"session", "turn", "text"} per line. Add each
    line's "intent" by the pack's conventions and measure with `nlu evaluate FILE --data TRANSCRIPTS`."""
    from app.nlu.resources import DataError
    from app.nlu.sampling import labelled_sessions, sample_turns
    from app.qa.sources import transcripts_of

    if not transcripts.is_file():
        err_console.print(f"[red]no such file:[/red] {transcripts}", markup=False)
        raise typer.Exit(2)
    try:
        excluded = set().union(*(labelled_sessions(path) for path in exclude or []))
    except (DataError, UnicodeDecodeError, OSError) as exc:
        err_console.print(f"[red]bad labelled file:[/red] {exc}", markup=False)
        raise typer.Exit(2) from None
    found, errors = transcripts_of(transcripts)
    for error in errors[:5]:
        err_console.print(f"skipped {error.source}:{error.line}: {error.message}", markup=False)
    if len(errors) > 5:
        err_console.print(f"… and {len(errors) - 5} more bad lines", markup=False)
    lines = sample_turns(found, sessions=sessions, turns=turns, seed=seed, exclude=excluded, split=split)
    text = "".join(json.dumps(line, ensure_ascii=False) + "\n" for line in lines)
    if out is None:
        sys.stdout.write(text)
    else:
        out.write_text(text, encoding="utf-8")
        err_console.print(f"{len(lines)} turns of {len({line['session'] for line in lines})} sessions → {out}", markup=False)


@nlu_app.command("agreement")
def nlu_agreement(
    first: Annotated[Path, typer.Argument(help="one annotator's labels: JSON lines with intent and session+turn or text")],
    second: Annotated[Path, typer.Argument(help="another annotator's labels of the same lines")],
    split: Annotated[str | None, typer.Option(help="only the first file's lines of this split")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="the result as JSON")] = False,
) -> None:
    """How far two annotators agree on the same lines (agreement and Cohen's kappa): the ceiling a model
    measured against either of them can reach."""
    from app.nlu.agreement import agreement, read_labels
    from app.nlu.resources import DataError

    try:
        result = agreement(read_labels(first), read_labels(second), split=split)
    except (DataError, UnicodeDecodeError, OSError) as exc:
        err_console.print(f"[red]bad labels file:[/red] {exc}", markup=False)
        raise typer.Exit(2) from None
    if as_json:
        print(json.dumps(result.to_dict(), ensure_ascii=False, indent=2))
    else:
        console.print(f"{first} vs {second}" + (f" ({split} half)" if split else ""), markup=False)
        console.print(result.to_markdown(), markup=False, soft_wrap=True)


# ---------------------------------------------------------------- phrases and flows


@app.command()
def phrases(
    stage: Annotated[str | None, typer.Option(help="only this stage")] = None,
    scenario: Annotated[str | None, typer.Option(help="only phrasings fitting this scenario (intent)")] = None,
    channel: Annotated[str | None, typer.Option(help="online, phone or email")] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
    flows: FlowsDir = None,
    scripts: ScriptsDir = None,
) -> None:
    """List the standard phrasings (标准话术)."""
    from app.content.catalog import phrase_to_dict, select_phrases

    engine = _engine(_settings(flows, scripts))
    content = engine.content
    known = {
        "--stage": (stage, sorted({p.stage for p in content.phrases.values()})),
        "--scenario": (scenario, sorted({s for p in content.phrases.values() for s in p.scenarios} | set(content.intents))),
        "--channel": (channel, sorted({c for p in content.phrases.values() for c in p.channels})),
    }
    for option, (value, valid) in known.items():
        if value is not None and value not in valid:
            err_console.print(f"unknown {option} {value!r}; valid: {', '.join(valid)}", markup=False)
            raise typer.Exit(2)
    selected = select_phrases(content, stage=stage, scenario=scenario, channel=channel)
    if as_json:
        print(json.dumps([phrase_to_dict(p) for p in selected], ensure_ascii=False, indent=2))
        return
    # Nothing is cut at the terminal's width: long ids and texts fold onto the next line.
    table = Table(expand=True)
    for header, ratio in (("id", 2), ("stage", 1), ("scenarios", 1), ("channels", 1), ("text", 4)):
        table.add_column(header, overflow="fold", ratio=ratio)
    for phrase in selected:
        table.add_row(phrase.id, phrase.stage, ",".join(sorted(phrase.scenarios)) or "*", ",".join(sorted(phrase.channels)), phrase.text)
    console.print(table)
    console.print(f"{len(selected)} phrasing(s)")


@flows_app.command("list")
def flows_list(flows: FlowsDir = None, scripts: ScriptsDir = None) -> None:
    """List flows."""
    engine = _engine(_settings(flows, scripts))
    for flow in engine.content.flows.values():
        console.print(f"{flow.name}\t{flow.version}\t{','.join(sorted(flow.channels))}\t{flow.description}", markup=False)


@flows_app.command("show")
def flows_show(
    name: str,
    format: Annotated[str, typer.Option("--format", help="mermaid or json")] = "mermaid",
    flows: FlowsDir = None,
    scripts: ScriptsDir = None,
) -> None:
    """Print a flow as a mermaid state diagram or as JSON."""
    from app.content.diagram import to_json, to_mermaid

    engine = _engine(_settings(flows, scripts))
    flow = engine.content.flows.get(name)
    if flow is None:
        err_console.print(f"[red]unknown flow {name!r}[/red]; flows: {', '.join(engine.content.flows)}")
        raise typer.Exit(2)
    if format == "mermaid":
        print(to_mermaid(flow), end="")
    elif format == "json":
        print(json.dumps(to_json(flow), ensure_ascii=False, indent=2))
    else:
        err_console.print(f"[red]unknown format {format!r}[/red]: use mermaid or json")
        raise typer.Exit(2)


# ---------------------------------------------------------------- chat


@app.command()
def chat(
    flow: Annotated[str | None, typer.Option(help="flow name (default: the default flow)")] = None,
    channel: Annotated[str, typer.Option(help="online, phone or email")] = "online",
    flows: FlowsDir = None,
    scripts: ScriptsDir = None,
) -> None:
    """Talk to the bot in the terminal, seeing its state, the intent it understood and its suggestions."""
    from app.cli_chat import run_chat

    settings = _settings(flows, scripts)
    engine = _engine(settings)
    if flow is not None and flow not in engine.content.flows:
        err_console.print(f"[red]unknown flow {flow!r}[/red]; flows: {', '.join(engine.content.flows)}")
        raise typer.Exit(2)
    asyncio.run(run_chat(engine, settings, flow=flow, channel=channel, console=console, conversation_id=uuid.uuid4().hex))


# ---------------------------------------------------------------- service


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="interface to bind")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port")] = 8000,
    workers: Annotated[int, typer.Option(help="uvicorn worker processes")] = 1,
) -> None:
    """Start the WebSocket/REST service under uvicorn (SQLite file by default; HUASHU_DATABASE_URL for PostgreSQL)."""
    from app.serve import run_server

    raise typer.Exit(run_server(host=host, port=port, workers=workers))


def _when(value: str | None, option: str) -> datetime | None:
    """An ISO date or date-time option; naive values are UTC."""
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        err_console.print(f"[red]{option} must be an ISO 8601 date or date-time, got {value!r}[/red]")
        raise typer.Exit(2) from None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed


@app.command()
def export(
    out: Annotated[Path | None, typer.Option("--out", help="write to this file (default: stdout)")] = None,
    since: Annotated[str | None, typer.Option(help="conversations created at or after (ISO date/date-time, UTC)")] = None,
    until: Annotated[str | None, typer.Option(help="conversations created before (ISO date/date-time, UTC)")] = None,
    state: Annotated[str | None, typer.Option(help="only conversations now in this state")] = None,
    flow: Annotated[str | None, typer.Option(help="only conversations of this flow")] = None,
    raw: Annotated[bool, typer.Option("--raw", help="personal numbers and e-mails unmasked (recorded in the "
                                                    "huashu.audit log with the OS user)")] = False,
) -> None:
    """Write stored conversations as transcripts (interchange format, JSON Lines, newest first). Phone, ID
    and bank card numbers and e-mail addresses are masked unless --raw is given."""
    from app.errors import StorageError
    from app.export import export_transcripts
    from app.storage.migrate import open_store

    settings = _settings()
    window = {"since": _when(since, "--since"), "until": _when(until, "--until")}
    if raw:
        import getpass

        from app.audit import audit

        audit("raw_export", by=getpass.getuser(), via="huashu export", out=str(out) if out else "stdout",
              state=state, flow=flow, **window)
        err_console.print("raw export: personal data unmasked; recorded in the huashu.audit log", markup=False)

    async def run(sink: TextIO) -> int:
        store = await open_store(settings.database_url)
        count = 0
        try:
            async for transcript in export_transcripts(store, state=state, flow=flow, mask=not raw, **window):
                sink.write(json.dumps(transcript.to_dict(), ensure_ascii=False) + "\n")
                count += 1
        finally:
            await store.close()
        return count

    try:
        if out is None:
            count = asyncio.run(run(sys.stdout))
        else:
            with out.open("w", encoding="utf-8") as sink:
                count = asyncio.run(run(sink))
    except StorageError as exc:
        err_console.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from None
    err_console.print(f"{count} conversation(s) exported")


@db_app.command("upgrade")
def db_upgrade(revision: Annotated[str, typer.Argument(help="target revision")] = "head") -> None:
    """Apply the database migrations to HUASHU_DATABASE_URL."""
    from app.storage.migrate import upgrade

    settings = _settings()
    upgrade(settings.database_url, revision)
    console.print(f"database at revision {revision}")


# ---------------------------------------------------------------- letters and e-mail intake (app/letters/)

LETTER_KINDS = ("consult", "complaint", "thanks", "notice")
LETTER_FORMATS = ("text", "markdown", "html", "json")


def _letter_pack(settings: Settings, engine: Any) -> Any:
    from app.content.errors import ContentErrors
    from app.letters.pack import load_letter_pack

    try:
        return load_letter_pack(settings.scripts_dir, dict(engine.content.facts))
    except ContentErrors as exc:
        for defect in exc.defects:
            err_console.print(defect.describe(), markup=False)
        raise typer.Exit(2) from None


def _refuse(message: str, code: int, payload: dict[str, Any], as_json: bool) -> NoReturn:
    if as_json:
        print(json.dumps(payload, ensure_ascii=False, indent=2))
    err_console.print(message, markup=False)
    raise typer.Exit(code)


@app.command()
def letter(
    kind: Annotated[str, typer.Option(help="consult | complaint | thanks | notice")],
    conversation: Annotated[str | None, typer.Option(help="a stored conversation's id (HUASHU_DATABASE_URL)")] = None,
    transcript: Annotated[Path | None, typer.Option(help="a transcript in the interchange format (JSON or one JSON line)")] = None,
    slots: Annotated[str | None, typer.Option(help='the facts as a JSON object, e.g. {"customer_name": "张先生"}; '
                                                   "they win over what a conversation says")] = None,
    fmt: Annotated[str, typer.Option("--format", help="text | markdown | html | json")] = "text",
    today: Annotated[str | None, typer.Option(help="the letter's date (ISO; default today)")] = None,
) -> None:
    """Draft a formal letter (seed 000) from a conversation, a transcript or explicit slots; exit 1 listing
    the missing facts when a required one is unknown."""
    from app.letters.composer import MissingFacts, UnknownKind, compose
    from app.letters.source import slots_from_transcript

    as_json = fmt == "json"
    if kind not in LETTER_KINDS:
        _refuse(f"unknown letter kind {kind!r}; kinds are: {', '.join(LETTER_KINDS)}", 2,
                {"error": "unknown_kind", "kind": kind, "kinds": list(LETTER_KINDS)}, as_json)
    if fmt not in LETTER_FORMATS:
        _refuse(f"unknown format {fmt!r}; formats are: {', '.join(LETTER_FORMATS)}", 2,
                {"error": "unknown_format", "format": fmt}, False)
    given: dict[str, str] = {}
    if slots is not None:
        try:
            parsed = json.loads(slots)
        except json.JSONDecodeError as exc:
            parsed = exc
        if not isinstance(parsed, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in parsed.items()):
            _refuse("--slots must be a JSON object of text values, e.g. {\"customer_name\": \"张先生\"}", 2,
                    {"error": "bad_slots", "message": "--slots must be a JSON object of text values"}, as_json)
        given = parsed
    day = _day(today)
    settings = _settings()
    engine = _engine(settings)
    pack = _letter_pack(settings, engine)
    known: dict[str, str] = {}
    if conversation is not None or transcript is not None:
        source, stored = _letter_source(settings, conversation, transcript, as_json)
        known = slots_from_transcript(source, engine, stored, today=day)
    try:
        result = compose(pack.book, kind, {**known, **given}, pack.facts, today=day)
    except MissingFacts as exc:
        _refuse(f"cannot write the {kind} letter: {exc}", 1, exc.to_dict(), as_json)
    except UnknownKind as exc:
        _refuse(str(exc), 2, {"error": "unknown_kind", "kind": kind, "kinds": list(exc.known)}, as_json)
    sys.stdout.write(result.render(fmt))


def _day(value: str | None) -> date:
    if value is None:
        return datetime.now(UTC).date()
    try:
        return date.fromisoformat(value)
    except ValueError:
        err_console.print(f"[red]--today must be an ISO date (YYYY-MM-DD), got {value!r}[/red]")
        raise typer.Exit(2) from None


def _letter_source(settings: Settings, conversation: str | None, transcript: Path | None,
                   as_json: bool) -> tuple[Any, dict[str, str] | None]:
    from app.errors import ConversationNotFound, StorageError, TranscriptError
    from app.transcripts import Transcript

    if transcript is not None:
        try:
            return Transcript.from_dict(_first_json(transcript.read_text(encoding="utf-8"))), None
        except FileNotFoundError:
            _refuse(f"no such transcript file: {transcript}", 2, {"error": "not_found", "file": str(transcript)}, as_json)
        except (OSError, UnicodeDecodeError, json.JSONDecodeError, TranscriptError) as exc:
            _refuse(f"bad transcript {transcript}: {exc}", 2, {"error": "bad_transcript", "message": str(exc)}, as_json)
    from app.export import to_transcript
    from app.storage.migrate import open_store

    async def read() -> tuple[Any, dict[str, str]]:
        store = await open_store(settings.database_url)
        try:
            stored = await store.get_conversation(str(conversation))
            return to_transcript(stored, await store.messages(stored.id)), \
                {k: v for k, v in stored.slots.items() if isinstance(v, str)}
        finally:
            await store.close()

    try:
        return asyncio.run(read())
    except ConversationNotFound:
        _refuse(f"no conversation {conversation!r} in the store", 2, {"error": "not_found", "conversation": conversation}, as_json)
    except StorageError as exc:
        _refuse(str(exc), 2, {"error": "unavailable", "message": str(exc)}, as_json)


def _first_json(text: str) -> Any:
    """One JSON object, pretty-printed or as the first line of a JSON Lines file."""
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        first = next((line for line in text.splitlines() if line.strip()), "")
        return json.loads(first)


@app.command()
def intake(
    file: Annotated[Path, typer.Argument(help="a customer e-mail: a .eml file or plain text (first line may be 主题:…)")],
    today: Annotated[str | None, typer.Option(help="resolve relative dates and date the reply (ISO; default today)")] = None,
) -> None:
    """Read a customer e-mail: intent, identifying facts, what is missing, emotion, and the drafted reply (JSON)."""
    from app.letters.composer import MissingFacts
    from app.letters.intake import IntakeError, read_email
    from app.letters.intake import intake as read_intake

    day = _day(today)
    try:
        data = file.read_bytes()
    except OSError as exc:
        _refuse(f"cannot read {file}: {exc.strerror}", 2, {"error": "not_found", "file": str(file)}, True)
    settings = _settings()
    engine = _engine(settings)
    pack = _letter_pack(settings, engine)
    try:
        result = read_intake(read_email(data), engine.analyzer, pack.intake, pack.book, pack.facts, today=day)
    except IntakeError as exc:
        _refuse(f"cannot read the e-mail {file}: {exc}", 2, {"error": "bad_email", "message": str(exc)}, True)
    except MissingFacts as exc:
        _refuse(f"the pack's letter templates need more than an e-mail gives: {exc}", 1, exc.to_dict(), True)
    print(json.dumps(result.to_dict(), ensure_ascii=False, indent=2))


# ---------------------------------------------------------------- qa (app/qa/commands.py)

QaFiles = Annotated[
    list[Path], typer.Argument(help="transcript files: JSON Lines (interchange format), JDDC .tsv, or - for stdin")
]
InputFormat = Annotated[str | None, typer.Option("--input-format", help="jsonl or jddc (default: by file extension)")]
RulesFile = Annotated[Path | None, typer.Option("--rules", help="QA rules file (default: <scripts>/qa_rules.yaml)")]
Workers = Annotated[int, typer.Option("--workers", help="worker processes (each builds its own engine)")]


@qa_app.command("replay")
def qa_replay(
    files: Annotated[
        list[Path] | None,
        typer.Argument(help="transcript files: JSON Lines (interchange format), JDDC .tsv, or - for stdin"),
    ] = None,
    format: Annotated[str, typer.Option("--format", help="json (JSON Lines), csv or html")] = "json",
    out: Annotated[Path | None, typer.Option("--out", help="write the report here (default: stdout)")] = None,
    summary: Annotated[
        Path | None, typer.Option("--summary", help="also write the aggregates by agent, channel and rule as JSON")
    ] = None,
    workers: Workers = 1,
    flow: Annotated[str | None, typer.Option("--flow", help="flow for transcripts that name none")] = None,
    input_format: InputFormat = None,
    rules: RulesFile = None,
    flows: FlowsDir = None,
    scripts: ScriptsDir = None,
    db: Annotated[bool, typer.Option("--db", help="also replay the stored conversations (HUASHU_DATABASE_URL)")] = False,
    since: Annotated[str | None, typer.Option(help="with --db: created at or after (ISO date/date-time, UTC)")] = None,
    until: Annotated[str | None, typer.Option(help="with --db: created before (ISO date/date-time, UTC)")] = None,
) -> None:
    """Replay transcripts through the script, check the QA rules and write scores and findings."""
    from app.errors import StorageError
    from app.qa.commands import replay_command
    from app.qa.stored import read_database

    settings = _settings(flows, scripts)
    stored = None
    if db:
        try:
            stored = read_database(settings.database_url, since=_when(since, "--since"), until=_when(until, "--until"))
        except StorageError as exc:
            err_console.print(f"[red]{exc}[/red]")
            raise typer.Exit(2) from None
    raise typer.Exit(
        replay_command(
            files or [], settings=settings, fmt=format, out=out, workers=workers, flow=flow,
            input_format=input_format, rules=rules, stored=stored, summary_out=summary, err=err_console,
        )
    )


@qa_app.command("diff")
def qa_diff(
    files: QaFiles,
    base_flows: Annotated[Path, typer.Option("--base-flows", help="flows folder of the base version")],
    base_scripts: Annotated[Path, typer.Option("--base-scripts", help="phrasings folder of the base version")],
    base_rules: Annotated[Path | None, typer.Option("--base-rules", help="rules of the base (default: <base-scripts>/qa_rules.yaml)")] = None,
    flows: FlowsDir = None,
    scripts: ScriptsDir = None,
    rules: RulesFile = None,
    as_json: Annotated[bool, typer.Option("--json", help="the comparison as JSON")] = False,
    input_format: InputFormat = None,
    workers: Workers = 1,
) -> None:
    """Replay the same transcripts under two versions of flows/phrasings/rules; show changed findings and scores."""
    from app.qa.commands import diff_command

    raise typer.Exit(
        diff_command(
            files, base=_settings(base_flows, base_scripts), new=_settings(flows, scripts), base_rules=base_rules,
            rules=rules, input_format=input_format, workers=workers, as_json=as_json, err=err_console,
        )
    )


GoldData = Annotated[
    Path | None,
    typer.Option("--data", help="the transcripts the gold's turns are in: JDDC .tsv (tagger-eval, suggest-eval) or also "
                                "JSON Lines (topic-eval); default: $HUASHU_SHARED_DATA or ../shared/data, jddc/chat_sample.tsv"),
]
GoldSplit = Annotated[str, typer.Option("--split", help="dev, test or all")]
GoldJson = Annotated[bool, typer.Option("--json", help="the figures as JSON")]
StageGold = Annotated[Path, typer.Argument(help="stage gold: one labelled agent turn per line (JSON Lines)")]


def _gold_eval(command: Callable[..., int], file: Path, *, as_json: bool, data: Path | None, split: str,
               flows: Path | None, scripts: Path | None) -> NoReturn:
    """Run one of the gold-file measurements of `app.qa.commands` and exit with its code."""
    from app.qa.stage_gold import default_data

    raise typer.Exit(command(file, settings=_settings(flows, scripts), data=data or default_data(), split=split,
                             as_json=as_json, err=err_console))


@qa_app.command("tagger-eval")
def qa_tagger_eval(file: StageGold, as_json: GoldJson = False, data: GoldData = None, split: GoldSplit = "all",
                   flows: FlowsDir = None, scripts: ScriptsDir = None) -> None:
    """Compare the stage tagger with hand-labelled agent turns: per-stage precision/recall/F1 and agreement."""
    from app.qa.commands import tagger_eval_command

    _gold_eval(tagger_eval_command, file, as_json=as_json, data=data, split=split, flows=flows, scripts=scripts)


@qa_app.command("suggest-eval")
def qa_suggest_eval(file: StageGold, as_json: GoldJson = False, data: GoldData = None, split: GoldSplit = "all",
                    flows: FlowsDir = None, scripts: ScriptsDir = None) -> None:
    """Replay labelled conversations as the agent sidebar sees them: were the suggestions of the stage the agent used?"""
    from app.qa.commands import suggest_eval_command

    _gold_eval(suggest_eval_command, file, as_json=as_json, data=data, split=split, flows=flows, scripts=scripts)


@qa_app.command("topic-eval")
def qa_topic_eval(
    file: Annotated[Path, typer.Argument(help="intent gold: {\"session\", \"turn\", \"split\", \"intent\"} per customer turn")],
    as_json: GoldJson = False, data: GoldData = None, split: GoldSplit = "all",
    flows: FlowsDir = None, scripts: ScriptsDir = None,
) -> None:
    """Replay labelled conversations in assist mode: how often the engine's topic is the one the labels imply."""
    from app.qa.commands import topic_eval_command

    _gold_eval(topic_eval_command, file, as_json=as_json, data=data, split=split, flows=flows, scripts=scripts)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
