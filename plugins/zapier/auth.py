"""Who is calling: the ``X-API-Key`` header Zapier sends, checked against this integration's API keys."""

from __future__ import annotations

import attrs
from starlette.requests import Request

from core import ApiKey, IntegrationContext, IntellectraError, Tenant

HEADER = "X-API-Key"
WHERE = "Create a key under Settings > Integrations > Zapier (or `intellectra-integrations zapier keys create`)"


class ApiKeyRejected(IntellectraError):
    """401 with a message Zapier shows on the connection: what is wrong and where to get a key."""

    code = "api_key_invalid"
    http_status = 401


@attrs.frozen(kw_only=True)
class Caller:
    """The site (tenant) and key a Zapier request authenticated as, and the plugin's context for that site."""

    tenant: Tenant
    key: ApiKey
    ctx: IntegrationContext


async def authenticate(request: Request, ctx: IntegrationContext) -> Caller:
    presented = request.headers.get(HEADER, "").strip()
    if not presented:
        raise ApiKeyRejected(f"No API key was sent. {WHERE} and paste it into Zapier when you connect "
                             "your Intellectra account.", code="api_key_missing")

    def identify() -> Caller | None:
        found = ctx.api_keys.authenticate(presented)
        if found is None:
            return None
        tenant, key = found
        return Caller(tenant=tenant, key=key, ctx=ctx.for_tenant(tenant))

    caller = await ctx.run_in_threadpool(identify)
    if caller is None:
        raise ApiKeyRejected(f"This API key is not valid or was revoked. {WHERE}, then reconnect your "
                             "Intellectra account in Zapier.")
    return caller
