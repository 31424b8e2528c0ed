"""Shared test setup: the host's own test kit (core.testing) is loaded as a pytest plugin."""
