use super::*;
use crate::samples;
use crate::signed::revocation::{id_entry, RevocationList};
use crate::storage::Memory;
use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::Arc;

/// The clock of these syncs: the sample files are current then.
const NOW: i64 = 1_780_000_000;

/// What a browser's source does: files in memory, answering a revocations
/// request from an older version with a delta, and remembering what it was
/// asked for.
#[derive(Default)]
struct Centre {
    files: HashMap<Published, Vec<u8>>,
    /// Deltas by the version they start from.
    deltas: HashMap<u64, Vec<u8>>,
    asked: RefCell<Vec<(Published, Option<u64>)>>,
}

impl Source for Centre {
    fn fetch(&self, file: Published, since: Option<u64>) -> Result<Option<Vec<u8>>, SourceError> {
        self.asked.borrow_mut().push((file, since));
        if file == Published::Revocations {
            if let Some(d) = since.and_then(|v| self.deltas.get(&v)) {
                return Ok(Some(d.clone()));
            }
        }
        Ok(self.files.get(&file).cloned())
    }
    fn describe(&self) -> String {
        "memory".into()
    }
    fn locate(&self, file: Published) -> String {
        format!("memory/{file}")
    }
}

fn pinned() -> (Arc<Memory>, Cache) {
    let store = Arc::new(Memory::new());
    let cache = Cache::on(store.clone());
    cache
        .pin_anchors(&[samples::anchor_key().public_key()])
        .unwrap();
    (store, cache)
}

fn revocations(version: u64, ids: &[&str]) -> RevocationList {
    RevocationList::new(
        version,
        samples::published_at() + version as i64,
        samples::published_at() + 86_400,
        ids.iter().map(|id| id_entry(id)).collect(),
        Vec::new(),
    )
}

fn source() -> Centre {
    let anchor = samples::anchor_key();
    let mut s = Centre::default();
    s.files
        .insert(Published::TrustList, samples::trust_list().sign(&anchor));
    s.files
        .insert(Published::Revocations, revocations(1, &[]).sign(&anchor));
    s.files
        .insert(Published::Rules, samples::rule_set().sign(&anchor).unwrap());
    s
}

#[test]
fn a_first_sync_installs_everything_and_a_second_changes_nothing() {
    let (store, cache) = pinned();
    let src = source();
    let report = sync(&cache, &src, NOW).unwrap();
    assert!(report.refused.is_empty(), "{:?}", report.refused);
    assert_eq!(
        report.describe(),
        format!(
            "trust list: version 1 (new), 2 key(s) added ({}), 0 retired\n\
             revocations: version 1 (new), 0 added, 0 removed\n\
             rules: version 1 (new)\n\
             received {} bytes\n",
            samples::trust_list()
                .keys
                .iter()
                .map(|k| hex::encode(&k.key.kid))
                .collect::<Vec<_>>()
                .join(", "),
            report.received
        )
    );
    // Stored exactly as received (the revocations with their state).
    let held = store.files();
    assert_eq!(held["trust-list.cose"], src.files[&Published::TrustList]);
    assert_eq!(held["rules.cose"], src.files[&Published::Rules]);
    assert!(cache.load().is_ok());

    let again = sync(&cache, &src, NOW).unwrap();
    assert!(again
        .describe()
        .contains("trust list: version 1 (unchanged)"));
    assert!(again
        .describe()
        .contains("revocations: version 1 (unchanged)"));
    // The second sync asked for revocations from the version held.
    assert!(src
        .asked
        .borrow()
        .contains(&(Published::Revocations, Some(1))));
}

#[test]
fn the_plan_asks_for_what_sync_will_and_names_the_version_held() {
    let (_store, cache) = pinned();
    let first = plan(&cache).unwrap();
    assert_eq!(
        first,
        [
            (Published::TrustList, None),
            (Published::Revocations, None),
            (Published::Rules, None),
            (Published::ForeignTrust, None)
        ]
    );
    let src = source();
    sync(&cache, &src, NOW).unwrap();
    assert_eq!(plan(&cache).unwrap()[1], (Published::Revocations, Some(1)));
    // What sync asked for, the second time, is the plan.
    sync(&cache, &src, NOW).unwrap();
    let asked = src.asked.borrow();
    assert_eq!(asked[asked.len() - 4..], plan(&cache).unwrap()[..]);
}

#[test]
fn a_delta_is_asked_for_and_applied() {
    let (_store, cache) = pinned();
    let mut src = source();
    sync(&cache, &src, NOW).unwrap();
    let anchor = samples::anchor_key();
    let v1 = revocations(1, &[]);
    let v2 = revocations(2, &["a", "b"]);
    src.deltas.insert(1, v1.delta_to(&v2).sign(&anchor));
    let report = sync(&cache, &src, NOW).unwrap();
    assert!(
        report
            .describe()
            .contains("revocations: version 1 -> 2, 2 added, 0 removed"),
        "{}",
        report.describe()
    );
    assert_eq!(cache.load().unwrap().revocations, v2);
}

#[test]
fn a_refused_file_keeps_the_copy_held_and_is_named() {
    let (store, cache) = pinned();
    let mut src = source();
    sync(&cache, &src, NOW).unwrap();
    let before = store.files();
    let rogue = crate::keys::SigningKey::ed25519_from_seed(&[0x99; 32]);
    src.files
        .insert(Published::Rules, samples::rule_set().sign(&rogue).unwrap());
    src.files.insert(
        Published::Revocations,
        revocations(0, &[]).sign(&samples::anchor_key()),
    );
    let report = sync(&cache, &src, NOW).unwrap();
    let refused: Vec<String> = report.refused.iter().map(ToString::to_string).collect();
    assert_eq!(refused.len(), 2, "{refused:?}");
    assert!(
        refused[0].starts_with("revocations.cose: revocations version 0 is older"),
        "{refused:?}"
    );
    assert!(
        refused[1].starts_with("rules.cose: rules is signed by unknown key"),
        "{refused:?}"
    );
    assert_eq!(store.files(), before);
}

#[test]
fn a_source_without_the_trust_list_stops_the_sync() {
    let (store, cache) = pinned();
    let mut src = source();
    src.files.remove(&Published::TrustList);
    let e = sync(&cache, &src, NOW).unwrap_err();
    assert_eq!(
        e.to_string(),
        "memory/trust-list.cose: not found: a sync source must have the trust list"
    );
    assert_eq!(store.files().len(), 1, "only the pinned anchor");
}

#[test]
fn a_sync_folder_without_some_files_says_which() {
    let dir = tempfile::tempdir().unwrap();
    let cache = Cache::new(dir.path().join("store"));
    cache
        .pin_anchors(&[samples::anchor_key().public_key()])
        .unwrap();
    let usb = dir.path().join("usb");
    let source = DirSource(usb.clone());
    let e = sync(&cache, &source, NOW).unwrap_err().to_string();
    assert_eq!(e, format!("{}: no such folder", usb.display()));
    std::fs::create_dir_all(&usb).unwrap();
    assert!(sync(&cache, &source, NOW)
        .unwrap_err()
        .to_string()
        .contains("trust-list.cose"));
    std::fs::write(
        usb.join(Published::TrustList.file_name()),
        samples::trust_list().sign(&samples::anchor_key()),
    )
    .unwrap();
    let report = sync(&cache, &source, NOW).unwrap();
    assert!(report
        .describe()
        .starts_with("trust list: version 1 (new), 2 key(s) added"));
    let refused: Vec<String> = report.refused.iter().map(ToString::to_string).collect();
    assert_eq!(
        refused,
        [
            format!("revocations.cose: not in {}", usb.display()),
            format!("rules.cose: not in {}", usb.display())
        ]
    );
}

#[test]
fn a_folder_file_too_large_to_be_signed_is_not_read() {
    let dir = tempfile::tempdir().unwrap();
    let f = std::fs::File::create(dir.path().join("rules.cose")).unwrap();
    // Sparse: nothing near this size is written to the disk.
    f.set_len(MAX_SIGNED_FILE as u64 + 1).unwrap();
    let e = DirSource(dir.path().to_path_buf())
        .fetch(Published::Rules, None)
        .unwrap_err();
    assert!(
        e.to_string()
            .ends_with("rules.cose: larger than 83886080 bytes"),
        "{e}"
    );
}

#[test]
fn every_published_file_has_a_name_and_an_api_path() {
    for (file, name, path) in [
        (Published::TrustList, "trust-list.cose", "v1/trust-list"),
        (Published::Revocations, "revocations.cose", "v1/revocations"),
        (Published::Rules, "rules.cose", "v1/rules"),
        (Published::Exposures, "exposures.cose", "v1/exposures"),
    ] {
        assert_eq!((file.file_name(), file.api_path()), (name, path));
        assert_eq!(file.to_string(), name);
    }
}

/// An issuer over HTTP as far as conditional requests go: each file's ETag
/// is a hash of its bytes, `If-None-Match` with it answers "unchanged", and
/// so does a revocations request from the current version.
struct Conditional(Centre);

fn tag(bytes: &[u8]) -> String {
    use sha2::Digest;
    format!("\"{}\"", hex::encode(&sha2::Sha256::digest(bytes)[..8]))
}

impl Source for Conditional {
    fn fetch(&self, file: Published, since: Option<u64>) -> Result<Option<Vec<u8>>, SourceError> {
        self.0.fetch(file, since)
    }
    fn fetch_if_changed(
        &self,
        file: Published,
        since: Option<u64>,
        etag: Option<&str>,
    ) -> Result<Fetched, SourceError> {
        let Some(full) = self.0.files.get(&file).cloned() else {
            return Ok(Fetched::Missing);
        };
        if file == Published::Revocations && etag.is_some() {
            let version = RevocationList::open(&full, &samples::checkpoint().trust)
                .map(|l| l.version)
                .ok();
            if since.is_some() && since == version {
                return Ok(Fetched::Unchanged);
            }
        }
        if etag == Some(tag(&full).as_str()) {
            return Ok(Fetched::Unchanged);
        }
        let bytes = self.0.fetch(file, since)?.unwrap_or_default();
        let etag = Some(tag(&bytes));
        Ok(Fetched::Body { bytes, etag })
    }
    fn describe(&self) -> String {
        "conditional".into()
    }
    fn locate(&self, file: Published) -> String {
        format!("conditional/{file}")
    }
}

#[test]
fn an_unchanged_source_sends_nothing_and_the_etags_follow_the_files_held() {
    let (store, cache) = pinned();
    let src = Conditional(source());
    let first = sync(&cache, &src, NOW).unwrap();
    assert!(first.not_modified.is_empty());
    assert!(first.received > 0);
    let held_etags = String::from_utf8(store.files()["etags.txt"].clone()).unwrap();
    assert_eq!(held_etags.lines().count(), 3, "{held_etags}");
    let again = sync(&cache, &src, NOW).unwrap();
    assert_eq!(
        again.not_modified,
        [
            Published::TrustList,
            Published::Revocations,
            Published::Rules
        ]
    );
    assert_eq!(again.received, 0);
    assert!(again.describe().contains("rules: not modified"));
    assert!(again.refused.is_empty());
    // A refused file keeps the ETag of the copy held, so the next sync asks
    // again rather than taking the refused one as current.
    let mut changed = source();
    changed
        .files
        .insert(Published::Rules, b"not a signed file".to_vec());
    let third = sync(&cache, &Conditional(changed), NOW).unwrap();
    assert_eq!(third.refused.len(), 1, "{:?}", third.refused);
    assert_eq!(
        String::from_utf8(store.files()["etags.txt"].clone()).unwrap(),
        held_etags
    );
}

#[test]
fn a_file_damaged_on_disk_is_downloaded_again_despite_its_etag() {
    use crate::checkpoint::cache::{RULES_FILE, TRUST_LIST_FILE};
    let (store, cache) = pinned();
    let src = Conditional(source());
    sync(&cache, &src, NOW).unwrap();
    for name in [RULES_FILE, TRUST_LIST_FILE] {
        store.write(name, b"damaged").unwrap();
        let report = sync(&cache, &src, NOW).unwrap();
        assert!(report.refused.is_empty(), "{name}: {:?}", report.refused);
        assert!(report.received > 0, "{name}: {}", report.describe());
        assert!(cache.load().is_ok(), "{name}");
        let again = sync(&cache, &src, NOW).unwrap();
        assert_eq!(again.received, 0, "{name}");
    }
}

/// The centre after its anchor handed over: every file at `version`,
/// signed by `by`, the trust list carrying `chain`.
fn rotated(version: u64, by: &crate::keys::SigningKey, chain: Vec<Vec<u8>>) -> Centre {
    let mut list = samples::trust_list();
    list.version = version;
    list.handovers = chain;
    let mut rules = samples::rule_set();
    rules.version = version;
    let mut s = Centre::default();
    s.files.insert(Published::TrustList, list.sign(by));
    s.files
        .insert(Published::Revocations, revocations(version, &[]).sign(by));
    s.files.insert(Published::Rules, rules.sign(by).unwrap());
    s
}

#[test]
fn a_device_syncs_across_two_anchor_rotations_untouched() {
    use crate::checkpoint::cache::{ANCHORS_FILE, TRUST_LIST_FILE};
    use crate::signed::handover::Handover;
    let (store, cache) = pinned();
    sync(&cache, &source(), NOW).unwrap();
    let (a, b, c) = (
        samples::anchor_key(),
        samples::next_anchor_key(0),
        samples::next_anchor_key(1),
    );
    let (t1, t2) = (NOW + 10, NOW + 20);
    let h1 = Handover::sign(1, t1, &a, &b.public_key(), t1)
        .unwrap()
        .bytes;
    let h2 = Handover::sign(2, t2, &b, &c.public_key(), t2)
        .unwrap()
        .bytes;
    let kids = |ks: &[&crate::keys::SigningKey]| -> Vec<String> {
        ks.iter().map(|k| hex::encode(k.kid())).collect()
    };
    let held = |cache: &Cache| -> Vec<String> {
        cache
            .anchors()
            .unwrap()
            .iter()
            .map(|k| hex::encode(&k.kid))
            .collect()
    };

    // A list signed by the next anchor arrives, carrying the hand-over.
    let report = sync(&cache, &rotated(2, &b, vec![h1.clone()]), t1 + 1).unwrap();
    assert!(report.refused.is_empty(), "{:?}", report.refused);
    assert_eq!(report.trust_list.unwrap().anchors_pinned, kids(&[&b]));
    assert_eq!(report.anchors_dropped, kids(&[&a]));
    assert_eq!(held(&cache), kids(&[&b]));
    let text = String::from_utf8(store.read(ANCHORS_FILE, 1 << 20).unwrap().unwrap()).unwrap();
    assert!(text.contains("-----BEGIN ANCHOR HANDOVER-----"), "{text}");
    assert_eq!(cache.load().unwrap().trust.list().unwrap().version, 2);

    // The second, synced before its stated time: both held until then.
    let report = sync(&cache, &rotated(3, &c, vec![h1.clone(), h2.clone()]), t2).unwrap();
    assert!(report.refused.is_empty(), "{:?}", report.refused);
    assert!(report.anchors_dropped.is_empty());
    assert_eq!(held(&cache), kids(&[&b, &c]));
    let report = sync(
        &cache,
        &rotated(3, &c, vec![h1.clone(), h2.clone()]),
        t2 + 1,
    )
    .unwrap();
    assert_eq!(report.anchors_dropped, kids(&[&b]));
    assert_eq!(held(&cache), kids(&[&c]));

    // A newer list signed by an anchor that handed over: refused, kept.
    let report = sync(&cache, &rotated(9, &a, vec![]), t2 + 2).unwrap();
    assert!(report
        .refused
        .iter()
        .any(|r| r.file == Published::TrustList && r.to_string().contains("unknown key")));
    assert_eq!(cache.load().unwrap().trust.list().unwrap().version, 3);

    // A list written before its hand-over was (a store restored from a
    // copy): the chain it carries is followed on loading it.
    let (store, cache) = pinned();
    store
        .write(
            TRUST_LIST_FILE,
            &rotated(3, &c, vec![h1, h2]).files[&Published::TrustList],
        )
        .unwrap();
    assert_eq!(cache.trust_store().unwrap().list().unwrap().version, 3);
}

#[test]
fn a_foreign_trust_file_is_installed_when_the_source_has_one_and_refused_when_forged() {
    use crate::signed::foreign::ForeignTrust;
    let file = |version: u64| ForeignTrust {
        version,
        issued_at: samples::published_at(),
        next_update: samples::published_at() + 7 * 86_400,
        sources: Vec::new(),
    };
    let (_store, cache) = pinned();
    let mut src = source();
    src.files.insert(
        Published::ForeignTrust,
        file(1).sign(&samples::anchor_key()).unwrap(),
    );
    let report = sync(&cache, &src, NOW).unwrap();
    assert!(report.refused.is_empty(), "{:?}", report.refused);
    assert!(
        report.describe().contains("foreign trust: version 1 (new)"),
        "{}",
        report.describe()
    );
    let trust = cache.trust_store().unwrap();
    assert_eq!(cache.foreign_trust(&trust).unwrap().unwrap().0.version, 1);
    // Version 2 signed by a key not listed for it: refused and named, the
    // copy held stays, and the other files still install.
    src.files.insert(
        Published::ForeignTrust,
        file(2).sign(&samples::ed25519_test_key()).unwrap(),
    );
    let report = sync(&cache, &src, NOW).unwrap();
    assert_eq!(report.refused.len(), 1, "{:?}", report.refused);
    assert_eq!(report.refused[0].file, Published::ForeignTrust);
    assert!(report.refused[0].to_string().contains("may not sign"));
    assert!(report.rules.is_some());
    let trust = cache.trust_store().unwrap();
    assert_eq!(cache.foreign_trust(&trust).unwrap().unwrap().0.version, 1);
}
