//! Issuer keys looked up by key identifier: the one question signature
//! checks ask of whatever holds the trusted keys (an in-memory [`KeySet`],
//! or a checkpoint's trust store).

use super::IssuerKey;
use std::collections::HashMap;

/// Issuer keys, looked up by key identifier.
pub trait KeyLookup {
    /// Every key with this kid (EU kids are 8 bytes and may collide).
    fn keys_for(&self, kid: &[u8]) -> Vec<&IssuerKey>;
}

/// A plain in-memory set of issuer keys.
#[derive(Clone, Debug, Default)]
pub struct KeySet {
    by_kid: HashMap<Vec<u8>, Vec<IssuerKey>>,
}

impl KeySet {
    pub fn new() -> KeySet {
        KeySet::default()
    }

    pub fn insert(&mut self, key: IssuerKey) {
        let slot = self.by_kid.entry(key.kid.clone()).or_default();
        if !slot.contains(&key) {
            slot.push(key);
        }
    }

    pub fn len(&self) -> usize {
        self.by_kid.values().map(Vec::len).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.by_kid.is_empty()
    }
}

impl FromIterator<IssuerKey> for KeySet {
    fn from_iter<I: IntoIterator<Item = IssuerKey>>(iter: I) -> Self {
        let mut set = KeySet::new();
        for k in iter {
            set.insert(k);
        }
        set
    }
}

impl KeyLookup for KeySet {
    fn keys_for(&self, kid: &[u8]) -> Vec<&IssuerKey> {
        self.by_kid
            .get(kid)
            .map(|v| v.iter().collect())
            .unwrap_or_default()
    }
}
