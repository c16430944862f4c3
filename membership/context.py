"""The objects behind Flask's context proxies, for code that runs on every request.

Each attribute read through `flask.request`, `flask.g` or `flask.current_app` is a werkzeug
LocalProxy lookup, about a microsecond; the request hooks and the reader pages made a few
dozen of them per request, more than the rest of a cached page costs. Code on that path looks
the object up once and reads it directly; everywhere else the proxies are the clearer choice.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from flask import current_app, g, request

if TYPE_CHECKING:
    from flask import Flask, Request
    from flask.ctx import _AppCtxGlobals


def current_request() -> Request:
    return cast("Request", request._get_current_object())  # type: ignore[attr-defined]


def current_globals() -> _AppCtxGlobals:
    return cast("_AppCtxGlobals", g._get_current_object())


def current_flask_app() -> Flask:
    return cast("Flask", current_app._get_current_object())  # type: ignore[attr-defined]
