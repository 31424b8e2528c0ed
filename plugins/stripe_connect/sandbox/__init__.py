"""A faithful sandbox of the part of Stripe the Stripe Connect plugin uses (Stripe is unreachable here).

``create_sandbox_app`` builds the Starlette app; ``SandboxServer`` runs it on loopback for tests and the demo;
``python -m plugins.stripe_connect.sandbox --port N`` runs it standalone. See README.md in this folder.
"""

from .app import create_sandbox_app
from .server import SandboxServer
from .state import Sandbox
from .webhooks import sign

__all__ = ["Sandbox", "SandboxServer", "create_sandbox_app", "sign"]
