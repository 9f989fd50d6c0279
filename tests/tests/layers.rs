//! Every crate's modules import one way only, as its `layers.txt` lists
//! them (see `e2e_tests::layers`): the wire format never depends on the
//! checkpoint, the issuer's database code never on its HTTP API, a route's
//! handler never on the router.

use e2e_tests::layers::problems;
use e2e_tests::root;

#[test]
fn no_module_imports_from_one_above_it() {
    let mut all = Vec::new();
    for krate in ["wallet-core", "issuer", "verifier", "cli", "wallet", "web"] {
        let dir = root().join(krate);
        let layers = std::fs::read_to_string(dir.join("layers.txt")).unwrap();
        for p in problems(&dir.join("src"), &layers) {
            all.push(format!("{krate}: {p}"));
        }
    }
    assert!(all.is_empty(), "{}", all.join("\n"));
}

/// The checker finds what it is for: an import up the list, a module the
/// list does not name, and an item taken from the crate root; and nothing in
/// the tests, or in an import down the list.
#[test]
fn an_import_the_wrong_way_is_found() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path();
    let files = [
        ("lib.rs", "pub mod wire;\npub mod checkpoint;\n"),
        ("wire/mod.rs", "pub mod cbor;\n"),
        (
            "wire/cbor.rs",
            "use crate::checkpoint::Cache;\nuse crate::Verdict;\nuse super::super::checkpoint::Y;\n#[cfg(test)]\nmod tests { use crate::checkpoint::X; }\n",
        ),
        ("checkpoint.rs", "use crate::wire::cbor::decode;\n"),
        ("extra.rs", ""),
    ];
    for (name, text) in files {
        let path = src.join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
    let found = problems(src, "# lowest first\nwire\nwire::cbor\n\ncheckpoint\n");
    let expected = [
        "extra: not in layers.txt",
        "wire/cbor.rs:1: wire::cbor uses checkpoint, which is not below it",
        "wire/cbor.rs:2: wire::cbor uses Verdict: name its module",
        "wire/cbor.rs:3: wire::cbor uses checkpoint, which is not below it",
    ];
    assert_eq!(found.len(), expected.len(), "{found:#?}");
    for (got, want) in found.iter().zip(expected) {
        assert!(got.starts_with(want), "{got:?} is not {want:?}");
    }
}
