"""The alert message: Block Kit for Slack, the same content on the console."""

from __future__ import annotations

import io
from datetime import timedelta

from sqlalchemy.orm import Session, sessionmaker

from monitor.alerts.actions import acknowledge
from monitor.alerts.tick import tick
from monitor.slack import render
from monitor.slack.console import ConsoleNotifier
from monitor.slack.render import HEADER_MAX, render_alert
from monitor.store import Alert
from tests.monitor.alerts.conftest import HOUR, T0, failing, passing, run_scan


def _alert(**overrides: object) -> Alert:
    values: dict[str, object] = dict(
        id=7,
        model="churn",
        check_id="accuracy",
        segment="",
        state="firing",
        severity="critical",
        condition="critical",
        occurrences=2,
        value=0.74,
        threshold=0.8,
        summary="accuracy 0.74 < min 0.8",
        runbook="https://wiki/run",
        raised_at=T0,
        version=3,
    )
    values.update(overrides)
    return Alert(**values)


def _types(blocks: list[dict[str, object]]) -> list[object]:
    return [b["type"] for b in blocks]


def test_interactive_message_has_header_fields_and_buttons_carrying_id_and_version() -> None:
    message = render_alert(_alert(), interactive=True, public_url="https://m.example.com/")
    assert _types(message.blocks) == ["header", "section", "context", "actions"]
    fields = [f["text"] for f in message.blocks[1]["fields"]]  # type: ignore[index]
    labels = [f.split("\n")[0] for f in fields]
    assert labels == [
        "*Model*",
        "*Check*",
        "*Value vs threshold*",
        "*Since*",
        "*Fired*",
        "*Status*",
        "*Runbook*",
    ]
    buttons = message.blocks[3]["elements"]  # type: ignore[index]
    assert [b.get("value") for b in buttons] == ["7:3", "7:3", "7:3:4h", "7:3", None]
    assert buttons[1]["action_id"] == "alert_ack_note"  # opens the note dialog
    assert buttons[3]["confirm"] and buttons[4]["url"] == "https://m.example.com/#/alerts/7"
    assert message.text == "[CRITICAL] churn: accuracy 0.74 < min 0.8 (firing)"


def test_fields_say_how_long_it_has_failed_and_that_fired_counts_firings_not_scans() -> None:
    # Failing four daily scans in a row is one firing: "Fired: once", and the last breach
    # says how long it has been failing.
    still = _alert(occurrences=1, last_breach_at=T0 + timedelta(days=3))
    fields = dict(render.fields(still))
    assert fields["Fired"] == "once"
    assert (fields["Since"], fields["Last breach"]) == (
        f"{T0:%Y-%m-%d %H:%M} UTC",
        f"{T0 + timedelta(days=3):%Y-%m-%d %H:%M} UTC",
    )
    refired = dict(render.fields(_alert(occurrences=3, last_breach_at=T0)))
    assert refired["Fired"] == "3 times (re-fired after recovering)"
    assert "Last breach" not in refired  # its only breach is the one it was raised by


def test_a_recovered_or_resolved_message_labels_its_value_as_the_breaching_one() -> None:
    labels = {
        state: render.fields(_alert(state=state))[2][0]
        for state in ("firing", "acknowledged", "recovered", "resolved")
    }
    assert labels == {
        "firing": "Value vs threshold",
        "acknowledged": "Value vs threshold",
        "recovered": "Value when last breaching",
        "resolved": "Value when last breaching",
    }


def test_fallback_text_names_the_check_once() -> None:
    drift = _alert(check_id="dataset_drift", summary="4 of 10 features drifted (0.4 >= 0.3)")
    assert render_alert(drift, interactive=False).text == (
        "[CRITICAL] churn: dataset_drift: 4 of 10 features drifted (0.4 >= 0.3) (firing)"
    )
    segment = _alert(segment="EU", summary="accuracy 0.7 < min 0.8")
    assert render_alert(segment, interactive=False).text == (
        "[CRITICAL] churn [EU]: accuracy 0.7 < min 0.8 (firing)"
    )


def test_without_interactivity_the_message_says_how_to_ack_from_the_cli() -> None:
    message = render_alert(_alert(), interactive=False)
    assert "actions" not in _types(message.blocks)
    assert "monitor ack 7 --by NAME" in str(message.blocks[-1])


def test_resolved_message_has_no_buttons_and_says_who_resolved() -> None:
    resolved = _alert(
        state="resolved", resolved_by="bob", resolve_reason="manual", resolved_at=T0 + HOUR
    )
    message = render_alert(resolved, interactive=True)
    assert _types(message.blocks) == ["header", "section", "context"]
    assert "resolved by bob (manual)" in str(message.blocks[2])


def test_header_is_cut_to_slacks_limit() -> None:
    message = render_alert(_alert(check_id="drift:" + "x" * 300), interactive=True)
    assert len(message.blocks[0]["text"]["text"]) == HEADER_MAX  # type: ignore[index]


def test_console_shows_raise_ack_and_a_recovered_alert_staying_raised(
    sessions: sessionmaker[Session],
) -> None:
    out = io.StringIO()
    console = ConsoleNotifier(out)
    run_scan(sessions, T0, [failing("accuracy"), failing("row_count")])
    tick(sessions, now=T0, notifier=console)
    with sessions() as session:
        acknowledge(session=session, alert_id=1, by="alice", now=T0 + HOUR, note="retraining")
        session.commit()
    run_scan(sessions, T0 + 2 * HOUR, [failing("accuracy"), passing("row_count")])
    tick(sessions, now=T0 + 2 * HOUR + timedelta(minutes=1), notifier=console)
    text = out.getvalue()
    assert text.count("┌ Slack post to #ml-alerts") == 2
    assert "acknowledged by alice" in text and "retraining" in text
    assert "Recovered, awaiting acknowledgement" in text
    assert "Acknowledge from the CLI: `monitor ack 2 --by NAME`" in text


def test_recovered_and_resolved_replies_show_the_current_value_beside_the_breaching_one(
    sessions: sessionmaker[Session],
) -> None:
    from sqlalchemy import select

    from monitor.alerts.notify import ThreadEvent
    from monitor.slack.render import reply_text
    from monitor.store import Notification

    run_scan(sessions, T0, [failing(value=0.74)])
    run_scan(sessions, T0 + HOUR, [passing(value=0.91)])
    with sessions() as session:
        row = session.scalars(select(Notification).where(Notification.event == "recovered")).one()
    assert reply_text(ThreadEvent(row.event, row.data)) == (
        ":large_green_circle: Recovered (now 0.91, was 0.74 when breaching)."
        " Still open until acknowledged."
    )
    # It fails again, is acknowledged, then clears: the resolving reply carries both values.
    run_scan(sessions, T0 + 2 * HOUR, [failing(value=0.70)])
    with sessions() as session:
        acknowledge(session=session, alert_id=1, by="bob", now=T0 + 2 * HOUR)
        session.commit()
    run_scan(sessions, T0 + 3 * HOUR, [passing(value=0.88)])
    with sessions() as session:
        query = select(Notification).where(Notification.event == "recovered_after_ack")
        resolved = session.scalars(query).one()
    assert reply_text(ThreadEvent(resolved.event, resolved.data)) == (
        ":white_check_mark: Resolved: the condition cleared after acknowledgement"
        " (now 0.88, was 0.7 when breaching)."
    )
    # Rows queued before the values were carried keep their old words.
    assert reply_text(ThreadEvent("recovered", {})).startswith(":large_green_circle: Recovered.")


def test_the_cli_hint_follows_the_state_acknowledge_then_resolve() -> None:
    from monitor.slack.render import render_alert

    def hints(alert: Alert) -> list[str]:
        rendered = render_alert(alert, interactive=False)
        return [
            str(e["text"])
            for b in rendered.blocks
            if b["type"] == "context"
            for e in b["elements"]
            if "from the CLI" in str(e["text"])
        ]

    assert hints(_alert(state="firing")) == ["Acknowledge from the CLI: `monitor ack 7 --by NAME`"]
    [acked] = hints(_alert(state="acknowledged", acked_by="bob"))
    assert "monitor resolve 7 --by NAME --reason" in acked and "monitor ack" not in acked
    assert hints(_alert(state="resolved", resolved_by="bob")) == []
