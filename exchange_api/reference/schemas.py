"""API models of the precursor reference catalogue."""

from __future__ import annotations

from typing import Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from exchange_api.kit.pagination import Page
from exchange_api.reference.validators import CasNumber

__all__ = ["EuCategory", "Substance", "SubstanceList", "UnTable"]

UnTable = Literal["I", "II"]
"""Table of the UN 1988 Convention against Illicit Traffic."""

EuCategory = Literal["1", "2A", "2B", "3", "4"]
"""Category under EU Regulations 273/2004 and 111/2005."""


class Substance(BaseModel):
    """One chemical of the catalogue and its control status."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    cas: CasNumber
    name: str = Field(min_length=1, max_length=200)
    synonyms: tuple[str, ...] = Field(
        default=(), description="Other names and abbreviations (BMK, PMK, …)."
    )
    un_table: UnTable | None = Field(description="UN 1988 Convention table; null if not listed.")
    eu_category: EuCategory | None = Field(description="EU precursor category; null if not listed.")
    hs_code: str | None = Field(
        pattern=r"^[0-9]{4}\.[0-9]{2}$",
        description="Harmonized System 2022 six-digit subheading, e.g. 2914.31.",
        examples=["2914.31"],
    )
    year_scheduled: int | None = Field(
        ge=1988, description="Year the substance was placed on its UN table."
    )
    scheduled: bool = Field(description="Whether the substance is on a UN table or an EU category.")
    note: str | None = Field(
        default=None, description="Caveats: salts, moves between tables, unverified data."
    )

    @model_validator(mode="after")
    def _scheduled_matches_listing(self) -> Self:
        # The flag is stored for readers of the JSON but must never drift from the listing.
        if self.scheduled != (self.un_table is not None or self.eu_category is not None):
            raise ValueError("scheduled must be true exactly when a UN table or EU category is set")
        return self


class SubstanceList(Page[Substance]):
    """One page of substances, by name."""
