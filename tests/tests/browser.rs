//! The browser apps in a real browser: Debian's chromium, headless, driven
//! by playwright-core (`web/tests/browser.mjs`), with a fake camera fed
//! from .y4m files that ffmpeg makes of real codes in a 1280×720 frame.
//!
//! The issuer serves the apps (`web/dist`, from `web/build.sh`) and the
//! signed files. The wallet pins the anchor it offers, adds a code by its
//! retrieval code, shows it (the screenshot is read back as a QR code),
//! checks in at a venue from the camera and finds the exposure. The
//! checkpoint pins, syncs and scans; then the issuer is stopped, the
//! browser goes offline, and valid, revoked, tampered and foreign codes
//! from the camera still get the right card. A frame that traps a QR
//! reader restarts the worker, not the page.
//!
//! First, while the issuer is up, the same apps run in WebKit
//! (`web/tests/webkit.mjs`: WebKitGTK's MiniBrowser through WebKitWebDriver
//! under xvfb-run): everything but the camera, whose mock in WebKit cannot
//! play a file, so codes come pasted and as an image file.
//! `BROWSER_ENGINES=webkit` (or `chromium`) runs one engine only.
//!
//! Needs chromium, ffmpeg, webkit2gtk-driver, xvfb, node with `web/node_modules` (`npm ci` in web/) and a built
//! `web/dist`; without them the test says SKIPPED, unless
//! `REQUIRE_BROWSER_TESTS=1` (as `.ci/run` sets), when it fails.

use e2e_tests::{
    foreign_test_code, get_bytes, lab_and_admin_tokens, post, root, run, start_issuer_with, stderr,
    stdout, test_result,
};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};
use time::OffsetDateTime;
use wallet_core::checkpoint::cache::Cache;
use wallet_core::credential::instant;
use wallet_core::keys::PublicKey;
use wallet_core::storage::Memory;
use wallet_core::wire::envelope;
use wallet_core::wire::qr::{Level, Symbol};

const CHROMIUM: &str = "/usr/bin/chromium";
/// Debian's WebKitGTK WebDriver (webkit2gtk-driver) and the browser it drives.
const WEBKIT_DRIVER: &str = "/usr/bin/WebKitWebDriver";
const WEBKIT_BROWSER: &str = "/usr/lib/x86_64-linux-gnu/webkit2gtk-4.1/MiniBrowser";

/// What is missing to run WebKit, if anything.
fn missing_webkit() -> Vec<String> {
    let mut out = Vec::new();
    if !Path::new(WEBKIT_DRIVER).exists() {
        out.push(format!("{WEBKIT_DRIVER} (apt install webkit2gtk-driver)"));
    }
    if !Path::new(WEBKIT_BROWSER).exists() {
        out.push(format!("{WEBKIT_BROWSER} (apt install webkit2gtk-driver)"));
    }
    if !Path::new("/usr/bin/xvfb-run").exists() {
        out.push("xvfb-run (apt install xvfb xauth)".into());
    }
    out
}

/// Runs `node SCRIPT CONFIG` for at most `limit`: its status and stdout.
fn run_node(script: &str, config: &Path, limit: Duration) -> (std::process::ExitStatus, String) {
    let mut node = Command::new("node")
        .arg(root().join(script))
        .arg(config)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("node runs");
    // Bounded: a hung browser fails the test instead of hanging CI.
    let deadline = Instant::now() + limit;
    let status = loop {
        if let Some(s) = node.try_wait().unwrap() {
            break s;
        }
        if Instant::now() > deadline {
            let _ = node.kill();
            panic!("{script} took over {} s", limit.as_secs());
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    let mut out = String::new();
    std::io::Read::read_to_string(&mut node.stdout.take().unwrap(), &mut out).unwrap();
    (status, out)
}

/// What is missing to run the browser, if anything.
fn missing() -> Vec<String> {
    let mut out = Vec::new();
    if !Path::new(CHROMIUM).exists() {
        out.push(format!("{CHROMIUM} (apt install chromium)"));
    }
    let found = |cmd: &str| {
        Command::new(cmd)
            .arg("-version")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok()
    };
    if !found("ffmpeg") {
        out.push("ffmpeg (apt install ffmpeg)".into());
    }
    if !root().join("web/node_modules/playwright-core").is_dir() {
        out.push("web/node_modules (cd web && npm ci)".into());
    }
    for f in [
        "verify/index.html",
        "app/health_web_bg.wasm",
        "app/health_scan_bg.wasm",
        "sw.js",
    ] {
        if !root().join("web/dist").join(f).is_file() {
            out.push(format!("web/dist/{f} (web/build.sh)"));
            break;
        }
    }
    out
}

/// A code as a PNG, 8 pixels a module.
fn png(text: &str, path: &Path) {
    let bytes = Symbol::new(text, Level::M).unwrap().to_png(8).unwrap();
    std::fs::write(path, bytes).unwrap();
}

/// A code as a grey image (`module` pixels a module) with a third of the
/// modules of its lower right part turned over: its finder and alignment patterns are
/// whole, so a reader sees a code, and too much is lost for the error
/// correction, so none can read it.
fn damaged_code(text: &str, module: usize) -> (usize, Vec<u8>) {
    let symbol = Symbol::new(text, Level::L).unwrap();
    let quiet = wallet_core::wire::qr::QUIET_ZONE as usize;
    let width = symbol.width() as usize;
    let w = width + 2 * quiet;
    let side = w * module;
    let mut img = vec![255u8; side * side];
    for my in 0..w {
        for mx in 0..w {
            // (dark() counts the quiet zone.)
            let mut dark = symbol.dark(mx as u32, my as u32);
            let (sx, sy) = (mx.wrapping_sub(quiet), my.wrapping_sub(quiet));
            // The alignment pattern (version 2 to 6: centred 7 modules in
            // from the lower right) stays whole: a reader finds its grid by it.
            let align = width - 7;
            let alignment = sx.abs_diff(align) <= 2 && sy.abs_diff(align) <= 2;
            let data = sx > 8 && sy > 8 && sx < width && sy < width && !alignment;
            if data && (sx * 7 + sy * 13) % 3 == 0 {
                dark = !dark;
            }
            if dark {
                for y in my * module..(my + 1) * module {
                    img[y * side + mx * module..y * side + (mx + 1) * module].fill(0);
                }
            }
        }
    }
    (side, img)
}

/// A grey square image (`side` × `side`, a byte a pixel) as `NAME.y4m` in
/// `dir`, through a PGM file: a camera file as [`camera_file`] makes.
fn grey_camera(dir: &Path, name: &str, side: usize, pixels: &[u8]) -> PathBuf {
    let pgm = dir.join(format!("{name}.pgm"));
    let mut bytes = format!("P5\n{side} {side}\n255\n").into_bytes();
    bytes.extend_from_slice(pixels);
    std::fs::write(&pgm, bytes).unwrap();
    camera_file(&pgm, &dir.join(format!("{name}.y4m")))
}

/// The image, centred in a white 1280×720 frame, as a .y4m a fake camera plays.
fn camera_file(image: &Path, out: &Path) -> PathBuf {
    let status = Command::new("ffmpeg")
        .args(["-loglevel", "error", "-y", "-loop", "1", "-i"])
        .arg(image)
        .args([
            "-vf",
            "scale=w=min(iw\\,640):h=min(ih\\,640):force_original_aspect_ratio=decrease:flags=neighbor,pad=1280:720:(ow-iw)/2:(oh-ih)/2:color=white,format=yuv420p",
            "-frames:v",
            "3",
            "-f",
            "yuv4mpegpipe",
        ])
        .arg(out)
        .status()
        .unwrap();
    assert!(
        status.success(),
        "ffmpeg made no camera file of {}",
        image.display()
    );
    out.to_path_buf()
}

/// The code with one byte of its signed payload changed: it still decodes,
/// and its signature no longer holds.
fn tampered(text: &str, holder: &str) -> String {
    let (profile, mut cose) = envelope::open(text).unwrap();
    let at = cose
        .windows(holder.len())
        .position(|w| w == holder.as_bytes())
        .expect("the holder's name is in the payload");
    cose[at + holder.len() - 1] ^= 0x01;
    envelope::seal(profile, &cose)
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
            // As a deployment copies them: the precompressed copies keep
            // their times, so the server does not take them for stale.
            let modified = entry.metadata().unwrap().modified().unwrap();
            std::fs::File::options()
                .write(true)
                .open(&target)
                .unwrap()
                .set_modified(modified)
                .unwrap();
        }
    }
}

/// The code on a printed sheet (PDF), read back from the page pdftoppm draws.
fn code_on_sheet(pdf: &Path) -> String {
    let out = Command::new("pdftoppm")
        .args(["-r", "150", "-png", "-singlefile"])
        .arg(pdf)
        .arg(pdf.with_extension(""))
        .output()
        .expect("pdftoppm runs (apt install poppler-utils)");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let png = std::fs::read(pdf.with_extension("png")).unwrap();
    wallet_core::wire::qr::read_image(&png).unwrap()
}

#[test]
fn both_apps_work_in_chromium_with_a_camera_and_then_offline() {
    let missing = missing();
    if !missing.is_empty() {
        if std::env::var_os("REQUIRE_BROWSER_TESTS").is_some() {
            panic!("the browser tests need: {}", missing.join(", "));
        }
        eprintln!("SKIPPED: the browser tests need {}", missing.join(", "));
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let cwd = dir.path();
    // A copy of the apps, so the test can publish a new version of them.
    let dist = cwd.join("dist");
    copy_dir(&root().join("web/dist"), &dist);
    let (mut issuer, url) = start_issuer_with(cwd, true, &["--apps", dist.to_str().unwrap()]);
    let (lab, admin) = lab_and_admin_tokens(cwd);
    let now = OffsetDateTime::now_utc().unix_timestamp();
    let credentials = format!("{url}/v1/credentials");
    let payload = |v: &serde_json::Value| v["payload"].as_str().unwrap().to_string();
    let holder = "Li Hua";
    let valid = post(&credentials, &lab, &test_result("B-1", holder, now - 3600));
    let revoked = post(
        &credentials,
        &lab,
        &test_result("B-2", "Wang Fang", now - 3600),
    );
    let child = post(
        &credentials,
        &lab,
        &test_result("B-3", "Chen Lily", now - 1800),
    );
    let venue = post(
        &credentials,
        &lab,
        &serde_json::json!({
            "sample_id": "V-1",
            "kind": "venue",
            "venue": {"id": "CD-METRO-L2-017", "name": "Tianfu Square Station", "area": "Chengdu Qingyang"}
        }),
    );
    let r = post(
        &format!("{url}/v1/revocations"),
        &admin,
        &serde_json::json!({"credential_id": revoked["id"], "reason": "sample mix-up"}),
    );
    assert!(r["added"].as_u64().unwrap_or(0) > 0, "{r}");
    post(
        &format!("{url}/v1/exposures"),
        &admin,
        &serde_json::json!({
            "venue": "CD-METRO-L2-017",
            "from": instant::format(now - 3600),
            "until": instant::format(now + 3 * 3600),
            "advice": "Take a rapid test today and again in two days."
        }),
    );
    // The authority trusts Austria's test signer, the SMART example issuer
    // (with its CRL) and the NZ COVID Pass example issuer: a phone needs
    // nothing but the anchor for them.
    let (eu, smart) = e2e_tests::trust_foreign_examples(cwd);
    assert!(eu.status.success(), "{}", stderr(&eu));
    assert!(smart.status.success(), "{}", stderr(&smart));
    let nz = e2e_tests::trust_foreign_nzcp(cwd);
    assert!(nz.status.success(), "{}", stderr(&nz));
    // And the test CSCA (with its CRL), for an ICAO seal made here.
    let icao = e2e_tests::trust_foreign_test_icao(cwd);
    assert!(icao.status.success(), "{}", stderr(&icao));
    let seal = wallet_core::samples::icao_seal(
        &e2e_tests::icao_vaccination_data("Alex Tester", now),
        &std::fs::read_to_string(e2e_tests::icao_test_pki("good.key")).unwrap(),
        &std::fs::read(e2e_tests::icao_test_pki("good.der")).unwrap(),
    );
    // And the test DSC of the WHO DDCC tests, for a DDCC made here.
    let ddcc = e2e_tests::trust_foreign_test_ddcc(cwd);
    assert!(ddcc.status.success(), "{}", stderr(&ddcc));
    let ddcc = ddcc_vaccination_code(now);
    let eu_case = e2e_tests::at_case();
    // The published files change within the poll interval.
    std::thread::sleep(Duration::from_millis(2500));

    let anchor_pem = stdout(&run("issuer", &["anchor", "show"], cwd));
    let anchor = PublicKey::from_pem(&anchor_pem).unwrap();
    // What a person compares: the full SHA-256 fingerprint, not the kid.
    let anchor_fingerprint = wallet_core::keys::fingerprint_for_spki(&anchor.spki_der());

    let foreign = foreign_test_code(cwd);
    // A NAAT test sampled 50 h ago: the code itself runs 3 days, the
    // transport checkpoint takes it 48 h. The wallet must agree with the gate.
    let fifty = post(
        &credentials,
        &lab,
        &test_result("B-50", "Zhao Fifty", now - 50 * 3600),
    );
    // Valid when the checkpoint opens; revoked (by the page, with the admin
    // token) while it is open, to see the revocation reach it.
    let late = post(
        &credentials,
        &lab,
        &test_result("B-LATE", "Sun Late", now - 600),
    );
    let codes = serde_json::json!({
        "lateRevoked": payload(&late),
        "lateRevokedId": late["id"],
        "fiftyHours": payload(&fifty),
        "valid": payload(&valid),
        "revoked": payload(&revoked),
        "tampered": tampered(&payload(&valid), holder),
        "foreign": foreign,
        "euDcc": eu_case["PREFIX"],
        "shcFromAuthority": std::fs::read_to_string(
            e2e_tests::interop().join("shc/examples/example-00-f-qr-code-numeric-value-0.txt")
        )
        .unwrap()
        .trim(),
        // Valid from 2021-11-02 to 2031-11-02; and a copy whose payload was
        // changed after signing (the specification's own example).
        "nzcpFromAuthority": std::fs::read_to_string(
            e2e_tests::interop().join("nzcp/valid/nzcp.txt")
        )
        .unwrap()
        .trim(),
        // An ICAO seal under the test CSCA, and a copy whose name was
        // changed after signing.
        "icaoFromAuthority": seal,
        "icaoTampered": seal.replace("Alex Tester", "Alex Taster"),
        "ddccFromAuthority": ddcc,
        // CoWIN's DIVOC certificate, which the phone's module does not read.
        "divoc": std::fs::read_to_string(e2e_tests::interop().join("divoc/DIVOCQR1Contents.txt"))
            .unwrap()
            .trim(),
        "nzcpTampered": std::fs::read_to_string(
            e2e_tests::interop().join("nzcp/invalid/nzcp-modified-payload.txt")
        )
        .unwrap()
        .trim(),
    });
    let media = cwd.join("media");
    std::fs::create_dir_all(&media).unwrap();
    let mut cameras = serde_json::Map::new();
    for (name, text) in [
        ("valid", payload(&valid)),
        ("revoked", payload(&revoked)),
        ("tampered", codes["tampered"].as_str().unwrap().to_string()),
        ("foreign", codes["foreign"].as_str().unwrap().to_string()),
        ("venue", payload(&venue)),
    ] {
        let image = media.join(format!("{name}.png"));
        png(&text, &image);
        let y4m = camera_file(&image, &media.join(format!("{name}.y4m")));
        cameras.insert(name.into(), y4m.display().to_string().into());
    }
    // Three finder patterns a pixel apart: the frame that made rqrr assert.
    let side = 240;
    let crafted = wallet_core::samples::finders_without_timing(side, 4);
    let y4m = grey_camera(&media, "crafted", side, &crafted);
    cameras.insert("crafted".into(), y4m.display().to_string().into());

    // A code in view that no reader can read: the checkpoint's hint.
    // (A short text: a small symbol, one alignment pattern.)
    let (side, damaged) = damaged_code("HC1:6BFOXN*TS0BI$ZD4N9:9S6RCVN5+O30K3/XIV0W23NTDE", 10);
    match wallet_core::wire::qr::read_luma(side as u32, side as u32, &damaged) {
        Err(wallet_core::wire::qr::QrError::Decode(_)) => {}
        other => panic!("the damaged code should be seen and not read: {other:?}"),
    }
    let y4m = grey_camera(&media, "damaged", side, &damaged);
    cameras.insert("damaged".into(), y4m.display().to_string().into());

    // The same files, for the native figure beside the browser's.
    let published: Vec<Vec<u8>> = ["trust-list", "revocations", "rules"]
        .iter()
        .map(|f| get_bytes(&format!("{url}/v1/{f}")))
        .collect();

    // Fresh each run: a failure.png left by an earlier run is not this one's.
    let shots = root().join("target/browser-shots");
    let _ = std::fs::remove_dir_all(&shots);
    std::fs::create_dir_all(&shots).unwrap();
    let config = serde_json::json!({
        "url": url,
        "chromium": CHROMIUM,
        "profileDir": cwd.join("chromium-verify"),
        "walletProfileDir": cwd.join("chromium-wallet"),
        "shots": shots,
        "appsDir": dist,
        "issuerPid": issuer.id(),
        "adminToken": admin,
        "anchorFingerprint": anchor_fingerprint,
        "retrievalCode": child["retrieval_code"],
        "holder": holder,
        "walletHolder": "Chen Lily",
        "cameras": cameras,
        "codes": codes,
        "images": {"valid": media.join("valid.png")},
    });
    // The SMART Health Cards example issuer as a directory (VCI snapshot
    // format), and its example card 00.
    let shc = e2e_tests::interop().join("shc");
    let read_json = |rel: &str| -> serde_json::Value {
        serde_json::from_str(&std::fs::read_to_string(shc.join(rel)).unwrap()).unwrap()
    };
    let jwks = read_json("issuer/.well-known/jwks.json");
    let crl = read_json("issuer/.well-known/crl/3Kfdg-XwP-7gXyywtUfUADwBumDOPKMQx-iELL11W9s.json");
    let snapshot = serde_json::json!({"issuerInfo": [{
        "issuer": {"iss": "https://spec.smarthealth.cards/examples/issuer", "name": "SMART example issuer"},
        "keys": jwks["keys"], "crls": [crl]}]});
    let directory = media.join("vci_snapshot.json");
    std::fs::write(&directory, snapshot.to_string()).unwrap();
    let shc_card =
        std::fs::read_to_string(shc.join("examples/example-03-f-qr-code-numeric-value-0.txt"))
            .unwrap()
            .trim()
            .to_string();
    // Card 02's three parts, in the order they will be scanned.
    let chunks: Vec<String> = [2, 0, 1]
        .iter()
        .map(|k| {
            let rel = format!("examples/example-02-f-qr-code-numeric-value-{k}.txt");
            std::fs::read_to_string(shc.join(rel))
                .unwrap()
                .trim()
                .to_string()
        })
        .collect();
    let mut config = config;
    config["shc"] = serde_json::json!({
        "directory": directory, "card": shc_card, "holder": "Johnny Revoked",
        "chunks": chunks,
        "issuer": "SMART example issuer",
    });
    config["webkit"] = serde_json::json!({"driver": WEBKIT_DRIVER, "browser": WEBKIT_BROWSER});
    let config_path = cwd.join("browser.json");
    std::fs::write(&config_path, config.to_string()).unwrap();

    // The second engine first, while the issuer is up (the Chromium run
    // stops it to go offline). BROWSER_ENGINES (default both) picks.
    let engines = std::env::var("BROWSER_ENGINES").unwrap_or_else(|_| "webkit,chromium".into());
    let missing = missing_webkit();
    if engines.contains("webkit") && !missing.is_empty() {
        if std::env::var_os("REQUIRE_BROWSER_TESTS").is_some() {
            panic!("the WebKit run needs: {}", missing.join(", "));
        }
        eprintln!("SKIPPED WebKit: it needs {}", missing.join(", "));
    } else if engines.contains("webkit") {
        let (status, out) = run_node(
            "web/tests/webkit.mjs",
            &config_path,
            Duration::from_secs(300),
        );
        assert!(status.success(), "the WebKit run failed (its log is above)");
        let webkit: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
        eprintln!(
            "webkit: {} checks passed",
            webkit["checks"].as_array().unwrap().len()
        );
    }
    if !engines.contains("chromium") {
        let _ = issuer.kill();
        return;
    }

    let started = Instant::now();
    let (status, out) = run_node(
        "web/tests/browser.mjs",
        &config_path,
        Duration::from_secs(600),
    );
    let _ = issuer.kill();
    let _ = issuer.wait();
    assert!(
        status.success(),
        "the browser run failed (its log is above)"
    );
    let results: serde_json::Value = serde_json::from_str(out.trim()).unwrap();

    // What the wallet showed is the child's code: read the screenshot back.
    let shown = std::fs::read(shots.join("wallet-code-screen.png")).unwrap();
    assert_eq!(
        wallet_core::wire::qr::read_image(&shown).unwrap(),
        payload(&child),
        "the code on the wallet's screen is the one fetched"
    );

    // And so is the one on each printed sheet.
    for size in ["A6", "A4"] {
        let sheet = shots.join(format!("wallet-sheet-{size}.pdf"));
        assert_eq!(code_on_sheet(&sheet), payload(&child), "the {size} sheet");
    }

    // The checkpoint keeps the signed files, its anchor, ETags and profile:
    // no record of a scan.
    let held: Vec<&str> = results["checkpointFiles"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n.as_str().unwrap())
        .collect();
    for name in &held {
        let allowed = name.starts_with("cache/")
            && (name.ends_with(".cose")
                || name.ends_with(".state")
                || name.ends_with(".pem")
                || name.ends_with("profile.txt")
                || name.contains("etag")
                || name.starts_with("cache/shc/directory"));
        assert!(allowed, "the checkpoint keeps {name}: {held:?}");
    }
    assert!(held.contains(&"cache/trust-list.cose"), "{held:?}");

    // The native check of the same code, for the ratio.
    let cache = Cache::on(Arc::new(Memory::new()));
    cache.pin_anchors(&[anchor]).unwrap();
    cache.install_trust_list(&published[0]).unwrap();
    cache.install_revocations(&published[1]).unwrap();
    cache.install_rules(&published[2]).unwrap();
    let cp = cache.load().unwrap();
    let at = OffsetDateTime::now_utc();
    let n = 2000;
    let t0 = Instant::now();
    for _ in 0..n {
        let v = wallet_core::check(codes["valid"].as_str().unwrap(), &cp, "transport", at).unwrap();
        assert!(v.valid);
    }
    let native_ms = t0.elapsed().as_secs_f64() * 1000.0 / f64::from(n);
    let t = &results["timings"];
    let wasm_ms = t["wasmCheckMs"].as_f64().unwrap();
    let figures = serde_json::json!({
        "cold_load_ms": t["coldLoadMs"],
        "offline_load_ms": t["offlineLoadMs"],
        "frame_to_verdict_ms": t["frameToVerdictMs"],
        "offline_frame_to_verdict_ms": t["offlineFrameToVerdictMs"],
        "wasm_check_ms": wasm_ms,
        "native_check_ms": native_ms,
        "wasm_over_native": wasm_ms / native_ms,
        "first_visit": results["firstVisit"],
        "browser_run_s": started.elapsed().as_secs_f64(),
        "checks": results["checks"],
    });
    std::fs::write(shots.join("figures.json"), figures.to_string()).unwrap();
    eprintln!("browser figures: {figures}");
    let _ = stderr;
}

/// A WHO DDCC vaccination for the sample holder (Test Citizen), its second
/// dose 30 days before `now` (unix seconds), issued then for a year and
/// signed by the test DSC.
fn ddcc_vaccination_code(now: i64) -> String {
    let dose = now - 30 * 86_400;
    let date = time::OffsetDateTime::from_unix_timestamp(dose)
        .map(|t| t.date().to_string())
        .unwrap_or_default();
    let read = |name: &str| std::fs::read_to_string(e2e_tests::ddcc_test_signer(name)).unwrap();
    wallet_core::samples::ddcc_code(
        &wallet_core::samples::ddcc_vaccination_data(&date),
        wallet_core::wire::claims::DdccClaim::Vaccination,
        dose,
        dose + 365 * 86_400,
        &read("dsc.key"),
        &read("dsc.pem"),
    )
}
