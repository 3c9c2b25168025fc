"""An alert's stage in the penal chain, computed by the database over visible follow-ups.

The stage is the furthest kind, in :data:`~exchange_api.alerts.vocabulary.PENAL_CHAIN` order,
among the follow-ups of the alert that the caller may see (``note`` is outside the order). It is
computed in SQL under the rules of :func:`~exchange_api.alerts.visibility.followup_visible_to`,
for the alert read and for the ``stage`` search filter alike, so that neither can reveal a
follow-up the caller may not see (docs/decisions/0012-stage-computed-under-visibility.md).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from sqlalchemy import ColumnElement, ScalarSelect, case, func, select
from sqlmodel import col

from exchange_api.alerts.visibility import followup_visible_to_bound
from exchange_api.alerts.vocabulary import PENAL_CHAIN, Stage
from exchange_api.models.followups import FollowUp

__all__ = ["furthest_stage_bound", "stage_named", "stage_rank", "stage_ranks"]

_RANKS: Final[dict[str, int]] = {kind: rank for rank, kind in enumerate(PENAL_CHAIN)}


def stage_rank() -> ColumnElement[int]:
    """A follow-up's place in the penal chain (0 = investigation_opened); NULL for a note."""
    return case(_RANKS, value=col(FollowUp.kind), else_=None)


def stage_ranks(stages: Sequence[Stage]) -> list[int]:
    return [_RANKS[stage] for stage in stages]


def stage_named(rank: int | None) -> Stage | None:
    """The stage of a rank read back from :func:`stage_rank` (None: no step of the chain)."""
    return None if rank is None else PENAL_CHAIN[rank]


def furthest_stage_bound(*, industry: bool) -> ScalarSelect[int | None]:
    """The rank of the furthest stage among the follow-ups the caller may see of the alert of
    the enclosing query (correlated on ``alerts``); NULL when there is none. The caller is
    bound as :func:`~exchange_api.alerts.visibility.viewer_params` says."""
    visible = followup_visible_to_bound(industry=industry)
    return select(func.max(stage_rank())).where(visible).scalar_subquery()
