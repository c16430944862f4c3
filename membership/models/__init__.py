"""The data model: members, their gifts, the Stripe event inbox, staff, audit, outbox, rollups.

Split by area; everything is importable from `membership.models` as before.
"""

from membership.models.columns import (
    ATTRIBUTION_COLUMNS,
    AttributionMixin,
    JSONType,
    MoneyMixin,
    TimestampMixin,
    UTCDateTime,
    enum_column,
    money_checks,
    new_public_id,
    utcnow,
)
from membership.models.enums import (
    COUNTED,
    CheckoutState,
    DonationKind,
    DonationStatus,
    Frequency,
    Interval,
    MemberStatus,
    OutboxStatus,
    StaffRole,
    SubscriptionStatus,
)
from membership.models.gifts import CheckoutAttempt, Donation, Member, RecurringDonation
from membership.models.newsroom import AuditEntry, Campaign, OutboxEmail, StaffUser, StripeEvent
from membership.models.rollups import Article, GiftMonth, MemberGiving, RollupMonth, SourceMonth

__all__ = [
    "ATTRIBUTION_COLUMNS",
    "COUNTED",
    "Article",
    "AttributionMixin",
    "AuditEntry",
    "Campaign",
    "CheckoutAttempt",
    "CheckoutState",
    "Donation",
    "DonationKind",
    "DonationStatus",
    "Frequency",
    "GiftMonth",
    "Interval",
    "JSONType",
    "Member",
    "MemberGiving",
    "MemberStatus",
    "MoneyMixin",
    "OutboxEmail",
    "OutboxStatus",
    "RecurringDonation",
    "RollupMonth",
    "SourceMonth",
    "StaffRole",
    "StaffUser",
    "StripeEvent",
    "SubscriptionStatus",
    "TimestampMixin",
    "UTCDateTime",
    "enum_column",
    "money_checks",
    "new_public_id",
    "utcnow",
]
