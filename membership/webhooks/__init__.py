"""Stripe webhooks: the endpoint, the event inbox and one handler per event type."""
