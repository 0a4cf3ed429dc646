"""The pure parts of the RabbitMQ consumers: options, retry delays, bodies, counters."""

from __future__ import annotations

import sys
from typing import Any

import pytest
from pydantic import BaseModel

from backburner.rabbitmq import DURATION_BUCKETS, ConsumerOptions
from backburner.rabbitmq._body import BodyError, Decoder, encode, inferred_model
from backburner.rabbitmq._options import deliveries_of
from backburner.rabbitmq._status import StatusBoard

URL = "amqp://guest:guest@127.0.0.1/"


def test_the_retry_delays_are_used_in_turn_and_the_last_one_repeats() -> None:
    options = ConsumerOptions("mail", URL, max_deliveries=6, retry_delays=(1, 10, 60))
    assert [options.delay_before(n) for n in range(2, 7)] == [1, 10, 60, 60, 60]
    assert options.retry_queues == ("mail.retry.1s", "mail.retry.10s", "mail.retry.60s")
    assert options.dead_letter_queue == "mail.dead"


def test_only_the_delays_a_message_can_meet_get_a_queue() -> None:
    options = ConsumerOptions("mail", URL, max_deliveries=2, retry_delays=(0.5, 10))
    assert options.retry_queues == ("mail.retry.0.5s",)
    assert ConsumerOptions("mail", URL, max_deliveries=1, retry_delays=()).retry_queues == ()
    assert ConsumerOptions("mail", URL, retry_delays=(0,)).retry_queues == ()


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"queue": ""}, "1 to 200 bytes"),
        ({"queue": "amq.direct"}, "broker's own"),
        ({"prefetch": 0}, "prefetch must be 1 to 65535"),
        ({"prefetch": True}, "prefetch must be an integer"),
        ({"max_deliveries": 0}, "max_deliveries must be 1 or more"),
        ({"retry_delays": (1, -1)}, "finite and 0 or more"),
        ({"retry_delays": (float("inf"),)}, "finite and 0 or more"),
        ({"retry_delays": ("1",)}, "a number of seconds"),
        ({"retry_delays": ()}, "retry_delays is empty"),
        ({"timeout": 0}, "more than 0 seconds"),
        ({"timeout": float("nan")}, "finite"),
    ],
)
def test_wrong_options_are_refused_naming_the_queue(changes: dict[str, Any], message: str) -> None:
    values: dict[str, Any] = {"queue": "mail", "url": URL, **changes}
    with pytest.raises(ValueError, match=message):
        ConsumerOptions(**values)


def test_the_delivery_count_is_read_from_the_headers_and_a_bad_one_counts_as_none() -> None:
    assert deliveries_of(None) == 0
    assert deliveries_of({"x-backburner-deliveries": 3}) == 3
    assert deliveries_of({"x-backburner-deliveries": "3"}) == 0
    assert deliveries_of({"x-backburner-deliveries": -2}) == 0


class Email(BaseModel):
    to: str


def test_the_handler_annotation_says_how_the_body_is_read() -> None:
    async def model(message: Email) -> None: ...
    def text(message: str) -> None: ...
    def raw(body: bytes) -> None: ...
    def plain(body):  # type: ignore[no-untyped-def]  # no annotation: JSON
        ...

    assert inferred_model(model) is Email
    assert Decoder(inferred_model(model)).decode(b'{"to": "ann"}') == Email(to="ann")
    assert Decoder(inferred_model(text)).decode("héllo".encode()) == "héllo"
    assert Decoder(inferred_model(raw)).decode(b"\xff\x00") == b"\xff\x00"
    assert Decoder(inferred_model(plain)).decode(b"[1, 2]") == [1, 2]
    assert Decoder(list[int]).decode(b"[1, 2]") == [1, 2]


def test_a_handler_without_a_parameter_is_refused() -> None:
    with pytest.raises(TypeError, match="must take the message"):
        inferred_model(lambda: None)


@pytest.mark.parametrize(
    ("model", "body", "reason"),
    [
        (Email, b"{", "not JSON"),
        (Email, b'{"too": 1}', "to: Field required"),
        (dict[str, int], b'{"a": "x"}', "a: Input should be a valid integer"),
        (str, b"\xff", "not UTF-8"),
        (Any, b"nope", "not JSON"),
    ],
)
def test_a_body_that_does_not_read_says_why(model: Any, body: bytes, reason: str) -> None:
    with pytest.raises(BodyError, match=reason):
        Decoder(model).decode(body)


def test_values_are_published_as_bytes_with_their_content_type() -> None:
    assert encode(b"\x00") == (b"\x00", "application/octet-stream")
    assert encode("hé") == ("hé".encode(), "text/plain; charset=utf-8")
    assert encode(Email(to="ann")) == (b'{"to":"ann"}', "application/json")
    assert encode({"n": [1, None]}) == (b'{"n":[1,null]}', "application/json")
    with pytest.raises(TypeError, match="publish\\(\\) takes bytes, str"):
        encode({"when": object()})
    with pytest.raises(TypeError):
        encode(float("nan"))


def test_a_stored_value_is_plain_json() -> None:
    assert Decoder(Email).to_json(Email(to="ann")) == {"to": "ann"}
    assert Decoder(str).to_json("x") == "x"


def test_the_status_board_counts_and_buckets_handler_durations() -> None:
    board = StatusBoard("rabbitmq.mail", "mail", "mail.dead")
    board.run_started()
    assert board.read().running
    assert not board.read().connected
    board.connected()
    for seconds in (0.0005, 0.02, 100.0):
        board.received()
        board.handler_ran(seconds)
    board.settled("processed")
    board.settled("retried")
    board.handler_failed()
    status = board.read()
    assert (status.received, status.processed, status.retried, status.in_flight) == (3, 1, 1, 1)
    assert status.failed == 1
    assert status.duration_count == 3
    assert status.duration_buckets[0] == 1  # at most 1 ms
    assert status.duration_buckets[DURATION_BUCKETS.index(0.025)] == 2
    assert status.duration_buckets[-1] == 2  # 100 s is past every bound
    board.disconnected(ConnectionError("gone"))
    gone = board.read()
    assert not gone.connected
    assert gone.disconnected_since is not None
    assert gone.last_error == "ConnectionError: gone"


def test_without_the_extra_the_error_says_how_to_install_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from backburner import Backburner

    monkeypatch.setitem(sys.modules, "aio_pika", None)
    app = Backburner("memory://")
    with pytest.raises(ImportError, match=r"pip install 'backburner\[rabbitmq\]'"):
        app.consumer("mail")(lambda message: None)
