// The browser apps in Debian's chromium, headless, with a fake camera fed
// from .y4m files: one browser per camera file. tests/tests/browser.rs
// starts the issuer, prepares the codes and camera files, runs this with
// a config file, and checks what it writes.
//
//   node web/tests/browser.mjs CONFIG.json
//
// CONFIG: { url, chromium, profileDir, walletProfileDir, shots, issuerPid,
//   anchorFingerprint, retrievalCode, cameras: {valid, revoked, tampered, foreign,
//   venue, crafted}, codes: {valid, revoked, tampered, foreign, fiftyHours}, images:
//   {valid}, holder } → prints one JSON line of results on stdout.
import { chromium } from 'playwright-core';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

const config = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const results = { timings: {}, checks: [] };
const shot = (page, name) => page.screenshot({ path: path.join(config.shots, `${name}.png`) });
const note = (what) => { results.checks.push(what); process.stderr.write(`browser: ${what}\n`); };
const timeout = 20000;

let current = null;
let expectingTrap = false;
// The failure is printed last, after the page's text: a CI log's tail then
// shows what failed and where, not only the page.
process.on('uncaughtException', async (e) => {
  if (current) {
    await current.screenshot({ path: path.join(config.shots, 'failure.png') }).catch(() => {});
    const text = await current.locator('body').innerText().catch(() => '');
    process.stderr.write(`browser: the page said:\n${text}\n`);
  }
  const after = results.checks.length ? results.checks[results.checks.length - 1] : 'the start';
  process.stderr.write(`browser: FAILED after "${after}": ${e.stack || e}\n`);
  process.exit(1);
});

async function browser(profileDir, camera, { offline = false } = {}) {
  const args = [
    '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync', '--use-fake-ui-for-media-stream',
    '--use-fake-device-for-media-stream', `--use-file-for-fake-video-capture=${camera}`,
  ];
  const context = await chromium.launchPersistentContext(profileDir, {
    executablePath: config.chromium, headless: true, args, viewport: { width: 412, height: 860 },
    deviceScaleFactor: 1, locale: 'en-US', permissions: ['camera'], acceptDownloads: true,
  });
  if (offline) await context.setOffline(true);
  const page = context.pages()[0] || await context.newPage();
  page.on('pageerror', (e) => process.stderr.write(`page error: ${e.message}\n`));
  page.on('requestfailed', (r) => process.stderr.write(`request failed: ${r.url()} ${r.failure()?.errorText}\n`));
  page.on('console', (m) => {
    if (m.type() !== 'error' && m.type() !== 'warning') return;
    const expected = expectingTrap && /QR reader/.test(m.text()) ? ' (expected: the crafted frame)' : '';
    process.stderr.write(`console ${m.type()}${expected}: ${m.text()}\n`);
  });
  current = page;
  return { context, page };
}

/** Names every language keeps as they are. */
const KEPT = new Set(['HC1', 'HCN1', 'shc', 'SMART', 'FHIR', 'JWKS', 'CRL', 'DSC', 'PEM', 'HTTP', 'JSON', 'VCI',
  'UTC', 'kid', 'ABCD', 'EFGH', 'JKLM', 'English', 'QR', 'SHA', 'A6', 'eu', 'dcc', 'EU', 'DCC', 'NZCP', 'ICAO', 'CSCA']);

/** Fails if the page, in Chinese, shows a Latin word that is neither data
 *  (`data`: names, issuers; addresses, kids and fingerprints) nor a name
 *  every language keeps. */
async function noEnglish(page, name, data = []) {
  let text = await page.locator('body').innerText();
  text = text.replace(/https?:\/\/\S+/g, ' ').replace(/([0-9a-f]{4} ){3,}[0-9a-f]{4}/g, ' ')
    .replace(/\b[0-9a-f]{6,}\b/g, ' ');
  for (const d of data) text = text.split(d).join(' ');
  const words = (text.match(/[A-Za-z0-9]+/g) || []).filter((w) => /[A-Za-z]/.test(w) && !KEPT.has(w));
  if (words.length) throw new Error(`English on the Chinese screen ${name}: ${[...new Set(words)].join(', ')}`);
  note(`${name}: no English word on the Chinese screen`);
}

/** A file named like an image that holds none. */
function notAnImage() {
  const file = path.join(path.dirname(config.walletProfileDir), 'not-an-image.png');
  writeFileSync(file, 'hello, this is no image');
  return file;
}

async function load(page, where) {
  const t0 = Date.now();
  await page.goto(`${config.url}${where}`);
  await page.waitForSelector('body[data-ready="true"]', { timeout });
  return Date.now() - t0;
}

async function expectCard(page, valid, what) {
  await page.waitForSelector(`#verdict[data-valid="${valid}"]`, { timeout });
  const text = await page.locator('#verdict').innerText();
  for (const w of what) if (!text.includes(w)) throw new Error(`the card lacks ${JSON.stringify(w)}: ${text}`);
  return text;
}

async function nextPerson(page) {
  await page.click('#next');
  await page.waitForSelector('#verdict.hidden', { state: 'attached', timeout });
}

async function pinAndSync(page, openSettings) {
  await openSettings();
  await page.click('#offered');
  await page.waitForSelector('#offer:not(.hidden)', { timeout });
  const fp = (await page.locator('#offer-fp').innerText()).trim();
  if (fp !== config.anchorFingerprint) throw new Error(`offered anchor ${fp}, the issuer's is ${config.anchorFingerprint}`);
  await shot(page, 'settings-confirm-anchor');
  await page.click('#offer-confirm');
  await page.waitForSelector('#synced', { timeout });
  note(`pinned anchor ${fp} after comparing its fingerprint, and synced`);
}

/** Adds pasted code text to `member` in the wallet, then shows the codes. */
async function addPasted(page, member, text) {
  await page.click('nav.tabs button[data-tab="add"]');
  await page.fill('#member', member);
  await page.fill('#add-text', text);
  await page.click('#add-paste');
  await page.waitForSelector('#added', { timeout });
  await page.click('nav.tabs button[data-tab="codes"]');
}

async function lastTiming(page) {
  return page.evaluate(() => window.__timings[window.__timings.length - 1]?.frameToVerdictMs);
}

// ---- the wallet, while the issuer runs -----------------------------------
{
  const { context, page } = await browser(config.walletProfileDir, config.cameras.venue);
  await load(page, '/wallet');
  // Not set up: the first screen leads to setup, and a forged code (signed
  // by a throwaway issuer) is "not checked", never valid.
  await page.waitForSelector('#not-set-up #set-up', { timeout });
  await addPasted(page, 'visitor', config.codes.foreign);
  const forged = page.locator('#held .card', { hasText: 'Mallory' });
  await forged.locator('.tone-unknown').waitFor({ timeout });
  let said = await forged.innerText();
  if (/valid until/i.test(said) || !said.includes('Not checked yet')) throw new Error(`a forged code in an unset wallet: ${said}`);
  await shot(page, 'wallet-forged-not-set-up');
  await forged.locator('button.primary').click();
  await page.waitForSelector('#showcode:not(.hidden) .tone-unknown', { timeout });
  said = await page.locator('#showcode').innerText();
  if (/valid until/i.test(said)) throw new Error(`a forged code full screen in an unset wallet: ${said}`);
  await page.click('#close-code');
  note('a forged code in a fresh wallet shows "not checked yet", never valid, and the wallet leads to setup');
  await page.click('#set-up');
  await page.waitForSelector('[data-panel="settings"]:not(.hidden)', { timeout });
  await pinAndSync(page, () => page.click('nav.tabs button[data-tab="settings"]'));
  await page.click('nav.tabs button[data-tab="codes"]');
  said = await forged.innerText();
  if (!said.includes('unknown issuer key')) throw new Error(`a forged code once set up: ${said}`);
  // A test sampled 50 h ago: the wallet says what the transport gate says.
  await addPasted(page, 'visitor', config.codes.fiftyHours);
  const fifty = page.locator('#held .card', { hasText: 'Zhao Fifty' });
  await fifty.locator('.tone-bad').waitFor({ timeout });
  said = await fifty.innerText();
  if (!said.includes('older than 48 h')) throw new Error(`the 50 h test in the wallet: ${said}`);
  await shot(page, 'wallet-fifty-hours');
  note('once set up, the forged code is "unknown issuer key" and a 50 h old test is "older than 48 h", as at the gate');
  await page.click('nav.tabs button[data-tab="add"]');
  await page.fill('#member', 'lily');
  await page.fill('#retrieval', config.retrievalCode.toLowerCase());
  await page.click('#fetch');
  await page.waitForSelector('#added', { timeout });
  await page.waitForSelector(`#held .card:has-text("${config.walletHolder}")`, { timeout });
  note('added a code by its retrieval code');
  await shot(page, 'wallet-codes');
  await page.click('#held .card button.primary');
  await page.waitForSelector('#showcode:not(.hidden) svg', { timeout });
  await shot(page, 'wallet-code-screen');
  // The paper sheets, as the browser prints them.
  for (const size of ['A6', 'A4']) {
    await page.evaluate((s) => window.__paper(s), size);
    await page.pdf({ path: path.join(config.shots, `wallet-sheet-${size}.pdf`), preferCSSPageSize: true });
  }
  await page.emulateMedia({ media: 'print' });
  await shot(page, 'wallet-print');
  await page.emulateMedia({ media: 'screen' });
  await page.click('#close-code');
  note('showed the code full screen and as the print view');
  await page.click('nav.tabs button[data-tab="venue"]');
  await page.click('#venue-scan');
  await page.waitForSelector('#checked-in', { timeout });
  note(`checked in from the camera: ${await page.locator('#checked-in').innerText()}`);
  await shot(page, 'wallet-checked-in');
  await page.click('nav.tabs button[data-tab="exposure"]');
  await page.click('#exposure-check');
  await page.waitForSelector('#exposed', { timeout });
  note('the exposure list matched the visit on the phone');
  // Two different errors in a row: only the last is on screen.
  await page.click('nav.tabs button[data-tab="add"]');
  await page.fill('#add-text', 'hello');
  await page.click('#add-paste');
  await page.waitForSelector('#add-error', { timeout });
  await page.setInputFiles('#add-image', notAnImage());
  await page.waitForSelector('#image-error', { timeout });
  const errors = await page.locator('#notices [data-error]').count();
  if (errors !== 1 || await page.locator('#add-error').count()) throw new Error(`${errors} errors on screen at once`);
  note('two errors in a row: one on screen at a time');
  await shot(page, 'wallet-exposed');
  await page.click('#lang');
  await page.click('nav.tabs button[data-tab="codes"]');
  await page.waitForSelector('#held .card', { timeout });
  const zh = await page.locator('body').innerText();
  if (!zh.includes('健康码') || !zh.includes('出示')) throw new Error(`the wallet did not switch to Chinese: ${zh}`);
  await shot(page, 'wallet-codes-zh');
  // The members' and holders' names are data.
  await noEnglish(page, 'wallet-codes-zh', [config.holder, 'Chen Lily', 'Zhao Fifty', 'Mallory', 'visitor', 'lily']);
  note('the wallet speaks Chinese when switched');
  // Its errors too: a retrieval code the issuer does not know, a text that
  // is no code.
  await page.click('nav.tabs button[data-tab="add"]');
  await page.fill('#retrieval', 'ZZZZ-ZZZZ-ZZZZ');
  await page.click('#fetch');
  await page.waitForSelector('#add-error', { timeout });
  await noEnglish(page, 'wallet-retrieval-zh', ['ZZZZ']);
  await page.fill('#add-text', 'hello world');
  await page.click('#add-paste');
  await page.waitForSelector('#add-error:has-text("不是健康码")', { timeout });
  await shot(page, 'wallet-add-error-zh');
  await noEnglish(page, 'wallet-add-error-zh');
  await page.click('#lang');
  // No code lost: every code exported to one file; imported into a fresh
  // browser profile (set up with the anchor only), the same codes show.
  const names = async (p) => (await p.locator('#held .card .title').allInnerTexts()).sort();
  await page.click('nav.tabs button[data-tab="codes"]');
  await page.waitForSelector('#held .card', { timeout });
  const heldBefore = await names(page);
  await page.click('nav.tabs button[data-tab="settings"]');
  const [download] = await Promise.all([page.waitForEvent('download', { timeout }), page.click('#export')]);
  const backupFile = path.join(path.dirname(config.walletProfileDir), 'wallet-backup.json');
  await download.saveAs(backupFile);
  await page.waitForSelector('#exported', { timeout });
  const backup = JSON.parse(readFileSync(backupFile, 'utf8'));
  const exported = backup.members.reduce((n, m) => n + m.codes.length, 0);
  if (exported !== heldBefore.length) throw new Error(`exported ${exported} codes of ${heldBefore.length}: ${JSON.stringify(backup.members.map((m) => m.member))}`);
  {
    const restored = await browser(`${config.walletProfileDir}-restored`, config.cameras.venue);
    const p2 = restored.page;
    await load(p2, '/wallet');
    await pinAndSync(p2, () => p2.click('nav.tabs button[data-tab="settings"]'));
    await p2.setInputFiles('#import-file', backupFile);
    await p2.waitForSelector('#imported', { timeout });
    const said2 = await p2.locator('#imported').innerText();
    // The forged code (Mallory) is refused on the set-up phone, by name.
    if (!said2.includes(`${exported - 1} code(s) imported, 0 already held, 1 refused`)) throw new Error(`the import said: ${said2}`);
    const refusedLine = await p2.locator('#backup-result .banner.bad').first().innerText();
    if (!refusedLine.includes('visitor') || !refusedLine.includes('refused')) throw new Error(`the refused code: ${refusedLine}`);
    await p2.locator('#backup-result').scrollIntoViewIfNeeded();
    await shot(p2, 'wallet-imported');
    await p2.click('nav.tabs button[data-tab="codes"]');
    await p2.waitForSelector('#held .card', { timeout });
    const heldAfter = await names(p2);
    const expected = heldBefore.filter((n) => !n.includes('Mallory'));
    if (JSON.stringify(heldAfter) !== JSON.stringify(expected)) throw new Error(`restored ${JSON.stringify(heldAfter)}, held ${JSON.stringify(expected)}`);
    await restored.context.close();
    current = page;
    note(`exported ${exported} codes to one file and imported them into a fresh profile: the same codes show, the forged one refused by name`);
  }
  // Last (the clock is the whole context's): the phone's clock set back 30
  // days. A banner says so, and codes are judged at the synced files' issue
  // time, so the 50 h old test stays refused.
  await page.clock.setFixedTime(new Date(Date.now() - 30 * 86400e3));
  await load(page, '/wallet');
  await page.waitForSelector('#clock', { timeout });
  const banner = await page.locator('#clock').innerText();
  if (!banner.includes('clock is behind')) throw new Error(`the clock banner: ${banner}`);
  const old = page.locator('#held .card', { hasText: 'Zhao Fifty' });
  await old.locator('.tone-bad').waitFor({ timeout });
  said = await old.innerText();
  if (!said.includes('older than 48 h')) throw new Error(`the 50 h test with the clock set back: ${said}`);
  await shot(page, 'wallet-clock-behind');
  note('with the clock set back 30 days the wallet shows the clock banner and still refuses the 50 h old test');
  await context.close();
}

// ---- the checkpoint: set up and scan while the issuer runs ---------------
{
  const { context, page } = await browser(config.profileDir, config.cameras.valid);
  // What a first visit costs: every response the page and its service
  // worker received (bodies as sent, and headers), until the app is
  // installed for offline use.
  const transfer = { page: 0, worker: 0, files: 0, notModified: 0 };
  // Each file's body bytes, by who fetched it: what the worker fetched
  // again with a body is what a first visit paid twice.
  const bodies = { page: new Map(), worker: new Map() };
  const counting = async (req) => {
    const sizes = await req.sizes().catch(() => null);
    const res = await req.response().catch(() => null);
    const where = new URL(req.url()).pathname;
    if (!sizes || !res || where.startsWith('/v1/')) return;
    const n = sizes.responseBodySize + sizes.responseHeadersSize;
    const who = req.serviceWorker() ? 'worker' : 'page';
    transfer[who] += n;
    bodies[who].set(where, (bodies[who].get(where) || 0) + sizes.responseBodySize);
    if (res.status() === 304) transfer.notModified++; else transfer.files++;
  };
  context.on('requestfinished', counting);
  results.timings.coldLoadMs = await load(page, '/verify');
  await page.evaluate(() => navigator.serviceWorker.ready);
  await page.waitForTimeout(500);
  context.off('requestfinished', counting);
  results.firstVisit = { ...transfer, bytes: transfer.page + transfer.worker };
  note(`first visit: ${transfer.page} bytes to the page and ${transfer.worker} to its service worker (${transfer.files} answers with a body, ${transfer.notModified} not modified)`);
  const twice = [...bodies.worker].filter(([where, n]) => n > 0 && (bodies.page.get(where) || 0) > 0);
  const workerOnly = [...bodies.worker].filter(([, n]) => n > 0).map(([where, n]) => `${where} ${n}`);
  note(`the service worker's bodies: ${workerOnly.join(', ') || 'none'}`);
  if (twice.length) throw new Error(`the service worker downloaded again what the page had: ${twice.map(([w, n]) => `${w} (${n} bytes)`).join(', ')}`);
  if (results.firstVisit.bytes > 700 * 1024) throw new Error(`a first visit transferred ${results.firstVisit.bytes} bytes, over the 700 KB budget`);
  const openSettings = () => page.click('#open-settings');
  await pinAndSync(page, openSettings);
  await page.selectOption('#profile', 'transport');
  await page.waitForFunction(() => document.querySelector('#profile-line').textContent.includes('transport'));
  // The authority's foreign keys came with the sync: each source, its
  // counts and age.
  const foreign = await page.locator('#foreign-sources').innerText();
  if (!foreign.includes('eu-at (eu-dcc): 1 key(s)') || !foreign.includes('smart-example (shc): 2 key(s)')) {
    throw new Error(`the foreign sources: ${foreign}`);
  }
  await page.locator('#foreign-sources').scrollIntoViewIfNeeded();
  await shot(page, 'verify-settings');
  await page.click('#close-settings');
  // An EU DCC and a SMART Health Card verify on a phone whose only setup
  // was pinning the anchor: their keys came in the authority's signed
  // foreign trust file. (Both are years old: signed, and judged expired.)
  await page.locator('details summary').click();
  await page.fill('#paste-text', config.codes.euDcc);
  await page.click('#paste-check');
  const eu = await expectCard(page, false, ['INVALID', 'Musterfrau-Gößinger', 'issuer key d919375fc1e7b6b2 expired on 2023-05-05']);
  if (/unknown issuer key|not trusted|bad signature/.test(eu)) throw new Error(`the EU DCC was not verified: ${eu}`);
  await shot(page, 'verify-eu-dcc-from-authority');
  await nextPerson(page);
  await page.fill('#paste-text', config.codes.shcFromAuthority);
  await page.click('#paste-check');
  const card = await expectCard(page, false, ['John B. Anyperson', 'Signed by: SMART example issuer']);
  if (/not trusted|bad signature/.test(card)) throw new Error(`the SMART Health Card was not verified: ${card}`);
  await shot(page, 'verify-shc-from-authority');
  await nextPerson(page);
  await page.fill('#paste-text', config.codes.nzcpFromAuthority);
  await page.click('#paste-check');
  await expectCard(page, true, ['VALID', 'Sparrow, Jack', 'Signed by: did:web:nzcp.covid19.health.nz']);
  await shot(page, 'verify-nzcp-from-authority');
  await nextPerson(page);
  // Its payload changed after signing: refused, and nothing of it shown.
  await page.fill('#paste-text', config.codes.nzcpTampered);
  await page.click('#paste-check');
  const forged = await expectCard(page, false, ['bad signature']);
  if (/Steve|Doe/.test(forged)) throw new Error(`a forged pass's name was shown: ${forged}`);
  await nextPerson(page);
  await page.fill('#paste-text', config.codes.icaoFromAuthority);
  await page.click('#paste-check');
  await expectCard(page, true, ['VALID', 'Alex Tester', 'Signed by: UTO']);
  await shot(page, 'verify-icao-from-authority');
  await nextPerson(page);
  // Its name changed after signing: refused, and the changed name not shown.
  await page.fill('#paste-text', config.codes.icaoTampered);
  await page.click('#paste-check');
  const forgedSeal = await expectCard(page, false, ['bad signature']);
  if (/Taster/.test(forgedSeal)) throw new Error(`a forged seal's name was shown: ${forgedSeal}`);
  await nextPerson(page);
  // A WHO DDCC (HC1:, hcert key 3), its DSC from the same file.
  await page.fill('#paste-text', config.codes.ddccFromAuthority);
  await page.click('#paste-check');
  await expectCard(page, true, ['VALID', 'Test Citizen']);
  await shot(page, 'verify-ddcc-from-authority');
  await nextPerson(page);
  // A DIVOC certificate: this module does not read them, and says so;
  // nothing of it is shown.
  await page.fill('#paste-text', config.codes.divoc);
  await page.click('#paste-check');
  const divoc = await expectCard(page, false, ['a DIVOC certificate: not read by this app']);
  if (/Third March/.test(divoc)) throw new Error(`an unread DIVOC certificate's name was shown: ${divoc}`);
  await shot(page, 'verify-divoc-not-read');
  await nextPerson(page);
  await page.locator('details summary').click();
  note('an EU DCC (AT), a SMART Health Card, an NZ COVID Pass, an ICAO seal and a WHO DDCC verified with keys from the authority\'s foreign trust file, nothing loaded by hand; a tampered pass and seal refused');
  await shot(page, 'verify-home');
  await page.click('#scan');
  await expectCard(page, true, ['VALID', config.holder, '✓']);
  results.timings.frameToVerdictMs = await lastTiming(page);
  await shot(page, 'verify-green');
  note(`the camera's valid code gave a green card in ${results.timings.frameToVerdictMs.toFixed(1)} ms from its frame`);
  // A shift: the app goes to the background (the camera is let go) and
  // comes back (it scans again on its own); a camera track the system ends
  // is opened again.
  await nextPerson(page);
  const setVisible = (visible) => page.evaluate((v) => {
    Object.defineProperty(document, 'visibilityState', { value: v ? 'visible' : 'hidden', configurable: true });
    Object.defineProperty(document, 'hidden', { value: !v, configurable: true });
    document.dispatchEvent(new Event('visibilitychange'));
  }, visible);
  await setVisible(false);
  await page.waitForSelector('body[data-camera="suspended"]', { timeout });
  const tracksLive = await page.evaluate(() => document.getElementById('video').srcObject?.getVideoTracks().some((t) => t.readyState === 'live') ?? false);
  if (tracksLive) throw new Error('the camera stayed open in the background');
  await setVisible(true);
  await page.waitForSelector('body[data-camera="running"][data-resumes="1"]', { timeout });
  await expectCard(page, true, ['VALID', config.holder]);
  note('backgrounded, the checkpoint let the camera go; back in front, it scanned again on its own');
  await nextPerson(page);
  await page.evaluate(() => document.getElementById('video').srcObject.getVideoTracks()[0].dispatchEvent(new Event('ended')));
  await page.waitForSelector('body[data-camera="running"][data-resumes="2"]', { timeout });
  results.wakeLock = await page.evaluate(async () => {
    if (!('wakeLock' in navigator)) return 'not offered';
    try { const l = await navigator.wakeLock.request('screen'); await l.release(); return 'granted'; } catch (e) { return `refused (${e.name})`; }
  });
  note(`a camera track the system ended was opened again; screen wake lock: ${results.wakeLock}`);
  // A code revoked while the app is open reaches it when the app comes
  // back to the front, without a manual sync.
  await page.click('#scan');
  await page.waitForSelector('body[data-camera="off"]', { timeout });
  await page.locator('details summary').click();
  await page.fill('#paste-text', config.codes.lateRevoked);
  await page.click('#paste-check');
  await expectCard(page, true, ['VALID', 'Sun Late']);
  await nextPerson(page);
  const revoked = await fetch(`${config.url}/v1/revocations`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${config.adminToken}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({ credential_id: config.codes.lateRevokedId, reason: 'recalled during the shift' }),
  });
  if (!revoked.ok) throw new Error(`revoking: HTTP ${revoked.status}`);
  const syncsBefore = await page.evaluate(() => window.__syncSoon());
  // (At most one such sync every 5 s: the one the resume above made.)
  await page.waitForTimeout(5200);
  await setVisible(false);
  await setVisible(true);
  await page.waitForFunction((n) => window.__syncSoon() > n, syncsBefore, { timeout });
  try {
    await page.waitForFunction(() => /revocations: version \d+ -> \d+, [1-9]\d* added/.test(document.getElementById('sync-report')?.textContent || ''), null, { timeout });
  } catch (e) {
    throw new Error(`the sync on coming back: ${await page.locator('#sync-report').textContent()} (${e.message})`);
  }
  await page.fill('#paste-text', config.codes.lateRevoked);
  await page.click('#paste-check');
  await expectCard(page, false, ['INVALID', 'revoked']);
  await nextPerson(page);
  await page.locator('details summary').click();
  note('a code revoked while the checkpoint was open was refused after the app came back to the front (no manual sync)');
  await page.click('#scan');
  await page.waitForSelector('body[data-camera="running"]', { timeout });
  await expectCard(page, true, ['VALID', config.holder]);
  // The camera still shows the same code; stop it before the next ones.
  await nextPerson(page);
  await page.click('#scan');
  // A hardware scanner types the revoked code and Enter.
  await page.keyboard.type(config.codes.revoked + '\n');
  await expectCard(page, false, ['INVALID', 'revoked', '✗']);
  await shot(page, 'verify-red-wedge');
  note('a keyboard-wedge scan of a revoked code gave a red card');
  await nextPerson(page);
  await page.locator('details summary').click();
  await page.fill('#paste-text', config.codes.tampered);
  await page.click('#paste-check');
  await expectCard(page, false, ['INVALID', 'bad signature']);
  await nextPerson(page);
  note('a pasted tampered code gave a red card');
  // A file that is no image: an error, gone once a code checks.
  await page.setInputFiles('#image', notAnImage());
  await page.waitForSelector('#check-error', { timeout });
  await page.setInputFiles('#image', config.images.valid);
  await expectCard(page, true, ['VALID']);
  await nextPerson(page);
  if (await page.locator('#notices [data-error]').count()) throw new Error('an old error stayed above a checked code');
  note('an image file of a valid code gave a green card, and cleared the error a file that is no image had left');
  await page.click('#lang');
  await page.fill('#paste-text', config.codes.foreign);
  await page.click('#paste-check');
  await expectCard(page, false, ['不通过', '不受信任']);
  await shot(page, 'verify-red-zh');
  // The checkpoint's profile is the rule set's name for it: data.
  await noEnglish(page, 'verify-red-zh', [config.holder, 'transport']);
  await nextPerson(page);
  // What is not a code at all, and a damaged code: said in Chinese too.
  for (const [text, words] of [['hello world', '不是能识别的码'], ['HC1:6BF+70790T9WJWG.FKY*4GO0.O1CV2', '码无法读取']]) {
    await page.fill('#paste-text', text);
    await page.click('#paste-check');
    await expectCard(page, false, ['不通过', words]);
    await noEnglish(page, 'verify-malformed-zh', ['transport']);
    await nextPerson(page);
  }
  await shot(page, 'verify-malformed-zh');
  await page.click('#lang');
  note('the checkpoint speaks Chinese when switched');
  await page.fill('#paste-text', config.codes.fiftyHours);
  await page.click('#paste-check');
  await expectCard(page, false, ['INVALID', 'older than 48 h']);
  await nextPerson(page);
  note('the checkpoint refuses the 50 h old test, as the wallet says');
  // A SMART Health Card, once its issuers' directory is loaded in settings.
  await openSettings();
  await page.setInputFiles('#shc-directory', config.shc.directory);
  // What it would trust is shown first; nothing is trusted before Confirm.
  await page.waitForSelector('#shc-offer', { timeout });
  const offer = await page.locator('#shc-offer').innerText();
  if (!offer.includes(config.shc.issuer) || !/([0-9a-f]{4} ){15}[0-9a-f]{4}/.test(offer)) throw new Error(`the directory offer: ${offer}`);
  await page.locator('#shc-offer').scrollIntoViewIfNeeded();
  await shot(page, 'verify-settings-shc-confirm');
  await page.click('#shc-confirm');
  await page.waitForSelector('#shc-loaded', { timeout });
  await page.waitForSelector(`#shc-issuers:has-text("${config.shc.issuer}")`, { timeout });
  await shot(page, 'verify-settings-shc');
  await page.click('#close-settings');
  await page.fill('#paste-text', config.shc.card);
  await page.click('#paste-check');
  await expectCard(page, false, ['INVALID', config.shc.holder, `Signed by: ${config.shc.issuer}`, 'revoked']);
  await shot(page, 'verify-shc-revoked');
  await nextPerson(page);
  note('a SMART Health Card was checked against its issuer loaded from a directory file, and its revocation shown');
  // A chunked card, its parts scanned out of order: one verdict once all are in.
  const [first, ...rest] = config.shc.chunks;
  await page.fill('#paste-text', first);
  await page.click('#paste-check');
  await page.waitForSelector('#chunks', { timeout });
  const part = await page.locator('#chunks').innerText();
  if (!part.includes('1 of 3')) throw new Error(`the parts notice says ${part}`);
  note(`one part of a chunked card: ${part}`);
  for (const c of rest) {
    await page.fill('#paste-text', c);
    await page.click('#paste-check');
  }
  await expectCard(page, false, ['INVALID', 'not recognised', `Signed by: ${config.shc.issuer}`]);
  if (await page.locator('#chunks').count()) throw new Error('the parts notice stayed after the verdict');
  await nextPerson(page);
  note('the parts of a chunked card, scanned out of order, gave one verdict');
  results.timings.wasmCheckMs = await page.evaluate((t) => window.__benchCheck(t, 200), config.codes.valid);
  // The shell is cached by the service worker before the network goes.
  await page.evaluate(() => navigator.serviceWorker.ready);
  await page.waitForFunction(() => navigator.serviceWorker.controller !== null, null, { timeout }).catch(async () => {
    await page.reload();
    await page.waitForFunction(() => navigator.serviceWorker.controller !== null, null, { timeout });
  });
  // A new version of the apps is published: the page offers it and keeps
  // the one running until the user reloads.
  const swPath = path.join(config.appsDir, 'sw.js');
  writeFileSync(swPath, readFileSync(swPath, 'utf8').replace(/const VERSION = '([^']*)'/, "const VERSION = '$1-next'"));
  await page.reload();
  await page.waitForSelector('#update button', { timeout });
  await shot(page, 'verify-update-offered');
  // The button's reload comes only once the new worker has activated (it
  // deletes the old cache first), so the page it was pressed on stays a
  // moment: wait for the new page's load, not for a selector the old page
  // still matches (reading from the old page as it goes fails).
  const before = await page.evaluate(() => performance.timeOrigin);
  const reloaded = page.waitForEvent('load', { timeout });
  await page.click('#update button');
  await reloaded;
  await page.waitForSelector('body[data-ready="true"]', { timeout });
  const after = await page.evaluate(async () => ({ origin: performance.timeOrigin, caches: await caches.keys() }));
  if (after.origin === before) throw new Error('the page was not reloaded after the update was taken');
  if (after.caches.length !== 1 || !after.caches[0].endsWith('-next')) {
    throw new Error(`after the reload the caches are ${after.caches.join(', ')}: only the new version's should be left`);
  }
  note('a new version was offered with a reload button and taken only when pressed');
  await context.close();
}

// ---- the issuer stops; the network goes ----------------------------------
process.kill(config.issuerPid, 'SIGTERM');
await new Promise((r) => setTimeout(r, 1000));
note('stopped the issuer; from here every browser is offline');

const offlineScan = async (camera, valid, words, name) => {
  const { context, page } = await browser(config.profileDir, camera, { offline: true });
  const ms = await load(page, '/verify');
  await page.click('#scan');
  const text = await expectCard(page, valid, words);
  await shot(page, name);
  const timing = await lastTiming(page);
  await context.close();
  return { ms, text, timing };
};

{
  const r = await offlineScan(config.cameras.valid, true, ['VALID', config.holder], 'verify-green-offline');
  results.timings.offlineLoadMs = r.ms;
  results.timings.offlineFrameToVerdictMs = r.timing;
  note(`offline, the app loaded from the service worker in ${r.ms} ms and the valid code was green`);
}
{
  const r = await offlineScan(config.cameras.revoked, false, ['INVALID', 'revoked'], 'verify-red');
  note('offline, the camera\'s revoked code was red: revoked');
}
{
  await offlineScan(config.cameras.tampered, false, ['INVALID', 'bad signature'], 'verify-red-tampered');
  note('offline, the camera\'s tampered code was red: bad signature');
}
{
  await offlineScan(config.cameras.foreign, false, ['INVALID', 'unknown issuer key'], 'verify-red-foreign');
  note('offline, the camera\'s code from another issuer was red: unknown issuer key');
}
{
  // A code in view that cannot be read (its modules damaged past the error
  // correction): after a few seconds the reader's frames say so, and the
  // page asks to hold steady, come closer or add light.
  const { context, page } = await browser(config.profileDir, config.cameras.damaged, { offline: true });
  await load(page, '/verify');
  await page.click('#scan');
  await page.waitForSelector('#aim', { timeout });
  const said = await page.locator('#aim').innerText();
  if (!said.includes('hold steady')) throw new Error(`the hint: ${said}`);
  await shot(page, 'verify-aim-hint');
  if (await page.locator('#verdict:not(.hidden)').count()) throw new Error('a verdict for a code nobody could read');
  await context.close();
  note(`a code in view that cannot be read: "${said}"`);
}
{
  // A frame that makes a QR reader trap: the worker ends, is started
  // again, and the page goes on (a code pasted after it still checks).
  expectingTrap = true;
  const { context, page } = await browser(config.profileDir, config.cameras.crafted, { offline: true });
  await load(page, '/verify');
  await page.click('#scan');
  await page.waitForSelector('#restarted', { timeout });
  await page.locator('details summary').click();
  await page.fill('#paste-text', config.codes.valid);
  await page.click('#paste-check');
  await expectCard(page, true, ['VALID']);
  await context.close();
  expectingTrap = false;
  note('a crafted frame trapped the reader; the worker was restarted and the page went on');
}

{
  // The wallet with no network: the child's code is still shown.
  const { context, page } = await browser(config.walletProfileDir, config.cameras.venue, { offline: true });
  await load(page, '/wallet');
  await page.waitForSelector(`#held .card:has-text("${config.walletHolder}")`, { timeout });
  await page.click('#held .card button.primary');
  await page.waitForSelector('#showcode:not(.hidden) svg', { timeout });
  await shot(page, 'wallet-code-offline');
  await context.close();
  note('offline, the wallet still showed the code');
}

{
  // The checkpoint keeps its signed files and settings, and nothing of what
  // it scanned.
  const { context, page } = await browser(config.profileDir, config.cameras.valid, { offline: true });
  await load(page, '/verify');
  const names = await page.evaluate(() => new Promise((resolve, reject) => {
    const open = indexedDB.open('health-verify');
    open.onerror = () => reject(open.error);
    open.onsuccess = () => {
      const r = open.result.transaction('files').objectStore('files').getAllKeys();
      r.onsuccess = () => resolve(r.result);
      r.onerror = () => reject(r.error);
    };
  }));
  await context.close();
  results.checkpointFiles = names;
  note(`the checkpoint holds ${names.join(', ')}`);
}

process.stdout.write(JSON.stringify(results) + '\n');
