"""One suppression pattern for the linked euro tables of a run: nation > province > municipality.

A run publishes the same table (say, funding by source) for the nation, for each province and
for each municipality. Suppressing each report's table on its own is not enough: a cell hidden
in a municipality's table is the province's cell minus the other municipalities' cells, and a
municipality's total is a cell of its province's table by municipality. Statistics offices
protect such *linked tables* with one pattern over the whole hierarchy (ESSnet Handbook on
Statistical Disclosure Control, Hundepool et al. 2010, section 4.4 "linked tables" and 4.3 on
hierarchical tables; tau-Argus manual, "linked tables" and "hierarchical codes").

:func:`linked_pattern` computes that pattern on the whole (unfiltered) dataset, so every report
of the run, whatever its place, finds the same hidden cells:

1. **Cells.** For every place of the hierarchy (the nation, each province, each municipality;
   initiatives without a municipality form an unpublished "rest of the province" cell, those
   without a province a "rest of the nation" cell) and every combination of the table's
   categories, *including the margins* (all categories of a dimension together: the place's
   total is the margin of every table), the contributors, the total and the rules.
2. **Primary cells**: the threshold, dominance and p% rules
   (:func:`maexlab.reporting.disclosure.sensitive_cells`). Unpublished cells (the rests, the
   applications lacking the category) that are sensitive are protected like published ones,
   since subtraction reveals them.
3. **Relations.** Every additive relation between published numbers: a parent place's cell is
   the sum of its children's (geography), and a margin is the sum of its categories (plus the
   unpublished rest lacking the category).
4. **Secondary cells, by line**: in every relation, a hidden member alone is unsafe, and so are
   hidden children whose contributors sum below the minimum while the parent is shown; the
   shown published member with the fewest contributors is hidden next (as
   :func:`maexlab.reporting.privacy.suppress_small_cells` does for one table).
5. **Audit, exact**: a hidden cell is recoverable when some combination of the relations gives
   it from shown numbers alone, i.e. when its unit vector lies in the row space of the
   relations restricted to the hidden cells. The projection of a fixed pseudo-random vector on
   the null space of that matrix (LSQR) is zero exactly at the recoverable cells; for each, one
   more member of its relation is hidden, and the audit repeats. Unpublished non-sensitive
   cells count as known (the conservative choice).

What the pattern does not do: tau-Argus's optimal (cheapest) patterns and its protection
intervals (how narrowly bounds from non-negative cells enclose a hidden value); the pattern
guarantees that no hidden cell is *exactly* recoverable from the published tables of the run.

>>> import pandas as pd
>>> c = pd.DataFrame({"initiative_id": [f"i{k}" for k in range(40)],
...     "province": ["P"] * 40, "municipality": ["A"] * 4 + ["B"] * 18 + ["C"] * 18,
...     "source": ["fund", "bank"] * 20, "amount": [100.0] * 40})
>>> p = linked_pattern(c, ["source"], value="amount", min_group_size=3)
>>> sorted(p.loc[p["hidden"] & p["published"], "area"].unique().tolist())
['P/A', 'P/B']
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd
from scipy.sparse import coo_matrix
from scipy.sparse.linalg import lsqr

from maexlab.reporting.disclosure import MagnitudeRules

__all__ = [
    "ALL",
    "DEFAULT_RULES",
    "NATION",
    "apply_linked",
    "area_of",
    "cell_key",
    "linked_pattern",
    "linked_patterns",
    "population",
    "report_area",
]

#: The margin of a dimension: all its categories together.
ALL = "(all)"
#: The area name of the nation.
NATION = "(nation)"
#: Category of rows lacking the dimension's value (an unpublished rest).
MISSING = "(missing)"
_REST = "(rest)"
#: The rules with their documented defaults.
DEFAULT_RULES = MagnitudeRules()


def area_of(province: str | None, municipality: str | None) -> str:
    """The area key of a report's place: the nation, ``province`` or ``province/municipality``.

    >>> area_of("Utrecht", "GM0344"), area_of("Utrecht", None), area_of(None, None)
    ('Utrecht/GM0344', 'Utrecht', '(nation)')
    """
    if municipality is not None:
        # without a province the municipality's rows are in the unpublished rest of the nation
        return f"{province}/{municipality}" if province is not None else f"{NATION}/{_REST}"
    return NATION if province is None else str(province)


def cell_key(area: str, categories: dict[str, object]) -> tuple:
    """A cell's identity across tables: its area and its non-margin categories, sorted.

    The by-source table's cells are the (source, all phases) cells of the source x phase table,
    and every table's all-categories cell is the place's total: the same key, so the same
    hidden status in every table of the run.
    """
    return (area, tuple(sorted((d, str(v)) for d, v in categories.items() if v != ALL)))


def _geography(contributions: pd.DataFrame) -> pd.DataFrame:
    """Each row's area at the three levels; missing places become unpublished rests."""
    province = contributions["province"].astype("string").fillna(_REST).astype(str)
    municipality = contributions["municipality"].astype("string").fillna(_REST).astype(str)
    return pd.DataFrame(
        {
            "national": NATION,
            "province": np.where(province == _REST, f"{NATION}/{_REST}", province),
            "municipality": np.where(province == _REST, f"{NATION}/{_REST}", province + "/" + municipality),
        },
        index=contributions.index,
    )


def _cells(
    contributions: pd.DataFrame,
    by: list[str],
    values: list[str],
    unit: str,
    rules: MagnitudeRules | None,
    min_units: int,
    split: Sequence[str] = (),
) -> pd.DataFrame:
    geo = _geography(contributions)
    base = contributions[[unit, *by, *values]].copy()
    for d in by:
        base[d] = base[d].astype("string").fillna(MISSING).astype(str)
    frames = []
    no_province = geo["province"].str.startswith(NATION).to_numpy()
    for level in ("national", "province", "municipality"):
        margins = [d for d in by if d not in split]
        for free in itertools.chain.from_iterable(itertools.combinations(margins, r) for r in range(len(margins) + 1)):
            kept = (*split, *free)
            g = base.assign(area=geo[level].to_numpy(), level=level)
            if level == "municipality":
                g = g[~no_province]  # rows without a province: the province level's rest holds them
            for d in by:
                if d not in kept:
                    g[d] = ALL
            frames.append(g)
    long = pd.concat(frames, ignore_index=True)
    keys = ["level", "area", *by]
    per_unit = long.groupby([*keys, unit], sort=False, observed=True)[values].sum().clip(lower=0).reset_index()
    cells = per_unit.groupby(keys, sort=True, observed=True).agg(n_units=(unit, "nunique")).reset_index()
    threshold = cells["n_units"] < min_units
    dominance = pd.Series(False, index=cells.index)
    p_rule = pd.Series(False, index=cells.index)
    if rules is not None:
        for v in values:
            ranked = per_unit.sort_values([*keys, v], ascending=[True] * len(keys) + [False], kind="stable")
            rank = ranked.groupby(keys, sort=False, observed=True).cumcount()
            stats = pd.DataFrame(
                {
                    "total": ranked.groupby(keys, sort=True, observed=True)[v].sum(),
                    "top_n": ranked[rank < rules.dominance_n].groupby(keys, sort=True, observed=True)[v].sum(),
                    "x1": ranked[rank == 0].groupby(keys, sort=True, observed=True)[v].sum(),
                    "x12": ranked[rank < 2].groupby(keys, sort=True, observed=True)[v].sum(),
                }
            ).fillna(0.0)
            stats = stats.reindex(pd.MultiIndex.from_frame(cells[keys])).fillna(0.0).to_numpy()
            total, top_n, x1, x12 = stats.T
            cells[f"_total_{v}"], cells[f"_top_{v}"] = total, top_n
            dominance |= (total > 0) & (top_n > rules.dominance_k / 100.0 * total)
            p_rule |= (x1 > 0) & (total - x12 < rules.p_percent / 100.0 * x1)
    cells["threshold"], cells["dominance"], cells["p_percent"] = threshold.to_numpy(), dominance.to_numpy(), p_rule.to_numpy()
    cells["sensitive"] = cells[["threshold", "dominance", "p_percent"]].any(axis=1)
    rest = cells["area"].str.endswith(_REST)
    lacking = cells[by].eq(MISSING).any(axis=1) if by else pd.Series(False, index=cells.index)
    cells["published"] = ~(rest | lacking)
    return cells


def _relations(cells: pd.DataFrame, by: list[str]) -> list[tuple[int, list[int]]]:
    """(parent row, child rows) for every additive relation among the cells."""
    keys = list(cells[["area", *by]].itertuples(index=False, name=None))
    index = {k: i for i, k in enumerate(keys)}
    groups: dict[tuple[int, str], list[int]] = {}
    levels = cells["level"].to_numpy()
    for i, key in enumerate(keys):
        area, cats = key[0], key[1:]
        # geography: a municipality's cell adds up to its province's, a province's to the nation's
        if levels[i] == "municipality":
            parent_area = area.rsplit("/", 1)[0]
        elif levels[i] == "province":
            parent_area = NATION
        else:
            parent_area = None
        if parent_area is not None and (parent_area, *cats) in index:
            groups.setdefault((index[(parent_area, *cats)], "geography"), []).append(i)
        # categories: a category's cell adds up (with its siblings) to the margin of its dimension
        for j, d in enumerate(by):
            if cats[j] == ALL:
                continue
            margin = (area, *cats[:j], ALL, *cats[j + 1 :])
            if margin in index:
                groups.setdefault((index[margin], d), []).append(i)
    return [(parent, kids) for (parent, _), kids in sorted(groups.items(), key=lambda item: (item[0][0], item[0][1]))]


def _recoverable(hidden: np.ndarray, relations: list[tuple[int, list[int]]], seed: int = 0) -> np.ndarray:
    """Which hidden cells some combination of the relations gives from shown numbers alone."""
    cols = np.flatnonzero(hidden)
    if len(cols) == 0:
        return np.zeros(0, dtype=int)
    position = {c: i for i, c in enumerate(cols)}
    rows, columns, data = [], [], []
    r = 0
    for parent, kids in relations:
        members = [(parent, -1.0)] + [(k, 1.0) for k in kids]
        unknown = [(position[m], s) for m, s in members if hidden[m]]
        if not unknown:
            continue
        for c, s in unknown:
            rows.append(r)
            columns.append(c)
            data.append(s)
        r += 1
    if r == 0:
        return np.zeros(0, dtype=int)
    A = coo_matrix((data, (rows, columns)), shape=(r, len(cols))).tocsr()
    x0 = np.random.default_rng(seed).standard_normal(len(cols)) + 1.0
    # x0 minus its projection on the row space of A is its projection on the null space of A.
    y = lsqr(A.T, x0, atol=1e-12, btol=1e-12, iter_lim=20 * (r + len(cols)))[0]
    null_part = x0 - A.T @ y
    return cols[np.abs(null_part) < 1e-6]


def linked_pattern(
    contributions: pd.DataFrame,
    by: Sequence[str],
    *,
    value: str | Sequence[str],
    unit: str = "initiative_id",
    rules: MagnitudeRules | None = DEFAULT_RULES,
    min_group_size: int = 10,
    forced: Iterable[tuple] = (),
    split: Sequence[str] = (),
) -> pd.DataFrame:
    """The hidden cells of one table over the whole hierarchy of places (see the module).

    ``contributions`` has one row per contribution (an application, an initiative's impact in
    a year) with ``unit``, the ``by`` columns, the amount column(s) ``value`` and the place
    columns ``province`` and ``municipality`` (CBS code); missing places and categories are
    kept as unpublished rests. ``rules`` None applies the threshold rule only. ``forced`` are
    :func:`cell_key` s hidden by another table of the run (shared margins). ``split`` are
    dimensions published only value by value (the year of the impact tables: no all-years
    total is published), so they get no margin.

    Returns one row per cell: ``level, area, *by`` (``ALL`` for a margin), ``n_units``, the
    rule flags, ``published``, ``hidden``, ``rule`` (threshold, dominance, p_percent,
    secondary or empty) and ``key``.
    """
    by = list(by)
    values = [value] if isinstance(value, str) else list(value)
    prepared = _prepare(contributions, by, values, unit, rules, min_group_size, split)
    return _solve(prepared, by, values, rules, min_group_size, forced)


def _prepare(contributions, by, values, unit, rules, min_group_size, split) -> tuple[pd.DataFrame, list]:
    """The cells with their rules and the relations between them (independent of ``forced``)."""
    cells = _cells(contributions, by, values, unit, rules, min_group_size, split)
    cells["key"] = [cell_key(r[0], dict(zip(by, r[1:], strict=True))) for r in cells[["area", *by]].itertuples(index=False)]
    return cells, _relations(cells, by)


def _solve(prepared, by, values, rules, min_group_size, forced) -> pd.DataFrame:
    """Primary, secondary and audited cells of one prepared table."""
    cells, relations = prepared
    cells = cells.copy()
    forced = set(forced)
    primary = cells["sensitive"].to_numpy()
    hidden = primary | cells["key"].isin(forced).to_numpy()
    counts = cells["n_units"].to_numpy(float)
    published = cells["published"].to_numpy()
    membership: dict[int, list[int]] = {}
    for i, (parent, kids) in enumerate(relations):
        for m in (parent, *kids):
            membership.setdefault(m, []).append(i)

    def hide_next(parent: int, kids: list[int]) -> bool:
        candidates = [k for k in kids if published[k] and not hidden[k] and counts[k] > 0]
        if not candidates and published[parent] and not hidden[parent]:
            candidates = [parent]
        if not candidates:
            return False
        pick = min(candidates, key=lambda k: (cells.at[k, "n_units"], k))
        hidden[pick] = True
        return True

    n_units = cells["n_units"].to_numpy(float)
    magnitude = [(cells[f"_total_{v}"].to_numpy(), cells[f"_top_{v}"].to_numpy()) for v in values if f"_total_{v}" in cells]

    def union_unsafe(kids: list[int]) -> bool:
        """Hidden children whose sum the shown parent reveals: too few contributors together, or
        one child's largest contributors alone dominating the sum (a lower bound of the union's)."""
        if n_units[kids].sum() < min_group_size:
            return True
        return rules is not None and any(
            top[kids].max() > rules.dominance_k / 100.0 * total[kids].sum() for total, top in magnitude
        )

    changed = True
    while changed:
        changed = False
        for parent, kids in relations:
            n_hidden = int(hidden[parent]) + int(hidden[kids].sum())
            hidden_kids = [k for k in kids if hidden[k]]
            unsafe = n_hidden == 1 or (not hidden[parent] and bool(hidden_kids) and union_unsafe(hidden_kids))
            if unsafe and hide_next(parent, kids):
                changed = True
        if not changed:
            for cell in _recoverable(hidden, relations):
                for i in sorted(membership.get(cell, []), key=lambda i: int(hidden[[relations[i][0], *relations[i][1]]].sum())):
                    if hide_next(*relations[i]):
                        changed = True
                        break
    cells["hidden"] = hidden
    cells = cells.drop(columns=[c for c in cells.columns if c.startswith("_")])
    cells["rule"] = np.select(
        [cells["threshold"], cells["dominance"], cells["p_percent"], hidden & ~primary],
        ["threshold", "dominance", "p_percent", "secondary"],
        default="",
    )
    return cells


def linked_patterns(
    contributions: pd.DataFrame,
    tables: dict[str, Sequence[str]],
    *,
    value: str | Sequence[str],
    unit: str = "initiative_id",
    rules: MagnitudeRules | None = DEFAULT_RULES,
    min_group_size: int = 10,
    split: Sequence[str] = (),
) -> dict[str, pd.DataFrame]:
    """:func:`linked_pattern` for several tables sharing cells (margins), until they agree.

    ``tables`` maps a table name to its ``by`` columns. A cell hidden in one table (a place's
    total, the by-source cells inside the source x phase table) is forced hidden in every table
    holding it, and the tables holding a newly forced cell are solved again until no table hides
    a new shared cell (hiding more never makes a hidden cell recoverable, so this ends).
    """
    values = [value] if isinstance(value, str) else list(value)
    prepared = {
        name: _prepare(contributions, list(by), values, unit, rules, min_group_size, split) for name, by in tables.items()
    }
    keys = {name: set(cells["key"]) for name, (cells, _) in prepared.items()}
    forced: set[tuple] = set()
    patterns: dict[str, pd.DataFrame] = {}
    todo = list(tables)
    while todo:
        for name in todo:
            patterns[name] = _solve(prepared[name], list(tables[name]), values, rules, min_group_size, forced)
        hidden = set().union(*(set(p.loc[p["hidden"], "key"]) for p in patterns.values()))
        new = hidden - forced
        forced |= hidden
        todo = [
            name for name in tables if keys[name] & new and not new <= set(patterns[name].loc[patterns[name]["hidden"], "key"])
        ]
    return patterns


def report_area(report) -> str:
    """The area of a report's place in the run's hierarchy (its municipality's province from the
    whole dataset, since a municipality report may not name the province)."""
    from maexlab.data.loader import normalise_municipality_code

    params = report.parameters
    municipality, province = params.get("municipality"), params.get("province")
    if municipality:
        code = normalise_municipality_code(municipality)
        ini = population(report).tables.get("initiatives")
        provinces = ini.loc[ini["municipality_code"] == code, "province"].dropna() if ini is not None else pd.Series(dtype=str)
        return area_of(str(provinces.iloc[0]) if len(provinces) else None, code)
    return area_of(province, None)


def population(report):
    """The whole dataset of the run (same period, every place), or the report's data without one."""
    whole = getattr(report, "population", None)
    return report.data if whole is None else whole


def apply_linked(
    table: pd.DataFrame, pattern: pd.DataFrame, area: str, by: Sequence[str], *, fallback: pd.DataFrame | None = None
) -> pd.DataFrame:
    """One report's ``table`` (raw, one row per cell of ``by``) with the run's linked ``pattern``
    applied for the report's ``area``: the rows the pattern hides are hidden, every statistic in
    them, with the pattern's rule (threshold, dominance, p_percent or secondary).

    The pattern decides for every row it knows, so every report of the run hides the same cells;
    a row it does not know (none, when both come from the same data) keeps its state in
    ``fallback`` (the table after its own rules), if given. Adds ``suppressed`` and ``suppressed_rule``.
    """
    by = list(by)
    here = pattern[(pattern["area"] == area)]
    for d in by:
        here = here[here[d] != ALL]
    lookup = {
        tuple(str(v) for v in r[:-2]): (bool(r[-2]), str(r[-1]))
        for r in here[[*by, "hidden", "rule"]].itertuples(index=False, name=None)
    }
    keys = [tuple(str(v) for v in r) for r in table[by].itertuples(index=False, name=None)] if by else [()] * len(table)
    if fallback is not None:
        own_hidden = fallback["suppressed"].astype(bool).to_numpy()
        own_rule = fallback["suppressed_rule"].astype(object).to_numpy()
    else:
        own_hidden, own_rule = np.zeros(len(table), dtype=bool), np.full(len(table), "", dtype=object)
    decided = [lookup.get(k) for k in keys]
    hidden = np.array([d[0] if d is not None else own_hidden[i] for i, d in enumerate(decided)], dtype=bool)
    rule = np.array([(d[1] if d[0] else "") if d is not None else own_rule[i] for i, d in enumerate(decided)], dtype=object)
    out = table.drop(columns=["suppressed", "suppressed_rule"], errors="ignore").copy()
    for column in out.columns:
        if column in by:
            continue
        if pd.api.types.is_integer_dtype(out[column]):
            out[column] = out[column].astype("Int64").mask(hidden)
        elif pd.api.types.is_numeric_dtype(out[column]) and not pd.api.types.is_bool_dtype(out[column]):
            out[column] = out[column].astype("float64").mask(hidden)
        else:
            out[column] = out[column].astype(object).mask(hidden)
    out["suppressed"] = hidden
    out["suppressed_rule"] = rule
    return out
