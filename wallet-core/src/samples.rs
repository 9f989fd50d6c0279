//! Example credentials with fixed contents, for tests, benchmarks and the
//! spec's test vectors. Nothing here is used to issue real credentials.

use crate::credential::{
    Body, Credential, Holder, PartialDate, RecoveryEntry, TestEntry, TestResult, TestType,
    VaccinationEntry, Venue,
};
use crate::keys::SigningKey;
use time::macros::{date, datetime};

/// The spec's fixed Ed25519 test key: seed bytes 0x00, 0x01, …, 0x1f.
pub fn ed25519_test_key() -> SigningKey {
    let mut seed = [0u8; 32];
    for (i, b) in seed.iter_mut().enumerate() {
        *b = i as u8;
    }
    SigningKey::ed25519_from_seed(&seed)
}

/// The spec's fixed P-256 test key (for the eu-dcc profile signed with ES256):
/// scalar bytes 0x01 repeated 32 times.
pub fn p256_test_key() -> SigningKey {
    match SigningKey::p256_from_bytes(&[1u8; 32]) {
        Ok(k) => k,
        // 0x0101… is far below the P-256 group order, so this cannot happen.
        Err(e) => unreachable!("fixed P-256 test scalar rejected: {e}"),
    }
}

/// Issue time of every sample: 2026-03-01T08:00:00Z.
pub fn issued_at() -> i64 {
    datetime!(2026-03-01 08:00 UTC).unix_timestamp()
}

/// A holder whose name is exactly 30 characters, the size budget's case.
pub fn holder() -> Holder {
    Holder {
        name: "Maria-Fernanda Oliveira Santos".into(),
        dob: PartialDate {
            year: 1987,
            month: Some(6),
            day: Some(15),
        },
    }
}

fn credential(id_byte: u8, days_valid: i64, body: Body) -> Credential {
    Credential {
        id: hex::encode([id_byte; 16]),
        issuer: "CN-SC".into(),
        issued_at: issued_at(),
        expires_at: issued_at() + days_valid * 86_400,
        body,
    }
}

/// A negative PCR test sampled half an hour before issue, valid 3 days.
pub fn test() -> Credential {
    credential(
        0x11,
        3,
        Body::Test {
            holder: holder(),
            test: TestEntry {
                test_type: TestType::Naat,
                result: TestResult::Negative,
                sampled_at: issued_at() - 1800,
                centre: None,
            },
        },
    )
}

/// A completed two-dose vaccination, valid 365 days.
pub fn vaccination() -> Credential {
    credential(
        0x22,
        365,
        Body::Vaccination {
            holder: holder(),
            vaccination: VaccinationEntry {
                prophylaxis: "J07BX03".into(),
                product: "EU/1/20/1528".into(),
                manufacturer: "ORG-100030215".into(),
                dose: 2,
                doses: 2,
                date: date!(2026 - 02 - 10),
            },
        },
    )
}

/// A recovery certificate valid from day 11 to day 180 after the positive test.
pub fn recovery() -> Credential {
    credential(
        0x33,
        180,
        Body::Recovery {
            holder: holder(),
            recovery: RecoveryEntry {
                first_positive: date!(2026 - 02 - 10),
                valid_from: date!(2026 - 02 - 21),
                valid_until: date!(2026 - 08 - 09),
            },
        },
    )
}

/// A venue code for a metro station, valid 365 days.
pub fn venue() -> Credential {
    credential(
        0x44,
        365,
        Body::Venue {
            venue: Venue {
                id: "CD-METRO-L2-017".into(),
                name: "Tianfu Square Station, Gate B".into(),
                area: "Chengdu Jinjiang".into(),
            },
        },
    )
}

/// All four kinds.
pub fn all() -> Vec<Credential> {
    vec![test(), vaccination(), recovery(), venue()]
}
