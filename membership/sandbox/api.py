"""The /v1 HTTP surface: auth, form decoding, param checks, idempotency, expand and errors."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from flask import Blueprint, Response, request

from membership.sandbox import params as form
from membership.sandbox.errors import StripeError
from membership.sandbox.ratelimit import too_many_requests
from membership.sandbox.store import Obj, Store, list_object, public

if TYPE_CHECKING:
    from membership.sandbox import Sandbox

Handler = Callable[..., Obj]
# (method, rule, handler, the library's typed params for that call)
ROUTES: list[tuple[str, str, Handler, type | None]] = []
# Fields Stripe leaves out unless asked for with expand[].
INCLUDABLE: dict[tuple[str, str], Callable[[Store, Obj], Obj]] = {}


def route(method: str, rule: str, typed_params: type | None) -> Callable[[Handler], Handler]:
    def register(handler: Handler) -> Handler:
        ROUTES.append((method, rule, handler, typed_params))
        return handler

    return register


def create_blueprint(sandbox: Sandbox) -> Blueprint:
    bp = Blueprint("sandbox_api", __name__, url_prefix="/v1")
    for method, rule, handler, typed_params in ROUTES:
        view = _view(sandbox, handler, typed_params)
        endpoint = f"{handler.__name__}_{method.lower()}"
        bp.add_url_rule(rule, endpoint, view, methods=[method])
    bp.register_error_handler(
        404,
        lambda _e: _error(
            StripeError(f"Unrecognized request URL ({request.method}: {request.path}).", status=404)
        ),
    )
    bp.register_error_handler(
        405,
        lambda _e: _error(
            StripeError(f"Unrecognized request URL ({request.method}: {request.path}).", status=404)
        ),
    )
    return bp


def _view(sandbox: Sandbox, handler: Handler, typed_params: type | None) -> Callable[..., Response]:
    def view(**url_args: str) -> Response:
        try:
            if sandbox.rate_limit is not None and not sandbox.rate_limit.admit(request.method):
                response = _error(too_many_requests())
                response.headers["Stripe-Should-Retry"] = "true"
                return response
            _authenticate()
            pairs = (
                request.form.items(multi=True)
                if request.method == "POST"
                else request.args.items(multi=True)
            )
            params = form.decode_form(pairs)
            form.validate(params, typed_params)
            key = request.headers.get("Idempotency-Key") if request.method != "GET" else None
            response = _run(sandbox, handler, params, url_args, key)
        except StripeError as exc:
            return _error(exc)
        sandbox.webhooks.flush()
        return response

    view.__name__ = handler.__name__
    return view


def _run(
    sandbox: Sandbox, handler: Handler, params: Obj, url_args: dict[str, str], key: str | None
) -> Response:
    store = sandbox.store
    fingerprint = [request.method, request.path, json.dumps(params, sort_keys=True)]
    with store.lock:
        if key and key in store.idempotency:
            first, status, body = store.idempotency[key]
            if first != fingerprint:
                raise StripeError(
                    "Keys for idempotent requests can only be used with the same parameters they "
                    f"were first used with. Try using a key other than '{key}' if you meant to "
                    "execute a different request.",
                    type="idempotency_error",
                )
            return _json(body, status, replayed=True)
        store.request = {"id": store.new_id("req"), "idempotency_key": key}
        try:
            obj = handler(store, params, **url_args)
            body, status = expand(store, obj, params.get("expand") or []), 200
        except StripeError as exc:
            if exc.status >= 500:
                raise
            body, status = {"error": exc.body}, exc.status
        finally:
            store.request = {"id": None, "idempotency_key": None}
        if key:
            store.remember(key, (fingerprint, status, body))
    return _json(body, status)


def _authenticate() -> None:
    auth = request.headers.get("Authorization", "")
    api_key = auth.removeprefix("Bearer ").strip()
    if not api_key.startswith(("sk_test_", "rk_test_")):
        shown = api_key[:8] + "*" * max(len(api_key) - 12, 0) + api_key[-4:] if api_key else ""
        message = (
            f"Invalid API Key provided: {shown}" if api_key else "You did not provide an API key."
        )
        if api_key.startswith(("sk_live_", "rk_live_")):
            message = "The sandbox never accepts live-mode keys."
        raise StripeError(message, status=401)


def expand(store: Store, obj: Obj, paths: list[str]) -> Obj:
    """A public deep copy of `obj` with each dotted path in `expand[]` turned into objects."""
    result = _public_tree(obj)
    for path in paths:
        result = _expand(store, result, path.split("."))
    return result


def _expand(store: Store, node: Any, parts: list[str]) -> Any:
    if isinstance(node, list):
        return [_expand(store, item, parts) for item in node]
    if not isinstance(node, dict) or not parts:
        return node
    key, rest = parts[0], parts[1:]
    include = INCLUDABLE.get((node.get("object", ""), key))
    value = (
        _public_tree(include(store, store.objects.get(node.get("id", ""), node)))
        if include
        else node.get(key)
    )
    if isinstance(value, str) and value in store.objects:
        found = store.objects[value]
        # An expanded deleted customer is what retrieving it gives: its stub.
        deleted = found.get("_deleted") and found["object"] == "customer"
        value = {"id": value, "object": "customer", "deleted": True} if deleted else found
        value = _public_tree(value)
    if key in node or include:
        node[key] = _expand(store, value, rest)
    return node


def _public_tree(node: Any) -> Any:
    """A copy of every dict and list in `node`, without private fields: the leaves are JSON's
    strings, numbers, booleans and nulls, which nothing changes in place."""
    if isinstance(node, dict):
        return {k: _public_tree(v) for k, v in public(node).items()}
    if isinstance(node, list):
        return [_public_tree(item) for item in node]
    return node


def paginate(objs: list[Obj], params: Obj, url: str) -> Obj:
    limit = min(max(int(params.get("limit", 10)), 1), 100)
    ids = [o["id"] for o in objs]
    if params.get("starting_after") in ids:
        objs = objs[ids.index(params["starting_after"]) + 1 :]
    elif params.get("ending_before") in ids:
        objs = objs[: ids.index(params["ending_before"])][-limit:]
    return list_object(url, objs[:limit], has_more=len(objs) > limit)


def _json(body: Obj, status: int, replayed: bool = False) -> Response:
    # Compact: Stripe indents its answers, but json's C encoder only writes compact JSON, and
    # the bench's stand-in (bench/stripe_server.py) pays this on the service's machine.
    response = Response(json.dumps(body), status=status, mimetype="application/json")
    response.headers["Stripe-Version"] = request.headers.get("Stripe-Version", "")
    if replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return response


def _error(exc: StripeError) -> Response:
    return _json({"error": exc.body}, exc.status)
