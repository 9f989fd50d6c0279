//! What the command lines' shared arguments mean: the data folder, `--at`
//! and `--anchor`, and reading the small files (keys, certificates) they name.

use std::path::{Path, PathBuf};
use thiserror::Error;
use wallet_core::credential::instant;
use wallet_core::keys::PublicKey;

#[derive(Debug, Error)]
pub enum ArgError {
    #[error("--at: {0:?} is not an RFC 3339 time")]
    NotATime(String),
    #[error("--at: {0:?} is out of range")]
    TimeOutOfRange(String),
    #[error("--anchor: {0}")]
    Anchor(String),
}

/// `$XDG_DATA_HOME/<name>`, else `$HOME/.local/share/<name>`.
pub fn data_dir(name: &str) -> Option<PathBuf> {
    let from = |var: &str| {
        std::env::var_os(var)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    from("XDG_DATA_HOME")
        .or_else(|| from("HOME").map(|h| h.join(".local/share")))
        .map(|d| d.join(name))
}

/// The instant `--at` names (RFC 3339), if given.
pub fn parse_at(at: Option<&str>) -> Result<Option<time::OffsetDateTime>, ArgError> {
    let Some(t) = at else {
        return Ok(None);
    };
    let secs = instant::parse(t).map_err(|_| ArgError::NotATime(t.to_string()))?;
    time::OffsetDateTime::from_unix_timestamp(secs)
        .map(Some)
        .map_err(|_| ArgError::TimeOutOfRange(t.to_string()))
}

/// The anchor from `--anchor`: a file holding the PEM, or the PEM text itself.
pub fn anchor_from_arg(arg: &str) -> Result<PublicKey, ArgError> {
    let text = if arg.contains("-----BEGIN") {
        arg.to_string()
    } else {
        read_small_text(Path::new(arg))
            .map_err(|e| ArgError::Anchor(format!("{arg}: {e} (expected a PEM file or PEM text)")))?
            .ok_or_else(|| ArgError::Anchor(format!("{arg}: too large for a public key")))?
    };
    PublicKey::from_pem(&text).map_err(|e| ArgError::Anchor(e.to_string()))
}

/// Most bytes a key or certificate file may hold.
pub const MAX_KEY_FILE: u64 = 64 * 1024;

/// Reads a key or certificate file; `None` if it holds more than
/// [`MAX_KEY_FILE`] bytes (no more than that is ever read).
pub fn read_small_text(path: &Path) -> std::io::Result<Option<String>> {
    read_bounded(path, MAX_KEY_FILE)?
        .map(|b| {
            String::from_utf8(b).map_err(|_| {
                std::io::Error::new(
                    std::io::ErrorKind::InvalidData,
                    "stream did not contain valid UTF-8",
                )
            })
        })
        .transpose()
}

/// Reads a file of at most `max` bytes; `None` if it holds more (no more
/// than `max + 1` bytes are ever read, even of a file that grows meanwhile).
pub fn read_bounded(path: &Path, max: u64) -> std::io::Result<Option<Vec<u8>>> {
    use std::io::Read;
    let mut bytes = Vec::new();
    std::fs::File::open(path)?
        .take(max.saturating_add(1))
        .read_to_end(&mut bytes)?;
    Ok((bytes.len() as u64 <= max).then_some(bytes))
}

/// An anchor's fingerprint, as `issuer anchor show` users compare it: the
/// SHA-256 of its SPKI in 16 groups of 4 hex digits
/// ([`wallet_core::keys::fingerprint_for_spki`]).
pub fn fingerprint(key: &PublicKey) -> String {
    wallet_core::keys::fingerprint_for_spki(&key.spki_der())
}

#[cfg(test)]
mod tests {
    use super::*;
    use wallet_core::keys::kid_for_spki;
    use wallet_core::samples;

    #[test]
    fn the_anchor_comes_from_a_file_or_text() {
        let pem = samples::anchor_key().public_key().to_pem();
        let from_text = anchor_from_arg(&pem).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("anchor.pem");
        std::fs::write(&path, &pem).unwrap();
        assert_eq!(anchor_from_arg(path.to_str().unwrap()).unwrap(), from_text);
        // The kid names the key; the fingerprint people compare is the
        // whole SHA-256, whose first 16 digits are the kid.
        let kid = hex::encode(kid_for_spki(&from_text.spki_der()));
        assert_eq!(kid, hex::encode(samples::anchor_key().kid()));
        let fp = fingerprint(&from_text);
        assert_eq!(fp.len(), 16 * 4 + 15, "{fp}");
        assert!(fp.replace(' ', "").starts_with(&kid), "{fp}");
        let e = anchor_from_arg("missing.pem").unwrap_err().to_string();
        assert!(e.starts_with("--anchor: missing.pem"), "{e}");
        assert!(anchor_from_arg("-----BEGIN PUBLIC KEY-----\nxx").is_err());
    }

    #[test]
    fn at_is_an_rfc3339_time() {
        assert_eq!(parse_at(None).unwrap(), None);
        let t = parse_at(Some("2026-03-01T08:00:00+08:00"))
            .unwrap()
            .unwrap();
        assert_eq!(t.unix_timestamp(), 1_772_323_200);
        let e = parse_at(Some("yesterday")).unwrap_err().to_string();
        assert_eq!(e, "--at: \"yesterday\" is not an RFC 3339 time");
    }
}
