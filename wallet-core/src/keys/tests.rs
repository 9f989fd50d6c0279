use super::*;

fn ed() -> SigningKey {
    SigningKey::ed25519_from_seed(&[7u8; 32])
}

fn p256() -> SigningKey {
    SigningKey::p256_from_bytes(&[9u8; 32]).unwrap()
}

#[test]
fn sign_and_verify_each_algorithm() {
    for key in [ed(), p256()] {
        let public = key.issuer_key("test");
        let sig = key.sign(b"message");
        assert_eq!(sig, key.sign(b"message"), "deterministic");
        public
            .verify(key.algorithm().cose_id(), b"message", &sig)
            .unwrap();
        assert_eq!(
            public.verify(key.algorithm().cose_id(), b"messagf", &sig),
            Err(SignatureError::Mismatch)
        );
    }
}

#[test]
fn algorithm_must_match_the_key() {
    let key = ed();
    let public = key.issuer_key("test");
    let sig = key.sign(b"m");
    let err = public.verify(-7, b"m", &sig).unwrap_err();
    assert_eq!(
        err,
        SignatureError::AlgorithmNotAllowed {
            used: "ES256".into(),
            bound: Algorithm::EdDsa
        }
    );
    assert!(matches!(
        public.verify(-999, b"m", &sig),
        Err(SignatureError::AlgorithmNotAllowed { .. })
    ));
    // An EC key claimed to be EdDSA is refused even if the header says EdDSA.
    let mut lying = p256().issuer_key("x");
    lying.algorithm = Algorithm::EdDsa;
    assert!(matches!(
        lying.verify(-8, b"m", &sig),
        Err(SignatureError::AlgorithmNotAllowed { .. })
    ));
}

#[test]
fn malformed_signatures_are_named() {
    let public = ed().issuer_key("t");
    assert!(matches!(
        public.verify(-8, b"m", &[1, 2, 3]),
        Err(SignatureError::Malformed(_))
    ));
    let public = p256().issuer_key("t");
    assert!(matches!(
        public.verify(-7, b"m", &[0u8; 64]),
        Err(SignatureError::Malformed(_))
    ));
}

#[test]
fn kid_is_sha256_of_spki() {
    let key = ed();
    let spki = key.public_key().spki_der();
    // RFC 8410 SPKI prefix for Ed25519.
    assert_eq!(hex::encode(&spki[..12]), "302a300506032b6570032100");
    let digest = Sha256::digest(&spki);
    assert_eq!(key.kid(), digest[..8]);
}

#[test]
fn pem_round_trip_and_debug_hides_secret() {
    for key in [ed(), p256()] {
        let pem = key.to_pkcs8_pem().unwrap();
        assert!(pem.starts_with("-----BEGIN PRIVATE KEY-----"));
        let back = SigningKey::from_pkcs8_pem(&pem).unwrap();
        assert_eq!(back.kid(), key.kid());
        let debug = format!("{key:?}");
        assert!(debug.contains("secret hidden"));
        assert!(!debug.contains(&hex::encode([7u8; 32])));
    }
    assert!(SigningKey::from_pkcs8_pem("garbage").is_err());
}

#[test]
fn window_and_kinds() {
    let mut k = ed().issuer_key("t");
    assert!(k.valid_at(0) && k.allows(CredentialKind::Venue));
    k.not_before = Some(10);
    k.not_after = Some(20);
    k.kinds = Some(vec![CredentialKind::Test]);
    assert!(!k.valid_at(9) && k.valid_at(10) && k.valid_at(20) && !k.valid_at(21));
    assert!(k.allows(CredentialKind::Test) && !k.allows(CredentialKind::Venue));
}

#[test]
fn public_keys_round_trip_through_pem() {
    for key in [ed(), p256()] {
        let pem = key.public_key().to_pem();
        assert!(pem.starts_with("-----BEGIN PUBLIC KEY-----\n"));
        let back = PublicKey::from_pem(&pem).unwrap();
        assert_eq!(back, key.public_key());
        let pinned = IssuerKey::from_public_key(back, "anchor");
        assert_eq!(pinned.kid, key.kid().to_vec());
        assert_eq!(pinned.algorithm, key.algorithm());
    }
    assert!(PublicKey::from_pem("hello").is_err());
    let garbage = "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----";
    assert!(PublicKey::from_pem(garbage)
        .unwrap_err()
        .to_string()
        .contains("SubjectPublicKeyInfo"));
}

/// The native fast path (ring) and the pure-Rust path a browser uses give
/// the same verdict: on good signatures, on tampered ones, on high-s ECDSA
/// signatures, and on RSA-PSS with a salt length ring does not take.
#[test]
fn fast_and_pure_signature_checks_agree() {
    use p256::ecdsa::signature::{Signer as _, Verifier as _};
    let sk = p256::ecdsa::SigningKey::from_slice(&[9u8; 32]).unwrap();
    let vk = *sk.verifying_key();
    let key = IssuerKey::new(vec![1], Algorithm::Es256, PublicKey::P256(vk), "t");
    let es256 = Algorithm::Es256.cose_id();
    for i in 0..20u8 {
        let msg = [i; 40];
        let sig: p256::ecdsa::Signature = sk.sign(&msg);
        let low = sig.to_bytes().to_vec();
        // The same signature with s replaced by n - s: valid ECDSA, which
        // both paths accept.
        let high = {
            let (r, s) = sig.split_scalars();
            p256::ecdsa::Signature::from_scalars(r, -*s)
                .unwrap()
                .to_bytes()
                .to_vec()
        };
        let mut bad = low.clone();
        bad[i as usize % 64] ^= 1;
        for sig in [low, high, bad] {
            let pure = p256::ecdsa::Signature::from_slice(&sig)
                .map(|s| vk.verify(&msg, &s).is_ok())
                .unwrap_or(false);
            assert_eq!(key.verify(es256, &msg, &sig).is_ok(), pure);
        }
    }

    // RSA-PSS: salt 32 (what EU issuers use) verifies, on keys of 2048 bits
    // (ring's) and 1024 bits (which ring refuses and the pure path takes,
    // as before the fast path); other salt lengths are refused by both.
    let mut rng = rand_core::OsRng;
    use rsa::signature::RandomizedSigner as _;
    for bits in [2048, 1024] {
        let rsa_key = rsa::RsaPrivateKey::new(&mut rng, bits).unwrap();
        let public = rsa_key.to_public_key();
        let key = IssuerKey::new(vec![2], Algorithm::Ps256, PublicKey::Rsa(public), "t");
        let ps256 = Algorithm::Ps256.cose_id();
        for salt in [32usize, 20] {
            let signer = rsa::pss::SigningKey::<Sha256>::new_with_salt_len(rsa_key.clone(), salt);
            let sig = rsa::signature::SignatureEncoding::to_vec(
                &signer.sign_with_rng(&mut rng, b"message"),
            );
            assert_eq!(
                key.verify(ps256, b"message", &sig).is_ok(),
                salt == 32,
                "{bits} bits, salt {salt}"
            );
            let mut bad = sig.clone();
            bad[10] ^= 1;
            assert!(
                key.verify(ps256, b"message", &bad).is_err(),
                "{bits} bits, salt {salt}"
            );
            assert!(
                key.verify(ps256, b"other", &sig).is_err(),
                "{bits} bits, salt {salt}"
            );
        }
    }
}

#[test]
fn a_public_key_pem_over_the_limit_names_the_limit() {
    let pem = format!(
        "-----BEGIN PUBLIC KEY-----\n{}\n-----END PUBLIC KEY-----\n",
        "A".repeat(MAX_PEM_BODY + 4)
    );
    let e = PublicKey::from_pem(&pem).unwrap_err().to_string();
    assert!(
        e.contains("8196 base64 characters, more than the 8192 allowed"),
        "{e}"
    );
}
