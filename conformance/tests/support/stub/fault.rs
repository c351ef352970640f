//! `Fault`: the one clause the stub breaks on purpose, one variant per check (and a
//! few fronts: Cloudflare Access, a WAF). Data only; the handlers read it.

/// The one clause the stub breaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    None,
    HealthExtra,
    PostSse200,
    OauthServed,
    XApiKeyIgnored,
    BearerIgnored,
    MissingKeyOtherBody,
    EmptyKey400,
    WrongKey403,
    CaseInsensitiveKey,
    DuplicateFirstWins,
    XApiKeyWinsOverBearer,
    NonAsciiStripped,
    NoWwwAuthenticate,
    EchoKeyHeader,
    OriginIgnored,
    AllOriginsRejected,
    NoAccelBuffering,
    AbsoluteEndpoint,
    MultiLineData,
    NoKeepalive,
    SessionNeverRemoved,
    Post200WithBody,
    NoSession404,
    Malformed404,
    UnknownOtherMessage,
    SessionNotBoundToKey,
    BadJson500,
    NoSizeLimit,
    ContentTypeIgnored,
    UnknownMethod500,
    WrongProtocolVersion,
    NewerVersionError,
    PingError,
    MissingTool,
    /// search_complaints' structuredContent breaks its outputSchema (MSG-4.structured).
    StructuredMismatch,
    ToolCallError,
    ToolErrorAsRpcError,
    SseFree,
    RateOtherBody,
    NoRetryAfter,
    SharedBucket,
    RacyLimiter,
    NoStreamCap,
    LogNoDuration,
    LogWrongKeyId,
    LogNoToolCall,
    LogFullSession,
    /// Not a fault: `session` omitted (rather than null) on lines without a session.
    LogOmitsNullSession,
    /// `session` is the 8-char prefix of some other session, not of the request's.
    LogOtherSessionPrefix,
    LogNoStreamEnd,
    LogAuthBase64,
    /// Tool arguments and names are logged as posted: a key in them reaches the log.
    LogArgsUnscrubbed,
    /// The posted body is not scrubbed: a key posted as a tool name comes back in the
    /// tool error ("Unknown tool: <key>").
    ToolErrorEchoesKey,
    /// A 401 quotes the credential presented (`Invalid token: <value>`): a near miss that
    /// holds the key (the key plus one character) reflects it from a request header.
    UnauthorizedQuotesKey,
    /// `get_complaint_document` is listed without a description (both transports).
    ToolNoDescription,
    /// Answers on the legacy SSE stream go out as `event: response`, not `message`: the
    /// session opens, but no answer ever arrives as a client expects it.
    WrongEventName,
    /// `GET /mcp` without a credential is not guarded (auth wraps the POSTs only): `400`
    /// "Missing Mcp-Session-Id".
    HttpGetUnguarded,
    /// `DELETE /mcp` without a credential is not guarded: `404` for an unknown session.
    HttpDeleteUnguarded,
    /// `GET /mcp/sse` answers 200 but never sends the `endpoint` event (a broken
    /// handshake: the session prerequisite fails).
    NoEndpointEvent,
    /// Cloudflare Access in front: without the service token headers every request gets
    /// a 302 to the Access login page.
    CloudflareAccess302,
    /// Cloudflare Access in front: without the service token, a 403 HTML page.
    CloudflareAccess403,
    /// The bucket holds twice the configured burst.
    DoubleBurst,
    /// The bucket refills at half the configured rate.
    HalfRate,
    /// Keep-alive comments three times as far apart as configured (still within SSE-4's wait).
    SlowKeepalive,
    /// One more stream per key than configured.
    ExtraStream,
    /// No `/mcp` at all (404): for the transport detection.
    NoStreamable,
    HttpPingAs202,
    HttpNotification200,
    HttpToolCallError,
    HttpSessionIdUuid,
    HttpVersionFixed,
    HttpMissingSession404,
    HttpUnknownOtherBody,
    HttpSessionNotBoundToKey,
    HttpStreamNoAccelBuffering,
    HttpDeleteKeepsSession,
    HttpVersionHeaderIgnored,
    HttpAuthPlainText,
    HttpOriginIgnored,
    HttpOwnBucket,
    HttpLogNoTool,
    HttpNoAllow,
    /// `/mcp` without the stateless revision (2026-07-28 is an unsupported version).
    NoStateless,
    /// Any sessionless request with an `MCP-Protocol-Version` header is served statelessly.
    Http2026EraAnyVersion,
    Http2026NoServerInfo,
    Http2026MetaNotValidated,
    Http2026ToolCallError,
    Http2026NameNotChecked,
    Http2026UnsupportedNoList,
    /// `ping` with the 2026-07-28 headers is answered (the revision has no ping).
    Http2026PingServed,
    Http2026EchoSessionId,
    Http2026GetAllowsAll,
    Http2026NoCacheHints,
    /// `rpc_method` and `tool` logged from the mirrored headers, not the body.
    Http2026LogFromHeaders,
    Http2026AuthPlainText,
    Http2026OriginIgnored,
    Http2026OwnBucket,
    /// `/mcp` session ids are base64url of JSON state (`{"key":0,"n":counter,...}`).
    HttpSessionIdEncodesState,
    /// `/mcp` `tools/list` answers a JSON-RPC error (the round trip of MCP-INIT-1 breaks).
    HttpToolsListError,
    /// No legacy HTTP+SSE on `/mcp/sse` (404), like a Streamable-HTTP-only SDK server.
    NoLegacySse,
    /// `/mcp` as the strict 2026-07-28 server of before COMPAT (`--strict-protocol`): a
    /// `_meta` version decides the era, the header must match it, a repeated header is
    /// refused, `initialize` with a 2026-07-28 header is -32601, nothing logged as a quirk.
    StrictProtocol,
    /// COMPAT-1 off: a stale or missing header with a 2026-07-28 `_meta` is -32020.
    CompatBodyIgnored,
    /// COMPAT-2 off: a repeated version header is a 400.
    CompatRepeatRefused,
    /// COMPAT-3 off: `initialize` with a 2026-07-28 header is 404 -32601.
    CompatInitializeRefused,
    /// COMPAT-4 broken: an unknown session id is a 400 bad_request.
    CompatStale400,
    /// COMPAT-5 broken: on the COMPAT-1 path `Mcp-Method` / `Mcp-Name` are not checked.
    CompatMirrorsIgnored,
    /// COMPAT-6 broken: tolerated requests are not logged as quirks.
    CompatNoQuirkLogged,
    /// A WAF / bot rule in front: `User-Agent: Claude-User` gets a 403 Cloudflare
    /// challenge (`cf-mitigated: challenge`).
    WafChallengesClaude,
}
