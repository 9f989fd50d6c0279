//! `icao::curve`'s ECDSA verification on P-384 and P-521 agrees with the
//! RustCrypto `p384` and `p521` crates: on their signatures over random
//! messages by random keys, on those signatures with bits flipped, on other
//! messages, and on the `(r, n − s)` twin each signature has.

use p256::ecdsa::signature::hazmat::PrehashVerifier as _;
use rand_core::{OsRng, RngCore};
use sha2::{Digest, Sha384, Sha512};
use wallet_core::icao::curve::{Curve, PublicPoint};

const ROUNDS: usize = 40;

fn flip(bytes: &[u8], rng: &mut OsRng) -> Vec<u8> {
    let mut b = bytes.to_vec();
    let i = (rng.next_u32() as usize) % b.len();
    b[i] ^= 1 << (rng.next_u32() % 8);
    b
}

/// `n − s` for a big-endian `s` of `len` bytes.
fn negate(s: &[u8], n_hex: &str, len: usize) -> Vec<u8> {
    let n = rsa::BigUint::parse_bytes(n_hex.as_bytes(), 16).unwrap();
    let v = (n - rsa::BigUint::from_bytes_be(s)).to_bytes_be();
    let mut out = vec![0; len - v.len()];
    out.extend(v);
    out
}

#[test]
fn p384_verdicts_match_the_p384_crate() {
    let mut rng = OsRng;
    let curve = Curve::p384();
    for _ in 0..ROUNDS {
        let key = p384::ecdsa::SigningKey::random(&mut rng);
        let vk = *key.verifying_key();
        let point = PublicPoint::from_sec1(
            curve,
            vk.to_encoded_point(rng.next_u32() % 2 == 0).as_bytes(),
        )
        .unwrap();
        let mut msg = [0u8; 40];
        rng.fill_bytes(&mut msg);
        let digest = Sha384::digest(msg);
        let sig: p384::ecdsa::Signature =
            p384::ecdsa::signature::hazmat::PrehashSigner::sign_prehash(&key, &digest).unwrap();
        let raw = sig.to_bytes();
        let (r, s) = raw.split_at(48);
        let theirs = |d: &[u8], r: &[u8], s: &[u8]| {
            let mut b = r.to_vec();
            b.extend(s);
            p384::ecdsa::Signature::from_slice(&b)
                .map(|sig| vk.verify_prehash(d, &sig).is_ok())
                .unwrap_or(false)
        };
        assert!(point.verify_prehash(&digest, r, s));
        let twin = negate(s, "ffffffffffffffffffffffffffffffffffffffffffffffffc7634d81f4372ddf581a0db248b0a77aecec196accc52973", 48);
        assert_eq!(
            point.verify_prehash(&digest, r, &twin),
            theirs(&digest, r, &twin)
        );
        for (d, r2, s2) in [
            (flip(&digest, &mut rng), r.to_vec(), s.to_vec()),
            (digest.to_vec(), flip(r, &mut rng), s.to_vec()),
            (digest.to_vec(), r.to_vec(), flip(s, &mut rng)),
            (digest.to_vec(), s.to_vec(), r.to_vec()),
        ] {
            assert_eq!(point.verify_prehash(&d, &r2, &s2), theirs(&d, &r2, &s2));
            assert!(!point.verify_prehash(&d, &r2, &s2));
        }
        // A SHA-512 digest is cut to the order's 384 bits, as the crate does.
        let long = Sha512::digest(msg);
        let sig: p384::ecdsa::Signature =
            p384::ecdsa::signature::hazmat::PrehashSigner::sign_prehash(&key, &long).unwrap();
        let raw = sig.to_bytes();
        assert!(point.verify_prehash(&long, &raw[..48], &raw[48..]));
    }
}

#[test]
fn p521_verdicts_match_the_p521_crate() {
    use p521::ecdsa::signature::hazmat::{PrehashVerifier, RandomizedPrehashSigner};
    let mut rng = OsRng;
    let curve = Curve::p521();
    for _ in 0..ROUNDS / 2 {
        let key = p521::ecdsa::SigningKey::random(&mut rng);
        let vk = p521::ecdsa::VerifyingKey::from(&key);
        let point = PublicPoint::from_sec1(curve, vk.to_encoded_point(false).as_bytes()).unwrap();
        let mut msg = [0u8; 40];
        rng.fill_bytes(&mut msg);
        let digest = Sha512::digest(msg);
        let sig: p521::ecdsa::Signature = key.sign_prehash_with_rng(&mut rng, &digest).unwrap();
        let raw = sig.to_bytes();
        let (r, s) = raw.split_at(66);
        let theirs = |d: &[u8], r: &[u8], s: &[u8]| {
            let mut b = r.to_vec();
            b.extend(s);
            p521::ecdsa::Signature::from_slice(&b)
                .map(|sig| vk.verify_prehash(d, &sig).is_ok())
                .unwrap_or(false)
        };
        assert!(point.verify_prehash(&digest, r, s));
        for (d, r2, s2) in [
            (flip(&digest, &mut rng), r.to_vec(), s.to_vec()),
            (digest.to_vec(), flip(r, &mut rng), s.to_vec()),
            (digest.to_vec(), r.to_vec(), flip(s, &mut rng)),
        ] {
            assert_eq!(point.verify_prehash(&d, &r2, &s2), theirs(&d, &r2, &s2));
        }
    }
}
