"""Typed, immutable content: flows, phrasings, facts, forbidden wording and stage cues.

Built once at start-up by `app.content.loader` and shared read-only by every conversation.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, tzinfo
from typing import TYPE_CHECKING, Final

from app.vocab import Channel, Stage

if TYPE_CHECKING:  # the content loader builds them (app.aftercare reads content errors: no import cycle at run time)
    from app.aftercare.promises import PromiseRules

STAGES: Final = tuple(Stage)
CHANNELS: Final = tuple(Channel)
SEVERITIES: Final = ("minor", "major", "critical")
# Below a flow's `min_confidence` the engine does not act on an intent: it asks the customer to clarify.
DEFAULT_MIN_CONFIDENCE: Final = 0.45

_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")


@dataclass(frozen=True, slots=True)
class Template:
    """A phrasing text split once into literal parts and placeholder names, so rendering is a join."""

    source: str
    parts: tuple[str, ...]  # even indexes are literals, odd indexes are placeholder names
    placeholders: frozenset[str]

    @classmethod
    def parse(cls, text: str) -> Template:
        parts = tuple(_PLACEHOLDER.split(text))
        return cls(text, parts, frozenset(parts[1::2]))

    def render(self, values: Mapping[str, str]) -> tuple[str, tuple[str, ...]]:
        """Fill placeholders; returns the text and the names that had no value (left as `{name}`)."""
        out: list[str] = []
        missing: list[str] = []
        for index, part in enumerate(self.parts):
            if index % 2 == 0:
                out.append(part)
            elif (value := values.get(part)) is not None and value != "":
                out.append(value)
            else:
                missing.append(part)
                out.append("{" + part + "}")
        return "".join(out), tuple(dict.fromkeys(missing))


@dataclass(frozen=True, slots=True)
class Phrase:
    """One standard phrasing (标准话术) with its variants; `templates[0]` is the canonical text."""

    id: str
    stage: str
    scenarios: frozenset[str]  # empty: fits any scenario
    channels: frozenset[str]
    templates: tuple[Template, ...]
    keywords: tuple[str, ...] = ()
    source: str = ""
    file: str = ""
    line: int | None = None

    @property
    def text(self) -> str:
        return self.templates[0].source

    @property
    def placeholders(self) -> frozenset[str]:
        return self.templates[0].placeholders

    @property
    def generic(self) -> bool:
        return not self.scenarios


@dataclass(frozen=True, slots=True)
class ForbiddenPhrase:
    id: str
    phrase: str
    pattern: re.Pattern[str]
    replacement: str
    severity: str
    reason: str = ""
    source: str = ""


@dataclass(frozen=True, slots=True)
class Condition:
    """What must hold for a route to be taken; every given field must match (an empty condition always does)."""

    intents: frozenset[str] | None = None
    not_intents: frozenset[str] | None = None
    emotions: frozenset[str] | None = None
    confirmation: str | None = None
    handoff: bool | None = None
    follow_up: bool | None = None  # a question on a topic after the issue was stated (the engine decides)
    confidence_below: float | None = None
    topics: frozenset[str] | None = None
    slots_missing: frozenset[str] | None = None
    slots_present: frozenset[str] | None = None
    counters_at_least: Mapping[str, int] | None = None

    @property
    def always(self) -> bool:
        return all(getattr(self, name) is None for name in self.__slots__)


@dataclass(frozen=True, slots=True)
class Route:
    """A customer-message transition: when `when` holds, go to `goto`."""

    goto: str
    when: Condition = field(default_factory=Condition)
    count: str | None = None  # a counter to increment when this route is taken
    reprocess: bool = False  # hand the same message on to the target state's routes
    line: int | None = None


@dataclass(frozen=True, slots=True)
class StateSpec:
    """One state of the service script.

    A state *speaks* on entry when `say` (the bot says, or the agent is offered, a phrasing of `stage`);
    it then either moves on by itself (`then`), waits for an action's result (`action`), ends (`final`)
    or waits for the customer (`routes`).
    """

    name: str
    stage: str
    say: bool = True
    then: str | None = None
    routes: tuple[Route, ...] = ()
    action: str | None = None
    on_done: str | None = None
    on_failed: str | None = None
    fallback: str | None = None  # where to go when nothing fitting can be said (e.g. no fact for the answer)
    require_match: bool = False  # only say a phrasing whose keywords match the customer's words
    phrases: tuple[str, ...] = ()  # restrict to these phrase ids (in preference order); empty: any of the stage
    final: bool = False
    title: str = ""  # how people see the state (the agent workspace, the diagram); empty: its name
    line: int | None = None

    @property
    def waits_for_customer(self) -> bool:
        return not (self.then or self.action or self.final)


@dataclass(frozen=True, slots=True)
class Flow:
    name: str
    version: str
    initial: str
    states: Mapping[str, StateSpec]
    always: tuple[Route, ...] = ()  # checked before each waiting state's own routes
    channels: frozenset[str] = frozenset({"online"})
    slots: tuple[str, ...] = ()
    description: str = ""
    min_confidence: float = DEFAULT_MIN_CONFIDENCE
    # Intents that name what the conversation is about (its topic); the others are conversational moves.
    topics: frozenset[str] = frozenset()
    counters: tuple[str, ...] = ()  # the counters the flow's routes `count` (the engine keeps ENGINE_COUNTERS)
    takeover: str | None = None  # where a hand-off continues when a human takes over (default: listening)
    survey: bool = False  # at the end, ask for a rating (scripts_zh/survey.yaml) and take a digit reply as one
    # Stages whose best phrasing an assisted agent is offered too, after the current state's own: real agents
    # often answer where the script would ask, or check for more questions (docs/qa.md, "What the sidebar offers").
    assist_also: tuple[str, ...] = ()
    file: str = ""

    def routes_for(self, state: str) -> tuple[Route, ...]:
        return self.always + self.states[state].routes

    def takeover_state(self) -> str:
        """Where the script continues for a human who takes over a handed-off conversation."""
        return self.takeover or self.state_for_stage(Stage.LISTEN) or self.initial

    def state_for_stage(self, stage: str) -> str | None:
        """The first state (in file order) that speaks in `stage`: where an agent's turn of that stage leads."""
        for spec in self.states.values():
            if spec.stage == stage and not spec.final:
                return spec.name
        return None


@dataclass(frozen=True, slots=True)
class Restatement:
    """Turning the customer's words into the `issue` the script restates (scripts_zh/restate.yaml)."""

    strip_prefixes: tuple[str, ...] = ()
    pronouns: Mapping[str, str] = field(default_factory=dict)
    max_chars: int = 40
    _pronoun_pattern: re.Pattern[str] | None = None

    @classmethod
    def build(cls, strip_prefixes: tuple[str, ...], pronouns: Mapping[str, str], max_chars: int) -> Restatement:
        keys = sorted(pronouns, key=len, reverse=True)  # longest first: 你们 before 你
        pattern = re.compile("|".join(re.escape(k) for k in keys)) if keys else None
        prefixes = tuple(sorted(strip_prefixes, key=len, reverse=True))
        return cls(prefixes, dict(pronouns), max_chars, pattern)

    def restate(self, text: str) -> str:
        text = text.strip()
        stripped = True
        while stripped:  # "不对,不是,我是想…" loses every opener
            stripped = False
            for prefix in self.strip_prefixes:
                if text.startswith(prefix):
                    text = text[len(prefix) :].lstrip(" ,，、。.!！~")
                    stripped = True
                    break
        if self._pronoun_pattern is not None:
            text = self._pronoun_pattern.sub(lambda m: self.pronouns[m.group(0)], text)
        return text.rstrip("。.!！?？~～,，、 ")[: self.max_chars]


@dataclass(frozen=True, slots=True)
class Survey:
    """The satisfaction survey at close (scripts_zh/survey.yaml): what is said per channel, and the words
    a reply may use for a score ("5", "五分", "５星"…), so a phone customer rates with a digit."""

    ask: Mapping[str, str] = field(default_factory=dict)  # channel → the question
    thanks: Mapping[str, str] = field(default_factory=dict)  # channel → the thanks for a rating
    scores: Mapping[str, int] = field(default_factory=dict)  # a word → its score (1–5)
    fillers: tuple[str, ...] = ()  # words around the score that change nothing ("我打", "分"), longest first

    def score(self, text: str) -> int | None:
        """The rating a reply gives, or None when the reply is anything but a score."""
        rest = unicodedata.normalize("NFKC", text).strip()
        for filler in self.fillers:
            rest = rest.replace(filler, "")
        rest = rest.strip(_PUNCTUATION)
        if rest in self.scores:
            return self.scores[rest]
        return int(rest) if rest in _DIGIT_SCORES else None


_DIGIT_SCORES = frozenset("12345")
_PUNCTUATION = " .,!~\u3002\uff01\uff0c\uff5e"  # around a score: ASCII and full-width marks


@dataclass(frozen=True, slots=True)
class IntentSpec:
    """One intent of a pack (scripts_zh/nlu/intents/*.yaml): what it means and the examples it is fit on."""

    name: str
    description: str
    examples: tuple[str, ...]
    file: str = ""
    line: int = 0


@dataclass(frozen=True, slots=True)
class StageCues:
    """scripts_zh/stage_cues.yaml as regular-expression sources (a literal cue is escaped), in file order.

    `stages` maps a stage to the cues that say an agent's turn performs it; `no_act` are words that are no
    act and no substance (fillers, address terms, thanks-talk, the question tag of a proposal, placeholders).
    """

    stages: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    no_act: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Content:
    """Everything loaded from flows/ and scripts_zh/."""

    flows: Mapping[str, Flow]
    phrases: Mapping[str, Phrase]
    facts: Mapping[str, str]
    forbidden: tuple[ForbiddenPhrase, ...] = ()
    stage_cues: StageCues = field(default_factory=StageCues)
    restatement: Restatement = field(default_factory=Restatement)
    survey: Survey | None = None  # None: the pack has no scripts_zh/survey.yaml
    promises: PromiseRules | None = None  # scripts_zh/aftercare/commitments.yaml; None: no promise is tracked
    intents: Mapping[str, IntentSpec] = field(default_factory=dict)  # in declaration order
    version: str = ""  # a digest of all files, so QA reports can say which content they used

    @property
    def business_zone(self) -> tzinfo:
        """The business's time zone (its working-day calendar's): where a rating's day or a due time is told."""
        return self.promises.calendar.zone if self.promises is not None else UTC
