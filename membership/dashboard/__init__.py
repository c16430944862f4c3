"""Staff side: sign-in, metrics, members, exports, campaigns, webhook inbox and audit."""

from flask import Blueprint

bp = Blueprint("dashboard", __name__, url_prefix="/staff")

# One blueprint; each feature package's views.py adds its routes to `bp`, and importing them
# here registers them. `auth` checks every /staff request, `layout` gives pages the navigation,
# `staff.access` the PII helpers; `rollups` adds the listener that marks a month's gift totals
# stale whenever a gift in it changes.
from membership.dashboard import auth, layout  # noqa: E402, F401
from membership.dashboard.audit import views as audit_views  # noqa: E402, F401
from membership.dashboard.campaigns import views as campaigns_views  # noqa: E402, F401
from membership.dashboard.emails import views as emails_views  # noqa: E402, F401
from membership.dashboard.inbox import views as inbox_views  # noqa: E402, F401
from membership.dashboard.members import views as members_views  # noqa: E402, F401
from membership.dashboard.metrics import rollups  # noqa: E402, F401
from membership.dashboard.metrics import views as metrics_views  # noqa: E402, F401
from membership.dashboard.staff import access  # noqa: E402, F401
from membership.dashboard.staff import views as staff_views  # noqa: E402, F401
