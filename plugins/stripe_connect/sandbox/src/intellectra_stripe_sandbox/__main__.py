"""``intellectra-stripe-sandbox --port N``: run the sandbox standalone and print its keys."""

from __future__ import annotations

import argparse
import secrets

import uvicorn

from .app import create_sandbox_app


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Stripe sandbox — not Stripe")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=12111)
    parser.add_argument("--secret-key", default="sk_test_sandbox" + secrets.token_hex(12))
    parser.add_argument("--live-secret-key", default=None)
    parser.add_argument("--client-id", default="ca_sandbox" + secrets.token_hex(12))
    parser.add_argument("--redirect-uri", action="append", default=[], help="repeat for several")
    parser.add_argument(
        "--webhook",
        action="append",
        default=[],
        metavar="URL=WHSEC",
        help="Connect webhook endpoint and its signing secret; repeat for several",
    )
    args = parser.parse_args(argv)
    webhooks = [tuple(item.split("=", 1)) for item in args.webhook]
    app = create_sandbox_app(
        secret_key=args.secret_key,
        live_secret_key=args.live_secret_key,
        client_id=args.client_id,
        redirect_uris=args.redirect_uri or ["http://127.0.0.1:8000/integrations/stripe_connect/callback"],
        webhook_endpoints=[(url, secret) for url, secret in webhooks],
    )
    url = f"http://{args.host}:{args.port}"
    print("Stripe sandbox — not Stripe")
    print(f"  URL (api and connect base): {url}")
    print(f"  secret key:                 {args.secret_key}")
    if args.live_secret_key:
        print(f"  live secret key:            {args.live_secret_key}")
    print(f"  client id:                  {args.client_id}")
    print(f"  redirect URIs:              {', '.join(app.state.sandbox.redirect_uris)}")
    print(f"  controls:                   {url}/_sandbox", flush=True)
    uvicorn.run(app, host=args.host, port=args.port, log_level="info")


if __name__ == "__main__":
    main()
