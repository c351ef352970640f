//! The Lua scripts behind cluster-wide session slots and owners (CLUSTER-2,
//! CLUSTER-3 in docs/contract.md), each run atomically by Redis.
//!
//! A key's open legacy sessions are a sorted set (`slots:<key digest>`):
//! one member per session (a hash of its id), scored by when it expires.
//! A session's owner is a string (`legacy:<hash>` = replica id) with the same
//! lifetime. The owning replica renews both every heartbeat; a replica that
//! dies stops renewing, so after [`super::OWNER_TTL`] its sessions free their
//! slots and have no owner (a POST for one is then a 404). Times come from
//! Redis's clock, so replicas' clocks never need to agree.

/// KEYS: slots, owner. ARGV: ttl_ms, max, member, replica.
/// Drops expired slots; if fewer than `max` remain, takes one and names the
/// owner: returns 1; else 0 (RATE-7 across replicas).
pub const CLAIM: &str = r#"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local ttl = tonumber(ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[2]) then return 0 end
redis.call('ZADD', KEYS[1], now + ttl, ARGV[3])
redis.call('PEXPIRE', KEYS[1], ttl)
redis.call('SET', KEYS[2], ARGV[4], 'PX', ttl)
return 1
"#;

/// KEYS: slots, owner. ARGV: member, replica. Frees the slot, and the owner
/// entry while it still names this replica.
pub const RELEASE: &str = r#"
redis.call('ZREM', KEYS[1], ARGV[1])
if redis.call('GET', KEYS[2]) == ARGV[2] then redis.call('DEL', KEYS[2]) end
return 1
"#;

/// KEYS: pairs of (slots, owner). ARGV: ttl_ms, replica, then one member per
/// pair. Renews every session of this replica (and re-creates them after
/// Redis lost its data).
pub const RENEW: &str = r#"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local ttl = tonumber(ARGV[1])
for i = 1, #KEYS, 2 do
  redis.call('ZADD', KEYS[i], now + ttl, ARGV[2 + (i + 1) / 2])
  redis.call('PEXPIRE', KEYS[i], ttl)
  redis.call('SET', KEYS[i + 1], ARGV[2], 'PX', ttl)
end
return #KEYS / 2
"#;

/// KEYS: owner. ARGV: replica. Deletes a dead replica's owner entry.
pub const FORGET_OWNER: &str = r#"
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"#;
