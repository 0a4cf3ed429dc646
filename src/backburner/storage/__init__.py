"""Storage backends and the protocol they share."""

from ._protocol import (
    BulkAction,
    Capabilities,
    ClaimedJob,
    ClaimPort,
    CountQuery,
    HeldJob,
    JobQuery,
    NamesQuery,
    NewJob,
    Outcome,
    RecurringDefinition,
    Storage,
)
from ._url import open_storage

__all__ = [
    "BulkAction",
    "Capabilities",
    "ClaimPort",
    "ClaimedJob",
    "CountQuery",
    "HeldJob",
    "JobQuery",
    "NamesQuery",
    "NewJob",
    "Outcome",
    "RecurringDefinition",
    "Storage",
    "open_storage",
]
