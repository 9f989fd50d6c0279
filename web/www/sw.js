// The apps' shell, offline: every file of this version is cached at
// install and answered from the cache. Anything else (the signed files,
// the API) goes to the network untouched: this worker never answers it.
// web/build.sh fills in the version and the file list.
const VERSION = '__VERSION__';
const FILES = __FILES__;
const CACHE = `health-apps-${VERSION}`;

const scope = () => new URL(self.registration.scope);

self.addEventListener('install', (e) => {
  e.waitUntil(caches.open(CACHE).then((c) =>
    c.addAll(FILES.map((f) => new Request(new URL(f, scope()), { cache: 'no-cache' })))));
  // No skipWaiting here: a new version waits until the page's user reloads.
});

self.addEventListener('message', (e) => { if (e.data === 'skip-waiting') self.skipWaiting(); });

self.addEventListener('activate', (e) => {
  e.waitUntil(caches.keys()
    .then((keys) => Promise.all(keys.filter((k) => k.startsWith('health-apps-') && k !== CACHE).map((k) => caches.delete(k))))
    .then(() => self.clients.claim()));
});

self.addEventListener('fetch', (e) => {
  const url = new URL(e.request.url);
  const base = scope();
  if (e.request.method !== 'GET' || url.origin !== base.origin || !url.pathname.startsWith(base.pathname)) return;
  let rel = url.pathname.slice(base.pathname.length);
  if (rel === 'verify' || rel === 'verify/') rel = 'verify/index.html';
  if (rel === 'wallet' || rel === 'wallet/') rel = 'wallet/index.html';
  if (url.search || !FILES.includes(rel)) return;
  e.respondWith(caches.open(CACHE)
    .then((c) => c.match(new URL(rel, base).href))
    .then((hit) => hit || fetch(e.request)));
});
