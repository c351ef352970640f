//! [`Guard`]: the guard's one door. It owns the key set, both limiters and the
//! Origin allowlist, and runs the steps in order for every guarded request
//! (docs/contract.md): origin (NET-2) -> key extraction (AUTH-1/3) -> key
//! verification (AUTH-5) -> failed-auth limiter per address (RATE-6) or the
//! per-key limiter (RATE-1..5). A configured key anywhere but the
//! credential headers (another header, a posted body in any encoding, JSON
//! escapes included) is refused and counted as a failed authentication, so
//! it can be neither echoed nor used as an oracle (AUTH-7). It also reloads
//! the keys file (AUTH-2, AUTH-8).
//!
//! A presented key never leaves this module in clear: past the guard a caller
//! is an [`Admitted`] (its [`KeyDigest`] and loggable [`Caller`]), and a
//! refusal a [`Refusal`] that knows its response and its log reason.

use std::net::{IpAddr, SocketAddr};
use std::num::NonZeroU32;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderMap, Response, StatusCode};

use crate::audit::{Caller, Reason};
use crate::cluster::{Cluster, Gcra, Spend, auth_fail_bucket, key_bucket};
use crate::config::{Config, ConfigError};
use crate::guard::extract::{Presented, extract_from_headers};
use crate::guard::limit::{AuthFailLimiter, BadRate, KeyLimiter, Verdict, retry_after_secs};
use crate::guard::methods::{ACCESS_HEADER, Methods, looks_like_jwt};
use crate::guard::origin::{normalize_origin, origin_allowed};
use crate::http::proxy::TrustedProxies;
use crate::http::response::{
    Body, ErrorKind, error_response, messages_text, too_many_requests, unauthorized,
};
use crate::identity::keys::{ApiKey, KeyDigest, KeyListError, KeySet, KeysInForce, parse_key_file};
use crate::identity::{AuthMethod, TokenError};

/// Why the guard could not be built from the configuration. Messages name
/// the setting, never a key.
#[derive(Debug, thiserror::Error)]
pub enum GuardError {
    /// A setting wrong on its own (a guard is never built from a
    /// configuration [`Config::validate`] refuses).
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error("CFPB_MCP_API_KEYS_FILE ({path}): {source}")]
    KeysFile {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("CFPB_MCP_API_KEYS_FILE ({path}): {source}")]
    KeysFileFormat { path: PathBuf, source: KeyListError },
    #[error(
        "no API keys configured: set CFPB_MCP_API_KEYS or CFPB_MCP_API_KEYS_FILE \
         (generate one with `cfpb-mcp keygen`); refusing to start without authentication"
    )]
    NoKeys,
    #[error("--allow-no-auth is for local development only: bind a loopback address, not {0}")]
    NoAuthNotLoopback(SocketAddr),
    #[error("{name}: {why}")]
    Setting { name: &'static str, why: String },
}

/// Why a key reload failed; the previous keys stay in force.
#[derive(Debug, thiserror::Error)]
pub enum ReloadError {
    #[error("no keys file configured")]
    NoFile,
    #[error(transparent)]
    Load(#[from] GuardError),
}

/// A request the guard let through.
#[derive(Debug, Clone, Copy)]
pub struct Admitted {
    /// How it authenticated (OAUTH-5).
    pub method: AuthMethod,
    /// Whose request it is: sessions and limits are keyed by it.
    pub key: KeyDigest,
    /// How the audit log names it (`none` when running without keys).
    pub caller: Caller,
    /// Where it came from: a key found in its body is a failed
    /// authentication from this address (RATE-6, AUTH-7).
    pub peer: IpAddr,
}

/// A request the guard refused: its response and its audit fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// The `error` of the audit line.
    pub reason: Reason,
    /// The presented key's id, when a key was presented (even a wrong one).
    pub caller: Option<Caller>,
    answer: Answer,
    /// The `WWW-Authenticate` of a 401 or 403 (AUTH-4, OAUTH-2).
    challenge: Option<http::HeaderValue>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Answer {
    Forbidden,
    Unauthorized,
    Throttled {
        retry_after_secs: u64,
    },
    /// A configured key outside the credential headers (AUTH-7).
    Misplaced,
    /// A valid token without a required scope (OAUTH-2): 403.
    InsufficientScope,
    /// The issuer's keys can't be fetched (OAUTH-3: fail closed): 503.
    KeysUnavailable,
}

/// The 403 of a token without a required scope.
pub const INSUFFICIENT_SCOPE: &str = "The token lacks a required scope";
/// The 503 while the issuer's keys can't be fetched.
pub const KEYS_UNAVAILABLE: &str = "Token signing keys unavailable; retry later";

/// The refusal of a request that carries a configured key outside the
/// credential headers (AUTH-7).
pub const MISPLACED_KEY: &str =
    "An API key must not appear in a request except in X-API-Key or Authorization";

impl Refusal {
    /// The contract's response: 403 (NET-2), 401 (AUTH-3/4), 429 (RATE-2/3/6).
    pub fn response(&self) -> Response<Body> {
        match self.answer {
            Answer::Forbidden => error_response(
                StatusCode::FORBIDDEN,
                ErrorKind::Forbidden,
                messages_text::FORBIDDEN_ORIGIN,
            ),
            Answer::Unauthorized => {
                let mut r = unauthorized();
                if let Some(challenge) = &self.challenge {
                    r.headers_mut()
                        .insert(http::header::WWW_AUTHENTICATE, challenge.clone());
                }
                r
            }
            Answer::Throttled { retry_after_secs } => too_many_requests(retry_after_secs),
            Answer::Misplaced => error_response(
                StatusCode::BAD_REQUEST,
                ErrorKind::BadRequest,
                MISPLACED_KEY,
            ),
            Answer::InsufficientScope => {
                let mut r = error_response(
                    StatusCode::FORBIDDEN,
                    ErrorKind::Forbidden,
                    INSUFFICIENT_SCOPE,
                );
                if let Some(challenge) = &self.challenge {
                    r.headers_mut()
                        .insert(http::header::WWW_AUTHENTICATE, challenge.clone());
                }
                r
            }
            Answer::KeysUnavailable => {
                let mut r = error_response(
                    StatusCode::SERVICE_UNAVAILABLE,
                    ErrorKind::Overloaded,
                    KEYS_UNAVAILABLE,
                );
                r.headers_mut().insert(
                    http::header::RETRY_AFTER,
                    http::HeaderValue::from_static("5"),
                );
                r
            }
        }
    }
}

/// The limiters' quotas in the shared store. The local limiters still see
/// every request, so when Redis is lost (CLUSTER-5) the fallback starts from
/// this replica's own recent traffic, not from a fresh burst.
struct SharedLimits {
    cluster: Cluster,
    key: Gcra,
    auth_fail: Option<Gcra>,
}

/// The guard of every guarded route.
pub struct Guard {
    /// Verified against on every guarded request; swapped whole on reload,
    /// and shared with the transports, which scrub their audit fields with it.
    keys: KeysInForce,
    /// Inline keys (kept across reloads) and the file re-read on reload.
    inline_keys: Vec<ApiKey>,
    keys_file: Option<PathBuf>,
    /// `--allow-no-auth` with no keys: every request is the anonymous caller.
    keyless: bool,
    /// Bench builds only: no guard at all (see `Config::bench_unguarded`).
    #[cfg(feature = "bench-unguarded")]
    unguarded: bool,
    limiter: KeyLimiter,
    auth_fail: AuthFailLimiter,
    /// With Redis: the same quotas, shared by every replica (CLUSTER-1).
    shared: Option<SharedLimits>,
    /// Normalized allowed origins (NET-2).
    allowed_origins: Vec<String>,
    /// Whose `CF-Connecting-IP` names the client (RATE-6).
    proxies: TrustedProxies,
    /// The authentication methods in force (OAUTH-1..5).
    methods: Methods,
}

fn setting(name: &'static str) -> impl Fn(BadRate) -> GuardError {
    move |e| GuardError::Setting {
        name,
        why: e.to_string(),
    }
}

fn read_keys_file(path: &PathBuf) -> Result<Vec<ApiKey>, GuardError> {
    let text = std::fs::read_to_string(path).map_err(|source| GuardError::KeysFile {
        path: path.clone(),
        source,
    })?;
    parse_key_file(&text).map_err(|source| GuardError::KeysFileFormat {
        path: path.clone(),
        source,
    })
}

fn load_keys(inline: &[ApiKey], file: Option<&PathBuf>) -> Result<KeySet, GuardError> {
    let mut keys = inline.to_vec();
    if let Some(path) = file {
        for key in read_keys_file(path)? {
            if !keys.contains(&key) {
                keys.push(key);
            }
        }
    }
    Ok(KeySet::new(keys))
}

impl Guard {
    /// Load the keys (inline and file) and build the limiters from `config`,
    /// refusing a configuration without authentication (AUTH-6) or with a
    /// rate that is not a number.
    pub fn new(config: &Config) -> Result<Self, GuardError> {
        Self::with_cluster(config, None)
    }

    /// As [`Guard::new`], the limiters shared through `cluster` when given.
    pub fn with_cluster(config: &Config, cluster: Option<Cluster>) -> Result<Self, GuardError> {
        config.validate()?;
        let methods = Methods::from_settings(&config.auth).map_err(|e| GuardError::Setting {
            name: e.name,
            why: e.why,
        })?;
        let keys = load_keys(&config.api_keys, config.api_keys_file.as_ref())?;
        if !methods.keys && !keys.is_empty() {
            return Err(GuardError::Setting {
                name: "CFPB_MCP_API_KEYS",
                why: "keys are set, but CFPB_MCP_AUTH does not list keys".into(),
            });
        }
        let keyless = methods.keys && keys.is_empty();
        if keyless && (methods.oauth.is_some() || methods.access.is_some()) {
            return Err(GuardError::NoKeys);
        }
        if keyless && !config.allow_no_auth {
            return Err(GuardError::NoKeys);
        }
        if keyless && !config.bind.ip().is_loopback() {
            return Err(GuardError::NoAuthNotLoopback(config.bind));
        }
        let burst = NonZeroU32::new(config.rate_limit_burst).ok_or(GuardError::Setting {
            name: "CFPB_MCP_RATE_LIMIT_BURST",
            why: "must be at least 1".into(),
        })?;
        let limiter = KeyLimiter::new(config.rate_limit_rps, burst)
            .map_err(setting("CFPB_MCP_RATE_LIMIT_RPS"))?;
        let auth_fail = AuthFailLimiter::new(config.auth_fail_rps, config.auth_fail_burst)
            .map_err(setting("CFPB_MCP_AUTH_FAIL_RPS"))?;
        let quota = |rps: f64, burst: NonZeroU32, name| {
            Gcra::new(rps, burst).ok_or_else(|| setting(name)(BadRate(rps)))
        };
        let shared = match cluster {
            Some(cluster) => Some(SharedLimits {
                cluster,
                key: quota(config.rate_limit_rps, burst, "CFPB_MCP_RATE_LIMIT_RPS")?,
                auth_fail: match NonZeroU32::new(config.auth_fail_burst) {
                    Some(b) if config.auth_fail_rps != 0.0 => {
                        Some(quota(config.auth_fail_rps, b, "CFPB_MCP_AUTH_FAIL_RPS")?)
                    }
                    _ => None,
                },
            }),
            None => None,
        };
        Ok(Self {
            shared,
            keys: KeysInForce::new(keys),
            inline_keys: config.api_keys.clone(),
            keys_file: config.api_keys_file.clone(),
            keyless,
            #[cfg(feature = "bench-unguarded")]
            unguarded: config.bench_unguarded,
            limiter,
            auth_fail,
            allowed_origins: config
                .allowed_origins
                .iter()
                .map(|o| normalize_origin(o))
                .collect(),
            proxies: config.trusted_proxies.clone(),
            methods,
        })
    }

    /// The guard (NET-2, AUTH-1..5, RATE-1..6) for one request from `peer`
    /// (the TCP peer; behind a trusted proxy, its `CF-Connecting-IP`).
    pub async fn check(&self, headers: &HeaderMap, peer: IpAddr) -> Result<Admitted, Refusal> {
        let peer = self.proxies.client_ip(peer, headers);
        #[cfg(feature = "bench-unguarded")]
        if self.unguarded {
            return Ok(Admitted {
                method: AuthMethod::Keys,
                key: KeyDigest::anonymous(),
                caller: Caller::None,
                peer,
            });
        }
        if !origin_allowed(headers, &self.allowed_origins) {
            return Err(Refusal {
                reason: Reason::Origin,
                caller: None,
                answer: Answer::Forbidden,
                challenge: None,
            });
        }
        // OAUTH-4: with Access on, every request carries its assertion;
        // one without came around the tunnel.
        let access = match &self.methods.access {
            None => None,
            Some(verifier) => match access_assertion(headers) {
                None => return Err(self.failed_auth(peer, None, Answer::Unauthorized).await),
                Some(token) => match verifier.verify(token).await {
                    Ok(verified) => Some(verified),
                    Err(e) => return Err(self.token_refused(peer, None, &e).await),
                },
            },
        };
        let (verified, caller, method) = if self.keyless {
            (Some(KeyDigest::anonymous()), None, AuthMethod::Keys)
        } else {
            match (extract_from_headers(headers), &self.methods.oauth) {
                (Presented::Key(presented), Some(oauth)) if looks_like_jwt(presented) => {
                    let token = std::str::from_utf8(presented).unwrap_or_default();
                    match oauth.verifier.verify(token).await {
                        Ok(v) => {
                            let digest = KeyDigest::from_bytes(v.digest);
                            (Some(digest), Some(Caller::Key(digest.id())), v.method)
                        }
                        Err(e) => return Err(self.token_refused(peer, None, &e).await),
                    }
                }
                (Presented::Key(presented), _) if self.methods.keys => {
                    let digest = KeyDigest::of(presented);
                    let caller = Some(Caller::Key(digest.id()));
                    (
                        self.keys.load().verify_digest(&digest),
                        caller,
                        AuthMethod::Keys,
                    )
                }
                // Access alone: the assertion is the credential.
                (Presented::Missing, None) if !self.methods.keys => match &access {
                    Some(v) => {
                        let digest = KeyDigest::from_bytes(v.digest);
                        (Some(digest), Some(Caller::Key(digest.id())), v.method)
                    }
                    None => (None, None, AuthMethod::Access),
                },
                _ => (None, None, AuthMethod::Keys),
            }
        };
        let Some(key) = verified else {
            return Err(self.failed_auth(peer, caller, Answer::Unauthorized).await);
        };
        if !self.keyless && stray_key(&self.keys.load(), headers) {
            return Err(self.failed_auth(peer, caller, Answer::Misplaced).await);
        }
        let local = self.limiter.check(&key);
        let shared = match &self.shared {
            Some(shared) => {
                let bucket = key_bucket(&hex::encode(key.as_bytes()));
                shared.cluster.spend(&bucket, shared.key).await
            }
            None => None,
        };
        match shared.map_or(local, verdict) {
            Verdict::Allow => Ok(Admitted {
                method,
                key,
                caller: caller.unwrap_or(Caller::None),
                peer,
            }),
            Verdict::Deny { retry_after_secs } => Err(Refusal {
                reason: Reason::RateLimit,
                caller,
                answer: Answer::Throttled { retry_after_secs },
                challenge: None,
            }),
        }
    }

    /// A failed authentication from `peer` (RATE-6): one cell of its
    /// failed-auth bucket spent, and `answer` unless the bucket is empty.
    async fn failed_auth(&self, peer: IpAddr, caller: Option<Caller>, answer: Answer) -> Refusal {
        let local = self.auth_fail.check(peer);
        let shared = match &self.shared {
            Some(SharedLimits {
                cluster,
                auth_fail: Some(quota),
                ..
            }) => cluster.spend(&auth_fail_bucket(peer), *quota).await,
            _ => None,
        };
        let answer = match shared.map_or(local, verdict) {
            Verdict::Allow => answer,
            Verdict::Deny { retry_after_secs } => Answer::Throttled { retry_after_secs },
        };
        let challenge = match answer {
            Answer::Unauthorized => Some(self.methods.challenge(false)),
            _ => None,
        };
        Refusal {
            reason: Reason::Auth,
            caller,
            answer,
            challenge,
        }
    }

    /// A presented token that did not verify (OAUTH-2/3): a failed
    /// authentication with `error="invalid_token"`, a 403 for a missing
    /// scope, or a 503 while the issuer's keys can't be had.
    async fn token_refused(
        &self,
        peer: IpAddr,
        caller: Option<Caller>,
        error: &TokenError,
    ) -> Refusal {
        match error {
            TokenError::InsufficientScope => Refusal {
                reason: Reason::Auth,
                caller,
                answer: Answer::InsufficientScope,
                challenge: Some(self.methods.insufficient_scope()),
            },
            TokenError::KeysUnavailable => Refusal {
                reason: Reason::Auth,
                caller,
                answer: Answer::KeysUnavailable,
                challenge: None,
            },
            _ => {
                let mut refusal = self.failed_auth(peer, caller, Answer::Unauthorized).await;
                if refusal.answer == Answer::Unauthorized {
                    refusal.challenge = Some(self.methods.challenge(true));
                }
                refusal
            }
        }
    }

    /// OAuth's Protected Resource Metadata (RFC 9728) for `path`, when OAuth
    /// is on and `path` is one of its paths (OAUTH-2).
    pub fn resource_metadata(&self, path: &str) -> Option<String> {
        if !self.methods.is_metadata_path(path) {
            return None;
        }
        self.methods.resource_metadata()
    }

    /// Is `path` one of the Protected Resource Metadata's (OAuth on)?
    pub fn is_metadata_path(&self, path: &str) -> bool {
        self.methods.is_metadata_path(path)
    }

    /// Is OAuth on (a token in a URL's query is then refused, OAUTH-3)?
    pub fn oauth_enabled(&self) -> bool {
        self.methods.oauth.is_some()
    }

    /// AUTH-7: a posted message never carries a configured key onward, into a
    /// tool, its result, or an error that would echo it (`Unknown tool: <key>`),
    /// in any encoding the redactor knows, JSON's `\u` escapes and percent
    /// escapes undone first. Such a body is refused (400) and counted as a
    /// failed authentication from the caller's address, so the check is no
    /// oracle for guessing keys either.
    pub async fn inspect(&self, who: &Admitted, body: Bytes) -> Result<Bytes, Refusal> {
        if self.keyless || !body_holds_key(&self.keys.load(), &body) {
            return Ok(body);
        }
        Err(self
            .failed_auth(who.peer, Some(who.caller), Answer::Misplaced)
            .await)
    }

    /// AUTH-7 on the way out: every configured key, in every encoding the
    /// redactor knows, replaced by `[REDACTED]` in `response`'s body, in
    /// case one got past [`Guard::inspect`] and the header check some way
    /// nobody foresaw. A body whose size is known (JSON answers, errors) is
    /// already in memory and is scrubbed whole, so its length stays true;
    /// an event stream is scrubbed frame by frame (each frame is whole
    /// events), with the keys in force when it opened.
    pub async fn scrub_response(&self, response: Response<Body>) -> Response<Body> {
        use http_body_util::BodyExt;
        if self.keyless {
            return response;
        }
        let keys = self.keys.load_full();
        let (parts, body) = response.into_parts();
        let body = if hyper::body::Body::size_hint(&body).exact().is_some() {
            let bytes = match body.collect().await {
                Ok(collected) => collected.to_bytes(),
                Err(never) => match never {},
            };
            http_body_util::Full::new(keys.redactor().redact_bytes(bytes)).boxed_unsync()
        } else {
            body.map_frame(move |frame| frame.map_data(|data| keys.redactor().redact_bytes(data)))
                .boxed_unsync()
        };
        Response::from_parts(parts, body)
    }

    /// The keys in force now, for scrubbing loggable text (LOG-2).
    pub fn keys(&self) -> arc_swap::Guard<Arc<KeySet>> {
        self.keys.load()
    }

    /// The keys in force, as a handle that sees every later reload: what a
    /// transport scrubs its audit fields with (LOG-2).
    pub fn keys_in_force(&self) -> KeysInForce {
        self.keys.clone()
    }

    /// Running without keys (`--allow-no-auth`, AUTH-6)?
    pub fn is_keyless(&self) -> bool {
        self.keyless
    }

    /// CLUSTER-10: may a request another replica forwarded, from a caller it
    /// admitted by `method` as the identity `caller_hex`, be answered here?
    /// A key must be in this replica's key set now (a replica that missed a
    /// reload can't get a revoked key served here). A token identity (OAuth,
    /// Access) was verified by the sender just now, against the same issuer:
    /// the method must be in force here too. An empty caller (not the
    /// session's: the transport answers the unknown session's 404) passes.
    pub fn admits_forwarded(&self, method: AuthMethod, caller_hex: &str) -> bool {
        if caller_hex.is_empty() || self.keyless {
            return true;
        }
        match method {
            AuthMethod::Keys => {
                self.methods.keys
                    && KeyDigest::from_hex(caller_hex).is_some_and(|k| self.keys().contains(&k))
            }
            AuthMethod::Oauth | AuthMethod::Access => self.methods.accepts(method),
        }
    }

    /// Re-read the keys file (AUTH-2): the key set it now holds, not yet in
    /// force; [`Guard::install`] puts it in force. On error nothing changes.
    pub fn reread(&self) -> Result<KeySet, ReloadError> {
        let Some(path) = &self.keys_file else {
            return Err(ReloadError::NoFile);
        };
        match load_keys(&self.inline_keys, Some(path)) {
            Ok(keys) if keys.is_empty() && !self.keyless => Err(GuardError::NoKeys.into()),
            Ok(keys) => Ok(keys),
            Err(e) => Err(e.into()),
        }
    }

    /// Put `keys` in force: new keys work and removed keys fail from the next
    /// request on (AUTH-8).
    pub fn install(&self, keys: KeySet) {
        self.keys.install(keys);
    }
}

/// The one `Cf-Access-Jwt-Assertion` of a request, if it has exactly one.
fn access_assertion(headers: &HeaderMap) -> Option<&str> {
    let mut values = headers.get_all(ACCESS_HEADER).iter();
    match (values.next(), values.next()) {
        (Some(value), None) => value.to_str().ok(),
        _ => None,
    }
}

/// The shared limiter's answer as the local limiter's.
fn verdict(spend: Spend) -> Verdict {
    match spend {
        Spend::Allowed { .. } => Verdict::Allow,
        Spend::Denied { wait_us } => Verdict::Deny {
            retry_after_secs: retry_after_secs(Duration::from_micros(wait_us)),
        },
    }
}

/// Does `body` hold a configured key (AUTH-7)? In its bytes, in any
/// encoding the redactor knows; and, where JSON escapes (`\u0041`) or
/// percent escapes could hide one, in every string of the parsed JSON
/// (names and values), decoded. Pure; bounded by the body's size.
pub fn body_holds_key(keys: &KeySet, body: &[u8]) -> bool {
    let redactor = keys.redactor();
    if redactor.is_match(body) {
        return true;
    }
    let escaped = body.iter().any(|b| matches!(b, b'\\' | b'%'));
    if !escaped {
        return false;
    }
    let Ok(value) = serde_json::from_slice::<serde_json::Value>(body) else {
        return false; // not JSON: refused as such later, never parsed
    };
    let mut strings = Vec::new();
    collect_strings(&value, &mut strings);
    strings
        .into_iter()
        .any(|s| redactor.is_match(s.as_bytes()) || redactor.holds_percent_decoded_key(s))
}

/// Every string in `value`, object member names included.
fn collect_strings<'a>(value: &'a serde_json::Value, out: &mut Vec<&'a str>) {
    match value {
        serde_json::Value::String(s) => out.push(s),
        serde_json::Value::Array(items) => items.iter().for_each(|v| collect_strings(v, out)),
        serde_json::Value::Object(members) => {
            for (name, v) in members {
                out.push(name);
                collect_strings(v, out);
            }
        }
        _ => {}
    }
}

/// A configured key in a header other than the two that carry credentials
/// (`Mcp-Name: <key>` would be echoed in an error, AUTH-7)?
fn stray_key(keys: &KeySet, headers: &HeaderMap) -> bool {
    let redactor = keys.redactor();
    headers.iter().any(|(name, value)| {
        name != http::header::AUTHORIZATION
            && name.as_str() != "x-api-key"
            && redactor.is_match(value.as_bytes())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "k3y-0123456789abcdefghijklmnop";

    fn keys() -> KeySet {
        KeySet::new(vec![ApiKey::new(KEY).unwrap()])
    }

    fn escaped(text: &str) -> String {
        text.chars()
            .map(|c| format!("\\u{:04x}", c as u32))
            .collect()
    }

    #[test]
    fn auth_7_a_key_in_a_body_is_found_in_any_encoding() {
        let keys = keys();
        let percent: String = KEY.bytes().map(|b| format!("%{b:02x}")).collect();
        let half = format!("{}{}", &KEY[..10], escaped(&KEY[10..]));
        for body in [
            format!(r#"{{"name":"{KEY}"}}"#),
            format!(r#"{{"name":"{}"}}"#, escaped(KEY)),
            format!(r#"{{"{half}":1}}"#),
            format!(r#"{{"a":["x",{{"b":"{percent}"}}]}}"#),
            format!(r#"{{"id":"{}"}}"#, hex::encode(KEY)),
        ] {
            assert!(body_holds_key(&keys, body.as_bytes()), "{body}");
        }
        for body in [
            r#"{"search_term":"\u0063ard","x":"50%"}"#.to_owned(),
            format!(r#"{{"name":"{}"}}"#, &KEY[..KEY.len() - 1]),
            "not json \\ %".to_owned(),
        ] {
            assert!(!body_holds_key(&keys, body.as_bytes()), "{body}");
        }
    }

    #[test]
    fn auth_7_only_the_credential_headers_may_hold_a_key() {
        let keys = keys();
        let mut headers = HeaderMap::new();
        headers.insert("x-api-key", KEY.parse().unwrap());
        headers.insert("authorization", format!("Bearer {KEY}").parse().unwrap());
        assert!(!stray_key(&keys, &headers));
        headers.insert("mcp-name", KEY.parse().unwrap());
        assert!(stray_key(&keys, &headers));
    }

    #[test]
    fn cluster_10_the_owner_serves_keys_it_has_now_and_methods_in_force() {
        let revoked = ApiKey::generate();
        let hex_of = |k: &ApiKey| hex::encode(k.digest().as_bytes());
        let kept = ApiKey::new(KEY).unwrap();
        let keys_only = Guard::new(&Config::with_keys([KEY])).unwrap();
        assert!(keys_only.admits_forwarded(AuthMethod::Keys, &hex_of(&kept)));
        assert!(!keys_only.admits_forwarded(AuthMethod::Keys, &hex_of(&revoked)));
        assert!(!keys_only.admits_forwarded(AuthMethod::Keys, "not-hex"));
        assert!(
            keys_only.admits_forwarded(AuthMethod::Keys, ""),
            "the transport's 404"
        );
        // A token identity is never a key, and a method not in force here is refused.
        let token_identity = hex::encode([7u8; 32]);
        assert!(!keys_only.admits_forwarded(AuthMethod::Oauth, &token_identity));
        assert!(!keys_only.admits_forwarded(AuthMethod::Access, &token_identity));
        assert!(!keys_only.admits_forwarded(AuthMethod::Keys, &token_identity));

        let mut config = Config::with_keys([KEY]);
        config.auth.methods = vec![AuthMethod::Keys, AuthMethod::Oauth];
        config.auth.oauth_issuer = Some("http://127.0.0.1:9".into());
        config.auth.oauth_resource = Some("http://127.0.0.1:9/mcp".into());
        let both = Guard::new(&config).unwrap();
        assert!(both.admits_forwarded(AuthMethod::Oauth, &token_identity));
        assert!(!both.admits_forwarded(AuthMethod::Access, &token_identity));
        assert!(!both.admits_forwarded(AuthMethod::Keys, &token_identity));
        assert!(!both.admits_forwarded(AuthMethod::Keys, &hex_of(&revoked)));

        let mut open = Config::with_keys(Vec::<String>::new());
        open.allow_no_auth = true;
        let keyless = Guard::new(&open).unwrap();
        assert!(keyless.admits_forwarded(AuthMethod::Keys, &hex_of(&revoked)));
    }
}
