// The browser apps in a second engine: WebKit (Debian's WebKitGTK, its
// MiniBrowser), driven through WebKitWebDriver over the W3C WebDriver
// protocol, under xvfb-run (WebKitGTK needs a display). WebKit's mock
// camera cannot play a file, so the codes arrive as the pasted text and as
// an image file, which are the paths a phone without a camera permission
// uses. tests/tests/browser.rs runs this with the same config file as
// browser.mjs, while the issuer is up.
//
//   node web/tests/webkit.mjs CONFIG.json
//
// Prints one JSON line of results on stdout.
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import net from 'node:net';

const config = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const results = { checks: [] };
const note = (what) => { results.checks.push(what); process.stderr.write(`webkit: ${what}\n`); };
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const timeout = 30000;

/** A free TCP port on the loopback. */
function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => resolve(port)); });
  });
}

const port = await freePort();
const driver = spawn('xvfb-run', ['-a', '-s', '-screen 0 1280x1024x24', config.webkit.driver, `--port=${port}`],
  { stdio: ['ignore', 'ignore', 'pipe'], detached: true });
let driverLog = '';
driver.stderr.on('data', (d) => { driverLog += d; });
const base = `http://127.0.0.1:${port}`;
let session = null;
let failed = false;

async function end(code) {
  if (session) await fetch(`${base}/session/${session}`, { method: 'DELETE' }).catch(() => {});
  try { process.kill(-driver.pid, 'SIGTERM'); } catch { /* already gone */ }
  process.exit(code);
}

async function fail(e) {
  if (failed) return;
  failed = true;
  if (session) {
    await screenshot('webkit-failure').catch(() => {});
    const text = await js('return document.body.innerText').catch(() => '');
    process.stderr.write(`webkit: the page said:\n${text}\n`);
  }
  const after = results.checks.length ? results.checks[results.checks.length - 1] : 'the start';
  process.stderr.write(`webkit: FAILED after "${after}": ${e.stack || e}\n${driverLog}\n`);
  await end(1);
}
process.on('uncaughtException', fail);
process.on('unhandledRejection', fail);

/** One WebDriver command; its value, or an error naming the command. */
async function wd(method, where, body) {
  const url = session ? `${base}/session/${session}${where}` : `${base}${where}`;
  const r = await fetch(url, { method, headers: { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body), signal: AbortSignal.timeout(60000) });
  const j = await r.json();
  if (j.value && j.value.error) throw new Error(`${method} ${where}: ${j.value.error}: ${j.value.message}`);
  return j.value;
}

const js = (script, ...args) => wd('POST', '/execute/sync', { script, args });
const ELEMENT = 'element-6066-11e4-a52e-4f735466cecf';

async function find(css) {
  const e = await wd('POST', '/element', { using: 'css selector', value: css });
  const id = e[ELEMENT] ?? e.ELEMENT;
  if (!id) throw new Error(`POST /element ${css}: no element reference in ${JSON.stringify(e)}`);
  return id;
}

/** Waits until `css` matches an element (shown or not, as `visible` says). */
async function waitFor(css, { visible = true } = {}) {
  const t0 = Date.now();
  while (Date.now() - t0 < timeout) {
    const found = await js(`const e = document.querySelector(arguments[0]);
      return !!e && (!arguments[1] || e.getClientRects().length > 0);`, css, visible);
    if (found) return;
    await sleep(100);
  }
  throw new Error(`nothing matched ${css} within ${timeout} ms`);
}

async function waitUntil(what, script, ...args) {
  const t0 = Date.now();
  while (Date.now() - t0 < timeout) {
    if (await js(script, ...args)) return;
    await sleep(100);
  }
  throw new Error(`${what}: not within ${timeout} ms`);
}

async function click(css) {
  await waitFor(css);
  await wd('POST', `/element/${await find(css)}/click`, {});
}

/** Sets a text field's value as a person's typing would (input events). */
async function type(css, text) {
  await waitFor(css);
  const id = await find(css);
  await wd('POST', `/element/${id}/clear`, {});
  await wd('POST', `/element/${id}/value`, { text });
}

/** The text an element holds: its nodes' text, whatever the layout. */
async function text(css) {
  return js('const e = document.querySelector(arguments[0]); return e ? e.textContent : ""', css);
}

async function screenshot(name) {
  await sleep(300); // the last change painted
  const png = await wd('GET', '/screenshot');
  writeFileSync(path.join(config.shots, `${name}.png`), Buffer.from(png, 'base64'));
}

async function load(where) {
  await wd('POST', '/url', { url: `${config.url}${where}` });
  await waitUntil(`${where} ready`, 'return document.body.dataset.ready === "true"');
}

/** Waits for the verdict card, `valid` or not, to hold every one of `words`. */
async function expectCard(valid, words) {
  await waitFor(`#verdict[data-valid="${valid}"]`);
  const t0 = Date.now();
  for (;;) {
    const t = await text('#verdict');
    const lacking = words.filter((w) => !t.includes(w));
    if (!lacking.length) return t;
    if (Date.now() - t0 > timeout) throw new Error(`the card lacks ${JSON.stringify(lacking)}: ${t}`);
    await sleep(100);
  }
}

async function nextPerson() {
  await click('#next');
  await waitFor('#verdict.hidden', { visible: false });
}

async function pinAndSync(openSettings) {
  await click(openSettings);
  await click('#offered');
  await waitFor('#offer:not(.hidden)');
  const fp = (await text('#offer-fp')).trim();
  if (fp !== config.anchorFingerprint) throw new Error(`offered anchor ${fp}, the issuer's is ${config.anchorFingerprint}`);
  await click('#offer-confirm');
  await waitFor('#synced');
}

async function paste(code) {
  await type('#paste-text', code);
  await click('#paste-check');
}

// Wait for the driver, then open a session in a fresh profile.
{
  const t0 = Date.now();
  for (;;) {
    try { await fetch(`${base}/status`); break; } catch {
      if (Date.now() - t0 > timeout) throw new Error(`WebKitWebDriver did not listen on ${port}`);
      await sleep(200);
    }
  }
  // An automation session's storage is its own, gone with it: a fresh profile.
  const s = await wd('POST', '/session', { capabilities: { alwaysMatch: {
    browserName: 'MiniBrowser',
    'webkitgtk:browserOptions': { binary: config.webkit.browser, args: ['--automation'] },
  } } });
  session = s.sessionId;
  await wd('POST', '/window/rect', { width: 412, height: 860 }).catch(() => {});
  note(`WebKit ${s.capabilities.browserVersion} (${s.capabilities.browserName})`);
}

// ---- the checkpoint --------------------------------------------------------
{
  await load('/verify/');
  await pinAndSync('#open-settings');
  await js(`const s = document.querySelector('#profile'); s.value = 'transport'; s.dispatchEvent(new Event('change'));`);
  await waitUntil('the profile chosen', `return document.querySelector('#profile-line').textContent.includes('transport')`);
  const foreign = await text('#foreign-sources');
  if (!foreign.includes('eu-at (eu-dcc): 1 key(s)') || !foreign.includes('smart-example (shc): 2 key(s)')) {
    throw new Error(`the foreign sources: ${foreign}`);
  }
  await screenshot('webkit-verify-settings');
  note('the checkpoint pinned the offered anchor after its fingerprint, synced, and lists the authority\'s foreign sources');
  await click('#close-settings');
  await click('details summary');
  await paste(config.codes.valid);
  await expectCard(true, ['VALID', config.holder, '✓']);
  await screenshot('webkit-verify-green');
  await nextPerson();
  await paste(config.codes.revoked);
  await expectCard(false, ['INVALID', 'revoked', '✗']);
  await nextPerson();
  await paste(config.codes.tampered);
  await expectCard(false, ['INVALID', 'bad signature']);
  await nextPerson();
  note('pasted valid, revoked and tampered codes gave green, red and red cards');
  await paste(config.codes.euDcc);
  const eu = await expectCard(false, ['INVALID', 'Musterfrau-Gößinger', 'issuer key d919375fc1e7b6b2 expired on 2023-05-05']);
  if (/unknown issuer key|not trusted|bad signature/.test(eu)) throw new Error(`the EU DCC was not verified: ${eu}`);
  await screenshot('webkit-verify-eu-dcc');
  await nextPerson();
  await paste(config.codes.shcFromAuthority);
  const card = await expectCard(false, ['John B. Anyperson', 'Signed by: SMART example issuer']);
  if (/not trusted|bad signature/.test(card)) throw new Error(`the SMART Health Card was not verified: ${card}`);
  await nextPerson();
  await paste(config.codes.nzcpFromAuthority);
  await expectCard(true, ['VALID', 'Sparrow, Jack', 'Signed by: did:web:nzcp.covid19.health.nz']);
  await screenshot('webkit-verify-nzcp');
  await nextPerson();
  await paste(config.codes.icaoFromAuthority);
  await expectCard(true, ['VALID', 'Alex Tester', 'Signed by: UTO']);
  await screenshot('webkit-verify-icao');
  await nextPerson();
  await paste(config.codes.ddccFromAuthority);
  await expectCard(true, ['VALID', 'Test Citizen']);
  await screenshot('webkit-verify-ddcc');
  await nextPerson();
  note('an EU DCC (AT), a SMART Health Card, an NZ COVID Pass, an ICAO seal and a WHO DDCC verified with the keys of the authority\'s foreign trust file');
  // An image file of a code: the path a phone without a camera takes.
  await wd('POST', `/element/${await find('#image')}/value`, { text: config.images.valid });
  await expectCard(true, ['VALID', config.holder]);
  await nextPerson();
  note('an image file of a valid code gave a green card');
  await click('#lang');
  await paste(config.codes.foreign);
  await expectCard(false, ['不通过', '不受信任']);
  await screenshot('webkit-verify-red-zh');
  await nextPerson();
  await paste('hello world');
  await expectCard(false, ['不通过', '不是能识别的码']);
  await nextPerson();
  await click('#lang');
  note('the checkpoint speaks Chinese when switched, its errors too');
}

// ---- the wallet --------------------------------------------------------------
{
  await load('/wallet/');
  await click('nav.tabs button[data-tab="settings"]');
  await pinAndSync('nav.tabs button[data-tab="settings"]');
  await click('nav.tabs button[data-tab="add"]');
  await type('#member', 'me');
  await type('#add-text', config.codes.valid);
  await click('#add-paste');
  await waitFor('#added');
  await click('nav.tabs button[data-tab="codes"]');
  await waitFor('#held .card');
  const held = await text('#held');
  if (!held.includes(config.holder) || !/Valid until/.test(held)) throw new Error(`the wallet's codes: ${held}`);
  await screenshot('webkit-wallet-codes');
  note('the wallet pinned, synced, and holds a pasted code as valid');
  // The data the wallet keeps survives a reload (IndexedDB in WebKit).
  await load('/wallet/');
  await waitFor('#held .card');
  if (!(await text('#held')).includes(config.holder)) throw new Error('the code was gone after a reload');
  note('the code is still there after a reload');
}

process.stdout.write(`${JSON.stringify(results)}\n`);
await end(0);
