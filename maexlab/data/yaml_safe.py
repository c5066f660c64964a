"""One safe YAML reader for every YAML file maexlab reads (mapping files, runner parameter sets).

It refuses what a hand-written configuration never needs and an attacker or a typo can exploit:

* duplicate keys (``{seed: 1, seed: 2}`` would silently run with seed 2);
* tags that build objects (``!!python/object``...): only plain values, lists and mappings;
* alias expansion beyond a small budget (a kilobyte of nested anchors, the "billion laughs",
  expands until memory runs out): at most :data:`MAX_ALIASES` aliases, expanding to at most
  :data:`MAX_EXPANDED_NODES` values in all.

Every refusal is a :class:`YamlProblem` naming the line (and column). Mappings and lists come
back as :class:`LineDict` / :class:`LineList`, plain ``dict`` / ``list`` subclasses that also
remember the line of themselves and of each key or item, so later checks can name lines too.
Keys are kept as the text written (``2019:`` and ``ja:`` stay ``"2019"`` and ``"ja"``).

>>> doc = load_yaml_text("defaults:\\n  seed: 1\\n")
>>> doc["defaults"]["seed"], doc.key_lines["defaults"]
(1, 1)
>>> load_yaml_text("a: 1\\na: 2\\n")
Traceback (most recent call last):
...
maexlab.data.yaml_safe.YamlProblem: line 2, column 1: duplicate key 'a' (first on line 1)
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import yaml

__all__ = ["MAX_ALIASES", "MAX_EXPANDED_NODES", "LineDict", "LineList", "YamlProblem", "load_yaml_text"]

#: At most this many ``*alias`` uses in one document (hand-written files need a handful).
MAX_ALIASES = 50
#: At most this many values in the document once every alias is expanded.
MAX_EXPANDED_NODES = 100_000

_INT_OR_FLOAT = ("tag:yaml.org,2002:int", "tag:yaml.org,2002:float")
#: Tags a plain configuration may use (implicit or written out).
_PLAIN_TAGS = frozenset(
    "tag:yaml.org,2002:" + t for t in ("map", "seq", "str", "int", "float", "bool", "null", "timestamp", "merge")
)


class YamlProblem(yaml.MarkedYAMLError):
    """A YAML document that is malformed or refused; ``line`` is 1-based (0 when unknown).

    A subclass of ``yaml.MarkedYAMLError`` so callers that already report PyYAML errors
    with their ``problem`` and ``problem_mark`` keep working.
    """

    def __init__(self, problem: str, mark: yaml.Mark | None = None, *, malformed: bool = False):
        super().__init__(problem=problem, problem_mark=mark)
        self.line = mark.line + 1 if mark is not None else 0
        self.malformed = malformed  # not YAML at all, rather than YAML this reader refuses

    def __str__(self) -> str:
        text = f"malformed YAML: {self.problem}" if self.malformed else str(self.problem)
        if self.problem_mark is None:
            return text
        return f"line {self.problem_mark.line + 1}, column {self.problem_mark.column + 1}: {text}"


class LineDict(dict):
    """A YAML mapping that remembers the line of itself and of each key (1-based)."""

    line: int = 0
    key_lines: dict[str, int]

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.key_lines = {}


class LineList(list):
    """A YAML list that remembers the line of itself and of each item (1-based)."""

    line: int = 0
    item_lines: list[int]

    def __init__(self, *args: Any):
        super().__init__(*args)
        self.item_lines = []


class _Loader(yaml.SafeLoader):
    """SafeLoader with line-numbered containers, text keys and no duplicate keys."""

    text_keys: frozenset[str] = frozenset()


def _construct_mapping(loader: _Loader, node: yaml.MappingNode) -> LineDict:
    loader.flatten_mapping(node)
    result = LineDict()
    result.line = node.start_mark.line + 1
    for key_node, value_node in node.value:
        if not isinstance(key_node, yaml.ScalarNode):
            raise YamlProblem("a key must be plain text, not a list or a mapping", key_node.start_mark)
        key = key_node.value
        if key in result:
            raise YamlProblem(f"duplicate key {key!r} (first on line {result.key_lines[key]})", key_node.start_mark)
        if key in loader.text_keys:
            _keep_text(value_node)
        result[key] = loader.construct_object(value_node, deep=True)
        result.key_lines[key] = key_node.start_mark.line + 1
    return result


def _construct_sequence(loader: _Loader, node: yaml.SequenceNode) -> LineList:
    result = LineList(loader.construct_object(child, deep=True) for child in node.value)
    result.line = node.start_mark.line + 1
    result.item_lines = [child.start_mark.line + 1 for child in node.value]
    return result


def _keep_text(node: yaml.Node) -> None:
    """Read numbers under a text key as the text written (YAML 1.1 reads 0363 as octal 243)."""
    if isinstance(node, yaml.ScalarNode):
        if node.tag in _INT_OR_FLOAT:
            node.tag = "tag:yaml.org,2002:str"
    elif isinstance(node, yaml.SequenceNode):
        for item in node.value:
            _keep_text(item)


_Loader.add_constructor("tag:yaml.org,2002:map", _construct_mapping)
_Loader.add_constructor("tag:yaml.org,2002:seq", _construct_sequence)


def _check_node_graph(root: yaml.Node, aliases: int, alias_mark: yaml.Mark | None) -> None:
    """Refuse foreign tags, and alias use beyond the budget, before anything is constructed."""
    if aliases > MAX_ALIASES:
        raise YamlProblem(
            f"more than {MAX_ALIASES} YAML aliases (*name); a configuration file does not need them: write the values out",
            alias_mark,
        )
    sizes: dict[int, int] = {}
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    on_path: set[int] = set()
    while stack:  # iterative post-order: a deep document cannot exhaust the Python stack
        node, children_done = stack.pop()
        key = id(node)
        if children_done:
            on_path.discard(key)
            size = 1 + sum(sizes[id(c)] for c in _children(node))
            if size > MAX_EXPANDED_NODES:
                raise YamlProblem(
                    f"YAML aliases (*name) expand this value to more than {MAX_EXPANDED_NODES:,} values; refused "
                    "(a small file that expands like this is an alias bomb)",
                    node.start_mark,
                )
            sizes[key] = size
            continue
        if key in sizes:
            continue
        if key in on_path:
            raise YamlProblem("a YAML alias refers to the value that contains it", node.start_mark)
        if node.tag not in _PLAIN_TAGS:
            raise YamlProblem(
                f"the YAML tag {node.tag!r} is not allowed: only plain values, lists and mappings "
                "(tags such as !!python/object could run code when the file is read)",
                node.start_mark,
            )
        on_path.add(key)
        stack.append((node, True))
        stack.extend((child, False) for child in _children(node) if id(child) not in sizes)


def _children(node: yaml.Node) -> Iterable[yaml.Node]:
    if isinstance(node, yaml.SequenceNode):
        return node.value
    if isinstance(node, yaml.MappingNode):
        return [n for pair in node.value for n in pair]
    return ()


def load_yaml_text(text: str, *, text_keys: Iterable[str] = ()) -> Any:
    """Parse one YAML document safely; raises :class:`YamlProblem` with the line.

    Parameters
    ----------
    text
        The document.
    text_keys
        Keys whose number values are kept as the text written (e.g. ``municipality``, so that
        ``0363`` stays ``"0363"``).

    Returns
    -------
    The document, with mappings as :class:`LineDict` and lists as :class:`LineList`; ``None``
    for an empty document.

    >>> load_yaml_text("municipality: 0363", text_keys={"municipality"})
    {'municipality': '0363'}
    """
    loader = _Loader(text)
    loader.text_keys = frozenset(text_keys)
    aliases = 0
    first_alias: yaml.Mark | None = None
    original_compose = loader.compose_node

    def counting_compose(parent, index):  # counts aliases while the node graph is built
        nonlocal aliases, first_alias
        if loader.check_event(yaml.AliasEvent):
            aliases += 1
            first_alias = first_alias or loader.peek_event().start_mark
            if aliases > MAX_ALIASES:
                raise YamlProblem(
                    f"more than {MAX_ALIASES} YAML aliases (*name); a configuration file does not need them: "
                    "write the values out",
                    loader.peek_event().start_mark,
                )
        return original_compose(parent, index)

    loader.compose_node = counting_compose  # type: ignore[method-assign]
    try:
        root = loader.get_single_node()
        if root is None:
            return None
        _check_node_graph(root, aliases, first_alias)
        return loader.construct_document(root)
    except YamlProblem:
        raise
    except yaml.MarkedYAMLError as error:
        raise YamlProblem(str(error.problem or error.context), error.problem_mark or error.context_mark, malformed=True) from None
    except yaml.YAMLError as error:
        raise YamlProblem(str(error), malformed=True) from None
    finally:
        loader.dispose()
