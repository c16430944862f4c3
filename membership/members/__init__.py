"""Membership rules: status, tier and identity derived from gifts (services only)."""

from membership.members import giving  # noqa: F401 (its listeners keep giving in step)
