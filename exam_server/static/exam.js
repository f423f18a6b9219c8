/* TKD-CBT candidate client. Plain ES2017, no build step, no dependencies.
 *
 * The page keeps every change in a local queue (localStorage) with its seq before it is
 * sent, and forgets it only when the server says `durable`. After a reload, a dropped
 * signal or on another phone, it rebuilds from the server's `state` and resends the rest.
 * Protocol: docs/protocol.md.
 */
(function () {
  'use strict';

  var S = JSON.parse(document.getElementById('i18n').textContent);
  var LANG = document.documentElement.lang || 'id';
  function $(id) { return document.getElementById(id); }
  function t(key, vars) {
    var text = S[key] || key;
    Object.keys(vars || {}).forEach(function (k) { text = text.replace('{' + k + '}', vars[k]); });
    return text;
  }
  function show(id) {
    ['v-login', 'v-identity', 'v-waiting', 'v-replaced', 'v-exam', 'v-finished'].forEach(function (v) {
      $(v).hidden = v !== id;
    });
  }
  // The clock of this page: monotonic, so a phone clock changed while offline moves
  // neither the deadline nor the keep-alive (docs/client.md, "The clock").
  function mono() { return performance.now(); }

  /* ---- storage: survives reloads and the battery saver killing the tab ---- */
  function load(key, fallback) {
    try { var raw = localStorage.getItem(key); return raw ? JSON.parse(raw) : fallback; }
    catch (e) { return fallback; }
  }
  function save(key, value) {
    try { localStorage.setItem(key, JSON.stringify(value)); return true; } catch (e) { return false; }
  }
  function forget(key) {
    try { localStorage.removeItem(key); } catch (e) { /* nothing kept */ }
  }
  // The phone's storage is full: make room from what other candidates and earlier attempts
  // left on this browser, never from changes not yet on the server.
  function freeSpace() {
    var keys = [];
    try { keys = Object.keys(localStorage); } catch (e) { return; }
    keys.forEach(function (k) {
      var m = /^tkd\.(q|qs|tab)\.(.+)$/.exec(k), kept = null;
      if (!m || (session && m[2] === session.no)) return;
      if (m[1] === 'q') kept = load(k, null);
      if (!kept || !kept.queue || !kept.queue.length) forget(k);
      else if (kept.view) { kept.view = null; save(k, kept); }
    });
  }
  function store(key, value) {
    if (save(key, value)) return true;
    freeSpace();
    return save(key, value);
  }

  var session = load('tkd.session', null); // {token, no, info, confirmed}
  var local = null; // {nextSeq, queue: [change...]} for this participant
  var questions = {}; // q -> question message
  // deadline and startsAt are on the page's monotonic clock (mono()).
  var exam = {
    n: 0, sections: [], answers: {}, doubts: {}, status: '', remainingMs: 0,
    deadline: 0, startsAt: 0, ackedSeq: 0, current: 0, result: null
  };
  var submitting = false;
  var TAB = Math.random().toString(36).slice(2, 10); // this tab among the browser's tabs
  var elsewhere = false; // another tab of this browser holds the exam now
  var qsDropped = false; // the question cache gave its room to the queue
  var ws = null, ready = false, stopped = false, retries = 0, retryTimer = 0, pingTimer = 0, pongDue = 0;
  var replaced = false; // the server gave the attempt to another device
  var busyUntil = 0; // the server is full: the next try, on mono()

  function localKey() { return 'tkd.q.' + session.no; }
  function questionsKey() { return 'tkd.qs.' + session.no; }
  function tabKey() { return 'tkd.tab.' + session.no; }
  function persist() {
    if (!local) return;
    if (!mine()) { away(); return; }
    // What the page shows, for a reload without signal: the answers as last acknowledged
    // plus the queue (already applied), and the deadline as a time, not a count.
    local.view = exam.n && exam.status !== 'submitted' ? {
      n: exam.n, sections: exam.sections, answers: exam.answers, doubts: exam.doubts,
      current: exam.current, status: exam.status, remainingMs: left(),
      startsInMs: exam.startsAt - mono(), savedAt: Date.now(), ackedSeq: exam.ackedSeq
    } : null;
    // The queue comes first: if even the room freed is not enough, this exam's question
    // cache goes, and if that is not enough either the candidate is told. The change still
    // reaches the server while there is signal.
    var ok = store(localKey(), local);
    if (!ok && !qsDropped) { qsDropped = true; forget(questionsKey()); ok = save(localKey(), local); }
    if (ok) $('storage-full').hidden = true;
    else if (local.queue.length) $('storage-full').hidden = false; // until a save works again
  }
  var questionsTimer = 0;
  function saveQuestionsSoon() {
    // One write after a burst: rewriting the whole cache per question is quadratic, and
    // 110 questions arrive together after `state` on a slow phone.
    clearTimeout(questionsTimer);
    questionsTimer = setTimeout(saveQuestions, 400);
  }
  function saveQuestions() {
    if (!questionsTimer) return;
    questionsTimer = 0;
    if (session && !qsDropped && mine()) store(questionsKey(), questions);
  }
  // A page being put away or reloaded writes what the burst has not written yet.
  window.addEventListener('pagehide', saveQuestions);
  document.addEventListener('visibilitychange', function () {
    var hidden = document.visibilityState === 'hidden';
    if (hidden) saveQuestions();
    // The proctor's room counts page leaves (docs/protocol.md, "focus"); offline: not sent.
    send({type: 'focus', state: hidden ? 'hidden' : 'visible'});
  });
  var imgSize = {}; // picture address -> [width, height], learned by the prefetch
  function prefetchImages(msg) {
    // Pictures go into the HTTP cache now, so a question opened offline still shows them;
    // their sizes let the page reserve their room before they are drawn.
    var html = msg.stem + msg.options.map(function (o) { return o.html; }).join('');
    var re = /src="@@IMG@@\/([^"]+)"/g, m;
    while ((m = re.exec(html))) {
      var img = new Image();
      img.onload = function () {
        if (!imgSize[this.src]) imgSize[this.src] = [this.naturalWidth, this.naturalHeight];
      };
      img.src = (msg.images_base || '') + m[1];
    }
  }
  // Question HTML with its pictures loading lazily in a box reserved before they arrive,
  // so that nothing moves the options under a finger (docs/client.md, "Pictures").
  function withImages(html, msg, into) {
    into.innerHTML = html.split('@@IMG@@/').join(msg.images_base || '')
      .replace(/<img /g, '<img loading="lazy" decoding="async" ');
    Array.prototype.forEach.call(into.querySelectorAll('img'), function (img) {
      if (img.getAttribute('width') && img.getAttribute('height')) return;
      // Not known yet: a fixed box the picture fits into, kept for this picture from now on,
      // so that a later redraw (a tap re-renders the options) does not resize it either.
      var size = imgSize[img.src] || (imgSize[img.src] = [320, 180, true]);
      img.width = size[0]; img.height = size[1];
      if (size[2]) img.className += ' held';
    });
  }

  /* ---- login ---- */
  function loginError(message) {
    $('login-error').textContent = message;
    $('login-error').hidden = !message;
  }

  // A server at capacity answers `busy` with a wait (HTTP 503 and Retry-After, or the
  // socket's retry_after_ms): say so calmly, count down, and try again a little later than
  // asked, each phone at its own moment (docs/client.md, "Busy").
  function busyDelay(ms) {
    var base = Math.max(1000, ms || 5000);
    return base + Math.random() * base * 0.5;
  }
  function busyWait(err, header) {
    if (typeof err.retry_after_ms === 'number') return err.retry_after_ms;
    if (typeof err.retry_after === 'number') return err.retry_after * 1000;
    var secs = parseFloat(header);
    return isNaN(secs) ? 0 : secs * 1000;
  }
  var loginRetryAt = 0, loginRetryTimer = 0;
  function loginBusy(ms) {
    loginRetryAt = mono() + busyDelay(ms);
    clearTimeout(loginRetryTimer);
    loginRetryTimer = setTimeout(function () { loginRetryAt = 0; logIn(); }, loginRetryAt - mono());
    busyTick();
  }
  function busyTick() {
    var box = $('login-busy');
    box.hidden = !loginRetryAt;
    if (loginRetryAt) box.textContent = t('busy', {n: Math.max(1, Math.ceil((loginRetryAt - mono()) / 1000))});
  }

  $('show-pw').addEventListener('click', function () {
    var shown = $('f-password').type === 'password';
    $('f-password').type = shown ? 'text' : 'password';
    this.setAttribute('aria-pressed', shown ? 'true' : 'false');
    this.textContent = t(shown ? 'hide_password' : 'show_password');
  });

  $('login-form').addEventListener('submit', function (ev) {
    ev.preventDefault();
    clearTimeout(loginRetryTimer);
    loginRetryAt = 0;
    logIn();
  });

  function logIn() {
    busyTick();
    var body = {
      participant_no: $('f-number').value.trim(),
      password: $('f-password').value.trim(),
      lang: LANG
    };
    var token = $('f-token').value.trim();
    if (token) body.session_token = token;
    $('login-btn').disabled = true;
    $('login-btn').textContent = t('logging_in');
    fetch('/api/v1/candidate/login', {
      method: 'POST', headers: {'Content-Type': 'application/json'}, body: JSON.stringify(body)
    }).then(function (resp) {
      return resp.json().catch(function () { return {}; }).then(function (data) {
        return {ok: resp.ok, status: resp.status, data: data, retry: resp.headers.get('Retry-After')};
      });
    }).then(function (r) {
      if (!r.ok) {
        var err = r.data.error || {};
        if (err.code === 'busy' || (r.status === 503 && !err.code)) {
          loginError('');
          loginBusy(busyWait(err, r.retry));
          return;
        }
        if (err.code === 'bad_session_token') {
          $('token-row').hidden = false;
          $('f-token').focus();
          // Nothing typed yet: "wrong token" would blame the candidate for a field never shown.
          if (!token) { loginError(t('token_needed')); return; }
        }
        loginError(err.message || t('network_error'));
        return;
      }
      loginError('');
      var no = r.data.candidate.participant_no;
      var confirmed = !!(session && session.no === no && session.confirmed);
      session = {token: r.data.token, no: no, info: r.data, confirmed: confirmed};
      store('tkd.session', session);
      start();
    }).catch(function () {
      loginError(t('network_error'));
    }).then(function () {
      $('login-btn').disabled = false;
      $('login-btn').textContent = t('login');
    });
  }

  function attemptOf(info) {
    // What was kept belongs to one attempt: a later exam on this browser must not inherit
    // its questions or resend its changes.
    return info.attempt_id ? String(info.attempt_id) :
      [info.session.name, info.session.starts_at, info.exam.title].join('|');
  }

  function start() {
    var attempt = attemptOf(session.info);
    local = load(localKey(), null);
    if (!local || local.attempt !== attempt) local = {attempt: attempt, nextSeq: 1, queue: []};
    var kept = load(questionsKey(), {});
    if (questions.attempt !== attempt) questions = {attempt: attempt};
    if (kept.attempt === attempt) questions = Object.assign(questions, kept);
    if (!session.confirmed) { showIdentity(); return; }
    stopped = elsewhere = replaced = false;
    retries = 0;
    $('other-tab').hidden = true;
    claim();
    show('v-exam');
    restore();
    connect();
  }

  // The page as it was last shown, until the server's `state` arrives: after a reload
  // without signal the candidate sees every answer and keeps answering on the kept deadline.
  function restore() {
    var v = local.view;
    if (!v) return;
    exam.n = v.n; exam.sections = v.sections; exam.answers = v.answers; exam.doubts = v.doubts;
    exam.current = Math.min(v.current || 0, v.n - 1);
    exam.ackedSeq = v.ackedSeq || 0;
    // Only a reload needs the wall clock: the time that passed since the view was kept. A
    // clock set back counts as none; the server's `time` corrects it at the next signal.
    var passed = Math.max(0, Date.now() - (v.savedAt || Date.now()));
    exam.remainingMs = Math.max(0, (v.remainingMs || 0) - (v.status === 'running' ? passed : 0));
    exam.deadline = mono() + exam.remainingMs;
    exam.startsAt = mono() + (v.startsInMs || 0) - passed;
    exam.status = '';
    local.queue.forEach(function (c) { if (!c.acked && c.seq > exam.ackedSeq) applyLocally(c); });
    buildGrid();
    renderQuestion();
    setStatus(v.status);
    if (local.queue.some(function (c) { return c.type === 'submit'; })) submittingView();
  }

  /* ---- two tabs of one browser share the queue: the newest holds the exam (as the newest
     device does on the server); the other stops writing and offers to take it back ---- */
  function mine() { var owner = load(tabKey(), null); return !owner || owner === TAB; }
  function claim() { if (!store(tabKey(), TAB)) forget(tabKey()); }
  function away() {
    if (elsewhere) return;
    elsewhere = stopped = true;
    ready = false;
    clearTimeout(retryTimer);
    clearInterval(pingTimer);
    if (ws) {
      ws.onopen = ws.onmessage = ws.onclose = null;
      try { ws.close(); } catch (e) { /* already closed */ }
      ws = null;
    }
    $('other-tab').hidden = false;
    renderControls();
    indicator();
  }
  window.addEventListener('storage', function (ev) {
    if (session && session.confirmed && local && ev.key === tabKey() && !mine()) away();
  });
  // Taking over reads what the other tab kept: its answers, its queue, its questions.
  $('take-over').addEventListener('click', function () { if (session) start(); });
  // The newest hello holds the attempt on the server: continuing here hands it back.
  $('continue-here').addEventListener('click', function () { if (session) start(); });

  // Session times as the participant card prints them: in the session's own zone (WIB, WITA
  // or WIT; Indonesia keeps no summer time), whatever zone or clock the phone has
  // (docs/client.md, "Identity").
  var ZONES = {'Asia/Jakarta': ['WIB', 420], 'Asia/Pontianak': ['WIB', 420],
    'Asia/Makassar': ['WITA', 480], 'Asia/Jayapura': ['WIT', 540]};
  var ZONE = {name: 'WIB', offsetMin: 7 * 60};
  function useZone(name) {
    var z = ZONES[name] || ZONES['Asia/Jakarta'];
    ZONE = {name: z[0], offsetMin: z[1]};
  }
  function inZone(iso) {
    var d = new Date(iso);
    return isNaN(d) ? null : new Date(d.getTime() + ZONE.offsetMin * 60000);
  }
  function two(n) { return (n < 10 ? '0' : '') + n; }
  function clock(iso) {
    var d = inZone(iso);
    return d ? two(d.getUTCHours()) + ':' + two(d.getUTCMinutes()) : '';
  }
  function day(iso) {
    var d = inZone(iso);
    return d ? t('days').split('|')[d.getUTCDay()] + ', ' + two(d.getUTCDate()) + '-' +
      two(d.getUTCMonth() + 1) + '-' + d.getUTCFullYear() : '';
  }

  function showIdentity() {
    var info = session.info, dl = $('identity');
    dl.textContent = '';
    useZone(info.session.time_zone);
    [['name', info.candidate.name], ['participant_no', info.candidate.participant_no],
     ['nik', info.candidate.nik_masked], ['unit', info.candidate.unit],
     ['session', info.session.name + ', ' + day(info.session.starts_at) + ', ' +
       clock(info.session.starts_at) + '–' + clock(info.session.ends_at) + ' ' + ZONE.name],
     ['room', info.session.room], ['exam', info.exam.title],
     ['duration', info.exam.minutes ? t('minutes', {n: info.exam.minutes}) : '']].forEach(function (row) {
      var dt = document.createElement('dt'), dd = document.createElement('dd');
      dt.textContent = t(row[0]); dd.textContent = row[1] || '-';
      dl.appendChild(dt); dl.appendChild(dd);
    });
    $('rules').textContent = (LANG === 'en' ? info.exam.rules_en : info.exam.rules_id) || '';
    show('v-identity');
    // A screen reader starts at the heading, not at the button that starts the exam.
    $('identity-title').focus();
  }

  $('identity-ok').addEventListener('click', function () {
    session.confirmed = true;
    store('tkd.session', session);
    start();
  });

  // A shared phone: the next candidate must find nothing of this one, queue included. Only
  // changes the server has not acknowledged would be lost: for those, a second press.
  var logoutWarned = false;
  function unsavedCount() {
    return local ? local.queue.filter(function (c) { return c.seq > exam.ackedSeq; }).length : 0;
  }
  function logout() {
    var unsaved = unsavedCount();
    if (unsaved && !logoutWarned) {
      logoutWarned = true;
      $('logout-warn').textContent = t('logout_warn', {n: unsaved});
      $('logout-warn').hidden = false;
      return;
    }
    stopped = true;
    if (ws) { ws.onclose = null; ws.close(); }
    clearTimeout(questionsTimer);
    questionsTimer = 0;
    if (session) {
      forget(questionsKey());
      forget(localKey());
      forget(tabKey());
    }
    forget('tkd.session');
    session = local = null;
    location.href = '/';
  }
  $('logout').addEventListener('click', logout);
  $('not-me').addEventListener('click', logout);
  $('replaced-logout').addEventListener('click', logout);

  /* ---- the socket ---- */
  function connect() {
    if (stopped) return;
    if (busyUntil && mono() >= busyUntil) busyUntil = 0; // the wait is over: "Menyambung…" again
    // A tab frozen in the background must not take the attempt back when it wakes.
    if (!mine()) { away(); return; }
    clearTimeout(retryTimer);
    if (ws) {
      // A socket still opening would say hello after this one and take the attempt back
      // from it (the server keeps the latest hello): silence it first.
      ws.onopen = ws.onmessage = ws.onclose = null;
      try { ws.close(); } catch (e) { /* already closed */ }
    }
    var proto = location.protocol === 'https:' ? 'wss://' : 'ws://';
    ready = false;
    try { ws = new WebSocket(proto + location.host + (session.info.ws_url || '/ws/v1/exam')); }
    catch (e) { scheduleReconnect(); return; }
    var sock = ws;
    sock.onopen = function () {
      sock.send(JSON.stringify({type: 'hello', token: session.token, device: deviceName()}));
    };
    sock.onmessage = function (ev) { if (sock === ws) receive(JSON.parse(ev.data)); };
    sock.onclose = function () {
      if (sock !== ws) return;
      ready = false;
      clearInterval(pingTimer);
      indicator();
      scheduleReconnect();
    };
  }

  function scheduleReconnect() {
    if (stopped) return;
    // Backoff with jitter: 5,000 phones must not come back in the same second.
    clearTimeout(retryTimer);
    var delay = Math.min(30000, 1000 * Math.pow(2, retries)) * (0.5 + Math.random());
    retries = Math.min(retries + 1, 6);
    retryTimer = setTimeout(connect, delay);
  }

  // A whole room gets its Wi-Fi back at once: spread the reconnects over up to 3 s.
  window.addEventListener('online', function () {
    retries = 0;
    if (ready) return;
    clearTimeout(retryTimer);
    retryTimer = setTimeout(function () { if (!ready) connect(); }, Math.random() * 3000);
  });
  window.addEventListener('offline', function () { if (ws) ws.close(); });

  function deviceName() {
    var id = load('tkd.device', null);
    if (!id) { id = 'web-' + Math.random().toString(36).slice(2, 10); save('tkd.device', id); }
    return id;
  }

  function send(msg) {
    if (ws && ready && ws.readyState === 1) { ws.send(JSON.stringify(msg)); return true; }
    return false;
  }

  function keepAlive() {
    clearInterval(pingTimer);
    pingTimer = setInterval(function () {
      if (pongDue && mono() > pongDue) { pongDue = 0; if (ws) ws.close(); return; }
      if (send({type: 'ping', t: Date.now()})) pongDue = mono() + 10000;
    }, 20000);
  }

  function receive(msg) {
    switch (msg.type) {
      case 'state': onState(msg); break;
      case 'question':
        questions[msg.q] = msg;
        prefetchImages(msg);
        saveQuestionsSoon();
        if (msg.q === exam.current) renderQuestion();
        break;
      case 'ack':
        exam.ackedSeq = Math.max(exam.ackedSeq, msg.seq);
        // Remembered per change: after a takeover, only these are known to be on the server.
        local.queue.forEach(function (c) { if (c.seq <= msg.seq) c.acked = true; });
        if (!durableDue) durableDue = mono() + DURABLE_WAIT_MS;
        persist();
        indicator();
        break;
      case 'durable':
        sawDurable(msg.seq);
        local.queue = local.queue.filter(function (c) { return c.seq > msg.seq; });
        durableDue = local.queue.some(function (c) { return c.acked; }) ? mono() + DURABLE_WAIT_MS : 0;
        persist();
        indicator();
        break;
      case 'time': onTime(msg.status, msg.remaining_ms, msg.starts_in_ms); break;
      case 'result': exam.result = msg; if (exam.status === 'submitted') finished(); break;
      case 'notice':
        $('notice').textContent = t('notice') + ': ' + msg.message;
        $('notice').hidden = false;
        break;
      case 'pong': pongDue = 0; break;
      case 'error': onError(msg); break;
    }
  }

  // The highest `durable` this page has heard, kept with the queue: no change is ever
  // renumbered at or below it (those seqs are in PostgreSQL for good).
  function sawDurable(seq) {
    if (typeof seq === 'number' && seq > (local.durableSeq || 0)) local.durableSeq = seq;
  }
  // An acknowledged change must become `durable` within this; if not, the write-behind on
  // that server may be stuck, and a reconnect lets `state` tell what is really kept.
  var DURABLE_WAIT_MS = 10000, durableDue = 0;
  function checkDurable() {
    if (!durableDue || mono() < durableDue || !ready) return;
    durableDue = 0;
    retries = 0;
    if (ws) ws.close(); // onclose reconnects; `state` resends whatever the server lacks
  }

  function onState(st) {
    ready = true;
    retries = 0;
    busyUntil = 0;
    durableDue = 0;
    sawDurable(st.durable_seq);
    keepAlive();
    exam.n = st.questions;
    exam.sections = st.sections;
    exam.answers = st.answers || {};
    exam.doubts = {};
    (st.doubts || []).forEach(function (q) { exam.doubts[q] = true; });
    exam.ackedSeq = st.last_seq;
    var lost = collided(st);
    // Changes the server already has in PostgreSQL are safe; the rest are resent.
    local.queue = local.queue.filter(function (c) {
      return c.seq > st.durable_seq && lost.indexOf(c) < 0;
    });
    var top = local.queue.reduce(function (m, c) { return Math.max(m, c.seq); }, 0);
    local.nextSeq = Math.max(local.nextSeq, st.last_seq + 1, top + 1, (local.durableSeq || 0) + 1);
    lost.forEach(function (c) { c.seq = local.nextSeq++; local.queue.push(c); });
    persist();
    if (st.status !== 'submitted') {
      local.queue.forEach(function (c) {
        if (c.seq > st.last_seq) { applyLocally(c); send(c); }
      });
    }
    buildGrid();
    exam.status = ''; // the queue was just resent: no second resend for this `state`
    onTime(st.status, st.remaining_ms, st.starts_in_ms);
    if (st.status !== 'submitted') {
      fetchMissing();
      renderQuestion();
    }
    indicator();
  }

  // A change kept here but never acknowledged, at a seq the server already has: its ack
  // was lost, or another phone used the same seq while this one was offline. If the
  // server's state does not show it (and no newer change here replaces it), it was the
  // other phone's seq: the change gets a new one, so it is resent instead of dropped.
  function collided(st) {
    var newest = {};
    local.queue.forEach(function (c) { if (c.type !== 'submit') newest[c.type + ':' + c.q] = c; });
    var doubts = {};
    (st.doubts || []).forEach(function (q) { doubts[q] = true; });
    return local.queue.filter(function (c) {
      if (c.acked || c.seq > st.last_seq || newest[c.type + ':' + c.q] !== c) return false;
      if (c.type === 'answer') {
        var have = (st.answers || {})[c.q];
        return JSON.stringify(have === undefined ? null : have) !== JSON.stringify(c.choice);
      }
      return c.type === 'doubt' && !!doubts[c.q] !== !!c.on;
    });
  }

  function onError(err) {
    if (err.code === 'replaced') {
      if (!mine()) { away(); return; }
      // One message, one next step: the exam view goes (its clock and greyed question
      // would suggest it still counts here), the panel offers to continue on this phone.
      stopped = replaced = true;
      ready = false;
      clearTimeout(retryTimer);
      clearInterval(pingTimer);
      $('timer').hidden = true;
      show('v-replaced');
      renderControls();
      indicator();
    } else if (err.code === 'busy') {
      busyUntil = mono() + busyDelay(busyWait(err, null));
      clearTimeout(retryTimer);
      if (ws) {
        ws.onopen = ws.onmessage = ws.onclose = null;
        try { ws.close(); } catch (e) { /* already closed */ }
        ws = null;
      }
      ready = false;
      retryTimer = setTimeout(connect, busyUntil - mono());
      indicator();
    } else if (err.code === 'bad_token' || err.code === 'expired_token') {
      stopped = true;
      localStorage.removeItem('tkd.session');
      show('v-login');
      loginError(err.message);
    } else if (err.code === 'out_of_order') {
      resendFrom(err.expected);
    } else if (err.code === 'time_over' || err.code === 'submitted') {
      onTime('submitted', 0);
    } else if (err.code === 'not_running') {
      // The paper is shown only while the server's clock runs (docs/protocol.md); a local
      // countdown may reach the start a moment early, so ask again shortly.
      setTimeout(function () { if (exam.status === 'running') fetchMissing(); },
        1000 + Math.random() * 1000);
    } else if (err.code === 'paused' || err.code === 'not_started') {
      // Refused, not applied: the change stays queued. The `time` message that says the
      // session runs again resends it; if that crossed this refusal, retry shortly.
      retrySoon();
    }
  }

  var retrySoonTimer = 0;
  function retrySoon() {
    clearTimeout(retrySoonTimer);
    retrySoonTimer = setTimeout(function () {
      if (exam.status === 'running') resendPending();
    }, 2000 + Math.random() * 2000);
  }

  function resendPending() {
    local.queue.forEach(function (c) { if (c.seq > exam.ackedSeq) send(c); });
  }

  function resendFrom(expected) {
    if (expected <= (local.durableSeq || 0)) {
      // The server asks again for seqs it already made durable: its live copy was lost.
      // Renumbering into them would overwrite kept answers; `state` after a reconnect
      // tells what it has.
      if (ws) ws.close();
      return;
    }
    var pending = local.queue.filter(function (c) { return c.seq >= expected; });
    if (!pending.length || pending[0].seq !== expected) {
      // Some kept change went missing (storage cleared): number the rest from `expected`.
      pending.forEach(function (c, i) { c.seq = expected + i; });
      local.nextSeq = expected + pending.length;
      persist();
    }
    pending.forEach(send);
  }

  /* ---- the clock: always the server's ---- */
  function onTime(status, remaining, startsIn) {
    exam.remainingMs = remaining;
    exam.deadline = mono() + remaining;
    // Only the server's count moves the start; a message without one keeps the last.
    if (status === 'waiting' && typeof startsIn === 'number') exam.startsAt = mono() + startsIn;
    setStatus(status);
    persist();
  }

  function setStatus(status) {
    var before = exam.status;
    exam.status = status;
    $('paused').hidden = status !== 'paused';
    if (status === 'submitted') { finished(); return; }
    if (replaced) {
      // the panel stays until the candidate chooses
    } else if (status === 'waiting') {
      show('v-waiting');
    } else if (!submitting) {
      show('v-exam');
    }
    // Answering needs a running clock; looking around does not.
    $('v-exam').className = 'view' + (status === 'running' ? '' : ' frozen');
    renderControls();
    if (status === 'running' && before && before !== 'running') {
      resendPending();
      fetchMissing(); // a server may keep the questions back until the start
    }
    indicator();
    tick();
  }

  function fetchMissing() {
    for (var q = 0; q < exam.n; q++) if (!questions[q]) send({type: 'get', q: q});
  }

  function renderControls() {
    var off = exam.status !== 'running' || timeUp() || stopped;
    Array.prototype.forEach.call($('q-options').children, function (b) { b.disabled = off; });
    $('q-doubt').disabled = off;
    $('q-clear').disabled = off;
    $('finish').disabled = off;
  }

  function fmt(ms) {
    var s = Math.max(0, Math.floor(ms / 1000));
    var h = Math.floor(s / 3600), m = Math.floor(s / 60) % 60;
    var sec = s % 60;
    return (h ? h + ':' + (m < 10 ? '0' : '') : '') + m + ':' + (sec < 10 ? '0' : '') + sec;
  }

  function left() { return exam.status === 'running' ? Math.max(0, exam.deadline - mono()) : exam.remainingMs; }
  function timeUp() { return exam.status === 'running' && exam.deadline <= mono(); }

  function tick() {
    busyTick();
    checkDurable();
    if (busyUntil && !ready) indicator();
    $('timer').hidden = !exam.status || exam.status === 'submitted' || replaced;
    // On a narrow phone the clock takes the brand's place, keeping the sticky header one line.
    document.body.className = $('timer').hidden ? '' : 'timing';
    // At zero the server closes the attempt (its sweeper, or the next change); until its
    // word arrives, nothing more can be answered here.
    $('timer').textContent = timeUp() ? t('time_up') : t('time_left') + ' ' + fmt(left());
    if (timeUp() && !$('finish').disabled) renderControls();
    if (exam.status === 'waiting') {
      var wait = exam.startsAt - mono();
      $('countdown').textContent = fmt(wait);
      // Start on the local count instead of reconnecting: thousands of phones must not
      // all say hello again in the same second. A change sent a little early is refused
      // with `not_started` and retried.
      if (wait <= 0) onTime('running', exam.remainingMs);
    }
  }
  setInterval(tick, 1000);

  /* ---- changes: queued first, then sent ---- */
  function change(fields) {
    // Past the server's deadline (counted here while offline) nothing more can be saved.
    if (exam.status !== 'running' || stopped || timeUp()) return;
    if (!mine()) { away(); return; } // another tab took the exam a moment ago
    var c = Object.assign({seq: local.nextSeq++}, fields);
    local.queue.push(c);
    applyLocally(c);
    persist();
    send(c);
    indicator();
    buildGrid();
  }

  function applyLocally(c) {
    if (c.type === 'answer') {
      if (c.choice === null || (Array.isArray(c.choice) && !c.choice.length)) delete exam.answers[c.q];
      else exam.answers[c.q] = c.choice;
    } else if (c.type === 'doubt') {
      if (c.on) exam.doubts[c.q] = true; else delete exam.doubts[c.q];
    }
  }

  function indicator() {
    var box = $('conn');
    var unsaved = local ? local.queue.filter(function (c) { return c.seq > exam.ackedSeq; }).length : 0;
    box.hidden = !local || elsewhere || replaced; // #other-tab or #v-replaced says it
    box.className = 'conn';
    if (stopped && session) { box.textContent = t('replaced'); box.className += ' bad'; }
    else if (busyUntil && !ready) {
      box.textContent = t('busy', {n: Math.max(1, Math.ceil((busyUntil - mono()) / 1000))});
      box.className += ' busy';
    } else if (!ready) {
      box.textContent = unsaved ? t('offline', {n: unsaved}) : t('reconnecting');
      box.className += ' bad';
    } else if (unsaved) {
      box.textContent = exam.status === 'paused' ? t('held', {n: unsaved}) : t('saving');
      box.className += ' wait';
    }
    else { box.textContent = t('saved'); box.className += ' ok'; }
  }

  /* ---- rendering ---- */
  function sectionOf(q) {
    for (var i = 0; i < exam.sections.length; i++) {
      var s = exam.sections[i];
      if (q >= s.start && q < s.start + s.count) return s;
    }
    return null;
  }

  function renderQuestion() {
    var q = exam.current, msg = questions[q];
    var sec = sectionOf(q);
    $('q-label').textContent = t('question') + ' ' + (q + 1) + ' ' + t('of') + ' ' + exam.n;
    $('q-section').textContent = sec ? sec.name : '';
    $('prev').disabled = q === 0;
    $('next').disabled = q >= exam.n - 1;
    $('q-doubt').checked = !!exam.doubts[q];
    var opts = $('q-options');
    opts.textContent = '';
    if (!msg) {
      $('q-stem').textContent = ready ? t('loading_question') : t('question_offline');
      if (ready) send({type: 'get', q: q});
      return;
    }
    withImages(msg.stem, msg, $('q-stem'));
    var multiple = msg.kind === 'multiple';
    var chosen = exam.answers[q];
    opts.setAttribute('role', multiple ? 'group' : 'radiogroup');
    msg.options.forEach(function (o, i) {
      var on = multiple ? (chosen || []).indexOf(o.id) >= 0 : chosen === o.id;
      opts.appendChild(optionButton(i, o.id, on, multiple, function (text) { withImages(o.html, msg, text); },
        function () { choose(o.id, multiple); }));
    });
    renderControls();
  }

  function optionButton(i, id, on, multiple, fill, onClick) {
    var b = document.createElement('button');
    b.type = 'button';
    b.className = 'option' + (on ? ' on' : '');
    b.setAttribute('role', multiple ? 'checkbox' : 'radio');
    b.setAttribute('aria-checked', on ? 'true' : 'false');
    b.dataset.id = id;
    b.innerHTML = '<span class="letter"></span><span class="text"></span>';
    b.firstChild.textContent = LETTERS.charAt(i);
    fill(b.lastChild);
    b.addEventListener('click', onClick);
    return b;
  }
  var LETTERS = 'ABCDEFGHIJ';

  function choose(id, multiple) {
    var q = exam.current, choice;
    if (multiple) {
      var cur = (exam.answers[q] || []).slice();
      var at = cur.indexOf(id);
      if (at >= 0) cur.splice(at, 1); else cur.push(id);
      choice = cur.length ? cur.sort() : null;
    } else {
      choice = id;
    }
    change({type: 'answer', q: q, choice: choice});
    renderQuestion();
  }

  function buildGrid() {
    var grid = $('grid');
    if (grid.children.length !== exam.n) {
      grid.textContent = '';
      for (var q = 0; q < exam.n; q++) {
        var b = document.createElement('button');
        b.type = 'button';
        b.textContent = q + 1;
        b.dataset.q = q;
        b.addEventListener('click', function (ev) { go(+ev.currentTarget.dataset.q); });
        grid.appendChild(b);
      }
    }
    Array.prototype.forEach.call(grid.children, function (b, q) {
      markGrid(b, q, exam.answers[q] !== undefined, !!exam.doubts[q]);
      b.className += q === exam.current ? ' cur' : '';
      if (q === exam.current) b.setAttribute('aria-current', 'true'); else b.removeAttribute('aria-current');
    });
  }
  // Four states, told apart by colour, border and words: a ragu-ragu question with an
  // answer is not the same as one without.
  function markGrid(b, q, answered, doubt) {
    b.className = (answered ? 'ans' : '') + (doubt ? ' dbt' : '');
    b.setAttribute('aria-label', t('question') + ' ' + (q + 1) + ', ' + t(answered ?
      (doubt ? 'legend_answered_doubt' : 'legend_answered') : (doubt ? 'legend_empty_doubt' : 'legend_empty')));
  }

  function go(q) {
    if (q < 0 || q >= exam.n) return;
    exam.current = q;
    renderQuestion();
    buildGrid();
    window.scrollTo(0, 0);
    persist();
  }

  $('prev').addEventListener('click', function () { go(exam.current - 1); });
  $('next').addEventListener('click', function () { go(exam.current + 1); });
  $('q-doubt').addEventListener('change', function (ev) {
    change({type: 'doubt', q: exam.current, on: ev.target.checked});
  });
  $('q-clear').addEventListener('click', function () {
    if (exam.answers[exam.current] !== undefined) change({type: 'answer', q: exam.current, choice: null});
    renderQuestion();
  });
  // A laptop: A-E answer, arrows move. Not while typing, in a dialog, or with a modifier.
  document.addEventListener('keydown', function (ev) {
    if (ev.target.tagName === 'INPUT' || ev.ctrlKey || ev.altKey || ev.metaKey || $('confirm').open) return;
    var exams = !$('v-exam').hidden, practising = !$('v-waiting').hidden;
    if (!exams && !practising) return;
    var at = ev.key.length === 1 ? LETTERS.toLowerCase().indexOf(ev.key.toLowerCase()) : -1;
    var option = at >= 0 && at < 5 ? $(exams ? 'q-options' : 'p-options').children[at] : null;
    if (option) { option.click(); option.focus(); ev.preventDefault(); return; }
    if (!exams) return;
    if (ev.key === 'ArrowRight') go(exam.current + 1);
    if (ev.key === 'ArrowLeft') go(exam.current - 1);
  });

  /* ---- practice in the waiting room: the same controls, nothing sent ---- */
  var practice = {choice: -1, doubt: false};
  function renderPractice() {
    var opts = $('p-options');
    opts.textContent = '';
    t('practice_options').split('|').forEach(function (text, i) {
      opts.appendChild(optionButton(i, i, practice.choice === i, false,
        function (box) { box.textContent = text; },
        function () {
          practice.choice = i;
          $('p-said').textContent = t('practice_said', {x: LETTERS.charAt(i)});
          renderPractice();
        }));
    });
    if (!$('p-grid').children.length) {
      var b = document.createElement('button');
      b.type = 'button';
      b.textContent = '1';
      b.addEventListener('click', function () { opts.children[0].focus(); });
      $('p-grid').appendChild(b);
    }
    markGrid($('p-grid').firstChild, 0, practice.choice >= 0, practice.doubt);
  }
  $('p-doubt').addEventListener('change', function (ev) { practice.doubt = ev.target.checked; renderPractice(); });
  renderPractice();

  /* ---- the large-text switch: a setting of this phone, kept across candidates ---- */
  function textSize(big) {
    document.documentElement.className = big ? 'big' : '';
    $('big-text').setAttribute('aria-pressed', big ? 'true' : 'false');
  }
  textSize(load('tkd.text', '') === 'big');
  $('big-text').addEventListener('click', function () {
    var big = document.documentElement.className !== 'big';
    save('tkd.text', big ? 'big' : '');
    textSize(big);
  });

  /* ---- finishing ---- */
  $('finish').addEventListener('click', function () {
    var unanswered = 0, doubts = 0;
    for (var q = 0; q < exam.n; q++) {
      if (exam.answers[q] === undefined) unanswered++;
      if (exam.doubts[q]) doubts++;
    }
    $('confirm-unanswered').textContent = t('submit_unanswered', {n: unanswered});
    $('confirm-doubt').textContent = t('submit_doubt', {n: doubts});
    $('confirm').showModal();
  });
  $('confirm-no').addEventListener('click', function () { $('confirm').close(); });
  $('confirm-yes').addEventListener('click', function () {
    $('confirm').close();
    change({type: 'submit'});
    if (local.queue.some(function (c) { return c.type === 'submit'; })) submittingView();
  });

  // Offline, the submit waits in the queue like any change: say so, and keep the page open.
  function submittingView() {
    submitting = true;
    $('finished-title').textContent = t('submitting_title');
    $('finished-text').textContent = t('submitting_text');
    $('logout').hidden = true;
    show('v-finished');
  }

  var resultTimer = 0;
  function finished() {
    exam.status = 'submitted';
    submitting = false;
    $('timer').hidden = true;
    $('paused').hidden = true;
    $('finished-title').textContent = t('finished_title');
    $('finished-text').textContent = t('finished_text');
    $('logout').hidden = false;
    show('v-finished');
    if (local) {
      // Nothing above the last acknowledged seq can be applied any more; what was
      // acknowledged stays until `durable`. The questions leave this (maybe shared) computer.
      local.queue = local.queue.filter(function (c) { return c.seq <= exam.ackedSeq; });
      persist(); // without the view: nothing of the exam is shown again offline
      clearTimeout(questionsTimer);
      questionsTimer = 0;
      questions = {attempt: questions.attempt};
      forget(questionsKey());
    }
    indicator();
    var r = exam.result;
    // The result follows the submit by a moment where the exam releases it at once; if it
    // does not come, the committee announces it later.
    $('result-wait').hidden = !!r;
    if (!r) {
      $('result-wait').textContent = t('result_wait');
      clearTimeout(resultTimer);
      resultTimer = setTimeout(function () { $('result-wait').textContent = t('result_later'); }, 15000);
      return;
    }
    clearTimeout(resultTimer);
    var rows = $('result-rows');
    rows.textContent = '';
    r.sections.forEach(function (s) {
      var tr = document.createElement('tr');
      tr.innerHTML = '<th></th><td></td>';
      tr.firstChild.textContent = s.code + ' · ' + s.name;
      tr.lastChild.textContent = s.points + ' / ' + s.max_points +
        (s.pass_mark !== null && s.pass_mark !== undefined ? ' (' + t('pass_mark_short') + ' ' + s.pass_mark + ')' : '');
      rows.appendChild(tr);
    });
    var total = document.createElement('tr');
    total.innerHTML = '<th></th><td></td>';
    total.firstChild.textContent = t('total');
    total.lastChild.textContent = r.total + ' / ' + r.max_total +
      (r.total_pass_mark !== null && r.total_pass_mark !== undefined ? ' (' + t('pass_mark_short') + ' ' + r.total_pass_mark + ')' : '');
    rows.appendChild(total);
    $('result-verdict').textContent = r.passed ? t('passed') : t('failed');
    $('result-verdict').className = 'verdict ' + (r.passed ? 'ok' : 'bad');
    var reasons = $('result-reasons');
    reasons.textContent = '';
    ((LANG === 'en' ? r.reasons_en : r.reasons_id) || []).forEach(function (why) {
      var li = document.createElement('li'); li.textContent = why; reasons.appendChild(li);
    });
    $('slip-token').value = session.token;
    // The code breaks only between its groups, never inside one.
    var code = $('result-code');
    code.textContent = '';
    String(r.verify_code).split('-').forEach(function (group, i) {
      if (i) { code.appendChild(document.createTextNode('-')); code.appendChild(document.createElement('wbr')); }
      var span = document.createElement('span');
      span.textContent = group;
      code.appendChild(span);
    });
    code.href = $('verify-link').href = '/verify?code=' + encodeURIComponent(r.verify_code);
    $('verify-link').textContent = location.origin + '/verify';
    $('result').hidden = false;
  }

  /* ---- boot ---- */
  // The page shell for a reload without signal (sw.js). Browsers allow service workers on
  // HTTPS and on localhost only: elsewhere the page works as before, minus that reload.
  if (navigator.serviceWorker) navigator.serviceWorker.register('/sw.js').catch(function () {});
  if (session && session.token) start(); else show('v-login');
})();
