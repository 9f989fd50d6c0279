//! The citizen's wallet: credentials kept on the device, per member (the
//! owner, a child, an elderly parent), shown with no network.
//!
//! A wallet is a [`Storage`] (a folder on disk, or memory a browser saves)
//! with one JSON file per member, `members/<name>.json`:
//!
//! ```json
//! {"format": 1, "member": "me",
//!  "credentials": [{"payload": "HCN1:…", "added_at": "2026-03-01T09:00:00Z"}]}
//! ```
//!
//! Only the payload text is stored: everything shown is decoded from it, so
//! the file cannot disagree with the signed code. Files are replaced
//! atomically; a file that cannot be read is reported and never rewritten.

use super::files::{read_json, write_json, WalletError};
use super::visits::VisitLog;
use crate::checkpoint::check::{
    check_decoded, check_icao, check_nzcp, check_shc, format_of, Checkpoint, CodeFormat, Verdict,
};
use crate::credential::{instant, Credential, CredentialKind};
use crate::icao;
use crate::nzcp;
use crate::shc;
use crate::storage::{Folder, Storage};
use crate::verify::reason::Fault;
use crate::verify::{decode, verify_decoded_with, Decoded, Reason, Verification};
use serde::{Deserialize, Serialize};
use std::path::PathBuf;
use std::sync::Arc;
use time::OffsetDateTime;

/// The member a wallet holds when none is named.
pub const DEFAULT_MEMBER: &str = "me";
/// The folder of the members' files.
const MEMBERS_DIR: &str = "members";
/// Most credentials one member may hold.
pub const MAX_CREDENTIALS: usize = 200;
const FORMAT: u32 = 1;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Stored {
    payload: String,
    #[serde(with = "instant")]
    added_at: i64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct MemberFile {
    format: u32,
    member: String,
    credentials: Vec<Stored>,
}

/// What adding a credential found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Added {
    pub id: String,
    pub kind: CredentialKind,
    /// Checked against the synced trust list, if there was one.
    pub verified: bool,
    /// Why it is not valid right now (expired, not yet valid, revoked …).
    pub reasons: Vec<Reason>,
}

/// How a held credential stands at `now`: the verdict a checkpoint of the
/// holder's profile would give, so "valid until" and "expires soon" agree
/// with the gate. Only a code whose signature was checked against the
/// pinned anchor's keys and the synced files is ever [`Status::Valid`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "status", rename_all = "kebab-case")]
pub enum Status {
    /// Not checked: the wallet has no pinned anchor and synced files to
    /// check it with (it is not set up), so nothing can say it is valid.
    NotChecked,
    Valid {
        #[serde(with = "instant")]
        until: i64,
    },
    /// Valid, but for less than a day more.
    ExpiresSoon {
        #[serde(with = "instant")]
        until: i64,
    },
    Expired {
        #[serde(with = "instant")]
        on: i64,
    },
    NotYetValid {
        #[serde(with = "instant")]
        from: i64,
    },
    /// Signature, key, revocation or rule trouble, by the synced files and
    /// the profile: the checkpoint's reasons (written as their words).
    Invalid {
        #[serde(serialize_with = "reason_words")]
        reasons: Vec<Reason>,
    },
}

/// The reasons as the CLI and its scripts have always read them: their words.
fn reason_words<S: serde::Serializer>(reasons: &[Reason], ser: S) -> Result<S::Ok, S::Error> {
    ser.collect_seq(reasons.iter().map(ToString::to_string))
}

impl Status {
    /// Whether a checkpoint of the profile would accept the code now.
    pub fn is_valid(&self) -> bool {
        matches!(self, Status::Valid { .. } | Status::ExpiresSoon { .. })
    }
}

/// One held credential, as a list shows it.
#[derive(Clone, Debug, Serialize)]
pub struct Held {
    pub member: String,
    pub id: String,
    pub kind: CredentialKind,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub holder: Option<String>,
    #[serde(flatten)]
    pub status: Status,
    /// The checkpoint profile the status is for (none when not checked).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub profile: Option<String>,
    #[serde(skip)]
    pub payload: String,
    #[serde(skip)]
    pub credential: Credential,
}

/// A held credential and its verdict for one profile.
#[derive(Clone, Debug)]
pub struct Checked {
    pub held: Held,
    pub verdict: Verdict,
}

/// What [`Wallet::best`] found: every credential checked, and which one to show.
#[derive(Clone, Debug)]
pub struct Choice {
    /// Index into `all` of the credential to show, if any is accepted.
    pub best: Option<usize>,
    pub all: Vec<Checked>,
}

impl Choice {
    pub fn best(&self) -> Option<&Checked> {
        self.best.and_then(|i| self.all.get(i))
    }
}

/// A wallet: its members' files in one storage.
#[derive(Clone, Debug)]
pub struct Wallet {
    store: Arc<dyn Storage>,
}

fn check_member(name: &str) -> Result<(), WalletError> {
    let ok = !name.is_empty()
        && name.len() <= 40
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if ok {
        Ok(())
    } else {
        Err(WalletError::BadMember(name.to_string()))
    }
}

impl Wallet {
    /// The wallet in the folder `dir` on disk.
    pub fn new(dir: impl Into<PathBuf>) -> Wallet {
        Wallet::on(Arc::new(Folder::new(dir)))
    }

    /// The wallet in any storage (memory, in a browser).
    pub fn on(store: Arc<dyn Storage>) -> Wallet {
        Wallet { store }
    }

    /// Where the wallet's files are.
    pub fn storage(&self) -> &dyn Storage {
        &*self.store
    }

    /// The venue check-ins kept in this wallet.
    pub fn visit_log(&self) -> VisitLog {
        VisitLog::new(self.store.clone())
    }

    fn member_file(member: &str) -> String {
        format!("{MEMBERS_DIR}/{member}.json")
    }

    fn read_member(&self, member: &str) -> Result<MemberFile, WalletError> {
        check_member(member)?;
        let name = Self::member_file(member);
        let path = self.store.locate(&name);
        let Some(parsed) = read_json::<MemberFile>(&*self.store, &name)? else {
            return Ok(MemberFile {
                format: FORMAT,
                member: member.to_string(),
                credentials: Vec::new(),
            });
        };
        let corrupt = |why: String| WalletError::Corrupt {
            path: path.clone(),
            why,
        };
        if parsed.format != FORMAT {
            return Err(corrupt(format!(
                "format {} (this version reads format {FORMAT})",
                parsed.format
            )));
        }
        if parsed.member != member {
            return Err(corrupt(format!("it names member {:?}", parsed.member)));
        }
        Ok(parsed)
    }

    fn write_member(&self, file: &MemberFile) -> Result<(), WalletError> {
        write_json(&*self.store, &Self::member_file(&file.member), file)
    }

    /// The members with a file, in name order.
    pub fn members(&self) -> Result<Vec<String>, WalletError> {
        Ok(self
            .store
            .list(MEMBERS_DIR)?
            .into_iter()
            .filter_map(|n| n.strip_suffix(".json").map(str::to_string))
            .filter(|n| check_member(n).is_ok())
            .collect())
    }

    /// Adds payload text to a member. With a synced checkpoint the code is
    /// verified first: a forged code or one from an unknown issuer is
    /// refused; an expired or not yet valid one is kept, with the reasons.
    pub fn add(
        &self,
        member: &str,
        payload: &str,
        checkpoint: Option<&Checkpoint>,
        now: OffsetDateTime,
    ) -> Result<Added, WalletError> {
        let given = payload.trim();
        // A SMART Health Card is kept as one `shc:/` text, however it came
        // (chunks, a bare JWS, a file), so it shows as one QR code.
        let canonical;
        let payload = if format_of(given) == CodeFormat::Shc {
            let card = shc::card::decode(given)
                .map_err(|e| WalletError::Malformed(vec![Reason::from(&e)]))?;
            canonical = shc::numeric::encode(&card.jws.text);
            canonical.as_str()
        } else {
            given
        };
        let opened = Opened::open(payload).map_err(|r| WalletError::Malformed(vec![r]))?;
        let (credential, verified, reasons) = match checkpoint {
            Some(cp) => {
                let (c, v) = opened.verified(cp, now);
                let Some(c) = c else {
                    // Signed, but nothing in it this wallet can read.
                    let unreadable = v.reasons.iter().any(|r| {
                        matches!(r, Reason::NotRecognised { .. } | Reason::Malformed { .. })
                    });
                    return Err(if unreadable {
                        WalletError::Malformed(v.reasons)
                    } else {
                        WalletError::Untrusted(v.reasons)
                    });
                };
                (c, true, v.reasons)
            }
            None => {
                let c = opened
                    .credential(None)
                    .map_err(|r| WalletError::Malformed(vec![r]))?;
                (c, false, Vec::new())
            }
        };
        let mut file = self.read_member(member)?;
        for s in &file.credentials {
            if s.payload == payload || id_of(&s.payload).as_deref() == Some(&credential.id) {
                return Err(WalletError::Duplicate {
                    member: member.to_string(),
                    id: credential.id,
                });
            }
        }
        if file.credentials.len() >= MAX_CREDENTIALS {
            return Err(WalletError::Full {
                member: member.to_string(),
                max: MAX_CREDENTIALS,
            });
        }
        file.credentials.push(Stored {
            payload: payload.to_string(),
            added_at: now.unix_timestamp(),
        });
        self.write_member(&file)?;
        Ok(Added {
            id: credential.id.clone(),
            kind: credential.kind(),
            verified,
            reasons,
        })
    }

    /// Removes a credential (by id, or a unique prefix of at least 6 characters).
    pub fn remove(&self, member: &str, id: &str) -> Result<String, WalletError> {
        let mut file = self.read_member(member)?;
        let index = find(&file, member, id)?;
        let removed = file.credentials.remove(index);
        self.write_member(&file)?;
        Ok(id_of(&removed.payload).unwrap_or_default())
    }

    /// Every member's credentials with their standing at `now`: the verdict
    /// a checkpoint of `profile` would give by the synced files (the rules'
    /// default profile when `None`); without synced files, not checked.
    pub fn list(
        &self,
        checkpoint: Option<&Checkpoint>,
        profile: Option<&str>,
        now: OffsetDateTime,
    ) -> Result<Vec<Held>, WalletError> {
        let mut out = Vec::new();
        for member in self.members()? {
            out.extend(self.member_credentials(&member, checkpoint, profile, now)?);
        }
        Ok(out)
    }

    /// One member's credentials with their standing (see [`Wallet::list`]).
    pub fn member_credentials(
        &self,
        member: &str,
        checkpoint: Option<&Checkpoint>,
        profile: Option<&str>,
        now: OffsetDateTime,
    ) -> Result<Vec<Held>, WalletError> {
        Ok(self
            .entries(member, checkpoint, profile, now)?
            .into_iter()
            .map(|e| e.held)
            .collect())
    }

    /// Each stored credential decoded once, with its signature and time
    /// checks when there is a checkpoint, and the standing they give under
    /// `profile` (the rules' default when `None`).
    fn entries(
        &self,
        member: &str,
        checkpoint: Option<&Checkpoint>,
        profile: Option<&str>,
        now: OffsetDateTime,
    ) -> Result<Vec<Entry>, WalletError> {
        let file = self.read_member(member)?;
        let profile = match checkpoint {
            Some(cp) => match profile {
                Some(p) => {
                    cp.rules
                        .profile(p)
                        .map_err(|e| WalletError::Profile(e.to_string()))?;
                    Some(p.to_string())
                }
                None => cp.rules.default_profile().map(str::to_string),
            },
            None => None,
        };
        let mut out = Vec::new();
        for s in file.credentials {
            let Ok(opened) = Opened::open(&s.payload) else {
                continue; // stored only after decoding; cannot happen unless edited by hand
            };
            let Ok(credential) = opened.credential(checkpoint) else {
                continue;
            };
            // The checkpoint's verdict, once: the standing shown, and what
            // `best` chooses by.
            let verdict = match (checkpoint, profile.as_deref()) {
                (Some(cp), Some(p)) => Some(opened.verdict(&s.payload, cp, p, now)),
                _ => None,
            };
            let status = match (checkpoint, &verdict) {
                (None, _) => Status::NotChecked,
                (Some(_), Some(Ok(verdict))) => standing(verdict, &credential, now),
                (Some(_), Some(Err(_)) | None) => Status::Invalid {
                    reasons: vec![Reason::NoProfile {
                        profile: profile.clone().unwrap_or_default(),
                    }],
                },
            };
            let held = Held {
                member: member.to_string(),
                id: credential.id.clone(),
                kind: credential.kind(),
                holder: credential.body.holder().map(|h| h.name.clone()),
                status,
                profile: if checkpoint.is_some() {
                    profile.clone()
                } else {
                    None
                },
                payload: s.payload,
                credential,
            };
            out.push(Entry {
                held,
                verdict: verdict.and_then(Result::ok),
            });
        }
        Ok(out)
    }

    /// The member's credential that `profile` accepts at `now`, the one
    /// valid longest if several are; with every verdict for explaining a miss.
    pub fn best(
        &self,
        member: &str,
        checkpoint: &Checkpoint,
        profile: &str,
        now: OffsetDateTime,
    ) -> Result<Choice, WalletError> {
        let mut choice = Choice {
            best: None,
            all: Vec::new(),
        };
        for entry in self.entries(member, Some(checkpoint), Some(profile), now)? {
            // Checked under `profile` when the entry was read.
            let Some(verdict) = entry.verdict else {
                continue;
            };
            let better = verdict.valid
                && choice
                    .best
                    .and_then(|i| choice.all.get(i))
                    .is_none_or(|b: &Checked| verdict.valid_until > b.verdict.valid_until);
            if better {
                choice.best = Some(choice.all.len());
            }
            choice.all.push(Checked {
                held: entry.held,
                verdict,
            });
        }
        Ok(choice)
    }

    /// A held credential's payload, by id or unique prefix.
    pub fn payload(&self, member: &str, id: &str) -> Result<String, WalletError> {
        let file = self.read_member(member)?;
        let index = find(&file, member, id)?;
        Ok(file.credentials[index].payload.clone())
    }
}

/// A stored credential, decoded and checked once.
struct Entry {
    held: Held,
    /// The checkpoint's verdict under the profile, when there was a
    /// checkpoint and a profile and the check could be made.
    verdict: Option<Verdict>,
}

/// A held code, decoded: ours or an EU DCC (COSE), a SMART Health Card, an
/// NZ COVID Pass, or an ICAO seal.
enum Opened {
    Cose(Box<Decoded>),
    Shc(Box<shc::card::Card>),
    Nzcp(Box<nzcp::Pass>),
    Icao(Box<icao::Seal>),
    #[cfg(feature = "divoc")]
    Divoc(Box<crate::divoc::Certificate>),
}

impl Opened {
    fn open(payload: &str) -> Result<Opened, Reason> {
        match format_of(payload) {
            CodeFormat::Shc => {
                return shc::card::decode(payload)
                    .map(|c| Opened::Shc(Box::new(c)))
                    .map_err(|e| Reason::from(&e))
            }
            CodeFormat::Nzcp => {
                return nzcp::decode(payload)
                    .map(|p| Opened::Nzcp(Box::new(p)))
                    .map_err(|e| Reason::from(&e))
            }
            CodeFormat::Icao => {
                return icao::decode(payload)
                    .map(|s| Opened::Icao(Box::new(s)))
                    .map_err(|e| Reason::from(&e))
            }
            #[cfg(feature = "divoc")]
            CodeFormat::Divoc => {
                return crate::divoc::decode(payload)
                    .map(|c| Opened::Divoc(Box::new(c)))
                    .map_err(|e| Reason::from(&e))
            }
            #[cfg(not(feature = "divoc"))]
            CodeFormat::Divoc => {
                return Err(Reason::NotReadHere {
                    scheme: crate::verify::reason::Scheme::Divoc,
                })
            }
            CodeFormat::Envelope => {}
        }
        decode(payload)
            .map(|d| Opened::Cose(Box::new(d)))
            .map_err(|e| Reason::from(&e))
    }

    /// The credential it says it is (not yet trusted). A card is read with
    /// the synced rules' code table, or the default one before a sync.
    fn credential(&self, checkpoint: Option<&Checkpoint>) -> Result<Credential, Reason> {
        let default;
        let codes = match checkpoint {
            Some(cp) => &cp.rules.rules.fhir,
            None => {
                default = crate::signed::rules::Rules::default().fhir;
                &default
            }
        };
        match self {
            Opened::Cose(d) => d
                .credential_with(codes)
                .map_err(|e| Reason::of_credential(&e)),
            Opened::Shc(card) => {
                let summary = shc::fhir::summarise(&card.claims.bundle)
                    .map_err(|e| Reason::malformed(Fault::Content, e))?;
                card.credential(&summary, codes)
            }
            Opened::Nzcp(pass) => Ok(nzcp::credential(&pass.claims)),
            Opened::Icao(seal) => seal.credential(codes),
            #[cfg(feature = "divoc")]
            Opened::Divoc(cert) => cert.credential(codes),
        }
    }

    /// The signature, time and revocation checks against the synced files:
    /// the credential once the signature held, and every reason.
    fn verified(&self, cp: &Checkpoint, now: OffsetDateTime) -> (Option<Credential>, Verification) {
        match self {
            Opened::Cose(decoded) => {
                let mut v = verify_decoded_with(decoded, &cp.trust, &cp.rules.rules.fhir, now);
                let c = v.credential.clone();
                if let Some(c) = &c {
                    if let Some(by) = cp.revocations.check(&c.id, &decoded.cose) {
                        v.reasons.push(Reason::Revoked { by });
                    }
                }
                (c, v)
            }
            Opened::Shc(card) => {
                let sv = shc::card::verify(card, cp.trust.shc(), now.unix_timestamp());
                let mut reasons = sv.reasons;
                let c = match (sv.signed, &sv.summary) {
                    (true, Some(summary)) => match card.credential(summary, &cp.rules.rules.fhir) {
                        Ok(c) => Some(c),
                        Err(r) => {
                            reasons.push(r);
                            None
                        }
                    },
                    _ => None,
                };
                let v = checked_outside_cose(sv.kid, c.clone(), reasons);
                (c, v)
            }
            Opened::Nzcp(pass) => {
                let nv = nzcp::verify(pass, cp.trust.nzcp(), now.unix_timestamp());
                let mut reasons = nv.reasons;
                let c = nv.credential.filter(|_| nv.signed);
                if let Some(c) = &c {
                    if let Some(by) = cp.revocations.check(&c.id, &pass.cose) {
                        reasons.push(Reason::Revoked { by });
                    }
                }
                let v = checked_outside_cose(nv.kid, c.clone(), reasons);
                (c, v)
            }
            Opened::Icao(seal) => {
                let iv = icao::verify(seal, cp.trust.icao(), now.unix_timestamp());
                let mut reasons = iv.reasons;
                let c = read_when_signed(
                    iv.signed,
                    &mut reasons,
                    || seal.credential(&cp.rules.rules.fhir),
                    |c| cp.revocations.check_id(&c.id),
                );
                let v = checked_outside_cose(iv.signer.unwrap_or_default(), c.clone(), reasons);
                (c, v)
            }
            #[cfg(feature = "divoc")]
            Opened::Divoc(cert) => {
                let dv = crate::divoc::verify(cert, cp.trust.divoc(), now.unix_timestamp());
                let mut reasons = dv.reasons;
                let c = read_when_signed(
                    dv.signed,
                    &mut reasons,
                    || cert.credential(&cp.rules.rules.fhir),
                    |_| {
                        let ids = cert.ids();
                        ids.iter().find_map(|id| cp.revocations.check_id(id))
                    },
                );
                let v = checked_outside_cose(dv.method, c.clone(), reasons);
                (c, v)
            }
        }
    }

    /// The checkpoint's verdict under `profile` (`payload` is this code's
    /// text, which a card's check reads).
    fn verdict(
        &self,
        payload: &str,
        cp: &Checkpoint,
        profile: &str,
        now: OffsetDateTime,
    ) -> Result<Verdict, crate::checkpoint::check::CheckError> {
        match self {
            Opened::Cose(decoded) => check_decoded(decoded, cp, profile, now),
            Opened::Shc(_) => check_shc(payload, cp, profile, now),
            Opened::Nzcp(_) => check_nzcp(payload, cp, profile, now),
            Opened::Icao(_) => check_icao(payload, cp, profile, now),
            #[cfg(feature = "divoc")]
            Opened::Divoc(_) => crate::checkpoint::check::check_divoc(payload, cp, profile, now),
        }
    }

    fn id(&self) -> Option<String> {
        match self {
            Opened::Cose(d) => d.credential().ok().map(|c| c.id),
            Opened::Shc(card) => Some(card.id()),
            Opened::Nzcp(pass) => Some(pass.claims.jti.clone()),
            Opened::Icao(seal) => Some(seal.id().to_string()),
            #[cfg(feature = "divoc")]
            Opened::Divoc(cert) => cert.id().ok(),
        }
    }
}

/// What a code outside COSE (an ICAO seal, a DIVOC certificate) reads as,
/// once its signature held: the credential (or the reason it cannot be
/// read, added to `reasons`), and a revocation `revoked` finds added too.
fn read_when_signed(
    signed: bool,
    reasons: &mut Vec<Reason>,
    read: impl FnOnce() -> Result<Credential, Reason>,
    revoked: impl Fn(&Credential) -> Option<crate::verify::reason::EntryKind>,
) -> Option<Credential> {
    if !signed {
        return None;
    }
    match read() {
        Ok(c) => {
            if let Some(by) = revoked(&c) {
                reasons.push(Reason::Revoked { by });
            }
            Some(c)
        }
        Err(r) => {
            reasons.push(r);
            None
        }
    }
}

/// The [`Verification`] of a code that is not COSE (a SMART Health Card,
/// an NZ COVID Pass): its key, what it says once its signature held, and
/// every reason.
fn checked_outside_cose(
    kid: String,
    credential: Option<Credential>,
    reasons: Vec<Reason>,
) -> Verification {
    Verification {
        valid: reasons.is_empty(),
        profile: None,
        kid: Some(kid),
        credential,
        reasons,
        key_not_after: None,
    }
}

fn id_of(payload: &str) -> Option<String> {
    Opened::open(payload).ok()?.id()
}

fn find(file: &MemberFile, member: &str, id: &str) -> Result<usize, WalletError> {
    let not_found = || WalletError::NotFound {
        member: member.to_string(),
        id: id.to_string(),
    };
    let ids: Vec<Option<String>> = file.credentials.iter().map(|s| id_of(&s.payload)).collect();
    if let Some(i) = ids.iter().position(|c| c.as_deref() == Some(id)) {
        return Ok(i);
    }
    if id.len() < 6 {
        return Err(not_found());
    }
    let matches: Vec<usize> = ids
        .iter()
        .enumerate()
        .filter(|(_, c)| c.as_deref().is_some_and(|c| c.starts_with(id)))
        .map(|(i, _)| i)
        .collect();
    match matches[..] {
        [i] => Ok(i),
        _ => Err(not_found()),
    }
}

/// A held credential's standing from the checkpoint's verdict: valid (or
/// expiring within a day) until the verdict's own limit; expired or not
/// yet valid when that is all that is wrong; otherwise invalid with the
/// checkpoint's reasons.
fn standing(verdict: &Verdict, c: &Credential, now: OffsetDateTime) -> Status {
    let now = now.unix_timestamp();
    if verdict.valid {
        let until = verdict.valid_until.unwrap_or(c.expires_at);
        return if until - now < 86_400 {
            Status::ExpiresSoon { until }
        } else {
            Status::Valid { until }
        };
    }
    match verdict.reasons.as_slice() {
        [Reason::Expired { .. }] => Status::Expired { on: c.expires_at },
        [Reason::NotYetValid { .. }] if now < c.issued_at => {
            Status::NotYetValid { from: c.issued_at }
        }
        reasons => Status::Invalid {
            reasons: reasons.to_vec(),
        },
    }
}

mod backup;
pub use backup::{Imported, BACKUP_FORMAT, MAX_BACKUP};

#[cfg(test)]
mod tests;
