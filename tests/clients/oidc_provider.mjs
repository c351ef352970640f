// A real OAuth 2.1 authorization server for the OAuth tests (tests/oauth_flow.rs):
// panva's `oidc-provider` (OpenID Certified) on loopback, with what an MCP client needs
// from one (docs/oauth.md, OAUTH-1..5):
// - dynamic client registration (RFC 7591) and PKCE (required for every client);
// - resource indicators (RFC 8707): the one resource RESOURCE gets JWT access tokens
//   (`aud` = RESOURCE, scope `mcp`), any other resource is refused (invalid_target);
// - no browser: the login and consent prompts are answered by this script itself at
//   /interaction/<uid> (the test user `test-user` logs in and grants what was asked),
//   so a client that follows the redirects with a cookie jar gets its code.
//
// Usage: node oidc_provider.mjs PORT RESOURCE
// Prints one line `{"issuer": "..."}` once listening; stops on SIGTERM / stdin close.
// Copied beside its node_modules by the test (ES modules resolve from the script's folder).

import Provider, { errors } from 'oidc-provider';
import * as jose from 'jose';

const [port, resource] = process.argv.slice(2);
if (!port || !resource) {
  console.error('usage: node oidc_provider.mjs PORT RESOURCE');
  process.exit(2);
}
const issuer = `http://127.0.0.1:${port}`;
const SCOPE = 'mcp';

async function signingKey(alg, kid) {
  const { privateKey } = await jose.generateKeyPair(alg, { extractable: true });
  return { ...(await jose.exportJWK(privateKey)), kid, alg, use: 'sig' };
}

const provider = new Provider(issuer, {
  clients: [],
  jwks: { keys: [await signingKey('RS256', 'rs-1'), await signingKey('ES256', 'es-1')] },
  cookies: { keys: [crypto.randomUUID()] },
  scopes: ['openid', 'offline_access', SCOPE],
  pkce: { required: () => true },
  findAccount: (_ctx, id) => ({ accountId: id, claims: () => ({ sub: id }) }),
  interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
  features: {
    devInteractions: { enabled: false },
    registration: { enabled: true },
    resourceIndicators: {
      enabled: true,
      defaultResource: () => resource,
      useGrantedResource: () => true,
      getResourceServerInfo: (_ctx, indicator) => {
        if (indicator !== resource) throw new errors.InvalidTarget();
        return {
          scope: SCOPE,
          audience: resource,
          accessTokenFormat: 'jwt',
          accessTokenTTL: 600,
          jwt: { sign: { alg: 'ES256' } },
        };
      },
    },
  },
});

// The login and consent prompts, answered without a browser.
provider.use(async (ctx, next) => {
  if (!ctx.path.startsWith('/interaction/')) return next();
  const details = await provider.interactionDetails(ctx.req, ctx.res);
  let result;
  if (details.prompt.name === 'login') {
    result = { login: { accountId: 'test-user' } };
  } else {
    const grant = details.grantId
      ? await provider.Grant.find(details.grantId)
      : new provider.Grant({ accountId: details.session.accountId, clientId: details.params.client_id });
    const missing = details.prompt.details;
    if (missing.missingOIDCScope) grant.addOIDCScope(missing.missingOIDCScope.join(' '));
    if (missing.missingOIDCClaims) grant.addOIDCClaims(missing.missingOIDCClaims);
    for (const [indicator, scopes] of Object.entries(missing.missingResourceScopes ?? {})) {
      grant.addResourceScope(indicator, scopes.join(' '));
    }
    result = { consent: { grantId: await grant.save() } };
  }
  const to = await provider.interactionResult(ctx.req, ctx.res, result, { mergeWithLastSubmission: false });
  ctx.status = 303;
  ctx.redirect(to);
});

const server = provider.listen(Number(port), '127.0.0.1', () => {
  console.log(JSON.stringify({ issuer }));
});
const stop = () => server.close(() => process.exit(0));
process.on('SIGTERM', stop);
process.stdin.on('end', stop);
process.stdin.resume();
