//! A wallet's own files as a phone or a disk may hand them back: damaged,
//! truncated, from another version, or edited. The bytes are split into a
//! member's file and the visit log, and every reader of the wallet runs on
//! them: members, the list with each code's standing, the best code for a
//! profile, a payload, the visits and the exposure match, and a check-in.
#![no_main]
use libfuzzer_sys::fuzz_target;
use std::sync::{Arc, OnceLock};
use time::OffsetDateTime;
use wallet_core::storage::Memory;
use wallet_core::citizen::wallet::Wallet;
use wallet_core::signed::exposures::ExposureList;
use wallet_core::{issue, samples, Checkpoint, Profile};

static FIXTURE: OnceLock<(Checkpoint, ExposureList, String)> = OnceLock::new();

fuzz_target!(|data: &[u8]| {
    let (checkpoint, exposures, venue) = FIXTURE.get_or_init(|| {
        let venue = issue(&samples::venue(), Profile::Native, &samples::ed25519_test_key())
            .unwrap_or_default();
        (samples::checkpoint(), samples::exposures(), venue)
    });
    // The first byte says where the member file ends and the log begins.
    let (cut, rest) = match data.split_first() {
        Some((c, rest)) => (usize::from(*c) * rest.len() / 255, rest),
        None => (0, data),
    };
    let (member, visits) = rest.split_at(cut.min(rest.len()));
    let store = Memory::new();
    if store.insert("members/me.json", member.to_vec()).is_err()
        || store.insert("visits.json", visits.to_vec()).is_err()
    {
        return;
    }
    let wallet = Wallet::on(Arc::new(store));
    let now = OffsetDateTime::from_unix_timestamp(samples::issued_at() + 3600)
        .unwrap_or(OffsetDateTime::UNIX_EPOCH);
    let _ = wallet.members();
    if let Ok(held) = wallet.list(Some(checkpoint), None, now) {
        for h in held.iter().take(4) {
            let _ = wallet.payload(&h.member, &h.id);
        }
    }
    let _ = wallet.list(Some(checkpoint), Some("hospital-visit"), now);
    let _ = wallet.list(None, None, now);
    for profile in ["transport", "venue", "nonexistent"] {
        let _ = wallet.best("me", checkpoint, profile, now);
    }
    // The member file as a backup, and the wallet exported and imported back.
    let _ = wallet.import(member, Some(checkpoint), now);
    if let Ok((backup, _)) = wallet.export(now) {
        let _ = Wallet::on(Arc::new(Memory::new())).import(&backup, Some(checkpoint), now);
    }
    let log = wallet.visit_log();
    let _ = log.visits(now);
    let _ = log.retention_days(now);
    let _ = log.exposures(exposures, now);
    let _ = log.checkin(venue, checkpoint, now);
    let _ = log.set_retention_days(7, now);
});
