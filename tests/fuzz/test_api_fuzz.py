"""Random JSON to the alert actions and to /slack/actions never gets a 500."""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any
from urllib.parse import quote, urlencode

from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.orm import Session, sessionmaker

from tests.monitor.alerts.conftest import T0, failing, run_scan
from tests.monitor.api.conftest import SIGNING_SECRET, Clock, auth

FUZZ = settings(
    max_examples=60,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
scalars = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=20)
)
json_values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
action_bodies = st.one_of(
    json_values,
    st.fixed_dictionaries(
        {},
        optional={
            "by": json_values,
            "note": json_values,
            "for": st.one_of(
                json_values, st.sampled_from(["4h", "8d", "-1h", "0s", "1y", "forever"])
            ),
        },
    ),
)
actions = st.one_of(st.sampled_from(["ack", "unack", "snooze", "resolve"]), st.text(max_size=10))
alert_ids = st.one_of(st.sampled_from([1, 0, -1, 2**63]), st.integers())


@FUZZ
@given(alert_id=alert_ids, action=actions, body=action_bodies)
def test_random_json_to_alert_actions_never_gets_a_500(
    client: TestClient, sessions: sessionmaker[Session], alert_id: int, action: str, body: Any
) -> None:
    _one_alert(sessions)
    path = f"/api/alerts/{alert_id}/{quote(action, safe='')}"
    response = client.post(path, content=json.dumps(body), headers=auth())
    assert response.status_code < 500, (path, body, response.text)
    assert response.headers["content-type"].startswith("application/json")


@FUZZ
@given(state=st.text(max_size=12), model=st.text(max_size=12))
def test_random_query_parameters_on_alert_reads_never_get_a_500(
    client: TestClient, sessions: sessionmaker[Session], state: str, model: str
) -> None:
    _one_alert(sessions)
    response = client.get("/api/alerts", params={"state": state, "model": model})
    assert response.status_code < 500, (state, model, response.text)


block_actions = st.fixed_dictionaries(
    {
        "type": st.sampled_from(["block_actions", "view_submission", "shortcut"])
        | st.text(max_size=8)
    },
    optional={
        "user": json_values | st.fixed_dictionaries({"id": json_values, "username": json_values}),
        "actions": json_values
        | st.lists(
            st.fixed_dictionaries(
                {
                    "action_id": st.sampled_from(
                        ["alert_ack", "alert_snooze", "alert_resolve", "alert_open"]
                    )
                    | json_values,
                    "value": st.sampled_from(["1:1", "1:2:4h", "1:x", ":::", "99:1"]) | json_values,
                }
            ),
            max_size=2,
        ),
        "response_url": json_values,
        "channel": json_values,
        "container": json_values,
    },
)


@FUZZ
@given(payload=st.one_of(json_values, block_actions))
def test_random_signed_slack_payloads_never_get_a_500(
    client: TestClient, sessions: sessionmaker[Session], clock: Clock, payload: Any
) -> None:
    _one_alert(sessions)
    body = urlencode({"payload": json.dumps(payload)}).encode()
    response = client.post("/slack/actions", content=body, headers=_signed(body, clock))
    assert response.status_code < 500, (payload, response.text)


@FUZZ
@given(body=st.binary(max_size=200), sign=st.booleans())
def test_random_bytes_to_slack_actions_never_get_a_500(
    client: TestClient, clock: Clock, body: bytes, sign: bool
) -> None:
    headers = _signed(body, clock) if sign else {"X-Slack-Signature": "v0=00"}
    response = client.post("/slack/actions", content=body, headers=headers)
    # A signed non-UTF-8 body fails verification (slack_sdk verifies text): 401, not 500.
    assert response.status_code in ((200, 400, 401) if sign else (401,)), response.text


def _signed(body: bytes, clock: Clock) -> dict[str, str]:
    timestamp = str(int(clock.now.timestamp()))
    base = b"v0:" + timestamp.encode() + b":" + body
    signature = "v0=" + hmac.new(SIGNING_SECRET.encode(), base, hashlib.sha256).hexdigest()
    return {
        "X-Slack-Request-Timestamp": timestamp,
        "X-Slack-Signature": signature,
        "Content-Type": "application/x-www-form-urlencoded",
    }


def _one_alert(sessions: sessionmaker[Session]) -> None:
    from monitor.store import Alert

    with sessions() as session:
        if session.query(Alert).count():
            return
    run_scan(sessions, T0, [failing()])


def test_slack_payload_whose_actions_are_not_a_list_is_ignored(
    client: TestClient, sessions: sessionmaker[Session], clock: Clock
) -> None:
    _one_alert(sessions)
    for payload in (
        {"type": "block_actions", "actions": True},
        {"type": "block_actions", "actions": [1]},
    ):
        body = urlencode({"payload": json.dumps(payload)}).encode()
        assert (
            client.post("/slack/actions", content=body, headers=_signed(body, clock)).status_code
            == 200
        )
    assert client.get("/api/alerts/1").json()["state"] == "firing"


def test_alert_id_beyond_the_integer_key_range_is_not_found(
    client: TestClient, sessions: sessionmaker[Session]
) -> None:
    _one_alert(sessions)
    for alert_id in (2**31, 2**63, 0, -5):
        assert client.get(f"/api/alerts/{alert_id}").status_code == 404
        response = client.post(f"/api/alerts/{alert_id}/ack", json={"by": "x"}, headers=auth())
        assert response.status_code == 404
