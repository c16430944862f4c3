"""Optional CAPTCHA (Cloudflare Turnstile or hCaptcha), verified on the server when switched on."""

from __future__ import annotations

import json
import logging
import urllib.parse
import urllib.request

from flask import current_app

log = logging.getLogger("membership.captcha")

PROVIDERS = {
    # provider: (form field the widget posts, verification endpoint, widget script)
    "turnstile": (
        "cf-turnstile-response",
        "https://challenges.cloudflare.com/turnstile/v0/siteverify",
        "https://challenges.cloudflare.com/turnstile/v0/api.js",
    ),
    "hcaptcha": (
        "h-captcha-response",
        "https://api.hcaptcha.com/siteverify",
        "https://js.hcaptcha.com/1/api.js",
    ),
}


def provider() -> str | None:
    name = current_app.config.get("CAPTCHA_PROVIDER")
    return name if name in PROVIDERS else None


def widget() -> dict[str, str] | None:
    """What the form template needs to show the widget, or None when CAPTCHA is off."""
    name = provider()
    if name is None:
        return None
    return {
        "provider": name,
        "site_key": current_app.config["CAPTCHA_SITE_KEY"] or "",
        "script": PROVIDERS[name][2],
    }


def verify(form: dict[str, str], remote_ip: str | None) -> bool:
    """True when CAPTCHA is off or the provider confirms the token; fails closed on errors."""
    name = provider()
    if name is None:
        return True
    field, default_url, _ = PROVIDERS[name]
    token = form.get(field, "")
    if not token or len(token) > 4096:
        return False
    data = {"secret": current_app.config["CAPTCHA_SECRET_KEY"] or "", "response": token}
    if remote_ip:
        data["remoteip"] = remote_ip
    url = current_app.config.get("CAPTCHA_VERIFY_URL") or default_url
    if not url.startswith(("https://", "http://")):
        return False
    body = urllib.parse.urlencode(data).encode()
    request = urllib.request.Request(url, data=body, method="POST")  # noqa: S310 (checked above)
    try:
        with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310
            return bool(json.load(response).get("success"))
    except (OSError, ValueError) as exc:
        log.warning("captcha verification failed", extra={"fields": {"error": type(exc).__name__}})
        return False
