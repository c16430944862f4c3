"""Another tool's history at a newsroom's scale, in the stand-in: what `flask stripe import`
reads in the bench.

A few hundred donors are made through the stand-in's API as the previous tool would
(membership/sandbox/foreign.py: monthly and annual gifts with their renewals, one-offs, a
refund, a lost dispute, merchandise, two customers sharing an email); the account is then
filled to the size asked for with copies of that history, each copy's ids and emails made its
own. Making every donor through the API would take the stand-in longer than the import
itself; a copy is the same objects, so what the import reads and writes is the same.
"""

from __future__ import annotations

import json
import re

from membership.sandbox import Sandbox, foreign

TEMPLATE_DONORS = 500
# Stripe's ids: a prefix of lowercase letters (with `_test` for Checkout Sessions), an
# underscore, then letters and digits (membership/sandbox/store.py makes them so).
ID = re.compile(r"\b[a-z]{2,7}(?:_test)?_[0-9A-Za-z]{10,}\b")
EMAIL = re.compile(r"@example\.org\b")
SHARED = ("product", "price", "event")  # products and prices are the tool's own; no events


def make(sandbox: Sandbox, customers: int) -> dict[str, list[str]]:
    """At least `customers` customers with their history; what foreign.make says it made."""
    made = foreign.make(sandbox, donors=TEMPLATE_DONORS)
    store = sandbox.store
    template = [o for o in store.objects.values() if o["object"] not in SHARED]
    own = {o["id"] for o in template}
    text = json.dumps(template)
    # A copy is the template with the same mark after each of its own ids and before each
    # email's domain: the text is cut at those places once, and each copy joins it by its mark.
    cuts = sorted(
        [m.end() for m in ID.finditer(text) if m[0] in own]
        + [m.start() for m in EMAIL.finditer(text)]
    )
    pieces = [text[a:b] for a, b in zip([0, *cuts], [*cuts, len(text)], strict=True)]
    per_copy = sum(1 for o in template if o["object"] == "customer")
    copies = -(-customers // per_copy) - 1
    with store.lock:
        for n in range(1, copies + 1):
            for obj in json.loads(f"x{n}".join(pieces)):
                obj.pop("_seq", None)
                store.add(obj)
    return made
