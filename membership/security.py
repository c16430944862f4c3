"""What every page may load, where its forms may go and who may frame it (Content-Security-Policy).

A reader's browser is the last line of defence for a donor: if a bug ever let someone else's
markup into a page, the policy keeps it from running a script, loading from or posting to
another site, or framing the give form to trick a click. Pages load only our own CSS and JS
(no inline script or style), so the policy can be strict. A view with other needs (the
banner, framed by any site; the demo article, a newsroom's page) sets its own header first,
and the hook leaves it alone.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Flask, Response, current_app, request

# Once a browser has reached us over HTTPS, a year of HTTPS only: no later first request in
# plain HTTP for a network to read or rewrite. Sent on HTTPS only (behind a proxy, set
# PROXY_COUNT so the app sees the scheme), so a plain-HTTP development server never sets it.
HSTS = "max-age=31536000"
# What each CAPTCHA widget needs, from its provider's CSP guidance.
CAPTCHA_SOURCES: dict[str, dict[str, tuple[str, ...]]] = {
    "turnstile": {
        "script-src": ("https://challenges.cloudflare.com",),
        "frame-src": ("https://challenges.cloudflare.com",),
    },
    "hcaptcha": {
        directive: ("https://hcaptcha.com", "https://*.hcaptcha.com")
        for directive in ("script-src", "frame-src", "style-src", "connect-src")
    },
}


def page_policy(config: Mapping[str, Any], **extra: tuple[str, ...]) -> str:
    """The policy for our pages; `extra` adds sources by directive (style_src=(...))."""
    directives: dict[str, tuple[str, ...]] = {
        "default-src": ("'self'",),
        "script-src": ("'self'",),
        "style-src": ("'self'",),
        "img-src": ("'self'", "data:"),
        "connect-src": ("'self'",),
        "frame-src": ("'self'",),
        "object-src": ("'none'",),
        "base-uri": ("'none'",),
        # Forms post to us; two then redirect (303) to Stripe's hosted pages, and browsers
        # check form-action on the redirect too. In demo mode the sandbox serves both here.
        "form-action": ("'self'", *config.get("STRIPE_HOSTED_ORIGINS", ())),
        "frame-ancestors": ("'none'",),
    }
    captcha = CAPTCHA_SOURCES.get(config.get("CAPTCHA_PROVIDER") or "", {})
    for source in (captcha, {name.replace("_", "-"): value for name, value in extra.items()}):
        for directive, added in source.items():
            directives[directive] += tuple(s for s in added if s not in directives[directive])
    return "; ".join(f"{name} {' '.join(sources)}" for name, sources in directives.items())


def init_app(app: Flask) -> None:
    """Built once from the config: the hook runs on every response."""
    app.extensions["page_policy"] = page_policy(app.config)
    app.after_request(protect)


def protect(response: Response) -> Response:
    """No content sniffing anywhere; HTTPS only from then on; on an HTML page without a policy
    of its own, ours, and no framing for browsers that predate frame-ancestors."""
    headers = response.headers
    headers.setdefault("X-Content-Type-Options", "nosniff")
    if request.is_secure:
        headers.setdefault("Strict-Transport-Security", HSTS)
    if "Content-Security-Policy" not in headers and response.mimetype == "text/html":
        headers["Content-Security-Policy"] = current_app.extensions["page_policy"]
        headers.setdefault("X-Frame-Options", "DENY")
    return response
