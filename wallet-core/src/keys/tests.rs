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
