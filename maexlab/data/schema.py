"""The canonical data model: closed vocabularies and one schema per table, defined once.

Every loader, importer, generator and analysis refers to these names; nothing else in the
package spells a vocabulary out again. ``data/README.md`` documents the same model for users.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

# --- closed vocabularies -------------------------------------------------------------------

PHASES: tuple[str, ...] = ("plan", "start", "growth", "mature", "closed")
#: The living phases in the order an initiative moves through them.
ACTIVE_PHASES: tuple[str, ...] = PHASES[:-1]

FUNDING_SOURCES: tuple[str, ...] = (
    "government_subsidy",
    "fund_grant",
    "investor_equity",
    "investor_loan",
    "donation_crowdfunding",
    "earned_income",
    "social_return_contract",
)
PURPOSES: tuple[str, ...] = (
    "startup",
    "project",
    "organisational_strengthening",
    "operations",
    "growth_capital",
)
STATUSES: tuple[str, ...] = ("granted", "partial", "rejected", "pending", "withdrawn")
#: Statuses for which a decision has been taken (used by approval and coverage models).
DECIDED_STATUSES: tuple[str, ...] = ("granted", "partial", "rejected")
VALUE_MODELS: tuple[str, ...] = ("social", "hybrid", "commercial")
LEGAL_FORMS: tuple[str, ...] = (
    "stichting",
    "vereniging",
    "cooperatie",
    "bv",
    "nv",
    "eenmanszaak",
    "vof",
    "informal_group",
    "unknown",
)
THEMES: tuple[str, ...] = (
    "care_wellbeing",
    "poverty_debt",
    "work_participation",
    "education_youth",
    "sustainability_energy",
    "food_agriculture",
    "culture_community",
    "housing_neighbourhood",
    "unknown",
)
INVESTOR_TYPES: tuple[str, ...] = (
    "impact_fund",
    "bank",
    "venture_capital",
    "foundation",
    "government",
    "angel",
)
#: Investors whose mandate includes social impact; the rest are "mainstream".
IMPACT_INVESTOR_TYPES: tuple[str, ...] = ("impact_fund", "foundation", "government")
INSTRUMENTS: tuple[str, ...] = ("equity", "loan", "grant")
DECISIONS: tuple[str, ...] = ("accepted", "declined")
PROVINCES: tuple[str, ...] = (
    "Groningen",
    "Fryslân",
    "Drenthe",
    "Overijssel",
    "Flevoland",
    "Gelderland",
    "Utrecht",
    "Noord-Holland",
    "Zuid-Holland",
    "Zeeland",
    "Noord-Brabant",
    "Limburg",
)
#: Impact indicators: name -> (unit, SDG number). Euro proxies live in the proxies table.
IMPACT_INDICATORS: dict[str, tuple[str, int]] = {
    "volunteer_hours": ("hour", 8),
    "people_to_work": ("person", 8),
    "youth_coached": ("person", 4),
    "participants_activities": ("person", 3),
    "loneliness_contacts": ("contact", 3),
    "meals_served": ("meal", 2),
    "debt_households_helped": ("household", 1),
    "kwh_saved": ("kWh", 7),
    "co2_avoided": ("tonne", 13),
    "waste_recycled": ("kg", 12),
}

# --- table schemas -------------------------------------------------------------------------

Kind = Literal["id", "str", "category", "date", "int", "float", "bool"]


@dataclass(frozen=True)
class Column:
    """One column of a canonical table.

    ``kind`` decides parsing: ``id`` and ``str`` stay text (so "0363" never becomes 363),
    ``category`` must be one of ``vocabulary``, ``date`` is an ISO date, ``bool`` is true/false.
    """

    name: str
    kind: Kind
    description: str
    unit: str = ""
    required: bool = True  # the column must be present in a file of this table
    nullable: bool = False  # empty cells are allowed
    vocabulary: tuple[str, ...] = ()
    minimum: float | None = None
    maximum: float | None = None
    pattern: str | None = None  # regular expression a text value must match fully
    personal: bool = False  # personal data: never allowed into a canonical table


@dataclass(frozen=True)
class ForeignKey:
    columns: tuple[str, ...]
    table: str
    target_columns: tuple[str, ...]


@dataclass(frozen=True)
class TableSchema:
    name: str
    description: str
    columns: tuple[Column, ...]
    key: tuple[str, ...]
    foreign_keys: tuple[ForeignKey, ...] = field(default_factory=tuple)

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    @property
    def required_columns(self) -> list[str]:
        return [c.name for c in self.columns if c.required]

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(f"table {self.name!r} has no column {name!r}")


_INITIATIVE_FK = ForeignKey(("initiative_id",), "initiatives", ("initiative_id",))

INITIATIVES = TableSchema(
    name="initiatives",
    description="One row per initiative: its profile and the dates that frame its history.",
    key=("initiative_id",),
    columns=(
        Column("initiative_id", "id", "Stable identifier of the initiative."),
        Column("name", "str", "Name of the initiative (an organisation, never a person)."),
        Column(
            "municipality_code",
            "id",
            "CBS municipality code, text with the GM prefix.",
            pattern=r"GM\d{4}",
            nullable=True,
        ),
        Column("municipality", "str", "Municipality name as CBS spells it.", nullable=True),
        Column("province", "category", "Province.", vocabulary=PROVINCES, nullable=True),
        Column("legal_form", "category", "Legal form.", vocabulary=LEGAL_FORMS),
        Column("value_model", "category", "How the initiative creates value.", vocabulary=VALUE_MODELS),
        Column("theme", "category", "Main social theme.", vocabulary=THEMES),
        Column("sdgs", "str", "SDG numbers the initiative reports on, joined by ';'.", nullable=True, required=False),
        Column("founded_on", "date", "Founding date."),
        Column(
            "joined_on",
            "date",
            "Date the initiative entered the data (profile created); survival uses it for delayed entry.",
            required=False,
            nullable=True,
        ),
        Column("closed_on", "date", "Date the initiative stopped; empty while active.", nullable=True),
        Column("observed_until", "date", "Data cut-off for this initiative; censoring date if still active."),
        Column("volunteers", "int", "Number of volunteers.", unit="persons", minimum=0, nullable=True),
        Column("paid_staff_fte", "float", "Paid staff.", unit="FTE", minimum=0, nullable=True),
        Column("people_reached", "int", "People reached per year.", unit="persons", minimum=0, nullable=True),
    ),
)

PHASES_TABLE = TableSchema(
    name="phases",
    description="One row per phase an initiative entered, with the date it entered it.",
    key=("initiative_id", "phase"),
    foreign_keys=(_INITIATIVE_FK,),
    columns=(
        Column("initiative_id", "id", "Initiative."),
        Column("phase", "category", "Phase entered.", vocabulary=PHASES),
        Column("entered_on", "date", "Date the phase was entered."),
    ),
)

FUNDING = TableSchema(
    name="funding",
    description="One row per funding application or funding event.",
    key=("funding_id",),
    foreign_keys=(_INITIATIVE_FK,),
    columns=(
        Column("funding_id", "id", "Stable identifier of the application."),
        Column("initiative_id", "id", "Initiative that applied."),
        Column("source", "category", "Funding source.", vocabulary=FUNDING_SOURCES),
        Column("purpose", "category", "What the money is for.", vocabulary=PURPOSES),
        Column("applied_on", "date", "Date of application."),
        Column("decided_on", "date", "Date of decision; empty while pending.", nullable=True),
        Column("amount_requested", "float", "Amount asked for.", unit="EUR", minimum=0),
        Column("amount_granted", "float", "Amount received (0 when rejected).", unit="EUR", minimum=0, nullable=True),
        Column("status", "category", "Outcome.", vocabulary=STATUSES),
        Column("multi_year", "bool", "Funding committed for more than one year.", nullable=True),
        Column("term_years", "int", "Years the funding runs.", unit="years", minimum=1, nullable=True),
        Column(
            "phase_at_application",
            "category",
            "Phase at application when the source records it; otherwise derived from phases.",
            vocabulary=PHASES,
            required=False,
            nullable=True,
        ),
    ),
)

FINANCIALS = TableSchema(
    name="financials",
    description="One row per initiative and year: income by kind and costs.",
    key=("initiative_id", "year"),
    foreign_keys=(_INITIATIVE_FK,),
    columns=(
        Column("initiative_id", "id", "Initiative."),
        Column("year", "int", "Calendar year.", minimum=1900, maximum=2100),
        Column("revenue", "float", "Total income: earned income + subsidies + grants + donations.", unit="EUR", minimum=0),
        Column("earned_income", "float", "Income from sales of goods and services.", unit="EUR", minimum=0),
        Column("subsidies", "float", "Government subsidies.", unit="EUR", minimum=0),
        Column("grants", "float", "Grants from funds and foundations.", unit="EUR", minimum=0),
        Column("donations", "float", "Donations and crowdfunding.", unit="EUR", minimum=0),
        Column("costs", "float", "Total costs.", unit="EUR", minimum=0),
    ),
)

IMPACT = TableSchema(
    name="impact",
    description="One row per initiative, year and impact indicator.",
    key=("initiative_id", "year", "indicator"),
    foreign_keys=(_INITIATIVE_FK, ForeignKey(("indicator",), "proxies", ("indicator",))),
    columns=(
        Column("initiative_id", "id", "Initiative."),
        Column("year", "int", "Calendar year.", minimum=1900, maximum=2100),
        Column("indicator", "category", "Impact indicator.", vocabulary=tuple(IMPACT_INDICATORS)),
        Column("sdg", "int", "SDG the indicator counts towards.", minimum=1, maximum=17),
        Column("quantity", "float", "Quantity achieved in the year.", minimum=0),
        Column("unit", "str", "Unit of the quantity."),
    ),
)

PROXIES = TableSchema(
    name="proxies",
    description="One row per indicator: its euro value per unit and where that value comes from.",
    key=("indicator",),
    columns=(
        Column("indicator", "category", "Impact indicator.", vocabulary=tuple(IMPACT_INDICATORS)),
        Column("unit", "str", "Unit the proxy prices."),
        Column("euro_per_unit", "float", "Social value of one unit.", unit="EUR", minimum=0),
        Column("source", "str", "Study or statistic the proxy comes from (required)."),
    ),
)

ASSESSMENTS = TableSchema(
    name="assessments",
    description="One row per investor assessment of an initiative.",
    key=("assessment_id",),
    foreign_keys=(_INITIATIVE_FK,),
    columns=(
        Column("assessment_id", "id", "Stable identifier of the assessment."),
        Column("initiative_id", "id", "Initiative assessed."),
        Column("investor_type", "category", "Kind of investor.", vocabulary=INVESTOR_TYPES),
        Column("instrument", "category", "Instrument offered or considered.", vocabulary=INSTRUMENTS),
        Column("assessed_on", "date", "Date of the assessment."),
        Column("decision", "category", "Whether the investor offered money.", vocabulary=DECISIONS),
        Column("amount_offered", "float", "Amount offered (0 when declined).", unit="EUR", minimum=0, nullable=True),
        Column("valuation", "float", "Pre-money valuation (equity only).", unit="EUR", minimum=0, nullable=True),
        Column(
            "interest_rate", "float", "Annual interest rate (loans only).", unit="fraction", minimum=0, maximum=1, nullable=True
        ),
    ),
)

#: Every canonical table, in load order (a table's foreign keys point to tables before it,
#: except impact -> proxies, which is checked after all tables are read).
TABLES: dict[str, TableSchema] = {
    s.name: s for s in (INITIATIVES, PHASES_TABLE, FUNDING, FINANCIALS, IMPACT, PROXIES, ASSESSMENTS)
}
