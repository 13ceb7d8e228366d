"""Intent classification: a linear model trained at load time plus weighted lexicon cues.

Multinomial Naive Bayes over binary features (CJK character unigrams and bigrams, first/last
character, Latin words, number shapes, slot presence), corrected by a logistic regression on the same
features, is trained from the pack's intent examples (`scripts_zh/nlu/intents/*.yaml`) at load; both
are sums of per-feature weights, so they fold into one table and a message is scored in a few
microseconds. The lexicon (the pack's `nlu/intent_lexicon.yaml`)
adds log-odds for high-precision phrases, emotion and hand-off add their own evidence, and a
softmax whose temperature was chosen by cross-validation on the training split turns the scores
into `confidence`. Messages made of features the model has never seen lean towards `other`.
"""

from __future__ import annotations

import math
import re
import struct
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from collections.abc import Set as AbstractSet
from typing import Any, Final, NamedTuple

from app.nlu.analysis import CORE_INTENTS
from app.nlu.lexicon import Match, PhraseMatcher
from app.nlu.resources import DataError

ALPHA: Final = 0.1  # additive smoothing; chosen by 5-fold cross-validation on the training split
TEMPERATURE: Final = 6.0  # softmax temperature for NB log-scores; chosen the same way
# The logistic regression's logits join NB/TEMPERATURE with this weight. NB alone reads rare words well,
# the regression weighs features that only matter together; 0.15 (and C = 3) scored best on the dev sets
# of both packs (docs/nlu.md: +11 of 993 retail dev messages, cross-validation 89.3 → 89.8%).
LOGISTIC_WEIGHT: Final = 0.15
LOGISTIC_C: Final = 3.0  # inverse L2 strength of the regression
UNKNOWN_WEIGHT: Final = 3.0  # log-odds towards `other` for a message made only of unseen features
HANDOFF_WEIGHT: Final = 6.0  # an explicit request for a human outweighs everything but a far stronger intent
EMOTION_WEIGHTS: Final = {"angry": 3.0, "negative": 1.0}  # log-odds towards `complaint`
ACK_CAP: Final = 0.5  # a bare acknowledgement ("好的", "嗯") never gets a confident content intent
CONTENT_FREE_CONFIDENCE: Final = 0.9  # a message of bare values ("订单号[订单x]") asks nothing: `other`
MAX_ALTERNATIVES: Final = 3
WEIGHT_SCALE: Final = 32  # fixed-point scale of the model's log-likelihoods (1/32 nat)
LANE_OFFSET: Final = 1 << 10  # keeps every packed log-likelihood (≥ -32 nat) non-negative

_INVERSE_TEMPERATURE: Final = 1.0 / TEMPERATURE
_CJK_RUN: Final = re.compile(r"[\u4e00-\u9fff]+")
_LATIN_OR_NUMBER: Final = re.compile(r"[a-z]+|[0-9]+")
# What a value-only message is made of besides the pack's value labels: anonymised placeholders
# ("[订单x]"), numbers and codes with a digit ("vb123"), punctuation and spaces. A Latin word without
# a digit ("hi", "thx") is content.
_VALUE_PARTS: Final = r"\[[^\[\]]*\]|[a-z]*[0-9][a-z0-9]*|[\W_]"
_VALUE: Final = re.compile(r"\[[^\[\]]*\]|[a-z]*[0-9][a-z0-9]*")
_SEPARATORS: Final = re.compile(r"[^\w\[]*")  # spaces and punctuation, but not a placeholder's "["


class IntentResult(NamedTuple):
    """The chosen intent, its probability, and the runners-up (best first)."""

    intent: str
    confidence: float
    alternatives: tuple[tuple[str, float], ...]


def extract_features(normalized: str, slot_names: Iterable[str]) -> set[str]:
    """The binary features of a message: CJK character unigrams and bigrams, the first and last
    CJK character, Latin words, the shape of numbers, and which slots are present.

    Jieba's words are deliberately not features: nearly every Chinese word is already a character
    bigram here, and 5-fold cross-validation on the training split scored the model without them
    slightly higher (89.5% vs 89.2%) at lower cost. Features are not namespaced because the kinds
    cannot collide (a bigram has two CJK characters, a Latin word none).
    """
    features: set[str] = set()
    runs = _CJK_RUN.findall(normalized)
    for run in runs:
        features.update(run)
        features.update(map(str.__add__, run, run[1:]))
    if runs:
        features.add("^" + runs[0][0])
        features.add(runs[-1][-1] + "$")
    for word in _LATIN_OR_NUMBER.findall(normalized):
        if word[0].isdigit():
            features.add("<num>" if len(word) < 6 else "<longnum>")
        else:
            features.add(word)
    for name in slot_names:
        features.add("<slot:" + name + ">")
    return features


class IntentModel:
    """Multinomial Naive Bayes over binary features (optionally blended with a logistic regression, see
    `fit`), laid out for fast scoring in CPython.

    score(c) = log P(c) + Σ_known_f log P(f|c); unseen features are skipped. Each log P(f|c) is
    stored in fixed point (1/WEIGHT_SCALE nat; rounding ≤ 0.016 nat, far below the model's own
    resolution) plus LANE_OFFSET to keep it non-negative, and a feature's 13 values are packed into
    one Python int, 32 bits per intent (in the order of `intents`, the pack's declaration order). Scoring a message is then a C-level lookup, one `sum()` of
    a few big ints and one `struct.unpack`, instead of a Python loop over (feature, intent) pairs:
    several times faster, which the per-turn budget needs. A lane cannot overflow: that
    would take 2**32 / (2 * LANE_OFFSET) features in one message.
    """

    def __init__(self, intents: tuple[str, ...], priors: tuple[float, ...], rows: dict[str, int]) -> None:
        self.intents = intents
        self.priors = priors
        self.rows = rows  # feature → packed fixed-point log-likelihoods (see class docstring)
        self._lanes = struct.Struct(f"<{len(intents)}I")  # one unsigned 32-bit lane per intent

    @classmethod
    def fit(cls, samples: Iterable[tuple[AbstractSet[str], str]], intents: Sequence[str],
            alpha: float = ALPHA, *, logistic_weight: float = 0.0) -> IntentModel:
        """Train on (features, intent) pairs; every one of `intents` must occur at least once.

        With `logistic_weight`, a logistic regression fit on the same samples adds `logistic_weight` times
        its logits to the temperature-scaled NB score; it is folded into the stored weights (in NB units,
        times TEMPERATURE), so scoring costs the same.
        """
        samples = list(samples)
        intents = tuple(intents)
        documents: Counter[str] = Counter()
        counts: dict[str, Counter[str]] = {intent: Counter() for intent in intents}
        for features, intent in samples:
            if intent not in counts:
                raise DataError(f"training example labelled with undeclared intent {intent!r}")
            documents[intent] += 1
            counts[intent].update(features)
        missing = [intent for intent in intents if not documents[intent]]
        if missing:
            raise DataError(f"no training examples for intents {missing}")
        vocabulary = sorted(set().union(*counts.values()))
        total = sum(documents.values())
        priors = [math.log(documents[intent] / total) for intent in intents]
        denominators = [math.log(sum(counts[i].values()) + alpha * len(vocabulary)) for i in intents]
        weights = {
            feature: [math.log(counts[intent][feature] + alpha) - denominator
                      for intent, denominator in zip(intents, denominators, strict=True)]
            for feature in vocabulary
        }
        if logistic_weight:
            bias, coefficients = _logistic_regression(samples, intents, vocabulary)
            scale = logistic_weight * TEMPERATURE
            priors = [prior + scale * b for prior, b in zip(priors, bias, strict=True)]
            for feature, row in zip(vocabulary, coefficients, strict=True):
                weights[feature] = [w + scale * c for w, c in zip(weights[feature], row, strict=True)]
        lanes = struct.Struct(f"<{len(intents)}I")
        rows = {
            feature: int.from_bytes(lanes.pack(*(LANE_OFFSET + round(WEIGHT_SCALE * w) for w in row)), "little")
            for feature, row in weights.items()
        }
        return cls(intents, tuple(priors), rows)

    def log_likelihoods(self, feature: str) -> tuple[float, ...] | None:
        """A feature's stored weight per intent (log P(feature | intent), plus the regression's share when
        blended), for inspection and tests."""
        row = self.rows.get(feature)
        if row is None:
            return None
        lanes = self._lanes.unpack(row.to_bytes(self._lanes.size, "little"))
        return tuple((lane - LANE_OFFSET) / WEIGHT_SCALE for lane in lanes)

    def log_scores(self, features: AbstractSet[str], scale: float = 1.0) -> tuple[list[float], int, int]:
        """Per-intent log-scores times `scale` (`intents` order), the number of known and of all features."""
        known = list(filter(None, map(self.rows.get, features)))  # packed rows are never 0
        shift = len(known) * LANE_OFFSET
        factor = scale / WEIGHT_SCALE
        lanes = self._lanes.unpack(sum(known).to_bytes(self._lanes.size, "little"))
        return ([prior * scale + (lane - shift) * factor for prior, lane in zip(self.priors, lanes, strict=True)],
                len(known), len(features))


def _logistic_regression(samples: Sequence[tuple[AbstractSet[str], str]], intents: tuple[str, ...],
                         vocabulary: Sequence[str]) -> tuple[list[float], list[list[float]]]:
    """Per-intent intercepts and, per feature of `vocabulary`, per-intent coefficients of a multinomial
    logistic regression (L2, `LOGISTIC_C`) on the binary features. scikit-learn's solver, not a hand-written
    one: it is deterministic, converges in a few dozen iterations (under a second for the default pack)."""
    import numpy as np  # imported on use: only fitting needs them
    from scipy import sparse
    from sklearn.linear_model import LogisticRegression

    column = {feature: j for j, feature in enumerate(vocabulary)}
    rows: list[int] = []
    columns: list[int] = []
    for i, (features, _) in enumerate(samples):
        for feature in sorted(features):
            rows.append(i)
            columns.append(column[feature])
    matrix = sparse.csr_matrix((np.ones(len(columns)), (rows, columns)), shape=(len(samples), len(vocabulary)))
    labels = [intents.index(intent) for _, intent in samples]
    regression = LogisticRegression(C=LOGISTIC_C, max_iter=3000).fit(matrix, labels)
    # every intent has examples (checked by the caller), so classes_ is 0..n-1 in `intents` order
    return [float(b) for b in regression.intercept_], regression.coef_.T.tolist()


class IntentClassifier:
    """Combines the trained model, the cue lexicon and the other analysers' signals into one intent."""

    def __init__(self, model: IntentModel, lexicon: Mapping[str, Any], openers: Sequence[str] = ()) -> None:
        self.model = model
        self.intents = model.intents
        missing = [name for name in CORE_INTENTS if name not in self.intents]
        if missing:
            raise DataError(f"the intents lack the core intent(s) {missing}, which the engine relies on")
        self._other, self._handoff, self._complaint, self._thanks_bye = (
            self.intents.index(name) for name in ("other", "handoff", "complaint", "thanks_bye")
        )
        self.lexicon = lexicon
        self.phrases = _cue_table(lexicon, self.intents)
        self._cues = PhraseMatcher(self.phrases)
        self._value_only = _value_only_pattern(lexicon)
        self.openers = tuple(openers)
        self._opener = _opener_pattern(self.openers)

    def request_part(self, normalized: str) -> str:
        """The message without what it opens with: courtesy words ("你好 请问…") and values pasted
        before the request (an order card, "[订单x] 这单…"); unchanged when there is neither.

        Customers greet, paste the order and ask in one line; the greeting words or the order number
        would otherwise outvote a short question.
        """
        rest = normalized
        while True:
            stripped = self._without_values(rest)
            opener = self._opener.match(stripped)
            if opener and opener.end() < len(stripped):  # an opener alone is the message: keep it
                stripped = stripped[opener.end():]
            if stripped == rest:
                return rest
            rest = stripped

    def _without_values(self, text: str) -> str:
        prefix = self._value_only.match(text)
        if not prefix or not prefix.end():
            return text
        # Cut after the last value itself, so label words that begin the request stay ("[订单x] 这个订单…").
        values = list(_VALUE.finditer(text, 0, prefix.end()))
        if not values:
            return text
        cut = _SEPARATORS.match(text, values[-1].end())
        return text[cut.end() if cut else values[-1].end():]

    def classify(self, normalized: str, features: AbstractSet[str], *, emotion: str = "neutral",
                 handoff: bool = False, handoff_declined: bool = False, acknowledgement: str | None = None,
                 cue_matches: list[Match[tuple[tuple[int, float], ...]]] | None = None) -> IntentResult:
        """The intent of a message from its features and the other analysers' verdicts.

        `acknowledgement` is the answer ("yes"/"no") when the message is nothing but an answer;
        `cue_matches` are this lexicon's matches if the caller already scanned (see `LexiconSet`).
        """
        if self._value_only.fullmatch(normalized):
            # An order card or a bare number answers a question or shows context; on its own it asks
            # nothing, and a content intent here would move the script on a guess.
            return IntentResult(self.intents[self._other], CONTENT_FREE_CONFIDENCE, ())
        scores, known, seen = self.model.log_scores(features, _INVERSE_TEMPERATURE)
        if cue_matches is None:
            cue_matches = self._cues.find(normalized)
        thanks_cue = False
        for match in cue_matches:
            for index, weight in match.value:
                scores[index] += weight
                thanks_cue = thanks_cue or index == self._thanks_bye
        if seen:
            scores[self._other] += UNKNOWN_WEIGHT * (1.0 - known / seen)
        if emotion in EMOTION_WEIGHTS:
            scores[self._complaint] += EMOTION_WEIGHTS[emotion]
        if handoff:
            scores[self._handoff] += HANDOFF_WEIGHT
        elif handoff_declined:  # "不用转人工": the words of a hand-off request, meaning the opposite
            scores[self._handoff] -= HANDOFF_WEIGHT
        top = max(scores)
        exp = math.exp
        exps = [exp(score - top) for score in scores]
        total = sum(exps)
        # sorted() is stable, so equal scores keep declaration order: the ranking is deterministic.
        intents = self.intents
        ranked = sorted(range(len(intents)), key=exps.__getitem__, reverse=True)
        best = ranked[0]
        confidence = exps[best] / total
        # "好的" is an answer, not a request; "好的谢谢" and "没有了" (a bare no: nothing more to ask)
        # may still close the conversation.
        closing = best == self._thanks_bye and (thanks_cue or acknowledgement == "no")
        if acknowledgement is not None and not closing:
            # An answer is `other` and never a confident one, whichever intent the words lean to.
            ranked.remove(self._other)
            ranked.insert(0, self._other)
            best = self._other
            confidence = min(exps[self._other] / total, ACK_CAP)
        alternatives = tuple([(intents[i], exps[i] / total) for i in ranked[1:1 + MAX_ALTERNATIVES]])
        return IntentResult(intents[best], confidence, alternatives)


def _cue_table(lexicon: Mapping[str, Any], intents: tuple[str, ...]) -> dict[str, tuple[tuple[int, float], ...]]:
    """phrase → ((intent index, weight), …); undeclared intents and non-string phrases are data defects."""
    table: dict[str, list[tuple[int, float]]] = {}
    for intent, phrases in (lexicon.get("cues") or {}).items():
        if intent not in intents:
            raise DataError(f"intent_lexicon.yaml: intent {intent!r} is not declared in nlu/intents/; declared: {intents}")
        for phrase, weight in phrases.items():
            table.setdefault(_phrase(phrase), []).append((intents.index(intent), float(weight)))
    for phrase in lexicon.get("ignore") or []:
        table.setdefault(_phrase(phrase), [])
    return {phrase: tuple(pairs) for phrase, pairs in table.items()}


def _opener_pattern(openers: Sequence[str]) -> re.Pattern[str]:
    """Matches the courtesy words (`openers.yaml`) at the start of a message, with the punctuation after them."""
    words = sorted({_phrase(opener) for opener in openers}, key=len, reverse=True)
    if not words:
        return re.compile(r"(?!)")  # a pack without openers strips nothing
    # A one-character opener must stand apart ("亲 在吗"): "亲情网" and "嗨皮" are words of their own.
    alternatives = [re.escape(word) + ("(?=[\\W_])" if len(word) == 1 else "") for word in words]
    return re.compile(f"(?:(?:{'|'.join(alternatives)})[^\\w\\[]*)+")


def _value_only_pattern(lexicon: Mapping[str, Any]) -> re.Pattern[str]:
    """Matches a whole message made only of values and the words that label them (`value_labels`)."""
    labels = lexicon.get("value_labels") or []
    if not isinstance(labels, list):
        raise DataError("intent_lexicon.yaml: `value_labels` must be a list of label words")
    words = sorted({_phrase(label) for label in labels}, key=len, reverse=True)  # longest first
    parts = "|".join([*map(re.escape, words), _VALUE_PARTS])
    return re.compile(f"(?:{parts})*")


def _phrase(value: object) -> str:
    """YAML turns 12315 into an int (fine) and yes/no into bools (a defect: quote them)."""
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise DataError(f"lexicon phrase {value!r} must be a string; quote yes/no/on/off in YAML")
    return str(value).lower()
