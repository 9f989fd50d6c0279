//! What the page shows, one typed struct a view, serialized as the page
//! reads it: every word already in the page's language, every time in the
//! device's zone. The page decides nothing; it puts these on screen.

use serde::Serialize;

/// One pinned trust anchor, to compare by its full fingerprint.
#[derive(Debug, Serialize)]
pub(super) struct Anchor {
    pub fingerprint: String,
    pub kid: String,
    pub algorithm: String,
}

/// One signed file the device may hold.
#[derive(Debug, Serialize)]
pub(super) struct FileLine {
    /// `trust-list`, `revocations`, `rules`, `exposures`, `foreign-trust`.
    pub name: &'static str,
    /// The name for people.
    pub label: String,
    pub held: bool,
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    pub copy: Option<HeldCopy>,
}

/// The copy held of a file.
#[derive(Debug, Serialize)]
pub(super) struct HeldCopy {
    pub version: u64,
    pub issued: String,
    pub age: String,
    pub next_update: String,
    pub stale: bool,
}

/// Settings and the scan screen's header: the anchor, the profile, the
/// files held, and what they trust.
#[derive(Debug, Default, Serialize)]
pub(super) struct Status {
    /// Why the device's clock is not trusted, when it is not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub clock_behind: Option<String>,
    pub anchors: Vec<Anchor>,
    pub profile: Option<String>,
    pub profiles: Vec<String>,
    pub files: Vec<FileLine>,
    /// A file held is past its next update.
    pub stale: bool,
    /// The files a check needs are held and verified.
    pub ready: bool,
    /// One line: each file held, its version and age.
    pub summary: String,
    pub shc_issuers: Vec<String>,
    /// Each foreign source in words, or why the foreign file adds no key.
    pub foreign: Vec<String>,
}

/// The verdict card.
#[derive(Debug, Serialize)]
pub(super) struct Card {
    pub valid: bool,
    /// VALID or INVALID, in the page's language.
    pub word: String,
    /// ✓ or ✗: a verdict never rests on colour alone.
    pub symbol: &'static str,
    pub name: Option<String>,
    pub dob: Option<String>,
    pub kind: Option<String>,
    pub valid_until: Option<String>,
    pub profile: String,
    pub reasons: Vec<String>,
    pub warnings: Vec<String>,
    pub signed_by: Option<String>,
}

/// A part of a code scanned in parts, and how many are still to come.
#[derive(Debug, Serialize)]
pub(super) struct Pending {
    pub pending: bool,
    pub message: String,
}

/// A code added to a member.
#[derive(Debug, Serialize)]
pub(super) struct Added {
    pub member: String,
    pub id: String,
    pub kind: String,
    /// Checked against the synced files (else held as "not checked").
    pub verified: bool,
    pub reasons: Vec<String>,
}

/// One held code in the wallet's list.
#[derive(Debug, Serialize)]
pub(super) struct Held {
    pub member: String,
    pub id: String,
    pub kind: String,
    pub holder: Option<String>,
    /// Its standing in words.
    pub status: String,
    /// `ok`, `warn`, `bad`, or `unknown` (not checked: never shown as valid).
    pub tone: &'static str,
}

/// One held code full screen or on paper.
#[derive(Debug, Serialize)]
pub(super) struct Code {
    #[serde(flatten)]
    pub held: Held,
    pub svg: String,
    /// The lines under the code.
    pub lines: Vec<String>,
}

/// The backup file to save.
#[derive(Debug, Serialize)]
pub(super) struct Exported {
    pub name: String,
    pub text: String,
    pub codes: usize,
}

/// What a directory of SMART Health Card issuers would trust, before
/// anything is trusted.
#[derive(Debug, Serialize)]
pub(super) struct ShcOffer {
    pub issuers: Vec<ShcIssuer>,
    pub keys: usize,
    pub refused: Vec<String>,
    /// The file's SHA-256, to compare with the one its authority published.
    pub fingerprint: String,
}

#[derive(Debug, Serialize)]
pub(super) struct ShcIssuer {
    pub name: String,
    pub iss: String,
    pub keys: usize,
}

/// What a directory trusted once confirmed.
#[derive(Debug, Serialize)]
pub(super) struct ShcTrusted {
    pub issuers: usize,
    pub keys: usize,
    pub refused: Vec<String>,
}

/// One visit kept on the phone.
#[derive(Debug, Serialize)]
pub(super) struct Visit {
    pub name: String,
    pub area: String,
    pub at: String,
}

#[derive(Debug, Serialize)]
pub(super) struct Visits {
    pub retention_days: u32,
    pub visits: Vec<Visit>,
}

/// The visits matched against the exposure list held.
#[derive(Debug, Default, Serialize)]
pub(super) struct Exposures {
    pub held: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stale: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub checked: Option<usize>,
    pub found: Vec<Exposure>,
}

#[derive(Debug, Serialize)]
pub(super) struct Exposure {
    pub name: String,
    pub area: String,
    pub at: String,
    pub from: String,
    pub until: String,
    pub advice: Option<String>,
}
