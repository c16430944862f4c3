"""Donor pages: ask for a sign-in link, use it, see the giving history, receipts, statements."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from functools import partial, wraps
from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    after_this_request,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import format_date, gettext
from flask_babel import lazy_gettext as _l
from flask_limiter.errors import RateLimitExceeded

from membership.account import services, tokens
from membership.account.forms import ButtonForm, LinkRequestForm
from membership.dashboard.audit.services import record
from membership.donations import after_checkout
from membership.extensions import db, limiter
from membership.members.services import normalise_email
from membership.models import DonationStatus, SubscriptionStatus
from membership.money import Money

bp = Blueprint("account", __name__, url_prefix="/account")
log = logging.getLogger("membership.account")

STATUS_LABELS = {
    DonationStatus.PENDING: _l("Pending"),
    DonationStatus.SUCCEEDED: _l("Paid"),
    DonationStatus.FAILED: _l("Failed"),
    DonationStatus.REFUNDED: _l("Refunded"),
    DonationStatus.DISPUTED: _l("Disputed"),
    DonationStatus.DISPUTE_LOST: _l("Reversed"),
    SubscriptionStatus.ACTIVE: _l("Active"),
    SubscriptionStatus.PAST_DUE: _l("Payment overdue"),
    SubscriptionStatus.UNPAID: _l("Unpaid"),
    SubscriptionStatus.PAUSED: _l("Paused"),
    SubscriptionStatus.TRIALING: _l("Active"),
    SubscriptionStatus.INCOMPLETE: _l("Awaiting payment"),
}


def link_ip_limit() -> str:
    return str(current_app.config["ACCOUNT_LINK_RATE_LIMIT"])


def link_email_limit() -> str:
    return str(current_app.config["ACCOUNT_LINK_RATE_LIMIT_EMAIL"])


def action_limit() -> str:
    return str(current_app.config["ACCOUNT_ACTION_RATE_LIMIT"])


def submitted_email() -> str:
    """The per-address rate-limit key, however the address is typed (known or not alike)."""
    return "donor-link:" + (normalise_email(request.form.get("email", "")) or "")[:320]


@bp.context_processor
def helpers() -> dict[str, Any]:
    return {
        "format_date": format_date,
        "money_of": Money,
        "status_label": lambda status: STATUS_LABELS.get(status, status),
    }


@bp.after_request
def private_pages(response: Any) -> Any:
    """Donor pages hold personal data or a link token: never cached, and never sent as a
    referrer to another site. To our own origin the browser does send it: on HTTPS the CSRF
    check refuses a form posted without a same-origin Referer (no-referrer broke every
    donor form in production, where tests over plain HTTP could not see it)."""
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "same-origin"
    return response  # not framed by any site (no clickjacking of the erase button): security.py


@bp.errorhandler(RateLimitExceeded)
def too_many(_error: RateLimitExceeded) -> ResponseReturnValue:
    message = gettext("Too many requests in a short time. Please wait a few minutes and try again.")
    return render_template("account/start.html", form=LinkRequestForm(), error=message), 429


def donor_required(view: Callable[..., ResponseReturnValue]) -> Callable[..., ResponseReturnValue]:
    """The signed-in donor in g.donor, or off to the sign-in page."""

    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> ResponseReturnValue:
        g.donor = tokens.current_donor()
        if g.donor is None:
            flash(gettext("Please sign in to see your account."), "info")
            return redirect(url_for("account.start"))
        return view(*args, **kwargs)

    return wrapped


@bp.get("/")
def start() -> ResponseReturnValue:
    """Ask for a sign-in link; just after giving, with the address given to Stripe filled in."""
    if tokens.current_donor() is not None:
        return redirect(url_for("account.home"))
    email = after_checkout.claimed_email()
    form = LinkRequestForm(data={"email": email} if email else None)
    return render_template("account/start.html", form=form)


@bp.post("/")
@limiter.limit(link_ip_limit, scope="donor-link-ip")
@limiter.limit(link_email_limit, key_func=submitted_email, scope="donor-link-email")
def request_link() -> ResponseReturnValue:
    """The same page, status and work whether or not the address is a member's."""
    form = LinkRequestForm()
    if not form.validate():
        return render_template("account/start.html", form=form), 400
    after_checkout.forget()  # the address is filled in once, for the link just asked for
    # Looking the address up, and mailing a member, would make a member's answer slower: a
    # timing oracle for who gives. Both wait until the answer has gone out.
    after_response(partial(services.request_link, form.email.data or ""))
    return render_template("account/sent.html", minutes=current_app.config["DONOR_LINK_MINUTES"])


def after_response(work: Callable[[], None]) -> None:
    """Run `work` in its own app context once this request's page has been written out.

    The body becomes a generator that yields the page, then does the work: a server (gunicorn,
    werkzeug) asks for the next chunk only after writing the last one, and with Content-Length
    set the reader has the whole answer by then. Not Response.call_on_close: werkzeug's own
    server calls that only once the client has closed the connection, seconds later at times.
    """
    app = current_app._get_current_object()  # type: ignore[attr-defined]

    def run() -> None:
        with app.app_context():
            try:
                work()
            except Exception as exc:
                db.session.rollback()
                # The type only: a database error's text may quote the row (an address).
                log.error(
                    "work after the response failed",
                    extra={"fields": {"error": type(exc).__name__}},
                )

    @after_this_request
    def defer(response: Response) -> Response:
        page = response.get_data()

        def page_then_work() -> Iterator[bytes]:
            yield page
            run()

        response.response = page_then_work()
        response.headers["Content-Length"] = str(len(page))
        return response


@bp.get("/sign-in/<token>")
def sign_in(token: str) -> ResponseReturnValue:
    """A page with a button: mail scanners that fetch links must not use them up."""
    if tokens.link_member(token) is None:
        return render_template("account/link_invalid.html"), 400
    return render_template("account/sign_in.html", form=ButtonForm(), token=token)


@bp.post("/sign-in/<token>")
@limiter.limit(action_limit, scope="donor-action")
def sign_in_submit(token: str) -> ResponseReturnValue:
    form = ButtonForm()
    if not form.validate():
        abort(400)
    member = tokens.link_member(token)
    if member is None:
        return render_template("account/link_invalid.html"), 400
    tokens.start_session(member)
    record("member.sign_in", "member", member.public_id, actor="donor")
    db.session.commit()
    return redirect(url_for("account.home"), code=303)


@bp.post("/sign-out")
@donor_required
def sign_out() -> ResponseReturnValue:
    if not ButtonForm().validate():
        abort(400)
    tokens.end_session(g.donor)
    db.session.commit()
    flash(gettext("You are signed out."), "info")
    return redirect(url_for("account.start"), code=303)


@bp.get("/home")
@donor_required
def home() -> ResponseReturnValue:
    donor = g.donor
    return render_template(
        "account/home.html",
        donor=donor,
        gifts=services.gifts(donor),
        recurring=services.live_recurring(donor),
        years=services.statement_years(donor),
        form=ButtonForm(),
    )


@bp.get("/receipts/<int:donation_id>")
@donor_required
def receipt(donation_id: int) -> ResponseReturnValue:
    """A printable receipt for one of the donor's own gifts; anyone else's is a 404."""
    donation = services.own_donation(g.donor, donation_id)
    if donation is None:
        abort(404)
    return render_template("account/receipt.html", donation=donation)


@bp.get("/statements/<int:year>")
@donor_required
def statement(year: int) -> ResponseReturnValue:
    if not 2000 <= year <= 2100:
        abort(404)
    found = services.annual_statement(g.donor, year)
    return render_template("account/statement.html", statement=found, donor=g.donor)


# The gift and privacy pages register their routes on `bp` when imported.
from membership.account import gift_views, privacy_views  # noqa: E402

__all__ = ["bp", "gift_views", "privacy_views"]
