"""Parameter sets: YAML files that say which notebooks run with which parameters.

A parameter set is validated completely before any job runs; every problem becomes one line
of a :class:`ParamsError` that names the YAML file and the key, for example::

    params/x.yaml: runs[1].province: 'Frisland' is not a province (did you mean 'Fryslân'?)

Format (see ``docs/runner.md``)::

    name: provinces                # default run name
    notebooks: ["*.ipynb"]         # file names or globs in notebooks/; default: all
    defaults: {min_group_size: 10} # parameters every job gets
    runs:                          # explicit parameter dicts (merged over defaults) ...
      - {}                         # ... here: the national report
    grid:                          # ... and/or a cartesian product (merged over defaults)
      province: all                # special: the 12 provinces
      municipality: all_in_data    # special: every municipality code present in the data

Jobs are the explicit ``runs`` followed by the ``grid`` points (duplicates dropped); with
neither, the set is one job with ``defaults``.
"""

from __future__ import annotations

import ast
import difflib
import fnmatch
import itertools
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from maexlab.data.schema import PROVINCES
from maexlab.data.yaml_safe import load_yaml_text

__all__ = [
    "ParameterSet",
    "ParameterSpec",
    "ParamsError",
    "load_parameter_set",
    "load_yaml",
    "municipalities_in_data",
    "normalise_municipality",
    "notebook_parameters",
]

TOP_LEVEL_KEYS = ("name", "notebooks", "defaults", "runs", "grid", "description")
#: Parameters the runner sets itself; a parameter set may not set them.
RUNNER_PARAMETERS = ("output_dir",)
ALL_PROVINCES = "all"
ALL_MUNICIPALITIES = "all_in_data"
#: Keys whose YAML scalars are always read as text (CBS codes: 0363 must not become 363 or 243).
STRING_KEYS = frozenset({"municipality"})
#: Types of contract parameters whose default is None (the default alone says nothing).
KNOWN_TYPES: dict[str, tuple[type, ...]] = {
    "data_source": (str,),
    "province": (str,),
    "municipality": (str,),
    "period_start": (int,),
    "period_end": (int,),
    "min_group_size": (int,),
    "dominance_n": (int,),
    "dominance_k": (int, float),
    "p_percent": (int, float),
    "seed": (int,),
    "output_dir": (str,),
}
_CODE = re.compile(r"(?:GM)?(\d{1,4})", re.IGNORECASE)
_ONE_OF = re.compile(r"one of\s*:\s*(.+)$", re.IGNORECASE)


class ParamsError(ValueError):
    """A parameter set is invalid; ``errors`` holds one message per problem."""

    def __init__(self, errors: list[str]):
        self.errors = list(dict.fromkeys(errors))
        super().__init__("invalid parameter set:\n  " + "\n  ".join(self.errors))


# --- YAML ---------------------------------------------------------------------------------


class _Loader(yaml.SafeLoader):
    """SafeLoader that keeps scalars under ``municipality`` as text.

    YAML 1.1 reads ``0363`` as the octal integer 243 and ``363`` as an int; for the keys in
    :data:`STRING_KEYS` the scalar's source text is kept instead, so ``municipality: 0363``,
    ``municipality: "0363"`` and ``municipality: [0363, 0599]`` all give text.
    """

    def construct_mapping(self, node, deep=False):  # type: ignore[override]
        if isinstance(node, yaml.MappingNode):
            for key_node, value_node in node.value:
                if isinstance(key_node, yaml.ScalarNode) and key_node.value in STRING_KEYS:
                    _keep_text(value_node)
        return super().construct_mapping(node, deep=deep)


def _keep_text(node: yaml.Node) -> None:
    if isinstance(node, yaml.ScalarNode):
        if node.tag in ("tag:yaml.org,2002:int", "tag:yaml.org,2002:float"):
            node.tag = "tag:yaml.org,2002:str"
    elif isinstance(node, yaml.SequenceNode):
        for item in node.value:
            _keep_text(item)


def load_yaml(path: str | Path) -> Any:
    """Read a YAML file safely (no Python objects), keeping municipality codes as text."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ParamsError([f"{path}: cannot read: {exc.strerror or exc}"]) from exc
    except UnicodeDecodeError as exc:
        raise ParamsError([f"{path}: not UTF-8 text: {exc}"]) from exc
    try:
        return load_yaml_text(text, text_keys=STRING_KEYS)  # refuses duplicate keys, tags and alias bombs
    except yaml.YAMLError as exc:
        where = ""
        mark = getattr(exc, "problem_mark", None)
        if mark is not None:
            where = f" (line {mark.line + 1}, column {mark.column + 1})"
        problem = getattr(exc, "problem", None) or str(exc)
        raise ParamsError([f"{path}: malformed YAML{where}: {problem}"]) from exc


# --- notebook parameters ------------------------------------------------------------------


@dataclass(frozen=True)
class ParameterSpec:
    """One documented parameter of a notebook, read by ``papermill.inspect_notebook``."""

    name: str
    default: Any
    help: str = ""
    types: tuple[type, ...] | None = None  # None: any type
    nullable: bool = True
    options: tuple[Any, ...] = ()

    def describe_type(self) -> str:
        if self.types is None:
            return "any value"
        names = " or ".join(t.__name__ for t in self.types)
        return names + (" or null" if self.nullable else "")


_ANNOTATION_TYPES = {"int": (int,), "float": (int, float), "str": (str,), "bool": (bool,), "list": (list,), "dict": (dict,)}


def _literal(text: str) -> Any:
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return text


def _parse_options(help_text: str) -> tuple[Any, ...]:
    m = _ONE_OF.search(help_text or "")
    if not m:
        return ()
    options = []
    for raw in m.group(1).split(","):
        raw = raw.strip().rstrip(".;")
        if raw.lower().startswith("or "):
            raw = raw[3:].strip()
        if not raw:
            continue
        value = _literal(raw)
        options.append(value)
    return tuple(options)


def _spec_from_papermill(name: str, info: dict[str, Any]) -> ParameterSpec:
    default_src = info.get("default", "None")
    default = _literal(default_src)
    help_text = info.get("help") or ""
    annotation = (info.get("inferred_type_name") or "None").strip()
    nullable = default is None or "none" in help_text.lower() or "null" in help_text.lower()
    ann = annotation.replace("typing.", "")
    opt = re.fullmatch(r"Optional\[(\w+)\]", ann)
    if opt:
        ann, nullable = opt.group(1), True
    if ann in _ANNOTATION_TYPES:
        types: tuple[type, ...] | None = _ANNOTATION_TYPES[ann]
    elif default is None:
        types = KNOWN_TYPES.get(name)
    elif isinstance(default, bool):
        types = (bool,)
    elif isinstance(default, int):
        types = (int,)
    elif isinstance(default, float):
        types = (int, float)
    elif isinstance(default, (str, list, dict)):
        types = (type(default),)
    else:
        types = None
    return ParameterSpec(name, default, help_text, types, nullable, _parse_options(help_text))


def notebook_parameters(path: str | Path) -> dict[str, ParameterSpec]:
    """The documented parameters of a notebook (its cell tagged ``parameters``)."""
    import nbformat
    import papermill
    from papermill.inspection import _infer_parameters

    path = Path(path)
    try:
        raw = papermill.inspect_notebook(str(path))
    except ValueError:
        # no kernelspec in the notebook's metadata: inspect it as a maexlab notebook
        nb = nbformat.read(str(path), as_version=4)
        raw = {p.name: p._asdict() for p in _infer_parameters(nb, name="maexlab", language="python")}
    return {name: _spec_from_papermill(name, info) for name, info in raw.items()}


# --- places ---------------------------------------------------------------------------------


def normalise_municipality(value: Any) -> str | None:
    """``"0363"``, ``"363"``, ``"gm0363"`` -> ``"GM0363"``; ``None`` stays ``None``.

    Integers are refused: an unquoted code in Python (or YAML read without this module's
    loader) has lost its leading zeros, so it is ambiguous.
    """
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, str):
        raise ValueError(f'{value!r} is not a municipality code; write it as text such as "GM0363" or "0363"')
    m = _CODE.fullmatch(value.strip())
    if not m:
        raise ValueError(f'{value!r} is not a CBS municipality code such as "GM0363"')
    return "GM" + m.group(1).zfill(4)


def municipalities_in_data(data_source: str) -> dict[str, str | None]:
    """Every municipality code present in a dataset -> its province (None when unknown).

    The only place the runner reads data; tests monkeypatch it.
    """
    import maexlab

    data = maexlab.load(data_source)
    df = data.initiatives
    out: dict[str, str | None] = {}
    for code, prov in zip(df["municipality_code"], df["province"] if "province" in df else [None] * len(df), strict=True):
        if isinstance(code, str) and code:
            out.setdefault(code, prov if isinstance(prov, str) else None)
    return dict(sorted(out.items()))


# --- parameter sets -------------------------------------------------------------------------


@dataclass
class Combination:
    """One parameter dict of a set, with where each value came from (for error messages)."""

    params: dict[str, Any]
    origin: dict[str, str] = field(default_factory=dict)
    reported: frozenset[str] = frozenset()  # keys whose problem is already reported


@dataclass
class ParameterSet:
    path: Path
    name: str
    notebooks: list[Path]
    combinations: list[Combination]
    specs: dict[Path, dict[str, ParameterSpec]]

    def jobs(self) -> list[tuple[Path, dict[str, Any]]]:
        """(notebook, explicit parameters) for every job, notebook by notebook."""
        return [(nb, dict(c.params)) for nb in self.notebooks for c in self.combinations]


#: Other names people use for a place, folded (see :func:`_fold`) -> the official name.
ALIASES = {
    "friesland": "Fryslân",
    "frisia": "Fryslân",
    "north holland": "Noord-Holland",
    "south holland": "Zuid-Holland",
    "north brabant": "Noord-Brabant",
    "zealand": "Zeeland",
    "brabant": "Noord-Brabant",
}


def _fold(text: str) -> str:
    """Case, accents, dashes and spaces folded away: ``"Fryslân"`` -> ``"fryslan"``."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return re.sub(r"[\s_\-']+", " ", plain).strip()


def _did_you_mean(value: str, choices: list[str]) -> str:
    """A suggestion by similarity of the whole (folded) name, or by a known alias."""
    folded = {_fold(c): c for c in choices}
    key = _fold(value)
    if key in folded:
        return f" (did you mean {folded[key]!r}?)"
    if key in ALIASES and ALIASES[key] in choices:
        return f" (did you mean {ALIASES[key]!r}?)"
    scored = sorted(((difflib.SequenceMatcher(None, key, f).ratio(), c) for f, c in folded.items()), reverse=True)
    if scored and scored[0][0] >= 0.6 and (len(scored) == 1 or scored[0][0] - scored[1][0] >= 0.05):
        return f" (did you mean {scored[0][1]!r}?)"
    return ""


def _nfc(value: Any) -> Any:
    """Text in composed Unicode (NFC), so a decomposed "Fryslân" equals the composed one."""
    if isinstance(value, str):
        return unicodedata.normalize("NFC", value)
    if isinstance(value, list):
        return [_nfc(v) for v in value]
    if isinstance(value, dict):
        return {k: _nfc(v) for k, v in value.items()}
    return value


def _resolve_notebooks(entries: Any, where: str, notebooks_dir: Path, errors: list[str]) -> list[Path]:
    if entries is None:
        entries = ["*.ipynb"]
    if isinstance(entries, str):
        entries = [entries]
    if not isinstance(entries, list) or not all(isinstance(e, str) for e in entries):
        errors.append(f"{where}: notebooks: expected a list of notebook file names or globs")
        return []
    available = sorted(p for p in notebooks_dir.glob("*.ipynb") if not p.name.startswith("."))
    found: list[Path] = []
    for i, entry in enumerate(entries):
        p = Path(entry)
        if p.is_absolute() or len(p.parts) > 1:
            base = p if p.is_absolute() else notebooks_dir / p
            matches = sorted(base.parent.glob(base.name)) if base.parent.is_dir() else []
        else:
            pattern = entry if entry.endswith(".ipynb") or any(c in entry for c in "*?[") else entry + ".ipynb"
            matches = [nb for nb in available if fnmatch.fnmatchcase(nb.name, pattern)]
        matches = [m for m in matches if m.suffix == ".ipynb" and m.is_file()]
        if not matches:
            errors.append(f"{where}: notebooks[{i}]: {entry!r} matches no notebook in {notebooks_dir}")
        for m in matches:
            if m.resolve() not in [f.resolve() for f in found]:
                found.append(m)
    return found


def _check_params_dict(value: Any, where: str, errors: list[str]) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        errors.append(f"{where}: expected a mapping of parameter names to values, got {type(value).__name__}")
        return {}
    bad = [k for k in value if not isinstance(k, str) or not k.isidentifier()]
    for k in bad:
        errors.append(f"{where}.{k}: parameter names must be Python identifiers")
    return {k: _nfc(v) for k, v in value.items() if k not in bad}


def _normalise_places(params: dict[str, Any], where: str, errors: list[str], reported: set[str] | None = None) -> dict[str, Any]:
    out = dict(params)
    if "municipality" in out and out["municipality"] != ALL_MUNICIPALITIES:
        try:
            out["municipality"] = normalise_municipality(out["municipality"])
        except ValueError as exc:
            errors.append(f"{where}.municipality: {exc}")
            if reported is not None:
                reported.add("municipality")
    return out


def _expand(
    doc: dict[str, Any], where: str, errors: list[str], lookup: Callable[[str], dict[str, str | None]]
) -> list[Combination]:
    default_reported: set[str] = set()
    defaults = _normalise_places(
        _check_params_dict(doc.get("defaults"), f"{where}: defaults", errors), f"{where}: defaults", errors, default_reported
    )
    def_origin = {k: f"defaults.{k}" for k in defaults}
    combos: list[Combination] = []

    runs = doc.get("runs")
    if runs is not None:
        if not isinstance(runs, list):
            errors.append(f"{where}: runs: expected a list of parameter mappings")
            runs = []
        for i, run in enumerate(runs):
            label = f"runs[{i}]"
            reported = set(default_reported)
            raw = _check_params_dict(run, f"{where}: {label}", errors)
            reported -= set(raw)
            params = _normalise_places(raw, f"{where}: {label}", errors, reported)
            for key in ("province", "municipality"):
                if params.get(key) in (ALL_PROVINCES, ALL_MUNICIPALITIES):
                    errors.append(f"{where}: {label}.{key}: {params[key]!r} is only allowed in grid")
                    reported.add(key)
            combos.append(
                Combination({**defaults, **params}, {**def_origin, **{k: f"{label}.{k}" for k in params}}, frozenset(reported))
            )

    grid = doc.get("grid")
    if grid is not None:
        if not isinstance(grid, dict):
            errors.append(f"{where}: grid: expected a mapping of parameter names to lists of values")
            grid = {}
        axes: dict[str, list[Any]] = {}
        for key, values in grid.items():
            if not isinstance(key, str) or not key.isidentifier():
                errors.append(f"{where}: grid.{key}: parameter names must be Python identifiers")
                continue
            if key == "province" and values == ALL_PROVINCES:
                values = list(PROVINCES)
            elif key == "municipality" and values == ALL_MUNICIPALITIES:
                values = [ALL_MUNICIPALITIES]  # resolved per grid point (it depends on data_source)
            elif not isinstance(values, list):
                values = [values]
            values = _nfc(values)
            if not values:
                errors.append(f"{where}: grid.{key}: empty list (the grid would have no jobs)")
                continue
            if key == "municipality":
                normalised = []
                for v in values:
                    if v == ALL_MUNICIPALITIES:
                        normalised.append(v)
                        continue
                    try:
                        normalised.append(normalise_municipality(v))
                    except ValueError as exc:
                        errors.append(f"{where}: grid.municipality: {exc}")
                values = normalised
            axes[key] = values
        keys = list(axes)
        for point in itertools.product(*(axes[k] for k in keys)):
            params = {**defaults, **dict(zip(keys, point, strict=True))}
            origin = {**def_origin, **{k: f"grid.{k}" for k in keys}}
            grid_reported = frozenset(default_reported - set(keys))
            if params.get("municipality") == ALL_MUNICIPALITIES:
                source = params.get("data_source", "embedded")
                try:
                    codes = lookup(source)
                except Exception as exc:  # noqa: BLE001 - any failure to read data is reported
                    errors.append(
                        f"{where}: grid.municipality: cannot list the municipalities in data_source {source!r}: "
                        f"{type(exc).__name__}: {exc}"
                    )
                    continue
                province = params.get("province")
                for code, code_province in codes.items():
                    if province is None or code_province is None or code_province == province:
                        combos.append(Combination({**params, "municipality": code}, origin, grid_reported))
            else:
                combos.append(Combination(params, origin, grid_reported))

    if runs is None and grid is None:
        combos.append(Combination(dict(defaults), def_origin, frozenset(default_reported)))

    unique: dict[str, Combination] = {}
    from maexlab.runner.slug import canonical_json

    for c in combos:
        unique.setdefault(canonical_json(c.params), c)
    return list(unique.values())


def _type_ok(value: Any, spec: ParameterSpec) -> bool:
    if value is None:
        return spec.nullable
    if spec.types is None:
        return True
    if isinstance(value, bool) and bool not in spec.types:
        return False
    return isinstance(value, spec.types)


def _validate(
    pset_path: Path,
    notebooks: list[Path],
    specs: dict[Path, dict[str, ParameterSpec]],
    combos: list[Combination],
    lookup: Callable[[str], dict[str, str | None]],
    errors: list[str],
    base_dir: Path,
) -> None:
    where = str(pset_path)
    data_cache: dict[str, dict[str, str | None] | Exception] = {}
    for c in combos:
        # keys the runner owns
        for key in RUNNER_PARAMETERS:
            if key in c.params:
                errors.append(f"{where}: {c.origin.get(key, key)}: {key!r} is set by the runner (the report's folder)")
        # places and periods, independent of the notebook
        prov = c.params.get("province")
        if "province" in c.params and prov is not None and "province" not in c.reported:
            if not isinstance(prov, str):
                errors.append(f"{where}: {c.origin['province']}: expected a province name, got {prov!r}")
            elif prov not in PROVINCES:
                errors.append(
                    f"{where}: {c.origin['province']}: {prov!r} is not a province"
                    f"{_did_you_mean(prov, list(PROVINCES))}; expected one of {', '.join(PROVINCES)}"
                )
        source = c.params.get("data_source", "embedded")
        if isinstance(source, str) and source != "embedded":
            p = Path(source)
            if not p.is_absolute():
                p = base_dir / p
            if not p.exists():
                errors.append(f"{where}: {c.origin.get('data_source', 'data_source')}: data source {source!r} does not exist")
                source = None  # the other checks go on; only the data lookup is impossible
        code = c.params.get("municipality")
        if isinstance(code, str) and code != ALL_MUNICIPALITIES and isinstance(source, str) and "municipality" not in c.reported:
            if source not in data_cache:
                try:
                    data_cache[source] = lookup(source)
                except Exception as exc:  # noqa: BLE001
                    data_cache[source] = exc
            known = data_cache[source]
            if isinstance(known, Exception):
                errors.append(
                    f"{where}: {c.origin['municipality']}: cannot check {code!r} against data_source {source!r}: "
                    f"{type(known).__name__}: {known}"
                )
            elif code not in known:
                errors.append(f"{where}: {c.origin['municipality']}: municipality {code!r} is not in data_source {source!r}")
            elif isinstance(prov, str) and known[code] not in (None, prov):
                errors.append(f"{where}: {c.origin['municipality']}: municipality {code!r} lies in {known[code]}, not in {prov}")
        start, end = c.params.get("period_start"), c.params.get("period_end")
        if isinstance(start, int) and isinstance(end, int) and start > end:
            errors.append(f"{where}: {c.origin['period_start']}: period_start {start} is after period_end {end}")
        # per notebook: names, types, options
        for nb in notebooks:
            nb_specs = specs[nb]
            for key, value in c.params.items():
                origin = c.origin.get(key, key)
                if key in RUNNER_PARAMETERS or key in c.reported:
                    continue
                spec = nb_specs.get(key)
                if spec is None:
                    documented = ", ".join(nb_specs) or "none"
                    errors.append(
                        f"{where}: {origin}: unknown parameter {key!r} for notebook {nb.name} (its parameters: {documented})"
                    )
                    continue
                if not _type_ok(value, spec):
                    errors.append(
                        f"{where}: {origin}: wrong type for {key!r} in notebook {nb.name}: "
                        f"expected {spec.describe_type()}, got {type(value).__name__} {value!r}"
                    )
                    continue
                if spec.options and value is not None and value not in spec.options:
                    errors.append(
                        f"{where}: {origin}: {value!r} is not an option of {key!r} in notebook {nb.name}; "
                        f"expected one of: {', '.join(map(str, spec.options))}"
                    )


def load_parameter_set(
    path: str | Path,
    notebooks_dir: str | Path = "notebooks",
    *,
    lookup: Callable[[str], dict[str, str | None]] | None = None,
    base_dir: str | Path | None = None,
) -> ParameterSet:
    """Read, expand and validate a parameter set; raise :class:`ParamsError` listing every problem.

    ``lookup(data_source)`` lists the municipalities in a dataset (default
    :func:`municipalities_in_data`); ``base_dir`` resolves relative ``data_source`` folders
    (default: the current directory).
    """
    path = Path(path)
    notebooks_dir = Path(notebooks_dir)
    base = Path(base_dir) if base_dir is not None else Path.cwd()
    raw_lookup = lookup if lookup is not None else (lambda source: municipalities_in_data(source))  # late binding
    cache: dict[str, dict[str, str | None]] = {}

    def lookup(source: str) -> dict[str, str | None]:  # type: ignore[no-redef]
        if source not in cache:
            cache[source] = raw_lookup(source)
        return cache[source]

    doc = load_yaml(path)
    where = str(path)
    if doc is None:
        raise ParamsError([f"{where}: the file is empty"])
    if not isinstance(doc, dict):
        raise ParamsError([f"{where}: expected a mapping with keys {', '.join(TOP_LEVEL_KEYS)}, got {type(doc).__name__}"])
    errors: list[str] = []
    for key in doc:
        if key not in TOP_LEVEL_KEYS:
            errors.append(
                f"{where}: {key}: unknown key{_did_you_mean(str(key), list(TOP_LEVEL_KEYS))}; expected {', '.join(TOP_LEVEL_KEYS)}"
            )
    name = doc.get("name", path.stem)
    if not isinstance(name, str) or not name.strip():
        errors.append(f"{where}: name: expected a non-empty text")
        name = path.stem
    if not notebooks_dir.is_dir():
        errors.append(f"{where}: notebooks: folder {notebooks_dir} does not exist")
        notebooks: list[Path] = []
    else:
        notebooks = _resolve_notebooks(doc.get("notebooks"), where, notebooks_dir, errors)
    specs: dict[Path, dict[str, ParameterSpec]] = {}
    for nb in notebooks:
        try:
            specs[nb] = notebook_parameters(nb)
        except Exception as exc:  # noqa: BLE001
            errors.append(f"{where}: notebooks: cannot read the parameters of {nb}: {type(exc).__name__}: {exc}")
    notebooks = [nb for nb in notebooks if nb in specs]
    combos = _expand(doc, where, errors, lookup)
    if not errors and not combos:
        errors.append(f"{where}: the parameter set expands to no jobs")
    _validate(path, notebooks, specs, combos, lookup, errors, base)
    if errors:
        raise ParamsError(errors)
    return ParameterSet(path, name.strip(), notebooks, combos, specs)
