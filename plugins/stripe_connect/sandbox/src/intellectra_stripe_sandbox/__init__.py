"""A faithful sandbox of the part of Stripe the Stripe Connect plugin uses (Stripe is unreachable here).

``create_sandbox_app`` builds the Starlette app; ``SandboxServer`` runs it on loopback for tests and the demo;
``intellectra-stripe-sandbox --port N`` (or ``python -m intellectra_stripe_sandbox``) runs it standalone. A
development tool in its own distribution (``intellectra-stripe-sandbox``), never in the production wheel; see
its README.md.
"""

from .app import create_sandbox_app
from .server import SandboxServer
from .state import Sandbox
from .webhooks import sign

__all__ = ["Sandbox", "SandboxServer", "create_sandbox_app", "sign"]
