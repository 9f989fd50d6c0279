//! Venue check-ins kept on the device, and exposure checks against them.
//!
//! Checking in verifies the venue code offline and appends the venue and
//! the time to `visits.json` in the wallet's storage; nothing is sent anywhere.
//! An exposure list ([`crate::signed::exposures`]) downloaded later is compared with
//! the log on the device. Visits older than the retention period (21 days
//! unless the citizen changes it) are deleted whenever the log is read or
//! written.
//!
//! ```json
//! {"format": 1, "retention_days": 21,
//!  "visits": [{"venue": "CD-METRO-L2-017", "name": "Tianfu Square Station, Gate B",
//!              "area": "Chengdu Jinjiang", "at": "2026-03-01T09:00:00Z"}]}
//! ```

use super::files::{read_json, write_json, WalletError};
use crate::checkpoint::check::Checkpoint;
use crate::credential::{instant, Body};
use crate::signed::exposures::{Exposure, ExposureList};
use crate::storage::Storage;
use crate::verify::{decode, verify_decoded, Reason};
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use time::OffsetDateTime;

/// Days a visit is kept unless the citizen sets otherwise.
pub const DEFAULT_RETENTION_DAYS: u32 = 21;
/// Longest retention a citizen may set.
pub const MAX_RETENTION_DAYS: u32 = 365;
/// Most visits the log holds.
pub const MAX_VISITS: usize = 20_000;
const VISITS_FILE: &str = "visits.json";
const FORMAT: u32 = 1;

/// One check-in.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Visit {
    /// The venue id from the venue code.
    pub venue: String,
    pub name: String,
    pub area: String,
    #[serde(with = "instant")]
    pub at: i64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct LogFile {
    format: u32,
    retention_days: u32,
    visits: Vec<Visit>,
}

impl Default for LogFile {
    fn default() -> LogFile {
        LogFile {
            format: FORMAT,
            retention_days: DEFAULT_RETENTION_DAYS,
            visits: Vec::new(),
        }
    }
}

impl LogFile {
    /// Drops visits older than the retention; true if any were dropped.
    fn purge(&mut self, now: i64) -> bool {
        let cutoff = now - i64::from(self.retention_days) * 86_400;
        let before = self.visits.len();
        self.visits.retain(|v| v.at >= cutoff);
        self.visits.len() != before
    }
}

/// A visit that falls in a published exposure window.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Found {
    pub visit: Visit,
    pub exposure: Exposure,
}

/// The visit log of a wallet (`visits.json` in its storage).
#[derive(Clone, Debug)]
pub struct VisitLog {
    store: Arc<dyn Storage>,
}

impl VisitLog {
    /// The log kept in a wallet's storage.
    pub fn new(store: Arc<dyn Storage>) -> VisitLog {
        VisitLog { store }
    }

    fn write(&self, log: &LogFile) -> Result<(), WalletError> {
        write_json(&*self.store, VISITS_FILE, log)
    }

    /// The log with expired visits removed (and the removal written).
    fn read(&self, now: i64) -> Result<LogFile, WalletError> {
        let path = self.store.locate(VISITS_FILE);
        let Some(mut log) = read_json::<LogFile>(&*self.store, VISITS_FILE)? else {
            return Ok(LogFile::default());
        };
        if log.format != FORMAT {
            return Err(WalletError::Corrupt {
                path,
                why: format!("format {} (this version reads format {FORMAT})", log.format),
            });
        }
        if !(1..=MAX_RETENTION_DAYS).contains(&log.retention_days) {
            return Err(WalletError::Corrupt {
                path,
                why: format!(
                    "retention_days {} is not 1-{MAX_RETENTION_DAYS}",
                    log.retention_days
                ),
            });
        }
        if log.purge(now) {
            self.write(&log)?;
        }
        Ok(log)
    }

    /// Verifies a venue code offline and records the visit at `now`.
    /// Anything but a valid venue code signed by a trusted issuer is refused.
    pub fn checkin(
        &self,
        payload: &str,
        checkpoint: &Checkpoint,
        now: OffsetDateTime,
    ) -> Result<Visit, WalletError> {
        let decoded =
            decode(payload.trim()).map_err(|e| WalletError::Malformed(vec![Reason::from(&e)]))?;
        let v = verify_decoded(&decoded, &checkpoint.trust, now);
        let Some(credential) = v.credential else {
            return Err(WalletError::Untrusted(v.reasons));
        };
        let Body::Venue { venue } = &credential.body else {
            return Err(WalletError::NotAVenue(credential.kind()));
        };
        let mut reasons = v.reasons;
        if let Some(by) = checkpoint.revocations.check(&credential.id, &decoded.cose) {
            reasons.push(Reason::Revoked { by });
        }
        if !reasons.is_empty() {
            return Err(WalletError::VenueRefused(reasons));
        }
        let secs = now.unix_timestamp();
        let mut log = self.read(secs)?;
        if log.visits.len() >= MAX_VISITS {
            return Err(WalletError::TooManyVisits { max: MAX_VISITS });
        }
        let visit = Visit {
            venue: venue.id.clone(),
            name: venue.name.clone(),
            area: venue.area.clone(),
            at: secs,
        };
        log.visits.push(visit.clone());
        self.write(&log)?;
        Ok(visit)
    }

    /// The visits kept, oldest first; older ones than the retention are deleted.
    pub fn visits(&self, now: OffsetDateTime) -> Result<Vec<Visit>, WalletError> {
        let mut visits = self.read(now.unix_timestamp())?.visits;
        visits.sort_by_key(|v| v.at);
        Ok(visits)
    }

    /// Days visits are kept.
    pub fn retention_days(&self, now: OffsetDateTime) -> Result<u32, WalletError> {
        Ok(self.read(now.unix_timestamp())?.retention_days)
    }

    /// Sets the retention and deletes what is now older; returns how many
    /// visits were deleted.
    pub fn set_retention_days(&self, days: u32, now: OffsetDateTime) -> Result<usize, WalletError> {
        if !(1..=MAX_RETENTION_DAYS).contains(&days) {
            return Err(WalletError::BadRetention {
                days,
                max: MAX_RETENTION_DAYS,
            });
        }
        let mut log = self.read(now.unix_timestamp())?;
        log.retention_days = days;
        let before = log.visits.len();
        log.purge(now.unix_timestamp());
        self.write(&log)?;
        Ok(before - log.visits.len())
    }

    /// The kept visits that fall in an exposure window of `list`, oldest
    /// first. Only the device's own log is read; nothing leaves it.
    pub fn exposures(
        &self,
        list: &ExposureList,
        now: OffsetDateTime,
    ) -> Result<Vec<Found>, WalletError> {
        let matcher = list.matcher();
        let mut found = Vec::new();
        for visit in self.visits(now)? {
            for exposure in matcher.find(&visit.venue, visit.at) {
                found.push(Found {
                    visit: visit.clone(),
                    exposure: exposure.clone(),
                });
            }
        }
        Ok(found)
    }
}

#[cfg(test)]
mod tests;
