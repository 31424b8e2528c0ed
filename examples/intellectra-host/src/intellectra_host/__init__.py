"""A miniature Intellectra: creators, their courses and members, with the integration host embedded.

``build_site(SiteConfig(...))`` gives the site's ASGI app with the integration host in-process;
``intellectra-host serve`` runs it on loopback with the Stripe sandbox (see README.md).
"""

from intellectra_host.site import INTEGRATIONS_PREFIX, Site, SiteConfig, build_site

__all__ = ["INTEGRATIONS_PREFIX", "Site", "SiteConfig", "build_site"]
