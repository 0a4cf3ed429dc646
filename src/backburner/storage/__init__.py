"""Storage backends and the protocol they share."""

from ._protocol import (
    Capabilities,
    ClaimedJob,
    HeldJob,
    LoopWriter,
    NewJob,
    Outcome,
    RecurringDefinition,
    Storage,
    WouldWait,
)
from ._url import open_storage

__all__ = [
    "Capabilities",
    "ClaimedJob",
    "HeldJob",
    "LoopWriter",
    "NewJob",
    "Outcome",
    "RecurringDefinition",
    "Storage",
    "WouldWait",
    "open_storage",
]
