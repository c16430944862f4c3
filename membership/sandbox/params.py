"""Decode Stripe's form encoding and reject params the library's own typed params do not know."""

from __future__ import annotations

import sys
import types
import typing
from collections.abc import Iterable
from functools import cache
from typing import Any, ForwardRef, Union, get_args, get_origin

import typing_extensions
from stripe import RequestOptions

from membership.sandbox.errors import StripeError

# Client-side options (api_key, idempotency_key, ...) travel as headers, never as params.
REQUEST_OPTION_KEYS = frozenset(RequestOptions.__annotations__)
REQUIREDNESS = (
    typing.NotRequired,
    typing.Required,
    typing_extensions.NotRequired,
    typing_extensions.Required,
)


def decode_form(pairs: Iterable[tuple[str, str]]) -> dict[str, Any]:
    """Turn `a[b][0][c]=v` pairs into nested dicts; all-digit or empty keys become lists."""
    root: dict[str, Any] = {}
    for raw_key, value in pairs:
        head, _, rest = raw_key.partition("[")
        parts = [head] + ([p.rstrip("]") for p in ("[" + rest).split("[")[1:]] if rest else [])
        node = root
        for i, part in enumerate(parts[:-1]):
            if part == "":  # `a[]=x` (curl style): append a fresh slot
                part = str(len(node))
                parts[i] = part
            if not isinstance(node.get(part), dict):
                node[part] = {}
            node = node[part]
        last = parts[-1] if parts[-1] != "" else str(len(node))
        node[last] = value
    return _listify(root)


def _listify(node: Any) -> Any:
    if not isinstance(node, dict):
        return node
    items = {k: _listify(v) for k, v in node.items()}
    if items and all(k.isdigit() for k in items):
        return [items[k] for k in sorted(items, key=int)]
    return items


def validate(params: dict[str, Any], typed_params: type | None) -> None:
    """Raise Stripe's `parameter_unknown` for any key the typed params (recursively) lack."""
    if typed_params is not None:
        _check(params, typed_params, "")


def _check(value: Any, tp: Any, path: str) -> None:
    options = _flatten(tp)
    if isinstance(value, dict):
        typed_dicts = [o for o in options if typing_extensions.is_typeddict(o)]
        if typed_dicts:
            known = set().union(*(set(_fields(td)) for td in typed_dicts))
            for key, sub in value.items():
                sub_path = f"{path}[{key}]" if path else key
                if key not in known:
                    raise StripeError.unknown_param(sub_path)
                for td in typed_dicts:
                    if key in _fields(td):
                        _check(sub, _fields(td)[key], sub_path)
                        break
            return
    if isinstance(value, list):
        for option in options:
            if get_origin(option) is list:
                (item_type,) = get_args(option)
                for index, item in enumerate(value):
                    _check(item, item_type, f"{path}[{index}]")
                return
    # Scalars, metadata-style dicts (Dict[str, str]) and "" (unset) are accepted as they are.


def _flatten(tp: Any) -> list[Any]:
    """The alternatives of a param type, with NotRequired/Union unwrapped."""
    origin = get_origin(tp)
    if origin in (Union, types.UnionType):
        return [leaf for arg in get_args(tp) for leaf in _flatten(arg)]
    if origin in REQUIREDNESS:
        return _flatten(get_args(tp)[0])
    return [tp]


@cache
def _fields(typed_dict: type) -> dict[str, Any]:
    """Resolved annotations of a TypedDict; strings refer to names in the defining module."""
    fields = {}
    for name, annotation in typed_dict.__annotations__.items():
        if name in REQUEST_OPTION_KEYS:
            continue
        fields[name] = _resolve(annotation, typed_dict.__module__)
    return fields


def _resolve(tp: Any, module: str) -> Any:
    if isinstance(tp, str | ForwardRef):
        code = tp if isinstance(tp, str) else tp.__forward_arg__
        module = (tp.__forward_module__ if isinstance(tp, ForwardRef) else None) or module
        namespace = dict(vars(typing))
        namespace.update(vars(typing_extensions))
        namespace.update(vars(sys.modules[module]))
        return _resolve(eval(code, namespace), module)  # noqa: S307  (library type annotations)
    args = get_args(tp)
    origin = get_origin(tp)
    if not args or origin is typing.Literal:
        return tp
    resolved = tuple(_resolve(a, module) for a in args)
    if origin in (Union, types.UnionType):
        return Union[resolved]  # noqa: UP007  (rebuilding a Union from resolved parts)
    if origin in REQUIREDNESS:
        return origin[resolved[0]]
    if origin is list:
        return list[resolved[0]]  # type: ignore[valid-type]
    if origin is dict:
        return dict[resolved[0], resolved[1]]  # type: ignore[valid-type]
    return tp
