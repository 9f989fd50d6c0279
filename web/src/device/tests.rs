use super::*;
use serde_json::json;
use wallet_core::credential::Body;
use wallet_core::samples;
use wallet_core::Profile;

fn ok(answer: String) -> Value {
    let v: Value = serde_json::from_str(&answer).unwrap();
    assert!(v.get("error").is_none(), "{answer}");
    v["ok"].clone()
}

fn error(answer: String) -> String {
    let v: Value = serde_json::from_str(&answer).unwrap();
    v["error"]
        .as_str()
        .unwrap_or_else(|| panic!("{answer}"))
        .to_string()
}

fn now() -> f64 {
    (samples::issued_at() + 3600) as f64
}

/// A device pinned to the sample anchor, with the sample files fetched
/// (and the exposure list) and synced.
fn synced() -> Device {
    let d = Device::new();
    ok(d.pin(&samples::anchor().key.to_pem()));
    let anchor = samples::anchor_key();
    d.fetched(
        0,
        samples::trust_list().sign(&anchor),
        Some("\"t1\"".into()),
    );
    d.fetched(
        1,
        samples::revocations().sign(&anchor),
        Some("\"r1\"".into()),
    );
    d.fetched(2, samples::rule_set().sign(&anchor).unwrap(), None);
    d.fetched(3, samples::exposures().sign(&anchor).unwrap(), None);
    let report = ok(d.sync(now(), "en"));
    assert_eq!(report["refused"], json!([]), "{report}");
    d
}

fn code(c: &wallet_core::Credential) -> String {
    wallet_core::issue(c, Profile::Native, &samples::ed25519_test_key()).unwrap()
}

#[test]
fn a_synced_device_gives_a_green_card_in_either_language() {
    let d = synced();
    ok(d.set_profile("transport"));
    let card = ok(d.check(&code(&samples::test()), now(), "en"));
    assert_eq!(card["valid"], json!(true), "{card}");
    assert_eq!(card["word"], "VALID");
    assert_eq!(card["symbol"], "✓");
    assert_eq!(card["name"], samples::holder().name.as_str());
    let card = ok(d.check(&code(&samples::test()), now(), "zh"));
    assert_eq!(card["word"], "通过");
    assert_eq!(card["kind"], "检测");
}

#[test]
fn a_forged_code_gives_a_red_card_with_the_reason() {
    let d = synced();
    ok(d.set_profile("transport"));
    let mut text = code(&samples::test());
    // A different character inside the base45 body.
    let i = text.len() - 10;
    let c = if &text[i..i + 1] == "A" { "B" } else { "A" };
    text.replace_range(i..i + 1, c);
    let card = ok(d.check(&text, now(), "en"));
    assert_eq!(card["valid"], json!(false), "{card}");
    assert_eq!(card["word"], "INVALID");
    assert_eq!(card["symbol"], "✗");
    assert!(
        card["name"].is_null(),
        "a red card shows nothing from the code: {card}"
    );
    assert!(!card["reasons"].as_array().unwrap().is_empty(), "{card}");
}

#[test]
fn without_a_profile_the_card_says_to_choose_one() {
    let d = synced();
    let e = error(d.check(&code(&samples::test()), now(), "en"));
    assert!(e.contains("profile in Settings"), "{e}");
    assert!(error(d.set_profile("nowhere")).contains("nowhere"));
}

#[test]
fn the_files_survive_a_restart_through_the_pages_storage() {
    let d = synced();
    ok(d.set_profile("transport"));
    let names = d.changes();
    assert!(
        names.contains(&"cache/trust-list.cose".to_string()),
        "{names:?}"
    );
    // Not committed yet (the write failed, say): asked for again.
    assert_eq!(d.changes(), names, "a write not committed is retried");
    d.committed();
    assert!(d.changes().is_empty(), "nothing changed since");
    let again = Device::new();
    for n in &names {
        ok(again.restore(n, d.file(n).unwrap()));
    }
    let card = ok(again.check(&code(&samples::test()), now(), "en"));
    assert_eq!(card["valid"], json!(true), "{card}");
    // Restored files are not saved back.
    assert!(again.changes().is_empty());
    assert!(error(again.restore("elsewhere/x", vec![])).contains("not a cache/"));
}

#[test]
fn the_plan_sends_the_etags_held_and_a_refused_file_keeps_the_copy() {
    let d = synced();
    let plan = ok(d.plan(true));
    assert_eq!(plan[0]["path"], "v1/trust-list");
    assert_eq!(plan[0]["etag"], "\"t1\"");
    assert_eq!(plan[3]["path"], "v1/foreign-trust");
    assert_eq!(plan[4]["file"], 3, "the wallet also asks for exposures");
    let mut forged = samples::revocations().sign(&samples::anchor_key());
    let last = forged.len() - 1;
    forged[last] ^= 1;
    d.unchanged(0);
    d.fetched(1, forged, None);
    d.unchanged(2);
    let report = ok(d.sync(now(), "en"));
    assert_eq!(report["refused"].as_array().unwrap().len(), 1, "{report}");
    let status = ok(d.status(now(), "en"));
    assert_eq!(status["files"][1]["version"], 1, "{status}");
    assert_eq!(status["ready"], json!(true));
}

#[test]
fn an_anchor_is_pinned_once() {
    let d = Device::new();
    let pem = samples::anchor().key.to_pem();
    let shown = ok(d.inspect_anchor(&pem));
    let kid = ok(d.pin(&pem));
    assert_eq!(shown["kid"], kid);
    // The fingerprint people compare is the whole SHA-256, in 16 groups.
    let fp = shown["fingerprint"].as_str().unwrap();
    assert_eq!(fp.split(' ').count(), 16, "{fp}");
    assert!(fp.split(' ').all(|g| g.len() == 4), "{fp}");
    // Its first 16 digits are the kid (the first 8 bytes of the same hash).
    assert!(
        fp.replace(' ', "").starts_with(kid.as_str().unwrap()),
        "{fp}"
    );
    assert_eq!(ok(d.pin(&pem)), kid, "the same anchor again is fine");
    let other = samples::next_anchor_key(0).public_key().to_pem();
    assert!(error(d.pin(&other)).contains("already trusts anchor"));
    assert!(!error(d.inspect_anchor("not a key")).is_empty());
}

#[test]
fn a_wallet_adds_shows_and_checks_in() {
    let d = synced();
    let added = ok(d.add("lily", &code(&samples::vaccination()), now(), "en"));
    assert_eq!(added["verified"], json!(true));
    let held = ok(d.held(now(), "zh"));
    assert_eq!(held[0]["member"], "lily");
    assert_eq!(held[0]["tone"], "ok", "{held}");
    let id = held[0]["id"].as_str().unwrap();
    let shown = ok(d.code("lily", id, now(), "en"));
    assert!(shown["svg"].as_str().unwrap().contains("<svg"));
    assert!(shown["lines"][1]
        .as_str()
        .unwrap()
        .starts_with("Vaccination: dose"));
    // A forged code is refused.
    let mut forged = code(&samples::test());
    let i = forged.len() - 10;
    let c = if &forged[i..i + 1] == "A" { "B" } else { "A" };
    forged.replace_range(i..i + 1, c);
    assert!(!error(d.add("me", &forged, now(), "en")).is_empty());

    // The sample exposure list names the sample venue for two hours from issue.
    let visit_at = samples::issued_at() as f64 + 600.0;
    let visit = ok(d.checkin(&code(&samples::venue()), visit_at));
    assert_eq!(
        visit["name"],
        samples::venue().body.holder().map_or_else(
            || match &samples::venue().body {
                Body::Venue { venue } => venue.name.clone(),
                _ => String::new(),
            },
            |h| h.name.clone()
        )
    );
    let found = ok(d.exposures(now()));
    assert_eq!(found["held"], json!(true));
    assert_eq!(found["found"].as_array().unwrap().len(), 1, "{found}");
    assert_eq!(ok(d.visits(now()))["visits"].as_array().unwrap().len(), 1);
    assert!(error(d.checkin(&code(&samples::test()), now())).contains("venue"));
}

#[test]
fn retrieval_codes_are_tidied_and_bad_ones_refused() {
    assert_eq!(
        retrieve_path(" abcd-efgh-jklm ").unwrap(),
        "v1/retrieve/ABCD-EFGH-JKLM?format=json"
    );
    assert_eq!(retrieve_path("").unwrap_err().0, "retrieval_empty");
    assert_eq!(
        retrieve_path("../admin").unwrap_err(),
        ("retrieval_bad", vec!["../ADMIN".to_string()])
    );
    assert_eq!(
        retrieved_payload(r#"{"id":"x","payload":"HC1:X"}"#).unwrap(),
        "HC1:X"
    );
    assert_eq!(
        retrieved_payload("<html>").unwrap_err().0,
        "retrieval_not_json"
    );
    assert_eq!(
        retrieved_payload("{}").unwrap_err().0,
        "retrieval_no_payload"
    );
}

#[test]
fn the_status_names_each_file_its_age_and_when_it_is_stale() {
    let d = synced();
    let fresh = ok(d.status(now(), "en"));
    assert_eq!(fresh["stale"], json!(false), "{fresh}");
    assert!(
        fresh["summary"]
            .as_str()
            .unwrap()
            .starts_with("trust list v1 ("),
        "{fresh}"
    );
    // The sample revocation list is due two days after it was published.
    let later = samples::published_at() as f64 + 3.0 * 86_400.0;
    let stale = ok(d.status(later, "zh"));
    assert_eq!(stale["stale"], json!(true), "{stale}");
    assert_eq!(stale["files"][1]["stale"], json!(true));
    assert_eq!(stale["files"][1]["label"], "吊销列表");
    // A check still decides, and says the files are out of date.
    ok(d.set_profile("transport"));
    let card = ok(d.check(&code(&samples::vaccination()), later, "en"));
    assert!(
        card["warnings"][0]
            .as_str()
            .unwrap()
            .contains("out of date"),
        "{card}"
    );
    let empty = Device::new();
    assert_eq!(ok(empty.status(now(), "en"))["ready"], json!(false));
}

#[test]
fn a_sync_cut_short_leaves_nothing_for_the_next() {
    let d = synced();
    // Fetched, then the network went before the install.
    let newer = wallet_core::RevocationList::new(
        2,
        samples::published_at() + 60,
        samples::published_at() + 2 * 86_400,
        Vec::new(),
        Vec::new(),
    );
    ok(d.plan(false));
    d.fetched(1, newer.sign(&samples::anchor_key()), None);
    // The next sync finds no revocation list at all (a 404): the body
    // fetched before is not installed in its place.
    ok(d.plan(false));
    d.unchanged(0);
    d.unchanged(2);
    let report = ok(d.sync(now(), "en"));
    assert!(
        report["refused"][0].as_str().unwrap().contains("not in"),
        "{report}"
    );
    assert_eq!(ok(d.status(now(), "en"))["files"][1]["version"], 1);
}
