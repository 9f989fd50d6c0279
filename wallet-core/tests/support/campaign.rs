//! What the forgery campaigns share (`forgeries` for our codes and EU DCCs,
//! `shc_forgeries` for SMART Health Cards): a repeatable generator, the
//! count per mutation class, and the table they print.

#![allow(dead_code)]

use std::collections::BTreeMap;
use wallet_core::wire::envelope::Profile;
use wallet_core::{issue, samples, SigningKey};

/// Every sample credential as the campaigns issue it: native with the
/// Ed25519 key, eu-dcc with the Ed25519 and with the P-256 key (the eu-dcc
/// profile has no venue codes), each with its profile and signing key.
pub fn issued_samples() -> Vec<(Profile, SigningKey, String)> {
    let ed = samples::ed25519_test_key();
    let ec = samples::p256_test_key();
    let mut out = Vec::new();
    for c in samples::all() {
        for (profile, key) in [
            (Profile::Native, &ed),
            (Profile::EuDcc, &ed),
            (Profile::EuDcc, &ec),
        ] {
            if let Ok(text) = issue(&c, profile, key) {
                out.push((profile, key.clone(), text));
            }
        }
    }
    out
}

/// A small deterministic generator (xorshift64*), so a failure replays.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// What the mutations of one class came to.
#[derive(Default)]
pub struct Count {
    pub mutations: u64,
    pub refused: u64,
    pub original: u64,
    pub forgeries: u64,
    pub panics: u64,
}

/// Prints the table of `counts` (the `control` class is shown but not
/// summed) with `original` as the third column's heading, and returns
/// the sum over the mutation classes.
pub fn report(counts: &BTreeMap<&str, Count>, control: &str, original: &str) -> Count {
    eprintln!(
        "| mutation class | mutations | refused | {original} | forgeries accepted | panics |"
    );
    eprintln!("|---|---:|---:|---:|---:|---:|");
    let mut sum = Count::default();
    for (name, c) in counts {
        eprintln!(
            "| {name} | {} | {} | {} | {} | {} |",
            c.mutations, c.refused, c.original, c.forgeries, c.panics
        );
        if *name == control {
            continue;
        }
        sum.mutations += c.mutations;
        sum.refused += c.refused;
        sum.original += c.original;
        sum.forgeries += c.forgeries;
        sum.panics += c.panics;
    }
    eprintln!(
        "| all mutations | {} | {} | {} | **{}** | **{}** |",
        sum.mutations, sum.refused, sum.original, sum.forgeries, sum.panics
    );
    sum
}

/// Runs `per_class` mutations of each of `classes`, over the originals in
/// turn: `mutate(class, which, rng)` makes a text from original `which`,
/// and `judge(text)` says what a text that verifies was signed over (none:
/// refused). The original's own signed content counts as the original;
/// anything else is a forgery accepted, printed with its text. A panic is
/// caught and counted.
pub fn run<S: PartialEq>(
    classes: &[&'static str],
    per_class: u64,
    originals: &[S],
    seed: u64,
    mut mutate: impl FnMut(&str, usize, &mut Rng) -> String,
    judge: impl Fn(&str, usize) -> Option<S>,
) -> BTreeMap<&'static str, Count> {
    use std::panic::{catch_unwind, AssertUnwindSafe};
    let mut rng = Rng(seed);
    let mut counts: BTreeMap<&'static str, Count> = BTreeMap::new();
    for &class in classes {
        let c = counts.entry(class).or_default();
        for n in 0..per_class {
            let which = (n as usize) % originals.len();
            let text = mutate(class, which, &mut rng);
            c.mutations += 1;
            match catch_unwind(AssertUnwindSafe(|| judge(&text, which))) {
                Err(_) => c.panics += 1,
                Ok(None) => c.refused += 1,
                Ok(Some(signed)) if signed == originals[which] => c.original += 1,
                Ok(Some(_)) => {
                    eprintln!("FORGERY ACCEPTED ({class}): {text}");
                    c.forgeries += 1;
                }
            }
        }
    }
    counts
}

/// A random member or item of `v` (a JSON pointer to it), to change: each
/// level down stops there one time in `stop`.
pub fn leaf(v: &serde_json::Value, rng: &mut Rng, stop: usize) -> String {
    let mut path = String::new();
    let mut at = v;
    loop {
        let next = match at {
            serde_json::Value::Object(m) if !m.is_empty() => {
                let (k, child) = m.iter().nth(rng.below(m.len())).expect("a member");
                path.push('/');
                path.push_str(&k.replace('~', "~0").replace('/', "~1"));
                child
            }
            serde_json::Value::Array(a) if !a.is_empty() => {
                let i = rng.below(a.len());
                path.push_str(&format!("/{i}"));
                &a[i]
            }
            _ => return path,
        };
        if rng.below(stop) == 0 {
            return path;
        }
        at = next;
    }
}
