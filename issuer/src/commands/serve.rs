//! `issuer serve`: the HTTP API until Ctrl-C or SIGTERM, then the first
//! retrievals still queued are recorded before the database closes.

use super::logging::{say, warn, LogFormat};
use super::{now, open, runtime, Place};
use anyhow::{bail, Context, Result};
use clap::Args;
use issuer::api::client::Cidr;
use issuer::api::{self, AppState, Limits};
use issuer::service::SignedFile;
use std::sync::Arc;
use std::time::Duration;

#[derive(Args)]
pub struct ServeArgs {
    #[command(flatten)]
    place: Place,
    /// Address to listen on
    #[arg(long, default_value = "127.0.0.1:8080")]
    listen: String,
    /// Requests handled at once; beyond this, 503 with Retry-After
    /// (/healthz and /metrics have 8 places of their own besides)
    #[arg(long, default_value_t = Limits::default().max_in_flight)]
    max_in_flight: usize,
    /// Connections open at once; one more is answered 503 with Retry-After
    /// and closed [default: the open-file limit less 512, at most 16384].
    /// Idle ones close after 20 s
    #[arg(long)]
    max_connections: Option<usize>,
    /// Single lab submissions (POST /v1/credentials) signed and stored at
    /// once; beyond, 503 with Retry-After, so those taken stay fast
    #[arg(long, default_value_t = Limits::default().max_submissions)]
    max_submissions_in_flight: usize,
    /// Requests per second per lab token (burst twice that); beyond, 429
    #[arg(long, default_value_t = Limits::default().lab_per_second)]
    lab_rate: f64,
    /// Wrong retrieval codes per minute per client address (burst 10); beyond, 429
    #[arg(long, default_value_t = Limits::default().guesses_per_minute)]
    guesses_per_minute: f64,
    /// A reverse proxy (address or block, e.g. 10.0.0.0/8; repeatable)
    /// whose X-Forwarded-For names the client for the per-address limits.
    /// Without one the header is ignored
    #[arg(long = "trusted-proxy", value_name = "CIDR")]
    trusted_proxy: Vec<Cidr>,
    /// Seconds between checks for files published elsewhere and new tokens
    #[arg(long, default_value_t = 5)]
    poll_seconds: u64,
    /// The browser apps' built files (web/build.sh writes them), served at
    /// /verify and /wallet
    #[arg(long, default_value = "web/dist")]
    apps: std::path::PathBuf,
    /// The log on stderr: text, or one JSON object per line (RUST_LOG filters it; debug: a line per request)
    #[arg(long, value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
}

pub fn run(args: ServeArgs) -> Result<()> {
    if args.max_in_flight == 0
        || args.max_connections == Some(0)
        || args.max_submissions_in_flight == 0
        || args.lab_rate <= 0.0
        || args.guesses_per_minute <= 0.0
    {
        bail!("--max-in-flight, --max-connections, --max-submissions-in-flight, --lab-rate and --guesses-per-minute must be above 0");
    }
    let place = args.place;
    let rt = runtime()?;
    rt.block_on(async {
        let issuer = Arc::new(open(&place, true, now()).await?);
        let limits = Limits {
            max_in_flight: args.max_in_flight,
            max_submissions: args.max_submissions_in_flight,
            lab_per_second: args.lab_rate,
            guesses_per_minute: args.guesses_per_minute,
            trusted_proxies: args.trusted_proxy.clone(),
            max_connections: args.max_connections.unwrap_or_else(|| {
                api::connections::connections_allowed(512).min(Limits::default().max_connections)
            }),
            ..Limits::default()
        };
        let (state, flusher) = AppState::new(issuer.clone(), limits, Arc::new(now)).await?;
        let listen = &args.listen;
        let listener = tokio::net::TcpListener::bind(listen)
            .await
            .with_context(|| format!("--listen {listen}"))?;
        let addr = listener.local_addr()?;
        let snap = issuer.snapshot();
        let v = |f: &Option<Arc<SignedFile>>| {
            f.as_ref()
                .map_or("none".to_string(), |f| f.version.to_string())
        };
        say(&format!(
            "issuer listening on http://{addr} (database {}; trust list {}, revocations {}, rules {})",
            place.database(),
            v(&snap.trust_list),
            v(&snap.revocations),
            v(&snap.rules),
        ));
        if snap.trust_list.is_none() {
            warn("no trust list is published: sign one with `issuer trust-list sign --anchor-key FILE`");
        }
        say(&format!(
            "lab tokens: issuer tokens create --lab NAME; API: http://{addr}/openapi.json"
        ));
        if args.apps.join("verify/index.html").is_file() {
            say(&format!(
                "browser apps from {}: checkpoint http://{addr}/verify, wallet http://{addr}/wallet",
                args.apps.display()
            ));
        } else {
            warn(&format!(
                "no browser apps in {}: build them with web/build.sh (or pass --apps DIR)",
                args.apps.display()
            ));
        }
        let _ = state.apps.set(args.apps.clone());
        api::serve(
            listener,
            state,
            flusher,
            Duration::from_secs(args.poll_seconds.max(1)),
            async {
                shutdown_signal().await;
                say("shutting down: finishing requests in flight");
            },
        )
        .await?;
        issuer.store.close().await;
        say("stopped");
        Ok(())
    })
}

/// Ctrl-C, or SIGTERM (what service managers and container runtimes send).
async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
