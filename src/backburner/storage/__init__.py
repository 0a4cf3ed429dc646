"""Storage backends and the protocol they share."""

from ._protocol import (
    BulkAction,
    Capabilities,
    ClaimedJob,
    CountQuery,
    HeldJob,
    JobQuery,
    LoopWriter,
    NamesQuery,
    NewJob,
    Outcome,
    RecurringDefinition,
    Storage,
    WouldWait,
)
from ._url import open_storage

__all__ = [
    "BulkAction",
    "Capabilities",
    "ClaimedJob",
    "CountQuery",
    "HeldJob",
    "JobQuery",
    "LoopWriter",
    "NamesQuery",
    "NewJob",
    "Outcome",
    "RecurringDefinition",
    "Storage",
    "WouldWait",
    "open_storage",
]
