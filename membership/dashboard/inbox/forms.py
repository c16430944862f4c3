"""The inbox's one form: replaying an event."""

from __future__ import annotations

from flask_wtf import FlaskForm


class ReplayForm(FlaskForm):
    """No fields: only the CSRF token."""
