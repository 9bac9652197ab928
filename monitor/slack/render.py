"""The alert message, as Slack Block Kit and as plain text, and the words of its thread
replies. Pure: no I/O, no slack_sdk.

Every render shows the alert's current state, so an edit (``chat.update``) can be retried or
coalesced safely: the last one wins and it is always true. Thread replies are worded from the
event the alert layer recorded (:func:`reply_text`), the only place their text is built.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from monitor.alerts.notify import ThreadEvent
from monitor.store import OPEN_STATES

if TYPE_CHECKING:
    from monitor.store.rows import AlertRow

_FIRING_EMOJI = {"critical": ":red_circle:", "warning": ":large_orange_circle:"}
_EMOJI = {
    "recovered": ":large_green_circle:",
    "acknowledged": ":eyes:",
    "resolved": ":white_check_mark:",
}
_STATE_LABEL = {
    "firing": "Firing",
    "recovered": "Recovered, awaiting acknowledgement",
    "acknowledged": "Acknowledged",
    "resolved": "Resolved",
}
HEADER_MAX = 150
# Failing segments named in the message; the rest are counted (Slack fields hold 2,000 chars).
SEGMENTS_SHOWN = 10
SNOOZE_CHOICE = "4h"


@dataclass(frozen=True)
class Rendered:
    text: str  # notification fallback; also what the console prints first
    blocks: list[dict[str, Any]]


def title(alert: AlertRow) -> str:
    segment = f" [{alert.segment}]" if alert.segment else ""
    return f"{alert.model}: {alert.check_id}{segment}"


def emoji(alert: AlertRow) -> str:
    if alert.state == "firing":
        return _FIRING_EMOJI[alert.severity]
    return _EMOJI[alert.state]


def fallback_text(alert: AlertRow) -> str:
    what = alert.summary or _value_vs_threshold(alert)
    name = title(alert)
    if f"{alert.check_id} " in what or what.startswith(f"{alert.check_id}:"):
        # "churn: accuracy 0.74 < min 0.8", not "churn: accuracy: accuracy 0.74 < min 0.8";
        # drift leads with its effect: "churn: income: mean +0.31 sd (drift:income ks ...)"
        name = alert.model + (f" [{alert.segment}]" if alert.segment else "")
    where = f", failing in {len(alert.segments)} segments" if alert.segments else ""
    return f"[{alert.severity.upper()}] {name}: {what} ({alert.state}{where})"


def render_alert(
    alert: AlertRow, *, interactive: bool, public_url: str | None = None, mention: str | None = None
) -> Rendered:
    """The parent message of ``alert``: header, fields, state line, buttons or CLI hint."""
    header = f"{emoji(alert)} {alert.severity.upper()} {title(alert)}"[:HEADER_MAX]
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": header, "emoji": True}},
        {"type": "section", "fields": [_field(k, v) for k, v in fields(alert)]},
        {"type": "context", "elements": [_mrkdwn(status_line(alert))]},
    ]
    actions = _actions(alert, public_url) if interactive else []
    if actions:
        blocks.append({"type": "actions", "block_id": f"alert:{alert.id}", "elements": actions})
    elif alert.state in OPEN_STATES:
        blocks.append({"type": "context", "elements": [_mrkdwn(cli_hint(alert))]})
    text = fallback_text(alert)
    return Rendered(text=f"{mention} {text}" if mention else text, blocks=blocks)


def fields(alert: AlertRow) -> list[tuple[str, str]]:
    """The (label, value) pairs shown in the message, at most 10 (Slack's limit)."""
    rows = [
        ("Model", alert.model),
        ("Check", alert.check_id + (f" (segment {alert.segment})" if alert.segment else "")),
        (_value_label(alert), alert.summary or _value_vs_threshold(alert)),
    ]
    if alert.segments:
        rows.append((f"Failing segments ({len(alert.segments)})", segment_list(alert)))
    rows += [
        ("Since", _when(alert.raised_at)),
        *_last_breach(alert),
        ("Fired", _fired(alert.occurrences)),
        ("Status", f"{_STATE_LABEL[alert.state]} ({alert.severity})"),
    ]
    if alert.runbook:
        rows.append(("Runbook", f"<{alert.runbook}|runbook>"))
    return rows


def _value_label(alert: AlertRow) -> str:
    """A recovered or resolved alert keeps the value it breached with (the thread reply of its
    recovery gives the current one): say so, rather than show it as the current value."""
    if alert.state in ("recovered", "resolved"):
        return "Value when last breaching"
    return "Value vs threshold"


def _last_breach(alert: AlertRow) -> list[tuple[str, str]]:
    """The last failing window, when it is not the first: how long it has been failing."""
    last = alert.last_breach_at
    return [("Last breach", _when(last))] if last and last != alert.raised_at else []


def _fired(occurrences: int) -> str:
    """Firings, not failing scans: the first breach, then each breach after a recovery."""
    return "once" if occurrences == 1 else f"{occurrences} times (re-fired after recovering)"


def segment_list(alert: AlertRow) -> str:
    """The failing segments, worst first: ``north (critical): mae 9.1 > max 5``."""
    shown = [
        f"{s['segment']} ({s['severity']}): {_bare(s['summary'], s['segment'])}"
        for s in alert.segments[:SEGMENTS_SHOWN]
    ]
    more = len(alert.segments) - SEGMENTS_SHOWN
    return "\n".join(shown + ([f"and {more} more"] if more > 0 else []))


def _bare(summary: str, segment: str) -> str:
    return summary.removesuffix(f" [{segment}]")


def status_line(alert: AlertRow) -> str:
    parts = [f"Alert {alert.id}"]
    if alert.acked_by:
        note = f": {alert.ack_note}" if alert.ack_note else ""
        parts.append(f"acknowledged by {alert.acked_by} at {_when(alert.acked_at)}{note}")
    if alert.state == "recovered" and alert.recovered_at:
        parts.append(f"recovered at {_when(alert.recovered_at)}")
    if alert.flapping_since:
        parts.append(
            f"flapping since {_when(alert.flapping_since)}: changes are recorded, not posted"
        )
    if alert.snoozed_until:
        parts.append(f"snoozed until {_when(alert.snoozed_until)} by {alert.snoozed_by}")
    if alert.state == "resolved":
        parts.append(
            f"resolved by {alert.resolved_by} ({alert.resolve_reason}"
            + (f", {alert.resolution.replace('_', ' ')}" if alert.resolution else "")
            + ") at "
            f"{_when(alert.resolved_at)}"
        )
    return " · ".join(parts)


def cli_hint(alert: AlertRow) -> str:
    """What a person can still do from the CLI: acknowledge, or (acknowledged) resolve."""
    if alert.state == "acknowledged":
        return (
            f"Resolve from the CLI when it is dealt with: "
            f"`monitor resolve {alert.id} --by NAME --reason fixed|expected|false_positive`"
        )
    return f"Acknowledge from the CLI: `monitor ack {alert.id} --by NAME`"


def reply_text(event: ThreadEvent) -> str:
    """The thread reply for ``event``, in Slack mrkdwn (the console prints the same words)."""
    wording = _REPLIES.get(event.kind)
    if wording is None:
        raise ValueError(f"no wording for thread event {event.kind!r}")
    return wording(event.data)


def _ping(data: Mapping[str, Any]) -> str:
    return f"{data['mention']} " if data.get("mention") else ""


def _note(data: Mapping[str, Any]) -> str:
    return f": {data['note']}" if data.get("note") else ""


def _escalated(data: Mapping[str, Any]) -> str:
    acker = data.get("cleared_ack_by")
    cleared = f" The acknowledgement by {acker} was cleared." if "cleared_ack_by" in data else ""
    return f"{_ping(data)}:arrow_up: Escalated to {data['severity']}: {data['summary']}.{cleared}"


def _reminder(data: Mapping[str, Any]) -> str:
    return (
        f"{_ping(data)}:bell: Still {data['severity']}, open for {data['hours']:.0f} h and not "
        f"acknowledged: {data['summary']}"
    )


def _snoozed(data: Mapping[str, Any]) -> str:
    until = datetime.fromisoformat(data["until"])
    return f":zzz: Snoozed by {data['by']} until {until:%Y-%m-%d %H:%M} UTC"


def _now_vs_breach(d: Mapping[str, Any]) -> str:
    """ " (now 0.91, was 0.74 when breaching)" when the event carries both values."""
    now, was = d.get("value"), d.get("breaching")
    if now is None or was is None:
        return ""
    return f" (now {now:.4g}, was {was:.4g} when breaching)"


_REPLIES: dict[str, Callable[[Mapping[str, Any]], str]] = {
    # scan-driven
    "refired": lambda d: (
        f"{_ping(d)}:rotating_light: Re-fired (occurrence {d['occurrences']}): {d['summary']}"
    ),
    "escalated": _escalated,
    "deescalated": lambda d: f":arrow_down: Now {d['severity']}: {d['summary']}",
    "recovered": lambda d: (
        f":large_green_circle: Recovered{_now_vs_breach(d)}. Still open until acknowledged."
    ),
    "recovered_after_ack": lambda d: (
        f":white_check_mark: Resolved: the condition cleared after acknowledgement"
        f"{_now_vs_breach(d)}."
    ),
    "flapping": lambda d: (
        f":repeat: Flapping: {d['flips']} changes between firing and recovered in "
        f"{d['hours']:.0f} h, now {d['state']} ({d['severity']}). Further changes are recorded, "
        f"not posted, until it has been stable for {d['quiet_hours']:.0f} h."
    ),
    "flapping_ended": lambda d: (
        f":white_circle: No longer flapping: now {d['state']} ({d['severity']}): {d['summary']}"
    ),
    "backfilled": lambda d: (
        f":rewind: Backfill done ({d['changes']} changes recorded, not posted): now "
        f"{d['state']} ({d['severity']}): {d['summary']}"
    ),
    # timers
    "reminder": _reminder,
    "repaged": lambda d: (
        f"{_ping(d)}:rotating_light: Still {d['severity']} and not acknowledged after "
        f"{d['hours']:.0f} h: {d['summary']}"
    ),
    "ack_expired": lambda d: (
        f"{_ping(d)}:alarm_clock: The acknowledgement by {d['by']} timed out after "
        f"{d['hours']:.0f} h and it is still {d['severity']}: {d['summary']}. Firing again."
    ),
    "snooze_ended": lambda d: f":alarm_clock: Snooze ended, still {d['severity']}: {d['summary']}",
    "silence_ended": lambda d: f":loud_sound: Silence ended, still {d['severity']}: {d['summary']}",
    # people
    "acknowledged": lambda d: f":eyes: Acknowledged by {d['by']}{_note(d)}",
    "acknowledged_resolved": lambda d: f":white_check_mark: Acknowledged and resolved by {d['by']}",
    "unacknowledged": lambda d: f":leftwards_arrow_with_hook: Unacknowledged by {d['by']}",
    "snoozed": _snoozed,
    "resolved": lambda d: (
        f":white_check_mark: Resolved by {d['by']}"
        + (f" as {d['resolution'].replace('_', ' ')}" if d.get("resolution") else "")
        + _note(d)
    ),
    "check_removed": lambda d: (
        ":wastebasket: Resolved: the check was removed from the configuration."
    ),
    # queued before outbox rows carried events (migration 20261202_01): sent as written
    "text": lambda d: str(d["text"]),
}


def _actions(alert: AlertRow, public_url: str | None) -> list[dict[str, Any]]:
    if alert.state not in OPEN_STATES:
        return []
    value = f"{alert.id}:{alert.version}"
    buttons = []
    if alert.state == "acknowledged":
        buttons.append(_button("Unacknowledge", "alert_unack", value))
    else:
        buttons.append(_button("Acknowledge", "alert_ack", value, style="primary"))
        if alert.state == "firing":
            buttons.append(_button("Ack with note", "alert_ack_note", value))
    buttons.append(_button(f"Snooze {SNOOZE_CHOICE}", "alert_snooze", f"{value}:{SNOOZE_CHOICE}"))
    resolve = _button("Resolve", "alert_resolve", value, style="danger")
    resolve["confirm"] = {
        "title": {"type": "plain_text", "text": "Resolve this alert?"},
        "text": {
            "type": "plain_text",
            "text": "If the check still fails, the next scan opens a new alert.",
        },
        "confirm": {"type": "plain_text", "text": "Resolve"},
        "deny": {"type": "plain_text", "text": "Cancel"},
    }
    buttons.append(resolve)
    if public_url:
        # The dashboard routes by fragment: /?alert=N would open its overview, not the alert.
        url = f"{public_url.rstrip('/')}/#/alerts/{alert.id}"
        buttons.append(
            {
                "type": "button",
                "action_id": "alert_open",
                "text": {"type": "plain_text", "text": "Open"},
                "url": url,
            }
        )
    return buttons


NOTE_BLOCK = "note"
ACK_NOTE_CALLBACK = "alert_ack_note"


def ack_note_modal(alert_id: int, title_text: str) -> dict[str, Any]:
    """The "acknowledge with note" dialog (``views.open``); its submission carries the alert
    id in ``private_metadata`` and the note in the ``note`` input."""
    return {
        "type": "modal",
        "callback_id": ACK_NOTE_CALLBACK,
        "private_metadata": str(alert_id),
        "title": {"type": "plain_text", "text": "Acknowledge alert"},
        "submit": {"type": "plain_text", "text": "Acknowledge"},
        "close": {"type": "plain_text", "text": "Cancel"},
        "blocks": [
            {"type": "section", "text": _mrkdwn(f"*{title_text}*"[:3000])},
            {
                "type": "input",
                "block_id": NOTE_BLOCK,
                "label": {"type": "plain_text", "text": "Note: why, or what is being done"},
                "element": {
                    "type": "plain_text_input",
                    "action_id": NOTE_BLOCK,
                    "multiline": True,
                    "max_length": 2000,
                },
            },
        ],
    }


def _button(label: str, action_id: str, value: str, style: str | None = None) -> dict[str, Any]:
    button: dict[str, Any] = {
        "type": "button",
        "action_id": action_id,
        "text": {"type": "plain_text", "text": label},
        "value": value,
    }
    if style:
        button["style"] = style
    return button


def _field(label: str, value: str) -> dict[str, str]:
    return {"type": "mrkdwn", "text": f"*{label}*\n{value}"}


def _mrkdwn(text: str) -> dict[str, str]:
    return {"type": "mrkdwn", "text": text}


def _value_vs_threshold(alert: AlertRow) -> str:
    if alert.value is None:
        return "n/a"
    if alert.threshold is None:
        return f"{alert.value:.4g}"
    return f"{alert.value:.4g} vs threshold {alert.threshold:.4g}"


def _when(moment: datetime | None) -> str:
    return f"{moment:%Y-%m-%d %H:%M} UTC" if moment else "-"
