//! Many codes at once, as a gate with a hardware scanner produces them:
//! the same verdicts as [`check`](crate::checkpoint::check::check), in input order,
//! with Ed25519 signatures verified in batches across threads.
//!
//! Batch verification checks one random linear combination of the
//! signature equations (ed25519-dalek's `verify_batch`), about three times
//! cheaper per signature than one by one. When a batch fails, each of its
//! signatures is checked alone, so one bad code never hides among good ones
//! and the reasons are exactly those of the single check. Only codes whose
//! kid names exactly one trusted key, bound to EdDSA, go into a batch; every
//! other code takes the single path.

use crate::checkpoint::check::{
    check_decoded, check_divoc, check_icao, check_nzcp, check_shc, check_verified, format_of,
    malformed_verdict, CheckError, Checkpoint, CodeFormat, Verdict,
};
use crate::keys::lookup::KeyLookup;
use crate::keys::{Algorithm, IssuerKey, PublicKey};
use crate::verify::{decode, verify_signed, Decoded, Reason};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use time::OffsetDateTime;

/// Codes per signature batch. The saving grows with the batch (here 2.8×
/// at 128, 3.6× at 1,024); a failed batch is split in halves until the bad
/// signatures are isolated, so it never costs more than a few extra rounds.
pub const BATCH: usize = 1024;

/// Below this many signatures a failed batch is checked one by one.
const SPLIT_MIN: usize = 8;

/// Checks every text at `now` against the checkpoint's files for `profile`,
/// on up to `threads` threads (1 runs on the caller's thread, as a browser
/// must). Verdicts come back in input order.
pub fn check_batch<S: AsRef<str> + Sync>(
    texts: &[S],
    checkpoint: &Checkpoint,
    profile: &str,
    now: OffsetDateTime,
    threads: usize,
) -> Result<Vec<Verdict>, CheckError> {
    check_batch_map(texts, checkpoint, profile, now, threads, |v| v)
}

/// [`check_batch`], turning each verdict into `T` on the checking threads
/// (e.g. serialising it, so output does not wait on one thread).
pub fn check_batch_map<S, T, F>(
    texts: &[S],
    checkpoint: &Checkpoint,
    profile: &str,
    now: OffsetDateTime,
    threads: usize,
    map: F,
) -> Result<Vec<T>, CheckError>
where
    S: AsRef<str> + Sync,
    T: Send,
    F: Fn(Verdict) -> T + Sync,
{
    checkpoint.rules.profile(profile)?;
    let chunks: Vec<&[S]> = texts.chunks(BATCH).collect();
    let threads = threads.clamp(1, chunks.len().max(1));
    let mut results: Vec<Option<Result<Vec<T>, CheckError>>> = Vec::new();
    let run = |chunk: &[S]| -> Result<Vec<T>, CheckError> {
        Ok(check_chunk(chunk, checkpoint, profile, now)?
            .into_iter()
            .map(&map)
            .collect())
    };
    results.resize_with(chunks.len(), || None);
    if threads == 1 {
        for (slot, chunk) in results.iter_mut().zip(&chunks) {
            *slot = Some(run(chunk));
        }
    } else {
        let next = AtomicUsize::new(0);
        let slots = Mutex::new(&mut results);
        std::thread::scope(|scope| {
            for _ in 0..threads {
                scope.spawn(|| loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(chunk) = chunks.get(i) else { break };
                    let done = run(chunk);
                    if let Ok(mut slots) = slots.lock() {
                        slots[i] = Some(done);
                    }
                });
            }
        });
    }
    let mut out = Vec::with_capacity(texts.len());
    for r in results {
        // Every chunk index below chunks.len() was taken by some thread.
        match r {
            Some(verdicts) => out.extend(verdicts?),
            None => unreachable!("a chunk was not checked"),
        }
    }
    Ok(out)
}

/// The one key a code may be batch-verified with: exactly one trusted key
/// with its kid, bound to EdDSA, and the header naming EdDSA.
fn batchable<'k>(
    d: &Decoded,
    keys: &'k impl KeyLookup,
) -> Option<(
    &'k IssuerKey,
    ed25519_dalek::VerifyingKey,
    ed25519_dalek::Signature,
)> {
    let kid = d.cose.kid()?;
    let [key] = keys.keys_for(kid)[..] else {
        return None;
    };
    if key.algorithm != Algorithm::EdDsa || d.cose.alg() != Some(Algorithm::EdDsa.cose_id()) {
        return None;
    }
    let PublicKey::Ed25519(vk) = &key.key else {
        return None;
    };
    let sig = ed25519_dalek::Signature::from_slice(&d.cose.signature).ok()?;
    Some((key, *vk, sig))
}

/// Marks in `good` (from `offset`) the signatures that a batch vouches
/// for: the whole range if its batch holds, else each half in turn. Ranges
/// of fewer than [`SPLIT_MIN`] that fail are left to the single check.
fn verify_range(
    messages: &[&[u8]],
    signatures: &[ed25519_dalek::Signature],
    keys: &[ed25519_dalek::VerifyingKey],
    offset: usize,
    good: &mut [bool],
) {
    let n = messages.len();
    if n == 0 {
        return;
    }
    if ed25519_dalek::verify_batch(messages, signatures, keys).is_ok() {
        good[offset..offset + n].fill(true);
        return;
    }
    if n < SPLIT_MIN {
        return;
    }
    let mid = n / 2;
    verify_range(
        &messages[..mid],
        &signatures[..mid],
        &keys[..mid],
        offset,
        good,
    );
    verify_range(
        &messages[mid..],
        &signatures[mid..],
        &keys[mid..],
        offset + mid,
        good,
    );
}

fn check_chunk<S: AsRef<str>>(
    texts: &[S],
    checkpoint: &Checkpoint,
    profile: &str,
    now: OffsetDateTime,
) -> Result<Vec<Verdict>, CheckError> {
    let decoded: Vec<Result<Decoded, Reason>> = texts
        .iter()
        .map(|t| decode(t.as_ref()).map_err(|e| Reason::from(&e)))
        .collect();
    // Gather the batchable signatures.
    let mut members: Vec<(usize, &IssuerKey)> = Vec::new();
    let mut messages: Vec<Vec<u8>> = Vec::new();
    let mut signatures = Vec::new();
    let mut verifying_keys = Vec::new();
    for (i, d) in decoded.iter().enumerate() {
        if let Ok(d) = d {
            if let Some((key, vk, sig)) = batchable(d, &checkpoint.trust) {
                members.push((i, key));
                messages.push(d.cose.to_be_signed());
                signatures.push(sig);
                verifying_keys.push(vk);
            }
        }
    }
    let refs: Vec<&[u8]> = messages.iter().map(Vec::as_slice).collect();
    let mut good = vec![false; members.len()];
    verify_range(&refs, &signatures, &verifying_keys, 0, &mut good);
    let mut verified: Vec<Option<&IssuerKey>> = vec![None; texts.len()];
    for ((i, key), ok) in members.into_iter().zip(good) {
        if ok {
            verified[i] = Some(key);
        }
    }
    decoded
        .into_iter()
        .zip(verified)
        .zip(texts)
        .map(|((d, key), text)| match (d, key) {
            (Err(what), _) => match format_of(text.as_ref()) {
                CodeFormat::Shc => check_shc(text.as_ref(), checkpoint, profile, now),
                CodeFormat::Nzcp => check_nzcp(text.as_ref(), checkpoint, profile, now),
                CodeFormat::Icao => check_icao(text.as_ref(), checkpoint, profile, now),
                CodeFormat::Divoc => check_divoc(text.as_ref(), checkpoint, profile, now),
                CodeFormat::Envelope => Ok(malformed_verdict(what, checkpoint, profile, now)),
            },
            (Ok(d), Some(key)) => {
                let v = verify_signed(&d, key, &checkpoint.rules.rules.fhir, now);
                check_verified(&d, v, checkpoint, profile, now)
            }
            (Ok(d), None) => check_decoded(&d, checkpoint, profile, now),
        })
        .collect()
}

#[cfg(test)]
mod tests;
