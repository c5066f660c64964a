"""The degenerate-data battery: small variants of a generated dataset, and a runner of every section.

In the spirit of scikit-learn's ``check_estimator``: each variant removes something real data
often lacks (closures, follow-up, a phase, a purpose, a column, most rows), and every notebook's
sections must still complete, say what they cannot compute, and never show a traceback, a raw
warning or NaN as a number. ``tests/test_degenerate_battery.py`` runs it in ``make test``.

>>> tables = base_tables()                                   # doctest: +SKIP
>>> folder = write_variant("no_closures", tables, tmp_path)  # doctest: +SKIP
"""

from __future__ import annotations

import importlib
import json
import re
import warnings
from collections.abc import Callable
from functools import cache
from pathlib import Path

import pandas as pd

from maexlab.data import io, synth

BASE_SEED = 7
BASE_SIZE = 160

#: Notebook -> the module holding its section functions (``SECTIONS`` in notebook order).
NOTEBOOK_SECTIONS: dict[str, str] = {
    "00_data_profile": "maexlab.reporting.profile_sections",
    "01_funding_gaps": "maexlab.funding.sections",
    "02_valuation_bias": "maexlab.valuation.sections",
    "03_continuity": "maexlab.survival.sections",
    "04_impact_value": "maexlab.impact.sections",
    "05_municipality_profile": "maexlab.areas.sections",
}

Tables = dict[str, pd.DataFrame]


@cache
def _generated() -> Tables:
    tables, _ = synth.generate(seed=BASE_SEED, n_initiatives=BASE_SIZE)
    return tables


def base_tables() -> Tables:
    """A fresh copy of the small generated dataset every variant starts from."""
    return {name: df.copy() for name, df in _generated().items()}


def _keep_initiatives(t: Tables, ids) -> Tables:
    ids = set(ids)
    return {
        name: (df[df["initiative_id"].isin(ids)].reset_index(drop=True) if "initiative_id" in df else df)
        for name, df in t.items()
    }


def no_closures(t: Tables) -> Tables:
    t["initiatives"]["closed_on"] = pd.NaT
    t["phases"] = t["phases"][t["phases"]["phase"] != "closed"].reset_index(drop=True)
    return t


def short_follow_up(t: Tables) -> Tables:
    """A register kept for under a year: every initiative enters the data 300 days before the cut-off.

    Initiatives that closed before then are never seen (as in a real one-year register).
    """
    i = t["initiatives"]
    start = i["observed_until"] - pd.Timedelta(days=300)
    seen = i["closed_on"].isna() | (i["closed_on"] > start)
    t = _keep_initiatives(t, i.loc[seen, "initiative_id"])
    i = t["initiatives"]
    start = i["observed_until"] - pd.Timedelta(days=300)
    i["joined_on"] = i["joined_on"].where(i["joined_on"] > start, start)
    return t


def single_value_model(t: Tables) -> Tables:
    t["initiatives"]["value_model"] = "social"
    return t


def no_growth_phase(t: Tables) -> Tables:
    """A register that never records growth (nor maturity, which follows it)."""
    t["phases"] = t["phases"][~t["phases"]["phase"].isin(["growth", "mature"])].reset_index(drop=True)
    return t


def no_startup_purpose(t: Tables) -> Tables:
    t["funding"] = t["funding"][t["funding"]["purpose"] != "startup"].reset_index(drop=True)
    return t


def multi_year_empty(t: Tables) -> Tables:
    t["funding"]["multi_year"] = pd.NA
    t["funding"]["term_years"] = pd.NA
    return t


def one_municipality(t: Tables) -> Tables:
    i = t["initiatives"]
    biggest = i["municipality_code"].value_counts().index[0]
    return _keep_initiatives(t, i.loc[i["municipality_code"] == biggest, "initiative_id"])


def five_initiatives(t: Tables) -> Tables:
    return _keep_initiatives(t, t["initiatives"]["initiative_id"].head(5))


def everything_rejected(t: Tables) -> Tables:
    f = t["funding"]
    decided = f["status"].isin(["granted", "partial", "rejected"])
    f.loc[decided, "status"] = "rejected"
    f.loc[decided, "amount_granted"] = 0.0
    return t


def everything_granted(t: Tables) -> Tables:
    f = t["funding"]
    decided = f["status"].isin(["granted", "partial", "rejected"])
    f.loc[decided, "status"] = "granted"
    f.loc[decided, "amount_granted"] = f.loc[decided, "amount_requested"]
    return t


def no_joined_on(t: Tables) -> Tables:
    t["initiatives"] = t["initiatives"].drop(columns=["joined_on"])
    return t


def funding_only(t: Tables) -> Tables:
    return {"funding": t["funding"]}


def initiatives_only(t: Tables) -> Tables:
    return {"initiatives": t["initiatives"]}


VARIANTS: dict[str, Callable[[Tables], Tables]] = {
    f.__name__: f
    for f in (
        no_closures,
        short_follow_up,
        single_value_model,
        no_growth_phase,
        no_startup_purpose,
        multi_year_empty,
        one_municipality,
        five_initiatives,
        everything_rejected,
        everything_granted,
        no_joined_on,
        funding_only,
        initiatives_only,
    )
}


def write_variant(name: str, tables: Tables, root: Path) -> Path:
    """Apply variant ``name`` and write it as a canonical dataset folder (declared synthetic)."""
    variant = VARIANTS[name](tables)
    metadata = {"synthetic": True, "description": f"SYNTHETIC degenerate-data variant '{name}' of maexlab's generator."}
    return io.write_dataset(variant, Path(root) / name, metadata)


#: Text no report may show: tracebacks, raw warnings, NaN or <NA> printed as a value.
FORBIDDEN = [
    (re.compile(r"Traceback \(most recent call last\)"), "a traceback"),
    (re.compile(r"(?i)\b\w*warning:"), "a raw warning"),
    (re.compile(r"(?<![\w/.-])(nan|NaN|<NA>|NaT|inf)(?![\w/.-])"), "NaN/inf shown as a value"),
]


def sections_of(notebook: str):
    """The ``SECTIONS`` of a notebook's section module, or None while the module does not exist."""
    try:
        module = importlib.import_module(NOTEBOOK_SECTIONS[notebook])
    except ModuleNotFoundError:
        return None
    return tuple(module.SECTIONS)


def run_sections(notebook: str, data_source: Path | str, out: Path, language: str = "en", **parameters) -> tuple[str, dict]:
    """Run a notebook's sections as the notebook does; return (all shown text, results.json).

    Warnings raised inside the package count as shown: a notebook would print them.
    """
    from IPython.core.interactiveshell import InteractiveShell
    from IPython.utils.capture import capture_output

    from maexlab.reporting import open_report

    InteractiveShell.instance()
    sections = sections_of(notebook)
    if sections is None:
        raise LookupError(f"{NOTEBOOK_SECTIONS[notebook]} does not exist yet")
    with warnings.catch_warnings(record=True) as caught, capture_output() as captured:
        warnings.simplefilter("always")
        report = open_report(notebook, data_source=str(data_source), output_dir=str(out), language=language, **parameters)
        report.intro()
        report.findings_placeholder()
        for section in sections:
            section(report)
        report.finish()
    texts = [captured.stdout, captured.stderr]
    for output in captured.outputs:
        texts.extend(str(v) for k, v in output.data.items() if k.startswith("text/"))
    # Warnings from libraries we do not control are reported too: a reader would see them.
    texts.extend(
        f"{w.category.__name__}: {w.message}"
        for w in caught
        if not issubclass(w.category, DeprecationWarning | PendingDeprecationWarning)
    )
    results = json.loads((Path(out) / "results.json").read_text(encoding="utf-8"))
    return "\n".join(texts), results


def problems_in(text: str) -> list[str]:
    """What a report's shown text contains that no report may show."""
    found = []
    for pattern, what in FORBIDDEN:
        match = pattern.search(text)
        if match:
            start = max(0, match.start() - 80)
            found.append(f"{what}: ...{text[start : match.end() + 40]!r}")
    return found


def verdict_problems(results: dict) -> list[str]:
    """Verdicts that are not in the vocabulary, decided without evidence, or undecided without a reason."""
    from maexlab.reporting.verdicts import INCONCLUSIVE, NOT_TESTABLE, VERDICTS

    out = []
    for claim, v in (results.get("verdicts") or {}).items():
        if v["verdict"] not in VERDICTS:
            out.append(f"{claim}: verdict {v['verdict']!r} is not in the vocabulary")
        elif v["verdict"] == NOT_TESTABLE and not v.get("reasons"):
            out.append(f"{claim}: not testable without a reason")
        elif v["verdict"] != NOT_TESTABLE and any(v.get(k) is None for k in ("estimate", "lo", "hi")):
            out.append(f"{claim}: {v['verdict']} without an estimate and its interval")
        elif v["verdict"] == INCONCLUSIVE and v.get("lo") is None:
            out.append(f"{claim}: inconclusive without an interval")
    return out
