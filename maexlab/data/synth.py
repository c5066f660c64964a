"""Generator of the embedded SYNTHETIC national dataset, with planted effects.

Everything here is made up: no row describes a real initiative. The data-generating process
(DGP) and every planted value are documented in ``docs/planted_effects.md``; the planted values
are also returned as ``truth`` and written to ``planted_effects.json``. Analysis code never reads
that file; only tests do, to check that the methods recover what was planted.

>>> tables, truth = generate(seed=1, n_initiatives=200)   # doctest: +SKIP
>>> write_embedded("data/embedded", seed=20261128)          # doctest: +SKIP

Command line: ``python -m maexlab.data.synth --seed 20261128 --out data/embedded``.
"""

from __future__ import annotations

import argparse
import bisect
import json
import math
from pathlib import Path

import numpy as np
import pandas as pd

from maexlab.data.io import atomic_write_bytes, table_to_csv_bytes
from maexlab.data.schema import (
    FUNDING_SOURCES,
    IMPACT_INDICATORS,
    IMPACT_INVESTOR_TYPES,
    INVESTOR_TYPES,
    PHASES,
    PURPOSES,
    TABLES,
    THEMES,
    VALUE_MODELS,
)

DEFAULT_SEED = 20261128
DEFAULT_N = 2500

REPO = Path(__file__).resolve().parents[2]
REFERENCE_DIR = REPO / "data" / "reference"

# --- calendar ------------------------------------------------------------------------------

EPOCH = np.datetime64("1970-01-01", "D")
YEAR_DAYS = 365.25


def _day(iso: str) -> int:
    return int((np.datetime64(iso, "D") - EPOCH).astype(int))


FOUND_START = _day("2010-01-01")
FOUND_END = _day("2025-06-30")
PLATFORM_START = _day("2015-03-01")  # MAEX started in 2015
CUTOFF = _day("2026-06-30")  # data cut-off: observed_until for every initiative
LAST_FIN_YEAR = 2025  # last complete calendar year before the cut-off

# --- reference: municipalities (real CBS codes, approximate populations) -------------------

MUNICIPALITIES: tuple[tuple[str, str, str, int], ...] = (
    ("GM0014", "Groningen", "Groningen", 238000),
    ("GM1966", "Het Hogeland", "Groningen", 48000),
    ("GM0037", "Stadskanaal", "Groningen", 32000),
    ("GM0047", "Veendam", "Groningen", 28000),
    ("GM1895", "Oldambt", "Groningen", 39000),
    ("GM0080", "Leeuwarden", "Fryslân", 126000),
    ("GM1900", "Súdwest-Fryslân", "Fryslân", 91000),
    ("GM0090", "Smallingerland", "Fryslân", 57000),
    ("GM0074", "Heerenveen", "Fryslân", 51000),
    ("GM0072", "Harlingen", "Fryslân", 16000),
    ("GM0106", "Assen", "Drenthe", 69000),
    ("GM0114", "Emmen", "Drenthe", 108000),
    ("GM0118", "Hoogeveen", "Drenthe", 56000),
    ("GM0119", "Meppel", "Drenthe", 35000),
    ("GM0109", "Coevorden", "Drenthe", 36000),
    ("GM0193", "Zwolle", "Overijssel", 132000),
    ("GM0153", "Enschede", "Overijssel", 161000),
    ("GM0150", "Deventer", "Overijssel", 102000),
    ("GM0164", "Hengelo", "Overijssel", 82000),
    ("GM0141", "Almelo", "Overijssel", 74000),
    ("GM0034", "Almere", "Flevoland", 222000),
    ("GM0995", "Lelystad", "Flevoland", 82000),
    ("GM0171", "Noordoostpolder", "Flevoland", 49000),
    ("GM0303", "Dronten", "Flevoland", 43000),
    ("GM0050", "Zeewolde", "Flevoland", 23000),
    ("GM0202", "Arnhem", "Gelderland", 166000),
    ("GM0268", "Nijmegen", "Gelderland", 182000),
    ("GM0200", "Apeldoorn", "Gelderland", 166000),
    ("GM0228", "Ede", "Gelderland", 122000),
    ("GM0289", "Wageningen", "Gelderland", 41000),
    ("GM0222", "Doetinchem", "Gelderland", 59000),
    ("GM0243", "Harderwijk", "Gelderland", 49000),
    ("GM0344", "Utrecht", "Utrecht", 367000),
    ("GM0307", "Amersfoort", "Utrecht", 161000),
    ("GM0356", "Nieuwegein", "Utrecht", 64000),
    ("GM0345", "Veenendaal", "Utrecht", 68000),
    ("GM0353", "IJsselstein", "Utrecht", 35000),
    ("GM0321", "Houten", "Utrecht", 51000),
    ("GM0363", "Amsterdam", "Noord-Holland", 931000),
    ("GM0392", "Haarlem", "Noord-Holland", 164000),
    ("GM0394", "Haarlemmermeer", "Noord-Holland", 161000),
    ("GM0479", "Zaanstad", "Noord-Holland", 158000),
    ("GM0361", "Alkmaar", "Noord-Holland", 111000),
    ("GM0402", "Hilversum", "Noord-Holland", 93000),
    ("GM0405", "Hoorn", "Noord-Holland", 74000),
    ("GM0400", "Den Helder", "Noord-Holland", 57000),
    ("GM0384", "Diemen", "Noord-Holland", 32000),
    ("GM0599", "Rotterdam", "Zuid-Holland", 664000),
    ("GM0518", "'s-Gravenhage", "Zuid-Holland", 560000),
    ("GM0546", "Leiden", "Zuid-Holland", 127000),
    ("GM0503", "Delft", "Zuid-Holland", 105000),
    ("GM0505", "Dordrecht", "Zuid-Holland", 121000),
    ("GM0637", "Zoetermeer", "Zuid-Holland", 127000),
    ("GM0513", "Gouda", "Zuid-Holland", 75000),
    ("GM0603", "Rijswijk", "Zuid-Holland", 58000),
    ("GM0687", "Middelburg", "Zeeland", 49000),
    ("GM0718", "Vlissingen", "Zeeland", 45000),
    ("GM0664", "Goes", "Zeeland", 39000),
    ("GM0715", "Terneuzen", "Zeeland", 55000),
    ("GM0654", "Borsele", "Zeeland", 23000),
    ("GM0772", "Eindhoven", "Noord-Brabant", 243000),
    ("GM0855", "Tilburg", "Noord-Brabant", 226000),
    ("GM0758", "Breda", "Noord-Brabant", 187000),
    ("GM0796", "'s-Hertogenbosch", "Noord-Brabant", 160000),
    ("GM0794", "Helmond", "Noord-Brabant", 94000),
    ("GM0828", "Oss", "Noord-Brabant", 95000),
    ("GM0748", "Bergen op Zoom", "Noord-Brabant", 68000),
    ("GM0935", "Maastricht", "Limburg", 122000),
    ("GM0917", "Heerlen", "Limburg", 87000),
    ("GM0983", "Venlo", "Limburg", 102000),
    ("GM1883", "Sittard-Geleen", "Limburg", 91000),
    ("GM0957", "Roermond", "Limburg", 59000),
    ("GM0928", "Kerkrade", "Limburg", 45000),
)

# --- reference: euro proxies per impact indicator -------------------------------------------
# Indicative orders of magnitude for a synthetic dataset; see docs/planted_effects.md.

PROXIES: tuple[tuple[str, float, str], ...] = (
    (
        "volunteer_hours",
        20.0,
        "Market value of volunteer time, about EUR 20 per hour as used nationally in the Netherlands (domain notes)",
    ),
    (
        "people_to_work",
        15000.0,
        "Indicative yearly saving on social-assistance benefits per person moved into paid work, order of magnitude used in Dutch MKBA studies of re-integration",
    ),
    (
        "youth_coached",
        1500.0,
        "Indicative value per young person coached, order of magnitude from Dutch MKBA studies of youth mentoring",
    ),
    (
        "participants_activities",
        150.0,
        "Indicative value per participant in community activities, order of magnitude from Dutch MKBA studies of neighbourhood activities",
    ),
    (
        "loneliness_contacts",
        25.0,
        "Indicative value per social contact against loneliness, replacement cost of a professional visit hour share (MKBA order of magnitude)",
    ),
    ("meals_served", 5.0, "Replacement cost of a simple hot meal (market price order of magnitude)"),
    (
        "debt_households_helped",
        3000.0,
        "Indicative social-cost saving per household helped with debts, order of magnitude from Dutch MKBA studies of debt counselling",
    ),
    ("kwh_saved", 0.25, "Approximate Dutch consumer electricity price per kWh including taxes, order of magnitude 2023"),
    ("co2_avoided", 150.0, "CO2 shadow price, order of magnitude of the central value in CE Delft Handboek Milieuprijzen 2023"),
    (
        "waste_recycled",
        0.10,
        "Indicative avoided processing cost and material value per kg of waste recycled (order of magnitude)",
    ),
)

# --- planted parameters -----------------------------------------------------------------------

PHASE_IDX = {p: i for i, p in enumerate(PHASES)}  # plan 0, start 1, growth 2, mature 3, closed 4
SRC_IDX = {s: i for i, s in enumerate(FUNDING_SOURCES)}
PUR_IDX = {p: i for i, p in enumerate(PURPOSES)}
VM_IDX = {v: i for i, v in enumerate(VALUE_MODELS)}

#: Per-year transition hazards to the next phase (constant within a phase).
TRANSITIONS = {"plan_to_start": 1.00, "start_to_growth": 0.55, "growth_to_mature": 0.09}
#: Per-year baseline closure hazards by phase (no grants received).
CLOSURE = {"plan": 0.17, "start": 0.14, "growth": 0.085, "mature": 0.055}
P_FOUNDED_IN_START = 0.30
#: Platform join delay after 2015-03-01 (exponential, years).
JOIN_DELAY_MEAN_YEARS = 1.5
APPLICATION_RATE = 1.0  # applications per year while active (Poisson)
P_WITHDRAWN = 0.015

#: Municipality random effects (PLANTED only with ``municipality_effects=True``): standard deviations of the
#: municipality's shift in approval log-odds and in log closure hazard, drawn from their own stream.
MUNICIPALITY_SD = {"approval_logit": 0.40, "log_closure_hazard": 0.35}
#: Fresh lives simulated per municipality for its true 5-year survival (own stream).
MUNICIPALITY_TRUTH_LIVES = 1000

HR_ORG = 0.60  # closure hazard ratio after a granted organisational_strengthening application
HR_MULTI = 0.70  # closure hazard ratio after a granted multi-year application

SOURCE_MIX = {  # application source by value model
    "social": {
        "government_subsidy": 0.40,
        "fund_grant": 0.30,
        "donation_crowdfunding": 0.18,
        "investor_loan": 0.03,
        "investor_equity": 0.01,
        "social_return_contract": 0.07,
        "earned_income": 0.01,
    },
    "hybrid": {
        "government_subsidy": 0.30,
        "fund_grant": 0.25,
        "donation_crowdfunding": 0.10,
        "investor_loan": 0.13,
        "investor_equity": 0.08,
        "social_return_contract": 0.12,
        "earned_income": 0.02,
    },
    "commercial": {
        "government_subsidy": 0.16,
        "fund_grant": 0.10,
        "donation_crowdfunding": 0.05,
        "investor_loan": 0.30,
        "investor_equity": 0.24,
        "social_return_contract": 0.13,
        "earned_income": 0.02,
    },
}
PURPOSE_MIX = {  # application purpose by phase at application
    "plan": {"startup": 0.60, "project": 0.30, "operations": 0.10},
    "start": {"startup": 0.40, "project": 0.35, "organisational_strengthening": 0.05, "operations": 0.15, "growth_capital": 0.05},
    "growth": {"project": 0.35, "organisational_strengthening": 0.20, "operations": 0.15, "growth_capital": 0.30},
    "mature": {"project": 0.40, "organisational_strengthening": 0.25, "operations": 0.25, "growth_capital": 0.10},
}
AMOUNT_MEDIAN = {  # median amount requested (EUR) in the start phase, and log-sd
    "government_subsidy": (15000.0, 0.8),
    "fund_grant": (10000.0, 0.9),
    "donation_crowdfunding": (5000.0, 0.8),
    "investor_loan": (90000.0, 0.9),
    "investor_equity": (140000.0, 0.9),
    "social_return_contract": (40000.0, 0.8),
    "earned_income": (20000.0, 0.8),
}
AMOUNT_PHASE_SHIFT = 0.25  # log amount per phase step
P_MULTI_YEAR = 0.20
LOG_AMOUNT_CENTRE = math.log(25000.0)

APPROVAL_SOURCE = {  # intercepts a_source (log-odds) for social, startup, start phase, EUR 25k, single year
    "government_subsidy": 0.85,
    "fund_grant": 0.75,
    "donation_crowdfunding": 1.05,
    "investor_loan": 2.30,
    "investor_equity": 2.00,
    "social_return_contract": 1.40,
    "earned_income": 2.00,
}
APPROVAL_PHASE = {"plan": -0.30, "start": 0.0, "growth": 0.20, "mature": 0.30}
APPROVAL_PURPOSE = {
    "startup": 0.0,
    "project": 0.0,
    "organisational_strengthening": -0.90,
    "operations": -0.30,
    "growth_capital": -0.20,
}
APPROVAL_LOGAMT = -0.25
APPROVAL_MULTI = -0.50
#: Value model x source cells (log-odds relative to the reference value model of the source).
APPROVAL_VM_SOURCE = {
    ("hybrid", "government_subsidy"): -0.80,
    ("commercial", "government_subsidy"): -0.40,
    ("hybrid", "investor_equity"): -0.70,
    ("hybrid", "investor_loan"): -0.70,
}

FULL_GRANT = {"intercept": 1.40, "log_amount": -0.20}  # logit P(granted in full | approved)
PARTIAL_SHARE = {"intercept": 0.50, "hybrid": -0.30, "organisational_strengthening": -0.40, "log_amount": -0.20}
PARTIAL_CONCENTRATION = 10.0  # Beta(mean*k, (1-mean)*k)

EARNED_SHARE_MEAN = {"social": 0.15, "hybrid": 0.50, "commercial": 0.85}
REVENUE_BASE = {"social": 15000.0, "hybrid": 25000.0, "commercial": 40000.0}

INVESTOR_MIX = {"impact_fund": 0.22, "bank": 0.20, "venture_capital": 0.12, "foundation": 0.16, "government": 0.14, "angel": 0.16}
INSTRUMENT_MIX = {
    "venture_capital": {"equity": 1.0},
    "angel": {"equity": 1.0},
    "impact_fund": {"equity": 0.5, "loan": 0.5},
    "bank": {"loan": 1.0},
    "government": {"loan": 0.5, "grant": 0.5},
    "foundation": {"grant": 1.0},
}
MAINSTREAM = tuple(t for t in INVESTOR_TYPES if t not in IMPACT_INVESTOR_TYPES)

VALUATION = {"intercept": 2.0, "log_revenue": 0.9, "growth": 0.8, "margin": 1.5, "earned_income_share": 0.6, "residual_sd": 0.35}
VALUATION_IMPACT_SLOPE = 0.25  # g for impact investors on log(impact_value + 1) - IMPACT_CENTRE; 0 for mainstream
IMPACT_CENTRE = math.log(50001.0)  # centre of log(impact_value + 1) in the valuation equation
VALUATION_MAINSTREAM_PENALTY = -0.20  # social and hybrid vs commercial, mainstream investors only
LOAN = {"intercept": 0.07, "z_margin": -0.01, "z_log_revenue": -0.005, "residual_sd": 0.005, "clip_low": 0.005, "clip_high": 0.2}
LOAN_IMPACT_DISCOUNT = 0.030  # 3.0 percentage points lower for impact_fund and government loans
DECISION = {"intercept": -0.30, "z_log_revenue": 0.8, "z_margin": 0.6, "z_growth": 0.4}
DECISION_IMPACT_SLOPE = 0.5  # h for impact investors on z(log(impact_value + 1))
DECISION_MAINSTREAM_HYBRID = -0.6

THEME_MIX = {
    "care_wellbeing": 0.18,
    "poverty_debt": 0.10,
    "work_participation": 0.14,
    "education_youth": 0.12,
    "sustainability_energy": 0.13,
    "food_agriculture": 0.09,
    "culture_community": 0.12,
    "housing_neighbourhood": 0.09,
    "unknown": 0.03,
}
THEME_INDICATORS = {
    "care_wellbeing": ("loneliness_contacts", "participants_activities", "volunteer_hours"),
    "poverty_debt": ("debt_households_helped", "meals_served", "volunteer_hours"),
    "work_participation": ("people_to_work", "volunteer_hours", "participants_activities"),
    "education_youth": ("youth_coached", "participants_activities", "volunteer_hours"),
    "sustainability_energy": ("kwh_saved", "co2_avoided", "waste_recycled"),
    "food_agriculture": ("meals_served", "waste_recycled", "co2_avoided"),
    "culture_community": ("participants_activities", "volunteer_hours", "loneliness_contacts"),
    "housing_neighbourhood": ("participants_activities", "volunteer_hours", "kwh_saved"),
    "unknown": ("volunteer_hours", "participants_activities"),
}
INDICATOR_SCALE = {  # typical yearly quantity of an initiative in the start phase
    "volunteer_hours": 1500.0,
    "people_to_work": 2.0,
    "youth_coached": 20.0,
    "participants_activities": 200.0,
    "loneliness_contacts": 1000.0,
    "meals_served": 5000.0,
    "debt_households_helped": 8.0,
    "kwh_saved": 60000.0,
    "co2_avoided": 60.0,
    "waste_recycled": 80000.0,
}
LEGAL_FORM_MIX = {
    "social": {
        "stichting": 0.55,
        "vereniging": 0.18,
        "informal_group": 0.10,
        "cooperatie": 0.05,
        "eenmanszaak": 0.02,
        "unknown": 0.10,
    },
    "hybrid": {
        "stichting": 0.35,
        "bv": 0.28,
        "cooperatie": 0.15,
        "vof": 0.05,
        "eenmanszaak": 0.08,
        "vereniging": 0.02,
        "unknown": 0.07,
    },
    "commercial": {
        "bv": 0.58,
        "eenmanszaak": 0.12,
        "vof": 0.08,
        "nv": 0.02,
        "cooperatie": 0.10,
        "stichting": 0.02,
        "unknown": 0.08,
    },
}
VALUE_MODEL_MIX = {"social": 0.45, "hybrid": 0.35, "commercial": 0.20}
NAME_WORDS = {
    "care_wellbeing": ("Zorgcirkel", "Huiskamer", "Samen Sterk", "Buurtzorgpunt"),
    "poverty_debt": ("Schuldmaatjes", "Voedselhulp", "Geldwijs", "Kledingbank"),
    "work_participation": ("Werkplaats", "Leerbedrijf", "Fietsfabriek", "Kansenkeuken"),
    "education_youth": ("Jongerenlab", "Huiswerkhuis", "Talentfabriek", "Speeltuin"),
    "sustainability_energy": ("Energiecooperatie", "Zonnedak", "Repair Cafe", "Groene Buurt"),
    "food_agriculture": ("Buurtkeuken", "Stadsboerderij", "Moestuin", "Voedselbos"),
    "culture_community": ("Buurthuis", "Wijktheater", "Ontmoetingsplek", "Cultuurhuis"),
    "housing_neighbourhood": ("Wijkbedrijf", "Buurtkracht", "Klushuis", "Woonhof"),
    "unknown": ("Initiatief", "Collectief", "Netwerk", "Platform"),
}
AREA_WORDS = ("Noord", "Oost", "Zuid", "West", "Centrum", "De Brug", "Het Anker", "De Kern", "Stad", "Wijk")


def _cum(mix: dict[str, float], order: tuple[str, ...]) -> tuple[list[float], list[int]]:
    keys = [k for k in order if mix.get(k, 0.0) > 0]
    probs = np.array([mix[k] for k in keys], dtype=float)
    probs = probs / probs.sum()
    cum = list(np.cumsum(probs))
    cum[-1] = 1.0
    return cum, [order.index(k) for k in keys]


def _logistic(x):
    return 1.0 / (1.0 + np.exp(-x))


# --- parameters as one object -------------------------------------------------------------------


class _Params:
    """All DGP values, with the planted effects switched off when ``effects`` is False."""

    def __init__(self, effects: bool):
        self.effects = effects
        e = 1.0 if effects else 0.0
        self.hr_org = HR_ORG if effects else 1.0
        self.hr_multi = HR_MULTI if effects else 1.0
        self.trans = [TRANSITIONS["plan_to_start"], TRANSITIONS["start_to_growth"], TRANSITIONS["growth_to_mature"], 0.0]
        self.close = [CLOSURE[p] for p in PHASES[:4]]
        self.a_source = [APPROVAL_SOURCE[s] for s in FUNDING_SOURCES]
        self.b_phase = [APPROVAL_PHASE[p] * e for p in PHASES[:4]]
        self.b_purpose = [APPROVAL_PURPOSE[p] * e for p in PURPOSES]
        self.b_logamt = APPROVAL_LOGAMT * e
        self.b_multi = APPROVAL_MULTI * e
        self.vm_source = [[APPROVAL_VM_SOURCE.get((v, s), 0.0) * e for s in FUNDING_SOURCES] for v in VALUE_MODELS]
        self.full = {"intercept": FULL_GRANT["intercept"], "log_amount": FULL_GRANT["log_amount"] * e}
        self.partial = {k: (v if k == "intercept" else v * e) for k, v in PARTIAL_SHARE.items()}
        self.src_cum = {v: _cum(SOURCE_MIX[v], FUNDING_SOURCES) for v in VALUE_MODELS}
        self.pur_cum = {p: _cum(PURPOSE_MIX[p], PURPOSES) for p in PHASES[:4]}
        self.val_g = {t: (VALUATION_IMPACT_SLOPE * e if t in IMPACT_INVESTOR_TYPES else 0.0) for t in INVESTOR_TYPES}
        self.val_penalty = VALUATION_MAINSTREAM_PENALTY * e
        self.loan_discount = LOAN_IMPACT_DISCOUNT * e
        self.dec_h = {t: (DECISION_IMPACT_SLOPE * e if t in IMPACT_INVESTOR_TYPES else 0.0) for t in INVESTOR_TYPES}
        self.dec_hybrid = DECISION_MAINSTREAM_HYBRID * e

    def approval_logit(self, vm, src, phase, pur, logamt_c, multi):
        return (
            self.a_source[src]
            + self.b_phase[phase]
            + self.b_purpose[pur]
            + self.b_logamt * logamt_c
            + self.b_multi * multi
            + self.vm_source[vm][src]
        )

    def full_logit(self, logamt_c):
        return self.full["intercept"] + self.full["log_amount"] * logamt_c

    def partial_mean(self, vm, pur, logamt_c):
        p = self.partial
        z = (
            p["intercept"]
            + p["hybrid"] * (vm == 1)
            + p["organisational_strengthening"] * (pur == PUR_IDX["organisational_strengthening"])
            + p["log_amount"] * logamt_c
        )
        return _logistic(z)


# --- the life of one initiative ----------------------------------------------------------------


def _simulate_life(
    rng: np.random.Generator,
    P: _Params,
    vm: int,
    t0: float,
    phase0: int,
    t_end: float,
    area_logit: float = 0.0,
    area_hr: float = 1.0,
):
    """Simulate phases, closure and funding applications of one initiative from ``t0`` (days).

    Continuous time; competing exponential clocks (next phase, closure, next application) with the
    closure hazard changing at the decision dates of granted organisational-strengthening and
    multi-year applications. Returns (entries [(phase, t)], closed_t or None, applications).
    ``area_logit`` and ``area_hr`` are the municipality's random effects (0 and 1: none; adding 0.0
    and multiplying by 1.0 leave every float unchanged, so the default data stays byte-identical).
    """
    t = t0
    phase = phase0
    entries = [(phase, t0)]
    hr = 1.0
    got_org = got_multi = False
    scheduled: list[tuple[float, int]] = []  # (time, kind) kind 0 = org, 1 = multi
    apps = []
    src_cum, src_idx = P.src_cum[VALUE_MODELS[vm]]
    app_rate = APPLICATION_RATE / YEAR_DAYS
    while True:
        tr = P.trans[phase] / YEAR_DAYS
        cl = P.close[phase] * hr * area_hr / YEAR_DAYS
        total = tr + cl + app_rate
        w = rng.exponential(1.0 / total)
        nxt = scheduled[0][0] if scheduled else math.inf
        if t + w >= min(nxt, t_end):
            if nxt < t_end:
                t, kind = scheduled.pop(0)
                if kind == 0 and not got_org:
                    got_org = True
                    hr *= P.hr_org
                elif kind == 1 and not got_multi:
                    got_multi = True
                    hr *= P.hr_multi
                continue
            return entries, None, apps
        t += w
        u = rng.random() * total
        if u < tr:
            phase += 1
            entries.append((phase, t))
        elif u < tr + cl:
            return entries, t, apps
        else:
            s = src_idx[bisect.bisect_left(src_cum, rng.random())]
            pcum, pidx = P.pur_cum[PHASES[phase]]
            pur = pidx[bisect.bisect_left(pcum, rng.random())]
            med, sd = AMOUNT_MEDIAN[FUNDING_SOURCES[s]]
            amount = round(math.exp(math.log(med) + AMOUNT_PHASE_SHIFT * (phase - 1) + sd * rng.standard_normal()) / 50.0) * 50.0
            amount = max(amount, 250.0)
            multi = rng.random() < P_MULTI_YEAR
            term = int(rng.integers(2, 6)) if multi else 1
            withdrawn = rng.random() < P_WITHDRAWN
            x = math.log(amount) - LOG_AMOUNT_CENTRE
            approved = rng.random() < _logistic(P.approval_logit(vm, s, phase, pur, x, multi) + area_logit)
            full = rng.random() < _logistic(P.full_logit(x))
            m = P.partial_mean(vm, pur, x)
            share = float(rng.beta(m * PARTIAL_CONCENTRATION, (1 - m) * PARTIAL_CONCENTRATION))
            t_dec = t + float(rng.integers(30, 123))
            apps.append((t, s, pur, phase, amount, multi, term, withdrawn, approved, full, share, t_dec))
            if approved and not withdrawn:
                if pur == PUR_IDX["organisational_strengthening"] and not got_org:
                    scheduled.append((t_dec, 0))
                    scheduled.sort()
                if multi and not got_multi:
                    scheduled.append((t_dec, 1))
                    scheduled.sort()


def _draw_founding(rng: np.random.Generator) -> float:
    # founding intensity rising linearly (weight 1 in 2010 to 2 in mid-2025)
    u = rng.random()
    a, b = 1.0, 2.0  # density proportional to a + (b - a) * x on [0, 1]
    x = (-a + math.sqrt(a * a + (b * b - a * a) * u)) / (b - a)
    return FOUND_START + x * (FOUND_END - FOUND_START)


# --- the generator ----------------------------------------------------------------------------


def _date(days) -> pd.Series:
    arr = np.asarray(days, dtype=float)
    out = np.full(arr.shape, np.datetime64("NaT"), dtype="datetime64[D]")
    ok = ~np.isnan(arr)
    out[ok] = EPOCH + np.floor(arr[ok]).astype(int)
    return pd.Series(out.astype("datetime64[ns]"))


def reference_municipalities() -> pd.DataFrame:
    return pd.DataFrame(MUNICIPALITIES, columns=["municipality_code", "municipality", "province", "population"])


def reference_proxies() -> pd.DataFrame:
    rows = [(ind, IMPACT_INDICATORS[ind][0], eur, src) for ind, eur, src in PROXIES]
    return (
        pd.DataFrame(rows, columns=["indicator", "unit", "euro_per_unit", "source"])
        .sort_values("indicator")
        .reset_index(drop=True)
    )


def _allocate_municipalities(rng: np.random.Generator, n: int) -> np.ndarray:
    """Counts per municipality: proportional to population with a floor per municipality."""
    pop = np.array([m[3] for m in MUNICIPALITIES], dtype=float)
    k = len(pop)
    floor = min(12, n // (2 * k))
    rest = n - floor * k
    share = pop / pop.sum() * rest
    counts = np.floor(share).astype(int)
    left = rest - counts.sum()
    order = np.argsort(-(share - counts), kind="stable")
    counts[order[:left]] += 1
    counts += floor
    labels = np.repeat(np.arange(k), counts)
    return rng.permutation(labels)


class _MunicipalityEffects:
    """Planted municipality random effects, drawn from their own stream ``default_rng([seed, 11])``.

    ``labels[k]`` is the municipality of the k-th observed initiative (fixed before the lives are
    simulated, so a life can depend on its place); ``approval_logit[m]`` and ``log_hazard[m]`` are
    municipality m's shifts, normal with the standard deviations of :data:`MUNICIPALITY_SD`.
    """

    def __init__(self, seed: int, n_initiatives: int):
        rng = np.random.default_rng([seed, 11])
        k = len(MUNICIPALITIES)
        self.labels = _allocate_municipalities(rng, n_initiatives)
        self.approval_logit = MUNICIPALITY_SD["approval_logit"] * rng.standard_normal(k)
        self.log_hazard = MUNICIPALITY_SD["log_closure_hazard"] * rng.standard_normal(k)

    def of_slot(self, slot: int) -> tuple[float, float]:
        m = self.labels[slot]
        return float(self.approval_logit[m]), float(math.exp(self.log_hazard[m]))


def generate(
    seed: int = DEFAULT_SEED, n_initiatives: int = DEFAULT_N, effects: bool = True, municipality_effects: bool = False
) -> tuple[dict[str, pd.DataFrame], dict]:
    """Generate the canonical tables and the planted truth.

    Returns ``(tables, truth)``: ``tables`` maps each canonical table name to a DataFrame with the
    schema's columns in schema order; ``truth`` holds every planted value (JSON-serialisable).
    ``effects=False`` keeps the structure but sets every planted effect to zero (hazard ratio 1).
    ``municipality_effects=True`` (with ``effects``) adds a random effect per municipality on the
    approval log-odds and the log closure hazard (docs/planted_effects.md); the truth per
    municipality is then in ``truth["municipality_effects"]``. It is off by default, so the
    embedded data stays exactly as committed.
    """
    rng = np.random.default_rng(seed)
    P = _Params(effects)
    area = _MunicipalityEffects(seed, n_initiatives) if (municipality_effects and effects) else None

    # 1. population with delayed entry: keep initiatives alive at their platform join date
    vm_cum, vm_idx = _cum(VALUE_MODEL_MIX, VALUE_MODELS)
    kept = []
    n_simulated = 0
    while len(kept) < n_initiatives:
        n_simulated += 1
        vm = vm_idx[bisect.bisect_left(vm_cum, rng.random())]
        founded = float(math.floor(_draw_founding(rng)))
        delay = rng.exponential(JOIN_DELAY_MEAN_YEARS) * YEAR_DAYS
        joined = float(max(founded, math.floor(PLATFORM_START + delay)))
        phase0 = 1 if rng.random() < P_FOUNDED_IN_START else 0
        # the candidate fills the next observed slot if it is kept, so it lives under that slot's municipality
        area_logit, area_hr = area.of_slot(len(kept)) if area is not None else (0.0, 1.0)
        entries, closed, apps = _simulate_life(rng, P, vm, founded, phase0, CUTOFF + 1.0, area_logit, area_hr)
        if joined > CUTOFF or (closed is not None and math.floor(closed) <= joined):
            continue  # closed before joining (or joined after the cut-off): never observed
        kept.append((vm, founded, joined, entries, closed, apps))

    n = len(kept)
    ids = [f"MX{i + 1:05d}" for i in range(n)]
    vms = np.array([k[0] for k in kept])
    founded = np.array([k[1] for k in kept])
    joined = np.array([k[2] for k in kept])
    closed = np.array([math.floor(k[4]) if k[4] is not None else np.nan for k in kept], dtype=float)

    # 2. initiative profiles
    theme_cum, theme_idx = _cum(THEME_MIX, THEMES)
    themes = [THEMES[theme_idx[bisect.bisect_left(theme_cum, u)]] for u in rng.random(n)]
    legal = []
    for v, u in zip(vms, rng.random(n), strict=True):
        cum, idx = _cum(LEGAL_FORM_MIX[VALUE_MODELS[v]], tuple(LEGAL_FORM_MIX[VALUE_MODELS[v]]))
        legal.append(list(LEGAL_FORM_MIX[VALUE_MODELS[v]])[idx[bisect.bisect_left(cum, u)]])
    muni = _allocate_municipalities(rng, n)
    if area is not None:
        muni = area.labels
    name_u = rng.integers(0, 4, n)
    area_u = rng.integers(0, len(AREA_WORDS), n)
    names = [
        f"{NAME_WORDS[th][a]} {AREA_WORDS[b]} {i + 1:04d}"
        for i, (th, a, b) in enumerate(zip(themes, name_u, area_u, strict=True))
    ]
    vol_mean = np.array([25.0, 10.0, 3.0])[vms]
    volunteers = rng.negative_binomial(1.5, 1.5 / (1.5 + vol_mean))
    fte_mean = np.array([0.6, 3.0, 7.0])[vms]
    fte = np.round(rng.gamma(0.8, fte_mean / 0.8) * (rng.random(n) > np.array([0.5, 0.1, 0.02])[vms]), 1)
    reach = np.round(np.exp(np.log(np.array([300.0, 250.0, 150.0])[vms]) + 1.0 * rng.standard_normal(n))).astype(int)
    # indicators per initiative (1-3 from the theme's list), fixed over the years
    n_ind = rng.integers(1, 4, n)
    indicators = []
    for th, k in zip(themes, n_ind, strict=True):
        pool = list(THEME_INDICATORS[th])
        pick = rng.permutation(len(pool))[: min(k, len(pool))]
        indicators.append([pool[j] for j in sorted(pick)])
    sdgs = [";".join(str(s) for s in sorted({IMPACT_INDICATORS[i][1] for i in inds})) for inds in indicators]

    initiatives = pd.DataFrame(
        {
            "initiative_id": ids,
            "name": names,
            "municipality_code": [MUNICIPALITIES[m][0] for m in muni],
            "municipality": [MUNICIPALITIES[m][1] for m in muni],
            "province": [MUNICIPALITIES[m][2] for m in muni],
            "legal_form": legal,
            "value_model": [VALUE_MODELS[v] for v in vms],
            "theme": themes,
            "sdgs": sdgs,
            "founded_on": _date(founded),
            "joined_on": _date(joined),
            "closed_on": _date(closed),
            "observed_until": _date(np.full(n, CUTOFF, dtype=float)),
            "volunteers": volunteers.astype(np.int64),
            "paid_staff_fte": fte.astype(float),
            "people_reached": reach.astype(np.int64),
        }
    )

    # 3. phases (entries on or before the cut-off; closure row)
    ph_rows = []
    for i, (_, f, _, entries, cl, _) in enumerate(kept):
        last = f
        for p, t in entries:
            d = max(math.floor(t), last)
            if not math.isnan(closed[i]):
                d = min(d, closed[i])
            ph_rows.append((ids[i], PHASES[p], d))
            last = d
        if cl is not None:
            ph_rows.append((ids[i], "closed", closed[i]))
    phases = pd.DataFrame(ph_rows, columns=["initiative_id", "phase", "entered_on"])
    phases["entered_on"] = _date(phases["entered_on"].to_numpy(float))

    # 4. funding applications (history from joined_on - 2 years, not before founding)
    f_rows = []
    for i, (_, f, j, _, _, apps) in enumerate(kept):
        lower = max(f, j - 2 * 365)
        for t, s, pur, ph, amount, multi, term, withdrawn, approved, full, share, t_dec in apps:
            ta = math.floor(t)
            if ta < lower or ta > CUTOFF:
                continue
            td = math.floor(t_dec)
            if withdrawn or (not math.isnan(closed[i]) and td > closed[i]):
                status, dec, granted = "withdrawn", np.nan, np.nan
            elif td > CUTOFF:
                status, dec, granted = "pending", np.nan, np.nan
            elif not approved:
                status, dec, granted = "rejected", td, 0.0
            elif full:
                status, dec, granted = "granted", td, amount
            else:
                sh = min(max(share, 0.01), 0.99)
                status, dec, granted = "partial", td, round(amount * sh, 2)
            f_rows.append(
                (ids[i], FUNDING_SOURCES[s], PURPOSES[pur], ta, dec, amount, granted, status, bool(multi), term, PHASES[ph])
            )
    funding = pd.DataFrame(
        f_rows,
        columns=[
            "initiative_id",
            "source",
            "purpose",
            "applied_on",
            "decided_on",
            "amount_requested",
            "amount_granted",
            "status",
            "multi_year",
            "term_years",
            "phase_at_application",
        ],
    )
    funding = funding.sort_values(
        ["initiative_id", "applied_on", "source", "purpose", "amount_requested"], kind="stable"
    ).reset_index(drop=True)
    funding.insert(0, "funding_id", [f"F{i + 1:06d}" for i in range(len(funding))])
    funding["applied_on"] = _date(funding["applied_on"].to_numpy(float))
    funding["decided_on"] = _date(funding["decided_on"].to_numpy(float))
    funding["multi_year"] = funding["multi_year"].astype(bool)
    funding["term_years"] = funding["term_years"].astype(np.int64)

    # 5. financials and impact per initiative-year
    proxies = reference_proxies()
    euro = dict(zip(proxies["indicator"], proxies["euro_per_unit"], strict=True))
    fin_rows, imp_rows = [], []
    base = np.exp(np.log(np.array([REVENUE_BASE[v] for v in VALUE_MODELS]))[vms] + 0.7 * rng.standard_normal(n))
    es_mean = np.array([EARNED_SHARE_MEAN[v] for v in VALUE_MODELS])[vms]
    es_i = rng.beta(es_mean * 12, (1 - es_mean) * 12)
    split = rng.dirichlet([4.5, 3.5, 2.0], size=n)
    cost_i = 1.0 + 0.03 * rng.standard_normal(n)
    size_i = np.exp(0.8 * rng.standard_normal(n))
    for i, (_, f, j, entries, _, _) in enumerate(kept):
        fy = int(str(EPOCH + int(f))[:4])
        jy = int(str(EPOCH + int(j))[:4])
        end_day = closed[i] if not math.isnan(closed[i]) else CUTOFF
        ly = min(int(str(EPOCH + int(end_day))[:4]), LAST_FIN_YEAR)
        times = [t for _, t in entries]
        for y in range(max(fy, jy - 1), ly + 1):
            mid = min(float(_day(f"{y}-07-01")), end_day)
            pidx = entries[bisect.bisect_right(times, mid) - 1][0] if mid >= times[0] else entries[0][0]
            pidx = min(pidx, 3)
            age = max((mid - f) / YEAR_DAYS, 0.0)
            lrev = math.log(base[i]) + 0.35 * pidx + 0.12 * min(age, 8.0) + 0.15 * rng.standard_normal()
            rev = math.exp(lrev)
            es = _logistic(math.log(es_i[i] / (1 - es_i[i])) + 0.3 * rng.standard_normal())
            earned = round(rev * es, 2)
            other = rev - earned
            subs = round(other * split[i, 0], 2)
            grants = round(other * split[i, 1], 2)
            don = round(other * split[i, 2], 2)
            revenue = round(earned + subs + grants + don, 2)
            ratio = min(max(cost_i[i] - 0.01 * pidx + 0.04 * rng.standard_normal(), 0.85), 1.15)
            fin_rows.append((ids[i], y, revenue, earned, subs, grants, don, round(revenue * ratio, 2)))
            if y >= jy:
                for ind in indicators[i]:
                    q = INDICATOR_SCALE[ind] * size_i[i] * math.exp(0.3 * (pidx - 1) + 0.2 * rng.standard_normal())
                    imp_rows.append((ids[i], y, ind, IMPACT_INDICATORS[ind][1], round(q, 2), IMPACT_INDICATORS[ind][0]))
    financials = pd.DataFrame(
        fin_rows, columns=["initiative_id", "year", "revenue", "earned_income", "subsidies", "grants", "donations", "costs"]
    )
    impact = pd.DataFrame(imp_rows, columns=["initiative_id", "year", "indicator", "sdg", "quantity", "unit"])
    financials["year"] = financials["year"].astype(np.int64)
    impact["year"] = impact["year"].astype(np.int64)
    impact["sdg"] = impact["sdg"].astype(np.int64)

    # 6. assessments
    assessments, z_stats = _assessments(rng, P, kept, ids, vms, closed, financials, impact, euro, target=round(1.2 * n))

    tables = {
        "initiatives": initiatives,
        "phases": phases,
        "funding": funding,
        "financials": financials,
        "impact": impact,
        "proxies": proxies,
        "assessments": assessments,
    }
    tables = {name: _conform(name, df) for name, df in tables.items()}
    truth = _truth(seed, P, tables, n_simulated, z_stats)
    if area is not None:
        truth["municipality_effects"] = _municipality_truth(seed, P, tables, area)
    return tables, truth


def _municipality_truth(seed: int, P: _Params, tables: dict[str, pd.DataFrame], area: _MunicipalityEffects) -> dict:
    """Per municipality: the planted shifts and what they imply for approval, coverage and 5-year survival.

    Approval and coverage are exact expectations over the municipality's decided applications in the
    data (as ``derived.coverage``, with the municipality's shift); 5-year survival from founding is
    the share of :data:`MUNICIPALITY_TRUTH_LIVES` fresh lives simulated under its effects (own stream).
    """
    d = tables["funding"][tables["funding"]["status"].isin(("granted", "partial", "rejected"))]
    d = d.merge(tables["initiatives"][["initiative_id", "value_model", "municipality_code"]], on="initiative_id")
    index = {m[0]: i for i, m in enumerate(MUNICIPALITIES)}
    mi = d["municipality_code"].map(index).to_numpy()
    vm = d["value_model"].map(VM_IDX).to_numpy()
    src = d["source"].map(SRC_IDX).to_numpy()
    ph = d["phase_at_application"].map(PHASE_IDX).to_numpy()
    pur = d["purpose"].map(PUR_IDX).to_numpy()
    x = np.log(d["amount_requested"].to_numpy()) - LOG_AMOUNT_CENTRE
    eta = (
        np.array(P.a_source)[src]
        + np.array(P.b_phase)[ph]
        + np.array(P.b_purpose)[pur]
        + P.b_logamt * x
        + P.b_multi * d["multi_year"].to_numpy().astype(float)
        + np.array(P.vm_source)[vm, src]
        + area.approval_logit[mi]
    )
    p_app = _logistic(eta)
    p_full = _logistic(P.full_logit(x))
    e_money = p_app * (p_full + (1 - p_full) * P.partial_mean(vm, pur, x)) * d["amount_requested"].to_numpy()
    frame = pd.DataFrame({"m": mi, "p_app": p_app, "e_money": e_money, "requested": d["amount_requested"].to_numpy()})
    by = frame.groupby("m").agg(p_app=("p_app", "mean"), e_money=("e_money", "sum"), requested=("requested", "sum"))
    rng = np.random.default_rng([seed, 11, 1])
    vm_cum, vm_idx = _cum(VALUE_MODEL_MIX, VALUE_MODELS)
    horizon = 5 * YEAR_DAYS
    out = {}
    for m, (code, name, province, _) in enumerate(MUNICIPALITIES):
        hr = math.exp(area.log_hazard[m])
        alive = 0
        for _ in range(MUNICIPALITY_TRUTH_LIVES):
            v = vm_idx[bisect.bisect_left(vm_cum, rng.random())]
            phase0 = 1 if rng.random() < P_FOUNDED_IN_START else 0
            _, cl, _ = _simulate_life(rng, P, v, 0.0, phase0, horizon + 1.0, float(area.approval_logit[m]), hr)
            alive += cl is None or cl > horizon
        row = by.loc[m] if m in by.index else None
        out[code] = {
            "municipality": name,
            "province": province,
            "approval_logit_shift": round(float(area.approval_logit[m]), 6),
            "closure_hazard_ratio": round(hr, 6),
            "expected_approval_rate": None if row is None else round(float(row["p_app"]), 6),
            "expected_coverage": None if row is None else round(float(row["e_money"] / row["requested"]), 6),
            "survival_5y": round(alive / MUNICIPALITY_TRUTH_LIVES, 6),
        }
    return {
        "sd": dict(MUNICIPALITY_SD),
        "lives_per_municipality": MUNICIPALITY_TRUTH_LIVES,
        "how": (
            "approval_logit_shift is added to the approval log-odds and closure_hazard_ratio multiplies the closure "
            "hazard of every initiative in the municipality; expected_approval_rate and expected_coverage are exact "
            "expectations over its decided applications in the data; survival_5y is the share of fresh lives from "
            "founding alive after 5 years under its effects (Monte Carlo, own stream)."
        ),
        "by_municipality": out,
    }


def _assessments(rng, P: _Params, kept, ids, vms, closed, financials, impact, euro, target: int):
    fin = financials.set_index(["initiative_id", "year"])
    imp = (
        impact.assign(value=impact["quantity"] * impact["indicator"].map(euro)).groupby(["initiative_id", "year"])["value"].sum()
    )
    # eligible initiative-years: growth or mature, after joining, with this and last year's financials
    elig = []
    for i, (_, _, j, entries, _, _) in enumerate(kept):
        g_entry = next((t for p, t in entries if p >= 2), None)
        if g_entry is None:
            continue
        lo_all = max(math.floor(g_entry), j)
        hi_all = (closed[i] - 1) if not math.isnan(closed[i]) else CUTOFF
        for y in range(int(str(EPOCH + int(lo_all))[:4]), LAST_FIN_YEAR + 1):
            lo = max(lo_all, _day(f"{y}-01-01"))
            hi = min(hi_all, _day(f"{y}-12-31"))
            if lo > hi or (ids[i], y) not in fin.index or (ids[i], y - 1) not in fin.index or (ids[i], y) not in imp.index:
                continue
            elig.append((i, y, lo, hi))
    lam = target / max(len(elig), 1)
    counts = rng.poisson(lam, len(elig))
    inv_cum, inv_idx = _cum(INVESTOR_MIX, INVESTOR_TYPES)
    rows = []
    for (i, y, lo, hi), c in zip(elig, counts, strict=True):
        for _ in range(int(c)):
            d = int(rng.integers(lo, hi + 1))
            inv = INVESTOR_TYPES[inv_idx[bisect.bisect_left(inv_cum, rng.random())]]
            mix = INSTRUMENT_MIX[inv]
            u = rng.random()
            acc = 0.0
            instr = list(mix)[-1]
            for k, pr in mix.items():
                acc += pr
                if u < acc:
                    instr = k
                    break
            r = fin.loc[(ids[i], y)]
            r0 = fin.loc[(ids[i], y - 1)]
            rows.append(
                (
                    ids[i],
                    i,
                    inv,
                    instr,
                    d,
                    float(r["revenue"]),
                    float(r0["revenue"]),
                    float(r["costs"]),
                    float(r["earned_income"]),
                    float(imp.loc[(ids[i], y)]),
                )
            )
    a = pd.DataFrame(
        rows,
        columns=[
            "initiative_id",
            "i",
            "investor_type",
            "instrument",
            "assessed_on",
            "rev",
            "rev0",
            "costs",
            "earned",
            "impact_value",
        ],
    )
    a = a.sort_values(["initiative_id", "assessed_on", "investor_type", "instrument"], kind="stable").reset_index(drop=True)
    m = len(a)
    a["log_revenue"] = np.log(a["rev"])
    a["growth"] = a["rev"] / a["rev0"] - 1.0
    a["margin"] = (a["rev"] - a["costs"]) / a["rev"]
    a["earned_income_share"] = a["earned"] / a["rev"]
    a["log_impact"] = np.log(a["impact_value"] + 1.0)
    stats = {c: (float(a[c].mean()), float(a[c].std(ddof=0))) for c in ("log_revenue", "margin", "growth", "log_impact")}

    def z(c):
        mu, sd = stats[c]
        return (a[c] - mu) / sd

    impact_inv = a["investor_type"].isin(IMPACT_INVESTOR_TYPES).to_numpy()
    mainstream = ~impact_inv
    vm = vms[a["i"].to_numpy()]
    hybrid = vm == VM_IDX["hybrid"]
    not_commercial = vm != VM_IDX["commercial"]
    h = a["investor_type"].map(P.dec_h).to_numpy()
    eta = (
        DECISION["intercept"]
        + DECISION["z_log_revenue"] * z("log_revenue")
        + DECISION["z_margin"] * z("margin")
        + DECISION["z_growth"] * z("growth")
        + h * z("log_impact")
        + P.dec_hybrid * (hybrid & mainstream)
    )
    accepted = rng.random(m) < _logistic(eta.to_numpy())
    e_val = rng.standard_normal(m)
    e_rate = rng.standard_normal(m)
    e_amt = rng.standard_normal(m)
    g = a["investor_type"].map(P.val_g).to_numpy()
    log_val = (
        VALUATION["intercept"]
        + VALUATION["log_revenue"] * a["log_revenue"]
        + VALUATION["growth"] * a["growth"]
        + VALUATION["margin"] * a["margin"]
        + VALUATION["earned_income_share"] * a["earned_income_share"]
        + g * (a["log_impact"] - IMPACT_CENTRE)
        + P.val_penalty * (not_commercial & mainstream)
        + VALUATION["residual_sd"] * e_val
    )
    rate = (
        LOAN["intercept"]
        + LOAN["z_margin"] * z("margin")
        + LOAN["z_log_revenue"] * z("log_revenue")
        + LOAN["residual_sd"] * e_rate
        - P.loan_discount * impact_inv
    )
    rate = rate.clip(LOAN["clip_low"], LOAN["clip_high"])
    frac = np.where(a["instrument"] == "grant", 0.15, np.where(a["instrument"] == "loan", 0.5, 0.6))
    offered = np.round(np.round(a["rev"] * frac * np.exp(0.5 * e_amt) / 100.0) * 100.0, 2)
    offered = np.maximum(offered, 500.0)
    equity = (a["instrument"] == "equity").to_numpy()
    loan = (a["instrument"] == "loan").to_numpy()
    out = pd.DataFrame(
        {
            "assessment_id": [f"A{k + 1:05d}" for k in range(m)],
            "initiative_id": a["initiative_id"],
            "investor_type": a["investor_type"],
            "instrument": a["instrument"],
            "assessed_on": _date(a["assessed_on"].to_numpy(float)),
            "decision": np.where(accepted, "accepted", "declined"),
            "amount_offered": np.where(accepted, offered, 0.0),
            "valuation": np.where(accepted & equity, np.round(np.exp(log_val.to_numpy()), 2), np.nan),
            "interest_rate": np.where(accepted & loan, np.round(rate.to_numpy(), 4), np.nan),
        }
    )
    return out, stats


def _conform(name: str, df: pd.DataFrame) -> pd.DataFrame:
    schema = TABLES[name]
    cols = [c for c in schema.column_names if c in df.columns]
    missing = [c for c in schema.column_names if c not in df.columns and c != "phase_at_application"]
    if missing:
        raise AssertionError(f"{name}: generator lacks columns {missing}")
    out = df[cols].sort_values(list(schema.key), kind="stable").reset_index(drop=True)
    return out


# --- truth ---------------------------------------------------------------------------------------


def _coverage_expectations(P: _Params, funding: pd.DataFrame, initiatives: pd.DataFrame) -> dict:
    """Expected share granted E[granted/requested | covariates] averaged over the decided applications.

    Closed form (exact, no Monte Carlo noise): P(approved) * (P(full) + (1 - P(full)) * mean partial share).
    """
    d = funding[funding["status"].isin(("granted", "partial", "rejected"))].merge(
        initiatives[["initiative_id", "value_model"]], on="initiative_id"
    )
    vm = d["value_model"].map(VM_IDX).to_numpy()
    src = d["source"].map(SRC_IDX).to_numpy()
    ph = d["phase_at_application"].map(PHASE_IDX).to_numpy()
    pur = d["purpose"].map(PUR_IDX).to_numpy()
    x = np.log(d["amount_requested"].to_numpy()) - LOG_AMOUNT_CENTRE
    multi = d["multi_year"].to_numpy().astype(float)
    eta = (
        np.array(P.a_source)[src]
        + np.array(P.b_phase)[ph]
        + np.array(P.b_purpose)[pur]
        + P.b_logamt * x
        + P.b_multi * multi
        + np.array(P.vm_source)[vm, src]
    )
    p_app = _logistic(eta)
    p_full = _logistic(P.full_logit(x))
    mpart = P.partial_mean(vm, pur, x)
    e_share = p_app * (p_full + (1 - p_full) * mpart)
    amt = d["amount_requested"].to_numpy()
    d = d.assign(e_share=e_share, p_app=p_app, e_money=e_share * amt)
    return {
        "expected_approval_rate": round(float(p_app.mean()), 4),
        "expected_mean_share": round(float(e_share.mean()), 4),
        "expected_money_coverage": round(float(d["e_money"].sum() / amt.sum()), 4),
        "expected_mean_share_by_purpose": {k: round(float(v), 4) for k, v in d.groupby("purpose")["e_share"].mean().items()},
        "expected_mean_share_by_value_model": {
            k: round(float(v), 4) for k, v in d.groupby("value_model")["e_share"].mean().items()
        },
        "expected_approval_by_value_model_and_source": {
            f"{v}|{s}": round(float(g), 4) for (v, s), g in d.groupby(["value_model", "source"])["p_app"].mean().items()
        },
    }


def _derived_by_simulation(seed: int, P: _Params, n_lives: int = 20000) -> dict:
    """Survival and competing-risk probabilities from fresh lives of the full DGP (own random stream)."""
    rng = np.random.default_rng([seed, 7])
    vm_cum, vm_idx = _cum(VALUE_MODEL_MIX, VALUE_MODELS)
    horizon = 15 * YEAR_DAYS
    alive = {1: 0, 3: 0, 5: 0}
    n_start = grow3 = close3 = 0
    for _ in range(n_lives):
        vm = vm_idx[bisect.bisect_left(vm_cum, rng.random())]
        phase0 = 1 if rng.random() < P_FOUNDED_IN_START else 0
        entries, cl, _ = _simulate_life(rng, P, vm, 0.0, phase0, horizon)
        end = cl if cl is not None else math.inf
        for k in alive:
            alive[k] += end > k * YEAR_DAYS
        t_start = next((t for p, t in entries if p == 1), None)
        if t_start is not None and t_start <= horizon - 3 * YEAR_DAYS:
            n_start += 1
            t_growth = next((t for p, t in entries if p == 2), math.inf)
            if t_growth <= t_start + 3 * YEAR_DAYS and t_growth < end:
                grow3 += 1
            elif end <= t_start + 3 * YEAR_DAYS and end < t_growth:
                close3 += 1
    return {
        "survival_1y": round(alive[1] / n_lives, 4),
        "survival_3y": round(alive[3] / n_lives, 4),
        "survival_5y": round(alive[5] / n_lives, 4),
        "p_growth_within_3y_of_start": round(grow3 / max(n_start, 1), 4),
        "p_close_before_growth_within_3y_of_start": round(close3 / max(n_start, 1), 4),
        "n_lives_simulated": n_lives,
    }


def _truth(seed: int, P: _Params, tables: dict[str, pd.DataFrame], n_simulated: int, z_stats: dict) -> dict:
    lam, mu = P.trans[1], P.close[1]
    cf = lam + mu
    derived = _derived_by_simulation(seed, P)
    derived.update(
        {
            "p_growth_within_3y_of_start_closed_form_no_funding": round(lam / cf * (1 - math.exp(-3 * cf)), 4),
            "p_close_before_growth_within_3y_of_start_closed_form_no_funding": round(mu / cf * (1 - math.exp(-3 * cf)), 4),
        }
    )
    cov = _coverage_expectations(P, tables["funding"], tables["initiatives"])
    derived["coverage_overall"] = cov["expected_money_coverage"]
    derived["coverage"] = cov
    derived["how"] = (
        "survival_* and p_*_of_start: share of fresh lives simulated from founding with the full DGP "
        "(funding effects included), own random stream; *_closed_form_no_funding: competing exponentials "
        "lambda/(lambda+mu)*(1-exp(-3(lambda+mu))) with start-phase hazards and no grants; coverage: exact "
        "expectation E[granted/requested] over the decided applications in the data (money-weighted for coverage_overall)."
    )
    eff = P.effects
    return {
        "synthetic": True,
        "seed": seed,
        "effects": eff,
        "n_population_simulated": n_simulated,
        "time_unit": "per year (hazards)",
        "transitions": {"plan_to_start": P.trans[0], "start_to_growth": P.trans[1], "growth_to_mature": P.trans[2]},
        "closure_hazard": {p: P.close[i] for i, p in enumerate(PHASES[:4])},
        "closure_hazard_ratio": {
            "organisational_strengthening_received": P.hr_org,
            "multi_year_received": P.hr_multi,
            "value_model": {"social": 1.0, "hybrid": 1.0, "commercial": 1.0},
        },
        "approval_logit": {
            "intercept_by_source": dict(zip(FUNDING_SOURCES, P.a_source, strict=True)),
            "phase": dict(zip(PHASES[:4], P.b_phase, strict=True)),
            "purpose": dict(zip(PURPOSES, P.b_purpose, strict=True)),
            "log_amount_minus_log_25000": P.b_logamt,
            "multi_year": P.b_multi,
            "value_model_x_source": {
                f"{v}|{s}": P.vm_source[vi][si] for vi, v in enumerate(VALUE_MODELS) for si, s in enumerate(FUNDING_SOURCES)
            },
            "hybrid_x_government_subsidy": P.vm_source[1][SRC_IDX["government_subsidy"]],
            "commercial_x_government_subsidy": P.vm_source[2][SRC_IDX["government_subsidy"]],
            "hybrid_x_investor": P.vm_source[1][SRC_IDX["investor_equity"]],
            "reference": "social, startup, start phase, EUR 25,000, single-year; hybrid_x_investor is hybrid vs commercial (social cells 0)",
        },
        "coverage_model": {
            "full_grant_logit": dict(P.full),
            "partial_share_mean_logit": dict(P.partial),
            "partial_share_beta_concentration": PARTIAL_CONCENTRATION,
        },
        "valuation": {
            **{k: v for k, v in VALUATION.items()},
            "impact_slope_by_investor": dict(P.val_g),
            "impact_term": "g * (log(impact_value + 1) - impact_centre_log)",
            "impact_centre_log": IMPACT_CENTRE,
            "mainstream_penalty_social_hybrid_vs_commercial": P.val_penalty,
            "applies_to": "equity, accepted; covariates from financials of the assessment year (growth vs year before) and impact value of that year",
        },
        "loan_rate": {
            **{k: v for k, v in LOAN.items()},
            "impact_investor_discount_pp": round(P.loan_discount * 100, 4),
            "impact_investors": ["impact_fund", "government"],
            "z_standardisation": {k: list(z_stats[k]) for k in ("margin", "log_revenue")},
        },
        "decision_logit": {
            **{k: v for k, v in DECISION.items()},
            "impact_slope_by_investor": dict(P.dec_h),
            "mainstream_hybrid": P.dec_hybrid,
            "z_standardisation": {k: list(v) for k, v in z_stats.items()},
        },
        "derived": derived,
    }


# --- writing ---------------------------------------------------------------------------------

MONEY = {
    "funding": ("amount_requested", "amount_granted"),
    "financials": ("revenue", "earned_income", "subsidies", "grants", "donations", "costs"),
    "assessments": ("amount_offered", "valuation"),
    "proxies": ("euro_per_unit",),
    "impact": ("quantity",),
    "initiatives": ("paid_staff_fte",),
}
RATES = {"assessments": ("interest_rate",)}


def _csv_bytes(name: str, df: pd.DataFrame) -> bytes:
    out = df.copy()
    for c in MONEY.get(name, ()):
        out[c] = out[c].round(2)
    for c in RATES.get(name, ()):
        out[c] = out[c].round(4)
    return table_to_csv_bytes(out.sort_values(list(TABLES[name].key), kind="stable"))


def write_reference(ref_dir: Path | str = REFERENCE_DIR) -> None:
    """Write ``municipalities.csv`` and ``proxies.csv`` into the reference folder."""
    ref_dir = Path(ref_dir)
    atomic_write_bytes(
        ref_dir / "municipalities.csv", reference_municipalities().to_csv(index=False, lineterminator="\n").encode("utf-8")
    )
    atomic_write_bytes(ref_dir / "proxies.csv", reference_proxies().to_csv(index=False, lineterminator="\n").encode("utf-8"))


def write_embedded(
    out_dir: Path | str,
    seed: int = DEFAULT_SEED,
    n_initiatives: int = DEFAULT_N,
    effects: bool = True,
    municipality_effects: bool = False,
) -> Path:
    """Generate and write the dataset folder: one CSV per table, dataset.json, planted_effects.json."""
    out_dir = Path(out_dir)
    tables, truth = generate(seed=seed, n_initiatives=n_initiatives, effects=effects, municipality_effects=municipality_effects)
    for name, df in tables.items():
        atomic_write_bytes(out_dir / f"{name}.csv", _csv_bytes(name, df))
    meta = {
        "synthetic": True,
        "generator": "maexlab.data.synth",
        "seed": seed,
        "n_initiatives": n_initiatives,
        "effects": effects,
        **({"municipality_effects": True} if municipality_effects and effects else {}),
        "tables": sorted(tables),
        "description": (
            "SYNTHETIC data generated by maexlab.data.synth with planted effects (see docs/planted_effects.md). "
            "It describes no real initiative; figures illustrate the methods, not the sector."
        ),
    }
    atomic_write_bytes(
        out_dir / "dataset.json", (json.dumps(meta, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode("utf-8")
    )
    atomic_write_bytes(out_dir / "planted_effects.json", (json.dumps(truth, indent=2, sort_keys=True) + "\n").encode("utf-8"))
    return out_dir


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m maexlab.data.synth", description="Generate the SYNTHETIC embedded dataset.")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--out", default=str(REPO / "data" / "embedded"))
    parser.add_argument("--n", type=int, default=DEFAULT_N, help="number of initiatives in the data")
    parser.add_argument("--no-effects", action="store_true", help="set every planted effect to zero")
    parser.add_argument(
        "--municipality-effects", action="store_true", help="plant a random effect per municipality (approval, closure hazard)"
    )
    parser.add_argument(
        "--reference", action="store_true", help="also (re)write data/reference/municipalities.csv and proxies.csv"
    )
    args = parser.parse_args(argv)
    if args.reference:
        write_reference()
    out = write_embedded(
        args.out,
        seed=args.seed,
        n_initiatives=args.n,
        effects=not args.no_effects,
        municipality_effects=args.municipality_effects,
    )
    print(f"wrote SYNTHETIC dataset to {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
