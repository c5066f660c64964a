"""Every message and vocabulary term exists in both report languages, with the same placeholders."""

from __future__ import annotations

import ast
import json
import re
import string
from pathlib import Path

import pytest

from maexlab.data import schema
from maexlab.reporting.i18n import LANGUAGES, Messages, catalogue

ROOT = Path(__file__).resolve().parents[1]
NAMESPACES = {p.stem for lang in LANGUAGES for p in (ROOT / "maexlab/reporting/messages" / lang).glob("*.yaml")}
ALTERNATIVES = "|".join(sorted(NAMESPACES, key=len, reverse=True))
KEY = re.compile(rf"^({ALTERNATIVES})\.[a-z0-9_]+(\.[a-z0-9_]+)*$")


def _fields(template: str) -> set[tuple[str, str]]:
    return {(name, spec or "") for _, name, spec, _ in string.Formatter().parse(template) if name is not None}


def test_both_languages_have_the_same_keys():
    en, nl = set(catalogue("en")), set(catalogue("nl"))
    assert not en - nl, f"missing in nl: {sorted(en - nl)}"
    assert not nl - en, f"missing in en: {sorted(nl - en)}"


def test_placeholders_agree_between_languages():
    en, nl = catalogue("en"), catalogue("nl")
    differ = {k: (_fields(en[k]), _fields(nl[k])) for k in en if k in nl and _fields(en[k]) != _fields(nl[k])}
    assert not differ, f"placeholders differ: {differ}"


def test_placeholder_kinds_are_known():
    for lang in LANGUAGES:
        for key, text in catalogue(lang).items():
            for _, spec in _fields(text):
                assert spec in ("",) + Messages.KINDS, f"{lang}:{key} uses unknown kind {spec!r}"


def test_every_vocabulary_term_has_a_label_in_both_languages():
    vocabularies = [
        v for k, v in vars(schema).items() if k.isupper() and isinstance(v, tuple) and v and all(isinstance(x, str) for x in v)
    ]
    terms = {t for v in vocabularies for t in v if v is not schema.PROVINCES} | set(schema.IMPACT_INDICATORS)
    for lang in LANGUAGES:
        missing = sorted(t for t in terms if f"vocabulary.{t}" not in catalogue(lang))
        assert not missing, f"{lang}: no label for {missing}"


def _literal_keys() -> dict[str, str]:
    """Every string literal in the package and notebooks that looks like a catalogue key."""
    found: dict[str, str] = {}
    for path in sorted((ROOT / "maexlab").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and KEY.match(node.value):
                found.setdefault(node.value, str(path.relative_to(ROOT)))
    for path in sorted((ROOT / "notebooks").glob("*.ipynb")):
        for cell in json.loads(path.read_text(encoding="utf-8"))["cells"]:
            if cell["cell_type"] == "code":
                for match in re.findall(r"""["']([a-z0-9_]+(?:\.[a-z0-9_]+)+)["']""", "".join(cell["source"])):
                    if KEY.match(match):
                        found.setdefault(match, path.name)
    return found


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_key_the_code_names_exists(language):
    keys = catalogue(language)
    # A literal may also be the start of keys built in code ("common.verdict." + verdict,
    # "funding.reasons.term_" + name); file names that look like keys ("index.html") are not keys.
    files = (".html", ".json", ".csv", ".png", ".yaml", ".ipynb", ".py", ".md", ".txt", ".parquet")
    missing = {
        k: where
        for k, where in _literal_keys().items()
        if k not in keys and not k.endswith(files) and not any(x.startswith(k) for x in keys)
    }
    assert not missing, f"{language}: keys used in code but not in the catalogue: {missing}"


def test_formatting_follows_the_locale():
    nl, en = Messages("nl"), Messages("en")
    assert nl.value(1234.5, "number") == "1.234,5" and en.value(1234.5, "number") == "1,234.5"
    assert nl.value(15000, "money") == "€\xa015.000" and en.value(15000, "money") == "€15,000"
    assert nl.value("2024-03-01", "date") == "1 maart 2024"
    assert nl.interval(0.593, 0.561, 0.624) == "59% (56-62%)"
    assert nl.value(float("nan"), "percent") == "–" and nl.value(None, "count") == "–"
    assert nl.term("government_subsidy") == "overheidssubsidie"


def test_a_missing_key_is_a_clear_error():
    with pytest.raises(KeyError, match="no message 'common.nope'"):
        Messages("en").text("common.nope")
    with pytest.raises(ValueError, match="language must be one of"):
        Messages("de")
