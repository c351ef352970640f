"""The official Python SDK's OAuth client (mcp 2.x, OAuthClientProvider) against cfpb-mcp.

Usage: python oauth_client.py MCP_URL MODE
  Starts from nothing but the server URL: the first request gets the 401 challenge, the
  SDK reads the Protected Resource Metadata (RFC 9728) it names, the authorization
  server's metadata, registers a client (RFC 7591), runs the authorization code flow with
  PKCE and the resource indicator (RFC 8707), and retries with the bearer token.
  The consent is given without a browser: the redirect handler follows the
  authorization server's redirects with a cookie jar (tests/clients/oidc_provider.mjs
  answers its own login and consent prompts) and hands the code to the callback handler.
  MODE "auto" (session-based) or "2026-07-28" (stateless): lists the tools and calls
  search_complaints on the fixtures.
Prints one JSON line per step and a final {"ok": true}; never prints the token. With
OAUTH_TOKEN_FILE set, writes the access token to that file (for the test that presents
it where it must be refused).
"""

import asyncio
import json
import os
import sys
from urllib.parse import parse_qs, urljoin, urlparse

import httpx2
from mcp import Client
from mcp.client.auth import AuthorizationCodeResult, OAuthClientProvider
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.auth import OAuthClientInformationFull, OAuthClientMetadata, OAuthToken

# Never fetched: the code is taken from the Location header that points at it.
REDIRECT_URI = "http://127.0.0.1:9/callback"


def fail(message):
    print(json.dumps({"ok": False, "error": message}), flush=True)
    sys.exit(1)


class MemoryStorage:
    """The SDK's TokenStorage, in memory."""

    def __init__(self):
        self.tokens = None
        self.client = None

    async def get_tokens(self) -> OAuthToken | None:
        return self.tokens

    async def set_tokens(self, tokens: OAuthToken) -> None:
        self.tokens = tokens

    async def get_client_info(self) -> OAuthClientInformationFull | None:
        return self.client

    async def set_client_info(self, client_info: OAuthClientInformationFull) -> None:
        self.client = client_info


class Consent:
    """The user's side of the authorization: follow redirects until the one to us."""

    def __init__(self):
        self.result = None
        self.authorize_hosts = []

    async def redirect(self, url: str) -> None:
        self.authorize_hosts.append(urlparse(url).netloc)
        async with httpx2.AsyncClient(follow_redirects=False, timeout=10) as browser:
            for _ in range(12):
                response = await browser.get(url)
                location = response.headers.get("location")
                if response.status_code not in (302, 303) or not location:
                    fail(f"authorization stopped at {response.status_code}: {response.text[:300]}")
                url = urljoin(url, location)
                if url.startswith(REDIRECT_URI):
                    query = parse_qs(urlparse(url).query)
                    if "code" not in query:
                        fail(f"authorization refused: {query}")
                    self.result = AuthorizationCodeResult(
                        code=query["code"][0],
                        state=query.get("state", [None])[0],
                        iss=query.get("iss", [None])[0],
                    )
                    return
        fail("too many redirects during authorization")

    async def callback(self) -> AuthorizationCodeResult:
        if self.result is None:
            fail("callback before redirect")
        return self.result


async def main(url, mode):
    storage = MemoryStorage()
    consent = Consent()
    auth = OAuthClientProvider(
        server_url=url,
        client_metadata=OAuthClientMetadata(
            client_name="cfpb-mcp oauth test",
            redirect_uris=[REDIRECT_URI],
            grant_types=["authorization_code", "refresh_token"],
            response_types=["code"],
            token_endpoint_auth_method="none",
        ),
        storage=storage,
        redirect_handler=consent.redirect,
        callback_handler=consent.callback,
    )
    http = httpx2.AsyncClient(auth=auth, timeout=30)
    async with Client(streamable_http_client(url, http_client=http), mode=mode) as client:
        listed = await client.list_tools()
        print(json.dumps({"tools": len(listed.tools)}), flush=True)
        result = await client.call_tool("search_complaints", {"search_term": "forbearance", "size": 2})
        if result.is_error:
            fail("search_complaints returned isError")
        print(json.dumps({"tool": "search_complaints", "structured_keys": sorted(result.structured_content or {})}),
              flush=True)
    if storage.tokens is None or storage.client is None:
        fail("no token or client registration was stored")
    if os.environ.get("OAUTH_TOKEN_FILE"):
        with open(os.environ["OAUTH_TOKEN_FILE"], "w") as out:
            out.write(storage.tokens.access_token)
    print(json.dumps({"registered": True, "scope": storage.tokens.scope,
                      "authorize_hosts": consent.authorize_hosts}), flush=True)
    print(json.dumps({"ok": True}), flush=True)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else "auto"))
