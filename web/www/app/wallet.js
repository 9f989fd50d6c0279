// The citizen's wallet: codes for a family, shown with no signal; venue
// check-ins and exposure matching that never leave the phone.
import { start, ok, now, t, el, cameraWhy, get, lang, setLanguage, chooseLanguage, openDevice, issuerBase, sync, settingsPanel,
  Reader, Camera, imagePixels, offline, updateBanner, syncWhenBack } from './common.js';

const $ = (id) => document.getElementById(id);
const LANG = 'wallet.lang', ISSUER = 'wallet.issuer';
let device, save, camera, reader, settings, wake = null, scanning = null;

// Banners that stand for a state (not an error) stay until it changes.
const STATES = ['clock', 'restarted', 'aim'];

/** One notice; an error replaces the error shown before (one at a time). */
function notice(kind, text, id) {
  const old = id && document.getElementById(id);
  if (old) old.remove();
  const error = !STATES.includes(id) && (kind === 'bad' || kind === 'warn');
  if (error) for (const e of document.querySelectorAll('#notices [data-error]')) e.remove();
  $('notices').append(el('div', { class: `banner ${kind}`, ...(id ? { id } : {}), ...(error ? { 'data-error': '' } : {}) }, text));
}
const clearNotices = () => $('notices').replaceChildren();

function tab(name) {
  for (const b of document.querySelectorAll('nav.tabs button')) b.setAttribute('aria-selected', String(b.dataset.tab === name));
  for (const p of document.querySelectorAll('[data-panel]')) p.classList.toggle('hidden', p.dataset.panel !== name);
  stopScan();
  if (name === 'codes') renderHeld();
  if (name === 'venue') renderVisits();
  if (name === 'settings') settings.refresh();
}

function renderHeld() {
  const held = ok(device.held(now(), lang));
  // A wallet with no pinned anchor checks nothing: say so first, and lead to setup.
  const st = ok(device.status(now(), lang));
  const setup = st.ready ? [] : [el('div', { class: 'banner warn', id: 'not-set-up' },
    el('div', {}, t('not_set_up')),
    el('button', { class: 'primary', type: 'button', id: 'set-up', onclick: () => tab('settings') }, t('set_up')))];
  // A clock set back would make expired codes look valid: the codes are judged by the files' time, and the banner says why.
  if (st.clock_behind) setup.unshift(el('div', { class: 'banner bad', id: 'clock' }, st.clock_behind));
  if (!held.length) { $('held').replaceChildren(...setup, el('div', { class: 'banner info' }, t('empty_wallet'))); return; }
  const byMember = new Map();
  for (const h of held) { if (!byMember.has(h.member)) byMember.set(h.member, []); byMember.get(h.member).push(h); }
  $('held').replaceChildren(...setup, ...[...byMember].map(([member, list]) => el('div', {},
    el('h2', {}, member),
    ...list.map((h) => el('div', { class: 'card', 'data-id': h.id },
      el('div', { class: 'title' }, `${h.kind}${h.holder ? ' · ' + h.holder : ''}`),
      el('div', { class: `tone-${h.tone}` }, h.status),
      el('div', { class: 'row' },
        el('button', { class: 'primary', type: 'button', onclick: () => show(h.member, h.id) }, t('show')),
        el('button', { type: 'button', onclick: () => show(h.member, h.id, true) }, t('print')),
          el('button', { type: 'button', onclick: () => removeCode(h) }, t('remove'))))))));
}

/** Removing a code loses it (a retrieval code works once): asked first. */
async function removeCode(h) {
  if (!window.confirm(t('remove_confirm', `${h.kind}${h.holder ? ' · ' + h.holder : ''}`, h.member))) return;
  try { ok(device.remove(h.member, h.id)); await save(); } catch (e) { notice('bad', e.message, 'remove-error'); }
  renderHeld();
}

async function show(member, id, print = false) {
  const c = ok(device.code(member, id, now(), lang));
  const box = $('showcode');
  const qr = el('div', { class: 'qr' });
  qr.innerHTML = c.svg; // drawn by the module from the code held
  box.replaceChildren(qr,
    el('div', { class: 'who' }, c.holder || member),
    ...c.lines.map((l) => el('div', { class: 'line' }, l)),
    el('div', { class: `line tone-${c.tone}` }, c.status),
    el('div', { class: 'line muted no-print' }, t('show_hint')),
    el('div', { class: 'row no-print' },
      el('button', { type: 'button', id: 'print-a6', onclick: () => printOn('A6') }, t('print_a6')),
      el('button', { type: 'button', id: 'print-a4', onclick: () => printOn('A4') }, t('print_a4')),
      el('button', { class: 'primary', type: 'button', id: 'close-code', onclick: hide }, t('close'))));
  box.classList.remove('hidden');
  // The screen stays on while a code is shown.
  try { wake = await navigator.wakeLock?.request('screen'); } catch { wake = null; }
  if (print) setTimeout(() => printOn('A6'), 100);
}

/** The paper sheet: the code and its caption alone, on A6 or A4. */
function paper(size) {
  let style = document.getElementById('page-size');
  if (!style) { style = el('style', { id: 'page-size' }); document.head.append(style); }
  // CSS names A4 but not A6: both by their millimetres.
  const mm = size === 'A4' ? '210mm 297mm' : '105mm 148mm';
  style.textContent = `@page { size: ${mm}; margin: 8mm; }`;
  document.body.dataset.paper = size;
}

function printOn(size) {
  paper(size);
  window.print();
}
window.__paper = paper; // the browser test renders each sheet

function hide() {
  $('showcode').classList.add('hidden');
  if (wake) { wake.release().catch(() => {}); wake = null; }
}

async function add(text) {
  try {
    const a = ok(device.add($('member').value || 'me', text, now(), lang));
    await save();
    clearNotices();
    notice(a.reasons.length ? 'warn' : 'ok', [t('added', a.member), a.kind, ...a.reasons].join(' · '), 'added');
    tab('codes');
  } catch (e) { notice('bad', e.message, 'add-error'); }
}

async function checkin(text) {
  try {
    const v = ok(device.checkin(text, now()));
    await save();
    $('venue-result').replaceChildren(el('div', { class: 'clear', id: 'checked-in' }, t('checked_in', v.name), el('div', { class: 'muted', style: 'color:#fff' }, `${v.area} · ${v.at}`)));
    renderVisits();
  } catch (e) { $('venue-result').replaceChildren(el('div', { class: 'banner bad' }, e.message)); }
}

function renderVisits() {
  const v = ok(device.visits(now()));
  $('retention').value = v.retention_days;
  $('visits').replaceChildren(...(v.visits.length
    ? v.visits.map((x) => el('div', { class: 'card' }, el('div', { class: 'title' }, x.name), el('div', {}, `${x.area} · ${x.at}`)))
    : [el('div', { class: 'muted' }, t('no_visits'))]));
}

async function checkExposure() {
  const out = $('exposure-result');
  out.replaceChildren(el('div', { class: 'banner info' }, t('syncing')));
  try { await sync(device, save, issuerBase(ISSUER), true); } catch (e) { notice('warn', t('sync_failed', e.message), 'sync-failed'); }
  try {
    const r = ok(device.exposures(now()));
    if (!r.held) { out.replaceChildren(el('div', { class: 'banner warn' }, t('exposure_none_held'))); return; }
    out.replaceChildren(...(r.found.length
      ? [el('div', { class: 'exposed', id: 'exposed' }, t('exposure_found')),
        ...r.found.map((f) => el('div', { class: 'card' }, el('div', { class: 'title' }, f.name),
          el('div', {}, `${f.area} · ${t('at', f.at)}`), f.advice ? el('div', { class: 'tone-bad' }, f.advice) : null))]
      : [el('div', { class: 'clear', id: 'not-exposed' }, t('exposure_none'))]),
    r.stale ? el('div', { class: 'banner warn' }, t('stale_banner')) : '');
  } catch (e) { out.replaceChildren(el('div', { class: 'banner bad' }, e.message)); }
}

async function scan(then) {
  scanning = then;
  $('finder').classList.remove('hidden');
  $('finder-buttons').classList.remove('hidden');
  try { await camera.start(); } catch (e) { stopScan(); notice('bad', cameraWhy(e), 'camera-error'); }
}

function stopScan() {
  if (camera) camera.stop();
  scanning = null;
  $('finder').classList.add('hidden');
  $('finder-buttons').classList.add('hidden');
}

async function fromImage(input, then) {
  const file = input.files[0];
  if (!file) return;
  try {
    const got = await reader.read(await imagePixels(file));
    if (got.text) await then(got.text); else notice('bad', got.error || t(got.seen ? 'code_unreadable' : 'no_code_in_image'), 'image-error');
  } catch (e) { notice('bad', e.message, 'image-error'); }
  input.value = '';
}

async function main() {
  await start();
  chooseLanguage(LANG);
  let persisted;
  ({ device, save, persisted } = await openDevice('health-wallet'));
  reader = new Reader(() => notice('warn', t('scanner_restarted'), 'restarted'));
  camera = new Camera($('video'), reader, (text) => { const then = scanning; stopScan(); if (then) then(text); }, {
    onState: () => $('torch').classList.toggle('hidden', !(camera.running && camera.hasTorch())),
    onError: (e) => notice('bad', cameraWhy(e), 'camera-error'),
    onHint: (on) => { if (on) notice('info', t('hint_steady'), 'aim'); else document.getElementById('aim')?.remove(); },
  });
  const current = () => document.querySelector('nav.tabs button[aria-selected="true"]')?.dataset.tab || 'codes';
  const renderLang = () => { $('lang').textContent = t('lang_other'); tab(current()); };
  $('lang').onclick = () => { setLanguage(lang === 'zh' ? 'en' : 'zh'); localStorage.setItem(LANG, lang); renderLang(); };
  for (const b of document.querySelectorAll('nav.tabs button')) b.onclick = () => { clearNotices(); tab(b.dataset.tab); };
  settings = settingsPanel($('shared-settings'), {
    device, save, persisted, issuerKey: ISSUER, wallet: true, changed: () => {}, fail: (m) => notice('bad', m, 'pin-error'),
  });
  $('fetch').onclick = async () => {
    try {
      const path = ok(device.retrieve_path($('retrieval').value));
      const r = await get(new URL(path, issuerBase(ISSUER)), { cache: 'no-store' });
      const body = await r.text();
      if (!r.ok) throw new Error(device.retrieval_failed($('retrieval').value, r.status, body));
      await add(ok(device.retrieved(body)));
      $('retrieval').value = '';
    } catch (e) { notice('bad', e.message, 'add-error'); }
  };
  $('add-paste').onclick = () => add($('add-text').value);
  $('add-scan').onclick = () => scan(add);
  $('add-image').onchange = () => fromImage($('add-image'), add);
  $('venue-scan').onclick = () => scan(checkin);
  $('venue-image').onchange = () => fromImage($('venue-image'), checkin);
  // A backup of every code: downloaded as a file, and imported back (each
  // code verified as an added one is).
  $('export').onclick = () => {
    try {
      const r = ok(device.export_wallet(now()));
      const url = URL.createObjectURL(new Blob([r.text], { type: 'application/json' }));
      const a = el('a', { href: url, download: r.name });
      document.body.append(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 10_000);
      $('backup-result').replaceChildren(el('div', { class: 'banner ok', id: 'exported' }, t('exported', r.codes, r.name)));
    } catch (e) { $('backup-result').replaceChildren(el('div', { class: 'banner bad' }, e.message)); }
  };
  $('import-file').onchange = async () => {
    const f = $('import-file').files[0];
    if (!f) return;
    $('import-file').value = '';
    try {
      const r = ok(device.import_wallet(new Uint8Array(await f.arrayBuffer()), now()));
      await save();
      $('backup-result').replaceChildren(
        el('div', { class: r.refused.length ? 'banner warn' : 'banner ok', id: 'imported' }, t('imported', r.added, r.already_held, r.refused.length)),
        ...r.refused.slice(0, 20).map((x) => el('div', { class: 'banner bad' }, x)));
    } catch (e) { $('backup-result').replaceChildren(el('div', { class: 'banner bad' }, e.message)); }
  };
  $('retention-save').onclick = async () => {
    try { const n = ok(device.set_retention(Number($('retention').value), now())); await save(); notice('ok', t('deleted_visits', n), 'retention'); renderVisits(); }
    catch (e) { notice('bad', e.message, 'retention'); }
  };
  $('exposure-check').onclick = checkExposure;
  $('finder-stop').onclick = stopScan;
  $('switch').onclick = () => camera.switchCamera();
  $('torch').onclick = async () => { if (!(await camera.torch())) $('torch').classList.add('hidden'); };
  document.addEventListener('keydown', (e) => { if (e.key === 'Escape') hide(); });
  offline(updateBanner($('notices'))).catch((e) => console.warn('service worker:', e));
  renderLang();
  const pinned = () => ok(device.status(now(), lang)).anchors.length > 0;
  if (pinned() && navigator.onLine) settings.sync().then(() => tab(current()));
  // Back in front, or back online: a revocation or an exposure reaches
  // the wallet without a manual sync.
  syncWhenBack(pinned, () => settings.sync().then(() => tab(current())));
  document.body.dataset.ready = 'true';
}

main().catch((e) => { document.body.prepend(el('div', { class: 'banner bad' }, String(e.message || e))); });
