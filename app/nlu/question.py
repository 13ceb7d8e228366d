"""Is the customer asking something? A question mark, a sentence-final particle (吗/呢) or an
interrogative word (多久, 怎么, 能不能…) anywhere in the message; the words are data (question.yaml)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from app.nlu.resources import DataError

_TRAILING = re.compile(r"[\s,.!~、。…!！~～]+$")


class QuestionDetector:
    def __init__(self, lexicon: Mapping[str, Any]) -> None:
        lists = {key: lexicon.get(key) or [] for key in ("marks", "final_particles", "interrogatives")}
        for key, words in lists.items():
            if not all(isinstance(word, str) and word for word in words):
                raise DataError(f"question.yaml: every `{key}` entry must be a non-empty string")
        self._marks = frozenset(lists["marks"])
        self._final = tuple(lists["final_particles"])
        words = sorted(lists["interrogatives"], key=len, reverse=True)
        self._interrogative = re.compile("|".join(map(re.escape, words))) if words else None

    def is_question(self, normalized: str) -> bool:
        """Whether the (normalised) message asks something."""
        if any(mark in normalized for mark in self._marks):
            return True
        if _TRAILING.sub("", normalized).endswith(self._final):
            return True
        return self._interrogative is not None and self._interrogative.search(normalized) is not None
