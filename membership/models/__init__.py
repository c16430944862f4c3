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
from membership.models.gifts import (
    CheckoutAttempt,
    Donation,
    ErasedIdentity,
    Member,
    MemberCustomer,
    RecurringDonation,
)
from membership.models.newsroom import AuditEntry, Campaign, OutboxEmail, StaffUser, StripeEvent
from membership.models.rollups import Article, GiftMonth, MemberGiving, RollupMonth, SourceMonth

# Indexes only migrations make, left out when autogenerate compares models and database: a
# PostgreSQL expression index with an operator class, which it cannot compare, and which a
# database without the pg_trgm extension lacks (migration 0007).
MIGRATION_ONLY_INDEXES = frozenset({"ix_member_display_name_trgm"})


def compared_by_autogenerate(name: str | None, type_: str, _parent_names: object) -> bool:
    """Alembic's include_name hook: everything but MIGRATION_ONLY_INDEXES."""
    return not (type_ == "index" and name in MIGRATION_ONLY_INDEXES)


__all__ = [
    "ATTRIBUTION_COLUMNS",
    "COUNTED",
    "MIGRATION_ONLY_INDEXES",
    "Article",
    "AttributionMixin",
    "AuditEntry",
    "Campaign",
    "CheckoutAttempt",
    "CheckoutState",
    "Donation",
    "DonationKind",
    "DonationStatus",
    "ErasedIdentity",
    "Frequency",
    "GiftMonth",
    "Interval",
    "JSONType",
    "Member",
    "MemberCustomer",
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
    "compared_by_autogenerate",
    "enum_column",
    "money_checks",
    "new_public_id",
    "utcnow",
]
