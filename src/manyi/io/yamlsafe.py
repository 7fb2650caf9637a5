"""YAML text to Python data, with the guards a user's file needs.

* At most ``MAX_BYTES`` of text and ``MAX_NODES`` nodes once aliases are expanded: a
  "billion laughs" file (aliases of aliases) is refused before anything walks it.
* Nesting deeper than the parser can follow is an error, not a crash.
* A key given twice in one mapping is an error naming both lines (YAML 1.2 §3.2.1.3 forbids
  it; PyYAML would keep the last silently).

The text is parsed once, by libyaml's parser where PyYAML has it (about ten times faster
than the pure-Python one: an instrument in milliseconds) and the text's flow brackets nest
less than :data:`C_DEPTH` deep (libyaml's composer recurses in C; the libyaml that PyYAML's
wheels bundle refuses nesting beyond 1,000 levels itself, and this bound does not depend on
it); a text that the fast parser refuses is parsed again by the pure-Python parser, whose
error message and line are the ones reported (deep nesting: "nested too deeply").

Errors are :class:`manyi.i18n.ManyiError` with the file name and line.
"""

from __future__ import annotations

import re
from typing import Any

import yaml

from manyi.core.messages import ManyiError, Message

MAX_BYTES = 2_000_000
MAX_NODES = 200_000
C_DEPTH = 200  # flow nesting from which only the pure-Python parser is used
_FAST = getattr(yaml, "CSafeLoader", None)
_BRACKETS = re.compile(r"[^\[\]{}]+")


class _Prefixed(Message):
    def __init__(self, prefix: str, inner: Message):
        super().__init__(inner.key, inner.params)
        self.prefix = prefix

    def render(self, lang: str | None = None) -> str:
        return self.prefix + super().render(lang)


def _syntax_error(exc: yaml.YAMLError, source: str) -> ManyiError:
    mark = getattr(exc, "problem_mark", None)
    line = f" line {mark.line + 1}" if mark else ""
    detail = getattr(exc, "problem", None) or str(exc)
    if "'?'" in detail:
        detail += ' (a text with "?" inside { } must be quoted: en: "How likely ...?")'
    return ManyiError(
        _Prefixed(f"{source}{line}: ", Message("inst.yaml_syntax", {"detail": detail}))
    )


def _flow_depth(text: str) -> int:
    """The deepest nesting of [ ] and { } in ``text`` (quotes not considered: an upper bound)."""
    depth = deepest = 0
    for ch in _BRACKETS.sub("", text):
        depth = depth + 1 if ch in "[{" else max(depth - 1, 0)
        deepest = max(deepest, depth)
    return deepest


def _parsed(text: str, source: str) -> tuple[yaml.Node | None, yaml.BaseLoader]:
    """The node graph of ``text`` and the loader that made it (to construct the data)."""
    if len(text) > MAX_BYTES:
        raise ManyiError(Message("yaml.too_large", {"file": source, "limit": MAX_BYTES // 1000}))
    if _FAST is not None and _flow_depth(text) < C_DEPTH:
        try:
            loader = _FAST(text)
            return loader.get_single_node(), loader
        except yaml.YAMLError:
            pass  # the pure-Python parser says what is wrong, as it always has
    try:
        loader = yaml.SafeLoader(text)
        return loader.get_single_node(), loader
    except yaml.YAMLError as exc:
        raise _syntax_error(exc, source) from None
    except RecursionError:
        raise ManyiError(Message("yaml.too_deep", {"file": source})) from None


def compose(text: str, source: str) -> yaml.Node | None:
    """The checked node graph of ``text`` (size, expansion, nesting, duplicate keys)."""
    return _checked(*_parsed(text, source), source)[0]


def _checked(
    root: yaml.Node | None, loader: yaml.BaseLoader, source: str
) -> tuple[yaml.Node | None, yaml.BaseLoader]:
    if root is None:
        return None, loader
    # expanded size with memo (a shared node counts once per use, computed once); iterative
    size: dict[int, int] = {}
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    dups: list[Message] = []
    while stack:
        node, done = stack.pop()
        if id(node) in size:
            continue
        kids: list[yaml.Node] = []
        if isinstance(node, yaml.MappingNode):
            for k, v in node.value:
                kids += [k, v]
        elif isinstance(node, yaml.SequenceNode):
            kids = list(node.value)
        if not done:
            stack.append((node, True))
            stack.extend((k, False) for k in kids if id(k) not in size)
            if isinstance(node, yaml.MappingNode):
                seen: dict[str, int] = {}
                for k, _ in node.value:
                    if isinstance(k, yaml.ScalarNode):
                        line = k.start_mark.line + 1
                        if k.value in seen and k.value != "<<":
                            dups.append(
                                Message(
                                    "yaml.duplicate_key",
                                    {
                                        "file": source,
                                        "key": k.value,
                                        "first": seen[k.value],
                                        "line": line,
                                    },
                                )
                            )
                        seen.setdefault(k.value, line)
            continue
        total = 1 + sum(size.get(id(k), 1) for k in kids)
        size[id(node)] = min(total, MAX_NODES + 1)
        if total > MAX_NODES:
            raise ManyiError(Message("yaml.too_many_nodes", {"file": source, "limit": MAX_NODES}))
    if dups:
        raise ManyiError(*dups)
    return root, loader


def load(text: str, source: str) -> Any:
    """Checked ``yaml.safe_load`` (see :func:`compose`)."""
    return load_with_nodes(text, source)[0]


def load_with_nodes(text: str, source: str) -> tuple[Any, yaml.Node | None]:
    """:func:`load` and the node graph the data was made from (its marks give lines)."""
    root, loader = _checked(*_parsed(text, source), source)
    if root is None:
        return None, None
    try:
        return loader.construct_document(root), root
    except yaml.YAMLError as exc:
        raise _syntax_error(exc, source) from None
    except RecursionError:
        raise ManyiError(Message("yaml.too_deep", {"file": source})) from None
    except (ValueError, TypeError, OverflowError) as exc:  # e.g. a date 0000-00-00
        raise ManyiError(
            _Prefixed(f"{source}: ", Message("inst.yaml_syntax", {"detail": str(exc)}))
        ) from None
