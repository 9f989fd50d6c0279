//! The `issuer` command: a thin shell over the `issuer` and `wallet-core`
//! crates, one file a subcommand in `commands/`.

mod commands;

use clap::{Parser, Subcommand};
use commands::logging::{self, LogFormat};
use commands::{
    anchor, check, exposures, foreign, import, init, issue, keys, revoke, serve, stats, tokens,
    trust_list,
};
use std::process::ExitCode;

/// mimalloc: glibc's malloc and free were 9.5 % of an import, much of it
/// lines allocated on a signing thread and freed on the writer's.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(name = "issuer", version, about = "Issues signed health credentials")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

// Parsed once per run: boxing the large Issue variant would buy nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Subcommand)]
enum Command {
    /// Create the data folder: an Ed25519 signing key and a trust-anchor key
    /// (both 0600), the database, and a first signed trust list. Running it
    /// again keeps what exists.
    Init(init::InitArgs),
    /// Run the HTTP service (initialising the data folder if it does not exist).
    Serve(serve::ServeArgs),
    /// The trust anchor, which signs the trust list verifiers download.
    Anchor(anchor::AnchorArgs),
    /// The trust list: sign it with an anchor key kept outside the data folder.
    TrustList(trust_list::TrustListArgs),
    /// Signing keys.
    Keys(keys::KeysArgs),
    /// API tokens for labs (issue credentials) and admins (also revoke).
    Tokens(tokens::TokensArgs),
    /// Sign and store a whole results file (CSV with a header row, or NDJSON).
    Import(import::ImportArgs),
    /// Revoke credentials by id (or by payload text) and publish the new list.
    Revoke(revoke::RevokeArgs),
    /// Exposure windows: venues where infectious people were, and when.
    /// Wallets download the signed list and compare it with their own
    /// visit log on the device.
    Exposures(exposures::ExposuresArgs),
    /// Foreign issuers' keys (EU DSC lists and certificates, SMART Health
    /// Card issuers), checked here and published to every device in the
    /// signed foreign trust file.
    Foreign(foreign::ForeignArgs),
    /// How many credentials are stored, per lab, and for how many sample ids.
    Stats(stats::StatsArgs),
    /// Sign one credential and print its payload text on stdout.
    Issue(issue::IssueArgs),
    /// Prove the database consistent (after a crash, say): every signed
    /// file opens in order, every credential is signed by a key a published
    /// trust list holds, one credential per sample. Reads only; exit 0
    /// consistent, 1 not (each problem named), 2 error.
    Check(check::CheckArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    // The service logs at info; a one-shot command only says what it did.
    match &cli.command {
        Command::Serve(args) => logging::init(args.log_format, "info"),
        _ => logging::init(LogFormat::Text, "warn"),
    }
    let result = match cli.command {
        Command::Check(args) => match check::run(args) {
            Ok(true) => Ok(()),
            Ok(false) => return ExitCode::from(1),
            Err(e) => Err(e),
        },
        Command::Init(args) => init::run(args),
        Command::Serve(args) => serve::run(args),
        Command::Anchor(args) => anchor::run(args),
        Command::TrustList(args) => trust_list::run(args),
        Command::Keys(args) => keys::run(args),
        Command::Tokens(args) => tokens::run(args),
        Command::Import(args) => import::run(args),
        Command::Revoke(args) => revoke::run(args),
        Command::Exposures(args) => exposures::run(args),
        Command::Foreign(args) => foreign::run(args),
        Command::Stats(args) => stats::run(args),
        Command::Issue(args) => issue::run(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            logging::fail(&wallet_core::message::error_chain(e.as_ref()));
            ExitCode::from(2)
        }
    }
}
