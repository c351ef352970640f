// A small MCP server on the official TypeScript SDK (@modelcontextprotocol/sdk), for
// tests/sdk_profile.rs: Streamable HTTP on 127.0.0.1:$SDK_PORT at /mcp, stateful, wired
// the way the SDK's README shows (one transport + McpServer per session, kept in a map by
// session id), behind a tiny API-key check: X-API-Key or Authorization: Bearer must be one
// of $SDK_KEYS (comma-separated), else 401 with WWW-Authenticate. Everything else is the
// SDK's defaults. Writes one access-log line per request to stderr; never a key. Loaded with NODE_PATH pointing at the SDK install.
'use strict';
const http = require('node:http');
const crypto = require('node:crypto');
const { McpServer } = require('@modelcontextprotocol/sdk/server/mcp.js');
const { StreamableHTTPServerTransport } = require('@modelcontextprotocol/sdk/server/streamableHttp.js');
const { isInitializeRequest } = require('@modelcontextprotocol/sdk/types.js');
const { z } = require('zod');

const port = Number(process.env.SDK_PORT);
const keys = (process.env.SDK_KEYS || '').split(',').filter((k) => k.length > 0);
const digest = (s) => crypto.createHash('sha256').update(s).digest();

function authorized(req) {
  const auth = req.headers['authorization'];
  const presented = req.headers['x-api-key'] ??
    (typeof auth === 'string' && auth.startsWith('Bearer ') ? auth.slice(7) : undefined);
  if (typeof presented !== 'string') return false;
  const d = digest(presented);
  return keys.some((k) => crypto.timingSafeEqual(digest(k), d));
}

function newServer() {
  const server = new McpServer({ name: 'sdk-profile-ts', version: '0.0.1' });
  server.registerTool('echo', {
    description: 'Echoes its text',
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
    console.error(JSON.stringify({ method: req.method, path: req.url.split('?')[0], status: res.statusCode }));
  });
  try {
    if (!authorized(req)) {
      json(res, 401, { error: 'unauthorized' }, { 'www-authenticate': 'Bearer realm="sdk"' });
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
        sessionIdGenerator: () => crypto.randomUUID(),
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
