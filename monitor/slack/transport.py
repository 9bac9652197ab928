"""The one module that imports slack_sdk: Web API calls, request signatures, response URLs.

The ``WebClient`` is a parameter, so tests inject one pointed at a fake Slack. No retry
handler is installed: the outbox retries (a 429 reschedules the row at Retry-After instead of
sleeping in the worker, and a blind retry of ``chat.postMessage`` could post twice).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any
from urllib.error import URLError

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.signature import Clock, SignatureVerifier
from slack_sdk.webhook import WebhookClient

from monitor.alerts.notify import DeliveryError, MessageRef, ThreadEvent
from monitor.slack.render import render_alert, reply_text

if TYPE_CHECKING:
    from monitor.store.rows import AlertRow

# Retrying cannot fix these: the channel, the token or the message itself is wrong.
PERMANENT_ERRORS = frozenset(
    {
        "channel_not_found",
        "not_in_channel",
        "is_archived",
        "invalid_auth",
        "not_authed",
        "account_inactive",
        "token_revoked",
        "token_expired",
        "no_permission",
        "missing_scope",
        "msg_too_long",
        "invalid_blocks",
        "invalid_blocks_format",
        "no_text",
        "message_not_found",
        "cant_update_message",
        "edit_window_closed",
        "restricted_action",
        "invalid_arguments",
    }
)
# Slack's own trouble: try again later.
TRANSIENT_ERRORS = frozenset(
    {
        "internal_error",
        "fatal_error",
        "service_unavailable",
        "request_timeout",
        "ratelimited",
        "rate_limited",
    }
)
DEFAULT_RETRY_AFTER_S = 1.0


def make_client(token: str, *, base_url: str | None = None, timeout: int = 10) -> WebClient:
    """A WebClient without retry handlers (see the module docstring for why)."""
    if base_url is None:
        return WebClient(token=token, timeout=timeout, retry_handlers=[])
    return WebClient(token=token, base_url=base_url, timeout=timeout, retry_handlers=[])


class SlackNotifier:
    """Posts and edits alert messages with the bot token; replies go to the alert's thread."""

    def __init__(
        self, client: WebClient, *, interactive: bool, public_url: str | None = None
    ) -> None:
        self.client = client
        self.interactive = interactive
        self.public_url = public_url

    def post(self, alert: AlertRow, *, channel: str, mention: str | None) -> MessageRef:
        message = render_alert(
            alert, interactive=self.interactive, public_url=self.public_url, mention=mention
        )
        data = _call(
            lambda: self.client.chat_postMessage(
                channel=channel, text=message.text, blocks=message.blocks
            )
        )
        return MessageRef(channel=str(data["channel"]), ts=str(data["ts"]))

    def update(self, alert: AlertRow, *, channel: str, ts: str) -> None:
        message = render_alert(alert, interactive=self.interactive, public_url=self.public_url)
        _call(
            lambda: self.client.chat_update(
                channel=channel, ts=ts, text=message.text, blocks=message.blocks
            )
        )

    def reply(
        self, alert: AlertRow, *, channel: str, thread_ts: str, event: ThreadEvent, broadcast: bool
    ) -> MessageRef:
        text = reply_text(event)
        data = _call(
            lambda: self.client.chat_postMessage(
                channel=channel, thread_ts=thread_ts, text=text, reply_broadcast=broadcast
            )
        )
        return MessageRef(channel=str(data["channel"]), ts=str(data["ts"]))

    def open_view(self, *, trigger_id: str, view: dict[str, Any]) -> None:
        """Open a dialog (the "acknowledge with note" modal) for the click ``trigger_id``."""
        _call(lambda: self.client.views_open(trigger_id=trigger_id, view=view))


def post_text(client: WebClient, *, channel: str, text: str) -> MessageRef:
    """Post a plain mrkdwn message (the health digest); errors classified as for alerts."""
    data = _call(lambda: client.chat_postMessage(channel=channel, text=text, mrkdwn=True))
    return MessageRef(channel=str(data["channel"]), ts=str(data["ts"]))


def _call(request: Callable[[], Any]) -> Mapping[str, Any]:
    try:
        response = request()
    except SlackApiError as exc:
        raise classify(exc.response.status_code, exc.response.headers, exc.response.data) from exc
    except (URLError, OSError, SlackClientError) as exc:
        raise DeliveryError(f"network error talking to Slack: {exc}") from exc
    return response.data if isinstance(response.data, dict) else {}


def classify(status: int, headers: Mapping[str, Any], data: Any) -> DeliveryError:
    """Turn a failed Slack response into a DeliveryError that says whether to retry, and when."""
    error = data.get("error", "") if isinstance(data, dict) else ""
    if status == 429:
        retry_after = _header(headers, "retry-after")
        seconds = float(retry_after) if retry_after else DEFAULT_RETRY_AFTER_S
        return DeliveryError(
            f"Slack rate limit (429), retry after {seconds:g} s", retry_after=seconds
        )
    if status >= 500:
        return DeliveryError(f"Slack server error {status}: {error or 'no details'}")
    if error in TRANSIENT_ERRORS:
        return DeliveryError(f"Slack error {error} (temporary)")
    permanent = status >= 400 or error in PERMANENT_ERRORS or bool(error)
    return DeliveryError(f"Slack refused the call: {error or status}", permanent=permanent)


def _header(headers: Mapping[str, Any], name: str) -> str | None:
    for key, value in headers.items():
        if key.lower() == name:
            return str(value[0] if isinstance(value, list) else value)
    return None


class _FixedClock(Clock):
    def __init__(self, now: float) -> None:
        self._now = now

    def now(self) -> float:
        return self._now


def verify_request(
    *, signing_secret: str, body: bytes, headers: Mapping[str, str], now: float
) -> bool:
    """True if the request carries a valid Slack signature made within 5 minutes of ``now``."""
    verifier = SignatureVerifier(signing_secret, clock=_FixedClock(now))
    try:
        return verifier.is_valid_request(body, dict(headers))
    except ValueError:  # a timestamp header that is not a number
        return False


def respond_ephemeral(response_url: str, text: str) -> None:
    """Tell only the clicking user something (e.g. who acknowledged first), via response_url."""
    client = WebhookClient(response_url, timeout=5, retry_handlers=[])
    try:
        response = client.send_dict(
            {"response_type": "ephemeral", "replace_original": False, "text": text}
        )
    except (URLError, OSError) as exc:
        raise DeliveryError(f"network error answering Slack: {exc}") from exc
    if response.status_code != 200:
        raise DeliveryError(
            f"Slack response_url answered {response.status_code}: {json.dumps(response.body)[:200]}"
        )


def start_socket_mode(
    *, app_token: str, client: WebClient, on_payload: Callable[[dict[str, Any]], None]
) -> Callable[[], None]:
    """Receive button clicks over Socket Mode (no public URL needed); return a stop function.

    Every envelope is acknowledged first (Slack wants that within 3 s), then interactive
    payloads go to ``on_payload``, on the socket client's worker threads.
    """
    from slack_sdk.socket_mode import SocketModeClient
    from slack_sdk.socket_mode.client import BaseSocketModeClient
    from slack_sdk.socket_mode.request import SocketModeRequest
    from slack_sdk.socket_mode.response import SocketModeResponse

    socket = SocketModeClient(app_token=app_token, web_client=client)

    def listener(socket_client: BaseSocketModeClient, request: SocketModeRequest) -> None:
        socket_client.send_socket_mode_response(SocketModeResponse(request.envelope_id))
        if request.type == "interactive":
            on_payload(dict(request.payload))

    socket.socket_mode_request_listeners.append(listener)
    socket.connect()
    return socket.close
