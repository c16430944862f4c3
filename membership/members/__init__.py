"""Membership rules: status, tier and identity derived from gifts (services only)."""
