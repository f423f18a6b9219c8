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
    ['v-login', 'v-identity', 'v-waiting', 'v-exam', 'v-finished'].forEach(function (v) {
      $(v).hidden = v !== id;
    });
  }

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
  var exam = {
    n: 0, sections: [], answers: {}, doubts: {}, status: '', remainingMs: 0,
    deadlineAt: 0, ackedSeq: 0, current: 0, result: null
  };
  var submitting = false;
  var TAB = Math.random().toString(36).slice(2, 10); // this tab among the browser's tabs
  var elsewhere = false; // another tab of this browser holds the exam now
  var qsDropped = false; // the question cache gave its room to the queue
  var ws = null, ready = false, stopped = false, retries = 0, retryTimer = 0, pingTimer = 0, pongDue = 0;

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
      current: exam.current, status: exam.status, deadlineAt: exam.deadlineAt,
      remainingMs: exam.remainingMs, startsAt: exam.startsAt, ackedSeq: exam.ackedSeq
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
  function prefetchImages(msg) {
    // Pictures go into the HTTP cache now, so a question opened offline still shows them.
    var html = msg.stem + msg.options.map(function (o) { return o.html; }).join('');
    var re = /src="@@IMG@@\/([^"]+)"/g, m;
    while ((m = re.exec(html))) new Image().src = (msg.images_base || '') + m[1];
  }

  /* ---- login ---- */
  function loginError(message) {
    $('login-error').textContent = message;
    $('login-error').hidden = !message;
  }

  $('login-form').addEventListener('submit', function (ev) {
    ev.preventDefault();
    var body = {
      participant_no: $('f-number').value.trim(),
      password: $('f-password').value.trim(),
      lang: LANG
    };
    if ($('f-token').value.trim()) body.session_token = $('f-token').value.trim();
    $('login-btn').disabled = true;
    $('login-btn').textContent = t('logging_in');
    fetch('/api/v1/candidate/login', {
      method: 'POST', headers: {'Content-Type': 'application/json'}, body: JSON.stringify(body)
    }).then(function (resp) {
      return resp.json().then(function (data) { return {ok: resp.ok, data: data}; });
    }).then(function (r) {
      if (!r.ok) {
        var err = r.data.error || {};
        if (err.code === 'bad_session_token') { $('token-row').hidden = false; $('f-token').focus(); }
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
  });

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
    stopped = elsewhere = false;
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
    exam.deadlineAt = v.deadlineAt; exam.remainingMs = v.remainingMs; exam.startsAt = v.startsAt;
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

  function clock(iso) {
    var d = new Date(iso);
    if (isNaN(d)) return '';
    return (d.getHours() < 10 ? '0' : '') + d.getHours() + ':' + (d.getMinutes() < 10 ? '0' : '') + d.getMinutes();
  }

  function showIdentity() {
    var info = session.info, dl = $('identity');
    dl.textContent = '';
    [['name', info.candidate.name], ['participant_no', info.candidate.participant_no],
     ['nik', info.candidate.nik_masked], ['unit', info.candidate.unit],
     ['session', info.session.name + ', ' + clock(info.session.starts_at) + '–' + clock(info.session.ends_at)],
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

  function logout() {
    stopped = true;
    if (ws) ws.close();
    forget(questionsKey());
    if (!local || !local.queue.length) forget(localKey());
    forget(tabKey());
    forget('tkd.session');
    session = null;
    location.href = '/';
  }
  $('logout').addEventListener('click', logout);

  /* ---- the socket ---- */
  function connect() {
    if (stopped) return;
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
      if (pongDue && Date.now() > pongDue) { pongDue = 0; if (ws) ws.close(); return; }
      if (send({type: 'ping', t: Date.now()})) pongDue = Date.now() + 10000;
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
        persist();
        indicator();
        break;
      case 'durable':
        local.queue = local.queue.filter(function (c) { return c.seq > msg.seq; });
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

  function onState(st) {
    ready = true;
    retries = 0;
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
    local.nextSeq = Math.max(local.nextSeq, st.last_seq + 1, top + 1);
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
      stopped = true;
      $('notice').textContent = t('replaced');
      $('notice').hidden = false;
      renderControls();
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
    exam.deadlineAt = Date.now() + remaining;
    // Only the server's count moves the start; a message without one keeps the last.
    if (status === 'waiting' && typeof startsIn === 'number') exam.startsAt = Date.now() + startsIn;
    setStatus(status);
    persist();
  }

  function setStatus(status) {
    var before = exam.status;
    exam.status = status;
    $('paused').hidden = status !== 'paused';
    if (status === 'submitted') { finished(); return; }
    if (status === 'waiting') {
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

  function timeUp() { return exam.status === 'running' && exam.deadlineAt <= Date.now(); }

  function tick() {
    var left = exam.status === 'running' ? exam.deadlineAt - Date.now() : exam.remainingMs;
    $('timer').hidden = !exam.status || exam.status === 'submitted';
    // At zero the server closes the attempt (its sweeper, or the next change); until its
    // word arrives, nothing more can be answered here.
    $('timer').textContent = timeUp() ? t('time_up') : t('time_left') + ' ' + fmt(left);
    if (timeUp() && !$('finish').disabled) renderControls();
    if (exam.status === 'waiting') {
      var wait = exam.startsAt - Date.now();
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
    box.hidden = !local || elsewhere; // #other-tab says it
    box.className = 'conn';
    if (stopped && session) { box.textContent = t('replaced'); box.className += ' bad'; }
    else if (!ready) {
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
    $('q-stem').innerHTML = msg.stem.split('@@IMG@@/').join(msg.images_base || '');
    var multiple = msg.kind === 'multiple';
    var chosen = exam.answers[q];
    opts.setAttribute('role', multiple ? 'group' : 'radiogroup');
    msg.options.forEach(function (o, i) {
      var on = multiple ? (chosen || []).indexOf(o.id) >= 0 : chosen === o.id;
      var b = document.createElement('button');
      b.type = 'button';
      b.className = 'option' + (on ? ' on' : '');
      b.setAttribute('role', multiple ? 'checkbox' : 'radio');
      b.setAttribute('aria-checked', on ? 'true' : 'false');
      b.dataset.id = o.id;
      b.innerHTML = '<span class="letter">' + 'ABCDEFGHIJ'.charAt(i) + '</span><span class="text"></span>';
      b.querySelector('.text').innerHTML = o.html.split('@@IMG@@/').join(msg.images_base || '');
      b.addEventListener('click', function () { choose(o.id, multiple); });
      opts.appendChild(b);
    });
    renderControls();
  }

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
      var state = exam.doubts[q] ? 'dbt' : (exam.answers[q] !== undefined ? 'ans' : '');
      b.className = state + (q === exam.current ? ' cur' : '');
      b.setAttribute('aria-label', t('question') + ' ' + (q + 1) + (state === 'ans' ? ', ' + t('legend_answered') :
        state === 'dbt' ? ', ' + t('legend_doubt') : ', ' + t('legend_empty')));
      if (q === exam.current) b.setAttribute('aria-current', 'true'); else b.removeAttribute('aria-current');
    });
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
  document.addEventListener('keydown', function (ev) {
    if ($('v-exam').hidden || ev.target.tagName === 'INPUT') return;
    if (ev.key === 'ArrowRight') go(exam.current + 1);
    if (ev.key === 'ArrowLeft') go(exam.current - 1);
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
    if (!r) return;
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
    $('result-code').textContent = r.verify_code;
    $('result-code').href = '/verify?code=' + encodeURIComponent(r.verify_code);
    $('result').hidden = false;
  }

  /* ---- boot ---- */
  // The page shell for a reload without signal (sw.js). Browsers allow service workers on
  // HTTPS and on localhost only: elsewhere the page works as before, minus that reload.
  if (navigator.serviceWorker) navigator.serviceWorker.register('/sw.js').catch(function () {});
  if (session && session.token) start(); else show('v-login');
})();
