"""Managing a recurring gift: each change goes to Stripe; the page shows it once Stripe confirms."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import abort, flash, g, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_babel import get_locale, gettext

from membership.account import manage, services
from membership.account.forms import ButtonForm, CancelForm, ChangeGiftForm, PauseForm
from membership.account.views import action_limit, bp, donor_required
from membership.donations import fees
from membership.extensions import limiter
from membership.models import Interval, RecurringDonation
from membership.money import Money


def provider_error() -> str:
    return gettext(
        "We could not reach our payment provider, so nothing was changed. Please try again later."
    )


def sent() -> None:
    flash(
        gettext(
            "Thank you. Your change has gone to our payment provider; "
            "it shows here as soon as they confirm it."
        ),
        "success",
    )


def own_gift(recurring_id: int) -> RecurringDonation:
    recurring = services.own_recurring(g.donor, recurring_id)
    if recurring is None:
        abort(404)
    return recurring


def render_gift(
    recurring: RecurringDonation,
    change: ChangeGiftForm | None = None,
    error: str | None = None,
    status: int = 200,
    proposal: dict[str, Any] | None = None,
) -> ResponseReturnValue:
    if change is None:
        chosen = Money(recurring.amount - recurring.fee_covered, recurring.currency)
        change = ChangeGiftForm(
            formdata=None,
            data={
                "amount": chosen.plain,
                "interval": recurring.interval,
                "cover_fees": recurring.fee_covered > 0,
            },
        )
    page = render_template(
        "account/gift.html",
        recurring=recurring,
        change=change,
        pause=PauseForm(formdata=None),
        cancel=CancelForm(formdata=None),
        button=ButtonForm(formdata=None),
        can_pause=manage.can_pause(recurring),
        error=error,
        proposal=proposal,
        scheduled=(
            Money(recurring.scheduled_amount, recurring.currency)
            if recurring.scheduled_amount
            else None
        ),
        fee_covered=Money(recurring.fee_covered, recurring.currency),
        fee_label=fees.offer(recurring.currency, str(get_locale() or "en")),
    )
    return page, status


@bp.get("/gifts/<int:recurring_id>")
@donor_required
def gift(recurring_id: int) -> ResponseReturnValue:
    return render_gift(own_gift(recurring_id))


@bp.post("/gifts/<int:recurring_id>/change")
@limiter.limit(action_limit, scope="donor-action")
@donor_required
def change(recurring_id: int) -> ResponseReturnValue:
    """A new amount and/or frequency, in the gift's own currency and the form's bounds."""
    recurring = own_gift(recurring_id)
    form = ChangeGiftForm()
    money = form.money(recurring.currency) if form.validate() else None
    if money is None:
        return render_gift(recurring, change=form, status=422)
    interval = Interval(form.interval.data)
    if interval != recurring.interval and form.confirmed.data != interval.value:
        return propose_interval_change(recurring, form, money, interval)
    return ask_stripe(
        recurring,
        lambda: manage.change_gift(
            recurring, money, Interval(form.interval.data), bool(form.cover_fees.data)
        ),
        change=form,
    )


def propose_interval_change(
    recurring: RecurringDonation, form: ChangeGiftForm, money: Money, interval: Interval
) -> ResponseReturnValue:
    """A change of interval starts when the paid period ends. Before it goes to Stripe the
    donor sees from when, and the amount that gives as much over a year (12 x, or / 12),
    which they may confirm or change: the number alone must not silently become a yearly one."""
    current = Money(recurring.amount - recurring.fee_covered, recurring.currency)
    proposed = manage.equivalent(money, recurring.interval, interval) if money == current else money
    form.amount.data = proposed.plain
    form.confirmed.data = interval.value
    proposal = {
        "amount": proposed,
        "interval": interval,
        "current": current,
        "starts": recurring.current_period_end,
        "equivalent": money == current,
    }
    return render_gift(recurring, change=form, proposal=proposal)


@bp.post("/gifts/<int:recurring_id>/pause")
@limiter.limit(action_limit, scope="donor-action")
@donor_required
def pause(recurring_id: int) -> ResponseReturnValue:
    recurring = own_gift(recurring_id)
    form = PauseForm()
    if not form.validate() or not manage.can_pause(recurring):
        return render_gift(recurring, status=422)
    return ask_stripe(recurring, lambda: manage.pause(recurring, int(form.months.data or 0)))


@bp.post("/gifts/<int:recurring_id>/resume")
@limiter.limit(action_limit, scope="donor-action")
@donor_required
def resume(recurring_id: int) -> ResponseReturnValue:
    recurring = own_gift(recurring_id)
    if not ButtonForm().validate():
        abort(400)
    return ask_stripe(recurring, lambda: manage.resume(recurring))


@bp.post("/gifts/<int:recurring_id>/cancel")
@limiter.limit(action_limit, scope="donor-action")
@donor_required
def cancel(recurring_id: int) -> ResponseReturnValue:
    """Stop at the end of the paid period; the optional reason is kept by Stripe, not by us."""
    recurring = own_gift(recurring_id)
    form = CancelForm()
    if not form.validate():
        return render_gift(recurring, status=422)
    return ask_stripe(recurring, lambda: manage.cancel_at_period_end(recurring, form.comment.data))


def ask_stripe(
    recurring: RecurringDonation, request_change: Callable[[], object], **page: Any
) -> ResponseReturnValue:
    """Send one change to Stripe; its webhook, not this view, updates our row."""
    try:
        request_change()
    except manage.ManageError:
        return render_gift(recurring, error=provider_error(), status=502, **page)
    sent()
    return redirect(url_for("account.gift", recurring_id=recurring.id), code=303)


@bp.post("/card")
@limiter.limit(action_limit, scope="donor-action")
@donor_required
def card() -> ResponseReturnValue:
    """Stripe's Billing Portal for a new card: the card number never passes through us."""
    if not ButtonForm().validate():
        abort(400)
    try:
        url = manage.card_portal_url(g.donor, url_for("account.home", _external=True))
    except manage.ManageError:
        flash(provider_error(), "error")
        return redirect(url_for("account.home"), code=303)
    return redirect(url, code=303)
