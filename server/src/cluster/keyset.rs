//! Revocation that converges (CLUSTER-11 in docs/contract.md): the pieces
//! that let a replica that missed a reload broadcast catch up on its own.
//!
//! Redis holds one record, [`RECORD_KEY`] = `<generation>:<version>`: the
//! generation counts the reloads announced anywhere (SIGHUP, or a keys file
//! that changed on disk), the version is the keyed digest of the key set
//! the announcing replica then had (never a key or a plain hash of one).
//! Every heartbeat tick (1 s) and after every reconnect, each replica reads
//! it and [`decide`]s: a newer generation with another version than its own
//! key set means it missed a reload, so it re-reads its keys file; a record
//! older than what it knows (Redis restarted empty, or lost a write) is put
//! back ([`RESTORE`]). [`FileWatch`] notices a keys file that changed on disk
//! (length, modification time, inode), polled on the same tick.

use std::path::PathBuf;
use std::time::SystemTime;

/// Where the record lives (under `wire::PREFIX`, as every name).
pub const RECORD_KEY: &str = "cfpb-mcp:keys:version";

/// A reload announced here: `KEYS[1]` the record; `ARGV[1]` the generation this
/// replica knows, `ARGV[2]` its key set's version. The new generation is one
/// past both the stored and the known one; returns it. (A stored record
/// that is not ours, or past 2^53, counts as none: Redis is not trusted.)
pub const ANNOUNCE: &str = r#"
local cur = redis.call('GET', KEYS[1])
local g = 0
if cur then g = tonumber(string.match(cur, '^(%d+):')) or 0 end
if g >= 9007199254740992 then g = 0 end
local known = tonumber(ARGV[1])
if known > g then g = known end
g = g + 1
redis.call('SET', KEYS[1], string.format('%d', g) .. ':' .. ARGV[2])
return g
"#;

/// Put the record back when Redis has none or an older one: `KEYS[1]` the
/// record; `ARGV[1]` the known generation, `ARGV[2]` this replica's version.
/// Returns 1 when it wrote.
pub const RESTORE: &str = r#"
local cur = redis.call('GET', KEYS[1])
local g = -1
if cur then g = tonumber(string.match(cur, '^(%d+):')) or -1 end
if g >= 9007199254740992 then g = -1 end
if g < tonumber(ARGV[1]) then
  redis.call('SET', KEYS[1], ARGV[1] .. ':' .. ARGV[2])
  return 1
end
return 0
"#;

/// Generations from here on are not taken (Lua numbers are doubles).
const MAX_GENERATION: u64 = 1 << 53;

/// The record as read from Redis.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    pub generation: u64,
    pub version: String,
}

impl Record {
    /// `None` for anything that is not `<digits>:<hex>` with a generation
    /// Lua counts exactly (under 2^53) (Redis is not trusted to hold what
    /// we wrote; what is refused here is written over).
    pub fn parse(text: &str) -> Option<Self> {
        let (generation, version) = text.split_once(':')?;
        let generation: u64 = generation.parse().ok()?;
        let ok = generation < MAX_GENERATION
            && !version.is_empty()
            && version.len() <= 64
            && version.bytes().all(|b| b.is_ascii_hexdigit());
        Some(Self {
            generation,
            version: version.to_owned(),
        })
        .filter(|_| ok)
    }
}

/// What a replica does about the record it read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// Up to date.
    Nothing,
    /// A reload happened elsewhere and our key set differs: re-read ours,
    /// and know this generation.
    Follow(u64),
    /// A reload happened elsewhere and we already have that key set (a
    /// shared keys file we re-read ourselves): just know this generation.
    Adopt(u64),
    /// Redis has no record, or an older one than we know: put ours back.
    Restore,
}

/// The step for the record `stored` (`None`: none, or unreadable), when this
/// replica knows generation `known` and its key set's version is `local`.
pub fn decide(stored: Option<&Record>, known: u64, local: &str) -> Step {
    match stored {
        None => Step::Restore,
        Some(r) if r.generation > known && r.version == local => Step::Adopt(r.generation),
        Some(r) if r.generation > known => Step::Follow(r.generation),
        Some(r) if r.generation < known => Step::Restore,
        Some(_) => Step::Nothing,
    }
}

/// The keyed digest input of a key set: its key digests (hex), sorted, one
/// per line, so every replica with the same keys gets the same version.
pub fn version_input(mut digests: Vec<String>) -> String {
    digests.sort_unstable();
    digests.dedup();
    digests.join("\n")
}

/// What identifies one state of a file on disk.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Stamp {
    len: u64,
    modified: Option<SystemTime>,
    inode: u64,
}

fn stamp(path: &PathBuf) -> Option<Stamp> {
    let meta = std::fs::metadata(path).ok()?;
    #[cfg(unix)]
    let inode = std::os::unix::fs::MetadataExt::ino(&meta);
    #[cfg(not(unix))]
    let inode = 0;
    Some(Stamp {
        len: meta.len(),
        modified: meta.modified().ok(),
        inode,
    })
}

/// The keys file, polled for changes on disk.
pub struct FileWatch {
    path: Option<PathBuf>,
    last: Option<Stamp>,
}

impl FileWatch {
    /// Watch `path` (nothing to watch when `None`), as it is now.
    pub fn new(path: Option<PathBuf>) -> Self {
        let last = path.as_ref().and_then(stamp);
        Self { path, last }
    }

    /// Has the file changed since the last call (or since `new`)? A file
    /// that disappears is no change (a reload would fail and keep the keys);
    /// its return is.
    pub fn changed(&mut self) -> bool {
        let Some(path) = &self.path else {
            return false;
        };
        let Some(now) = stamp(path) else {
            return false;
        };
        if self.last.as_ref() == Some(&now) {
            return false;
        }
        self.last = Some(now);
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(generation: u64, version: &str) -> Record {
        Record {
            generation,
            version: version.into(),
        }
    }

    #[test]
    fn cluster_11_records_from_redis_are_checked() {
        assert_eq!(Record::parse("7:ab01"), Some(record(7, "ab01")));
        for bad in [
            "",
            "7",
            "7:",
            "x:ab",
            "7:not-hex",
            "-1:ab",
            &format!("1:{}", "a".repeat(65)),
        ] {
            assert_eq!(Record::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn cluster_11_a_replica_that_missed_a_reload_follows() {
        let (old, new) = ("aa", "bb");
        assert_eq!(decide(Some(&record(3, new)), 2, old), Step::Follow(3));
        assert_eq!(decide(Some(&record(3, new)), 2, new), Step::Adopt(3));
        assert_eq!(
            decide(Some(&record(3, new)), 3, old),
            Step::Nothing,
            "acted once"
        );
        assert_eq!(decide(Some(&record(1, old)), 3, new), Step::Restore);
        assert_eq!(decide(None, 0, old), Step::Restore);
    }

    #[test]
    fn cluster_11_versions_ignore_order_and_repeats() {
        let a = version_input(vec!["b".into(), "a".into(), "b".into()]);
        assert_eq!(a, version_input(vec!["a".into(), "b".into()]));
        assert_ne!(a, version_input(vec!["a".into()]));
    }

    #[test]
    fn cluster_11_the_keys_file_is_watched() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("keys");
        std::fs::write(&path, "one\n").unwrap();
        let mut watch = FileWatch::new(Some(path.clone()));
        assert!(!watch.changed());
        std::fs::write(&path, "one\ntwo\n").unwrap();
        assert!(watch.changed());
        assert!(!watch.changed());
        // Replaced by rename (as editors save): a new inode.
        let tmp = dir.path().join("keys.tmp");
        std::fs::write(&tmp, "one\ntwo\n").unwrap();
        std::fs::rename(&tmp, &path).unwrap();
        assert!(watch.changed());
        std::fs::remove_file(&path).unwrap();
        assert!(!watch.changed(), "gone: keep the keys");
        assert!(!FileWatch::new(None).changed());
    }
}
