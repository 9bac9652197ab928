"""One alert per (model, check) that lists its failing segments (DESIGN "Segments").

Each segment keeps its own debounced condition (``alert_condition`` per segment), so a
segment raises and clears after its own ``raise_after`` / ``clear_after`` streaks. What moves
the alert is their combination: the worst debounced condition of the whole window and every
segment observed in the scan, with the failing segments carried on the alert. A check named in
``AlertPolicy.segment_alerts`` (``segments: each``) keeps one alert per segment instead.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

from monitor.alerts.conditions import RANK, ConditionChange, FailingSegment, Observation
from monitor.store import SEVERITIES, WHOLE_WINDOW

# Severity order of raw observations (insufficient data below ok).
_OBSERVED: dict[str | None, int] = {None: -1, "ok": 0, "warning": 1, "critical": 2}


def combine(check_id: str, changes: Sequence[ConditionChange]) -> ConditionChange:
    """The whole-window change of ``check_id`` from its per-segment ``changes``."""
    previous = max((c.previous for c in changes), key=RANK.__getitem__)
    failing = [c for c in changes if c.current in SEVERITIES]
    if not failing:
        state = "ok" if any(c.observation.state == "ok" for c in changes) else None
        lead = next((c for c in changes if c.segment == WHOLE_WINDOW), changes[0])
        observation = dataclasses.replace(lead.observation, segment=WHOLE_WINDOW, state=state)
        return ConditionChange(check_id, WHOLE_WINDOW, previous, "ok", observation)
    lead = max(failing, key=_rank)
    raw = max((c.observation.state for c in failing), key=_OBSERVED.__getitem__)
    observation = Observation(
        check_id,
        WHOLE_WINDOW,
        raw,
        lead.observation.value,
        lead.observation.threshold,
        _summary(lead),
    )
    listed = tuple(
        FailingSegment(
            c.segment, c.current, c.observation.value, c.observation.threshold, _summary(c)
        )
        for c in sorted(failing, key=lambda c: (-RANK[c.current], c.segment))
        if c.segment != WHOLE_WINDOW
    )
    return ConditionChange(
        check_id, WHOLE_WINDOW, previous, lead.current, observation, segments=listed
    )


def _rank(change: ConditionChange) -> tuple[int, int, bool]:
    """Worst debounced severity, then worst raw one; the whole window first among equals."""
    return (
        RANK[change.current],
        _OBSERVED[change.observation.state],
        change.segment == WHOLE_WINDOW,
    )


def _summary(change: ConditionChange) -> str:
    summary = change.observation.summary or change.check_id
    return f"{summary} [{change.segment}]" if change.segment else summary


def listed_names(segments: Sequence[dict[str, Any]] | None) -> list[tuple[str, str]]:
    """(segment, severity) of a stored list: what a change of it re-renders the message for."""
    return [(s["segment"], s["severity"]) for s in segments or ()]
