"""The outbox for staff: every email's state and, in development, what it said."""
