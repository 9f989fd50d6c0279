//! The JSON-LD context documents a DIVOC certificate may name, built in so
//! that a checkpoint never fetches one (their source and hashes:
//! `contexts/SOURCE.md`). A URL not listed here is refused by name.

/// The W3C Verifiable Credentials context every certificate names first.
pub const CREDENTIALS_V1: &str = "https://www.w3.org/2018/credentials/v1";
/// The context a proof's options are read with (jsonld-signatures').
pub const SECURITY_V2: &str = "https://w3id.org/security/v2";

const CREDENTIALS: &str = include_str!("contexts/credentials-v1.json");
const SEC_V1: &str = include_str!("contexts/security-v1.json");
const SEC_V2: &str = include_str!("contexts/security-v2.json");
const COWIN_V1: &str = include_str!("contexts/cowin-vaccination-v1.json");
const COWIN_V2: &str = include_str!("contexts/cowin-vaccination-v2.json");

/// Every URL known, with its document.
pub const BUNDLED: &[(&str, &str)] = &[
    (CREDENTIALS_V1, CREDENTIALS),
    ("https://w3id.org/security/v1", SEC_V1),
    (SECURITY_V2, SEC_V2),
    ("https://cowin.gov.in/credentials/vaccination/v1", COWIN_V1),
    ("https://cowin.gov.in/credentials/vaccination/v2", COWIN_V2),
    (
        "https://divoc.prod/vaccine/credentials/vaccination/v1",
        COWIN_V2,
    ),
    (
        "https://divoc.lgcc.gov.lk/credentials/vaccination/v1",
        COWIN_V2,
    ),
    (
        "https://www.pedulilindungi.id/credentials/vaccination/v2",
        COWIN_V2,
    ),
];

/// The `@context` of `url`'s document, parsed once for the process: `None`
/// if the URL is not built in. (A built-in document that did not parse
/// would fail its test below; here it reads as not built in.)
pub fn context(url: &str) -> Option<&'static serde_json::Value> {
    use std::sync::OnceLock;
    static PARSED: OnceLock<Vec<(&'static str, serde_json::Value)>> = OnceLock::new();
    let parsed = PARSED.get_or_init(|| {
        BUNDLED
            .iter()
            .filter_map(|(u, d)| {
                let mut v: serde_json::Value = serde_json::from_str(d).ok()?;
                Some((*u, v.get_mut("@context")?.take()))
            })
            .collect()
    });
    parsed.iter().find(|(u, _)| *u == url).map(|(_, v)| v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_bundled_context_is_json_with_a_context() {
        for (url, doc) in BUNDLED {
            let v: serde_json::Value = serde_json::from_str(doc).unwrap();
            assert!(v.get("@context").is_some(), "{url}");
        }
        assert!(context("https://w3id.org/security/v3-unstable").is_none());
        for (url, _) in BUNDLED {
            assert!(context(url).is_some(), "{url}");
        }
    }
}
