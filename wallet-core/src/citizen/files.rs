//! The wallet folder's files, and the error every citizen operation gives.
//!
//! Each file is JSON, read with a size limit and replaced atomically
//! (see [`write_atomically`]); a file that cannot be read or parsed is
//! reported by path as damaged and never overwritten, so nothing the
//! citizen holds is lost to a bad write or a newer format.

use crate::checkpoint::cache::write_atomically;
use crate::credential::CredentialKind;
use crate::verify::Reason;
use serde::Serialize;
use std::fs;
use std::io::{self, Read};
use std::path::{Path, PathBuf};
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
    #[error("not a credential: {0}")]
    Malformed(String),
    #[error("refused: {0} (the code is forged or from an issuer this wallet does not trust)")]
    Untrusted(String),
    #[error("{member} already holds credential {id}")]
    Duplicate { member: String, id: String },
    #[error("{member} holds no credential {id}")]
    NotFound { member: String, id: String },
    #[error("{member} already holds {max} credentials; remove some first")]
    Full { member: String, max: usize },
    #[error("this is a {0} credential, not a venue code")]
    NotAVenue(CredentialKind),
    #[error("venue code refused: {0}")]
    VenueRefused(String),
    #[error("the visit log holds {max} visits; shorten the retention to make room")]
    TooManyVisits { max: usize },
    #[error("retention of {days} days: it must be 1-{max} days")]
    BadRetention { days: u32, max: u32 },
}

/// Reasons joined for one message.
pub fn reasons_text(reasons: &[Reason]) -> String {
    reasons
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

pub fn io_error(path: &Path, e: io::Error) -> WalletError {
    WalletError::Io {
        path: path.to_path_buf(),
        why: e.to_string(),
    }
}

/// Reads a wallet file; `None` if there is none. A file that cannot be read
/// or parsed is reported as damaged, and left for the citizen to look at.
pub fn read_json<T: serde::de::DeserializeOwned>(path: &Path) -> Result<Option<T>, WalletError> {
    let file = match fs::File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(io_error(path, e)),
    };
    let corrupt = |why: String| WalletError::Corrupt {
        path: path.to_path_buf(),
        why,
    };
    let mut text = String::new();
    file.take(MAX_FILE + 1)
        .read_to_string(&mut text)
        .map_err(|e| corrupt(e.to_string()))?;
    if text.len() as u64 > MAX_FILE {
        return Err(corrupt(format!("larger than {MAX_FILE} bytes")));
    }
    serde_json::from_str(&text)
        .map(Some)
        .map_err(|e| corrupt(e.to_string()))
}

/// Replaces a wallet file atomically.
pub fn write_json<T: Serialize>(path: &Path, value: &T) -> Result<(), WalletError> {
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent).map_err(|e| io_error(parent, e))?;
    }
    let text = serde_json::to_string_pretty(value).map_err(|e| io_error(path, e.into()))?;
    write_atomically(path, text.as_bytes()).map_err(|e| io_error(path, e))
}
