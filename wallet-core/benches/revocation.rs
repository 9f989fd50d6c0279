//! Revocation list at scale, measured in one run:
//!
//! - `revocation_load_1m`: a signed full list of 1,000,000 entries (500,000
//!   credential-id hashes and 500,000 signature hashes) from file bytes to a
//!   list ready for lookups: signature check over the 16 MB payload, CBOR,
//!   entry order checks;
//! - `revocation_lookup`: is this credential revoked? SHA-256 of its id and
//!   of its signature, and a search in each half of the 1M-entry list;
//! - `checkpoint_pipeline`: payload text → checkpoint verdict, with the 1M
//!   list, the default rules and the sample trust list (`check()`), against
//!   `ed25519_verify_raw` for the ratio.
//!
//! Memory is counted by a global allocator wrapper: bytes still allocated
//! after the load (the list held) and the peak during the load.
//! Run: `cargo bench -p wallet-core --bench revocation`.

mod common;

use criterion::black_box;
use sha2::{Digest, Sha256};
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};
use time::OffsetDateTime;
use wallet_core::keys::PublicKey;
use wallet_core::signed::revocation::{Entry, RevocationList};
use wallet_core::{check, decode, issue, samples, Profile};

struct Counting;

static CURRENT: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = System.alloc(layout);
        if !p.is_null() {
            let now = CURRENT.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
            PEAK.fetch_max(now, Ordering::Relaxed);
        }
        p
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        System.dealloc(ptr, layout);
        CURRENT.fetch_sub(layout.size(), Ordering::Relaxed);
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

const ENTRIES: usize = 1_000_000;

fn entries(n: usize, salt: u8) -> Vec<Entry> {
    (0..n as u64)
        .map(|i| {
            let d = Sha256::new()
                .chain_update([salt])
                .chain_update(i.to_be_bytes())
                .finalize();
            let mut e = [0u8; 16];
            e.copy_from_slice(&d[..16]);
            e
        })
        .collect()
}

fn big_list() -> RevocationList {
    RevocationList::new(
        2,
        samples::published_at(),
        samples::published_at() + 2 * 86_400,
        entries(ENTRIES / 2, 1),
        entries(ENTRIES / 2, 2),
    )
}

/// Bytes retained after, and peak above the start during, `f`.
fn measure<T>(f: impl FnOnce() -> T) -> (T, usize, usize) {
    let start = CURRENT.load(Ordering::Relaxed);
    PEAK.store(start, Ordering::Relaxed);
    let out = f();
    let retained = CURRENT.load(Ordering::Relaxed).saturating_sub(start);
    let peak = PEAK.load(Ordering::Relaxed).saturating_sub(start);
    (out, retained, peak)
}

fn main() {
    let (dir, mut c) = common::criterion();

    let mut checkpoint = samples::checkpoint();
    let signed = big_list().sign(&samples::anchor_key());
    let (list, retained, peak) = measure(|| {
        RevocationList::open(&signed, &checkpoint.trust).expect("the bench list verifies")
    });
    assert_eq!(list.len(), ENTRIES);

    let mut load = c.benchmark_group("revocation");
    load.sample_size(10);
    load.bench_function("revocation_load_1m", |b| {
        b.iter(|| RevocationList::open(black_box(&signed), &checkpoint.trust).map(|l| l.len()))
    });
    load.finish();

    let credential = samples::test();
    let key = samples::ed25519_test_key();
    let text = issue(&credential, Profile::Native, &key).expect("sample issues");
    let decoded = decode(&text).expect("decodes");
    c.bench_function("revocation_lookup", |b| {
        b.iter(|| list.check(black_box(&credential.id), black_box(&decoded.cose)))
    });

    let tbs = decoded.cose.to_be_signed();
    let PublicKey::Ed25519(vk) = key.public_key() else {
        unreachable!("the test key is Ed25519")
    };
    let sig = ed25519_dalek::Signature::from_slice(&decoded.cose.signature).expect("64 bytes");
    c.bench_function("ed25519_verify_raw", |b| {
        b.iter(|| vk.verify_strict(black_box(&tbs), black_box(&sig)).is_ok())
    });
    checkpoint.revocations = list;
    let now = OffsetDateTime::from_unix_timestamp(credential.issued_at + 60).expect("valid time");
    c.bench_function("checkpoint_pipeline", |b| {
        b.iter(|| {
            check(black_box(&text), &checkpoint, "transport", now)
                .map(|v| v.valid)
                .unwrap_or(false)
        })
    });
    c.final_summary();

    let names = [
        "revocation/revocation_load_1m",
        "revocation_lookup",
        "ed25519_verify_raw",
        "checkpoint_pipeline",
    ];
    if let Some(means) = common::means(&dir, &names) {
        let m = |i: usize| means[i];
        println!("\nsummary (this run):");
        println!(
            "  load 1,000,000 entries      {:>10.1} ms   (target < 1000 ms)",
            m(0) / 1e6
        );
        println!(
            "  held after load             {:>10.1} MB   (target < 24 MB)",
            retained as f64 / 1e6
        );
        println!(
            "  peak during load            {:>10.1} MB   (above the {:.1} MB file bytes)",
            peak as f64 / 1e6,
            signed.len() as f64 / 1e6
        );
        println!(
            "  lookup (2 hashes, 2 searches) {:>8.0} ns   (target < 1000 ns)",
            m(1)
        );
        println!(
            "  checkpoint_pipeline         {:>10.1} µs   ({:.0}/s on one core)",
            m(3) / 1e3,
            1e9 / m(3)
        );
        println!(
            "  checkpoint_pipeline / ed25519_verify_raw = {:.2}",
            m(3) / m(2)
        );
    }
}
