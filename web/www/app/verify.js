// The checkpoint: scan, and a full-screen verdict. Keeps no scan history.
import { start, ok, now, t, el, cameraWhy, lang, setLanguage, chooseLanguage, openDevice, settingsPanel,
  Reader, Camera, imagePixels, keyboardWedge, offline, updateBanner, syncWhenBack } from './common.js';

const $ = (id) => document.getElementById(id);
const LANG = 'verify.lang', ISSUER = 'verify.issuer';
let device, save, camera, reader, settings;
window.__timings = [];

function status() { return ok(device.status(now(), lang)); }

// Banners that stand for a state (not an error) stay until it changes.
const STATES = ['stale', 'setup', 'clock', 'restarted', 'chunks', 'aim'];

/** One notice; an error replaces the error shown before (one at a time). */
function notice(kind, text, id) {
  const old = id && document.getElementById(id);
  if (old) old.remove();
  const error = !STATES.includes(id) && (kind === 'bad' || kind === 'warn');
  if (error) clearErrors();
  const n = el('div', { class: `banner ${kind}`, ...(id ? { id } : {}), ...(error ? { 'data-error': '' } : {}) }, text);
  $('notices').append(n);
  return n;
}
const clearErrors = () => { for (const e of document.querySelectorAll('#notices [data-error]')) e.remove(); };

function renderStatus() {
  const s = status();
  for (const id of ['stale', 'setup', 'clock']) document.getElementById(id)?.remove();
  if (s.clock_behind) notice('bad', s.clock_behind, 'clock');
  if (!s.ready) notice('bad', t('never_synced'), 'setup');
  else if (s.stale) notice('warn', t('stale_banner'), 'stale');
  $('profile-line').textContent = s.profile ? `${t('profile')}: ${s.profile}` : t('no_profile');
  $('files-line').textContent = s.summary;
  const select = $('profile');
  select.replaceChildren(el('option', { value: '' }, '—'), ...s.profiles.map((p) => el('option', { value: p }, p)));
  select.value = s.profile || '';
  $('files').replaceChildren(...s.files.map((f) => el('tr', {},
    el('th', {}, f.label),
    el('td', {}, f.held ? `${t('version')} ${f.version}, ${t('issued', f.age)}` : t('file_none'),
      f.stale ? el('span', { class: 'stale' }, ` ${t('stale')}`) : null))));
}

function showVerdict(card, t0) {
  const v = $('verdict');
  v.className = `verdict ${card.valid ? 'valid' : 'invalid'}`;
  v.dataset.valid = String(card.valid);
  const facts = [];
  if (card.name) facts.push(el('div', { class: 'who', id: 'v-name' }, card.name));
  if (card.dob) facts.push(el('div', { class: 'fact' }, `${t('dob')}: ${card.dob}`));
  if (card.kind) facts.push(el('div', { class: 'fact' }, `${t('kind')}: ${card.kind}`));
  if (card.valid_until) facts.push(el('div', { class: 'fact' }, `${t('valid_until')}: ${card.valid_until}`));
  if (card.signed_by) facts.push(el('div', { class: 'fact', id: 'v-signed-by' }, `${t('signed_by')}: ${card.signed_by}`));
  if (card.valid && card.name) facts.push(el('div', { class: 'fact' }, t('match_id')));
  v.replaceChildren(...[
    el('div', { class: 'symbol', 'aria-hidden': 'true' }, card.symbol),
    el('div', { class: 'word', id: 'v-word' }, card.word),
    ...facts,
    card.reasons.length ? el('ul', { id: 'v-reasons' }, card.reasons.map((r) => el('li', {}, r))) : null,
    ...card.warnings.map((w) => el('div', { class: 'warning' }, w)),
    el('div', { class: 'fact' }, `${t('checked_for')}: ${card.profile}`),
    el('button', { type: 'button', id: 'next', onclick: hideVerdict }, t('next'))].filter(Boolean));
  v.classList.remove('hidden');
  requestAnimationFrame(() => window.__timings.push({ frameToVerdictMs: performance.now() - t0, valid: card.valid }));
}

function hideVerdict() {
  dismissedAt = performance.now();
  $('verdict').classList.add('hidden');
  $('verdict').dataset.valid = '';
  if (camera) camera.paused = false;
}

let lastText = '', dismissedAt = 0;

function checkText(text, t0 = performance.now(), fromCamera = false) {
  // The code still held up to the camera just after "Next" is the same person.
  if (fromCamera && text === lastText && performance.now() - dismissedAt < 3000) return;
  lastText = text;
  try {
    if (camera) camera.paused = true;
    const card = ok(device.check(text.trim(), now(), lang));
    // One part of a chunked card: say so and go on scanning for the rest.
    if (card.pending) {
      notice('info', card.message, 'chunks');
      if (camera) camera.paused = false;
      return;
    }
    document.getElementById('chunks')?.remove();
    document.getElementById('aim')?.remove();
    clearErrors();
    showVerdict(card, t0);
  } catch (e) {
    if (camera) camera.paused = false;
    notice('bad', e.message, 'check-error');
  }
}

/** The scan button, the idle hint and the torch follow the camera. */
function cameraState() {
  $('scan').textContent = t(camera.wanted ? 'stop' : 'scan');
  $('idle').classList.toggle('hidden', camera.running);
  // Only where the camera in use has a torch.
  $('torch').classList.toggle('hidden', !(camera.running && camera.hasTorch()));
  document.body.dataset.camera = camera.running ? 'running' : camera.wanted ? 'suspended' : 'off';
  document.body.dataset.resumes = String(camera.resumes);
}

async function startCamera() {
  try {
    if (camera.wanted) { camera.stop(); return; }
    await camera.start();
  } catch (e) {
    notice('bad', cameraWhy(e), 'camera-error');
  }
}

async function main() {
  await start();
  chooseLanguage(LANG);
  let persisted;
  ({ device, save, persisted } = await openDevice('health-verify'));
  reader = new Reader(() => notice('warn', t('scanner_restarted'), 'restarted'));
  camera = new Camera($('video'), reader, (text, t0) => checkText(text, t0, true), {
    onState: () => cameraState(),
    onHint: (on) => { if (on) notice('info', t('hint_steady'), 'aim'); else document.getElementById('aim')?.remove(); },
    onError: (e) => notice('bad', cameraWhy(e), 'camera-error'),
  });
  settings = settingsPanel($('shared-settings'), {
    device, save, persisted, issuerKey: ISSUER, wallet: false, changed: renderStatus, fail: (m) => notice('bad', m, 'pin-error'),
  });
  const renderLang = () => { $('lang').textContent = t('lang_other'); settings.refresh(); renderStatus(); };
  renderLang();
  $('lang').onclick = () => { setLanguage(lang === 'zh' ? 'en' : 'zh'); localStorage.setItem(LANG, lang); renderLang(); };
  $('open-settings').onclick = () => { $('scan-screen').classList.add('hidden'); $('settings-screen').classList.remove('hidden'); };
  $('close-settings').onclick = () => { $('settings-screen').classList.add('hidden'); $('scan-screen').classList.remove('hidden'); };
  $('scan').onclick = startCamera;
  $('switch').onclick = () => camera.switchCamera().catch((e) => notice('bad', cameraWhy(e), 'camera-error'));
  $('torch').onclick = async () => { if (!(await camera.torch())) $('torch').classList.add('hidden'); };
  $('image').onchange = async () => {
    const file = $('image').files[0];
    if (!file) return;
    const t0 = performance.now();
    try {
      const got = await reader.read(await imagePixels(file));
      if (got.text) checkText(got.text, t0);
      else notice('bad', got.error || t(got.seen ? 'code_unreadable' : 'no_code_in_image'), 'check-error');
    } catch (e) { notice('bad', e.message, 'check-error'); }
    $('image').value = '';
  };
  $('paste-check').onclick = () => checkText($('paste-text').value);
  keyboardWedge(checkText);
  $('profile').onchange = async () => {
    try { ok(device.set_profile($('profile').value)); await save(); } catch (e) { notice('bad', e.message, 'profile-error'); }
    renderStatus();
  };
  document.addEventListener('keydown', (e) => { if (e.key === 'Escape') hideVerdict(); });
  offline(updateBanner($('notices'))).catch((e) => console.warn('service worker:', e));
  // Files are synced when the network is there; the held ones serve meanwhile.
  if (status().anchors.length && navigator.onLine) settings.sync();
  // And every ten minutes while the app is open (a 304 each when nothing
  // changed); the held files serve meanwhile, and the banner says when
  // they are out of date.
  // And as soon as the app is back in front or the network is back: a
  // revocation reaches the gate without waiting for the next ten minutes.
  const syncSoon = syncWhenBack(() => status().anchors.length > 0, () => settings.sync());
  setInterval(() => { if (status().anchors.length && navigator.onLine) settings.sync(); else renderStatus(); }, 10 * 60 * 1000);
  window.__syncSoon = syncSoon;
  // For the browser test's measurement: milliseconds per check of `text`,
  // through the same call a scan makes.
  window.__benchCheck = (text, n) => {
    const t0 = performance.now();
    for (let i = 0; i < n; i++) device.check(text, now(), lang);
    return (performance.now() - t0) / n;
  };
  document.body.dataset.ready = 'true';
}

main().catch((e) => { document.body.prepend(el('div', { class: 'banner bad' }, String(e.message || e))); });
