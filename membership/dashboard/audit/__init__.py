"""The audit trail: who did what to which record when, written with the change; its page."""
