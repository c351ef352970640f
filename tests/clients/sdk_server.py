"""A small MCP server on the official Python SDK (mcp 2.3.0, `MCPServer`), for
tests/sdk_profile.rs: Streamable HTTP on 127.0.0.1:$SDK_PORT at /mcp with the SDK's
defaults, two trivial tools, and the SDK's bearer-token auth (`token_verifier` +
`AuthSettings`): a `TokenVerifier` accepting the keys in $SDK_KEYS (comma-separated),
each as its own client (`client-1`, `client-2`). Never prints a key."""

import hmac
import os

from mcp.server.auth.provider import AccessToken
from mcp.server.auth.settings import AuthSettings
from mcp.server.mcpserver import MCPServer

KEYS = [k for k in os.environ["SDK_KEYS"].split(",") if k]
PORT = int(os.environ["SDK_PORT"])


class KeyVerifier:
    """The SDK's `TokenVerifier` protocol: a known key is a valid token."""

    async def verify_token(self, token: str) -> AccessToken | None:
        for i, key in enumerate(KEYS):
            if hmac.compare_digest(token.encode(), key.encode()):
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


@server.tool()
def echo(text: str) -> str:
    """Echoes its text."""
    return text


@server.tool()
def add(a: float, b: float) -> float:
    """Adds two numbers."""
    return a + b


if __name__ == "__main__":
    server.run("streamable-http", host="127.0.0.1", port=PORT)
