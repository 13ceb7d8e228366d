"""What a conversation tells a letter: the letter slots read from a transcript (stored or interchange)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Final

from app.engine.step import Engine
from app.transcripts import Transcript
from app.vocab import Role, Stage

CUSTOMER_SLOTS: Final = ("order_id", "product_model")  # read from what the customer wrote
KEPT_SLOTS: Final = ("customer_name", "order_id", "product_model", "issue")  # a stored conversation's own


def slots_from_transcript(transcript: Transcript, engine: Engine, stored: Mapping[str, str] | None = None,
                          *, today: date) -> dict[str, str]:
    """The letter slots a conversation supplies.

    `enquiry_date` is the day of the customer's first message; order number and product model come from
    the conversation's slots (`stored`) or else from the customer's words; `solution` is what the agent
    or the bot answered (the turns the stage tagger reads as answers), in order.
    """
    slots = {name: value for name, value in (stored or {}).items() if name in KEPT_SLOTS and value}
    customer_turns = [turn for turn in transcript.turns if turn.role == Role.CUSTOMER]
    first = next((turn.ts for turn in customer_turns if turn.ts is not None), None)
    if first is not None:
        slots["enquiry_date"] = first.date().isoformat()
    for turn in customer_turns:
        found = engine.analyzer.analyze(turn.text, today=today).slots
        for name in CUSTOMER_SLOTS:
            if name not in slots and found.get(name):
                slots[name] = found[name]
    answers = [turn.text.strip() for turn in transcript.turns
               if turn.role in (Role.AGENT, Role.BOT) and Stage.ANSWER in engine.tagger.tag(turn.text).stages]
    if answers:
        slots["solution"] = "".join(_sentence(text) for text in answers)
    return slots


def _sentence(text: str) -> str:
    return text if text.endswith(("。", "!", "?", "!", "?")) else text + "。"
