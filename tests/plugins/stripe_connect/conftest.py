"""Fixtures for the Stripe Connect plugin's tests (defined in stripe_kit.py, importable by the tests)."""

from stripe_kit import stripe_sandbox_factory, stripe_world

__all__ = ["stripe_sandbox_factory", "stripe_world"]
