"""Whether a payload certainly validates as an event model, without building the model.

Validating `IssueCommentEvent` costs 10–15 µs a delivery (a check of the same fields
here, about 4); for the most common delivery, a comment that asks Rolecall for nothing,
the decision needs only to know that the model *would* validate. `shape_of(model)`
reads the model's declared fields once and returns a check that answers True only when
every field holds a value the strict model takes as it is: the exact JSON type, null
where the field allows it, a GitHub time in GitHub's own spelling
(`2019-05-15T15:20:21Z`). Anything else answers False, and the caller validates the
model as before; so the check never accepts what the model refuses, and may refuse what
the model accepts (a leap day, a time with an offset, ...).

The check is derived from the models themselves, so a field added to handlers.events is
checked too; a kind of field this module does not know raises at import, rather than
being passed unchecked.
"""

from __future__ import annotations

import re
import types
import typing
from collections.abc import Callable
from functools import cache
from typing import Any

from pydantic import BaseModel

from handlers.events import GitHubTime, TextOrEmpty

Check = Callable[[Any], bool]

# GitHub's spelling of a time in webhook payloads (whole seconds, UTC), naming a moment
# that exists: year 1 to 9999, each month's days (February's 29th left to the model), no
# hour 24, no leap second.
_GITHUB_TIME = re.compile(
    r"""(?!0000)[0-9]{4}-
        (?: (?:0[1-9]|1[0-2])-(?:0[1-9]|1[0-9]|2[0-8])
          | (?:0[13-9]|1[0-2])-(?:29|30)
          | (?:0[13578]|1[02])-31 )
        T(?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]Z""",
    re.VERBOSE | re.ASCII,
)
_TEXT_OR_EMPTY = typing.get_args(TextOrEmpty)
_GITHUB_TIME_ARGS = typing.get_args(GitHubTime)


@cache
def shape_of(model: type[BaseModel]) -> Check:
    """A check that is True only for a dict `model.model_validate` certainly accepts."""
    config = model.model_config
    if config.get("strict") is not True or config.get("extra") != "ignore":
        raise TypeError(f"{model.__name__} is not a strict model that ignores extra fields")
    exact: list[tuple[str, type]] = []  # required, of exactly this type
    others: list[tuple[str, Check, bool]] = []  # (name, check, required)
    for name, field in model.model_fields.items():
        where = f"{model.__name__}.{name}"
        if field.alias is not None or field.validation_alias is not None:
            raise TypeError(f"{where} has an alias, which this check does not read")
        required = field.is_required()
        if required and not field.metadata and field.annotation in (str, int):
            exact.append((name, str if field.annotation is str else int))
        else:
            others.append(
                (name, _value_check(field.annotation, tuple(field.metadata), where), required)
            )
    exact_fields, other_fields = tuple(exact), tuple(others)

    def fits(value: Any) -> bool:
        if type(value) is not dict:
            return False
        for name, kind in exact_fields:
            if type(value.get(name)) is not kind:  # absent is None, which is neither
                return False
        for name, check, required in other_fields:
            if name in value:
                if not check(value[name]):
                    return False
            elif required:
                return False
        return True

    return fits


def _value_check(annotation: Any, metadata: tuple[Any, ...], where: str) -> Check:
    """The check for one declared field (its type, and what pydantic says constrains it)."""
    if typing.get_origin(annotation) is typing.Annotated:
        base, *more = typing.get_args(annotation)
        return _value_check(base, (*more, *metadata), where)
    if metadata:
        if (annotation, *metadata) == _TEXT_OR_EMPTY:
            return _is_text_or_null
        if (annotation, *metadata) == _GITHUB_TIME_ARGS:
            return _is_github_time
        raise TypeError(f"{where}: no shape check for {annotation!r} with {metadata!r}")
    if annotation is Any:
        return _anything
    if annotation in (str, int):
        return lambda value: type(value) is annotation  # not bool for int, never a float
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return shape_of(annotation)
    if isinstance(annotation, types.UnionType) or typing.get_origin(annotation) is typing.Union:
        kinds = typing.get_args(annotation)
        others = [kind for kind in kinds if kind is not type(None)]
        if len(kinds) == 2 and len(others) == 1:
            inner = _value_check(others[0], (), where)
            return lambda value: value is None or inner(value)
    raise TypeError(f"{where}: no shape check for {annotation!r}")


def _anything(value: Any) -> bool:
    return True


def _is_text_or_null(value: Any) -> bool:
    return value is None or type(value) is str


def _is_github_time(value: Any) -> bool:
    return type(value) is str and _GITHUB_TIME.fullmatch(value) is not None
