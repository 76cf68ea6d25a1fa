"""The stand-in answers the Web API as Slack does, read through slack_sdk's own client."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.workbench.standin import SlackStandIn


@pytest.fixture
def client() -> Iterator[WebClient]:
    standin = SlackStandIn()
    standin.start()
    yield WebClient(token=standin.token, base_url=standin.api_url)
    standin.stop()


def _post(client: WebClient, text: str, thread: str | None = None, key: int = 0) -> str:
    metadata = {"event_type": "atelier_outbox", "event_payload": {"key": f"outbox-{key}"}}
    return str(
        client.chat_postMessage(channel="C1", text=text, thread_ts=thread, metadata=metadata)["ts"]
    )


def test_history_is_newest_first_paged_and_shows_metadata_only_when_asked(
    client: WebClient,
) -> None:
    roots = [_post(client, f"root {n}", key=n) for n in range(3)]
    _post(client, "a reply", thread=roots[0])
    first = client.conversations_history(channel="C1", limit=2)
    assert [m["ts"] for m in first["messages"]] == [roots[2], roots[1]]
    assert first["has_more"] and "metadata" not in first["messages"][0]
    rest = client.conversations_history(
        channel="C1",
        limit=2,
        cursor=first["response_metadata"]["next_cursor"],
        include_all_metadata=True,
    )
    assert [m["ts"] for m in rest["messages"]] == [roots[0]]
    assert not rest["has_more"] and rest["response_metadata"]["next_cursor"] == ""
    assert rest["messages"][0]["metadata"]["event_payload"] == {"key": "outbox-0"}


def test_replies_start_with_the_parent(client: WebClient) -> None:
    root = _post(client, "root")
    replies = [_post(client, f"reply {n}", thread=root, key=n) for n in range(2)]
    thread = client.conversations_replies(channel="C1", ts=root, include_all_metadata=True)
    assert [m["ts"] for m in thread["messages"]] == [root, *replies]
    assert thread["messages"][2]["metadata"]["event_payload"] == {"key": "outbox-1"}


@pytest.mark.parametrize(
    ("call", "code"),
    [
        (lambda c: c.conversations_history(channel="CNONE"), "channel_not_found"),
        (lambda c: c.conversations_replies(channel="C1", ts="1.000001"), "thread_not_found"),
        (
            lambda c: c.chat_postMessage(channel="C1", text="x", metadata={"event_payload": {}}),
            "invalid_metadata_format",
        ),
    ],
)
def test_errors_carry_slacks_codes(client: WebClient, call: object, code: str) -> None:
    _post(client, "so that C1 exists")
    with pytest.raises(SlackApiError) as raised:
        call(client)  # type: ignore[operator]
    assert raised.value.response["error"] == code
