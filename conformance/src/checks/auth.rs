//! AUTH checks (docs/contract.md AUTH-1, AUTH-3, AUTH-4, AUTH-7) on both guarded endpoints: a valid key in either header is accepted; a
//! missing, empty, wrong, near-miss, duplicated, conflicting or non-ASCII key gets the
//! exact 401; 401s carry `WWW-Authenticate`; no response echoes a presented key.
//! Invalid-key probes are few and paced (the target throttles failed auths per address).

use super::bodies::AUTH_BODY;
use super::prereq::{guarded_endpoints, need_key};
use crate::client::{Ctx, HeaderSpec, Pace, Probe, wrong_key};
use crate::engine::table::check_table;
use crate::engine::{Check, CheckResult, Expect, Outcome, Step, expect_steps, send_any};
use crate::key::{ApiKey, HeaderStyle};
use crate::wire::leak::find_key_leaks_bytes;
use crate::wire::nearmiss::{NearMissKind, near_misses};

const REJECT: Expect = Expect::Exact(401, AUTH_BODY);

pub fn checks() -> Vec<Check> {
    check_table! {
        "AUTH-1.x-api-key", Seed, |c| valid(c, false),
            "a valid key in X-API-Key is accepted on GET /mcp/sse (200) and POST /mcp/messages (not 401)";
        "AUTH-1.bearer", Seed, |c| valid(c, true),
            "a valid key as Authorization: Bearer is accepted on both endpoints";
        "AUTH-3.missing", Seed, |c| rejected(c, Bad::Missing),
            "no key -> exact 401 JSON on both endpoints";
        "AUTH-3.empty", Seed, |c| rejected(c, Bad::Empty),
            "empty X-API-Key, and `Authorization: Bearer` with no token -> exact 401 on both endpoints";
        "AUTH-3.wrong", Seed, |c| rejected(c, Bad::Wrong),
            "a random key of the same length, in X-API-Key and as Bearer -> exact 401 on both endpoints";
        "AUTH-3.near-miss", Seed, near_miss,
            "near misses of the real key (prefix, suffix, case flip, inner space, percent-encoded, appended char, one char changed) -> exact 401; trailing NUL (sent raw) -> 401 or 400";
        "AUTH-3.duplicate", Seed, |c| rejected(c, Bad::Duplicate),
            "two X-API-Key headers (valid+valid, valid+wrong) -> exact 401 on both endpoints";
        "AUTH-3.conflict", Seed, |c| rejected(c, Bad::Conflict),
            "X-API-Key and Bearer that differ (valid+wrong, wrong+valid) -> exact 401 on both endpoints";
        "AUTH-3.non-ascii", Seed, |c| rejected(c, Bad::NonAscii),
            "the key followed by non-ASCII UTF-8 (é) or a non-UTF-8 byte (0xFF) -> exact 401 on both endpoints";
        "AUTH-4", Strict, www_authenticate,
            "a 401 carries WWW-Authenticate: Bearer realm=\"cfpb-mcp\"";
        "AUTH-7", Seed, no_echo,
            "no response head or body echoes a presented key (valid or near miss), in any encoding";
    }
}

async fn valid(ctx: &Ctx, bearer: bool) -> CheckResult {
    let key = need_key(ctx, 0)?;
    let h = if bearer {
        HeaderSpec::bearer(key)
    } else {
        HeaderSpec::x_api_key(key)
    };
    let steps = guarded_endpoints(ctx)
        .into_iter()
        .map(|(label, p)| {
            let expect = if p.stream {
                Expect::StatusIn(&[200])
            } else {
                Expect::Accepted
            };
            Step::new(label, p.header(h.clone()), Pace::Key(0), expect)
        })
        .collect();
    expect_steps(ctx, steps).await
}

#[derive(Clone, Copy)]
enum Bad {
    Missing,
    Empty,
    Wrong,
    Duplicate,
    Conflict,
    NonAscii,
}

fn variants(ctx: &Ctx, bad: Bad) -> Result<Vec<(String, Vec<HeaderSpec>)>, Outcome> {
    let key = || need_key(ctx, 0);
    Ok(match bad {
        Bad::Missing => vec![("no key".into(), vec![])],
        Bad::Empty => vec![
            (
                "empty X-API-Key".into(),
                vec![HeaderSpec::plain("X-API-Key", "")],
            ),
            (
                "Bearer without token".into(),
                vec![HeaderSpec::plain("Authorization", "Bearer")],
            ),
        ],
        Bad::Wrong => {
            let w = wrong_key(key()?.expose().len());
            vec![
                (
                    "wrong X-API-Key".into(),
                    vec![HeaderSpec::plain("X-API-Key", &w)],
                ),
                (
                    "wrong Bearer".into(),
                    vec![HeaderSpec::plain("Authorization", &format!("Bearer {w}"))],
                ),
            ]
        }
        Bad::Duplicate => {
            let k = key()?;
            let w = wrong_key(k.expose().len());
            vec![
                (
                    "X-API-Key twice (valid, valid)".into(),
                    vec![HeaderSpec::x_api_key(k), HeaderSpec::x_api_key(k)],
                ),
                (
                    "X-API-Key twice (valid, wrong)".into(),
                    vec![HeaderSpec::x_api_key(k), HeaderSpec::plain("X-API-Key", &w)],
                ),
            ]
        }
        Bad::Conflict => {
            let k = key()?;
            let w = wrong_key(k.expose().len());
            vec![
                (
                    "valid X-API-Key + wrong Bearer".into(),
                    vec![
                        HeaderSpec::x_api_key(k),
                        HeaderSpec::plain("Authorization", &format!("Bearer {w}")),
                    ],
                ),
                (
                    "wrong X-API-Key + valid Bearer".into(),
                    vec![HeaderSpec::plain("X-API-Key", &w), HeaderSpec::bearer(k)],
                ),
            ]
        }
        Bad::NonAscii => {
            let k = key()?;
            let mut utf8 = k.expose().as_bytes().to_vec();
            utf8.extend_from_slice("é".as_bytes());
            let mut ff = k.expose().as_bytes().to_vec();
            ff.push(0xFF);
            vec![
                (
                    "key + é".into(),
                    vec![HeaderSpec::secret(
                        "X-API-Key",
                        utf8,
                        format!("${}é", k.var()),
                    )],
                ),
                (
                    "key + 0xFF".into(),
                    vec![HeaderSpec::secret(
                        "X-API-Key",
                        ff,
                        format!("${}$(printf '\\377')", k.var()),
                    )],
                ),
            ]
        }
    })
}

async fn rejected(ctx: &Ctx, bad: Bad) -> CheckResult {
    let mut steps = Vec::new();
    for (what, headers) in variants(ctx, bad)? {
        for (label, p) in guarded_endpoints(ctx) {
            let mut p = p;
            for h in &headers {
                p = p.header(h.clone());
            }
            steps.push(Step::new(
                format!("{label} with {what}"),
                p,
                Pace::AuthFail,
                REJECT,
            ));
        }
    }
    expect_steps(ctx, steps).await
}

async fn near_miss(ctx: &Ctx) -> CheckResult {
    let key = need_key(ctx, 0)?;
    let endpoints = guarded_endpoints(ctx)
        .into_iter()
        .map(|(l, p)| (l.to_string(), p))
        .collect::<Vec<_>>();
    let steps = near_miss_steps(
        key,
        &endpoints,
        HeaderStyle::XApiKey,
        REJECT,
        Expect::StatusIn(&[400, 401]),
    );
    expect_steps(ctx, steps).await
}

/// The near misses of `key` on each of `endpoints`, carried the way `style` carries a key
/// (`X-API-Key: <near miss>` or `Authorization: Bearer <near miss>`): `reject` expected of
/// each; of the trailing NUL, which can't go through an HTTP client and is sent raw (a
/// 400 from the HTTP layer is "not accepted" too), `reject_raw`.
pub(super) fn near_miss_steps(
    key: &ApiKey,
    endpoints: &[(String, Probe)],
    style: HeaderStyle,
    reject: Expect,
    reject_raw: Expect,
) -> Vec<Step> {
    let (name, prefix) = match style {
        HeaderStyle::XApiKey => ("X-API-Key", ""),
        HeaderStyle::Bearer => ("Authorization", "Bearer "),
    };
    let header = |value: &[u8], shell: String| {
        let mut v = prefix.as_bytes().to_vec();
        v.extend_from_slice(value);
        HeaderSpec::secret(name, v, format!("{prefix}{shell}"))
    };
    let mut steps = Vec::new();
    for v in near_misses(key.expose(), key.var()) {
        for (label, p) in endpoints {
            let label = format!("{label} with the {} near miss", v.kind.name());
            let (p, expect) = match &v.shell {
                Some(shell) => (
                    p.clone().header(header(&v.value, shell.clone())),
                    reject.clone(),
                ),
                None => {
                    let mut h = header(&v.value, format!("${}", key.var()));
                    if v.kind == NearMissKind::TrailingNul {
                        h.raw_suffix = "\\000";
                    }
                    (p.clone().header(h).raw(), reject_raw.clone())
                }
            };
            steps.push(Step::new(label, p, Pace::AuthFail, expect));
        }
    }
    steps
}

async fn www_authenticate(ctx: &Ctx) -> CheckResult {
    let want = "Bearer realm=\"cfpb-mcp\"";
    for (label, p) in guarded_endpoints(ctx) {
        let resp = send_any(ctx, &p, Pace::AuthFail).await.map_err(|e| {
            Outcome::fail(
                format!("401 with WWW-Authenticate: {want}"),
                format!("no response: {e}"),
                p.curl(),
            )
        })?;
        if resp.status != 401 {
            return Err(Outcome::skip(format!(
                "{label} without a key answered {} (AUTH-3 covers that)",
                resp.status
            )));
        }
        let got = resp.header("www-authenticate");
        if got.as_deref().map(str::trim) != Some(want) {
            return Err(Outcome::fail(
                format!("{label}: 401 with WWW-Authenticate: {want}"),
                format!(
                    "{label}: WWW-Authenticate: {}",
                    got.unwrap_or_else(|| "(none)".into())
                ),
                p.curl(),
            ));
        }
    }
    Ok(())
}

async fn no_echo(ctx: &Ctx) -> CheckResult {
    let key = need_key(ctx, 0)?;
    let mut probes: Vec<(String, Probe, Pace, Vec<u8>)> = Vec::new();
    for (label, p) in guarded_endpoints(ctx) {
        probes.push((
            format!("{label} with the valid key"),
            p.clone().header(HeaderSpec::x_api_key(key)),
            Pace::Key(0),
            key.expose().as_bytes().to_vec(),
        ));
        probes.push((
            format!("{label} with the valid key as Bearer"),
            p.clone().header(HeaderSpec::bearer(key)),
            Pace::Key(0),
            key.expose().as_bytes().to_vec(),
        ));
        for v in near_misses(key.expose(), key.var()) {
            let Some(shell) = v.shell else { continue };
            if !matches!(
                v.kind,
                NearMissKind::AppendedChar | NearMissKind::PercentEncoded
            ) {
                continue;
            }
            probes.push((
                format!("{label} with the {} near miss", v.kind.name()),
                p.clone()
                    .header(HeaderSpec::secret("X-API-Key", v.value.clone(), shell)),
                Pace::AuthFail,
                v.value.clone(),
            ));
        }
    }
    for (label, p, pace, presented) in probes {
        let text = if p.stream {
            // Read the head and the first event of an accepted stream (the event only
            // when sessions open at all: the prerequisite, tried once per run).
            match ctx.open_stream(&p, pace, true).await {
                Ok(Ok(mut conn)) => {
                    if ctx.session_opens().await.is_ok() {
                        let _ = conn.next_event(ctx.timeout()).await;
                    }
                    let mut r = conn.head.clone();
                    r.body = conn.raw.clone();
                    r.all_text()
                }
                Ok(Err(resp)) => resp.all_text(),
                Err(e) => return Err(Outcome::skip(format!("{label}: no response: {e}"))),
            }
        } else {
            match ctx.send(&p, pace).await {
                Ok(resp) => resp.all_text(),
                Err(e) => return Err(Outcome::skip(format!("{label}: no response: {e}"))),
            }
        };
        let mut leaks = find_key_leaks_bytes(text.as_bytes(), key.expose().as_bytes());
        if presented.len() >= 8 && presented != key.expose().as_bytes() {
            leaks.extend(find_key_leaks_bytes(text.as_bytes(), &presented));
        }
        if let Some(l) = leaks.first() {
            return Err(Outcome::fail(
                "no presented key in any response header or body",
                format!("{label}: the key appears in the response ({})", l.encoding),
                p.curl(),
            ));
        }
    }
    Ok(())
}
