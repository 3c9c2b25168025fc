"""API models of the precursor reference catalogue."""

from __future__ import annotations

from typing import Literal, Self

from pydantic import BaseModel, ConfigDict, Field, computed_field, model_validator

from exchange_api.crypto.blind_index import normalise_text
from exchange_api.kit.pagination import Page
from exchange_api.reference.validators import CasNumber

__all__ = ["NAME_KEY_PREFIX", "EuCategory", "Substance", "SubstanceList", "UnTable", "name_key"]

NAME_KEY_PREFIX = "name:"


def name_key(name: str) -> str:
    """The key of a substance known by name only: ``name:`` and the name normalised as blind-index
    names are (case, spacing and punctuation ignored), e.g. ``name:depapd``."""
    return NAME_KEY_PREFIX + normalise_text(name)


UnTable = Literal["I", "II"]
"""Table of the UN 1988 Convention against Illicit Traffic."""

EuCategory = Literal["1", "2A", "2B", "3", "4"]
"""Category under EU Regulations 273/2004 and 111/2005."""


class Substance(BaseModel):
    """One chemical of the catalogue and its control status."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    cas: CasNumber | None = Field(
        description="CAS Registry Number; null for an entry known by name only (a group of "
        "esters, a designer precursor without a number)."
    )
    other_cas: tuple[CasNumber, ...] = Field(
        default=(),
        description="Other numbers some registers give for the same substance; an alert with one "
        "of them is matched to this entry.",
    )
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

    @computed_field(  # type: ignore[prop-decorator]
        description="Stable key: the CAS number, or `name:` and the normalised name for an entry "
        "known by name only. Alerts' substances are counted and searched by it."
    )
    @property
    def key(self) -> str:
        return self.cas if self.cas is not None else name_key(self.name)

    @model_validator(mode="after")
    def _scheduled_matches_listing(self) -> Self:
        # The flag is stored for readers of the JSON but must never drift from the listing.
        if self.scheduled != (self.un_table is not None or self.eu_category is not None):
            raise ValueError("scheduled must be true exactly when a UN table or EU category is set")
        return self


class SubstanceList(Page[Substance]):
    """One page of substances, by name then key."""
