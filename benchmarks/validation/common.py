"""Shared pieces of the validation benchmark: the row schema, binomial intervals, summaries, writers.

Every collector (:mod:`funding`, :mod:`valuation`, :mod:`survival`, :mod:`competing`, :mod:`areas`)
returns rows made by :func:`estimand` or :func:`verdict`, so one summary covers them all:

* an *estimand* row is one estimate on one dataset: ``truth``, ``estimate``, ``se`` (reported, or
  implied by the interval's width when the method gives only an interval: ``se_source``), and
  the nominal 95% interval ``lo``-``hi``. Its ``role`` is "check" (the estimate a notebook
  reports: its coverage must be 95%) or "illustration" (an estimate the docs quote to show a
  bias, e.g. survival ignoring delayed entry: measured, never passed or failed);
* a *verdict* row is one verdict rule on one dataset: the verdict reached, the outcome counted
  (``target``: usually "supported") and ``nominal``, the most often that outcome may occur on
  this dataset's truth (the rule's nominal false-positive rate when its null holds; empty when
  the truth is not at the null, and the rate is then power or a description).

>>> lo, hi = wilson(47, 50)
>>> round(lo, 3), round(hi, 3)
(0.838, 0.979)
"""

from __future__ import annotations

import math
import os
import tempfile
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pandas as pd

Z95 = 1.959963984540054
NOMINAL_COVERAGE = 0.95
MODES = {True: "on", False: "off"}

#: Columns of the per-dataset CSV, in order (one row per dataset x estimand or verdict).
ROW_COLUMNS: tuple[str, ...] = (
    "collector",
    "kind",
    "role",
    "name",
    "mode",
    "seed",
    "unit",
    "n_initiatives",
    "ok",
    "truth",
    "estimate",
    "se",
    "se_source",
    "lo",
    "hi",
    "verdict",
    "target",
    "nominal",
    "note",
)


def mode(effects: bool) -> str:
    """The mode label: "on" with the planted effects, "off" without."""
    return MODES[bool(effects)]


def estimand(
    collector: str,
    name: str,
    effects: bool,
    seed: int,
    truth: float,
    estimate: float | None,
    lo: float | None,
    hi: float | None,
    se: float | None = None,
    *,
    n_initiatives: int,
    unit: str = "",
    note: str = "",
    role: str = "check",
) -> dict:
    """One estimate on one dataset (``estimate`` None: not computed, ``note`` says why).

    When ``se`` is None the SE is implied by the interval, (hi - lo) / (2 x 1.96), and
    ``se_source`` says so.

    >>> r = estimand("x", "mean", True, 1, 0.0, 0.1, -0.1, 0.3, n_initiatives=10)
    >>> r["se_source"], round(r["se"], 4)
    ('interval', 0.102)
    """
    ok = estimate is not None and lo is not None and hi is not None and all(np.isfinite([estimate, lo, hi]))
    source = "reported"
    if ok and (se is None or not np.isfinite(se)):
        se, source = (float(hi) - float(lo)) / (2 * Z95), "interval"
    return {
        "collector": collector,
        "kind": "estimand",
        "role": role,
        "name": name,
        "mode": mode(effects),
        "seed": int(seed),
        "unit": unit,
        "n_initiatives": int(n_initiatives),
        "ok": bool(ok),
        "truth": float(truth) + 0.0,  # no "-0" in the CSV
        "estimate": float(estimate) if ok else math.nan,
        "se": float(se) if ok else math.nan,
        "se_source": source if ok else "",
        "lo": float(lo) if ok else math.nan,
        "hi": float(hi) if ok else math.nan,
        "verdict": "",
        "target": "",
        "nominal": math.nan,
        "note": note,
    }


def verdict(
    collector: str,
    name: str,
    effects: bool,
    seed: int,
    reached: str,
    target: str,
    nominal: float | None,
    *,
    n_initiatives: int,
    note: str = "",
) -> dict:
    """One verdict rule on one dataset: the verdict ``reached`` and the outcome counted (``target``).

    ``nominal`` is the rule's nominal rate of ``target`` when the truth of this dataset is at the
    rule's null (None otherwise).
    """
    return {
        "collector": collector,
        "kind": "verdict",
        "role": "check",
        "name": name,
        "mode": mode(effects),
        "seed": int(seed),
        "unit": "",
        "n_initiatives": int(n_initiatives),
        "ok": True,
        "truth": math.nan,
        "estimate": math.nan,
        "se": math.nan,
        "se_source": "",
        "lo": math.nan,
        "hi": math.nan,
        "verdict": str(reached),
        "target": target,
        "nominal": math.nan if nominal is None else float(nominal),
        "note": note,
    }


def wilson(k: int, n: int, z: float = Z95) -> tuple[float, float]:
    """Wilson score interval of a binomial proportion k / n (nan, nan when n = 0).

    >>> wilson(0, 40)[0]
    0.0
    """
    if n == 0:
        return math.nan, math.nan
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(centre - half, 0.0), min(centre + half, 1.0)


def frame(rows: Iterable[dict]) -> pd.DataFrame:
    """Rows as a DataFrame in the schema's column order, sorted so the CSV is deterministic."""
    df = pd.DataFrame(list(rows), columns=list(ROW_COLUMNS))
    df = df.sort_values(["collector", "kind", "name", "mode", "seed", "unit"], kind="stable")
    return df.reset_index(drop=True)


def summarise_estimands(rows: pd.DataFrame) -> pd.DataFrame:
    """Per estimand and mode: truth, mean estimate, bias (MC SE), SD / mean SE, coverage (Wilson), pass.

    Bias and its SD are taken over ``estimate - truth`` (the truth may differ between datasets,
    e.g. a simulated 5-year survival or one value per municipality). ``passed`` is True when the
    Wilson 95% interval of the observed coverage contains the nominal 95% (empty for the role
    "illustration").
    """
    out = []
    est = rows[rows["kind"] == "estimand"]
    for (collector, name, m), g in est.groupby(["collector", "name", "mode"], sort=True):
        fitted = g[g["ok"].astype(bool)]
        n = len(fitted)
        err = fitted["estimate"] - fitted["truth"]
        k = int(((fitted["lo"] <= fitted["truth"]) & (fitted["truth"] <= fitted["hi"])).sum())
        c_lo, c_hi = wilson(k, n)
        sd = float(err.std(ddof=1)) if n > 1 else math.nan
        role = str(g["role"].iloc[0])
        out.append(
            {
                "collector": collector,
                "estimand": name,
                "role": role,
                "mode": m,
                "datasets": int(g["seed"].nunique()),
                "estimates": n,
                "not_computed": int(len(g) - n),
                "truth": float(fitted["truth"].mean()) if n else math.nan,
                "mean_estimate": float(fitted["estimate"].mean()) if n else math.nan,
                "bias": float(err.mean()) if n else math.nan,
                "bias_mc_se": sd / math.sqrt(n) if n > 1 else math.nan,
                "sd": sd,
                "mean_se": float(fitted["se"].mean()) if n else math.nan,
                "sd_over_se": sd / float(fitted["se"].mean()) if n > 1 else math.nan,
                "se_source": ",".join(sorted(set(fitted["se_source"]))),
                "coverage": k / n if n else math.nan,
                "coverage_lo": c_lo,
                "coverage_hi": c_hi,
                "passed": bool(n > 0 and c_lo <= NOMINAL_COVERAGE <= c_hi) if role == "check" else "",
            }
        )
    return pd.DataFrame(out)


def summarise_verdicts(rows: pd.DataFrame) -> pd.DataFrame:
    """Per verdict rule and mode: the rate of the counted outcome (Wilson), the nominal rate, pass.

    ``passed`` is empty where no nominal rate applies (effects present: the rate is power), and
    True when the Wilson interval's lower end is at or below the nominal rate (the rate is not
    above nominal beyond Monte Carlo error).
    """
    out = []
    ver = rows[rows["kind"] == "verdict"]
    for (collector, name, m), g in ver.groupby(["collector", "name", "mode"], sort=True):
        n = len(g)
        target = str(g["target"].iloc[0])
        k = int((g["verdict"] == target).sum())
        lo, hi = wilson(k, n)
        nominal = g["nominal"].dropna()
        nom = float(nominal.max()) if len(nominal) == n else math.nan
        shares = g["verdict"].value_counts()
        out.append(
            {
                "collector": collector,
                "verdict": name,
                "mode": m,
                "datasets": n,
                "counted": target,
                "rate": k / n,
                "rate_lo": lo,
                "rate_hi": hi,
                "nominal": nom,
                "passed": "" if math.isnan(nom) else bool(lo <= nom + 1e-12),
                "outcomes": ", ".join(f"{v} {int(c)}" for v, c in sorted(shares.items())),
            }
        )
    return pd.DataFrame(out)


def atomic_write_text(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file in the same folder and a rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write_csv(path: Path, df: pd.DataFrame) -> None:
    """The frame as CSV (``%.10g`` floats, so tiny BLAS-order differences do not show), written atomically."""
    atomic_write_text(path, df.to_csv(index=False, float_format="%.10g", lineterminator="\n"))
