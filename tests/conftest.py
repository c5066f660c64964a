"""Shared fixtures: a tiny valid canonical dataset on disk, and the shared/ data folder."""

from __future__ import annotations

import os
import random
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED_REAL = Path(os.environ.get("MAEXLAB_SHARED", REPO.parent / "shared")) / "data" / "real"

TINY_TABLES = {
    "initiatives": (
        "initiative_id,name,municipality_code,municipality,province,legal_form,value_model,theme,sdgs,founded_on,joined_on,closed_on,observed_until,volunteers,paid_staff_fte,people_reached\n"
        "I1,Buurtkeuken Oost,GM0363,Amsterdam,Noord-Holland,stichting,social,food_agriculture,2;3,2015-03-01,2016-01-01,,2026-06-30,12,1.5,400\n"
        "I2,Fietsfabriek,GM0599,Rotterdam,Zuid-Holland,bv,hybrid,work_participation,8,2017-05-01,2017-05-01,2022-01-31,2026-06-30,3,4.0,120\n"
    ),
    "phases": (
        "initiative_id,phase,entered_on\n"
        "I1,start,2015-03-01\nI1,growth,2018-01-01\n"
        "I2,plan,2017-05-01\nI2,start,2018-01-01\nI2,closed,2022-01-31\n"
    ),
    "funding": (
        "funding_id,initiative_id,source,purpose,applied_on,decided_on,amount_requested,amount_granted,status,multi_year,term_years\n"
        "F1,I1,government_subsidy,startup,2015-04-01,2015-06-01,10000,10000,granted,false,1\n"
        "F2,I1,fund_grant,organisational_strengthening,2019-02-01,2019-04-01,20000,5000,partial,true,3\n"
        "F3,I2,investor_loan,growth_capital,2019-02-01,2019-05-01,50000,0,rejected,false,\n"
    ),
    "financials": (
        "initiative_id,year,revenue,earned_income,subsidies,grants,donations,costs\n"
        "I1,2020,30000,5000,15000,8000,2000,29000\nI2,2020,80000,70000,0,10000,0,90000\n"
    ),
    "impact": (
        "initiative_id,year,indicator,sdg,quantity,unit\nI1,2020,meals_served,2,5000,meal\nI2,2020,people_to_work,8,4,person\n"
    ),
    "proxies": (
        "indicator,unit,euro_per_unit,source\nmeals_served,meal,4.5,Test source A\npeople_to_work,person,15000,Test source B\n"
    ),
    "assessments": (
        "assessment_id,initiative_id,investor_type,instrument,assessed_on,decision,amount_offered,valuation,interest_rate\n"
        "A1,I2,bank,loan,2019-03-01,accepted,40000,,0.06\nA2,I2,venture_capital,equity,2019-03-01,declined,0,,\n"
    ),
}


@pytest.fixture(autouse=True)
def _seed_everything(request):
    # One printed seed so any failure reproduces (the lifelines habit).
    seed = 20261128
    random.seed(seed)
    np.random.seed(seed)
    yield


@pytest.fixture
def tiny_dataset(tmp_path: Path) -> Path:
    """A minimal valid canonical dataset folder; tests break one thing in it."""
    folder = tmp_path / "tiny"
    folder.mkdir()
    for name, text in TINY_TABLES.items():
        (folder / f"{name}.csv").write_text(text, encoding="utf-8")
    return folder


@pytest.fixture
def shared_real() -> Path:
    if not SHARED_REAL.exists():
        pytest.skip(f"shared real data not present at {SHARED_REAL}")
    return SHARED_REAL
