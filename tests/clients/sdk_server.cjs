// A small MCP server on the official TypeScript SDK (@modelcontextprotocol/sdk), for
// tests/sdk_profile.rs: Streamable HTTP on 127.0.0.1:$SDK_PORT at /mcp, stateful, wired
// the way the SDK's README shows (one transport + McpServer per session, kept in a map by
// session id), behind a tiny API-key check: X-API-Key or Authorization: Bearer must be one
// of $SDK_KEYS (comma-separated), else 401 with WWW-Authenticate. Everything else is the
// SDK's defaults. Writes one access-log line per request to stderr; never a key. Loaded with NODE_PATH pointing at the SDK install.
// $SDK_FAULT breaks one thing, for the broken variants of tests/sdk_profile.rs: quote-401
// (a 401 quotes the presented credential), open-get / open-delete (that method skips the
// key check), no-challenge (401 without WWW-Authenticate), prefix-key (a prefix of a key
// of 8+ chars passes), log-key (the access log writes the presented credential),
// counter-ids (session ids count up), no-description (a tool without a description).
'use strict';
const http = require('node:http');
const crypto = require('node:crypto');
const { McpServer } = require('@modelcontextprotocol/sdk/server/mcp.js');
const { StreamableHTTPServerTransport } = require('@modelcontextprotocol/sdk/server/streamableHttp.js');
const { isInitializeRequest } = require('@modelcontextprotocol/sdk/types.js');
const { z } = require('zod');

const port = Number(process.env.SDK_PORT);
const keys = (process.env.SDK_KEYS || '').split(',').filter((k) => k.length > 0);
const fault = process.env.SDK_FAULT || '';
const digest = (s) => crypto.createHash('sha256').update(s).digest();
let counter = 0;

function presentedKey(req) {
  const auth = req.headers['authorization'];
  return req.headers['x-api-key'] ??
    (typeof auth === 'string' && auth.startsWith('Bearer ') ? auth.slice(7) : undefined);
}

function authorized(req) {
  if (fault === 'open-get' && req.method === 'GET') return true;
  if (fault === 'open-delete' && req.method === 'DELETE') return true;
  const presented = presentedKey(req);
  if (typeof presented !== 'string') return false;
  if (fault === 'prefix-key' && presented.length >= 8 && keys.some((k) => k.startsWith(presented))) return true;
  const d = digest(presented);
  return keys.some((k) => crypto.timingSafeEqual(digest(k), d));
}

function newServer() {
  const server = new McpServer({ name: 'sdk-profile-ts', version: '0.0.1' });
  server.registerTool('echo', {
    description: fault === 'no-description' ? undefined : 'Echoes its text',
    inputSchema: { text: z.string() },
  }, async ({ text }) => ({ content: [{ type: 'text', text }] }));
  server.registerTool('add', {
    description: 'Adds two numbers',
    inputSchema: { a: z.number(), b: z.number() },
  }, async ({ a, b }) => ({ content: [{ type: 'text', text: String(a + b) }] }));
  return server;
}

const transports = {};

function readBody(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    let size = 0;
    req.on('data', (c) => {
      size += c.length;
      if (size > 1 << 20) { reject(new Error('too large')); req.destroy(); return; }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function json(res, status, body, headers = {}) {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}

http.createServer(async (req, res) => {
  // an access log on stderr (method, path, status), like a proxy in front would write
  res.on('finish', () => {
    const line = { method: req.method, path: req.url.split('?')[0], status: res.statusCode };
    if (fault === 'log-key') line.credential = presentedKey(req);
    console.error(JSON.stringify(line));
  });
  try {
    if (!authorized(req)) {
      const challenge = fault === 'no-challenge' ? {} : { 'www-authenticate': 'Bearer realm="sdk"' };
      const error = fault === 'quote-401' ? `invalid credential: ${presentedKey(req)}` : 'unauthorized';
      json(res, 401, { error }, challenge);
      return;
    }
    const url = new URL(req.url, 'http://127.0.0.1');
    if (url.pathname !== '/mcp') { json(res, 404, { error: 'not found' }); return; }
    const sessionId = req.headers['mcp-session-id'];
    let body;
    if (req.method === 'POST') {
      const raw = await readBody(req);
      try { body = JSON.parse(raw.toString('utf8')); } catch {
        json(res, 400, { jsonrpc: '2.0', error: { code: -32700, message: 'Parse error' }, id: null });
        return;
      }
    }
    let transport;
    if (typeof sessionId === 'string' && transports[sessionId]) {
      transport = transports[sessionId];
    } else if (!sessionId && req.method === 'POST' && isInitializeRequest(body)) {
      transport = new StreamableHTTPServerTransport({
        sessionIdGenerator: () => (fault === 'counter-ids'
          ? (++counter).toString(16).padStart(32, '0')
          : crypto.randomUUID()),
        onsessioninitialized: (id) => { transports[id] = transport; },
      });
      transport.onclose = () => { if (transport.sessionId) delete transports[transport.sessionId]; };
      await newServer().connect(transport);
    } else {
      json(res, 400, { jsonrpc: '2.0', error: { code: -32000, message: 'Bad Request: No valid session ID provided' }, id: null });
      return;
    }
    await transport.handleRequest(req, res, body);
  } catch (e) {
    if (!res.headersSent) json(res, 500, { error: 'internal' });
  }
}).listen(port, '127.0.0.1', () => {
  console.log(`listening on 127.0.0.1:${port}`);
});
