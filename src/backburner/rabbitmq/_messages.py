"""Copies of a delivered message, republished with new headers (to retry, to the
dead-letter queue, back from it)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aio_pika import DeliveryMode, Message
from aio_pika.abc import AbstractIncomingMessage

from .._clock import utcnow
from ._options import DELIVERIES, ERROR, ERROR_TYPE, FAILED_AT, HEADER_PREFIX, ORIGIN, REASON

MAX_ERROR_CHARS = 2000
"""The longest error text put in a header (the broker limits a frame's size)."""

_BROKER_HEADERS = frozenset(
    f"x-{kind}-death-{field}"
    for kind in ("first", "last")
    for field in ("exchange", "queue", "reason")
) | {"x-death", "x-delivery-count"}


def copy(message: AbstractIncomingMessage, headers: Mapping[str, Any]) -> Message:
    """``message`` with ``headers`` instead of its own, persistent."""
    return Message(
        message.body,
        headers=dict(headers),
        content_type=message.content_type,
        content_encoding=message.content_encoding,
        delivery_mode=DeliveryMode.PERSISTENT,
        priority=message.priority,
        correlation_id=message.correlation_id,
        reply_to=message.reply_to,
        message_id=message.message_id,
        timestamp=message.timestamp,
        type=message.type,
        user_id=message.user_id,
        app_id=message.app_id,
    )


def own_headers(message: AbstractIncomingMessage) -> dict[str, Any]:
    """The message's headers without those the broker adds as it dead-letters."""
    return {k: v for k, v in (message.headers or {}).items() if k not in _BROKER_HEADERS}


def retry_copy(message: AbstractIncomingMessage, deliveries: int) -> Message:
    return copy(message, {**own_headers(message), DELIVERIES: deliveries})


def dead_copy(
    message: AbstractIncomingMessage,
    deliveries: int,
    origin: str,
    reason: str,
    error: BaseException | str,
) -> Message:
    text = error if isinstance(error, str) else f"{error}" or type(error).__name__
    error_type = "" if isinstance(error, str) else type(error).__name__
    return copy(
        message,
        {
            **own_headers(message),
            DELIVERIES: deliveries,
            ORIGIN: origin,
            REASON: reason,
            ERROR: text[:MAX_ERROR_CHARS],
            ERROR_TYPE: error_type,
            FAILED_AT: utcnow().isoformat(),
        },
    )


def requeued_copy(message: AbstractIncomingMessage) -> Message:
    """A dead-lettered message sent back with a fresh count and none of its error."""
    headers = {k: v for k, v in own_headers(message).items() if not k.startswith(HEADER_PREFIX)}
    return copy(message, headers)
