//! `verifier conformance <dir>`: runs the public EU DCC test vectors.
//!
//! Each case file carries the data of every pipeline stage (PREFIX, BASE45,
//! COMPRESSED, COSE, CBOR, JSON, 2DCODE) and a set of `EXPECTED*` booleans. For
//! every flag present, the stage it names is run through wallet-core and its
//! outcome compared with the flag. The flag definitions are upstream's
//! (UPSTREAM-README.md); a flag whose stage input is missing from the file is
//! counted as not testable, as upstream does.

use base64::Engine as _;
use serde_json::Value as Json;
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use time::OffsetDateTime;
use wallet_core::credential::dcc;
use wallet_core::credential::instant;
use wallet_core::keys::dsc;
use wallet_core::verify::check_signature;
use wallet_core::wire::claims::CwtClaims;
use wallet_core::wire::cose::CoseSign1;
use wallet_core::wire::envelope::{self, Profile};
use wallet_core::wire::qr;
use wallet_core::{IssuerKey, KeySet};

/// The flags upstream defines.
pub const FLAGS: [&str; 12] = [
    "EXPECTEDPICTUREDECODE",
    "EXPECTEDUNPREFIX",
    "EXPECTEDB45DECODE",
    "EXPECTEDCOMPRESSION",
    "EXPECTEDVERIFY",
    "EXPECTEDDECODE",
    "EXPECTEDVALIDJSON",
    "EXPECTEDSCHEMAVALIDATION",
    "EXPECTEDVALIDOBJECT",
    "EXPECTEDENCODE",
    "EXPECTEDEXPIRATIONCHECK",
    "EXPECTEDKEYUSAGE",
];

/// One flag whose outcome differed from the file's expectation.
#[derive(Clone, Debug)]
pub struct Mismatch {
    pub file: PathBuf,
    pub flag: String,
    pub expected: bool,
    pub detail: String,
    /// The upstream issue link when known_issues.csv lists this case and step.
    pub known_issue: Option<String>,
}

#[derive(Debug, Default)]
pub struct Report {
    pub total: usize,
    pub as_expected: usize,
    /// Cases that differ only where upstream's known_issues.csv says they do.
    pub known_issues: usize,
    pub mismatches: Vec<Mismatch>,
    /// Flags present but not testable because their stage input is missing.
    pub not_testable: usize,
    /// Flags checked in all.
    pub checked: usize,
    /// Keys in EXPECTEDRESULTS that upstream does not define (tolerated, counted).
    pub undefined_flags: BTreeMap<String, usize>,
}

impl Report {
    /// Whether the run checked anything at all (a folder with no case it
    /// understands is an error, not a pass).
    pub fn checked_anything(&self) -> bool {
        self.checked > 0
    }

    /// The summary line, last line of the command's output.
    pub fn summary(&self) -> String {
        if self.checked == 0 {
            return format!(
                "conformance: nothing checked: {} case files, no EXPECTED* flag this verifier could test",
                self.total
            );
        }
        let counted = self.total - self.known_issues;
        let mut line = format!("conformance: {}/{} as expected", self.as_expected, counted);
        if self.known_issues > 0 {
            line.push_str(&format!(
                ", {} excused by upstream known_issues.csv",
                self.known_issues
            ));
        }
        line
    }
}

/// Outcome of one stage: `Ok((true, _))` it succeeded, `Ok((false, _))` it
/// ran and failed (the text says how), `Err(Untestable)` its input is absent.
type Outcome = Result<(bool, String), Untestable>;

/// A stage could not run because the case file lacks its input.
#[derive(Debug)]
pub struct Untestable(pub String);

/// Schemas by version, loaded from the schema folder.
pub struct Schemas {
    dir: Option<PathBuf>,
    /// Version folders under `dir`, oldest first (read once).
    versions: Vec<String>,
    cache: HashMap<String, Result<jsonschema::Validator, String>>,
}

impl Schemas {
    pub fn new(dir: Option<PathBuf>) -> Schemas {
        let versions = dir.as_deref().map(Self::list_versions).unwrap_or_default();
        Schemas {
            dir,
            versions,
            cache: HashMap::new(),
        }
    }

    fn list_versions(dir: &Path) -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(dir)
            .into_iter()
            .flatten()
            .flatten()
            .filter(|e| e.path().is_dir())
            .filter_map(|e| e.file_name().into_string().ok())
            .collect();
        v.sort_by_key(|s| {
            s.split('.')
                .map(|p| p.parse::<u32>().unwrap_or(0))
                .collect::<Vec<_>>()
        });
        v
    }

    /// The validator for `version`, or for the newest schema when there is
    /// no folder for that exact version.
    fn validator(&mut self, version: &str) -> Result<(&jsonschema::Validator, String), String> {
        let versions = &self.versions;
        let Some(dir) = self.dir.clone() else {
            return Err("no schema folder (pass --schemas DIR)".into());
        };
        let chosen = if versions.iter().any(|v| v == version) {
            version.to_string()
        } else {
            versions.last().cloned().ok_or("schema folder is empty")?
        };
        let entry = self.cache.entry(chosen.clone()).or_insert_with(|| {
            let folder = dir.join(&chosen);
            let file = std::fs::read_dir(&folder)
                .map_err(|e| format!("{}: {e}", folder.display()))?
                .flatten()
                .map(|e| e.path())
                .find(|p| p.to_string_lossy().ends_with("combined-schema.json"))
                .ok_or_else(|| format!("no *combined-schema.json in {}", folder.display()))?;
            let text =
                std::fs::read_to_string(&file).map_err(|e| format!("{}: {e}", file.display()))?;
            let schema: Json =
                serde_json::from_str(&text).map_err(|e| format!("{}: {e}", file.display()))?;
            jsonschema::validator_for(&schema).map_err(|e| format!("{}: {e}", file.display()))
        });
        match entry {
            Ok(v) => Ok((v, chosen)),
            Err(e) => Err(e.clone()),
        }
    }

    /// Validates `instance` against the schema of `version`.
    pub fn check(&mut self, version: &str, instance: &Json) -> Result<(bool, String), String> {
        let (validator, chosen) = self.validator(version)?;
        let errors: Vec<String> = validator
            .iter_errors(instance)
            .take(3)
            .map(|e| format!("{} at {}", e, e.instance_path))
            .collect();
        if errors.is_empty() {
            Ok((true, format!("valid against schema {chosen}")))
        } else {
            Ok((false, format!("schema {chosen}: {}", errors.join("; "))))
        }
    }
}

/// upstream's known_issues.csv: (test name, country, test set) → link.
pub struct KnownIssues(Vec<(String, String, String, String)>);

impl KnownIssues {
    pub fn load(dir: &Path) -> KnownIssues {
        let text = std::fs::read_to_string(dir.join("known_issues.csv")).unwrap_or_default();
        KnownIssues(
            text.lines()
                .skip(1)
                .filter_map(|l| {
                    let f: Vec<&str> = l.split(',').map(str::trim).collect();
                    (f.len() >= 4).then(|| (f[0].into(), f[1].into(), f[2].into(), f[3].into()))
                })
                .collect(),
        )
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The upstream test that checks a flag.
    fn test_name(flag: &str) -> &'static [&'static str] {
        match flag {
            // Upstream's harness has one schema test; it stands for both flags
            // that validate the payload against the schema.
            "EXPECTEDSCHEMAVALIDATION" | "EXPECTEDVALIDOBJECT" => &["test_cose_schema"],
            "EXPECTEDDECODE" => &["test_cose_json", "test_cose_cbor"],
            "EXPECTEDVALIDJSON" => &["test_cbor_json"],
            "EXPECTEDVERIFY" => &["test_verification_check"],
            "EXPECTEDEXPIRATIONCHECK" => &["test_expiration_check"],
            "EXPECTEDKEYUSAGE" => &["test_expected_key_usage"],
            "EXPECTEDCOMPRESSION" => &["test_compression"],
            "EXPECTEDB45DECODE" => &["test_b45decode"],
            "EXPECTEDUNPREFIX" => &["test_un_prefix"],
            "EXPECTEDPICTUREDECODE" => &["test_picture_decode"],
            _ => &[],
        }
    }

    /// The link for this case and flag, when upstream lists it (an empty
    /// test name or test set in the CSV matches any).
    fn lookup(&self, country: &str, set: &str, flag: &str) -> Option<String> {
        let names = Self::test_name(flag);
        self.0
            .iter()
            .find(|(t, c, s, _)| {
                (t.is_empty() || names.contains(&t.as_str()))
                    && c == country
                    && (s.is_empty() || s == set)
            })
            .map(|(_, _, _, link)| link.clone())
    }
}

/// Every `*.json` file under `dir`, sorted, skipping nothing but non-JSON.
pub fn case_files(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d)? {
            let path = entry?.path();
            if path.is_dir() {
                stack.push(path);
            } else if path
                .extension()
                .is_some_and(|e| e.eq_ignore_ascii_case("json"))
            {
                out.push(path);
            }
        }
    }
    out.sort();
    Ok(out)
}

/// Runs every case under `dir`.
pub fn run(dir: &Path, schemas: &mut Schemas) -> std::io::Result<Report> {
    let known = KnownIssues::load(dir);
    let mut report = Report::default();
    for file in case_files(dir)? {
        let rel = file.strip_prefix(dir).unwrap_or(&file).to_path_buf();
        // The country is the first folder, the test set the file stem.
        let country = rel
            .components()
            .next()
            .map(|c| c.as_os_str().to_string_lossy().to_string())
            .unwrap_or_default();
        let set = file
            .file_stem()
            .map(|s| s.to_string_lossy().to_string())
            .unwrap_or_default();
        report.total += 1;
        let mut case_mismatches = Vec::new();
        match std::fs::read_to_string(&file)
            .map_err(|e| e.to_string())
            .and_then(|t| serde_json::from_str::<Json>(&t).map_err(|e| e.to_string()))
        {
            Err(e) => case_mismatches.push(Mismatch {
                file: rel.clone(),
                flag: "FILE".into(),
                expected: true,
                detail: format!("unreadable test case: {e}"),
                known_issue: None,
            }),
            Ok(json) => {
                let case = Case::new(&json);
                for (flag, expected) in case.flags(&mut report.undefined_flags) {
                    match case.outcome(&flag, schemas) {
                        Err(Untestable(_)) => report.not_testable += 1,
                        Ok((actual, detail)) => {
                            report.checked += 1;
                            if actual != expected {
                                case_mismatches.push(Mismatch {
                                    file: rel.clone(),
                                    known_issue: known.lookup(&country, &set, &flag),
                                    flag,
                                    expected,
                                    detail,
                                });
                            }
                        }
                    }
                }
            }
        }
        if case_mismatches.is_empty() {
            report.as_expected += 1;
        } else if case_mismatches.iter().all(|m| m.known_issue.is_some()) {
            report.known_issues += 1;
        }
        report.mismatches.extend(case_mismatches);
    }
    Ok(report)
}

fn hex_field(json: &Json, key: &str) -> Result<Vec<u8>, Untestable> {
    let s = json
        .get(key)
        .and_then(Json::as_str)
        .ok_or_else(|| Untestable(format!("no {key}")))?;
    hex::decode(s.trim()).map_err(|e| Untestable(format!("{key} is not hex: {e}")))
}

/// One test case file.
struct Case<'a> {
    json: &'a Json,
}

impl<'a> Case<'a> {
    fn new(json: &'a Json) -> Case<'a> {
        Case { json }
    }

    /// The boolean flags in EXPECTEDRESULTS. Keys upstream does not define
    /// (a misspelling, a nested copy) are counted in `undefined` and skipped.
    fn flags(&self, undefined: &mut BTreeMap<String, usize>) -> Vec<(String, bool)> {
        let mut out = Vec::new();
        if let Some(map) = self.json.get("EXPECTEDRESULTS").and_then(Json::as_object) {
            for (k, v) in map {
                match (FLAGS.contains(&k.as_str()), v.as_bool()) {
                    (true, Some(b)) => out.push((k.clone(), b)),
                    _ => *undefined.entry(k.clone()).or_default() += 1,
                }
            }
        }
        out
    }

    fn text(&self, key: &str) -> Option<&'a str> {
        self.json.get(key).and_then(Json::as_str)
    }

    fn ctx(&self, key: &str) -> Option<&'a str> {
        self.json
            .get("TESTCTX")
            .and_then(|c| c.get(key))
            .and_then(Json::as_str)
    }

    fn dsc(&self) -> Result<Result<IssuerKey, String>, Untestable> {
        let cert = self
            .ctx("CERTIFICATE")
            .ok_or_else(|| Untestable("no TESTCTX.CERTIFICATE".into()))?;
        Ok(dsc::issuer_key_from_text(cert).map_err(|e| e.to_string()))
    }

    fn cose(&self) -> Result<Result<CoseSign1, String>, Untestable> {
        let bytes = hex_field(self.json, "COSE")?;
        Ok(CoseSign1::from_bytes(&bytes).map_err(|e| e.to_string()))
    }

    /// hcert[1] of the COSE payload, as JSON.
    fn cose_hcert(&self) -> Result<Result<(Json, CwtClaims), String>, Untestable> {
        Ok(self.cose()?.and_then(|cose| {
            let claims = CwtClaims::from_bytes(&cose.payload).map_err(|e| e.to_string())?;
            let hcert = claims.hcert.as_ref().ok_or("no hcert (-260) claim")?;
            let json = dcc::cbor_to_json(hcert)?;
            Ok((json, claims))
        }))
    }

    /// The CBOR field: either hcert[1] itself or a whole claims map.
    fn cbor_payload(&self) -> Result<Result<Json, String>, Untestable> {
        let bytes = hex_field(self.json, "CBOR")?;
        Ok((|| {
            let value = wallet_core::wire::cbor::decode(&bytes).map_err(|e| e.to_string())?;
            if let wallet_core::wire::cbor::Value::Map(m) = &value {
                if wallet_core::wire::cbor::map_get(m, -260).is_some() {
                    let claims = CwtClaims::from_bytes(&bytes).map_err(|e| e.to_string())?;
                    return dcc::cbor_to_json(claims.hcert.as_ref().ok_or("no hcert key 1")?);
                }
            }
            dcc::cbor_to_json(&value)
        })())
    }

    fn expected_json(&self) -> Result<&'a Json, Untestable> {
        self.json
            .get("JSON")
            .ok_or_else(|| Untestable("no JSON".into()))
    }

    fn validation_clock(&self) -> Result<i64, String> {
        let text = self
            .ctx("VALIDATIONCLOCK")
            .ok_or("no TESTCTX.VALIDATIONCLOCK")?;
        parse_clock(text).ok_or_else(|| format!("VALIDATIONCLOCK {text:?} is not a time"))
    }

    fn outcome(&self, flag: &str, schemas: &mut Schemas) -> Outcome {
        let res = |ok: bool, detail: String| Ok((ok, detail));
        match flag {
            "EXPECTEDPICTUREDECODE" => {
                let b64 = self
                    .text("2DCODE")
                    .or_else(|| self.text("_2DCODE"))
                    .ok_or_else(|| Untestable("no 2DCODE".into()))?;
                let prefix = self
                    .text("PREFIX")
                    .ok_or_else(|| Untestable("no PREFIX".into()))?;
                let png = match base64::engine::general_purpose::STANDARD.decode(b64.trim()) {
                    Ok(p) => p,
                    Err(e) => return res(false, format!("2DCODE is not base64: {e}")),
                };
                match qr::read_image(&png) {
                    Ok(text) if text == prefix => res(true, "image decodes to PREFIX".into()),
                    Ok(text) => res(
                        false,
                        format!(
                            "image decodes to {} chars that differ from PREFIX",
                            text.len()
                        ),
                    ),
                    Err(e) => res(false, e.to_string()),
                }
            }
            "EXPECTEDUNPREFIX" => {
                let prefix = self
                    .text("PREFIX")
                    .ok_or_else(|| Untestable("no PREFIX".into()))?;
                let base45 = self
                    .text("BASE45")
                    .ok_or_else(|| Untestable("no BASE45".into()))?;
                match envelope::unprefix(prefix) {
                    Ok((Profile::EuDcc, body)) if body == base45 => {
                        res(true, "prefix removed, equals BASE45".into())
                    }
                    Ok((Profile::EuDcc, _)) => {
                        res(false, "unprefixed text differs from BASE45".into())
                    }
                    Ok((p, _)) => res(false, format!("prefix of the {p} profile, not HC1:")),
                    Err(e) => res(false, e.to_string()),
                }
            }
            "EXPECTEDB45DECODE" => {
                let base45 = self
                    .text("BASE45")
                    .ok_or_else(|| Untestable("no BASE45".into()))?;
                let compressed = hex_field(self.json, "COMPRESSED")?;
                match envelope::base45_decode(base45) {
                    Ok(b) if b == compressed => res(true, "BASE45 decodes to COMPRESSED".into()),
                    Ok(_) => res(
                        false,
                        "BASE45 decodes to bytes that differ from COMPRESSED".into(),
                    ),
                    Err(e) => res(false, e.to_string()),
                }
            }
            "EXPECTEDCOMPRESSION" => {
                let compressed = hex_field(self.json, "COMPRESSED")?;
                let cose = hex_field(self.json, "COSE")?;
                match envelope::decompress(&compressed, envelope::MAX_DECOMPRESSED) {
                    Ok(b) if b == cose => res(true, "COMPRESSED inflates to COSE".into()),
                    Ok(_) => res(
                        false,
                        "COMPRESSED inflates to bytes that differ from COSE".into(),
                    ),
                    Err(e) => res(false, e.to_string()),
                }
            }
            "EXPECTEDVERIFY" => {
                let cose = match self.cose()? {
                    Ok(c) => c,
                    Err(e) => return res(false, e),
                };
                let key = match self.dsc()? {
                    Ok(k) => k,
                    Err(e) => return res(false, format!("DSC: {e}")),
                };
                let keys: KeySet = [key].into_iter().collect();
                match check_signature(&cose, &keys) {
                    Ok(_) => res(true, "signature verified with the DSC".into()),
                    Err(reason) => res(false, reason.to_string()),
                }
            }
            "EXPECTEDEXPIRATIONCHECK" => {
                let key = match self.dsc()? {
                    Ok(k) => k,
                    Err(e) => return res(false, format!("DSC: {e}")),
                };
                let claims = match self.cose()? {
                    Ok(c) => match CwtClaims::from_bytes(&c.payload) {
                        Ok(claims) => claims,
                        Err(e) => return res(false, e.to_string()),
                    },
                    Err(e) => return res(false, e),
                };
                let clock = match self.validation_clock() {
                    Ok(c) => c,
                    Err(e) => return Err(Untestable(e)),
                };
                let (Some(iat), Some(exp)) = (claims.iat, claims.exp) else {
                    return res(false, "iat or exp missing".into());
                };
                let nb = key.not_before.unwrap_or(i64::MIN);
                let na = key.not_after.unwrap_or(i64::MAX);
                let checks = [
                    (nb <= iat, "issued before the DSC was valid"),
                    (iat <= na, "issued after the DSC expired"),
                    (iat <= clock, "issued after the validation clock"),
                    (clock <= exp, "expired at the validation clock"),
                ];
                match checks.iter().find(|(ok, _)| !ok) {
                    None => res(true, format!("valid at {}", instant::format(clock))),
                    Some((_, why)) => res(
                        false,
                        format!(
                            "{why} (iat {}, exp {}, clock {})",
                            instant::format(iat),
                            instant::format(exp),
                            instant::format(clock)
                        ),
                    ),
                }
            }
            "EXPECTEDKEYUSAGE" => {
                let key = match self.dsc()? {
                    Ok(k) => k,
                    Err(e) => return res(false, format!("DSC: {e}")),
                };
                let hcert = match self.cose_hcert()? {
                    Ok((j, _)) => j,
                    Err(e) => return res(false, e),
                };
                let kind = match dcc::entry_kind(&hcert) {
                    Ok(k) => k,
                    Err(e) => return res(false, e.to_string()),
                };
                if key.allows(kind) {
                    res(true, format!("DSC may sign {kind}"))
                } else {
                    res(
                        false,
                        format!("DSC extended key usage does not allow {kind}"),
                    )
                }
            }
            "EXPECTEDDECODE" => {
                let expected = self.expected_json()?;
                let from_cose = match self.cose_hcert() {
                    Ok(Ok((j, _))) => Some(j),
                    Ok(Err(e)) => return res(false, format!("COSE: {e}")),
                    Err(_) => None,
                };
                let from_cbor = match self.cbor_payload() {
                    Ok(Ok(j)) => Some(j),
                    Ok(Err(e)) => return res(false, format!("CBOR: {e}")),
                    Err(_) => None,
                };
                if from_cose.is_none() && from_cbor.is_none() {
                    return Err(Untestable("no COSE or CBOR".into()));
                }
                for (name, got) in [("COSE", from_cose), ("CBOR", from_cbor)] {
                    if let Some(got) = got {
                        if let Some(diff) = json_difference(&got, expected) {
                            return res(false, format!("{name} payload differs from JSON: {diff}"));
                        }
                    }
                }
                res(true, "decoded payload matches JSON".into())
            }
            "EXPECTEDVALIDJSON" => {
                let expected = self.expected_json()?;
                let prefix = self
                    .text("PREFIX")
                    .ok_or_else(|| Untestable("no PREFIX".into()))?;
                let decoded = match wallet_core::decode(prefix) {
                    Ok(d) => d,
                    Err(e) => return res(false, e.to_string()),
                };
                match decoded.dcc_json() {
                    Ok(got) => match json_difference(&got, expected) {
                        None => res(true, "whole chain from PREFIX matches JSON".into()),
                        Some(diff) => res(false, format!("payload differs from JSON: {diff}")),
                    },
                    Err(e) => res(false, e.to_string()),
                }
            }
            "EXPECTEDSCHEMAVALIDATION" => {
                let hcert = match self.cose_hcert()? {
                    Ok((j, _)) => j,
                    Err(e) => return res(false, e),
                };
                let Some(ver) = hcert.get("ver").and_then(Json::as_str) else {
                    return res(false, "payload has no \"ver\"".into());
                };
                if let Err(e) = dcc::entry_kind(&hcert) {
                    return res(false, e.to_string());
                }
                schemas.check(ver, &hcert).map_err(Untestable)
            }
            "EXPECTEDVALIDOBJECT" => {
                let json = self.expected_json()?;
                let version = self
                    .ctx("SCHEMA")
                    .ok_or_else(|| Untestable("no TESTCTX.SCHEMA".into()))?;
                schemas.check(version, json).map_err(Untestable)
            }
            "EXPECTEDENCODE" => {
                let json = self.expected_json()?;
                let cbor = match self.cbor_payload()? {
                    Ok(j) => j,
                    Err(e) => return res(false, format!("CBOR: {e}")),
                };
                // Encode JSON to CBOR with our encoder, then read both back.
                let ours = wallet_core::wire::cbor::encode(&dcc::json_to_cbor(json));
                let ours = match wallet_core::wire::cbor::decode(&ours)
                    .map_err(|e| e.to_string())
                    .and_then(|v| dcc::cbor_to_json(&v))
                {
                    Ok(j) => j,
                    Err(e) => return res(false, e),
                };
                match json_difference(&ours, &cbor) {
                    None => res(true, "our CBOR encoding of JSON matches CBOR".into()),
                    Some(diff) => res(false, format!("encoding differs: {diff}")),
                }
            }
            other => Err(Untestable(format!("{other} is not a defined flag"))),
        }
    }
}

/// Parses the validation clock (RFC 3339, tolerating a missing zone, which
/// means UTC, and up to 9 fractional digits).
pub fn parse_clock(text: &str) -> Option<i64> {
    use time::format_description::well_known::Rfc3339;
    let t = text.trim();
    OffsetDateTime::parse(t, &Rfc3339)
        .or_else(|_| OffsetDateTime::parse(&format!("{t}Z"), &Rfc3339))
        .ok()
        .map(|d| d.unix_timestamp())
}

/// Canonical form for comparing payloads: objects by key, numbers as f64,
/// texts that are times or dates as UTC instants.
fn canonical(j: &Json) -> Json {
    match j {
        Json::Object(o) => {
            let sorted: BTreeMap<String, Json> =
                o.iter().map(|(k, v)| (k.clone(), canonical(v))).collect();
            Json::Object(sorted.into_iter().collect())
        }
        Json::Array(a) => Json::Array(a.iter().map(canonical).collect()),
        Json::Number(n) => n
            .as_f64()
            .and_then(serde_json::Number::from_f64)
            .map(Json::Number)
            .unwrap_or(Json::Null),
        Json::String(s) => match parse_clock(s) {
            Some(t) if s.len() > 10 => Json::String(instant::format(t)),
            _ => Json::String(s.clone()),
        },
        other => other.clone(),
    }
}

/// `None` when the two payloads mean the same, else where they first differ.
pub fn json_difference(a: &Json, b: &Json) -> Option<String> {
    fn walk(a: &Json, b: &Json, path: &str) -> Option<String> {
        match (a, b) {
            (Json::Object(x), Json::Object(y)) => {
                for k in x.keys().chain(y.keys()) {
                    match (x.get(k), y.get(k)) {
                        (Some(p), Some(q)) => {
                            if let Some(d) = walk(p, q, &format!("{path}/{k}")) {
                                return Some(d);
                            }
                        }
                        (Some(_), None) => {
                            return Some(format!("{path}/{k} only in the decoded payload"))
                        }
                        (None, _) => return Some(format!("{path}/{k} only in JSON")),
                    }
                }
                None
            }
            (Json::Array(x), Json::Array(y)) if x.len() == y.len() => x
                .iter()
                .zip(y)
                .enumerate()
                .find_map(|(i, (p, q))| walk(p, q, &format!("{path}/{i}"))),
            _ if a == b => None,
            _ => Some(format!("{path}: {a} vs {b}")),
        }
    }
    walk(&canonical(a), &canonical(b), "")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn payload_comparison_is_semantic() {
        let a = json!({"dob": "1990-01-01", "v": [{"dn": 1, "sc": "2021-05-18T11:29:00+02:00"}]});
        let b = json!({"v": [{"sc": "2021-05-18T09:29:00Z", "dn": 1.0}], "dob": "1990-01-01"});
        assert_eq!(json_difference(&a, &b), None);
        let c = json!({"dob": "1990-01-02", "v": [{"dn": 1, "sc": "2021-05-18T11:29:00+02:00"}]});
        assert_eq!(
            json_difference(&a, &c).unwrap(),
            "/dob: \"1990-01-01\" vs \"1990-01-02\""
        );
        let d = json!({"dob": "1990-01-01"});
        assert!(json_difference(&a, &d)
            .unwrap()
            .contains("/v only in the decoded payload"));
        assert!(json_difference(&d, &a).unwrap().contains("/v only in JSON"));
    }

    #[test]
    fn validation_clocks() {
        assert_eq!(parse_clock("2021-05-06T18:00:00Z"), Some(1_620_324_000));
        assert_eq!(parse_clock("2021-05-06T18:00:00"), Some(1_620_324_000));
        assert_eq!(
            parse_clock("2021-06-08T20:17:27.9906293Z"),
            Some(1_623_183_447)
        );
        assert_eq!(
            parse_clock("2021-05-06T20:00:00+02:00"),
            Some(1_620_324_000)
        );
        assert_eq!(parse_clock("yesterday"), None);
    }

    #[test]
    fn known_issue_lookup() {
        let k = KnownIssues(vec![
            (
                "test_cose_schema".into(),
                "NL".into(),
                "".into(),
                "link-nl".into(),
            ),
            (
                "test_verification_check".into(),
                "ES".into(),
                "401".into(),
                "link-es".into(),
            ),
        ]);
        assert_eq!(
            k.lookup("NL", "000-NL-test", "EXPECTEDSCHEMAVALIDATION")
                .as_deref(),
            Some("link-nl")
        );
        assert_eq!(
            k.lookup("NL", "000-NL-test", "EXPECTEDVALIDOBJECT")
                .as_deref(),
            Some("link-nl")
        );
        assert_eq!(k.lookup("NL", "000-NL-test", "EXPECTEDVERIFY"), None);
        assert_eq!(
            k.lookup("ES", "401", "EXPECTEDVERIFY").as_deref(),
            Some("link-es")
        );
        assert_eq!(k.lookup("ES", "402", "EXPECTEDVERIFY"), None);
    }

    #[test]
    fn flags_skip_undefined_keys() {
        let case = json!({"EXPECTEDRESULTS": {
            "EXPECTEDVERIFY": true, "EXPTECTEDEXPIRED": true, "EXPECTEDRESULTS": true, "EXPECTEDDECODE": "yes"
        }});
        let mut undefined = BTreeMap::new();
        let flags = Case::new(&case).flags(&mut undefined);
        assert_eq!(flags, vec![("EXPECTEDVERIFY".to_string(), true)]);
        assert_eq!(undefined.len(), 3);
    }
}
