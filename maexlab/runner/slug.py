"""Folder names for reports: deterministic, ASCII, lowercase and unique.

>>> slugify("'s-Hertogenbosch")
's-hertogenbosch'
>>> slugify("Fryslân / Súdwest")
'fryslan-sudwest'
>>> param_slug({})
'default-44136fa3'
"""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from typing import Any

__all__ = ["canonical_json", "params_hash", "param_slug", "slugify"]

_NON_SLUG = re.compile(r"[^a-z0-9]+")
#: Characters that NFKD does not decompose into ASCII but that occur in Dutch/Frisian names.
_TRANSLIT = str.maketrans({"ß": "ss", "æ": "ae", "Æ": "AE", "ø": "o", "Ø": "O", "ĳ": "ij", "Ĳ": "IJ", "ł": "l", "Ł": "L"})


def slugify(text: Any, max_length: int = 40) -> str:
    """Lowercase ASCII words joined by ``-``; never empty (``"x"`` stands for nothing left)."""
    s = unicodedata.normalize("NFKD", str(text).translate(_TRANSLIT))
    s = s.encode("ascii", "ignore").decode("ascii").lower()
    s = _NON_SLUG.sub("-", s).strip("-")
    if len(s) > max_length:
        s = s[:max_length].rstrip("-")
    return s or "x"


def canonical_json(value: Any) -> str:
    """JSON with sorted keys and no whitespace: the same parameters always give the same text."""
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)


def params_hash(params: dict[str, Any], length: int = 8) -> str:
    return hashlib.sha256(canonical_json(params).encode("utf-8")).hexdigest()[:length]


def param_slug(params: dict[str, Any], max_length: int = 80) -> str:
    """``key-value_key-value-<hash8>`` for a parameter dict, ``default-<hash8>`` when empty.

    The readable part may be shortened or collide after transliteration (``Fryslân`` and
    ``Fryslan``); the hash of the exact parameters keeps every slug unique.
    """
    h = params_hash(params)
    parts = [f"{slugify(k, 20)}-{slugify(params[k], 30)}" for k in sorted(params)]
    readable = "_".join(parts) or "default"
    if len(readable) > max_length:
        readable = readable[:max_length].rstrip("-_")
    return f"{readable}-{h}"
