"""Records that cross process boundaries: QA worker processes receive transcripts and send back assessments.

`pickled_by_fields` makes a frozen dataclass pickle as a call of its constructor with its fields. The
default for `slots=True` dataclasses restores each field through `object.__setattr__`, and pickling
items and results was a fifth of the parent's work in `huashu qa replay --workers N`; this halves it.
"""

from __future__ import annotations

from dataclasses import fields
from operator import attrgetter
from typing import Any, TypeVar

T = TypeVar("T")


def pickled_by_fields(cls: type[T]) -> type[T]:
    """Class decorator (above `@dataclass`): pickle instances as `cls(*init_fields)`."""
    names = [f.name for f in fields(cls) if f.init and not f.kw_only]  # type: ignore[arg-type]
    if len(names) != len([f for f in fields(cls) if f.init]):  # type: ignore[arg-type]
        raise TypeError(f"{cls.__name__}: keyword-only fields cannot be passed by position")
    get = attrgetter(*names)
    values = (lambda record: (get(record),)) if len(names) == 1 else get  # attrgetter of one name is no tuple

    def __reduce__(self: Any) -> tuple[type[T], tuple[Any, ...]]:
        return cls, values(self)

    cls.__reduce__ = __reduce__  # type: ignore[method-assign]
    return cls
