//! Venue check-ins kept on the device, and exposure checks against them.
//!
//! Checking in verifies the venue code offline and appends the venue and
//! the time to `visits.json` in the wallet folder; nothing is sent anywhere.
//! An exposure list ([`crate::exposure`]) downloaded later is compared with
//! the log on the device. Visits older than the retention period (21 days
//! unless the citizen changes it) are deleted whenever the log is read or
//! written.
//!
//! ```json
//! {"format": 1, "retention_days": 21,
//!  "visits": [{"venue": "CD-METRO-L2-017", "name": "Tianfu Square Station, Gate B",
//!              "area": "Chengdu Jinjiang", "at": "2026-03-01T09:00:00Z"}]}
//! ```

use crate::check::Checkpoint;
use crate::credential::{instant, Body};
use crate::exposure::{Exposure, ExposureList};
use crate::verify::{decode, verify_decoded, Reason};
use crate::wallet::{read_json, reasons_text, write_json, Wallet, WalletError};
use serde::{Deserialize, Serialize};
use std::path::PathBuf;
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
struct VisitLog {
    format: u32,
    retention_days: u32,
    visits: Vec<Visit>,
}

impl Default for VisitLog {
    fn default() -> VisitLog {
        VisitLog {
            format: FORMAT,
            retention_days: DEFAULT_RETENTION_DAYS,
            visits: Vec::new(),
        }
    }
}

impl VisitLog {
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

impl Wallet {
    fn visits_path(&self) -> PathBuf {
        self.dir().join(VISITS_FILE)
    }

    /// The log with expired visits removed (and the removal written).
    fn visit_log(&self, now: i64) -> Result<VisitLog, WalletError> {
        let path = self.visits_path();
        let Some(mut log) = read_json::<VisitLog>(&path)? else {
            return Ok(VisitLog::default());
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
            write_json(&path, &log)?;
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
        let decoded = decode(payload.trim()).map_err(|e| WalletError::Malformed(e.to_string()))?;
        let v = verify_decoded(&decoded, &checkpoint.trust, now);
        let Some(credential) = v.credential else {
            return Err(WalletError::Untrusted(reasons_text(&v.reasons)));
        };
        let Body::Venue { venue } = &credential.body else {
            return Err(WalletError::NotAVenue(credential.kind()));
        };
        let mut reasons = v.reasons;
        if let Some(by) = checkpoint.revocations.check(&credential.id, &decoded.cose) {
            reasons.push(Reason::Revoked { by });
        }
        if !reasons.is_empty() {
            return Err(WalletError::VenueRefused(reasons_text(&reasons)));
        }
        let secs = now.unix_timestamp();
        let mut log = self.visit_log(secs)?;
        if log.visits.len() >= MAX_VISITS {
            return Err(WalletError::TooManyVisits);
        }
        let visit = Visit {
            venue: venue.id.clone(),
            name: venue.name.clone(),
            area: venue.area.clone(),
            at: secs,
        };
        log.visits.push(visit.clone());
        write_json(&self.visits_path(), &log)?;
        Ok(visit)
    }

    /// The visits kept, oldest first; older ones than the retention are deleted.
    pub fn visits(&self, now: OffsetDateTime) -> Result<Vec<Visit>, WalletError> {
        let mut visits = self.visit_log(now.unix_timestamp())?.visits;
        visits.sort_by_key(|v| v.at);
        Ok(visits)
    }

    /// Days visits are kept.
    pub fn retention_days(&self, now: OffsetDateTime) -> Result<u32, WalletError> {
        Ok(self.visit_log(now.unix_timestamp())?.retention_days)
    }

    /// Sets the retention and deletes what is now older; returns how many
    /// visits were deleted.
    pub fn set_retention_days(&self, days: u32, now: OffsetDateTime) -> Result<usize, WalletError> {
        if !(1..=MAX_RETENTION_DAYS).contains(&days) {
            return Err(WalletError::BadRetention { days });
        }
        let mut log = self.visit_log(now.unix_timestamp())?;
        log.retention_days = days;
        let before = log.visits.len();
        log.purge(now.unix_timestamp());
        write_json(&self.visits_path(), &log)?;
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
