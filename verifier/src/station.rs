//! The checkpoint station: where its store of signed files is, and how a
//! verdict and the store's state read to a person. Everything here works
//! with no network; syncing is wallet-core's (`checkpoint::sync`).

use health_cli::args::{data_dir, fingerprint};
use std::fmt::Write as _;
use std::path::PathBuf;
use thiserror::Error;
use wallet_core::checkpoint::cache::{Cache, CacheError};
use wallet_core::checkpoint::check::Verdict;
use wallet_core::credential::instant::{self, Elapsed};
use wallet_core::signed::file::Header;
use wallet_core::text::{escape, Shown};
use wallet_core::TrustStore;

#[derive(Debug, Error)]
pub enum StationError {
    #[error("no data folder: set $XDG_DATA_HOME or $HOME, or pass --store DIR")]
    NoDataDir,
    #[error(transparent)]
    Cache(#[from] CacheError),
}

/// The default store: `$XDG_DATA_HOME/health-verifier`, else
/// `$HOME/.local/share/health-verifier`.
pub fn default_store() -> Result<PathBuf, StationError> {
    data_dir("health-verifier").ok_or(StationError::NoDataDir)
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
        let _ = writeln!(out, "name:          {}", Shown(&h.name));
        if h.dob.is_unknown() {
            let _ = writeln!(out, "date of birth: not given in the code");
        } else {
            let _ = writeln!(out, "date of birth: {}", h.dob);
        }
    }
    if let Some(k) = v.kind {
        let _ = writeln!(out, "kind:          {k}");
    }
    if v.valid {
        if let Some(u) = v.valid_until {
            let _ = writeln!(out, "valid until:   {}", instant::format(u));
        }
    }
    if let Some(by) = &v.signed_by {
        let _ = writeln!(out, "signed by:     {}", Shown(by));
    }
    let _ = writeln!(out, "checked for:   {}", Shown(&v.profile));
    for r in &v.reasons {
        let _ = writeln!(out, "  - {r}");
    }
    out
}

/// The store's state: anchor fingerprint, and versions and ages of the files.
pub fn status(cache: &Cache, now: i64) -> Result<String, StationError> {
    let mut out = String::new();
    let _ = writeln!(out, "store: {}", cache.location().display());
    let anchors = cache.anchor_set()?;
    for a in anchors.keys() {
        let mut how = String::new();
        for h in anchors.applied() {
            if h.next_kid == a.kid {
                how.push_str(&format!(", by hand-over {}", h.sequence));
            }
            if h.anchor == a.kid {
                how.push_str(&format!(
                    ", handed over to {} (dropped at the first sync after {})",
                    hex::encode(&h.next_kid),
                    instant::format(h.from)
                ));
            }
        }
        let _ = writeln!(
            out,
            "anchor: kid {} ({}), fingerprint (SHA-256) {}{how}",
            hex::encode(&a.kid),
            a.algorithm,
            fingerprint(&a.key)
        );
    }
    let trust = cache.trust_store()?;
    let line = |out: &mut String, name: &str, h: Option<Header>, extra: String| {
        file_line(out, name, h, &extra, now)
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
    out.push_str(&foreign_status(cache, &trust, now));
    let shc = trust.shc();
    if !shc.is_empty() {
        let keys: usize = shc.issuers().map(|i| i.keys.len()).sum();
        let source = cache
            .shc_directory_source()?
            .map_or(String::new(), |s| format!(", directory from {s}"));
        let _ = writeln!(
            out,
            "SMART Health Card issuers: {} ({keys} keys){source}",
            shc.len()
        );
    }
    let nzcp = trust.nzcp();
    if !nzcp.is_empty() {
        let keys: usize = nzcp.issuers().map(|i| i.keys.len()).sum();
        let _ = writeln!(out, "NZ COVID Pass issuers: {} ({keys} keys)", nzcp.len());
    }
    let icao = trust.icao();
    if !icao.is_empty() {
        let _ = writeln!(
            out,
            "ICAO CSCAs: {} ({} countries, {} CRLs)",
            icao.cscas().len(),
            icao.countries(),
            icao.crls().len()
        );
    }
    let divoc = trust.divoc();
    if !divoc.is_empty() {
        // Methods were checked for hostile characters on reading.
        let methods: Vec<&str> = divoc.keys().iter().map(|k| k.method.as_str()).collect();
        let _ = writeln!(out, "DIVOC keys: {} ({})", divoc.len(), methods.join(", "));
    }
    Ok(out)
}

/// One held file's line: its version, age, next update (and whether it is
/// stale), then `extra`; or that there is none yet.
fn file_line(out: &mut String, name: &str, h: Option<Header>, extra: &str, now: i64) {
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
}

/// The foreign trust file held and each of its sources, with counts and
/// age; or why the file held adds no key.
pub fn foreign_status(cache: &Cache, trust: &TrustStore, now: i64) -> String {
    let mut out = String::new();
    match cache.foreign_trust(trust) {
        Ok(None) => {}
        Err(e) => {
            let _ = writeln!(
                out,
                "foreign trust: not usable, so none of its keys is trusted ({}); sync again",
                escape(&e.to_string())
            );
        }
        Ok(Some((file, _))) => {
            let sources = format!(", {} source(s)", file.sources.len());
            file_line(
                &mut out,
                "foreign trust",
                Some(file.header()),
                &sources,
                now,
            );
            for s in file.summaries() {
                let issuers = if s.issuers > 0 {
                    format!(" of {} issuer(s)", s.issuers)
                } else {
                    String::new()
                };
                let _ = writeln!(
                    out,
                    "  {} ({}): {} key(s){issuers}, {} skipped, read {} ({} ago) from {}",
                    s.name,
                    s.format,
                    s.keys,
                    s.skipped,
                    instant::format(s.read_at),
                    age(now - s.read_at),
                    escape(&s.origin)
                );
            }
        }
    }
    out
}

fn age(secs: i64) -> String {
    match instant::elapsed(secs) {
        Elapsed::Minutes(n) => format!("{n} min"),
        Elapsed::Hours(n) => format!("{n} h"),
        Elapsed::Days(n) => format!("{n} days"),
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
    fn the_status_names_versions_ages_and_what_is_missing() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::new(dir.path().join("store"));
        assert!(status(&cache, samples::issued_at()).is_err());
        cache
            .pin_anchors(&[samples::anchor_key().public_key()])
            .unwrap();
        cache
            .install_trust_list(&samples::trust_list().sign(&samples::anchor_key()))
            .unwrap();
        let s = status(&cache, samples::issued_at()).unwrap();
        assert!(
            s.contains("trust list: version 1, issued 2026-02-28T08:00:00Z (24 h ago)"),
            "{s}"
        );
        assert!(s.contains(", 2 credential key(s)"), "{s}");
        assert!(s.contains("revocations: none (sync first)"), "{s}");
        let key = samples::anchor_key().public_key();
        assert!(
            s.contains(&format!(
                "anchor: kid {} (EdDSA), fingerprint (SHA-256) {}",
                hex::encode(samples::anchor_key().kid()),
                fingerprint(&key)
            )),
            "{s}"
        );
    }

    #[test]
    fn ages_read_naturally() {
        assert_eq!(age(-5), "0 min");
        assert_eq!(age(600), "10 min");
        assert_eq!(age(7200), "2 h");
        assert_eq!(age(3 * 86_400), "3 days");
    }
}
