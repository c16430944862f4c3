"""Reader-facing pages: the prompt, the donation form, and the way back from Stripe Checkout."""

from __future__ import annotations

import re
from typing import Any

from flask import Blueprint, abort, current_app, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask.wrappers import Response
from flask_babel import get_locale, gettext
from flask_limiter.errors import RateLimitExceeded
from wtforms.fields.choices import SelectChoice

from membership import errors, stripe_api
from membership.cache import cached
from membership.donations import after_checkout, captcha, checkout, fees, services
from membership.donations.forms import ATTRIBUTION_FIELDS, DonationForm
from membership.extensions import db, limiter, unlimited
from membership.models import Campaign, CheckoutAttempt, Frequency

bp = Blueprint("donations", __name__)
SESSION_ID = re.compile(r"^cs_[A-Za-z0-9_]{1,250}$")


def per_client_limit() -> str:
    return current_app.config["CHECKOUT_RATE_LIMIT"]


def global_limit() -> str:
    return current_app.config["CHECKOUT_GLOBAL_RATE_LIMIT"]


def went_to_stripe(response: Response) -> bool:
    """Only a checkout started (303), or tried and refused by Stripe (502), uses up the limits:
    a form sent back to fix a field costs nothing and must not lock its reader out."""
    return response.status_code in (303, 502)


@bp.get("/")
@unlimited  # anonymous and cached: a per-address limit would hit readers behind NATs
def prompt() -> str:
    """The busiest page: the same for every reader with the same language, link and referrer."""
    # Keyed on the raw inputs: cleaning the attribution is work a cache hit should not repeat.
    query = request.query_string.decode("latin-1")
    key = f"prompt:{get_locale()}:{query}:{request.referrer or ''}"

    def render() -> str:
        campaign = services.active_campaign(request.args.get("campaign"))
        return render_template(
            "donations/prompt.html",
            copy=services.prompt_copy(campaign),
            campaign=campaign,
            give_url=url_for("donations.give", **attribution_args()),
        )

    return cached(key, render)


@bp.get("/give")
def give() -> str:
    """The form, prefilled from the query string (banner links, a cancelled checkout)."""
    form = DonationForm(formdata=None, data=initial_choices())
    return render_form(form)


@bp.post("/give")
# Both limits are tested before the view and counted after it, only if it went to Stripe
# (deduct_when: https://flask-limiter.readthedocs.io/en/stable/recipes.html, "Customizing
# rate limits based on response"). So a start refused by its own address's limit (429) costs
# the global budget nothing: one address posting all day cannot answer every other reader
# 429 (test_global_limit.py). The global one counts everyone together (one key_func value):
# it guards Stripe and the card testers' target; README, "How a reader gives", sizes it.
@limiter.limit(per_client_limit, deduct_when=went_to_stripe)
@limiter.limit(
    global_limit,
    key_func=lambda: "all-clients",
    scope="checkout-global",
    deduct_when=went_to_stripe,
)
def give_submit() -> ResponseReturnValue:
    form = DonationForm()
    if form.website.data:
        form.website.errors = [gettext("Please leave the last field empty and try again.")]
        return render_form(form), 400
    if not form.validate() or form.money is None:
        return render_form(form), 422
    if not captcha.verify(request.form.to_dict(), request.remote_addr):
        return render_form(form, error=gettext("Please confirm you are not a robot.")), 400
    gift = checkout.Gift(
        frequency=form.chosen_frequency,
        money=form.money,
        newsletter=form.newsletter.data,
        locale=str(get_locale() or "en"),
        submission=form.submission.data or "",
        cover_fees=form.cover_fees.data,
    )
    attribution = checkout.clean_attribution({f: getattr(form, f).data for f in ATTRIBUTION_FIELDS})
    try:
        started = checkout.start_checkout(gift, attribution)
    except stripe_api.PaymentProviderError:
        current_app.logger.warning("checkout not started: payment provider error")
        message = gettext(
            "We could not reach our payment provider. Nothing was charged; please try again."
        )
        return render_form(form, error=message), 502
    after_checkout.remember_start(started.reference)
    return redirect(started.url, code=303)


@bp.errorhandler(RateLimitExceeded)
def too_many(error: RateLimitExceeded) -> ResponseReturnValue:
    """Over the checkout limit: the form again with the reader's choices, and when to retry."""
    if request.endpoint != "donations.give_submit":
        return errors.handle_http_error(error)
    return render_form(DonationForm(), error=errors.try_again_message()), 429


@bp.get("/thanks")
def thanks() -> ResponseReturnValue:
    """Reads the session from Stripe: the query string only says which session to ask about."""
    session_id = request.args.get("session_id", "")
    if not SESSION_ID.match(session_id):
        abort(404)
    try:
        completed = checkout.completed_checkout(session_id)
    except stripe_api.PaymentProviderError:
        return render_template("donations/thanks_unknown.html"), 502
    if completed is None:
        abort(404)
    attempt = after_checkout.attempt_for(session_id)
    if completed.paid and attempt is not None:
        after_checkout.confirm_paid(attempt)
    page = render_template(
        "donations/thanks.html", completed=completed, back_url=after_checkout.way_back(attempt)
    )
    # The URL names the Checkout Session: the article it links back to must not learn it.
    return page, {"Referrer-Policy": "same-origin"}


@bp.get("/give/cancelled/<reference>")
def cancelled(reference: str) -> ResponseReturnValue:
    """Back from Checkout without paying: the form again, with the reader's choices."""
    attempt = db.session.scalar(
        db.select(CheckoutAttempt).where(CheckoutAttempt.reference == reference)
    )
    if attempt is None:
        return redirect(url_for("donations.give"))
    campaign = db.session.get(Campaign, attempt.campaign_id) if attempt.campaign_id else None
    values = {
        "cover_fees": "y" if attempt.fee_covered else None,
        "frequency": attempt.frequency.value,
        "amount": attempt.money.plain,
        "currency": attempt.currency,
        "campaign": campaign.slug if campaign else None,
        **{f: getattr(attempt, f) for f in ATTRIBUTION_FIELDS if f != "campaign"},
    }
    return redirect(
        url_for("donations.give", cancelled=1, **{k: v for k, v in values.items() if v})
    )


def attribution_args() -> dict[str, Any]:
    cleaned = checkout.clean_attribution(request.args)
    if not cleaned["referrer"] and request.referrer:
        cleaned["referrer"] = checkout.clean_url(request.referrer)
    return {k: v for k, v in cleaned.items() if v}


def initial_choices() -> dict[str, object]:
    """Defaults from the campaign, overridden by valid values in the query string."""
    campaign = services.active_campaign(request.args.get("campaign"))
    frequency = request.args.get("frequency", "")
    if frequency not in {f.value for f in Frequency}:
        frequency = (campaign.default_frequency if campaign else Frequency.MONTH).value
    currency = request.args.get("currency", "").upper()
    if currency not in services.currencies():
        currency = current_app.config["DEFAULT_CURRENCY"]
    suggested = services.suggestions(campaign, Frequency(frequency), currency)
    amount = request.args.get("amount", "")
    choice = {"amount": suggested.default.plain}
    if amount:
        known = {m.plain for m in suggested.amounts}
        choice = (
            {"amount": amount}
            if amount in known
            else {"amount": "other", "custom_amount": amount[:12]}
        )
    return {
        "frequency": frequency,
        "currency": currency,
        "cover_fees": request.args.get("cover_fees") == "y",
        "submission": checkout.new_submission_token(),
        **choice,
        **attribution_args(),
    }


def render_form(form: DonationForm, error: str | None = None) -> str:
    campaign = services.active_campaign(form.campaign.data)
    frequency = (
        Frequency(form.frequency.data)
        if form.frequency.data in {f.value for f in Frequency}
        else Frequency.MONTH
    )
    currency = (
        form.currency.data
        if form.currency.data in services.currencies()
        else current_app.config["DEFAULT_CURRENCY"]
    )
    # Every frequency's amounts: without JavaScript the page's CSS shows the chosen one's.
    groups = {f: services.suggestions(campaign, f, currency) for f in Frequency}
    form.currency.choices = [SelectChoice(c, c) for c in services.currencies()]
    return render_template(
        "donations/give.html",
        form=form,
        copy=services.prompt_copy(campaign),
        frequency=frequency,
        currency=currency,
        groups=groups,
        all_suggestions=services.suggestion_table(campaign),
        error=error,
        cancelled=request.args.get("cancelled") == "1",
        captcha=captcha.widget(),
        fee_offer=fee_offer(currency),
    )


def fee_offer(currency: str) -> dict[str, Any] | None:
    """The cover-the-fees checkbox's estimate in words, and give.js's rules to show the figure."""
    locale = str(get_locale() or "en")
    label = fees.offer(currency, locale)
    if label is None:
        return None
    return {"label": label, "rules": fees.rules(services.currencies(), locale)}
