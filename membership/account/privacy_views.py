"""The donor's own data: download it as JSON, or erase it (after a confirmation)."""

from __future__ import annotations

import json

from flask import Response, g, render_template
from flask.typing import ResponseReturnValue
from flask_babel import gettext

from membership.account import privacy, tokens
from membership.account.forms import EraseForm
from membership.account.views import action_limit, bp, donor_required
from membership.dashboard.audit.services import record
from membership.extensions import db, limiter


@bp.get("/privacy")
@donor_required
def privacy_page() -> ResponseReturnValue:
    return render_template("account/privacy.html", form=EraseForm(formdata=None))


@bp.get("/export.json")
@donor_required
def export() -> ResponseReturnValue:
    """Everything we hold about the donor, as a file download."""
    data = privacy.export_data(g.donor)
    record("member.export", "member", g.donor.public_id, actor="donor")
    db.session.commit()
    body = json.dumps(data, indent=2, ensure_ascii=False, sort_keys=True)
    return Response(
        body,
        mimetype="application/json",
        headers={"Content-Disposition": 'attachment; filename="my-data.json"'},
    )


@bp.post("/erase")
@limiter.limit(action_limit, scope="donor-action")
@donor_required
def erase() -> ResponseReturnValue:
    form = EraseForm()
    if not form.validate():
        return render_template("account/privacy.html", form=form), 422
    donor = g.donor
    try:
        privacy.erase(donor, actor="donor")
    except privacy.ErasureError:
        error = gettext(
            "We could not reach our payment provider, so nothing was erased. "
            "Please try again later."
        )
        return render_template("account/privacy.html", form=form, error=error), 502
    tokens.end_session(None)  # erase() already rotated the member's nonce away
    return render_template("account/erased.html")
