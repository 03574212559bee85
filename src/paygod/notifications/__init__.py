"""Notifications: webhooks, e-mail and in-app messages for subscribed outbox events."""
