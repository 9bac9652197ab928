"""The console notifier: prints the same messages Slack would show (no ``slack:`` section)."""

from __future__ import annotations

import itertools
import sys
from typing import TYPE_CHECKING, Any, TextIO

from monitor.alerts.notify import DeliveryError, MessageRef, ThreadEvent
from monitor.slack.render import Rendered, render_alert, reply_text

if TYPE_CHECKING:
    from monitor.store.rows import AlertRow

CONSOLE_CHANNEL = "console"


class ConsoleNotifier:
    """Writes each post, edit and thread reply as a small text block to ``out``."""

    def __init__(self, out: TextIO | None = None, *, interactive: bool = False) -> None:
        self.out = out
        self.interactive = interactive
        self._ts = itertools.count(1)

    def post(self, alert: AlertRow, *, channel: str, mention: str | None) -> MessageRef:
        ts = f"alert-{alert.id}"  # one parent per alert: stable across runs of the CLI
        self._print(
            f"┌ Slack post to {channel} (message {ts})",
            render_alert(alert, interactive=self.interactive, mention=mention),
        )
        return MessageRef(channel=channel, ts=ts)

    def update(self, alert: AlertRow, *, channel: str, ts: str) -> None:
        rendered = render_alert(alert, interactive=self.interactive)
        self._print(f"┌ Slack edit of message {ts} in {channel}", rendered)

    def reply(
        self, alert: AlertRow, *, channel: str, thread_ts: str, event: ThreadEvent, broadcast: bool
    ) -> MessageRef:
        where = "thread reply, also sent to channel" if broadcast else "thread reply"
        self._write(f"└─ {where} on alert {alert.id}: {reply_text(event)}\n")
        return MessageRef(channel=channel, ts=f"{thread_ts}.{next(self._ts)}")

    def _print(self, head: str, message: Rendered) -> None:
        lines = [head, f"│ {message.text}"]
        for block in message.blocks:
            lines.extend(f"│ {line}" for line in _block_lines(block))
        lines.append("└")
        self._write("\n".join(lines) + "\n")

    def _write(self, text: str) -> None:
        try:
            (self.out or sys.stdout).write(text)
        except ValueError as exc:  # a closed stream: writing again cannot help
            raise DeliveryError(f"console output is closed: {exc}", permanent=True) from exc
        except OSError as exc:  # a full disk, an interrupted write: may pass next time
            raise DeliveryError(f"console output failed: {exc}") from exc


def _block_lines(block: dict[str, Any]) -> list[str]:
    kind = block["type"]
    if kind == "header":
        return [str(block["text"]["text"])]
    if kind == "section":
        return [str(f["text"]).replace("*", "").replace("\n", ": ") for f in block["fields"]]
    if kind == "context":
        return [str(e["text"]) for e in block["elements"]]
    if kind == "actions":
        labels = [str(e["text"]["text"]) for e in block["elements"]]
        return ["[ " + " ] [ ".join(labels) + " ]"]
    return []
