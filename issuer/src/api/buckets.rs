//! Token buckets per key: requests per lab token, and wrong retrieval
//! codes per client address. A bucket refills at its rate up to its burst;
//! clients whose bucket is full again are forgotten when the map is large.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Instant;

/// A token bucket per key.
pub(super) struct Buckets<K> {
    rate: f64,
    burst: f64,
    map: Mutex<HashMap<K, (f64, Instant)>>,
}

const MAX_TRACKED: usize = 100_000;

impl<K: std::hash::Hash + Eq + Clone> Buckets<K> {
    pub(super) fn new(rate: f64, burst: f64) -> Self {
        Buckets {
            rate,
            burst,
            map: Mutex::new(HashMap::new()),
        }
    }

    fn level(&self, map: &mut HashMap<K, (f64, Instant)>, key: &K, now: Instant) -> f64 {
        match map.get(key) {
            Some((tokens, at)) => {
                (tokens + now.duration_since(*at).as_secs_f64() * self.rate).min(self.burst)
            }
            None => self.burst,
        }
    }

    /// Seconds until a token is available, or None if one is now.
    pub(super) fn wait(&self, key: &K) -> Option<u64> {
        let Ok(mut map) = self.map.lock() else {
            return None;
        };
        let level = self.level(&mut map, key, Instant::now());
        (level < 1.0).then(|| ((1.0 - level) / self.rate).ceil().max(1.0) as u64)
    }

    /// Takes a token; Err(seconds to wait) if there is none.
    pub(super) fn take(&self, key: &K) -> Result<(), u64> {
        let Ok(mut map) = self.map.lock() else {
            return Ok(());
        };
        let now = Instant::now();
        let level = self.level(&mut map, key, now);
        if level < 1.0 {
            return Err(((1.0 - level) / self.rate).ceil().max(1.0) as u64);
        }
        if map.len() >= MAX_TRACKED && !map.contains_key(key) {
            // Forget clients whose bucket has refilled: they lose nothing.
            let (rate, burst) = (self.rate, self.burst);
            map.retain(|_, (t, at)| *t + now.duration_since(*at).as_secs_f64() * rate < burst);
        }
        map.insert(key.clone(), (level - 1.0, now));
        Ok(())
    }
}
