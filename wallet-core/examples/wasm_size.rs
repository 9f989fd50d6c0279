//! What a WebAssembly module of wallet-core weighs: a stand-in for the
//! browser apps' module that exports the calls they make, so a size
//! measured on it counts the code a browser downloads.
//!
//! Always: sync the signed files into memory, check a code at the
//! checkpoint, add and list a family's credentials, check in at a venue and
//! match an exposure list. With `qr-scan`: read a QR code from a camera
//! frame; with `qr-read`, from an image file too; with `qr-render`: draw one
//! as SVG; with `sheet`: the printable PDF.
//!
//! ```sh
//! cargo build -p wallet-core --example wasm_size --target wasm32-unknown-unknown \
//!   --profile wasm-release --no-default-features          # minimal
//! cargo build -p wallet-core --example wasm_size --target wasm32-unknown-unknown \
//!   --profile wasm-release                                # default features
//! ls -l target/wasm32-unknown-unknown/wasm-release/examples/wasm_size.wasm
//! ```
//!
//! The calls pass bytes through two buffers the host reads and writes:
//! `input(len)` gives where to write `len` bytes, `output()` where the last
//! answer is (its length is the call's return value).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use time::OffsetDateTime;
use wallet_core::checkpoint::cache::Cache;
use wallet_core::checkpoint::sync::{self, Published, Source, SourceError};
use wallet_core::citizen::wallet::{Held, Wallet, DEFAULT_MEMBER};
use wallet_core::keys::PublicKey;
use wallet_core::storage::Memory;

static INPUT: Mutex<Vec<u8>> = Mutex::new(Vec::new());
static OUTPUT: Mutex<Vec<u8>> = Mutex::new(Vec::new());
/// What the host fetched of each file: its body and ETag, or a 304.
static FILES: Mutex<Option<HashMap<Published, Got>>> = Mutex::new(None);

#[derive(Clone)]
enum Got {
    Body(Vec<u8>, Option<String>),
    Unchanged,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

struct Device {
    cache: Cache,
    wallet: Wallet,
}

fn device() -> &'static Device {
    static DEVICE: std::sync::OnceLock<Device> = std::sync::OnceLock::new();
    DEVICE.get_or_init(|| Device {
        cache: Cache::on(Arc::new(Memory::new())),
        wallet: Wallet::on(Arc::new(Memory::new())),
    })
}

fn text() -> String {
    String::from_utf8_lossy(&lock(&INPUT)).into_owned()
}

/// Puts the answer in the output buffer; returns its length.
fn answer(bytes: impl Into<Vec<u8>>) -> usize {
    let mut out = lock(&OUTPUT);
    *out = bytes.into();
    out.len()
}

fn at(now: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(now).unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

/// The files the host fetched, as a sync source: it asked for each with
/// the ETag held (`etag`), and gave the body (`fetched`, `fetched_etag`)
/// or said the server answered 304 (`unchanged`).
struct Fetched;

impl Fetched {
    fn got(file: Published) -> Option<Got> {
        lock(&FILES).as_ref().and_then(|f| f.get(&file).cloned())
    }
}

impl Source for Fetched {
    fn fetch(&self, file: Published, _since: Option<u64>) -> Result<Option<Vec<u8>>, SourceError> {
        Ok(match Fetched::got(file) {
            Some(Got::Body(bytes, _)) => Some(bytes),
            _ => None,
        })
    }
    fn fetch_if_changed(
        &self,
        file: Published,
        _since: Option<u64>,
        _etag: Option<&str>,
    ) -> Result<sync::Fetched, SourceError> {
        Ok(match Fetched::got(file) {
            Some(Got::Body(bytes, etag)) => sync::Fetched::Body { bytes, etag },
            Some(Got::Unchanged) => sync::Fetched::Unchanged,
            None => sync::Fetched::Missing,
        })
    }
    fn describe(&self) -> String {
        "fetch".into()
    }
    fn locate(&self, file: Published) -> String {
        file.api_path().into()
    }
}

#[no_mangle]
pub extern "C" fn input(len: usize) -> *mut u8 {
    let mut buf = lock(&INPUT);
    buf.clear();
    buf.resize(len, 0);
    buf.as_mut_ptr()
}

#[no_mangle]
pub extern "C" fn output() -> *const u8 {
    lock(&OUTPUT).as_ptr()
}

/// Pins the anchor PEM in the input.
#[no_mangle]
pub extern "C" fn pin() -> usize {
    let result = PublicKey::from_pem(&text())
        .map_err(|e| e.to_string())
        .and_then(|k| device().cache.pin_anchors(&[k]).map_err(|e| e.to_string()));
    answer(result.err().unwrap_or_default())
}

fn published(file: u32) -> Published {
    match file {
        0 => Published::TrustList,
        1 => Published::Revocations,
        2 => Published::Rules,
        _ => Published::Exposures,
    }
}

/// Answers what to fetch, a line each: the file's path below the issuer's
/// URL (with `?since=N` for revocations) and the ETag to send as
/// `If-None-Match` (empty when none is held).
#[no_mangle]
pub extern "C" fn plan() -> usize {
    let d = device();
    let result = sync::plan(&d.cache).map_err(|e| e.to_string());
    let lines = result.and_then(|files| {
        let mut out = String::new();
        for (file, since) in files {
            let etag = d.cache.etag(file.file_name()).map_err(|e| e.to_string())?;
            let path = file.request_path(since);
            out.push_str(&format!("{path} {}\n", etag.unwrap_or_default()));
        }
        Ok(out)
    });
    answer(lines.unwrap_or_else(|e| e))
}

/// Keeps the input as one fetched file's body (0 trust list, 1
/// revocations, 2 rules, 3 exposures).
#[no_mangle]
pub extern "C" fn fetched(file: u32) -> usize {
    lock(&FILES)
        .get_or_insert_with(HashMap::new)
        .insert(published(file), Got::Body(lock(&INPUT).clone(), None));
    0
}

/// The input is the ETag the server gave with the body just kept.
#[no_mangle]
pub extern "C" fn fetched_etag(file: u32) -> usize {
    if let Some(Got::Body(_, etag)) = lock(&FILES)
        .get_or_insert_with(HashMap::new)
        .get_mut(&published(file))
    {
        *etag = Some(text());
    }
    0
}

/// The server answered 304: the copy held is current.
#[no_mangle]
pub extern "C" fn unchanged(file: u32) -> usize {
    lock(&FILES)
        .get_or_insert_with(HashMap::new)
        .insert(published(file), Got::Unchanged);
    0
}

/// Installs the fetched files at `now`; answers the report.
#[no_mangle]
pub extern "C" fn sync(now: i64) -> usize {
    let d = device();
    let mut out = match sync::sync(&d.cache, &Fetched, now) {
        Ok(r) => {
            let mut s = r.describe();
            for refused in &r.refused {
                s.push_str(&format!("refused {refused}\n"));
            }
            s
        }
        Err(e) => e.to_string(),
    };
    if let Some(Got::Body(bytes, _)) = Fetched::got(Published::Exposures) {
        if let Err(e) = d.cache.install_exposures(&bytes) {
            out.push_str(&e.to_string());
        }
    }
    answer(out)
}

/// The verdict (JSON) for the payload text in the input.
#[no_mangle]
pub extern "C" fn check(now: i64) -> usize {
    let result = device()
        .cache
        .load()
        .map_err(|e| e.to_string())
        .and_then(|cp| {
            wallet_core::check(&text(), &cp, "transport", at(now)).map_err(|e| e.to_string())
        })
        .and_then(|v| serde_json::to_string(&v).map_err(|e| e.to_string()));
    answer(result.unwrap_or_else(|e| e))
}

/// Every member's credentials at `now`, checked against the synced files
/// when there are any.
fn held(now: i64) -> Result<Vec<Held>, String> {
    let d = device();
    let cp = d.cache.load().ok();
    d.wallet
        .list(cp.as_ref(), at(now))
        .map_err(|e| e.to_string())
}

/// Adds the payload text in the input to the wallet; answers the list (JSON).
#[no_mangle]
pub extern "C" fn add(now: i64) -> usize {
    let d = device();
    let cp = d.cache.load().ok();
    let result = d
        .wallet
        .add(DEFAULT_MEMBER, &text(), cp.as_ref(), at(now))
        .map_err(|e| e.to_string())
        .and_then(|_| held(now))
        .and_then(|held| serde_json::to_string(&held).map_err(|e| e.to_string()));
    answer(result.unwrap_or_else(|e| e))
}

/// The best credential for the transport profile (its payload).
#[no_mangle]
pub extern "C" fn best(now: i64) -> usize {
    let d = device();
    let result = d
        .cache
        .load()
        .map_err(|e| e.to_string())
        .and_then(|cp| {
            d.wallet
                .best(DEFAULT_MEMBER, &cp, "transport", at(now))
                .map_err(|e| e.to_string())
        })
        .map(|c| c.best().map(|b| b.held.payload.clone()).unwrap_or_default());
    answer(result.unwrap_or_else(|e| e))
}

/// Checks in at the venue code in the input; answers the exposures found (JSON).
#[no_mangle]
pub extern "C" fn checkin(now: i64) -> usize {
    let d = device();
    let log = d.wallet.visit_log();
    let result = d.cache.load().map_err(|e| e.to_string()).and_then(|cp| {
        log.checkin(&text(), &cp, at(now))
            .map_err(|e| e.to_string())?;
        let trust = d.cache.trust_store().map_err(|e| e.to_string())?;
        let found = match d.cache.exposures(&trust).map_err(|e| e.to_string())? {
            Some((list, _)) => log.exposures(&list, at(now)).map_err(|e| e.to_string())?,
            None => Vec::new(),
        };
        serde_json::to_string(&found).map_err(|e| e.to_string())
    });
    answer(result.unwrap_or_else(|e| e))
}

/// The text of the QR code in a camera frame's luma plane (the input,
/// `width` bytes a row).
#[cfg(feature = "qr-scan")]
#[no_mangle]
pub extern "C" fn read_frame(width: u32) -> usize {
    let luma = lock(&INPUT).clone();
    let height = u32::try_from(luma.len() / (width.max(1) as usize)).unwrap_or(0);
    let rows = (width as usize) * (height as usize);
    answer(
        wallet_core::wire::qr::read_luma(width, height, &luma[..rows])
            .unwrap_or_else(|e| e.to_string()),
    )
}

/// The text of the QR code in the image (PNG or JPEG) in the input.
#[cfg(feature = "qr-read")]
#[no_mangle]
pub extern "C" fn read_qr() -> usize {
    let bytes = lock(&INPUT).clone();
    answer(wallet_core::wire::qr::read_image(&bytes).unwrap_or_else(|e| e.to_string()))
}

/// The payload text in the input as an SVG QR code.
#[cfg(feature = "qr-render")]
#[no_mangle]
pub extern "C" fn qr_svg() -> usize {
    use wallet_core::wire::qr::{Level, Symbol};
    answer(
        Symbol::new(&text(), Level::M)
            .map(|s| s.to_svg())
            .unwrap_or_else(|e| e.to_string()),
    )
}

/// The member's best credential as a printable A6 PDF.
#[cfg(feature = "sheet")]
#[no_mangle]
pub extern "C" fn sheet_pdf(now: i64) -> usize {
    use wallet_core::citizen::sheet::{Caption, PaperSize, Sheet};
    let result = held(now).and_then(|held| {
        let h = held.first().ok_or("no credential")?;
        let caption = Caption::for_credential(&h.credential, None);
        Sheet::new(&h.payload, &caption, PaperSize::A6)
            .map(|s| s.to_pdf())
            .map_err(|e| e.to_string())
    });
    answer(result.unwrap_or_else(|e| e.into_bytes()))
}
