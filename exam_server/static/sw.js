/* TKD-CBT service worker: the candidate's page opens again when the phone reloads it
 * without signal. Plain ES2017, served at /sw.js so that its scope covers `/`.
 *
 * Only the page shell passes through here: `/` and `/ujian` (the catalogue is inside the
 * page), exam.js and exam.css. Network first, always: a new release reaches every phone
 * on its next load, and the copy kept here answers only when the network cannot. The API,
 * the socket, pictures (the HTTP cache keeps them), /panitia and everything else never
 * pass through it.
 */
'use strict';

var CACHE = 'tkd-shell-1';
var ASSETS = ['/static/exam.js', '/static/exam.css'];

function isPage(path) { return path === '/' || path === '/ujian'; }

self.addEventListener('install', function (ev) {
  // Best effort: whatever fails now is kept by the next online load instead.
  ev.waitUntil(caches.open(CACHE).then(function (cache) {
    return cache.addAll(['/'].concat(ASSETS));
  }).catch(function () { /* offline while installing */ }).then(function () {
    return self.skipWaiting();
  }));
});

self.addEventListener('activate', function (ev) {
  ev.waitUntil(caches.keys().then(function (names) {
    return Promise.all(names.filter(function (n) { return n.indexOf('tkd-') === 0 && n !== CACHE; })
      .map(function (n) { return caches.delete(n); }));
  }).then(function () { return self.clients.claim(); }));
});

self.addEventListener('fetch', function (ev) {
  var req = ev.request, url = new URL(req.url);
  if (req.method !== 'GET' || url.origin !== self.location.origin) return;
  var page = isPage(url.pathname);
  if (!page && ASSETS.indexOf(url.pathname) < 0) return;
  ev.respondWith(fetch(req).then(function (resp) {
    if (resp.ok && resp.type === 'basic') {
      var copy = resp.clone();
      ev.waitUntil(caches.open(CACHE).then(function (cache) { return cache.put(req, copy); }));
    }
    return resp;
  }, function (err) {
    // No network: the last copy of this address, else any copy of the page.
    return caches.match(req).then(function (hit) {
      return hit || caches.match(req, {ignoreSearch: true});
    }).then(function (hit) {
      return hit || (page ? caches.match('/') : null);
    }).then(function (hit) {
      if (hit) return hit;
      throw err;
    });
  }));
});
