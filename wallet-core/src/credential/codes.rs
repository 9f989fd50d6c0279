//! Which FHIR codes count, as rule-set data (the rules file's `"fhir"`
//! member, see spec/rules.md): the vaccine codes (CVX, SNOMED CT, ICD-11 or
//! any other system) with the doses that complete a series, and the test
//! codes (LOINC) with the type of test they are. The code here only reads
//! what the table says; an authority adds a vaccine by publishing rules.

use super::TestType;
use serde::{Deserialize, Serialize};

/// A vaccine code that counts, and how many doses complete its series.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VaccineCode {
    pub system: String,
    pub code: String,
    /// Doses that complete the primary series (1 to 9).
    pub doses: u8,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub name: String,
}

/// A test code that counts, and the type of test it is.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TestCode {
    pub system: String,
    pub code: String,
    #[serde(rename = "type")]
    pub test_type: TestType,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub name: String,
}

/// The codes a rule set recognises.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FhirCodes {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub vaccines: Vec<VaccineCode>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tests: Vec<TestCode>,
}

/// The code systems the default table uses.
pub const CVX: &str = "http://hl7.org/fhir/sid/cvx";
pub const LOINC: &str = "http://loinc.org";
/// The vaccine names of DIVOC certificates (`"vaccine": "COVISHIELD"`),
/// which code no vaccine; a name for the table's system, not a URL to fetch.
pub const DIVOC_VACCINE: &str = "https://divoc.egov.org.in/vaccine";
/// ICD-11 (MMS), as ICAO seals code vaccines.
pub const ICD11: &str = "http://id.who.int/icd/release/11/mms";

impl FhirCodes {
    pub fn is_empty(&self) -> bool {
        self.vaccines.is_empty() && self.tests.is_empty()
    }

    pub fn vaccine(&self, system: &str, code: &str) -> Option<&VaccineCode> {
        self.vaccines
            .iter()
            .find(|v| v.system == system && v.code == code)
    }

    pub fn test(&self, system: &str, code: &str) -> Option<&TestCode> {
        self.tests
            .iter()
            .find(|t| t.system == system && t.code == code)
    }

    /// Checks sizes and numbers.
    pub fn validate(&self) -> Result<(), String> {
        if self.vaccines.len() + self.tests.len() > 4096 {
            return Err("fhir: more than 4096 codes".into());
        }
        for v in &self.vaccines {
            if !(1..=9).contains(&v.doses) {
                return Err(format!(
                    "fhir.vaccines: {} {} has doses {}, outside 1..=9",
                    v.system, v.code, v.doses
                ));
            }
        }
        let all = self
            .vaccines
            .iter()
            .map(|v| (&v.system, &v.code))
            .chain(self.tests.iter().map(|t| (&t.system, &t.code)));
        for (system, code) in all {
            if system.is_empty() || code.is_empty() || system.len() > 200 || code.len() > 64 {
                return Err(format!(
                    "fhir: code {system:?} {code:?} needs a system (at most 200 characters) and a code (at most 64)"
                ));
            }
        }
        Ok(())
    }

    /// The COVID-19 codes of the default rule set: CVX vaccine codes
    /// (CDC's table) with their primary series, ICD-11's COVID-19 vaccines
    /// (as ICAO seals code them), and LOINC SARS-CoV-2 tests.
    pub fn covid19() -> FhirCodes {
        let v = |code: &str, doses: u8, name: &str| VaccineCode {
            system: CVX.into(),
            code: code.into(),
            doses,
            name: name.into(),
        };
        let icd = |code: &str, doses: u8, name: &str| VaccineCode {
            system: ICD11.into(),
            code: code.into(),
            doses,
            name: format!("{name} (ICD-11)"),
        };
        let divoc = |code: &str, doses: u8, name: &str| VaccineCode {
            system: DIVOC_VACCINE.into(),
            code: code.into(),
            doses,
            name: format!("{name} (DIVOC)"),
        };
        let t = |code: &str, test_type: TestType, name: &str| TestCode {
            system: LOINC.into(),
            code: code.into(),
            test_type,
            name: name.into(),
        };
        FhirCodes {
            vaccines: vec![
                v("207", 2, "Moderna COVID-19 (mRNA, 100 mcg)"),
                v("208", 2, "Pfizer-BioNTech COVID-19 (mRNA, 30 mcg)"),
                v("210", 2, "AstraZeneca COVID-19 (viral vector)"),
                v("211", 2, "Novavax COVID-19 (protein subunit)"),
                v("212", 1, "Janssen COVID-19 (viral vector)"),
                v(
                    "217",
                    2,
                    "Pfizer-BioNTech COVID-19 (mRNA, 30 mcg, tris-sucrose)",
                ),
                v(
                    "218",
                    2,
                    "Pfizer-BioNTech COVID-19 (mRNA, 10 mcg, ages 5-11)",
                ),
                v(
                    "219",
                    3,
                    "Pfizer-BioNTech COVID-19 (mRNA, 3 mcg, ages 6 months-4)",
                ),
                v("221", 2, "Moderna COVID-19 (mRNA, 50 mcg)"),
                v("228", 2, "Moderna COVID-19 (mRNA, 25 mcg, ages 6 months-5)"),
                v("229", 1, "Moderna COVID-19 bivalent (mRNA, 50 mcg)"),
                v("300", 1, "Pfizer-BioNTech COVID-19 bivalent (mRNA, 30 mcg)"),
                // ICAO seals name no product by code, only "COVID-19
                // vaccines"; a primary series is counted as two doses.
                icd("XM68M6", 2, "COVID-19 vaccines"),
                // The WHO DDCC's vaccine list (ICD-11): a DDCC names its
                // series' length (totalDoses) when it can, and these are
                // what a series takes when it does not. A vaccine type
                // (RNA, viral vector…) counts as its longest usual series.
                icd("XM0GQ8", 2, "COVID-19 vaccine, RNA based"),
                icd("XM8NQ0", 2, "Comirnaty"),
                icd("XM3DT5", 2, "COVID-19 Vaccine Moderna"),
                icd(
                    "XM9QW8",
                    2,
                    "COVID-19 vaccine, non-replicating viral vector",
                ),
                icd("XM4YL8", 2, "COVID-19 Vaccine AstraZeneca"),
                icd("XM97T2", 2, "Covishield"),
                icd("XM6QV1", 1, "COVID-19 Vaccine Janssen"),
                icd("XM1AG7", 1, "Convidecia"),
                icd("XM5ZJ4", 2, "Gam-Covid-Vac"),
                icd("XM5QM6", 1, "Sputnik-Light"),
                icd("XM0CX4", 2, "COVID-19 vaccine, replicating viral vector"),
                icd("XM1NL1", 2, "COVID-19 vaccine, inactivated virus"),
                icd("XM7HT3", 2, "CoronaVac"),
                icd("XM8866", 2, "BBIBP-CorV"),
                icd("XM1AU2", 2, "Sinopharm WIBP-CorV"),
                icd("XM9TQ1", 2, "KCONVAC"),
                icd("XM1G90", 2, "Covaxin"),
                icd("XM85P5", 2, "Covi-Vac"),
                icd("XM9FQ7", 2, "Hayat-Vax"),
                icd("XM97N6", 2, "QazVac"),
                icd("XM2YG8", 2, "COVIran Barakat"),
                icd("XM3U61", 2, "Inactivated SARS-CoV-2 vaccine"),
                icd("XM5DF6", 2, "COVID-19 vaccine, live attenuated virus"),
                icd("XM5JC5", 2, "COVID-19 vaccine, virus protein subunit"),
                icd("XM3CT4", 3, "Recombinant SARS-CoV-2 vaccine"),
                icd("XM9T65", 2, "Novavax COVID-19 vaccine"),
                icd("XM3PG0", 2, "Soberana-02"),
                icd("XM4EC8", 2, "MVC-COV1901"),
                icd("XM6SZ8", 2, "EpiVacCorona"),
                icd("XM1J92", 2, "COVID-19 vaccine, virus like particle"),
                icd("XM6AT1", 3, "COVID-19 vaccine, DNA based"),
                icd("XM52P3", 3, "ZyCov-D"),
                // DIVOC certificates name the vaccine by its brand, as
                // CoWIN writes it (a CoWIN certificate of the second
                // version also gives the ICD-11 code above).
                divoc("COVISHIELD", 2, "Covishield"),
                divoc("COVAXIN", 2, "Covaxin"),
            ],
            tests: vec![
                // The LOINC parts the EU DCC and the WHO DDCC name a test's
                // type by.
                t(
                    "LP6464-4",
                    TestType::Naat,
                    "Nucleic acid amplification with probe detection",
                ),
                t("LP217198-3", TestType::Rat, "Rapid immunoassay"),
                t(
                    "94500-6",
                    TestType::Naat,
                    "SARS-CoV-2 RNA, NAA with probe (respiratory)",
                ),
                t("94309-2", TestType::Naat, "SARS-CoV-2 RNA, NAA with probe"),
                t(
                    "94759-8",
                    TestType::Naat,
                    "SARS-CoV-2 RNA, NAA with probe (nasopharynx)",
                ),
                t(
                    "94845-5",
                    TestType::Naat,
                    "SARS-CoV-2 RNA, NAA with probe (saliva)",
                ),
                t(
                    "95406-5",
                    TestType::Naat,
                    "SARS-CoV-2 RNA, NAA with probe (nose)",
                ),
                t(
                    "94533-7",
                    TestType::Naat,
                    "SARS-CoV-2 N gene, NAA with probe",
                ),
                t(
                    "94558-4",
                    TestType::Rat,
                    "SARS-CoV-2 antigen, immunoassay (respiratory)",
                ),
                t(
                    "95209-3",
                    TestType::Rat,
                    "SARS-CoV-2 antigen, rapid immunoassay (respiratory)",
                ),
                t(
                    "96119-3",
                    TestType::Rat,
                    "SARS-CoV-2 antigen, immunoassay (upper respiratory)",
                ),
                t(
                    "97097-0",
                    TestType::Rat,
                    "SARS-CoV-2 antigen, rapid immunoassay (upper respiratory)",
                ),
            ],
        }
    }
}
