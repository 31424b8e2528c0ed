"""The event pipeline: intake, processing, delivery (see ARCHITECTURE.md)."""

from __future__ import annotations
