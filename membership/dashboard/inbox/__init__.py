"""The webhook inbox for staff: stored Stripe events, their state and errors, and replays."""
