// What both apps share: the WebAssembly module, the device's files in
// IndexedDB, the sync over fetch, the words, the camera and the image
// reader (both decoded in a Web Worker), the service worker. Every
// decision is the module's; this file moves bytes and draws.
import init, * as core from './health_web.js';

export { core };

export async function start() {
  await init({ module_or_path: new URL('./health_web_bg.wasm', import.meta.url) });
}

/** `{ok}` → the value; `{error}` → throws it. */
export function ok(answer) {
  const v = JSON.parse(answer);
  if ('error' in v) throw new Error(v.error);
  return v.ok;
}

export const now = () => Date.now() / 1000;

// ---- words ---------------------------------------------------------------

let words = {};
export let lang = 'en';
/** The device open in this page: its errors are put in the page's language. */
let openedDevice = null;

export function setLanguage(code) {
  lang = code;
  if (openedDevice) openedDevice.set_lang(code);
  words = JSON.parse(core.words(code));
  document.documentElement.lang = code === 'zh' ? 'zh-CN' : 'en';
  for (const el of document.querySelectorAll('[data-t]')) el.textContent = t(el.dataset.t);
  for (const el of document.querySelectorAll('[data-t-placeholder]')) el.placeholder = t(el.dataset.tPlaceholder);
}

export function chooseLanguage(storeKey) {
  const saved = localStorage.getItem(storeKey);
  const code = saved || core.choose_language((navigator.languages || [navigator.language || '']).join(','));
  setLanguage(code);
  return code;
}

export function t(key, ...args) {
  let s = words[key] ?? key;
  args.forEach((a, i) => { s = s.replaceAll(`{${i}}`, a); });
  return s;
}

export function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === 'class') e.className = v;
    else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v);
  }
  for (const c of children.flat()) if (c !== null && c !== undefined) e.append(c);
  return e;
}

// ---- storage -------------------------------------------------------------

function request(r) {
  return new Promise((resolve, reject) => { r.onsuccess = () => resolve(r.result); r.onerror = () => reject(r.error); });
}

/** The device's files in IndexedDB database `name`, mirrored in the module. */
export async function openDevice(name) {
  const open = indexedDB.open(name, 1);
  open.onupgradeneeded = () => open.result.createObjectStore('files');
  const db = await request(open);
  const device = new core.Device();
  device.set_utc_offset(-new Date().getTimezoneOffset());
  device.set_lang(lang);
  openedDevice = device;
  const tx = db.transaction('files', 'readonly');
  const store = tx.objectStore('files');
  const [keys, values] = await Promise.all([request(store.getAllKeys()), request(store.getAll())]);
  keys.forEach((k, i) => {
    const r = JSON.parse(device.restore(k, values[i]));
    if (r.error) console.warn(r.error);
  });
  // Files are marked saved only once their transaction has committed; a
  // write that fails is tried again, then reported. One save at a time.
  async function write() {
    for (let attempt = 0; ; attempt++) {
      const names = device.changes();
      if (!names.length) return;
      try {
        const tx = db.transaction('files', 'readwrite');
        for (const n of names) tx.objectStore('files').put(device.file(n), n);
        await new Promise((resolve, reject) => {
          tx.oncomplete = resolve;
          tx.onerror = () => reject(tx.error);
          tx.onabort = () => reject(tx.error || new Error('aborted'));
        });
        device.committed();
        return;
      } catch (e) {
        if (attempt >= 2) throw new Error(t('save_failed', (e && e.message) || String(e)));
        await new Promise((r) => setTimeout(r, 300 * (attempt + 1)));
      }
    }
  }
  let saving = Promise.resolve();
  function save() {
    saving = saving.then(write, write);
    return saving;
  }
  // The browser may clear a site's storage under pressure unless it was
  // granted persistence: ask once, and let Settings show the answer.
  const persisted = navigator.storage && navigator.storage.persist
    ? navigator.storage.persist().catch(() => false)
    : Promise.resolve(false);
  return { device, save, persisted };
}

// ---- sync ----------------------------------------------------------------

/** The issuer's address: the one set in settings, else where the app came from. */
export function issuerBase(storeKey) {
  return localStorage.getItem(storeKey) || new URL('../', location.href).href;
}

/** Fetches the files the module plans (each with its ETag), hands them to
 *  it, and installs them; answers its report. The files are never served by
 *  the service worker or the HTTP cache. */
/** `fetch`, where a network that cannot be reached is said in the page's words. */
export async function get(url, options) {
  try {
    return await fetch(url, options);
  } catch {
    throw new Error(t('unreachable', new URL(url).host));
  }
}

/** Why the camera cannot be used, in the page's words (the browser's own
 *  message is in the browser's language, whatever the page's). */
export function cameraWhy(e) {
  const key = { NotAllowedError: 'camera_denied', SecurityError: 'camera_denied', NotFoundError: 'camera_none',
    OverconstrainedError: 'camera_none', NotReadableError: 'camera_busy', AbortError: 'camera_busy' }[e && e.name];
  return t('camera_error', t(key || 'camera_other'));
}

export async function sync(device, save, base, wallet) {
  const plan = ok(device.plan(wallet));
  for (const p of plan) {
    const headers = p.etag ? { 'If-None-Match': p.etag } : {};
    const r = await get(new URL(p.path, base), { cache: 'no-store', headers });
    if (r.status === 304) ok(device.unchanged(p.file));
    else if (r.ok) ok(device.fetched(p.file, new Uint8Array(await r.arrayBuffer()), r.headers.get('ETag') || undefined));
    else if (r.status !== 404) throw new Error(t('http_failed', p.path, r.status));
  }
  const report = ok(device.sync(now(), lang));
  await save();
  return report;
}

/** Calls `sync()` when the page comes back to the front or the network
 *  comes back, if `ready()`: never two at once, nor two within 5 s (each
 *  costs a 304 a file when nothing changed). Returns how many times it has
 *  synced so. */
export function syncWhenBack(ready, sync) {
  let last = -Infinity, count = 0, running = false;
  const maybe = () => {
    if (document.visibilityState !== 'visible' || !navigator.onLine || !ready()) return;
    if (running || performance.now() - last < 5000) return;
    last = performance.now();
    running = true;
    count++;
    Promise.resolve(sync()).catch(() => {}).finally(() => { running = false; });
  };
  document.addEventListener('visibilitychange', maybe);
  window.addEventListener('online', maybe);
  return () => count;
}

// ---- settings both apps share ---------------------------------------------

/** The anchor and the sync, in `container`: the anchor pinned, or how to
 *  pin one (offered by the issuer and confirmed by its fingerprint, or
 *  pasted as PEM); the issuer's address; Sync now and its report. Calls
 *  `changed()` after each pin and sync; `fail(text)` for errors. */
export function settingsPanel(container, { device, save, issuerKey, wallet, changed, fail, persisted }) {
  const w = (tag, key, attrs = {}) => el(tag, { 'data-t': key, ...attrs }, t(key));
  const state = el('div', { id: 'anchor-state' });
  const fingerprint = el('div', { class: 'fingerprint', id: 'offer-fp' });
  const confirm = w('button', 'confirm', { id: 'offer-confirm', class: 'primary', type: 'button' });
  const offer = el('div', { id: 'offer', class: 'hidden card' }, w('div', 'anchor_confirm'), fingerprint,
    el('div', { class: 'row' }, confirm));
  const pem = el('textarea', { id: 'pem' });
  const offered = w('button', 'anchor_offered', { id: 'offered', type: 'button' });
  const pinButton = w('button', 'pin', { id: 'pin', type: 'button' });
  const pinArea = el('div', { id: 'pin-area' }, el('div', { class: 'row' }, offered), offer,
    w('label', 'pin_paste', { for: 'pem' }), pem, el('div', { class: 'row' }, pinButton));
  const address = el('input', { id: 'issuer', type: 'url' });
  address.value = issuerBase(issuerKey);
  const syncButton = w('button', 'sync', { id: 'sync', class: 'primary', type: 'button' });
  const report = el('div', { id: 'sync-report' });
  // SMART Health Card issuers: a directory file (VCI snapshot) loaded here.
  const shcList = el('div', { id: 'shc-issuers' });
  const shcFile = el('input', { id: 'shc-directory', type: 'file', accept: '.json,application/json' });
  const shcReport = el('div', { id: 'shc-report' });
  // Foreign keys the authority sent in its signed files: each source, its
  // counts and age (lines made by the module, in the page's language).
  const foreignList = el('div', { id: 'foreign-sources' });
  // Whether the browser keeps this app's data, and a way to ask again.
  const persistence = el('div', { id: 'persistence' });
  const showPersistence = (kept) => {
    const ask = w('button', 'storage_ask', { id: 'storage-ask', type: 'button' });
    ask.onclick = async () => showPersistence(await navigator.storage?.persist?.().catch(() => false));
    persistence.dataset.kept = String(!!kept);
    persistence.replaceChildren(kept
      ? el('div', { class: 'banner ok' }, t('storage_kept'))
      : el('div', { class: 'banner warn' }, t('storage_at_risk'), el('div', { class: 'row' }, ask)));
  };
  Promise.resolve(persisted).then(showPersistence);
  container.replaceChildren(persistence, w('h2', 'anchor'), state, pinArea, w('label', 'issuer_url', { for: 'issuer' }), address,
    el('div', { class: 'row' }, syncButton), report,
    w('h2', 'foreign_trust'), foreignList,
    w('h2', 'shc_issuers'), shcList, w('label', 'shc_directory', { for: 'shc-directory' }), shcFile, shcReport);
  // A directory is trusted only after the person saw what it trusts and confirmed.
  shcFile.onchange = async () => {
    const f = shcFile.files[0];
    if (!f) return;
    shcFile.value = '';
    try {
      const bytes = new Uint8Array(await f.arrayBuffer());
      const seen = ok(device.inspect_shc_directory(bytes));
      const shown = seen.issuers.slice(0, 20).map((i) => el('div', { class: 'fact' }, t('shc_issuer_line', i.name, i.iss, i.keys)));
      if (seen.issuers.length > 20) shown.push(el('div', { class: 'fact' }, t('shc_more', seen.issuers.length - 20)));
      const yes = w('button', 'confirm', { id: 'shc-confirm', class: 'primary', type: 'button' });
      const no = w('button', 'cancel', { id: 'shc-cancel', type: 'button' });
      shcReport.replaceChildren(el('div', { class: 'card', id: 'shc-offer' },
        el('div', {}, t('shc_confirm', seen.issuers.length, seen.keys, seen.refused.length)),
        ...shown, w('div', 'file_fingerprint'), el('div', { class: 'fingerprint' }, seen.fingerprint),
        el('div', { class: 'row' }, yes, no)));
      no.onclick = () => shcReport.replaceChildren();
      yes.onclick = async () => {
        try {
          const r = ok(device.trust_shc_directory(bytes, f.name));
          await save();
          shcReport.replaceChildren(el('div', { class: 'banner ok', id: 'shc-loaded' },
            t('shc_loaded', r.issuers, r.keys, r.refused.length)),
            ...r.refused.slice(0, 20).map((x) => el('div', { class: 'banner bad' }, x)));
        } catch (e) {
          shcReport.replaceChildren(el('div', { class: 'banner bad', id: 'shc-failed' }, e.message));
        }
        refresh();
        changed();
      };
    } catch (e) {
      shcReport.replaceChildren(el('div', { class: 'banner bad', id: 'shc-failed' }, e.message));
    }
  };

  function refresh() {
    const s = ok(device.status(now(), lang));
    state.replaceChildren(...(s.anchors.length
      ? s.anchors.map((a) => el('div', { class: 'card' }, el('div', {}, `${t('pinned')} (${a.algorithm})`),
        w('div', 'key_fingerprint'), el('div', { class: 'fingerprint' }, a.fingerprint)))
      : [el('div', { class: 'banner warn' }, t('not_pinned'))]));
    pinArea.classList.toggle('hidden', s.anchors.length > 0);
    foreignList.replaceChildren(...(s.foreign?.length
      ? s.foreign.map((line) => el('div', { class: 'fact' }, line))
      : [el('div', { class: 'fact' }, t('foreign_none'))]));
    shcList.replaceChildren(...(s.shc_issuers?.length
      ? s.shc_issuers.map((n) => el('div', { class: 'fact' }, n))
      : [el('div', { class: 'fact' }, t('shc_none'))]));
    return s;
  }

  async function doSync() {
    syncButton.disabled = true;
    report.replaceChildren(el('div', { class: 'banner info' }, t('syncing')));
    try {
      const base = address.value.trim();
      if (base) localStorage.setItem(issuerKey, base);
      const r = await sync(device, save, issuerBase(issuerKey), wallet);
      report.replaceChildren(el('div', { class: 'banner ok', id: 'synced' }, r.lines.join('\n')),
        ...r.refused.map((x) => el('div', { class: 'banner bad' }, x)));
    } catch (e) {
      report.replaceChildren(el('div', { class: 'banner bad', id: 'sync-failed' }, t('sync_failed', e.message)));
    }
    syncButton.disabled = false;
    refresh();
    changed();
  }

  async function pin(text) {
    try {
      ok(device.pin(text));
      await save();
      offer.classList.add('hidden');
      refresh();
      await doSync();
    } catch (e) { fail(e.message); }
  }

  /** An anchor is pinned only after its full fingerprint was shown and confirmed. */
  function offerAnchor(text) {
    fingerprint.textContent = ok(device.inspect_anchor(text)).fingerprint;
    offer.classList.remove('hidden');
    confirm.onclick = () => pin(text);
  }

  offered.onclick = async () => {
    try {
      const r = await get(new URL('v1/anchor', issuerBase(issuerKey)), { cache: 'no-store' });
      if (!r.ok) throw new Error(t('http_failed', 'v1/anchor', r.status));
      offerAnchor(await r.text());
    } catch (e) { fail(e.message); }
  };
  pinButton.onclick = () => { try { offerAnchor(pem.value); } catch (e) { fail(e.message); } };
  syncButton.onclick = doSync;
  refresh();
  return { refresh, sync: doSync };
}

// ---- the QR reader, in a worker ------------------------------------------

/** Reads frames in a Web Worker; a trap in the module ends only the worker,
 *  which is started again. */
export class Reader {
  constructor(onRestart) { this.onRestart = onRestart; this.spawn(); }
  spawn() {
    this.worker = new Worker(new URL('./scan-worker.js', import.meta.url), { type: 'module' });
    this.pending = null;
    this.worker.onmessage = (e) => {
      if (e.data.crashed) { console.warn(`QR reader: ${e.data.crashed}`); this.crashed(); return; }
      const p = this.pending; this.pending = null; if (p) p.resolve(e.data);
    };
    this.worker.onerror = (e) => { e.preventDefault(); this.crashed(); };
  }
  crashed() {
    const p = this.pending;
    this.worker.terminate();
    this.spawn();
    if (p) p.resolve({ crashed: true });
    if (this.onRestart) this.onRestart();
  }
  get busy() { return this.pending !== null; }
  /** `{text, seen}` (text null when no code could be read; seen when one
   *  was in view all the same), `{error}` or `{crashed}`. */
  read(image) {
    return new Promise((resolve) => {
      this.pending = { resolve };
      this.worker.postMessage({ width: image.width, height: image.height, data: image.data.buffer }, [image.data.buffer]);
    });
  }
}

/** An image file's pixels, decoded by the browser. */
export async function imagePixels(file) {
  // The browser's own message is in the browser's language, not the page's.
  let bitmap;
  try { bitmap = await createImageBitmap(file); } catch { throw new Error(t('image_unreadable')); }
  const scale = Math.min(1, 2048 / Math.max(bitmap.width, bitmap.height));
  const w = Math.max(1, Math.round(bitmap.width * scale)), h = Math.max(1, Math.round(bitmap.height * scale));
  // iOS before 16.4 has no OffscreenCanvas: a canvas element does the same.
  const canvas = typeof OffscreenCanvas === 'function'
    ? new OffscreenCanvas(w, h)
    : Object.assign(document.createElement('canvas'), { width: w, height: h });
  const g = canvas.getContext('2d');
  g.fillStyle = '#fff'; g.fillRect(0, 0, w, h);
  g.drawImage(bitmap, 0, 0, w, h);
  return g.getImageData(0, 0, w, h);
}

// ---- the camera ----------------------------------------------------------

const FRAME_MS = 80;
const MAX_FRAME_SIDE = 1280;

/** The camera into `video`, frames to `reader`, codes to `onCode(text, t0)`
 *  (t0: when the frame was taken, performance.now()). A whole shift: the
 *  screen is kept on while it scans (the wake lock is taken again whenever
 *  the page comes back), the camera is let go while the page is hidden and
 *  taken again when it returns, and a track the system ended is reopened.
 *  `onState()` is called whenever it starts, stops or resumes. */
export class Camera {
  constructor(video, reader, onCode, { onState = () => {}, onError = () => {}, onHint = () => {} } = {}) {
    this.video = video; this.reader = reader; this.onCode = onCode;
    this.onState = onState; this.onError = onError; this.onHint = onHint;
    // When a code in view cannot be read for a while, the module says to
    // hold steady (core.Aim decides when, and when it is over).
    this.aim = new core.Aim(); this.hinted = false;
    this.facing = 'environment'; this.stream = null; this.torchOn = false; this.paused = false;
    this.canvas = document.createElement('canvas');
    // wanted: the user asked it to scan; running: frames are being read.
    this.wanted = false; this.running = false; this.generation = 0; this.wake = null;
    this.resumes = 0;
    document.addEventListener('visibilitychange', () => {
      if (!this.wanted) return;
      if (document.visibilityState === 'hidden') { this.close(); this.onState(); } else this.resume();
    });
  }
  async start() {
    this.wanted = true;
    try { await this.open(); } catch (e) { this.wanted = false; this.onState(); throw e; }
  }
  /** The user stopped it. */
  stop() {
    this.wanted = false;
    this.close();
    if (this.hinted) { this.hinted = false; this.onHint(false); }
    this.onState();
  }
  async open() {
    this.close();
    const stream = await navigator.mediaDevices.getUserMedia({
      video: { facingMode: this.facing, width: { ideal: 1280 }, height: { ideal: 720 } }, audio: false,
    });
    this.stream = stream;
    const track = stream.getVideoTracks()[0];
    // Another app took the camera, or the system ended it: open it again.
    if (track) track.addEventListener('ended', () => this.ended(track));
    this.video.srcObject = stream;
    await this.video.play();
    this.running = true;
    this.torchOn = false;
    this.loop(++this.generation);
    await this.lock();
    this.onState();
  }
  /** Lets the camera and the wake lock go (the user's wish stays). */
  close() {
    this.running = false;
    this.generation++;
    if (this.stream) for (const tr of this.stream.getTracks()) tr.stop();
    this.stream = null;
    if (this.wake) { this.wake.release().catch(() => {}); this.wake = null; }
  }
  /** The screen stays on while scanning, where the browser can promise it. */
  async lock() {
    if (!('wakeLock' in navigator) || document.visibilityState !== 'visible' || this.wake) return;
    try {
      this.wake = await navigator.wakeLock.request('screen');
      this.wake.addEventListener('release', () => { this.wake = null; });
    } catch { this.wake = null; }
  }
  /** The page is back, or the track ended: scan again if the user wants it. */
  async resume() {
    if (!this.wanted || this.running || this.resuming || document.visibilityState !== 'visible') return;
    this.resuming = true;
    try { await this.open(); this.resumes++; this.onState(); } catch (e) { this.onError(e); } finally { this.resuming = false; }
  }
  ended(track) {
    if (!this.stream || this.stream.getVideoTracks()[0] !== track) return;
    this.close();
    this.onState();
    setTimeout(() => this.resume(), 300);
  }
  async switchCamera() { this.facing = this.facing === 'environment' ? 'user' : 'environment'; if (this.running) await this.open(); }
  /** Whether the camera in use has a torch (many have none; iOS Safari offers none). */
  hasTorch() {
    const track = this.stream && this.stream.getVideoTracks()[0];
    const caps = track && track.getCapabilities ? track.getCapabilities() : {};
    return !!caps.torch;
  }
  /** Torch on or off; false where the camera has none. */
  async torch() {
    if (!this.hasTorch()) return false;
    const track = this.stream.getVideoTracks()[0];
    this.torchOn = !this.torchOn;
    await track.applyConstraints({ advanced: [{ torch: this.torchOn }] });
    return true;
  }
  async loop(generation) {
    const wait = (ms) => new Promise((r) => setTimeout(r, ms));
    let last = 0;
    // One loop per opening: a loop of a camera closed since ends.
    while (this.running && generation === this.generation) {
      const vw = this.video.videoWidth, vh = this.video.videoHeight;
      if (this.paused || this.reader.busy || this.video.readyState < 2 || !vw || !vh) { await wait(30); continue; }
      // At most about 12 frames a second, so a phone does not run hot at a gate all day.
      const since = performance.now() - last;
      if (since < FRAME_MS) { await wait(FRAME_MS - since); continue; }
      const t0 = performance.now();
      last = t0;
      // A 1080p or larger frame is read at 1280 pixels on its long side:
      // a code held up to the camera still has modules of several pixels.
      const scale = Math.min(1, MAX_FRAME_SIDE / Math.max(vw, vh));
      const w = Math.round(vw * scale), h = Math.round(vh * scale);
      this.canvas.width = w; this.canvas.height = h;
      const g = this.canvas.getContext('2d', { willReadFrequently: true });
      g.drawImage(this.video, 0, 0, w, h);
      const got = await this.reader.read(g.getImageData(0, 0, w, h));
      const current = this.running && generation === this.generation && !this.paused;
      const hint = current && this.aim.frame(!!got.text, !!got.seen, performance.now());
      if (hint !== this.hinted) { this.hinted = hint; this.onHint(hint); }
      if (got.text && current) this.onCode(got.text, t0);
    }
  }
}

/** A hardware scanner types the code like a keyboard, fast, then Enter. */
export function keyboardWedge(onCode) {
  let buffer = '', last = 0;
  document.addEventListener('keydown', (e) => {
    const target = e.target;
    if (target && (target.tagName === 'INPUT' || target.tagName === 'TEXTAREA' || target.tagName === 'SELECT')) return;
    const t = performance.now();
    if (t - last > 100) buffer = '';
    last = t;
    // Inside a scanner's burst no key is a person's: a space (base45 has
    // spaces) or Enter must not press the button that has the focus.
    if (buffer.length > 0) e.preventDefault();
    if (e.key === 'Enter') {
      if (buffer.length >= 8) {
        // Not also a press of the button that has the focus.
        e.preventDefault();
        if (document.activeElement && document.activeElement.blur) document.activeElement.blur();
        onCode(buffer, t);
      }
      buffer = '';
    } else if (e.key.length === 1) buffer += e.key;
  });
}

// ---- offline -------------------------------------------------------------

/** Registers the service worker; `onUpdate(apply)` when a new version waits
 *  (apply() swaps to it and reloads: never mid-shift without asking). */
export async function offline(onUpdate) {
  if (!('serviceWorker' in navigator)) return;
  const reg = await navigator.serviceWorker.register(new URL('../sw.js', import.meta.url), { scope: new URL('../', import.meta.url).href });
  const offer = (w) => onUpdate(() => {
    navigator.serviceWorker.addEventListener('controllerchange', () => location.reload(), { once: true });
    w.postMessage('skip-waiting');
  });
  if (reg.waiting && navigator.serviceWorker.controller) offer(reg.waiting);
  reg.addEventListener('updatefound', () => {
    const w = reg.installing;
    w.addEventListener('statechange', () => { if (w.state === 'installed' && navigator.serviceWorker.controller) offer(w); });
  });
}

export function updateBanner(container) {
  return (apply) => {
    container.replaceChildren(el('div', { class: 'banner info row', id: 'update' },
      el('span', {}, t('update_ready')), el('button', { class: 'primary', onclick: apply }, t('reload'))));
  };
}
