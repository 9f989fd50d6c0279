//! One device's state: the checkpoint's signed files and the wallet's
//! members and visits, each in memory storage the page mirrors into
//! IndexedDB. The checkpoint app uses the cache half only; it keeps no
//! record of what it scanned.

use crate::lang::{self, Lang, Local};
use crate::reply::answer;
use serde_json::Value;
use std::cell::{Cell, RefCell};
use std::collections::{BTreeMap, HashMap};
use std::error::Error;
use std::rc::Rc;
use std::sync::Arc;
use time::OffsetDateTime;
use wallet_core::checkpoint::cache::{Cache, CacheError};
use wallet_core::checkpoint::sync::Published;
use wallet_core::citizen::wallet::Wallet;
use wallet_core::keys::{kid_for_spki, PublicKey};
use wallet_core::shc::numeric::{self, Collector};
use wallet_core::storage::Memory;
use wallet_core::Checkpoint;
use wasm_bindgen::prelude::*;

mod fetch;
mod show;
mod views;

use fetch::{published, Got};

const CACHE: &str = "cache/";
const WALLET: &str = "wallet/";
/// Longest retrieval code accepted (they are 14 characters with dashes).
const MAX_RETRIEVAL_CODE: usize = 40;
/// Largest retrieval answer read (a code's JSON is well under 4 KB).
const MAX_RETRIEVED: usize = 64 * 1024;

fn at(now: f64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(now as i64).unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

#[wasm_bindgen]
pub struct Device {
    cache_files: Arc<Memory>,
    wallet_files: Arc<Memory>,
    cache: Cache,
    wallet: Wallet,
    /// What the page's store holds, by prefixed name: only what a save
    /// the page confirmed ([`Device::committed`]) wrote.
    saved: RefCell<BTreeMap<String, Vec<u8>>>,
    /// What the page is saving now ([`Device::changes`]), until it says the
    /// write committed; a write that failed is asked for again.
    pending: RefCell<BTreeMap<String, Vec<u8>>>,
    fetched: RefCell<HashMap<Published, Got>>,
    /// The verified files, loaded once after each change.
    loaded: RefCell<Option<Rc<Checkpoint>>>,
    /// How times are shown: the device's offset from UTC.
    local: Cell<Local>,
    /// The page's language: errors are put in it.
    lang: Cell<Lang>,
    /// The chunks of a chunked SMART Health Card scanned so far.
    chunks: RefCell<Collector>,
}

impl Default for Device {
    fn default() -> Device {
        Device::new()
    }
}

#[wasm_bindgen]
impl Device {
    #[wasm_bindgen(constructor)]
    pub fn new() -> Device {
        let cache_files = Arc::new(Memory::new());
        let wallet_files = Arc::new(Memory::new());
        Device {
            cache: Cache::on(cache_files.clone()),
            wallet: Wallet::on(wallet_files.clone()),
            cache_files,
            wallet_files,
            saved: RefCell::new(BTreeMap::new()),
            pending: RefCell::new(BTreeMap::new()),
            fetched: RefCell::new(HashMap::new()),
            loaded: RefCell::new(None),
            local: Cell::new(Local::default()),
            lang: Cell::new(Lang::En),
            chunks: RefCell::new(Collector::new()),
        }
    }

    /// The device's time zone, as minutes east of UTC (JavaScript's
    /// `-new Date().getTimezoneOffset()`): times are shown in it.
    pub fn set_utc_offset(&self, minutes: i32) {
        self.local.set(Local::new(minutes));
    }

    /// The page's language (`en` or `zh`): what fails is said in it.
    pub fn set_lang(&self, code: &str) {
        self.lang.set(Lang::parse(code));
    }

    /// Puts back a file the page saved before (`cache/…` or `wallet/…`).
    /// What is read from it is verified like any other file.
    pub fn restore(&self, name: &str, bytes: Vec<u8>) -> String {
        let result = if let Some(n) = name.strip_prefix(CACHE) {
            self.cache_files.insert(n, bytes.clone())
        } else if let Some(n) = name.strip_prefix(WALLET) {
            self.wallet_files.insert(n, bytes.clone())
        } else {
            return answer::<()>(Err(format!(
                "{name}: not a cache/ or wallet/ file, left out"
            )));
        };
        if result.is_ok() {
            self.saved.borrow_mut().insert(name.to_string(), bytes);
            self.loaded.replace(None);
        }
        answer(result.map_err(|e| self.err(e)))
    }

    /// The files that differ from what the page's store holds, by prefixed
    /// name: the page writes each ([`Device::file`]) in one transaction and
    /// calls [`Device::committed`] once it has committed. Until then they
    /// count as unsaved, so a write that failed is asked for again.
    pub fn changes(&self) -> Vec<String> {
        let mut now = BTreeMap::new();
        for (n, b) in self.cache_files.files() {
            now.insert(format!("{CACHE}{n}"), b);
        }
        for (n, b) in self.wallet_files.files() {
            now.insert(format!("{WALLET}{n}"), b);
        }
        let saved = self.saved.borrow();
        let changed: BTreeMap<String, Vec<u8>> = now
            .into_iter()
            .filter(|(n, b)| saved.get(n) != Some(b))
            .collect();
        let names = changed.keys().cloned().collect();
        *self.pending.borrow_mut() = changed;
        names
    }

    /// The write of the files [`Device::changes`] named has committed.
    pub fn committed(&self) {
        let done = std::mem::take(&mut *self.pending.borrow_mut());
        self.saved.borrow_mut().extend(done);
    }

    /// One file's bytes as they are being saved (or were), by prefixed name.
    pub fn file(&self, name: &str) -> Option<Vec<u8>> {
        self.pending
            .borrow()
            .get(name)
            .or(self.saved.borrow().get(name))
            .cloned()
    }

    /// An anchor offered (PEM), for the person to compare its fingerprint
    /// before pinning: `{"ok": {"fingerprint", "algorithm"}}`.
    pub fn inspect_anchor(&self, pem: &str) -> String {
        answer(
            PublicKey::from_pem(pem)
                .map_err(|e| self.err(e))
                .map(|k| views::Anchor {
                    fingerprint: wallet_core::keys::fingerprint_for_spki(&k.spki_der()),
                    kid: hex::encode(kid_for_spki(&k.spki_der())),
                    algorithm: k.algorithm().to_string(),
                }),
        )
    }

    /// Pins the trust anchor (PEM). A device pins once: another anchor is
    /// refused while one is held (clear the site's data to start over).
    pub fn pin(&self, pem: &str) -> String {
        answer(self.pin_anchor(pem))
    }

    /// Which files to fetch, and how: `[{"file": n, "path", "etag"}]`,
    /// `path` below the issuer's address, `etag` to send as
    /// `If-None-Match` (null when none is held). A wallet also fetches the
    /// exposure list.
    pub fn plan(&self, wallet: bool) -> String {
        // A sync starts here: nothing fetched for an earlier one that
        // never finished (the network went) is carried into this one.
        self.fetched.borrow_mut().clear();
        answer(self.plan_files(wallet))
    }

    /// Keeps one fetched file's body and the ETag it came with.
    pub fn fetched(&self, file: u32, bytes: Vec<u8>, etag: Option<String>) -> String {
        answer(published(file).map(|f| {
            self.fetched.borrow_mut().insert(f, Got::Body(bytes, etag));
        }))
    }

    /// The server answered 304 for this file: the copy held is current.
    pub fn unchanged(&self, file: u32) -> String {
        answer(published(file).map(|f| {
            self.fetched.borrow_mut().insert(f, Got::Unchanged);
        }))
    }

    /// Installs what was fetched, each file verified against the anchor
    /// (a refused file leaves the copy held): `{"ok": {"lines", "refused"}}`.
    pub fn sync(&self, now: f64, lang: &str) -> String {
        let result = self.sync_files(now as i64, Lang::parse(lang));
        self.fetched.borrow_mut().clear();
        self.loaded.replace(None);
        answer(result)
    }

    /// The anchor, the profile, and each file's version and age.
    pub fn status(&self, now: f64, lang: &str) -> String {
        answer(self.describe(now as i64, Lang::parse(lang)))
    }

    /// Fixes this device's checkpoint profile (one of the rule set's).
    pub fn set_profile(&self, name: &str) -> String {
        let result = self.checkpoint().and_then(|cp| {
            cp.rules.profile(name).map_err(|e| self.err(e))?;
            self.cache.set_profile(name).map_err(|e| self.err(e))
        });
        answer(result)
    }

    /// What a directory file (the VCI snapshot format) would trust, for
    /// the person to confirm before anything is trusted:
    /// `{"ok": {"issuers": [{"name", "iss", "keys"}], "keys", "refused",
    /// "fingerprint"}}`, the fingerprint being the file's SHA-256 (a
    /// directory is not signed: it is compared with the one its authority
    /// published). Nothing is stored.
    pub fn inspect_shc_directory(&self, bytes: Vec<u8>) -> String {
        let result = wallet_core::shc::issuers::read_directory(&bytes)
            .map_err(|e| self.err(e))
            .map(|dir| views::ShcOffer {
                issuers: dir
                    .issuers
                    .iter()
                    .map(|i| views::ShcIssuer {
                        name: wallet_core::text::escape(&i.name).into_owned(),
                        iss: i.iss.clone(),
                        keys: i.keys.len(),
                    })
                    .collect(),
                keys: dir.issuers.iter().map(|i| i.keys.len()).sum(),
                refused: escaped(&dir.problems),
                fingerprint: wallet_core::keys::fingerprint_of_bytes(&bytes),
            });
        answer(result)
    }

    /// Trusts the SMART Health Card issuers of a directory file (the VCI
    /// snapshot format), replacing the directory held:
    /// `{"ok": {"issuers", "keys", "refused": [..]}}`.
    pub fn trust_shc_directory(&self, bytes: Vec<u8>, source: &str) -> String {
        let result = self
            .cache
            .import_shc_directory(&bytes, source)
            .map_err(|e| self.err(e))
            .map(|dir| views::ShcTrusted {
                issuers: dir.issuers.len(),
                keys: dir.issuers.iter().map(|i| i.keys.len()).sum(),
                refused: escaped(&dir.problems),
            });
        self.loaded.replace(None);
        answer(result)
    }

    /// The verdict card for a scanned code, in `lang`. One chunk of a
    /// chunked SMART Health Card gives `{"ok": {"pending": true, "message"}}`
    /// until every chunk is scanned (in any order); then the card's verdict.
    pub fn check(&self, text: &str, now: f64, lang: &str) -> String {
        let lang = Lang::parse(lang);
        let text = text.trim();
        let is_chunk = matches!(numeric::parse(text), Ok(numeric::Scanned::Chunk(_)));
        if !is_chunk {
            // Someone else's code: the parts of an earlier card are dropped.
            self.chunks.borrow_mut().finish();
            return answer(self.card(text, at(now), lang));
        }
        let ready = self.chunks.borrow_mut().push(text.to_string());
        match ready.last() {
            Some(card) => answer(self.card(card, at(now), lang)),
            None => {
                let (have, total) = self.chunks.borrow().pending().unwrap_or((0, 0));
                let message = lang::word("shc_chunks", lang)
                    .replace("{0}", &have.to_string())
                    .replace("{1}", &total.to_string());
                answer(Ok(views::Pending {
                    pending: true,
                    message,
                }))
            }
        }
    }

    /// Where to fetch a retrieval code's credential, below the issuer's
    /// address; refuses text that cannot be a code.
    pub fn retrieve_path(&self, code: &str) -> String {
        answer(retrieve_path(code).map_err(|(key, args)| self.say(key, &args)))
    }

    /// What to say when the issuer refused a retrieval (`status`, `body`
    /// its answer): in English the issuer's own words; in Chinese the
    /// words for what the status means.
    pub fn retrieval_failed(&self, code: &str, status: u16, body: &str) -> String {
        let code = wallet_core::text::escape(code.trim()).into_owned();
        let lang = self.lang.get();
        let issuers = serde_json::from_str::<Value>(body)
            .ok()
            .and_then(|v| v["error"].as_str().map(str::to_string));
        match (lang, status, issuers) {
            (Lang::En, _, Some(words)) => {
                format!("{code}: {}", wallet_core::text::escape(&words))
            }
            (_, 404, _) => self.say("retrieval_unknown", &[code]),
            (_, 429, _) => self.say("retrieval_later", &[code]),
            _ => self.say("http_failed", &[code, status.to_string()]),
        }
    }

    /// The payload in the issuer's answer to a retrieval.
    pub fn retrieved(&self, body: &str) -> String {
        answer(retrieved_payload(body).map_err(|(key, args)| self.say(key, &args)))
    }

    /// Adds a code to a member (verified first when the files are synced).
    pub fn add(&self, member: &str, text: &str, now: f64, lang: &str) -> String {
        answer(self.add_code(member, text, at(now), Lang::parse(lang)))
    }

    /// Every member's codes with their standing, in `lang`.
    pub fn held(&self, now: f64, lang: &str) -> String {
        answer(self.held_codes(at(now), Lang::parse(lang)))
    }

    pub fn remove(&self, member: &str, id: &str) -> String {
        answer(self.wallet.remove(member, id).map_err(|e| self.err(e)))
    }

    /// Every code of every member as one backup file:
    /// `{"ok": {"name", "text", "codes"}}`.
    pub fn export_wallet(&self, now: f64) -> String {
        let now = at(now);
        answer(
            self.wallet
                .export(now)
                .map(|(bytes, codes)| {
                    let day = wallet_core::credential::instant::format(now.unix_timestamp());
                    views::Exported {
                        name: format!("health-wallet-{}.json", &day[..10.min(day.len())]),
                        text: String::from_utf8_lossy(&bytes).into_owned(),
                        codes,
                    }
                })
                .map_err(|e| self.err(e)),
        )
    }

    /// Adds every code of a backup, each verified as an added code is:
    /// `{"ok": {"added", "already_held", "refused": [..]}}`.
    pub fn import_wallet(&self, bytes: Vec<u8>, now: f64) -> String {
        let cp = self.checkpoint().ok();
        let now = device_now(cp.as_deref(), at(now));
        answer(
            self.wallet
                .import(&bytes, cp.as_deref(), now)
                .map_err(|e| self.err(e)),
        )
    }

    /// One held code to show full screen or print: its SVG and caption.
    pub fn code(&self, member: &str, id: &str, now: f64, lang: &str) -> String {
        answer(self.code_view(member, id, at(now), Lang::parse(lang)))
    }

    /// Checks in at the venue code scanned (verified offline); the visit
    /// stays on the device.
    pub fn checkin(&self, text: &str, now: f64) -> String {
        let result = self.checkpoint().and_then(|cp| {
            let v = self
                .wallet
                .visit_log()
                .checkin(text, &cp, cp.device_time(at(now)).at)
                .map_err(|e| self.err(e))?;
            Ok(views::Visit {
                name: v.name,
                area: v.area,
                at: self.local.get().when(v.at),
            })
        });
        answer(result)
    }

    /// The visits kept, newest first, and the retention in days.
    pub fn visits(&self, now: f64) -> String {
        let log = self.wallet.visit_log();
        let result = (|| {
            let mut visits = log.visits(at(now)).map_err(|e| self.err(e))?;
            visits.reverse();
            let days = log.retention_days(at(now)).map_err(|e| self.err(e))?;
            let visits = visits
                .into_iter()
                .map(|v| views::Visit {
                    at: self.local.get().when(v.at),
                    name: v.name,
                    area: v.area,
                })
                .collect();
            Ok(views::Visits {
                retention_days: days,
                visits,
            })
        })();
        answer(result)
    }

    /// Sets how many days visits are kept; answers how many were deleted.
    pub fn set_retention(&self, days: u32, now: f64) -> String {
        answer(
            self.wallet
                .visit_log()
                .set_retention_days(days, at(now))
                .map_err(|e| self.err(e)),
        )
    }

    /// The visits that fall in a window of the exposure list held,
    /// matched here: nothing about the visits leaves the device.
    pub fn exposures(&self, now: f64) -> String {
        answer(self.match_exposures(at(now)))
    }
}

impl Device {
    /// An error in the page's language.
    fn err(&self, e: impl Error + 'static) -> String {
        crate::errors::error(&e, self.lang.get())
    }

    /// One of the screens' words in the page's language, `{0}`… filled.
    fn say(&self, key: &str, args: &[String]) -> String {
        lang::fill(key, self.lang.get(), args)
    }

    /// The verified files, loaded once after each change: a check costs no
    /// parsing of the files.
    fn checkpoint(&self) -> Result<Rc<Checkpoint>, String> {
        if let Some(cp) = self.loaded.borrow().as_ref() {
            return Ok(cp.clone());
        }
        let cp = self.cache.load().map_err(|e| match e {
            CacheError::Missing { what, .. } if self.lang.get() == Lang::En => {
                format!("no {what} on this device yet: pin the trust anchor and sync in Settings")
            }
            e => self.err(e),
        })?;
        let cp = Rc::new(cp);
        self.loaded.replace(Some(cp.clone()));
        Ok(cp)
    }

    fn pin_anchor(&self, pem: &str) -> Result<String, String> {
        let key = PublicKey::from_pem(pem).map_err(|e| self.err(e))?;
        let kid = hex::encode(kid_for_spki(&key.spki_der()));
        let held = match self.cache.anchor_set() {
            Ok(set) => set.keys().to_vec(),
            Err(CacheError::Missing { .. }) => Vec::new(),
            Err(e) => return Err(self.err(e)),
        };
        if let Some(current) = held.first() {
            let current = hex::encode(&current.kid);
            if current == kid {
                return Ok(kid);
            }
            return Err(self.say("anchor_other", &[current, kid]));
        }
        self.cache.pin_anchors(&[key]).map_err(|e| self.err(e))?;
        self.loaded.replace(None);
        Ok(kid)
    }
}

/// Lines from a trust source, each hostile character escaped.
fn escaped(lines: &[String]) -> Vec<String> {
    lines
        .iter()
        .map(|l| wallet_core::text::escape(l).into_owned())
        .collect()
}

/// The time a wallet judges its codes at: the device clock, never below
/// the synced files' issue time (as is, with no files).
fn device_now(cp: Option<&Checkpoint>, now: OffsetDateTime) -> OffsetDateTime {
    cp.map_or(now, |cp| cp.device_time(now).at)
}

/// Why something typed or fetched was refused: a key of the screens'
/// words and its `{0}`… values.
type Refusal = (&'static str, Vec<String>);

/// `v1/retrieve/CODE?format=json` for a code as a person types it: case,
/// spaces and dashes do not matter.
fn retrieve_path(code: &str) -> Result<String, Refusal> {
    let code: String = code
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect::<String>()
        .to_ascii_uppercase();
    if code.is_empty() {
        return Err(("retrieval_empty", Vec::new()));
    }
    if code.len() > MAX_RETRIEVAL_CODE
        || !code.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
    {
        let shown = wallet_core::text::escape(&code).into_owned();
        return Err(("retrieval_bad", vec![shown]));
    }
    Ok(format!("v1/retrieve/{code}?format=json"))
}

fn retrieved_payload(body: &str) -> Result<String, Refusal> {
    if body.len() > MAX_RETRIEVED {
        return Err(("retrieval_too_big", vec![MAX_RETRIEVED.to_string()]));
    }
    let v: Value = serde_json::from_str(body).map_err(|_| ("retrieval_not_json", Vec::new()))?;
    v["payload"]
        .as_str()
        .map(str::to_string)
        .ok_or(("retrieval_no_payload", Vec::new()))
}

#[cfg(test)]
mod tests;
