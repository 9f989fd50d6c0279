//! The wallet folder's files, and the error every citizen operation gives.
//!
//! Each file is JSON in the wallet's [`Storage`], read with a size limit and
//! replaced atomically; a file that cannot be read or parsed is
//! reported by path as damaged and never overwritten, so nothing the
//! citizen holds is lost to a bad write or a newer format.

use crate::credential::CredentialKind;
use crate::storage::{Storage, StorageError};
use crate::verify::Reason;
use serde::Serialize;
use std::path::PathBuf;
use thiserror::Error;

/// Largest wallet file read.
const MAX_FILE: u64 = 4 * 1024 * 1024;

#[derive(Debug, Error)]
pub enum WalletError {
    #[error("member name {0:?} must be 1-40 letters, digits, '-' or '_'")]
    BadMember(String),
    #[error("{path}: {why}")]
    Io { path: PathBuf, why: String },
    #[error(
        "{path} is damaged ({why}); it was left as it is: move it away to start that member afresh"
    )]
    Corrupt { path: PathBuf, why: String },
    #[error("not a credential: {}", malformed_text(.0))]
    Malformed(Vec<Reason>),
    #[error("refused: {} (the code is forged or from an issuer this wallet does not trust)", reasons_text(.0))]
    Untrusted(Vec<Reason>),
    #[error("{member} already holds credential {id}")]
    Duplicate { member: String, id: String },
    #[error("{member} holds no credential {id}")]
    NotFound { member: String, id: String },
    #[error("{member} already holds {max} credentials; remove some first")]
    Full { member: String, max: usize },
    #[error("profile: {0}")]
    Profile(String),
    #[error("this is a {0} credential, not a venue code")]
    NotAVenue(CredentialKind),
    #[error("venue code refused: {}", reasons_text(.0))]
    VenueRefused(Vec<Reason>),
    #[error("not a wallet backup: {0}")]
    NotABackup(String),
    #[error("the visit log holds {max} visits; shorten the retention to make room")]
    TooManyVisits { max: usize },
    #[error("retention of {days} days: it must be 1-{max} days")]
    BadRetention { days: u32, max: u32 },
}

/// Why a text is not a credential: a decoder's own words bare, other
/// reasons as they read.
fn malformed_text(reasons: &[Reason]) -> String {
    reasons
        .iter()
        .map(|r| match r {
            Reason::Malformed { what, .. } => crate::text::escape(what).into_owned(),
            r => r.to_string(),
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// Reasons joined for one message.
pub fn reasons_text(reasons: &[Reason]) -> String {
    reasons
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

impl From<StorageError> for WalletError {
    fn from(e: StorageError) -> WalletError {
        match e {
            StorageError::Io { path, why } => WalletError::Io { path, why },
            StorageError::TooLarge { path, max } => WalletError::Corrupt {
                path,
                why: format!("larger than {max} bytes"),
            },
            other @ StorageError::BadName { .. } => WalletError::Io {
                path: other.path().to_path_buf(),
                why: other.to_string(),
            },
        }
    }
}

/// Reads a wallet file; `None` if there is none. A file that cannot be parsed
/// (or is too large to be one) is reported as damaged, and left for the
/// citizen to look at.
pub fn read_json<T: serde::de::DeserializeOwned>(
    store: &dyn Storage,
    name: &str,
) -> Result<Option<T>, WalletError> {
    let Some(bytes) = store.read(name, MAX_FILE)? else {
        return Ok(None);
    };
    serde_json::from_slice(&bytes)
        .map(Some)
        .map_err(|e| WalletError::Corrupt {
            path: store.locate(name),
            why: e.to_string(),
        })
}

/// Replaces a wallet file atomically.
pub fn write_json<T: Serialize>(
    store: &dyn Storage,
    name: &str,
    value: &T,
) -> Result<(), WalletError> {
    let text = serde_json::to_string_pretty(value).map_err(|e| WalletError::Io {
        path: store.locate(name),
        why: e.to_string(),
    })?;
    Ok(store.write(name, text.as_bytes())?)
}
