//! The issuer's data folder and its signing key.
//!
//! The key is a PKCS#8 PEM file, `signing-key.pem`, created with mode 0600
//! (written to a temporary file first and renamed, so a crash never leaves a
//! half-written key).

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use thiserror::Error;
use wallet_core::{Algorithm, SigningKey};

/// The Ed25519 signing key (native profile, and eu-dcc by default).
pub const SIGNING_KEY_FILE: &str = "signing-key.pem";
/// The P-256 signing key for eu-dcc credentials signed with ES256.
pub const ES256_KEY_FILE: &str = "signing-key-es256.pem";

/// The trust anchor's key: it signs the trust list. It may instead be kept
/// elsewhere (offline) and given by path to the commands that use it.
pub const ANCHOR_KEY_FILE: &str = "anchor-key.pem";

/// The key file for an algorithm.
pub fn key_file(algorithm: Algorithm) -> &'static str {
    match algorithm {
        Algorithm::Es256 => ES256_KEY_FILE,
        _ => SIGNING_KEY_FILE,
    }
}

#[derive(Debug, Error)]
pub enum KeyStoreError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: {why}")]
    BadKey { path: PathBuf, why: String },
    #[error("{path} is readable by other users (mode {mode:o}); run: chmod 600 {path}")]
    Permissions { path: PathBuf, mode: u32 },
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> KeyStoreError + '_ {
    move |source| KeyStoreError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Loads the Ed25519 signing key from `data`, creating the folder and a new
/// key when there is none. Returns the key and whether it was just created.
pub fn load_or_create(data: &Path) -> Result<(SigningKey, bool), KeyStoreError> {
    load_or_create_for(data, Algorithm::EdDsa)
}

/// Loads (or creates) the signing key of `algorithm` (EdDSA or ES256).
pub fn load_or_create_for(
    data: &Path,
    algorithm: Algorithm,
) -> Result<(SigningKey, bool), KeyStoreError> {
    load_or_create_file(data, key_file(algorithm), algorithm)
}

/// Loads (or creates) the Ed25519 trust-anchor key in `data`.
pub fn load_or_create_anchor(data: &Path) -> Result<(SigningKey, bool), KeyStoreError> {
    load_or_create_file(data, ANCHOR_KEY_FILE, Algorithm::EdDsa)
}

fn load_or_create_file(
    data: &Path,
    file: &str,
    algorithm: Algorithm,
) -> Result<(SigningKey, bool), KeyStoreError> {
    let path = data.join(file);
    if path.exists() {
        let key = load(&path)?;
        if key.algorithm() != algorithm {
            return Err(KeyStoreError::BadKey {
                path,
                why: format!("holds a {} key, expected {algorithm}", key.algorithm()),
            });
        }
        return Ok((key, false));
    }
    fs::create_dir_all(data).map_err(io(data))?;
    let key = SigningKey::generate(algorithm, &mut rand_core::OsRng).map_err(|e| {
        KeyStoreError::BadKey {
            path: path.clone(),
            why: e.to_string(),
        }
    })?;
    write_private(&path, &key)?;
    Ok((key, true))
}

/// Reads a PKCS#8 PEM key, refusing one other users can read.
pub fn load(path: &Path) -> Result<SigningKey, KeyStoreError> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = fs::metadata(path).map_err(io(path))?.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            return Err(KeyStoreError::Permissions {
                path: path.to_path_buf(),
                mode,
            });
        }
    }
    let pem = fs::read_to_string(path).map_err(io(path))?;
    SigningKey::from_pkcs8_pem(&pem).map_err(|e| KeyStoreError::BadKey {
        path: path.to_path_buf(),
        why: e.to_string(),
    })
}

/// Writes a private key with mode 0600, atomically.
pub fn write_private(path: &Path, key: &SigningKey) -> Result<(), KeyStoreError> {
    let pem = key.to_pkcs8_pem().map_err(|e| KeyStoreError::BadKey {
        path: path.to_path_buf(),
        why: e.to_string(),
    })?;
    let tmp = path.with_extension("pem.tmp");
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let _ = fs::remove_file(&tmp);
    let mut f = options.open(&tmp).map_err(io(&tmp))?;
    f.write_all(pem.as_bytes()).map_err(io(&tmp))?;
    f.sync_all().map_err(io(&tmp))?;
    drop(f);
    fs::rename(&tmp, path).map_err(io(path))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn creates_once_with_mode_0600() {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("issuer-data");
        let (k1, created) = load_or_create(&data).unwrap();
        assert!(created);
        let (k2, created) = load_or_create(&data).unwrap();
        assert!(!created);
        assert_eq!(k1.kid(), k2.kid());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(data.join(SIGNING_KEY_FILE))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }

    #[test]
    fn the_anchor_is_a_separate_key_with_mode_0600() {
        let dir = tempfile::tempdir().unwrap();
        let (signing, _) = load_or_create(dir.path()).unwrap();
        let (anchor, created) = load_or_create_anchor(dir.path()).unwrap();
        assert!(created);
        assert_ne!(signing.kid(), anchor.kid());
        let (again, created) = load_or_create_anchor(dir.path()).unwrap();
        assert!(!created);
        assert_eq!(again.kid(), anchor.kid());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(dir.path().join(ANCHOR_KEY_FILE))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }

    #[test]
    fn es256_key_lives_in_its_own_file() {
        let dir = tempfile::tempdir().unwrap();
        let (ed, _) = load_or_create(dir.path()).unwrap();
        let (p256, created) = load_or_create_for(dir.path(), Algorithm::Es256).unwrap();
        assert!(created);
        assert_eq!(p256.algorithm(), Algorithm::Es256);
        assert_ne!(ed.kid(), p256.kid());
        assert!(dir.path().join(ES256_KEY_FILE).is_file());
        // A swapped file is refused rather than used with the wrong algorithm.
        fs::copy(
            dir.path().join(SIGNING_KEY_FILE),
            dir.path().join(ES256_KEY_FILE),
        )
        .unwrap();
        let err = load_or_create_for(dir.path(), Algorithm::Es256)
            .unwrap_err()
            .to_string();
        assert!(err.contains("expected ES256"), "{err}");
    }

    #[cfg(unix)]
    #[test]
    fn refuses_a_world_readable_key() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        load_or_create(dir.path()).unwrap();
        let path = dir.path().join(SIGNING_KEY_FILE);
        fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).unwrap();
        assert!(matches!(
            load(&path),
            Err(KeyStoreError::Permissions { .. })
        ));
    }

    #[test]
    fn refuses_a_corrupt_key() {
        let dir = tempfile::tempdir().unwrap();
        load_or_create(dir.path()).unwrap();
        let path = dir.path().join(SIGNING_KEY_FILE);
        fs::write(
            &path,
            "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
        )
        .unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            fs::set_permissions(&path, fs::Permissions::from_mode(0o600)).unwrap();
        }
        let err = load(&path).unwrap_err().to_string();
        assert!(err.contains("signing-key.pem"), "{err}");
    }
}
