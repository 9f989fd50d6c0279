//! `issuer check`: proves the database consistent (see
//! [`issuer::service::check`]). It opens the database alone, reads only, and
//! never signs or publishes, so it can run beside a service or straight
//! after a crash. One line per check on stdout; exit 0 when everything
//! holds, 1 when something does not (named on stdout), 2 on an error.

use super::{now, runtime, Place};
use anyhow::Result;
use clap::Args;
use issuer::service::check::{check_store, CheckReport};

#[derive(Args)]
pub struct CheckArgs {
    #[command(flatten)]
    place: Place,
    /// Print the report as one JSON object
    #[arg(long)]
    json: bool,
}

/// Runs the check; Ok(false) when the database is not consistent.
pub fn run(args: CheckArgs) -> Result<bool> {
    let place = args.place;
    let report = runtime()?.block_on(async {
        let store = place.open_store().await?;
        let report = check_store(&store, &place.data, now()).await;
        store.close().await;
        anyhow::Ok(report?)
    })?;
    if args.json {
        wallet_core::outln!("{}", to_json(&report))?;
    } else {
        for f in &report.findings {
            let verdict = if f.failed == 0 { "ok" } else { "FAILED" };
            wallet_core::outln!(
                "{:<36} {:>9} checked  {:>6} wrong  {verdict}",
                f.check,
                f.checked,
                f.failed
            )?;
            for p in &f.problems {
                wallet_core::outln!("    {p}")?;
            }
        }
        wallet_core::outln!(
            "{}",
            if report.consistent() {
                "the database is consistent"
            } else {
                "the database is NOT consistent"
            }
        )?;
    }
    Ok(report.consistent())
}

fn to_json(report: &CheckReport) -> serde_json::Value {
    serde_json::json!({
        "consistent": report.consistent(),
        "checks": report.findings.iter().map(|f| serde_json::json!({
            "check": f.check,
            "checked": f.checked,
            "wrong": f.failed,
            "problems": f.problems,
        })).collect::<Vec<_>>(),
    })
}
