"""RabbitMQ consumers and publishing, run as services of Backburner's servers.

Declared with ``@app.consumer(queue, ...)``, published to with ``await app.publish(...)``;
see docs/rabbitmq.md. Everything that talks to the broker needs the ``rabbitmq`` extra
(aio-pika), imported only when a consumer or publisher is built.
"""

from ._options import ConsumerOptions
from ._status import DURATION_BUCKETS, ConsumerStatus

__all__ = ["DURATION_BUCKETS", "ConsumerOptions", "ConsumerStatus"]
