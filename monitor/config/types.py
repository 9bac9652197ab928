"""Field types shared by the config models: durations, instants, zones, URLs."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    SecretStr,
)

from monitor.windows import parse_duration, parse_instant

Duration = Annotated[timedelta, BeforeValidator(parse_duration)]


def _positive(value: timedelta) -> timedelta:
    if value <= timedelta(0):
        raise ValueError("must be longer than 0s")
    return value


def _not_negative(value: timedelta) -> timedelta:
    if value < timedelta(0):
        raise ValueError("must be 0s or longer")
    return value


#: an interval, a period or a timeout: zero would divide by zero, spin, or disable the feature
PositiveDuration = Annotated[Duration, AfterValidator(_positive)]
#: a delay that may be 0 (``label_delay``), never negative
NonNegativeDuration = Annotated[Duration, AfterValidator(_not_negative)]
#: NaN passes every comparison as False, so ``min: .nan`` would silently disable a check
FiniteFloat = Annotated[float, Field(allow_inf_nan=False)]
Severity = Literal["warning", "critical"]
Task = Literal["binary_classification", "multiclass_classification", "regression"]
Identifier = Annotated[str, Field(min_length=1, max_length=200)]
#: how often a fixed reference's contents are checked for changes: every scan, at most once per
#: duration, or only when it is first summarised
Refresh = Literal["always", "never"] | PositiveDuration


class Strict(BaseModel):
    """Unknown keys are errors: a typo must not silently disable a check."""

    model_config = ConfigDict(extra="forbid", frozen=True)


def _instant(value: Any) -> Any:
    return parse_instant(value) if isinstance(value, str) else value


Instant = Annotated[datetime, BeforeValidator(_instant)]


def sqlalchemy_url(value: str) -> str:
    # Imported here: monitor.dburl loads SQLAlchemy, which a config without URLs never needs.
    from monitor.dburl import url_problem

    # The URL may hold a password: say what is wrong, never echo it.
    problem = url_problem(value)
    if problem:
        raise ValueError(problem)
    return value


def secret_url(value: SecretStr) -> SecretStr:
    sqlalchemy_url(value.get_secret_value())
    return value


def _zone(value: str) -> str:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {value!r} (expected an IANA name)") from None
    return value


TimeZone = Annotated[str, AfterValidator(_zone)]
