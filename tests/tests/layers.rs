//! Every crate's modules import one way only (see `e2e_tests::layers`):
//! the wire format never depends on the checkpoint, the issuer's database
//! code never on its HTTP API, a route's handler never on the router.

use e2e_tests::layers::problems;
use e2e_tests::root;

/// wallet-core, from the bytes up (its folders as `lib.rs` lists them).
const WALLET_CORE: &[(&str, u8, u8)] = &[
    ("wire", 0, 0),
    ("wire::cbor", 0, 1),
    ("wire::deflate", 0, 1),
    ("wire::qr", 0, 1),
    ("wire::qr::read", 0, 2),
    ("wire::qr::render", 0, 2),
    ("wire::envelope", 0, 2),
    ("wire::cose", 0, 2),
    ("wire::claims", 0, 3),
    ("credential", 1, 0),
    ("credential::dcc", 1, 1),
    ("keys", 2, 0),
    ("keys::dsc", 2, 1),
    ("keys::lookup", 2, 1),
    ("verify::reason", 3, 0),
    ("verify", 3, 1),
    ("signed", 4, 0),
    ("signed::file", 4, 1),
    ("signed::trust", 4, 2),
    ("signed::revocation", 4, 3),
    ("signed::rules", 4, 3),
    ("signed::exposures", 4, 3),
    ("storage", 5, 0),
    ("checkpoint", 5, 1),
    ("checkpoint::check", 5, 2),
    ("checkpoint::batch", 5, 3),
    ("checkpoint::cache", 5, 3),
    ("checkpoint::sync", 5, 4),
    ("citizen", 6, 0),
    ("citizen::files", 6, 1),
    ("citizen::sheet", 6, 1),
    ("citizen::visits", 6, 2),
    ("citizen::wallet", 6, 3),
];

/// The issuer: its leaf modules, the database, the service, the bulk
/// import, the HTTP API; and the binary's commands over them.
const ISSUER: &[(&str, u8, u8)] = &[
    ("codes", 0, 0),
    ("keystore", 0, 0),
    ("metrics", 0, 0),
    ("request", 0, 0),
    ("store::migrations", 1, 0),
    ("store::rows", 1, 0),
    ("store", 1, 1),
    ("store::credentials", 1, 2),
    ("store::published", 1, 2),
    ("store::tokens", 1, 2),
    ("service::published", 2, 0),
    ("service", 2, 1),
    ("service::folder", 2, 2),
    ("service::tokens", 2, 2),
    ("service::keys", 2, 3),
    ("service::revoke", 2, 3),
    ("service::issue", 2, 4),
    ("service::publish", 2, 4),
    ("service::exposures", 2, 5),
    ("import", 3, 0),
    ("api::buckets", 4, 0),
    ("api::error", 4, 0),
    ("api::lookups", 4, 0),
    ("api::state", 4, 1),
    ("api::auth", 4, 2),
    ("api::limits", 4, 2),
    ("api::admin", 4, 3),
    ("api::credentials", 4, 3),
    ("api::files", 4, 3),
    ("api::health", 4, 3),
    ("api::retrieve", 4, 3),
    ("api", 4, 4),
    ("commands::logging", 5, 0),
    ("commands", 5, 1),
    ("commands::anchor", 5, 2),
    ("commands::exposures", 5, 2),
    ("commands::import", 5, 2),
    ("commands::init", 5, 2),
    ("commands::issue", 5, 2),
    ("commands::keys", 5, 2),
    ("commands::revoke", 5, 2),
    ("commands::serve", 5, 2),
    ("commands::stats", 5, 2),
    ("commands::tokens", 5, 2),
    ("commands::trust_list", 5, 2),
];

/// The command lines' modules stand side by side: none uses another.
const VERIFIER: &[(&str, u8, u8)] = &[
    ("conformance", 0, 0),
    ("gate", 0, 0),
    ("inspect", 0, 0),
    ("station", 0, 0),
    ("watch", 0, 0),
];
const CLI: &[(&str, u8, u8)] = &[("args", 0, 0), ("http", 0, 0), ("input", 0, 0)];
const WALLET: &[(&str, u8, u8)] = &[("fetch", 0, 0), ("render", 0, 0)];

#[test]
fn no_module_imports_from_one_above_it() {
    let mut all = Vec::new();
    for (krate, layers) in [
        ("wallet-core", WALLET_CORE),
        ("issuer", ISSUER),
        ("verifier", VERIFIER),
        ("cli", CLI),
        ("wallet", WALLET),
    ] {
        for p in problems(&root().join(krate).join("src"), layers) {
            all.push(format!("{krate}: {p}"));
        }
    }
    assert!(all.is_empty(), "{}", all.join("\n"));
}

/// The checker finds what it is for: an import up the table, a module it
/// does not know, and an item taken from the crate root.
#[test]
fn an_import_the_wrong_way_is_found() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path();
    std::fs::create_dir_all(src.join("wire")).unwrap();
    std::fs::write(src.join("lib.rs"), "pub mod wire;\npub mod checkpoint;\n").unwrap();
    std::fs::write(src.join("wire/mod.rs"), "pub mod cbor;\n").unwrap();
    std::fs::write(
        src.join("wire/cbor.rs"),
        "use crate::checkpoint::Cache;\nuse crate::Verdict;\n#[cfg(test)]\nmod tests { use crate::checkpoint::X; }\n",
    )
    .unwrap();
    std::fs::write(
        src.join("checkpoint.rs"),
        "use crate::wire::cbor::decode;\n",
    )
    .unwrap();
    std::fs::write(src.join("extra.rs"), "").unwrap();
    let layers = [("wire", 0, 0), ("wire::cbor", 0, 1), ("checkpoint", 1, 0)];
    let found = problems(src, &layers);
    assert_eq!(found.len(), 3, "{found:#?}");
    assert!(
        found[0].starts_with("extra: not in the layer table"),
        "{found:#?}"
    );
    assert!(
        found[1].contains("wire::cbor uses checkpoint, which is not below it"),
        "{found:#?}"
    );
    assert!(
        found[2].contains("uses Verdict: name its module"),
        "{found:#?}"
    );
}
