//! Verified-token cache: a bounded LRU keyed by SHA-256 of the key-set version and the whole token.
//!
//! fast-jwt and Envoy keep cached verdicts after the signing key is revoked (REFERENCE.md §7). Here
//! a change of key set empties the cache, and no entry outlives the token's `exp`.

use std::collections::{BTreeMap, HashMap};

use sha2::{Digest, Sha256};

use crate::policy::Validated;

type Key = [u8; 32];

#[derive(Debug, Clone)]
struct Entry {
    validated: Validated,
    tick: u64,
}

#[derive(Debug, Clone)]
pub struct TokenCache {
    capacity: usize,
    key_version: String,
    entries: HashMap<Key, Entry>,
    /// Recency order: tick -> key; the smallest tick is the least recently used.
    order: BTreeMap<u64, Key>,
    tick: u64,
}

impl TokenCache {
    /// A cache holding at most `capacity` verdicts (fast-jwt's default is 1000).
    pub fn new(capacity: usize) -> Self {
        TokenCache {
            capacity: capacity.max(1),
            key_version: String::new(),
            entries: HashMap::new(),
            order: BTreeMap::new(),
            tick: 0,
        }
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    fn key(key_version: &str, token: &str) -> Key {
        let mut h = Sha256::new();
        h.update(key_version.as_bytes());
        h.update([0]);
        h.update(token.as_bytes());
        h.finalize().into()
    }

    /// Empties the cache when the key set changed since the last call.
    fn follow(&mut self, key_version: &str) {
        if self.key_version != key_version {
            self.entries.clear();
            self.order.clear();
            self.key_version = key_version.to_owned();
        }
    }

    /// A cached verdict for `token` under `key_version`, if still before its `exp` at `now`.
    pub fn get(&mut self, token: &str, key_version: &str, now: u64) -> Option<&Validated> {
        self.follow(key_version);
        let key = Self::key(key_version, token);
        let (old_tick, expired) = {
            let entry = self.entries.get(&key)?;
            (entry.tick, now >= entry.validated.exp)
        };
        self.order.remove(&old_tick);
        if expired {
            self.entries.remove(&key);
            return None;
        }
        self.tick += 1;
        self.order.insert(self.tick, key);
        let entry = self.entries.get_mut(&key)?;
        entry.tick = self.tick;
        Some(&entry.validated)
    }

    /// Remembers a verdict, evicting the least recently used entry when full.
    pub fn put(&mut self, token: &str, key_version: &str, validated: Validated) {
        self.follow(key_version);
        let key = Self::key(key_version, token);
        if let Some(old) = self.entries.remove(&key) {
            self.order.remove(&old.tick);
        }
        while self.entries.len() >= self.capacity {
            let Some((_, oldest)) = self.order.pop_first() else {
                break;
            };
            self.entries.remove(&oldest);
        }
        self.tick += 1;
        self.order.insert(self.tick, key);
        self.entries.insert(
            key,
            Entry {
                validated,
                tick: self.tick,
            },
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::Principal;

    fn verdict(exp: u64) -> Validated {
        Validated {
            claims: Default::default(),
            principal: Principal {
                oid: None,
                tid: None,
                app_id: None,
                app_only: false,
                scopes: vec![],
                roles: vec![],
            },
            exp,
        }
    }

    #[test]
    fn entry_is_not_returned_at_or_after_exp() {
        let mut c = TokenCache::new(10);
        c.put("t", "v1", verdict(100));
        assert!(c.get("t", "v1", 99).is_some());
        assert!(c.get("t", "v1", 100).is_none());
    }

    #[test]
    fn key_set_change_evicts_every_entry() {
        let mut c = TokenCache::new(10);
        c.put("t", "v1", verdict(100));
        assert!(c.get("t", "v2", 1).is_none());
        assert!(c.is_empty());
        assert!(c.get("t", "v1", 1).is_none());
    }

    #[test]
    fn least_recently_used_entry_is_evicted_when_full() {
        let mut c = TokenCache::new(2);
        c.put("a", "v", verdict(100));
        c.put("b", "v", verdict(100));
        assert!(c.get("a", "v", 1).is_some());
        c.put("c", "v", verdict(100));
        assert_eq!(c.len(), 2);
        assert!(c.get("b", "v", 1).is_none());
        assert!(c.get("a", "v", 1).is_some());
        assert!(c.get("c", "v", 1).is_some());
    }
}
