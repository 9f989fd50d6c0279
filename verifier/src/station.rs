//! The checkpoint station: its local store of signed files, syncing them
//! from a folder, and how a verdict and the store's state read to a person.
//! Everything here works with no network.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use thiserror::Error;
use wallet_core::checkpoint::cache::{Cache, CacheError, FileChange};
use wallet_core::checkpoint::check::Verdict;
use wallet_core::credential::instant;
use wallet_core::keys::{kid_for_spki, PublicKey};
use wallet_core::signed::file::Header;
use wallet_core::signed::trust::TrustChange;

/// The names the issuer publishes its files under, in a folder or on a stick.
pub const TRUST_LIST: &str = "trust-list.cose";
pub const REVOCATIONS: &str = "revocations.cose";
pub const RULES: &str = "rules.cose";

#[derive(Debug, Error)]
pub enum StationError {
    #[error("no data folder: set $XDG_DATA_HOME or $HOME, or pass --store DIR")]
    NoDataDir,
    #[error("--anchor: {0}")]
    Anchor(String),
    #[error("{0}")]
    Arg(String),
    #[error("{path}: {why}")]
    Read { path: PathBuf, why: String },
    #[error("{url}: {why}")]
    Fetch { url: String, why: String },
    #[error(transparent)]
    Cache(#[from] CacheError),
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

/// The default store: `$XDG_DATA_HOME/health-verifier`, else
/// `$HOME/.local/share/health-verifier`.
pub fn default_store() -> Result<PathBuf, StationError> {
    data_dir("health-verifier").ok_or(StationError::NoDataDir)
}

/// The instant `--at` names (RFC 3339), if given.
pub fn parse_at(at: Option<&str>) -> Result<Option<time::OffsetDateTime>, StationError> {
    let Some(t) = at else {
        return Ok(None);
    };
    let secs = instant::parse(t)
        .map_err(|_| StationError::Arg(format!("--at: {t:?} is not an RFC 3339 time")))?;
    time::OffsetDateTime::from_unix_timestamp(secs)
        .map(Some)
        .map_err(|_| StationError::Arg(format!("--at: {t:?} is out of range")))
}

/// Syncs from an issuer URL or a folder, whichever is given.
pub fn sync_from(
    cache: &Cache,
    url: Option<&str>,
    dir: Option<&Path>,
) -> Result<SyncReport, StationError> {
    match (url, dir) {
        (Some(url), _) => sync(cache, &crate::fetch::HttpSource::new(url)?),
        (None, Some(dir)) => sync_from_dir(cache, dir),
        (None, None) => Err(StationError::Arg(
            "give --from URL or --from-dir DIR".into(),
        )),
    }
}

/// The anchor from `--anchor`: a file holding the PEM, or the PEM text itself.
pub fn anchor_from_arg(arg: &str) -> Result<PublicKey, StationError> {
    let text = if arg.contains("-----BEGIN") {
        arg.to_string()
    } else {
        read_small_text(Path::new(arg))
            .map_err(|e| {
                StationError::Anchor(format!("{arg}: {e} (expected a PEM file or PEM text)"))
            })?
            .ok_or_else(|| StationError::Anchor(format!("{arg}: too large for a public key")))?
    };
    PublicKey::from_pem(&text).map_err(|e| StationError::Anchor(e.to_string()))
}

/// Most bytes a key or certificate file may hold.
pub const MAX_KEY_FILE: u64 = 64 * 1024;

/// Reads a key or certificate file; `None` if it holds more than
/// [`MAX_KEY_FILE`] bytes (no more than that is ever read).
pub fn read_small_text(path: &Path) -> std::io::Result<Option<String>> {
    use std::io::Read;
    let mut text = String::new();
    std::fs::File::open(path)?
        .take(MAX_KEY_FILE + 1)
        .read_to_string(&mut text)?;
    Ok((text.len() as u64 <= MAX_KEY_FILE).then_some(text))
}

/// When the store's files last changed: a sync in another process shows
/// up as a different stamp.
pub fn store_stamp(cache: &Cache) -> Vec<Option<std::time::SystemTime>> {
    use wallet_core::checkpoint::cache::{
        ANCHORS_FILE, REVOCATIONS_FILE, RULES_FILE, TRUST_LIST_FILE,
    };
    [ANCHORS_FILE, TRUST_LIST_FILE, REVOCATIONS_FILE, RULES_FILE]
        .iter()
        .map(|f| {
            std::fs::metadata(cache.path(f))
                .and_then(|m| m.modified())
                .ok()
        })
        .collect()
}

/// The anchor's fingerprint: its kid, SHA-256 of its SPKI, first 8 bytes, as hex.
pub fn fingerprint(key: &PublicKey) -> String {
    hex::encode(kid_for_spki(&key.spki_der()))
}

fn read_file(path: &Path) -> Result<Option<Vec<u8>>, StationError> {
    match std::fs::read(path) {
        Ok(b) => Ok(Some(b)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(StationError::Read {
            path: path.to_path_buf(),
            why: e.to_string(),
        }),
    }
}

/// What one sync did, file by file.
#[derive(Debug, Default)]
pub struct SyncReport {
    pub trust_list: Option<TrustChange>,
    pub revocations: Option<FileChange>,
    pub rules: Option<FileChange>,
    /// Files refused, with why; the store kept its copy of each.
    pub refused: Vec<String>,
}

/// Where signed files come from: a folder, or an issuer over HTTP.
pub trait Source {
    /// The file's bytes, `None` if the source does not have it. For
    /// revocations, `since` is the version held (the source may answer
    /// with a delta from it, or with the full list).
    fn fetch(&self, file: &str, since: Option<u64>) -> Result<Option<Vec<u8>>, StationError>;
    /// Where, for messages.
    fn describe(&self) -> String;
}

/// A folder (a USB stick, a copied download) holding the files by name.
pub struct DirSource(pub PathBuf);

impl Source for DirSource {
    fn fetch(&self, file: &str, _since: Option<u64>) -> Result<Option<Vec<u8>>, StationError> {
        read_file(&self.0.join(file))
    }

    fn describe(&self) -> String {
        self.0.display().to_string()
    }
}

/// Installs the files found in `dir`; see [`sync`].
pub fn sync_from_dir(cache: &Cache, dir: &Path) -> Result<SyncReport, StationError> {
    sync(cache, &DirSource(dir.to_path_buf()))
}

/// Installs the files a source has (trust list first: the others are
/// checked against it). A missing or refused file leaves the held one.
pub fn sync(cache: &Cache, source: &impl Source) -> Result<SyncReport, StationError> {
    let mut report = SyncReport::default();
    let Some(trust) = source.fetch(TRUST_LIST, None)? else {
        return Err(StationError::Read {
            path: PathBuf::from(source.describe()).join(TRUST_LIST),
            why: "not found: a sync source must have the trust list".into(),
        });
    };
    match cache.install_trust_list(&trust) {
        Ok(c) => report.trust_list = Some(c),
        Err(CacheError::Refused(e)) => report.refused.push(format!("{TRUST_LIST}: {e}")),
        Err(e) => return Err(e.into()),
    }
    // Loaded once: its version asks for a delta, and the delta builds on it.
    let trust = cache.trust_store()?;
    let held = cache.held_revocations(&trust)?;
    if let Some(bytes) = fetch_or_note(
        source,
        REVOCATIONS,
        held.as_ref().map(|r| r.version),
        &mut report,
    )? {
        let result = cache.install_revocations_onto(&trust, held.as_ref(), &bytes);
        report.revocations = note_refusal(REVOCATIONS, result, &mut report)?;
    }
    if let Some(bytes) = fetch_or_note(source, RULES, None, &mut report)? {
        report.rules = note_refusal(RULES, cache.install_rules(&bytes), &mut report)?;
    }
    Ok(report)
}

/// A file from the source, or a note in the report that it has none.
fn fetch_or_note(
    source: &impl Source,
    name: &str,
    since: Option<u64>,
    report: &mut SyncReport,
) -> Result<Option<Vec<u8>>, StationError> {
    let bytes = source.fetch(name, since)?;
    if bytes.is_none() {
        report
            .refused
            .push(format!("{name}: not in {}", source.describe()));
    }
    Ok(bytes)
}

/// What an install changed; a refused file goes into the report instead.
fn note_refusal(
    name: &str,
    result: Result<FileChange, CacheError>,
    report: &mut SyncReport,
) -> Result<Option<FileChange>, StationError> {
    match result {
        Ok(c) => Ok(Some(c)),
        Err(CacheError::Refused(e)) => {
            report.refused.push(format!("{name}: {e}"));
            Ok(None)
        }
        Err(CacheError::Missing { what, hint, .. }) => {
            report.refused.push(format!("{name}: no {what} ({hint})"));
            Ok(None)
        }
        Err(e) => Err(e.into()),
    }
}

fn versions(from: Option<u64>, to: u64) -> String {
    match from {
        None => format!("version {to} (new)"),
        Some(f) if f == to => format!("version {to} (unchanged)"),
        Some(f) => format!("version {f} -> {to}"),
    }
}

impl SyncReport {
    /// One line per file, for stdout.
    pub fn describe(&self) -> String {
        let mut out = String::new();
        if let Some(t) = &self.trust_list {
            let _ = writeln!(
                out,
                "trust list: {}, {} key(s) added{}, {} retired{}",
                versions(t.from_version, t.to_version),
                t.added.len(),
                list(&t.added),
                t.removed.len(),
                list(&t.removed),
            );
        }
        if let Some(r) = &self.revocations {
            let _ = writeln!(
                out,
                "revocations: {}, {} added, {} removed",
                versions(r.from_version, r.to_version),
                r.added,
                r.removed
            );
        }
        if let Some(r) = &self.rules {
            let _ = writeln!(out, "rules: {}", versions(r.from_version, r.to_version));
        }
        out
    }
}

fn list(kids: &[String]) -> String {
    if kids.is_empty() {
        String::new()
    } else {
        format!(" ({})", kids.join(", "))
    }
}

/// A verdict as a person reads it at a glance: VALID / INVALID first.
pub fn render_verdict(v: &Verdict, colour: bool) -> String {
    let (word, paint) = if v.valid {
        ("VALID", "\x1b[1;97;42m")
    } else {
        ("INVALID", "\x1b[1;97;41m")
    };
    let mut out = String::new();
    if colour {
        let _ = writeln!(out, "{paint}  {word}  \x1b[0m");
    } else {
        let _ = writeln!(out, "==== {word} ====");
    }
    if let Some(h) = &v.holder {
        let _ = writeln!(out, "name:          {}", h.name);
        let _ = writeln!(out, "date of birth: {}", h.dob);
    }
    if let Some(k) = v.kind {
        let _ = writeln!(out, "kind:          {k}");
    }
    if v.valid {
        if let Some(u) = v.valid_until {
            let _ = writeln!(out, "valid until:   {}", instant::format(u));
        }
    }
    let _ = writeln!(out, "checked for:   {}", v.profile);
    for r in &v.reasons {
        let _ = writeln!(out, "  - {r}");
    }
    out
}

/// The store's state: anchor fingerprint, and versions and ages of the files.
pub fn status(cache: &Cache, now: i64) -> Result<String, StationError> {
    let mut out = String::new();
    let _ = writeln!(out, "store: {}", cache.dir().display());
    let anchors = cache.anchors()?;
    for a in &anchors {
        let _ = writeln!(out, "anchor: {} ({})", fingerprint(&a.key), a.algorithm);
    }
    let trust = cache.trust_store()?;
    let line = |out: &mut String, name: &str, h: Option<Header>, extra: String| {
        let _ = match h {
            None => writeln!(out, "{name}: none (sync first)"),
            Some(h) => writeln!(
                out,
                "{name}: version {}, issued {} ({} ago), next update {}{}{}",
                h.version,
                instant::format(h.issued_at),
                age(now - h.issued_at),
                instant::format(h.next_update),
                if h.is_stale(now) { " [STALE]" } else { "" },
                extra
            ),
        };
    };
    line(
        &mut out,
        "trust list",
        trust.header(),
        format!(", {} credential key(s)", trust.credential_keys()),
    );
    let revocations = cache.revocations(&trust)?;
    let n = revocations.as_ref().map_or(0, |r| r.len());
    line(
        &mut out,
        "revocations",
        revocations.map(|r| r.header()),
        format!(", {n} entries"),
    );
    let rules = cache.rules(&trust)?;
    let profiles = rules
        .as_ref()
        .map(|(r, _)| {
            r.rules
                .profiles
                .keys()
                .cloned()
                .collect::<Vec<_>>()
                .join(", ")
        })
        .unwrap_or_default();
    line(
        &mut out,
        "rules",
        rules.map(|(r, _)| r.header()),
        format!(", profiles: {profiles}"),
    );
    Ok(out)
}

fn age(secs: i64) -> String {
    let secs = secs.max(0);
    match secs {
        0..=5_399 => format!("{} min", secs / 60),
        5_400..=172_799 => format!("{} h", secs / 3600),
        _ => format!("{} days", secs / 86_400),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wallet_core::samples;

    fn verdict(valid: bool) -> Verdict {
        let cp = samples::checkpoint();
        let c = samples::test();
        let text = wallet_core::issue(
            &c,
            wallet_core::Profile::Native,
            &samples::ed25519_test_key(),
        )
        .unwrap();
        let at = c.issued_at + if valid { 3600 } else { 60 * 3600 };
        let now = time::OffsetDateTime::from_unix_timestamp(at).unwrap();
        wallet_core::check(&text, &cp, "transport", now).unwrap()
    }

    #[test]
    fn a_verdict_reads_at_a_glance() {
        let ok = render_verdict(&verdict(true), false);
        assert!(
            ok.starts_with("==== VALID ====\nname:          Maria-Fernanda"),
            "{ok}"
        );
        assert!(ok.contains("valid until:   2026-03-03T07:30:00Z"), "{ok}");
        let bad = render_verdict(&verdict(false), false);
        assert!(bad.starts_with("==== INVALID ===="), "{bad}");
        assert!(bad.contains("  - test older than 48 h"), "{bad}");
        assert!(!bad.contains("valid until"), "{bad}");
        let coloured = render_verdict(&verdict(true), true);
        assert!(
            coloured.starts_with("\x1b[1;97;42m  VALID  \x1b[0m"),
            "{coloured:?}"
        );
    }

    #[test]
    fn the_anchor_comes_from_a_file_or_text() {
        let pem = samples::anchor_key().public_key().to_pem();
        let from_text = anchor_from_arg(&pem).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("anchor.pem");
        std::fs::write(&path, &pem).unwrap();
        assert_eq!(anchor_from_arg(path.to_str().unwrap()).unwrap(), from_text);
        assert_eq!(
            fingerprint(&from_text),
            hex::encode(samples::anchor_key().kid())
        );
        let e = anchor_from_arg("missing.pem").unwrap_err().to_string();
        assert!(e.starts_with("--anchor: missing.pem"), "{e}");
        assert!(anchor_from_arg("-----BEGIN PUBLIC KEY-----\nxx").is_err());
    }

    #[test]
    fn a_sync_folder_without_some_files_says_which() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::new(dir.path().join("store"));
        cache
            .pin_anchors(&[samples::anchor_key().public_key()])
            .unwrap();
        let usb = dir.path().join("usb");
        std::fs::create_dir_all(&usb).unwrap();
        assert!(sync_from_dir(&cache, &usb)
            .unwrap_err()
            .to_string()
            .contains("trust-list.cose"));
        std::fs::write(
            usb.join(TRUST_LIST),
            samples::trust_list().sign(&samples::anchor_key()),
        )
        .unwrap();
        let report = sync_from_dir(&cache, &usb).unwrap();
        assert!(report
            .describe()
            .starts_with("trust list: version 1 (new), 2 key(s) added"));
        assert_eq!(report.refused.len(), 2, "{:?}", report.refused);
        assert!(report.refused[0].starts_with("revocations.cose: not in"));
        let s = status(&cache, samples::issued_at()).unwrap();
        assert!(
            s.contains("trust list: version 1, issued 2026-02-28T08:00:00Z (24 h ago)"),
            "{s}"
        );
        assert!(s.contains("revocations: none (sync first)"), "{s}");
    }

    #[test]
    fn ages_read_naturally() {
        assert_eq!(age(-5), "0 min");
        assert_eq!(age(600), "10 min");
        assert_eq!(age(7200), "2 h");
        assert_eq!(age(3 * 86_400), "3 days");
    }
}
