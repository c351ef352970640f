"""A small MCP server on the official Python SDK (mcp 2.3.0, `MCPServer`), for
tests/sdk_profile.rs: Streamable HTTP on 127.0.0.1:$SDK_PORT at /mcp with the SDK's
defaults, two trivial tools, and the SDK's bearer-token auth (`token_verifier` +
`AuthSettings`): a `TokenVerifier` accepting the keys in $SDK_KEYS (comma-separated),
each as its own client (`client-1`, `client-2`). The SDK's Starlette app
(`streamable_http_app()`) served by uvicorn, as `MCPServer.run("streamable-http")` does.
Never prints a key (but in the log-key fault).

$SDK_FAULT breaks one thing, for the broken variants of tests/sdk_profile.rs (the names and
meanings of tests/clients/sdk_server.cjs's, plus no-origin): quote-401 (a 401 quotes the
presented credential), open-get / open-delete (that method reaches the SDK's endpoint
without its auth wrapper), no-challenge (401 without WWW-Authenticate), prefix-key (the
verifier passes a prefix of a key of 8+ chars), log-key (an access log on stderr writes the
presented credential), counter-ids (session ids count up), no-description (a tool without a
docstring, so without a description), no-origin (the SDK's DNS-rebinding protection, which
checks Origin, turned off). The HTTP faults are an ASGI wrapper around the SDK's app; with
no $SDK_FAULT there is no wrapper."""

import hmac
import itertools
import json
import os
import sys
import uuid

import anyio
import uvicorn
from mcp.server.auth.provider import AccessToken
from mcp.server.auth.settings import AuthSettings
from mcp.server.mcpserver import MCPServer
from mcp.server.transport_security import TransportSecuritySettings

KEYS = [k for k in os.environ["SDK_KEYS"].split(",") if k]
PORT = int(os.environ["SDK_PORT"])
FAULT = os.environ.get("SDK_FAULT", "")
FAULTS = {
    "quote-401",
    "open-get",
    "open-delete",
    "no-challenge",
    "prefix-key",
    "log-key",
    "counter-ids",
    "no-description",
    "no-origin",
}
if FAULT and FAULT not in FAULTS:
    sys.exit(f"unknown SDK_FAULT {FAULT!r} (one of {', '.join(sorted(FAULTS))})")


class KeyVerifier:
    """The SDK's `TokenVerifier` protocol: a known key is a valid token."""

    async def verify_token(self, token: str) -> AccessToken | None:
        for i, key in enumerate(KEYS):
            prefix = FAULT == "prefix-key" and len(token) >= 8 and key.startswith(token)
            if prefix or hmac.compare_digest(token.encode(), key.encode()):
                return AccessToken(token=token, client_id=f"client-{i + 1}", scopes=[])
        return None


server = MCPServer(
    "sdk-profile-py",
    token_verifier=KeyVerifier(),
    auth=AuthSettings(
        issuer_url=f"http://127.0.0.1:{PORT}",
        resource_server_url=f"http://127.0.0.1:{PORT}/mcp",
        required_scopes=[],
        # the verifier knows its keys; no audience to compare
        validate_token_resource=False,
    ),
)


if FAULT == "no-description":

    @server.tool()
    def echo(text: str) -> str:
        return text

else:

    @server.tool()
    def echo(text: str) -> str:
        """Echoes its text."""
        return text


@server.tool()
def add(a: float, b: float) -> float:
    """Adds two numbers."""
    return a + b


def presented(scope) -> str | None:
    """The credential the request presented: what the SDK's `BearerAuthBackend` reads."""
    for name, value in scope["headers"]:
        if name == b"authorization":
            value = value.decode("latin-1")
            return value[7:] if value.lower().startswith("bearer ") else value
    return None


class Faulty:
    """An ASGI wrapper around the SDK's app, breaking it as $SDK_FAULT says."""

    def __init__(self, app, unguarded):
        self.app = app
        # the SDK's Streamable HTTP endpoint without the `RequireAuthMiddleware` it is
        # mounted behind
        self.unguarded = unguarded

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status = None
        credential = presented(scope)
        quote = json.dumps(
            {"error": "invalid_token", "error_description": f"invalid credential: {credential}"}
        ).encode()

        async def faulty_send(message):
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                if status == 401 and FAULT == "no-challenge":
                    message["headers"] = [
                        (n, v) for n, v in message["headers"] if n.lower() != b"www-authenticate"
                    ]
                if status == 401 and FAULT == "quote-401":
                    message["headers"] = [
                        (n, str(len(quote)).encode() if n.lower() == b"content-length" else v)
                        for n, v in message["headers"]
                    ]
            elif message["type"] == "http.response.body" and status == 401 and FAULT == "quote-401":
                message["body"] = quote if message.get("body") else b""
            await send(message)

        open_method = {"open-get": "GET", "open-delete": "DELETE"}.get(FAULT)
        try:
            if scope["method"] == open_method and scope["path"] == "/mcp":
                await self.unguarded(scope, receive, faulty_send)
            else:
                await self.app(scope, receive, faulty_send)
        finally:
            if FAULT == "log-key":
                # an access log, like a proxy in front would write, with the credential
                line = {"method": scope["method"], "path": scope["path"], "status": status}
                line["credential"] = credential
                print(json.dumps(line), file=sys.stderr, flush=True)


SESSION_COUNTER = itertools.count(1)


def counter_uuid4() -> uuid.UUID:
    """counter-ids: the SDK's `StreamableHTTPSessionManager` names a session
    `uuid4().hex`, with `uuid4` imported into its module (it takes no id generator);
    `main` replaces that one module global, for this fault only, with a counter dressed
    as a UUID (`000...01`, `000...02`, as the TypeScript variant's)."""
    return uuid.UUID(int=next(SESSION_COUNTER))


def main():
    security = None
    if FAULT == "no-origin":
        # what a deployment behind a proxy might do: the SDK's Host/Origin checks off
        security = TransportSecuritySettings(enable_dns_rebinding_protection=False)
    if FAULT == "counter-ids":
        import mcp.server.streamable_http_manager as manager

        manager.uuid4 = counter_uuid4
    # what `server.run("streamable-http", host=..., port=...)` runs
    app = server.streamable_http_app(host="127.0.0.1", transport_security=security)
    if FAULT in {"quote-401", "open-get", "open-delete", "no-challenge", "log-key"}:
        app = Faulty(app, server.session_manager.asgi_app)
    config = uvicorn.Config(
        app, host="127.0.0.1", port=PORT, log_level=server.settings.log_level.lower()
    )
    anyio.run(uvicorn.Server(config).serve)


if __name__ == "__main__":
    main()
