"""aio-pika, the optional extra every module that talks to the broker imports through here."""

from __future__ import annotations

from types import ModuleType

MISSING = (
    "RabbitMQ consumers and publishing need the rabbitmq extra: pip install 'backburner[rabbitmq]'"
)


def require() -> ModuleType:
    """The ``aio_pika`` module, or ImportError saying how to install it."""
    try:
        import aio_pika
    except ImportError as error:
        raise ImportError(f"{MISSING} ({error})") from None
    return aio_pika
