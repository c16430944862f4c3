"""Donor self-service: magic-link sign-in, giving history, managing a gift, export and erasure."""
