// The official TypeScript SDK's OAuth client (@modelcontextprotocol/sdk 1.x, an
// OAuthClientProvider given to StreamableHTTPClientTransport) against cfpb-mcp's /mcp.
//
// Usage: node oauth_client.cjs MCP_URL
// From nothing but the server URL: the first request gets the 401 challenge; the SDK
// reads the Protected Resource Metadata (RFC 9728) and the authorization server's
// metadata, registers a client (RFC 7591), and sends the user to the authorization URL
// (with PKCE and the resource indicator, RFC 8707). The "user" here follows the
// authorization server's redirects with a cookie jar (tests/clients/oidc_provider.mjs
// answers its own login and consent prompts) up to the redirect URI, and the code goes
// to transport.finishAuth; the client then connects with the bearer token, lists the
// tools and calls search_complaints.
// Prints one JSON line per step and a final {"ok": true}; never prints the token.

const { Client } = require('@modelcontextprotocol/sdk/client/index.js');
const { StreamableHTTPClientTransport } = require('@modelcontextprotocol/sdk/client/streamableHttp.js');
const { UnauthorizedError } = require('@modelcontextprotocol/sdk/client/auth.js');

const REDIRECT_URI = 'http://127.0.0.1:9/callback';

function fail(message) {
  console.log(JSON.stringify({ ok: false, error: message }));
  process.exit(1);
}

/** Follows the authorization server's redirects, cookies kept, until the one to us. */
async function consent(authorizationUrl) {
  const jar = new Map();
  let url = authorizationUrl.toString();
  for (let i = 0; i < 12; i++) {
    const cookie = [...jar].map(([k, v]) => `${k}=${v}`).join('; ');
    const response = await fetch(url, { redirect: 'manual', headers: cookie ? { cookie } : {} });
    for (const line of response.headers.getSetCookie()) {
      const [pair] = line.split(';');
      const at = pair.indexOf('=');
      jar.set(pair.slice(0, at).trim(), pair.slice(at + 1).trim());
    }
    const location = response.headers.get('location');
    if (![302, 303].includes(response.status) || !location) {
      fail(`authorization stopped at ${response.status}: ${(await response.text()).slice(0, 300)}`);
    }
    url = new URL(location, url).toString();
    if (url.startsWith(REDIRECT_URI)) {
      const code = new URL(url).searchParams.get('code');
      if (!code) fail(`authorization refused: ${url.split('?')[1]}`);
      return code;
    }
  }
  fail('too many redirects during authorization');
}

class Provider {
  constructor() {
    this.pendingCode = undefined;
    this.savedTokens = undefined;
    this.client = undefined;
    this.verifier = undefined;
  }
  get redirectUrl() { return REDIRECT_URI; }
  get clientMetadata() {
    return {
      client_name: 'cfpb-mcp oauth test (TypeScript SDK)',
      redirect_uris: [REDIRECT_URI],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'none',
    };
  }
  clientInformation() { return this.client; }
  saveClientInformation(info) { this.client = info; }
  tokens() { return this.savedTokens; }
  saveTokens(tokens) { this.savedTokens = tokens; }
  async redirectToAuthorization(url) { this.pendingCode = await consent(url); }
  saveCodeVerifier(verifier) { this.verifier = verifier; }
  codeVerifier() { return this.verifier; }
}

async function main(url) {
  const provider = new Provider();
  const connect = async () => {
    const transport = new StreamableHTTPClientTransport(new URL(url), { authProvider: provider });
    const client = new Client({ name: 'cfpb-oauth-test', version: '1.0.0' });
    await client.connect(transport);
    return { client, transport };
  };
  let session;
  try {
    session = await connect();
    fail('connected without authorization');
  } catch (e) {
    if (!(e instanceof UnauthorizedError) || !provider.pendingCode) throw e;
    const transport = new StreamableHTTPClientTransport(new URL(url), { authProvider: provider });
    await transport.finishAuth(provider.pendingCode);
    session = await connect();
  }
  const listed = await session.client.listTools();
  console.log(JSON.stringify({ tools: listed.tools.length }));
  const result = await session.client.callTool({
    name: 'search_complaints',
    arguments: { search_term: 'forbearance', size: 2 },
  });
  if (result.isError) fail('search_complaints returned isError');
  console.log(JSON.stringify({ tool: 'search_complaints', structured_keys: Object.keys(result.structuredContent ?? {}).sort() }));
  await session.client.close();
  if (!provider.savedTokens || !provider.client) fail('no token or client registration was stored');
  console.log(JSON.stringify({ registered: true, scope: provider.savedTokens.scope ?? null }));
  console.log(JSON.stringify({ ok: true }));
}

main(process.argv[2]).catch((e) => fail(String(e && e.stack ? e.stack : e)));
