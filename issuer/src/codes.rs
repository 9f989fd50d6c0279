//! Retrieval codes: what a lab hands a citizen (on paper or by SMS) to fetch
//! their credential once.
//!
//! A code is derived from the credential id with a secret key held in the
//! data folder (`code-secret`, 0600): HMAC-SHA256(secret, id), the first 60
//! bits written as 12 Crockford base-32 characters in three groups
//! (`7K3M-Q9TX-A2PB`). The database keeps only a keyed hash of the code
//! (HMAC-SHA256 under the same secret, [`CodeKey::lookup_key`]): a copy of
//! the database alone gives no code away and allows no brute force of the
//! 60-bit codes (a bare SHA-256 would let one pass over 2^60 candidates
//! find every live code at once). A retried submission is answered with the
//! same code without storing it.

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};
use std::fmt;
use std::fs;
use std::io::Write;
use std::path::Path;
use thiserror::Error;

pub const SECRET_FILE: &str = "code-secret";

/// Crockford's base 32: no I, L, O or U, so codes read aloud or copied by
/// hand survive.
const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/// Characters in a code, without the dashes.
pub const CODE_CHARS: usize = 12;

#[derive(Debug, Error)]
pub enum CodeError {
    #[error("{path}: {why}")]
    Secret { path: String, why: String },
}

/// The secret codes are derived with. Never printed.
#[derive(Clone)]
pub struct CodeKey([u8; 32]);

impl fmt::Debug for CodeKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("CodeKey(..)")
    }
}

impl CodeKey {
    pub fn from_bytes(bytes: [u8; 32]) -> CodeKey {
        CodeKey(bytes)
    }

    /// Loads `code-secret` from the data folder, creating it (0600) if absent.
    pub fn load_or_create(data: &Path) -> Result<CodeKey, CodeError> {
        let path = data.join(SECRET_FILE);
        if path.exists() {
            return CodeKey::load(&path);
        }
        fs::create_dir_all(data).map_err(|e| secret_err(&path, e))?;
        let mut bytes = [0u8; 32];
        rand_core::RngCore::fill_bytes(&mut rand_core::OsRng, &mut bytes);
        let key = CodeKey(bytes);
        key.write(&path)?;
        Ok(key)
    }

    /// Reads a code secret file (64 hex digits), refusing one other users
    /// can read.
    pub fn load(path: &Path) -> Result<CodeKey, CodeError> {
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(path)
                .map_err(|e| secret_err(path, e))?
                .permissions()
                .mode();
            if mode & 0o077 != 0 {
                return Err(secret_err(
                    path,
                    format!(
                        "readable by other users (mode {:o}); run: chmod 600 {}",
                        mode & 0o777,
                        path.display()
                    ),
                ));
            }
        }
        let text = fs::read_to_string(path).map_err(|e| secret_err(path, e))?;
        let bytes = hex::decode(text.trim())
            .ok()
            .and_then(|b| <[u8; 32]>::try_from(b).ok())
            .ok_or_else(|| secret_err(path, "expected 64 hex digits"))?;
        Ok(CodeKey(bytes))
    }

    /// Puts the secret read from `from` (another node's `code-secret`) in
    /// the data folder, so this node's codes are that node's. Refuses when
    /// the folder already holds a different secret.
    pub fn install(data: &Path, from: &Path) -> Result<CodeKey, CodeError> {
        let key = CodeKey::load(from)?;
        let path = data.join(SECRET_FILE);
        if path.exists() {
            let held = CodeKey::load(&path)?;
            if held.check_value() != key.check_value() {
                return Err(secret_err(
                    &path,
                    format!(
                        "holds another secret than {}; a node's codes must be the other nodes': remove it only if this node has issued nothing",
                        from.display()
                    ),
                ));
            }
            return Ok(held);
        }
        fs::create_dir_all(data).map_err(|e| secret_err(&path, e))?;
        key.write(&path)?;
        Ok(key)
    }

    /// Writes the secret with mode 0600, atomically.
    fn write(&self, path: &Path) -> Result<(), CodeError> {
        let tmp = path.with_extension("tmp");
        let _ = fs::remove_file(&tmp);
        let mut options = fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let mut f = options.open(&tmp).map_err(|e| secret_err(&tmp, e))?;
        f.write_all(format!("{}\n", hex::encode(self.0)).as_bytes())
            .and_then(|_| f.sync_all())
            .map_err(|e| secret_err(&tmp, e))?;
        fs::rename(&tmp, path).map_err(|e| secret_err(path, e))
    }

    /// HMAC-SHA256 keyed with the secret.
    fn mac(&self) -> Hmac<Sha256> {
        match Hmac::<Sha256>::new_from_slice(&self.0) {
            Ok(m) => m,
            // HMAC takes a key of any length.
            Err(_) => unreachable!("HMAC accepts a 32-byte key"),
        }
    }

    /// A value that tells secrets apart without giving one away: HMAC of a
    /// fixed text, 16 bytes in hex. Nodes on one database compare it.
    pub fn check_value(&self) -> String {
        let mut mac = self.mac();
        mac.update(b"issuer code-secret check v1");
        hex::encode(&mac.finalize().into_bytes()[..16])
    }

    /// What the database stores for a code (its canonical form): the first
    /// 64 bits of HMAC-SHA256 under this secret, with its own label so it
    /// is never a code's own tag, big-endian, as a signed integer (an
    /// integer keeps the index small; two codes share a key about as often
    /// as two codes are equal).
    pub fn lookup_key(&self, canonical: &str) -> i64 {
        let mut mac = self.mac();
        mac.update(b"issuer retrieval-code lookup v2\0");
        mac.update(canonical.as_bytes());
        let h = mac.finalize().into_bytes();
        i64::from_be_bytes([h[0], h[1], h[2], h[3], h[4], h[5], h[6], h[7]])
    }

    /// The stored key of a code as issued (with its dashes).
    pub fn key_of_issued(&self, code: &str) -> i64 {
        self.lookup_key(&code.replace('-', ""))
    }

    /// The retrieval code of a credential.
    pub fn code(&self, credential_id: &str) -> String {
        let mut mac = self.mac();
        mac.update(credential_id.as_bytes());
        let tag = mac.finalize().into_bytes();
        let mut bits = u64::from_be_bytes([
            tag[0], tag[1], tag[2], tag[3], tag[4], tag[5], tag[6], tag[7],
        ]) >> 4;
        let mut chars = [0u8; CODE_CHARS];
        for c in chars.iter_mut().rev() {
            *c = ALPHABET[(bits & 31) as usize];
            bits >>= 5;
        }
        let s: String = chars.iter().map(|&b| b as char).collect();
        format!("{}-{}-{}", &s[0..4], &s[4..8], &s[8..12])
    }
}

fn secret_err(path: &Path, why: impl ToString) -> CodeError {
    CodeError::Secret {
        path: path.display().to_string(),
        why: why.to_string(),
    }
}

/// A code as typed, in canonical form: dashes and spaces dropped, upper
/// case, and the letters people confuse mapped (O→0, I and L→1). `None` if
/// it cannot be a code.
pub fn normalize(typed: &str) -> Option<String> {
    if typed.len() > 64 {
        return None;
    }
    let mut out = String::with_capacity(CODE_CHARS);
    for c in typed.chars() {
        let c = match c.to_ascii_uppercase() {
            '-' | ' ' => continue,
            'O' => '0',
            'I' | 'L' => '1',
            c => c,
        };
        if !c.is_ascii() || !ALPHABET.contains(&(c as u8)) {
            return None;
        }
        out.push(c);
    }
    (out.len() == CODE_CHARS).then_some(out)
}

/// What the database stored for a code before the keyed hash (schema
/// version 7 and before): the first 64 bits of a bare SHA-256 of its
/// canonical form. Only the migration to [`CodeKey::lookup_key`] reads it.
pub fn legacy_sha256_key(canonical: &str) -> i64 {
    let h = Sha256::digest(canonical.as_bytes());
    i64::from_be_bytes([h[0], h[1], h[2], h[3], h[4], h[5], h[6], h[7]])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_stable_distinct_and_readable() {
        let k = CodeKey::from_bytes([7; 32]);
        let a = k.code("00112233445566778899aabbccddeeff");
        assert_eq!(a, k.code("00112233445566778899aabbccddeeff"));
        assert_ne!(a, k.code("00112233445566778899aabbccddeefe"));
        assert_ne!(
            a,
            CodeKey::from_bytes([8; 32]).code("00112233445566778899aabbccddeeff")
        );
        assert_eq!(a.len(), 14);
        assert_eq!(a.matches('-').count(), 2);
        assert!(!a.contains(['I', 'L', 'O', 'U']));
    }

    /// The stored key needs the secret: the same code under another secret,
    /// or its bare SHA-256, gives another key.
    #[test]
    fn the_stored_key_is_keyed_by_the_secret() {
        let k = CodeKey::from_bytes([7; 32]);
        let code = k.code("00112233445566778899aabbccddeeff");
        let canonical = normalize(&code).unwrap();
        assert_eq!(k.key_of_issued(&code), k.lookup_key(&canonical));
        assert_ne!(
            k.lookup_key(&canonical),
            CodeKey::from_bytes([8; 32]).lookup_key(&canonical)
        );
        assert_ne!(k.lookup_key(&canonical), legacy_sha256_key(&canonical));
    }

    /// A joining node takes another node's secret (same codes), refuses
    /// a copy others can read, and never overwrites a different secret.
    #[test]
    fn a_secret_installed_from_another_node_gives_its_codes() {
        let dir = tempfile::tempdir().unwrap();
        let (first, second) = (dir.path().join("a"), dir.path().join("b"));
        let a = CodeKey::load_or_create(&first).unwrap();
        let from = first.join(SECRET_FILE);
        let b = CodeKey::install(&second, &from).unwrap();
        assert_eq!(a.code("id-1"), b.code("id-1"));
        assert_eq!(a.check_value(), b.check_value());
        assert_eq!(
            CodeKey::load_or_create(&second).unwrap().code("id-1"),
            a.code("id-1")
        );

        let other = dir.path().join("c");
        let c = CodeKey::load_or_create(&other).unwrap();
        assert_ne!(c.check_value(), a.check_value());
        let err = CodeKey::install(&other, &from).unwrap_err().to_string();
        assert!(err.contains("holds another secret"), "{err}");
        assert_eq!(
            CodeKey::load_or_create(&other).unwrap().code("x"),
            c.code("x")
        );

        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let loose = dir.path().join("copied-secret");
            std::fs::copy(&from, &loose).unwrap();
            std::fs::set_permissions(&loose, std::fs::Permissions::from_mode(0o644)).unwrap();
            let err = CodeKey::install(&dir.path().join("d"), &loose)
                .unwrap_err()
                .to_string();
            assert!(err.contains("chmod 600"), "{err}");
        }
    }

    #[test]
    fn typed_codes_are_normalised() {
        let k = CodeKey::from_bytes([1; 32]);
        let code = k.code("x");
        let canonical = code.replace('-', "");
        assert_eq!(normalize(&code).as_deref(), Some(canonical.as_str()));
        assert_eq!(
            normalize(&code.to_lowercase().replace('-', " ")).as_deref(),
            Some(canonical.as_str())
        );
        assert_eq!(normalize("O1LI-0000-0000").as_deref(), Some("011100000000"));
        assert_eq!(normalize("too-short"), None);
        assert_eq!(normalize("UUUU-UUUU-UUUU"), None);
        assert_eq!(normalize("ÄBCD-EFGH-JKMN"), None);
        assert_eq!(normalize(&"A".repeat(100)), None);
        assert_eq!(k.key_of_issued(&code), k.lookup_key(&canonical));
    }

    #[test]
    fn the_secret_is_created_once_with_mode_0600() {
        let dir = tempfile::tempdir().unwrap();
        let a = CodeKey::load_or_create(dir.path()).unwrap();
        let b = CodeKey::load_or_create(dir.path()).unwrap();
        assert_eq!(a.code("id"), b.code("id"));
        assert_eq!(format!("{a:?}"), "CodeKey(..)");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let p = dir.path().join(SECRET_FILE);
            assert_eq!(
                fs::metadata(&p).unwrap().permissions().mode() & 0o777,
                0o600
            );
            fs::set_permissions(&p, fs::Permissions::from_mode(0o644)).unwrap();
            assert!(CodeKey::load_or_create(dir.path()).is_err());
        }
    }
}
