"""The engine step: (conversation, event) → (new events, reply or suggestions). Pure: no I/O, clock or randomness.

One function serves the three users:
- bot mode (the widget): the engine says the script's phrasings itself (`StepResult.replies`);
- assist mode (the agent sidebar): the engine follows the human agent and ranks `StepResult.suggestions`;
- replay (QA): assist mode over a finished transcript; agent turns get tagged with the stage they fulfil.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Final

from app.content.model import Content, Flow, StateSpec
from app.engine.conditions import TurnContext
from app.engine.conversation import Conversation
from app.engine.events import (
    ActionCompleted,
    ActionFailed,
    ActionRequested,
    AgentSaid,
    AgentTurnTagged,
    BotSaid,
    ConversationEnded,
    ConversationReopened,
    ConversationStarted,
    CounterIncremented,
    CustomerSaid,
    Event,
    GotoRequested,
    HandoffRequested,
    MessageUnderstood,
    ModeChanged,
    RatingGiven,
    SlotSet,
    StateEntered,
    SurveyRequested,
)
from app.engine.machine import (
    ACTION_DONE,
    ACTION_FAILED,
    CUSTOMER_MESSAGE,
    NEXT,
    UNANSWERABLE,
    FlowMachine,
    agent_trigger,
    goto_trigger,
)
from app.engine.suggest import Suggester, Suggestion
from app.engine.tagger import OTHER, StageTagger
from app.errors import EngineError, StepLimitExceeded, UnknownState
from app.nlu.analysis import Analysis
from app.nlu.analyzer import Analyzer
from app.pii import mask_all
from app.vocab import Mode, Stage

MAX_STEPS_PER_TURN: Final = 16
_CORRECTING_STAGES: Final = frozenset({Stage.CLARIFY, Stage.CONFIRM})
# In assist mode a topic gives way only to a reading this much more probable than it (chosen on the JDDC dev
# sets: docs/qa.md, "Topic tracking on real chats").
TOPIC_SWITCH_MARGIN: Final = 0.2
# The survey's lines are no phrasings of the collection (scripts_zh/survey.yaml): these ids mark them.
SURVEY_ASK: Final = "survey.ask"
SURVEY_THANKS: Final = "survey.thanks"
RELOAD_TRIGGER: Final = "reload"  # a state the reloaded pack no longer has was left this way
_NO_DATE: Final = date(1970, 1, 1)  # events without a timestamp resolve relative dates against a fixed day


@dataclass(frozen=True, slots=True)
class StepResult:
    events: tuple[Event, ...]
    conversation: Conversation
    replies: tuple[BotSaid, ...] = ()
    suggestions: tuple[Suggestion, ...] = ()
    actions: tuple[ActionRequested, ...] = ()
    analysis: Analysis | None = None
    tag: AgentTurnTagged | None = None


@dataclass
class _Turn:
    """The working copy of one step: events are applied as they are emitted."""

    conversation: Conversation
    flow: Flow
    machine: FlowMachine
    events: list[Event] = field(default_factory=list)
    moves: int = 0
    follow_up: bool = False  # this customer message asks a new question after the issue was stated

    def emit(self, event: Event) -> None:
        self.events.append(event)
        self.conversation.apply(event)

    def spec(self) -> StateSpec:
        return self.flow.states[self.conversation.state]

    def context(self, analysis: Analysis | None) -> TurnContext:
        return TurnContext(analysis, self.conversation.slots, self.conversation.counters, self.follow_up)

    def count_move(self) -> None:
        self.moves += 1
        if self.moves > MAX_STEPS_PER_TURN:
            raise StepLimitExceeded(
                f"flow {self.flow.name!r} moved more than {MAX_STEPS_PER_TURN} times in one step "
                f"(last state {self.conversation.state!r}); check its `then`/`reprocess` chain for a loop"
            )


class Engine:
    """Compiled flows, phrasings and NLU, built once and shared by every conversation."""

    def __init__(self, content: Content, analyzer: Analyzer, *, default_flow: str = "default") -> None:
        self.content = content
        self.analyzer = analyzer
        self.machines = {name: FlowMachine(flow) for name, flow in content.flows.items()}
        self.suggester = Suggester(content)
        self.tagger = StageTagger(content)
        if default_flow not in content.flows:
            # Never fall back to another flow: the widget would greet customers with the wrong script.
            raise EngineError(f"default flow {default_flow!r} is not loaded; flows are: {', '.join(content.flows) or 'none'}")
        self.default_flow = default_flow

    # ------------------------------------------------------------ public API

    def start(
        self,
        conversation_id: str,
        *,
        flow: str | None = None,
        channel: str = "online",
        mode: str = Mode.BOT,
        slots: dict[str, str] | None = None,
        at: object = None,
        with_suggestions: bool = True,
    ) -> StepResult:
        name = flow or self.default_flow
        if name not in self.content.flows:
            raise EngineError(f"unknown flow {name!r}; flows are: {', '.join(self.content.flows)}")
        event = ConversationStarted(
            conversation_id=conversation_id,
            flow=name,
            flow_version=self.content.flows[name].version,
            channel=channel,
            mode=mode,
            slots=dict(slots or {}),
            at=at,  # type: ignore[arg-type]
        )
        return self.step(Conversation(), event, with_suggestions=with_suggestions)

    def step(self, conversation: Conversation, event: Event, *, with_suggestions: bool = True) -> StepResult:
        """Take one event; in assist mode the result carries suggestions unless `with_suggestions` is off
        (QA replay does not show them, and ranking them is a good part of a step's cost)."""
        flow_name = event.flow if isinstance(event, ConversationStarted) else conversation.flow
        if flow_name not in self.machines:
            raise EngineError(f"unknown flow {flow_name!r}; flows are: {', '.join(self.machines)}")
        turn = _Turn(conversation.copy(), self.content.flows[flow_name], self.machines[flow_name])
        analysis: Analysis | None = None
        tag: AgentTurnTagged | None = None
        if not isinstance(event, ConversationStarted) and conversation.state not in turn.flow.states:
            # The pack was reloaded without this state: resume where the script listens (docs/packs.md).
            resume = turn.flow.state_for_stage(Stage.LISTEN) or turn.flow.initial
            turn.emit(StateEntered(resume, conversation.state, RELOAD_TRIGGER))
        turn.emit(event)
        match event:
            case ConversationStarted():
                self._on_start(turn)
            case CustomerSaid():
                analysis = self._on_customer(turn, event)
            case AgentSaid():
                tag = self._on_agent(turn, event)
            case ActionCompleted():
                self._on_action(turn, event.action, ACTION_DONE, event.slots)
            case ActionFailed():
                self._on_action(turn, event.action, ACTION_FAILED, {})
            case GotoRequested():
                if event.state not in turn.flow.states:
                    raise UnknownState(f"flow {turn.flow.name!r} has no state {event.state!r}")
                self._move(turn, goto_trigger(event.state), None, speak=True)
            case ModeChanged():
                self._on_mode(turn, event)
            case SlotSet() | RatingGiven():
                pass  # applied by the fold; the script does not move
            case _:
                raise EngineError(f"{event.type!r} is not an input event")
        result_conversation = turn.conversation
        replies = tuple(e for e in turn.events if isinstance(e, BotSaid))
        actions = tuple(e for e in turn.events if isinstance(e, ActionRequested))
        suggestions: tuple[Suggestion, ...] = ()
        if with_suggestions and result_conversation.mode == Mode.ASSIST and not result_conversation.ended:
            suggestions = tuple(self.suggest(result_conversation, analysis.text if analysis else ""))
        return StepResult(tuple(turn.events), result_conversation, replies, suggestions, actions, analysis, tag)

    def suggest(self, conversation: Conversation, text: str = "", *, limit: int = 5) -> list[Suggestion]:
        """Rank phrasings for where the conversation is now (the agent sidebar; `/api/suggest`)."""
        flow = self.content.flows[conversation.flow]
        spec = flow.states[conversation.state]
        if conversation.taken_over and spec.stage == Stage.HAND_OFF:
            spec = flow.states[flow.takeover_state()]  # never offer "马上为您转接人工" to the human taking over
        words = text + conversation.slots.get("issue", "")
        ranked = self._rank(conversation, spec, words, limit)
        if spec.fallback and not any(s.matched and not s.missing_slots for s in ranked):
            # Nothing fits: offer what the script does instead (e.g. promise a reply time).
            ranked += self._rank(conversation, flow.states[spec.fallback], words, limit)
        also = self._also_offered(conversation, flow, [s.stage for s in ranked[:limit]], words, max(limit - 1, 0))
        return ranked[:limit - len(also)] + also

    def _also_offered(self, conversation: Conversation, flow: Flow, offered: list[str], words: str,
                      room: int) -> list[Suggestion]:
        """The best phrasing of each of the flow's `assist_also` stages not offered yet, at most `room` of them."""
        also: list[Suggestion] = []
        for stage in flow.assist_also:
            if len(also) >= room:
                break
            state = flow.state_for_stage(stage)
            if stage not in offered and state is not None:
                also += self._rank(conversation, flow.states[state], words, 1)[:1]
        return also

    def analyze(self, text: str, today: date = _NO_DATE) -> Analysis:
        return self.analyzer.analyze(text, today=today)

    # ------------------------------------------------------------ input events

    def _on_start(self, turn: _Turn) -> None:
        conversation = turn.conversation
        if conversation.mode == Mode.BOT and "agent_name" not in conversation.slots and "bot_name" in self.content.facts:
            turn.emit(SlotSet("agent_name", self.content.facts["bot_name"]))
        self._enter(turn, turn.flow.initial, previous=None, trigger="start", speak=True)

    def _on_customer(self, turn: _Turn, event: CustomerSaid) -> Analysis:
        today = event.at.date() if event.at is not None else _NO_DATE
        analysis = self.analyzer.analyze(event.text, today=today)
        turn.emit(
            MessageUnderstood(
                intent=analysis.intent,
                confidence=analysis.confidence,
                emotion=analysis.emotion,
                confirmation=analysis.confirmation,
                handoff=analysis.handoff,
            )
        )
        if turn.conversation.survey_pending and self._rated(turn, event):
            return analysis
        slots = turn.conversation.slots
        for name, value in analysis.slots.items():
            if slots.get(name) != value:
                turn.emit(SlotSet(name, value))
        topical = analysis.intent in turn.flow.topics
        confident = analysis.confidence >= turn.flow.min_confidence
        if topical and self._moves_topic(turn, analysis, confident):
            turn.emit(SlotSet("topic", analysis.intent))
        if topical and confident:
            # Restated back to the customer: a card or ID number in their words is never said back in full.
            restated = self.content.restatement.restate(mask_all(analysis.normalized))
            # A question once the problem is stated ("好的,那退款多久能到账?") opens a new topic but keeps
            # the issue: it is answered, not restated as if it were the problem. Not while the script is
            # asking the customer to restate or correct it ("不对,我是想问空调怎么报修").
            turn.follow_up = (
                analysis.question and bool(slots.get("issue")) and turn.spec().stage not in _CORRECTING_STAGES
            )
            turn.emit(SlotSet("question" if turn.follow_up else "issue", restated))

        conversation = turn.conversation
        if conversation.pending_action or (conversation.mode == Mode.BOT and conversation.awaiting_agent):
            return analysis  # recorded; the script waits for the action or the human agent
        self._skip_to_waiting(turn)
        if turn.spec().final:
            # The customer writes again after the end: the script picks up at listening.
            if turn.conversation.ended:
                turn.emit(ConversationReopened())
            reopen = turn.flow.state_for_stage(Stage.LISTEN) or turn.flow.initial
            self._move(turn, goto_trigger(reopen), None, speak=False)
        self._route(turn, analysis)
        return analysis

    @staticmethod
    def _moves_topic(turn: _Turn, analysis: Analysis, confident: bool) -> bool:
        """Whether a topic intent becomes the conversation's topic.

        The bot acts on the topic, so it waits for `min_confidence`. An assisted agent only reads suggestions:
        on real chats they are served better by the best reading, however unsure, than by no topic, and better
        by the current topic than by a reading that is hardly more probable than it (a fragment about the
        order read as a return).
        """
        current = turn.conversation.slots.get("topic")
        if current == analysis.intent:
            return False
        if turn.conversation.mode != Mode.ASSIST:
            return confident
        if current is None:
            return True
        return analysis.confidence - dict(analysis.alternatives).get(current, 0.0) > TOPIC_SWITCH_MARGIN

    def _on_agent(self, turn: _Turn, event: AgentSaid) -> AgentTurnTagged:
        phrase = self.content.phrases.get(event.phrase_id) if event.phrase_id else None
        stage_tag = self.tagger.tag(
            event.text, phrase_id=phrase.id if phrase else None, phrase_stage=phrase.stage if phrase else None
        )
        tag = AgentTurnTagged(stage_tag.stage, stage_tag.stages, stage_tag.phrase_id, stage_tag.score)
        turn.emit(tag)
        if stage_tag.stage == OTHER:
            return tag
        action = turn.conversation.pending_action
        if action is not None:
            if stage_tag.stage == turn.spec().stage:
                return tag  # "请稍等,正在为您查询": the agent is still waiting for it too
            # Replay runs no fulfilment action, and a human may answer before one returns: the agent's
            # turn stands for its outcome, so the script moves on as if it had completed.
            turn.emit(ActionCompleted(action, at=event.at))
            self._move(turn, ACTION_DONE, None, speak=False)
        current = turn.spec()
        target = current.name if current.stage == stage_tag.stage else turn.flow.state_for_stage(stage_tag.stage)
        if target is None:
            return tag
        # The agent has just said what the target state says, so the script moves past it by `then`
        # (entering a state without speaking does that by itself).
        if target != current.name:
            self._move(turn, agent_trigger(stage_tag.stage), None, speak=False)
        elif current.then:
            self._move(turn, NEXT, None, speak=False)
        return tag

    def _on_mode(self, turn: _Turn, event: ModeChanged) -> None:
        """A human who takes over speaks as themself, and a handed-off conversation leaves `handoff`:
        the script continues for the human at the flow's `takeover` state (docs/flows.md)."""
        if event.mode == Mode.BOT:
            return
        if event.agent and turn.conversation.slots.get("agent_name") != event.agent:
            turn.emit(SlotSet("agent_name", event.agent))
        if turn.spec().stage == Stage.HAND_OFF:
            if turn.conversation.ended:
                turn.emit(ConversationReopened())
            self._move(turn, goto_trigger(turn.flow.takeover_state()), None, speak=False)

    def _on_action(self, turn: _Turn, action: str, trigger: str, slots: dict[str, str]) -> None:
        spec = turn.spec()
        if spec.action != action:
            raise EngineError(
                f"action {action!r} finished but state {spec.name!r} is waiting for {spec.action!r}"
            )
        for name, value in slots.items():
            turn.emit(SlotSet(name, str(value)))
        self._move(turn, trigger, None, speak=True)

    # ------------------------------------------------------------ moving through the script

    def _route(self, turn: _Turn, analysis: Analysis) -> None:
        move = turn.machine.fire(turn.conversation.state, CUSTOMER_MESSAGE, turn.context(analysis))
        if move is None:
            return  # no route fits (the validator insists on a catch-all, so only hand-made flows get here)
        turn.count_move()
        if move.route is not None and move.route.count:
            turn.emit(CounterIncremented(move.route.count))
        previous = turn.conversation.state
        reprocess = move.route is not None and move.route.reprocess
        self._enter(turn, move.state, previous=previous, trigger=CUSTOMER_MESSAGE, speak=not reprocess)
        if reprocess and turn.spec().waits_for_customer:
            self._route(turn, analysis)

    def _move(self, turn: _Turn, trigger: str, analysis: Analysis | None, *, speak: bool) -> None:
        previous = turn.conversation.state
        move = turn.machine.fire(previous, trigger, turn.context(analysis))
        if move is None:
            return
        turn.count_move()
        self._enter(turn, move.state, previous=previous, trigger=trigger, speak=speak)

    def _skip_to_waiting(self, turn: _Turn) -> None:
        """Assist mode pauses at states the agent has not said yet; a customer message moves past them."""
        while (spec := turn.spec()).then and not spec.action:
            previous = spec.name
            move = turn.machine.fire(previous, NEXT, turn.context(None))
            if move is None:
                return
            turn.count_move()
            turn.emit(StateEntered(move.state, previous, NEXT))

    def _enter(self, turn: _Turn, state: str, *, previous: str | None, trigger: str, speak: bool) -> None:
        """Enter a state and run it: say its phrasing, request its action, or move on by `then`."""
        turn.emit(StateEntered(state, previous, trigger))
        spec = turn.spec()
        conversation = turn.conversation
        if speak and spec.say:
            if conversation.mode == Mode.BOT:
                suggestion = self._choose(conversation, spec, conversation.slots.get("question" if turn.follow_up else "issue", ""))
                if suggestion is None:
                    if spec.fallback:
                        self._move(turn, UNANSWERABLE, None, speak=True)
                        return
                    raise EngineError(f"nothing to say in state {spec.name!r} of flow {turn.flow.name!r}")
                turn.emit(BotSaid(suggestion.text, suggestion.phrase_id, suggestion.stage))
            elif not spec.action:
                return  # assist mode: wait here for the agent to say it (suggestions show what)
        if spec.stage == Stage.HAND_OFF:
            turn.emit(HandoffRequested(reason=trigger))
        if spec.action:
            turn.emit(ActionRequested(spec.action, dict(conversation.slots)))
            return
        if spec.final:
            if spec.stage != Stage.HAND_OFF:
                turn.emit(ConversationEnded(reason=spec.name))
                self._ask_survey(turn, speak=speak)
            return
        if spec.then:
            self._move(turn, NEXT, None, speak=speak)

    # ------------------------------------------------------------ the satisfaction survey

    def _ask_survey(self, turn: _Turn, *, speak: bool) -> None:
        """At the end, a flow with `survey: true` asks for a rating once; the bot says the question (a human
        agent's customer gets the widget's rating buttons, or the phone system's prompt)."""
        survey = self.content.survey
        conversation = turn.conversation
        if not turn.flow.survey or survey is None or conversation.rating is not None:
            return
        turn.emit(SurveyRequested())
        question = survey.ask.get(conversation.channel)
        if speak and question and conversation.mode == Mode.BOT:
            turn.emit(BotSaid(question, SURVEY_ASK, Stage.FAREWELL))

    def _rated(self, turn: _Turn, event: CustomerSaid) -> bool:
        """A reply that is only a score ("5", "五分") rates the service; the conversation stays ended."""
        survey = self.content.survey
        score = survey.score(event.text) if survey is not None else None
        if survey is None or score is None:
            return False
        turn.emit(RatingGiven(score, at=event.at))
        thanks = survey.thanks.get(turn.conversation.channel)
        if thanks and turn.conversation.mode == Mode.BOT:
            turn.emit(BotSaid(thanks, SURVEY_THANKS, Stage.FAREWELL))
        return True

    def _rank(self, conversation: Conversation, spec: StateSpec, words: str, limit: int) -> list[Suggestion]:
        return self.suggester.rank(
            spec.stage,
            channel=conversation.channel,
            topic=conversation.slots.get("topic"),
            slots=conversation.slots,
            words=words,
            turn=conversation.turn,
            only=spec.phrases,
            limit=limit,
        )

    def _choose(self, conversation: Conversation, spec: StateSpec, words: str) -> Suggestion | None:
        """The bot's line: the best phrasing with every slot filled (and fitting `words`, the question, if
        required)."""
        return self.suggester.best(
            spec.stage,
            channel=conversation.channel,
            topic=conversation.slots.get("topic"),
            slots=conversation.slots,
            words=words,
            turn=conversation.turn,
            only=spec.phrases,
            require_match=spec.require_match,
        )
