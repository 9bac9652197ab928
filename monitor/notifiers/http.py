"""One JSON POST over ``urllib`` and the classification of its failure, for PagerDuty and
webhooks. No retries here: the outbox retries (a 429 holds the destination for Retry-After)."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Mapping
from email.message import Message
from typing import Any
from urllib.error import HTTPError, URLError

from monitor.alerts.notify import DeliveryError

DEFAULT_RETRY_AFTER_S = 1.0


def post_json(
    url: str,
    body: bytes,
    *,
    who: str,
    headers: Mapping[str, str] | None = None,
    timeout: float = 10,
) -> Any:
    """POST ``body`` (JSON) to ``url``; the decoded JSON answer (None if not JSON).

    Failures raise :class:`DeliveryError` naming ``who`` (never the URL: it may hold a token).
    """
    request = urllib.request.Request(
        url,
        data=body,
        method="POST",
        headers={"Content-Type": "application/json", **(headers or {})},
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            raw = response.read()
    except HTTPError as exc:
        raise classify(exc.code, exc.headers, exc.read(), who=who) from None
    except (URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise DeliveryError(f"network error talking to {who}: {reason}") from None
    try:
        return json.loads(raw) if raw else None
    except ValueError:
        return None


def classify(status: int, headers: Message | None, raw: bytes, *, who: str) -> DeliveryError:
    """429 waits for Retry-After, 5xx and 408 retry with back-off, other 4xx are permanent."""
    detail = raw[:200].decode("utf-8", "replace").strip() or "no details"
    if status == 429:
        seconds = _retry_after(headers)
        return DeliveryError(
            f"{who} rate limit (429), retry after {seconds:g} s", retry_after=seconds
        )
    if status >= 500 or status == 408:
        return DeliveryError(f"{who} server error {status}: {detail}")
    return DeliveryError(f"{who} refused the request ({status}): {detail}", permanent=True)


def _retry_after(headers: Message | None) -> float:
    value = headers.get("Retry-After") if headers is not None else None
    try:
        return max(0.0, float(value)) if value else DEFAULT_RETRY_AFTER_S
    except ValueError:  # an HTTP date: rare, and a second is a safe first wait
        return DEFAULT_RETRY_AFTER_S
