"""Drawing customer turns from transcripts for labelling: the start of a pack's own real-text set."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from app.cli import app
from app.nlu.sampling import sample_turns
from app.transcripts import Transcript, Turn

runner = CliRunner()


def _chat(session: str, *lines: tuple[str, str]) -> Transcript:
    return Transcript(id=session, turns=tuple(Turn(role, text) for role, text in lines))


CHATS = [_chat(f"s{n}", ("customer", "你好"), ("agent", "您好,请问有什么可以帮您?"), ("customer", f"订单{n}到哪了"),
               ("agent", "正在为您查询"), ("customer", "   "), ("customer", "好的谢谢")) for n in range(20)]


def test_the_first_customer_turns_of_the_drawn_sessions_with_their_indexes() -> None:
    lines = sample_turns(CHATS, sessions=3, turns=2, seed=7)
    assert len(lines) == 6 and len({line["session"] for line in lines}) == 3
    first = [line for line in lines if line["session"] == lines[0]["session"]]
    assert [(line["turn"], line["text"]) for line in first] == [(0, "你好"), (2, f"订单{lines[0]['session'][1:]}到哪了")]
    assert all(set(line) == {"session", "turn", "text"} for line in lines)  # nothing of the model's


def test_blank_turns_are_skipped_and_agents_never_drawn() -> None:
    lines = sample_turns(CHATS[:1], sessions=1, turns=5, seed=1)
    assert [line["turn"] for line in lines] == [0, 2, 5]


def test_the_same_seed_draws_the_same_sample_and_another_seed_another() -> None:
    drawn = [line["session"] for line in sample_turns(CHATS, sessions=5, turns=1, seed=3)]
    assert drawn == [line["session"] for line in sample_turns(reversed(CHATS), sessions=5, turns=1, seed=3)]
    assert drawn != [line["session"] for line in sample_turns(CHATS, sessions=5, turns=1, seed=4)]


def test_excluded_sessions_are_never_drawn_and_split_is_added() -> None:
    taken = {f"s{n}" for n in range(18)}
    lines = sample_turns(CHATS, sessions=10, turns=1, seed=1, exclude=taken, split="dev")
    assert {line["session"] for line in lines} == {"s18", "s19"}
    assert {line["split"] for line in lines} == {"dev"}


def _jddc(path: Path) -> Path:
    rows = []
    for n in range(6):
        rows += [f"c{n}\tU\t0\t0\t0\tnan\t你好", f"c{n}\tU\t1\t0\t0\tnan\t您好", f"c{n}\tU\t0\t0\t0\tnan\t发票怎么开{n}"]
    path.write_text("\n".join(rows) + "\nbroken row\n", encoding="utf-8")
    return path


def test_nlu_sample_draws_from_a_jddc_export_leaving_out_a_labelled_set(tmp_path: Path) -> None:
    gold = tmp_path / "gold.jsonl"
    gold.write_text("".join(json.dumps({"session": f"c{n}", "turn": 0, "split": "dev", "intent": "greeting"}) + "\n"
                            for n in range(4)), encoding="utf-8")
    out = tmp_path / "sample.jsonl"
    result = runner.invoke(app, ["nlu", "sample", str(_jddc(tmp_path / "chat.tsv")), "--sessions", "5", "--turns", "2",
                                 "--exclude", str(gold), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "chat.tsv:19" in result.output  # the broken row is named, the rest is drawn
    lines = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert {line["session"] for line in lines} == {"c4", "c5"} and len(lines) == 4


def test_labelled_sample_lines_are_measured_against_the_transcripts_they_came_from(tmp_path: Path) -> None:
    chats = tmp_path / "chats.jsonl"
    chats.write_text("".join(json.dumps({"id": c.id, "turns": [t.to_dict() for t in c.turns]}, ensure_ascii=False) + "\n"
                             for c in CHATS[:4]), encoding="utf-8")
    drawn = runner.invoke(app, ["nlu", "sample", str(chats), "--sessions", "2", "--turns", "2"])
    assert drawn.exit_code == 0, drawn.output
    labelled = tmp_path / "labelled.jsonl"
    with labelled.open("w", encoding="utf-8") as handle:
        for line in map(json.loads, drawn.stdout.splitlines()):
            intent = "greeting" if line["text"] == "你好" else "order_status"
            handle.write(json.dumps({"session": line["session"], "turn": line["turn"], "intent": intent}) + "\n")
    report = runner.invoke(app, ["nlu", "evaluate", str(labelled), "--data", str(chats), "--json"])
    assert report.exit_code == 0, report.output
    assert json.loads(report.stdout)["total"] == 4


def test_nlu_sample_refuses_a_missing_file(tmp_path: Path) -> None:
    result = runner.invoke(app, ["nlu", "sample", str(tmp_path / "none.tsv")])
    assert result.exit_code == 2 and "no such file" in result.output


def test_any_labelled_file_naming_sessions_can_be_excluded(tmp_path: Path) -> None:
    stages = tmp_path / "stage_gold.jsonl"  # labels of another kind: stages, not intents
    stages.write_text("".join(json.dumps({"session": f"c{n}", "turn": 1, "stage": "greeting"}) + "\n" for n in range(5)),
                      encoding="utf-8")
    result = runner.invoke(app, ["nlu", "sample", str(_jddc(tmp_path / "chat.tsv")), "--exclude", str(stages)])
    assert result.exit_code == 0, result.output
    assert {json.loads(line)["session"] for line in result.stdout.splitlines()} == {"c5"}
