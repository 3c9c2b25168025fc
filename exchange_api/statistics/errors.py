"""Errors of the statistics domain."""

from __future__ import annotations

from exchange_api.errors import BadRequest, ProblemError

__all__ = ["NetworkScopeForbidden", "ThresholdTooLow", "WindowNotWholeMonths"]


class NetworkScopeForbidden(ProblemError):
    """403: industry agencies see only their own alerts, so they get statistics over those alone."""

    status = 403
    slug = "network-statistics-forbidden"
    title = "Network statistics not available to this agency"

    def __init__(self) -> None:
        super().__init__(
            "Industry agencies get statistics over their own alerts only (scope=visible) and no "
            "early warning."
        )


class WindowNotWholeMonths(BadRequest):
    """400: in scope network, dates bound whole months, so no query isolates a shorter span."""

    slug = "statistics-window"
    title = "Statistics window not whole months"

    def __init__(self) -> None:
        super().__init__(
            "In scope network, detected_after must be the first day of a month and "
            "detected_before the last day of a month."
        )


class ThresholdTooLow(BadRequest):
    """400: a caller asked for an early-warning threshold below the service's minimum."""

    slug = "threshold-too-low"
    title = "Threshold below the minimum"

    def __init__(self, name: str, minimum: int) -> None:
        super().__init__(f"{name} must be at least {minimum}.")
