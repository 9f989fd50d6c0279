//! Exposure windows: checked, stored, and published in the next exposure
//! list.

use super::issue::new_id;
use super::published::{DAY, EXPOSURE_PUBLISHED_FOR};
use super::{Issuer, IssuerError};
use crate::store::ExposureRow;
use wallet_core::signed::exposures::Exposure;
use wallet_core::Algorithm;

impl Issuer {
    /// Records exposure windows and publishes the list that holds them.
    pub async fn add_exposures(
        &self,
        exposures: Vec<Exposure>,
        added_by: &str,
        now: i64,
    ) -> Result<u64, IssuerError> {
        for (i, e) in exposures.iter().enumerate() {
            if let Some(why) = e.problem() {
                return Err(IssuerError::Invalid(format!("exposure {i}: {why}")));
            }
            if e.until < now - EXPOSURE_PUBLISHED_FOR {
                return Err(IssuerError::Invalid(format!(
                    "exposure {i}: the window ended more than {} days ago, so it would not be published",
                    EXPOSURE_PUBLISHED_FOR / DAY
                )));
            }
        }
        let rows: Vec<ExposureRow> = exposures
            .into_iter()
            .map(|exposure| ExposureRow {
                id: hex::encode(new_id(now)),
                exposure,
                added_at: now,
                added_by: added_by.to_string(),
            })
            .collect();
        self.store.add_exposures(&rows).await?;
        self.refresh(now).await?;
        let snap = self.snapshot();
        match &snap.exposures {
            Some(f) => Ok(f.version),
            None => Err(IssuerError::NoSigner {
                alg: Algorithm::EdDsa,
                hint: "the windows are stored, and are published once the trust list lets this issuer's key sign exposure lists (issuer trust-list sign, if the anchor is kept offline)".into(),
            }),
        }
    }
}
