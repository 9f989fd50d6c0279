//! Signing and storing credentials: a submission checked and made a
//! credential, signed on any thread, and stored once per (lab, sample id)
//! so a retry gives back the first credential and its code.

use super::keys::Signer;
use super::{Issuer, IssuerError};
use crate::store::NewCredential;
use std::collections::HashMap;
use wallet_core::credential::Body;
use wallet_core::{Algorithm, Credential, Profile};

/// One submission, ready to sign.
#[derive(Clone, Debug)]
pub struct Submission {
    pub sample_id: String,
    pub profile: Profile,
    pub credential: Credential,
}

/// The result of one submission.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Issued {
    pub sample_id: String,
    pub id: String,
    pub payload: String,
    pub retrieval_code: String,
    /// false: this (lab, sample id) was already issued, and this is that
    /// credential again.
    pub created: bool,
}

/// A submission from a request body (JSON: the credential's fields, as in
/// `issuer issue --json`, plus `sample_id`, and optionally `profile`,
/// `issuer` and `expires_at`).
#[derive(Debug, serde::Deserialize)]
pub struct SubmissionJson {
    pub sample_id: String,
    #[serde(default)]
    pub profile: Option<String>,
    #[serde(default)]
    pub issuer: Option<String>,
    #[serde(default)]
    pub expires_at: Option<String>,
    #[serde(flatten)]
    pub body: Body,
}

/// Longest lab sample id accepted.
pub const MAX_SAMPLE_ID: usize = 128;

/// Checks a sample id: 1–128 printable characters.
pub fn check_sample_id(s: &str) -> Result<(), String> {
    if s.trim().is_empty() {
        return Err("sample_id: missing".into());
    }
    if s.len() > MAX_SAMPLE_ID {
        return Err(format!("sample_id: longer than {MAX_SAMPLE_ID} bytes"));
    }
    if s.chars().any(char::is_control) {
        return Err("sample_id: contains control characters".into());
    }
    Ok(())
}

/// A profile by name, defaulting to native.
pub fn profile_named(name: Option<&str>) -> Result<Profile, String> {
    match name {
        None => Ok(Profile::Native),
        Some(n) => {
            Profile::from_name(n).ok_or_else(|| format!("profile: {n:?} is not native or eu-dcc"))
        }
    }
}

impl SubmissionJson {
    /// Parses and checks one JSON submission; errors name the field.
    pub fn parse(text: &str, now: i64, id: [u8; 16]) -> Result<Submission, String> {
        let j: SubmissionJson = serde_json::from_str(text).map_err(|e| e.to_string())?;
        j.into_submission(now, id)
    }

    pub fn into_submission(self, now: i64, id: [u8; 16]) -> Result<Submission, String> {
        check_sample_id(&self.sample_id)?;
        let profile = profile_named(self.profile.as_deref())?;
        let credential = crate::request::finish(
            self.body,
            self.issuer.as_deref().unwrap_or("CN"),
            self.expires_at.as_deref(),
            now,
            id,
        )
        .map_err(|e| e.as_fields())?;
        Ok(Submission {
            sample_id: self.sample_id.trim().to_string(),
            profile,
            credential,
        })
    }
}

/// A fresh credential id: the issue second (4 bytes, big-endian) and 12
/// random bytes. Ids issued in different seconds sort apart, so one
/// credential submitted at a time lands near the end of the id index; for
/// many issued at once, see [`IdSequence`].
pub fn new_id(now: i64) -> [u8; 16] {
    let mut id = [0u8; 16];
    id[..4].copy_from_slice(&(now.clamp(0, u32::MAX as i64) as u32).to_be_bytes());
    rand_core::RngCore::fill_bytes(&mut rand_core::OsRng, &mut id[4..]);
    id
}

/// Ids for the credentials of one import, all issued at `now`: the issue
/// second, then a 96-bit number drawn at random once and counted up by one
/// for each id. Random ids of one second would land at random places in the
/// id index, so every transaction of a million-line import would rewrite
/// nearly all of the index's pages; these are made in ascending order and
/// stored at its end. They are as unique as random ones (a run of a million
/// from a random start meets a given other id with odds of 2^-76), and
/// nothing can be done with a credential id alone: the retrieval code is
/// keyed with the code secret, and revoking needs an admin token.
pub struct IdSequence {
    /// The next id as one big-endian number: the issue second in the top
    /// 32 bits, which stay; the low 96 bits are counted up.
    next: u128,
}

impl IdSequence {
    const MASK: u128 = (1 << 96) - 1;

    pub fn new(now: i64) -> IdSequence {
        IdSequence {
            next: u128::from_be_bytes(new_id(now)),
        }
    }

    pub fn next_id(&mut self) -> [u8; 16] {
        let id = self.next.to_be_bytes();
        self.next = (self.next & !Self::MASK) | (self.next.wrapping_add(1) & Self::MASK);
        id
    }
}

impl Issuer {
    /// Signs one submission (no database access: safe on any thread).
    pub fn sign(
        &self,
        lab: &str,
        s: &Submission,
        signer: &Signer,
    ) -> Result<(NewCredential, String), IssuerError> {
        let payload = wallet_core::issue(&s.credential, s.profile, &signer.key)
            .map_err(|e| IssuerError::Sign(e.to_string()))?;
        let code = self.codes.code(&s.credential.id);
        Ok((
            NewCredential {
                id: s.credential.id.clone(),
                lab: lab.to_string(),
                sample_id: s.sample_id.clone(),
                kind: s.credential.kind().to_string(),
                kid: signer.kid.clone(),
                payload,
                code_key: self.codes.key_of_issued(&code),
                issued_at: s.credential.issued_at,
                expires_at: s.credential.expires_at,
            },
            code,
        ))
    }

    /// Stores signed credentials, of one lab or several (the group commit
    /// of single submissions), in one transaction. A (lab, sample id)
    /// stored before (or earlier in `signed`) gives back the credential
    /// stored first. Output is in input order.
    pub async fn store_signed(
        &self,
        signed: Vec<(NewCredential, String)>,
    ) -> Result<Vec<Issued>, IssuerError> {
        let mut first: HashMap<(&str, &str), usize> = HashMap::with_capacity(signed.len());
        let mut unique = Vec::with_capacity(signed.len());
        let mut repeat_of = vec![None; signed.len()];
        for (i, (row, _)) in signed.iter().enumerate() {
            match first.entry((row.lab.as_str(), row.sample_id.as_str())) {
                std::collections::hash_map::Entry::Occupied(e) => repeat_of[i] = Some(*e.get()),
                std::collections::hash_map::Entry::Vacant(v) => {
                    v.insert(i);
                    unique.push(row);
                }
            }
        }
        let inserted = self.store.insert_credentials(&unique).await?;
        let mut out: Vec<Option<Issued>> = vec![None; signed.len()];
        let mut missing: HashMap<String, Vec<&str>> = HashMap::new();
        let mut u = 0;
        for (i, (row, code)) in signed.iter().enumerate() {
            if repeat_of[i].is_some() {
                continue;
            }
            if inserted[u] {
                out[i] = Some(Issued {
                    sample_id: row.sample_id.clone(),
                    id: row.id.clone(),
                    payload: row.payload.clone(),
                    retrieval_code: code.clone(),
                    created: true,
                });
            } else {
                missing
                    .entry(row.lab.clone())
                    .or_default()
                    .push(row.sample_id.as_str());
            }
            u += 1;
        }
        for (lab, samples) in missing {
            let found = self.store.existing(&lab, &samples).await?;
            for (i, (row, _)) in signed.iter().enumerate() {
                if row.lab != lab || out[i].is_some() || repeat_of[i].is_some() {
                    continue;
                }
                if let Some(e) = found.get(&row.sample_id) {
                    out[i] = Some(Issued {
                        sample_id: row.sample_id.clone(),
                        id: e.id.clone(),
                        payload: e.payload.clone(),
                        retrieval_code: self.codes.code(&e.id),
                        created: false,
                    });
                }
            }
        }
        for i in 0..signed.len() {
            if let Some(j) = repeat_of[i] {
                out[i] = out[j].clone().map(|mut x| {
                    x.created = false;
                    x
                });
            }
        }
        out.into_iter()
            .enumerate()
            .map(|(i, o)| {
                o.ok_or_else(|| {
                    IssuerError::Sign(format!(
                        "sample {:?} was neither stored nor found",
                        signed[i].0.sample_id
                    ))
                })
            })
            .collect()
    }

    /// Signs and stores one credential for a lab.
    pub async fn issue(
        &self,
        lab: &str,
        s: &Submission,
        alg: Algorithm,
        now: i64,
    ) -> Result<Issued, IssuerError> {
        let signer = self.signer(alg, now)?;
        let signed = self.sign(lab, s, &signer)?;
        let mut out = self.store_signed(vec![signed]).await?;
        out.pop()
            .ok_or_else(|| IssuerError::Sign("nothing stored".into()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_795_000_000;

    #[test]
    fn an_id_sequence_counts_up_under_its_second_and_wraps_below_it() {
        let mut ids = IdSequence::new(NOW);
        let made: Vec<String> = (0..1000).map(|_| hex::encode(ids.next_id())).collect();
        let second = hex::encode((NOW as u32).to_be_bytes());
        assert!(made.iter().all(|id| id.starts_with(&second)), "{made:?}");
        assert!(made.windows(2).all(|w| w[0] < w[1]), "not ascending");
        // Two imports in one second start at unrelated places.
        let other = hex::encode(IdSequence::new(NOW).next_id());
        assert!(!made.contains(&other));
        let mut ids = IdSequence {
            next: (u128::from(NOW as u32) << 96) | IdSequence::MASK,
        };
        assert_eq!(
            hex::encode(ids.next_id()),
            format!("{second}{}", "f".repeat(24))
        );
        assert_eq!(
            hex::encode(ids.next_id()),
            format!("{second}{}", "0".repeat(24))
        );
    }
}
