use super::*;
use crate::checkpoint::check::check;
use crate::keys::SigningKey;
use crate::samples;
use crate::verify::issue;
use crate::wire::envelope::Profile;

fn at(t: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(t).unwrap()
}

/// Valid codes with a few of every other sort mixed in.
fn mixed(n: usize) -> Vec<String> {
    let key = samples::ed25519_test_key();
    let stranger = SigningKey::ed25519_from_seed(&[0x42; 32]);
    let mut texts = Vec::new();
    for i in 0..n {
        let mut c = samples::test();
        c.id = format!("{:032x}", i + 1);
        let text = issue(&c, Profile::Native, &key).unwrap();
        texts.push(match i % 50 {
            7 => {
                // A signature that does not match: flip one signature bit.
                let (_, bytes) = crate::wire::envelope::open(&text).unwrap();
                let mut cose = crate::wire::cose::CoseSign1::from_bytes(&bytes).unwrap();
                cose.signature[5] ^= 1;
                crate::wire::envelope::seal(Profile::Native, &cose.to_bytes())
            }
            13 => issue(&c, Profile::Native, &stranger).unwrap(),
            21 => "HCN1:garbage".to_string(),
            33 => issue(&c, Profile::EuDcc, &samples::p256_test_key()).unwrap(),
            _ => text,
        });
    }
    texts
}

#[test]
fn the_same_verdicts_as_one_by_one_in_input_order() {
    let cp = samples::checkpoint();
    let now = at(samples::issued_at() + 3600);
    let texts = mixed(700);
    let single: Vec<Verdict> = texts
        .iter()
        .map(|t| check(t, &cp, "transport", now).unwrap())
        .collect();
    for threads in [1, 2, 3] {
        let batched = check_batch(&texts, &cp, "transport", now, threads).unwrap();
        assert_eq!(batched, single, "threads={threads}");
    }
    let invalid = single.iter().filter(|v| !v.valid).count();
    // 7, 13 and 21 of every 50 are invalid; 33 is a valid ES256 code (single path).
    assert_eq!(invalid, 3 * 14);
}

#[test]
fn a_bad_signature_in_a_full_batch_is_found() {
    let cp = samples::checkpoint();
    let now = at(samples::issued_at() + 3600);
    let key = samples::ed25519_test_key();
    let good = issue(&samples::test(), Profile::Native, &key).unwrap();
    let mut texts = vec![good.clone(); BATCH];
    let (_, bytes) = crate::wire::envelope::open(&good).unwrap();
    let mut cose = crate::wire::cose::CoseSign1::from_bytes(&bytes).unwrap();
    cose.signature[40] ^= 0x80;
    texts[BATCH / 2] = crate::wire::envelope::seal(Profile::Native, &cose.to_bytes());
    let verdicts = check_batch(&texts, &cp, "transport", now, 2).unwrap();
    for (i, v) in verdicts.iter().enumerate() {
        assert_eq!(v.valid, i != BATCH / 2, "code {i}");
    }
    assert!(matches!(
        verdicts[BATCH / 2].reasons[..],
        [crate::verify::Reason::BadSignature { .. }]
    ));
}

#[test]
fn empty_input_and_unknown_profiles() {
    let cp = samples::checkpoint();
    let now = at(samples::issued_at());
    let none: [&str; 0] = [];
    assert!(check_batch(&none, &cp, "transport", now, 4)
        .unwrap()
        .is_empty());
    assert!(check_batch(&["x"], &cp, "stadium", now, 1).is_err());
}
