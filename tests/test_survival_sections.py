"""The continuity sections on degenerate data, and regression tests for the defects of issue 12.

Each variant is a small generated dataset with one thing taken away (closures, follow-up, the
growth phase, joined_on, ...). Every section must complete, show no traceback, raw warning or NaN,
and every undecided verdict must carry its reason.
"""

from __future__ import annotations

import re
import warnings

import matplotlib
import numpy as np
import pandas as pd
import pytest

matplotlib.use("Agg")

from maexlab import survival as sv  # noqa: E402
from maexlab.data import synth  # noqa: E402
from maexlab.data.loader import MaexData  # noqa: E402
from maexlab.reporting.report import Report  # noqa: E402
from maexlab.survival import multistate as ms  # noqa: E402
from maexlab.survival import sections  # noqa: E402

N = 400
NAN = re.compile(r"\b(nan|NaN|<NA>|NaT|inf)\b")


@pytest.fixture(scope="module")
def tables() -> dict[str, pd.DataFrame]:
    return synth.generate(seed=7, n_initiatives=N)[0]


def _data(tables, **metadata) -> MaexData:
    return MaexData(
        {k: (None if v is None else v.copy()) for k, v in tables.items()}, source="test", synthetic=True, metadata=metadata
    )


def _variant(tables, name: str) -> MaexData:
    t = {k: v.copy() for k, v in tables.items()}
    ini = t["initiatives"]
    if name == "no_closures":
        ini["closed_on"] = pd.NaT
        t["phases"] = t["phases"][t["phases"]["phase"] != "closed"]
    elif name == "one_register_year":
        # a one-year register without closures: everyone seen from joining for under a year
        ini["closed_on"] = pd.NaT
        ini["founded_on"] = ini["joined_on"] - pd.Timedelta(days=30)
        ini["observed_until"] = ini["joined_on"] + pd.Timedelta(days=300)
        t["phases"] = None
    elif name == "short_follow_up":
        # under one year of follow-up since founding: observed from founding for 300 days
        ini["joined_on"] = ini["founded_on"]
        ini["observed_until"] = ini["founded_on"] + pd.Timedelta(days=300)
        ini.loc[ini["closed_on"] > ini["observed_until"], "closed_on"] = pd.NaT
        until = ini.set_index("initiative_id")["observed_until"]
        t["phases"] = t["phases"][t["phases"]["entered_on"] <= t["phases"]["initiative_id"].map(until)]
        t["funding"] = t["funding"][t["funding"]["applied_on"] <= t["funding"]["initiative_id"].map(until)]
        decided_late = t["funding"]["decided_on"] > t["funding"]["initiative_id"].map(until)
        t["funding"] = t["funding"][~decided_late]
        t["financials"] = t["financials"][t["financials"]["year"] <= t["financials"]["initiative_id"].map(until).dt.year]
    elif name == "no_growth":
        t["phases"] = t["phases"][~t["phases"]["phase"].isin(["growth", "mature"])]
    elif name == "no_joined_on":
        t["initiatives"] = ini.drop(columns="joined_on")
    elif name == "one_municipality":
        code = ini["municipality_code"].mode().iloc[0]
        keep = ini["municipality_code"] == code
        t = {
            k: (v[v["initiative_id"].isin(ini.loc[keep, "initiative_id"])] if v is not None and "initiative_id" in v else v)
            for k, v in t.items()
        }
    elif name == "five_initiatives":
        ids = ini["initiative_id"].iloc[:5]
        t = {k: (v[v["initiative_id"].isin(ids)] if v is not None and "initiative_id" in v else v) for k, v in t.items()}
    elif name == "initiatives_only":
        t = {k: (v if k == "initiatives" else None) for k, v in t.items()}
    elif name == "funding_only":
        t = {k: (v if k == "funding" else None) for k, v in t.items()}
    elif name == "multi_year_empty":
        t["funding"]["multi_year"] = pd.NA
    return MaexData(t, source=f"variant {name}", synthetic=True)


def _run(data: MaexData, tmp_path, language: str = "en") -> tuple[Report, str, list]:
    from IPython.core.interactiveshell import InteractiveShell
    from IPython.utils.capture import capture_output

    InteractiveShell.instance()
    report = Report("03_continuity", data, tmp_path, {"province": None}, 10, 1, language)
    for sub in ("figures", "tables"):
        (tmp_path / sub).mkdir(exist_ok=True)
    with warnings.catch_warnings(record=True) as caught, capture_output() as captured:
        warnings.simplefilter("always")
        report.intro()
        report.findings_placeholder()
        results = [section(report) for section in sections.SECTIONS]
        report.finish()
    text = "\n".join(o.data.get("text/plain", "") for o in captured.outputs) + captured.stdout + captured.stderr
    assert not [str(w.message) for w in caught if not issubclass(w.category, DeprecationWarning)], "raw warnings"
    return report, text, results


VARIANTS = (
    "no_closures",
    "one_register_year",
    "short_follow_up",
    "no_growth",
    "no_joined_on",
    "one_municipality",
    "five_initiatives",
    "initiatives_only",
    "funding_only",
    "multi_year_empty",
)


@pytest.mark.parametrize("name", VARIANTS)
def test_every_section_completes_on_degenerate_data(tables, tmp_path, name):
    report, text, results = _run(_variant(tables, name), tmp_path)
    assert "Traceback" not in text and not NAN.search(text), text[-2000:]
    verdicts = list(report.results["verdicts"].values())
    assert len(verdicts) == len(sv.CLAIMS)
    for v in verdicts:
        if v["verdict"] in ("inconclusive", "not_testable"):
            assert v["reasons"], v
    if name in ("no_closures", "one_register_year", "five_initiatives", "funding_only", "short_follow_up"):
        assert report.results["verdicts"]["survival.claims.cbs"]["verdict"] == "not_testable"
        assert "survival.headline_surv_5y" not in report.results["headline"]


def test_one_year_register_without_closures_says_what_it_cannot_compute(tables, tmp_path):
    """Regression: KeyError 'surv_5y' on a one-year register with no closures."""
    report, text, _ = _run(_variant(tables, "one_register_year"), tmp_path)
    assert "Not computed: Kaplan-Meier survival" in text and "no initiative closed" in text
    assert "5-year survival could not be computed" in text
    assert "Kaplan-Meier survival" in str(report.results["not_computed"])


def test_short_follow_up_names_the_horizon(tables, tmp_path):
    report, text, _ = _run(_variant(tables, "short_follow_up"), tmp_path)
    reasons = report.results["verdicts"]["survival.claims.cbs"]["reasons"]
    assert reasons[0]["key"] == "survival.reasons.short_follow_up" and reasons[0]["horizon"] == 5.0
    assert "needs 5 years of follow-up" in text


def test_no_growth_phase_is_not_testable_never_zero_percent(tables, tmp_path):
    """Regression: 'few move on: supported' with P(growth within 3 y) = 0% [0%, 0%] when growth is never recorded."""
    report, text, _ = _run(_variant(tables, "no_growth"), tmp_path)
    v = report.results["verdicts"]["survival.claims.few_move_on"]
    assert v["verdict"] == "not_testable" and v["estimate"] is None
    assert v["reasons"][0]["key"] == "survival.reasons.phase_never_recorded"
    assert "survival.headline_p_growth" not in report.results["headline"]
    assert "the growth phase is never recorded" in text and "0% (0-0%)" not in text
    cr = ms.competing_risks_from_start(ms.sojourns(report.data.initiatives, report.data.phases), n_boot=5)
    assert sv.verdict_few_move_on(cr, phases_recorded={"plan", "start"}).verdict == "not_testable"


def test_no_joined_on_claims_no_delayed_entry_correction(tables, tmp_path):
    """Regression: '0 (0%) joined after founding (median delay nan years)', 'with delayed entry (correct)'."""
    data = _variant(tables, "no_joined_on")
    report, text, _ = _run(data, tmp_path)
    assert "no delayed-entry correction is applied" in text
    assert "joined the platform after founding" not in text and "with delayed entry" not in text
    assert "delayed_entry_bias" not in report.results
    d = sv.durations(data.initiatives)
    fig = sv.plot_km(d, min_group_size=10, delayed_entry=False)
    assert "delayed entry" not in fig.axes[0].get_title()
    assert "delayed entry" in sv.plot_km(d, min_group_size=10).axes[0].get_title()


def test_outcome_selected_sample_is_named_beside_the_estimates(tables, tmp_path):
    report, text, _ = _run(_data(tables, sampling="outcome-selected"), tmp_path)
    assert text.count("outcome-selected sample") >= 3  # KM, groups, start, Cox, hazard
    v = report.results["verdicts"]["survival.claims.cbs"]
    assert v["verdict"] == "not_testable" and v["reasons"][0]["key"] == "survival.reasons.sampling_outcome_selected"


def test_register_with_undated_closures_says_what_it_cannot_compute(tables, tmp_path):
    """Like the Northern Ireland charity register: registration date as founding, closures mostly undated."""
    t = {k: (v.copy() if k in ("initiatives", "funding") else None) for k, v in tables.items()}
    ini = t["initiatives"]
    ini["founded_on"] = ini["joined_on"]
    undated = ini["closed_on"].notna() & (np.arange(len(ini)) % 10 != 0)
    ini.loc[undated, "closed_on"] = pd.NaT  # 9 in 10 closures carry no date
    sampling = ["closures undated", "founded_on is the registration date"]
    data = MaexData(t, source="register", synthetic=False, metadata={"sampling": sampling, "description": "a register"})
    report, text, _ = _run(data, tmp_path)
    assert "most closures are undated" in text and 'sampling as "founded_on is the registration date"' in text
    cbs = report.results["verdicts"]["survival.claims.cbs"]
    assert cbs["verdict"] == "not_testable" and cbs["reasons"][0]["key"] == "survival.reasons.sampling_closures_undated"
    assert "Synthetic" not in text and "Traceback" not in text and not NAN.search(text)


def test_funding_claims_are_worded_as_associations_with_confounders(tables, tmp_path):
    report, text, _ = _run(_data(tables), tmp_path)
    assert "lowers the closure hazard" not in text
    assert "associations, not effects" in text and "funders choose whom to fund" in text
    claim = report.t("survival.claims.org")
    assert "association" in claim


def test_report_speaks_dutch(tables, tmp_path):
    report, text, _ = _run(_data(tables), tmp_path, language="nl")
    assert "Overleving sinds oprichting" in text and "Beweringen over continuïteit" in text
    assert "survival" not in " ".join(report.results["findings"][0]["text"].split()[:3])


# --- the valley rule -----------------------------------------------------------------------------


def _hazard(years, hazard, half_width=0.01):
    h = pd.DataFrame({"years": years, "hazard": hazard})
    return h.assign(low=h["hazard"] - half_width, high=h["hazard"] + half_width, interior=h["years"] >= 1.0)


def _bands(rates, late=(0.05, 0.04, 0.06)):
    rows = [
        {
            "band": f"{a}-{b} y",
            "from_years": a,
            "to_years": b,
            "events": 50,
            "hazard": r,
            "hazard_low": r - 0.01,
            "hazard_high": r + 0.01,
        }
        for (a, b), r in zip(((0, 1), (1, 2), (2, 3), (3, 5)), rates, strict=True)
    ]
    rows.append(
        {
            "band": "5-10 y",
            "from_years": 5,
            "to_years": 10,
            "events": 50,
            "hazard": late[0],
            "hazard_low": late[1],
            "hazard_high": late[2],
        }
    )
    return pd.DataFrame(rows)


def test_valley_peak_at_the_edge_with_declining_rates_is_inconclusive():
    """Regression: a 'valley of death' called supported from a peak at 1.0 y while crude rates decline."""
    years = np.round(np.arange(1.0, 6.0, 0.1), 2)
    h = _hazard(years, 0.13 - 0.01 * (years - 1))
    v = sv.verdict_valley(h, _bands((0.125, 0.115, 0.086, 0.07)))
    assert v.verdict == "inconclusive" and v.reasons[0].key == "survival.reasons.valley_peak_at_edge"


def test_valley_supported_by_an_interior_peak_above_start_and_late_rates():
    years = np.round(np.arange(1.0, 6.0, 0.1), 2)
    h = _hazard(years, 0.15 - 0.04 * np.abs(years - 2.0))
    v = sv.verdict_valley(h, _bands((0.10, 0.15, 0.12, 0.08)))
    assert v.verdict == "supported" and v.rule_values["peak_years"] == pytest.approx(2.0)
    # the same shape later than 3 years is no valley in the first years
    late = _hazard(years, 0.15 - 0.04 * np.abs(years - 4.0))
    assert sv.verdict_valley(late, _bands((0.10, 0.11, 0.12, 0.14))).verdict == "inconclusive"
    # early rates wholly below the late rate: contradicted
    rising = _hazard(years, 0.02 + 0.01 * years)
    assert sv.verdict_valley(rising, _bands((0.02, 0.025, 0.03, 0.035), late=(0.08, 0.07, 0.09))).verdict == "contradicted"


# --- the PH check never raises --------------------------------------------------------------------


def test_ph_check_leaves_out_what_it_cannot_estimate_and_checks_the_rest():
    """Regression (issue 18): ConvergenceError when plan has 189 closures before 5 years and 1 after."""
    t, _ = synth.generate(seed=4, n_initiatives=600)
    cp = sv.counting_process(t["initiatives"], t["phases"], t["funding"], t["financials"], extra_cuts=[5.0])
    covs = sv.cox_covariates(cp)
    late = sv.after_cut(cp["start"], 5.0) == 1
    assert cp.loc[(cp["phase_plan"] == 1) & late, "event"].sum() < sv.MIN_SPLIT_CLOSURES
    ph = sv.ph_check_time_split(cp, covs).set_index("covariate")
    assert not ph.loc["phase_plan", "checked"] and ph.loc["phase_plan", "reason"] == "survival.reasons.ph_few_closures"
    assert ph.loc[["org_strengthening_received", "multi_year_received"], "checked"].all()
    assert ph.loc[ph["checked"], "p_value"].notna().all()
    cox = sv.fit_cox_tv(cp, covs)[1]
    v = sv.verdict_hazard_ratio(cox, "phase_plan", "survival.claims.org", ph=ph.reset_index())
    assert v.rule == "survival.rules.hazard_ratio_unchecked" and "survival.reasons.ph_few_closures" in {r.key for r in v.reasons}
    checked = sv.verdict_hazard_ratio(cox, "org_strengthening_received", "survival.claims.org", ph=ph.reset_index())
    assert checked.rule in (
        "survival.rules.hazard_ratio",
        "survival.rules.hazard_ratio_periods",
    ) and checked.nominal_rate == pytest.approx(0.025)


def test_ph_check_with_too_few_late_closures_checks_nothing_and_says_so(tables):
    ini = tables["initiatives"].copy()
    ini["observed_until"] = ini["founded_on"] + pd.Timedelta(days=int(5.2 * 365.25))
    ini.loc[ini["closed_on"] > ini["observed_until"], "closed_on"] = pd.NaT
    cp = sv.counting_process(ini, tables["phases"], tables["funding"], None, extra_cuts=[5.0])
    ph = sv.ph_check_time_split(cp, sv.cox_covariates(cp))
    assert not ph["checked"].any() and (ph["reason"] == "survival.reasons.ph_period_few_closures").all()


def test_try_fit_cox_tv_turns_a_failed_fit_into_a_reason():
    cp = pd.DataFrame(
        {"initiative_id": list("abcd"), "start": 0.0, "stop": [1.0, 2.0, 3.0, 4.0], "event": [1, 1, 0, 0], "x": [1, 1, 0, 0]}
    )
    fitter, table, problem = sv.try_fit_cox_tv(cp, ["x"])
    assert fitter is None and table is None and "unstable" in problem
