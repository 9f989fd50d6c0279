//! The consistency check (`issuer check`): reads the database and the data
//! folder's pinned anchor, changes nothing, and says whether what is stored
//! holds together, as it must after any crash:
//!
//! - the anchor hand-overs follow from the pinned anchor;
//! - every trust list opens with the anchors, each version after the last
//!   (never older, never a different list under one version number);
//! - every other signed file opens with a key a stored trust list lets sign
//!   it, and versions never go backwards in time;
//! - signing keys: each kid matches its key, at most one key of an
//!   algorithm is current on each node, and the key a published list holds
//!   for signing now, if it is this folder's node's, has its private key
//!   in this folder;
//! - every credential decodes, is signed by the stored key its row names,
//!   that key is in some published trust list, and its expiry is the row's;
//! - one credential per (lab, sample id) and per retrieval code, no
//!   retrieval mark or revocation pointing at nothing;
//! - the latest revocation list holds every stored revocation.

use super::folder::{read_anchor_public, FolderConfig, CONFIG_FILE};
use super::keys::{alg_of, listed};
use super::IssuerError;
use crate::store::{KeyRow, Store};
use std::collections::{BTreeMap, HashSet};
use std::path::Path;
use wallet_core::signed::file::FileType;
use wallet_core::signed::handover::AnchorSet;
use wallet_core::signed::revocation::{EntryKind, RevocationList};
use wallet_core::{KeySet, TrustStore};

/// At most this many problems are named per check (all are counted).
const NAMED: usize = 20;
/// Credentials read at a time.
const PAGE: u32 = 5_000;

/// One check: what it covered and what it found wrong.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Finding {
    pub check: &'static str,
    /// How many things (rows, files) were checked.
    pub checked: u64,
    /// How many were wrong, and the first 20 of them.
    pub failed: u64,
    pub problems: Vec<String>,
}

impl Finding {
    fn new(check: &'static str) -> Finding {
        Finding {
            check,
            checked: 0,
            failed: 0,
            problems: Vec::new(),
        }
    }

    fn fail(&mut self, why: impl Into<String>) {
        self.failed += 1;
        if self.problems.len() < NAMED {
            self.problems.push(why.into());
        }
    }
}

/// Every check's finding, in order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CheckReport {
    pub findings: Vec<Finding>,
}

impl CheckReport {
    /// True when no check found anything wrong.
    pub fn consistent(&self) -> bool {
        self.findings.iter().all(|f| f.failed == 0)
    }
}

/// Checks the store against the anchor pinned in `data` (see the module).
pub async fn check_store(store: &Store, data: &Path, now: i64) -> Result<CheckReport, IssuerError> {
    let mut findings = Vec::new();

    // Anchors.
    let mut anchors = AnchorSet::new(vec![read_anchor_public(data)?]);
    let mut f = Finding::new("anchor hand-overs");
    let statements: Vec<Vec<u8>> = store
        .handovers()
        .await?
        .into_iter()
        .map(|(_, b)| b)
        .collect();
    f.checked = statements.len() as u64;
    if let Err(e) = anchors.apply(&statements) {
        f.fail(format!(
            "the stored chain does not follow from anchor.pem: {e}"
        ));
    }
    findings.push(f);

    // Signed files, each type in version order.
    let mut by_file: BTreeMap<String, Vec<_>> = BTreeMap::new();
    for (name, file) in store.all_files().await? {
        by_file.entry(name).or_default().push(file);
    }
    let mut lists = Finding::new("trust lists");
    let mut trust = TrustStore::with_anchors(anchors.clone());
    let mut stores: Vec<TrustStore> = Vec::new();
    let mut ever_listed: HashSet<String> = HashSet::new();
    for file in by_file
        .remove(FileType::TrustList.name())
        .unwrap_or_default()
    {
        lists.checked += 1;
        match trust.install(&file.body) {
            Ok(_) => {
                let Some(list) = trust.list() else { continue };
                if list.version != file.version {
                    lists.fail(format!(
                        "the row says version {} but the list is version {}",
                        file.version, list.version
                    ));
                }
                if let Some(before) = stores.last().and_then(|s| s.list()) {
                    if list.issued_at < before.issued_at {
                        lists.fail(format!(
                            "version {} was issued before version {}",
                            file.version, before.version
                        ));
                    }
                }
                ever_listed.extend(list.keys.iter().map(|k| hex::encode(&k.key.kid)));
                stores.push(trust.clone());
            }
            Err(e) => lists.fail(format!("version {}: {e}", file.version)),
        }
    }
    findings.push(lists);

    let mut others = Finding::new("other signed files");
    let mut latest_revocations = None;
    for (name, files) in &by_file {
        let Some(kind) = FileType::from_name(name) else {
            others.fail(format!("a file named {name:?}, which no verifier reads"));
            continue;
        };
        let mut last: Option<(u64, i64)> = None;
        for file in files {
            others.checked += 1;
            let opened = stores
                .iter()
                .rev()
                .find_map(|s| s.open_file(&file.body, kind).ok());
            let Some(opened) = opened else {
                others.fail(format!(
                    "{name} version {}: no stored trust list lets its signer sign it",
                    file.version
                ));
                continue;
            };
            if opened.header.version != file.version {
                others.fail(format!(
                    "{name}: the row says version {} but the file is version {}",
                    file.version, opened.header.version
                ));
            }
            if let Some((v, at)) = last {
                if file.issued_at < at {
                    others.fail(format!(
                        "{name} version {} was issued before version {v}",
                        file.version
                    ));
                }
            }
            last = Some((file.version, file.issued_at));
            if kind == FileType::Revocations {
                latest_revocations = Some(file);
            }
        }
    }
    findings.push(others);

    // Signing keys.
    let keys = store.keys().await?;
    let mut k = Finding::new("signing keys");
    let mut key_set = KeySet::new();
    // At most one current key per algorithm on each node.
    let mut current: BTreeMap<(&str, &str), Vec<&str>> = BTreeMap::new();
    for row in &keys {
        k.checked += 1;
        match listed(row) {
            Ok(l) => key_set.insert(l.key),
            Err(e) => k.fail(e.to_string()),
        }
        if alg_of(&row.alg).is_none() {
            k.fail(format!("{}: algorithm {:?}", row.kid, row.alg));
        }
        if row.retired_at.is_none() {
            current
                .entry((&row.node, &row.alg))
                .or_default()
                .push(&row.kid);
        }
    }
    for ((node, alg), kids) in &current {
        if kids.len() > 1 {
            let on = if node.is_empty() {
                String::new()
            } else {
                format!(" on node {node}")
            };
            k.fail(format!(
                "{} {alg} keys are current{on} ({}): a rotation retires the others",
                kids.len(),
                kids.join(", ")
            ));
        }
    }
    if let Some(list) = stores.last().and_then(|s| s.list()) {
        let in_list: HashSet<String> = list.keys.iter().map(|k| hex::encode(&k.key.kid)).collect();
        // This folder's node (keys recorded before nodes have none): the
        // other nodes' private keys are in their folders.
        let node = if data.join(CONFIG_FILE).exists() {
            Some(FolderConfig::load(data)?.node)
        } else {
            None
        };
        let here = |row: &&KeyRow| row.node.is_empty() || Some(&row.node) == node.as_ref();
        for row in signing_now(&keys, &in_list, now).filter(here) {
            if !data.join(&row.key_file).exists() {
                k.fail(format!(
                    "{}: the published trust list holds it for signing now, but its private key {} is not in {}",
                    row.kid,
                    row.key_file,
                    data.display()
                ));
            }
        }
    }
    findings.push(k);

    // Credentials.
    let mut c = Finding::new("credentials");
    let mut after = String::new();
    loop {
        let page = store.credentials_after(&after, PAGE).await?;
        let Some(last) = page.last() else { break };
        after = last.id.clone();
        for row in &page {
            c.checked += 1;
            let name = format!("{} ({} {})", row.id, row.lab, row.sample_id);
            let decoded = match wallet_core::decode(&row.payload) {
                Ok(d) => d,
                Err(e) => {
                    c.fail(format!("{name}: the payload does not decode: {e}"));
                    continue;
                }
            };
            let kid = decoded.cose.kid().map(hex::encode).unwrap_or_default();
            if kid != row.kid {
                c.fail(format!(
                    "{name}: signed with kid {kid:?}, the row says {}",
                    row.kid
                ));
                continue;
            }
            if !ever_listed.contains(&kid) {
                c.fail(format!(
                    "{name}: signed by {kid}, which no published trust list holds"
                ));
            }
            if let Err(e) = wallet_core::verify::check_signature(&decoded.cose, &key_set) {
                c.fail(format!("{name}: the signature does not verify: {e}"));
            }
            if decoded.claims.exp.is_some_and(|exp| exp != row.expires_at) {
                c.fail(format!(
                    "{name}: expires at {:?}, the row says {}",
                    decoded.claims.exp, row.expires_at
                ));
            }
            if row.expires_at < row.issued_at || row.kind.is_empty() {
                c.fail(format!(
                    "{name}: kind {:?}, issued {} after expiry {}",
                    row.kind, row.issued_at, row.expires_at
                ));
            }
        }
    }
    findings.push(c);

    // Rows across tables.
    let counts = store.row_counts().await?;
    let mut r = Finding::new("one credential per sample and code");
    r.checked = counts.credentials;
    for (n, what) in [
        (
            counts.repeated_samples,
            "(lab, sample id) pairs held by more than one credential",
        ),
        (
            counts.repeated_codes,
            "retrieval codes held by more than one credential",
        ),
        (
            counts.orphan_retrievals,
            "retrieval marks for a code no credential has",
        ),
        (
            counts.orphan_revocations,
            "revocations of a credential that is not stored",
        ),
    ] {
        if n > 0 {
            r.failed += n - 1;
            r.fail(format!("{n} {what}"));
        }
    }
    findings.push(r);

    // Revocations published.
    let mut v = Finding::new("revocations published");
    let entries = store.revocations().await?;
    v.checked = entries.len() as u64;
    let list = match (latest_revocations, stores.last()) {
        (Some(file), Some(trust)) => match RevocationList::open(&file.body, trust) {
            Ok(l) => Some(l),
            Err(e) => {
                v.fail(format!("the latest revocation list does not open: {e}"));
                None
            }
        },
        _ => None,
    };
    for e in &entries {
        let held = list
            .as_ref()
            .is_some_and(|l| e.version <= l.version && l.contains(e.kind, &e.entry));
        if !held {
            v.fail(format!(
                "{} {} (version {}) is stored but not in the latest published revocation list{}",
                match e.kind {
                    EntryKind::Id => "id",
                    EntryKind::Signature => "signature",
                },
                hex::encode(e.entry),
                e.version,
                list.as_ref()
                    .map(|l| format!(" (version {})", l.version))
                    .unwrap_or_default()
            ));
        }
    }
    findings.push(v);

    Ok(CheckReport { findings })
}

/// The keys a signer could choose at `now` from a list holding `in_list`.
fn signing_now<'k>(
    keys: &'k [KeyRow],
    in_list: &'k HashSet<String>,
    now: i64,
) -> impl Iterator<Item = &'k KeyRow> {
    keys.iter().filter(move |k| {
        in_list.contains(&k.kid)
            && k.use_from <= now
            && k.not_after > now
            && k.retired_at.is_none_or(|r| r > now)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::service::revoke::RevokeTarget;
    use crate::service::{init_data, Issuer, Submission, SubmissionJson};
    use crate::store::SQLITE_FILE;
    use sqlx::Connection;
    use wallet_core::{samples, Algorithm, Profile};

    const NOW: i64 = 1_795_000_000;

    fn submission(sample: &str, n: u8) -> Submission {
        let json = serde_json::json!({
            "sample_id": sample,
            "kind": "test",
            "holder": {"name": "Li Hua", "dob": "1990-05-01"},
            "test": {"test_type": "naat", "result": "negative", "sampled_at": "2026-11-18T08:00:00Z"}
        });
        SubmissionJson::parse(&json.to_string(), NOW, [n; 16]).unwrap()
    }

    async fn sql(data: &Path, statement: &str) {
        let url = format!("sqlite://{}", data.join(SQLITE_FILE).display());
        let mut conn = sqlx::AnyConnection::connect(&url).await.unwrap();
        sqlx::query(statement).execute(&mut conn).await.unwrap();
        conn.close().await.unwrap();
    }

    /// The names of the checks that failed, each with its first problem.
    async fn failures(issuer: &Issuer, data: &Path) -> Vec<(&'static str, String)> {
        let report = check_store(&issuer.store, data, NOW + 10).await.unwrap();
        report
            .findings
            .iter()
            .filter(|f| f.failed > 0)
            .map(|f| (f.check, f.problems.first().cloned().unwrap_or_default()))
            .collect()
    }

    /// An issuer that issued, revoked and re-signed is consistent; each
    /// kind of damage a crash or a hand could do is then found and named.
    #[tokio::test]
    async fn a_working_issuer_is_consistent_and_each_damage_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("issuer-data");
        init_data(&data).unwrap();
        let issuer = Issuer::open(&data, None, NOW).await.unwrap();
        let mut ids = Vec::new();
        for i in 0..3 {
            let s = submission(&format!("S-{i}"), i);
            ids.push(
                issuer
                    .issue("lab-a", &s, Algorithm::EdDsa, NOW)
                    .await
                    .unwrap()
                    .id,
            );
        }
        issuer
            .revoke(&[RevokeTarget::Id(ids[0].clone())], "test", NOW + 1)
            .await
            .unwrap();
        let report = check_store(&issuer.store, &data, NOW + 10).await.unwrap();
        assert!(report.consistent(), "{report:#?}");
        let counted = |name| {
            report
                .findings
                .iter()
                .find(|f| f.check == name)
                .unwrap()
                .checked
        };
        assert_eq!(counted("credentials"), 3);
        assert!(counted("trust lists") >= 1 && counted("revocations published") >= 2);

        // A credential whose payload another key signed.
        let foreign = wallet_core::issue(
            &samples::test(),
            Profile::Native,
            &samples::ed25519_test_key(),
        )
        .unwrap();
        sql(
            &data,
            &format!(
                "UPDATE credentials SET payload = '{foreign}' WHERE id = '{}'",
                ids[1]
            ),
        )
        .await;
        let found = failures(&issuer, &data).await;
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].0, "credentials");
        assert!(
            found[0].1.contains(&ids[1]) && found[0].1.contains("the row says"),
            "{found:?}"
        );
        sql(
            &data,
            &format!("DELETE FROM credentials WHERE id = '{}'", ids[1]),
        )
        .await;

        // A rotation that stopped after adding its key, before retiring the old.
        sql(&data, "INSERT INTO signing_keys SELECT 'ab' || kid, alg, public_key, key_file, label, country, uses, created_at, use_from, retired_at, not_after, node FROM signing_keys").await;
        let found = failures(&issuer, &data).await;
        assert_eq!(
            found.iter().map(|f| f.0).collect::<Vec<_>>(),
            ["signing keys"]
        );
        assert!(found[0].1.contains("does not match"), "{found:?}");
        sql(
            &data,
            "DELETE FROM signing_keys WHERE kid LIKE 'ab%' AND length(kid) > 16",
        )
        .await;

        // A revocation stored without the list that publishes it, and a
        // retrieval mark for a code nobody has.
        sql(&data, "INSERT INTO revocations VALUES ('id', '00112233445566778899aabbccddeeff', 99, NULL, 'x', 0)").await;
        sql(&data, "INSERT INTO retrievals VALUES (12345, 0)").await;
        let found = failures(&issuer, &data).await;
        let names: Vec<_> = found.iter().map(|f| f.0).collect();
        assert_eq!(
            names,
            [
                "one credential per sample and code",
                "revocations published"
            ],
            "{found:?}"
        );
        assert!(
            found[1].1.contains("00112233445566778899aabbccddeeff"),
            "{found:?}"
        );
        sql(&data, "DELETE FROM revocations WHERE version = 99").await;
        sql(&data, "DELETE FROM retrievals WHERE code_key = 12345").await;

        // A newer version of a file dated before the one it follows.
        sql(&data, "INSERT INTO signed_files SELECT file, version + 100, issued_at - 5000, next_update, body FROM signed_files WHERE file = 'rules'").await;
        let found = failures(&issuer, &data).await;
        assert_eq!(
            found.iter().map(|f| f.0).collect::<Vec<_>>(),
            ["other signed files"],
            "{found:?}"
        );
        sql(&data, "DELETE FROM signed_files WHERE version > 100").await;

        // A trust list row whose body is an older list.
        sql(&data, "UPDATE signed_files SET body = (SELECT body FROM signed_files WHERE file = 'rules' LIMIT 1) WHERE file = 'trust-list'").await;
        let found = failures(&issuer, &data).await;
        assert!(found.iter().any(|f| f.0 == "trust lists"), "{found:?}");
    }
}
