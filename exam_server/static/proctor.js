/* The proctor's live room (docs/proctor.md): rows drawn here from JSON, kept current by
   server-sent events, without reloading the page. Only the list is redrawn, so a notice
   or reason half typed in the form below survives every update. No build step. */
(function () {
  'use strict';
  var room = document.getElementById('room');
  if (!room) { return; }
  var base = room.getAttribute('data-base');
  var L = JSON.parse(room.getAttribute('data-labels'));
  var en = L.lang === 'en';
  var rows = {};          // candidate id -> row as the server sent it
  var picked = {};        // candidate id -> true
  var offset = 0;         // server clock minus ours
  var head = { counts: {}, alarm: null };
  var onlyStatus = '';
  var limit = 200;        // rows drawn at once; "show more" draws more
  var $ = function (id) { return document.getElementById(id); };

  function esc(s) {
    return String(s == null ? '' : s).replace(/[&<>"']/g, function (c) {
      return { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c];
    });
  }
  function now() { return Date.now() + offset; }
  function clock(ms) {
    var s = Math.max(0, Math.floor(ms / 1000));
    var h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), x = s % 60;
    return (h ? h + ':' + (m < 10 ? '0' : '') : '') + m + ':' + (x < 10 ? '0' : '') + x;
  }
  function leftOf(r) { return r.deadline_ms ? Math.max(0, r.deadline_ms - now()) : r.left_ms; }
  function statusText(r) {
    if (r.st === 'disconnected' && r.since_ms) {
      return L.since[0] + ' ' + Math.max(0, Math.round((now() - r.since_ms) / 1000)) + ' ' + L.since[1];
    }
    var pair = L.statuses[r.st] || [r.st, r.st];
    return pair[en ? 1 : 0];
  }
  var ORDER = { disconnected: 0, paused: 1, running: 2, waiting: 3, absent: 4, submitted: 5 };

  function visible() {
    var q = $('q').value.trim().toLowerCase();
    var problems = $('problems').checked;
    var list = [];
    Object.keys(rows).forEach(function (id) {
      var r = rows[id];
      if (problems && !r.flags.length) { return; }
      if (onlyStatus === 'problems' && !r.flags.length) { return; }
      if (onlyStatus && onlyStatus !== 'problems' && r.st !== onlyStatus) { return; }
      if (q && (r.name + ' ' + r.no + ' ' + (r.seat || '') + ' ' + r.unit).toLowerCase().indexOf(q) < 0) { return; }
      list.push(r);
    });
    var key = $('sort').value;
    list.sort(function (a, b) {
      var d = 0;
      if (key === 'name') { d = a.name.localeCompare(b.name); }
      else if (key === 'no') { d = a.no.localeCompare(b.no); }
      else if (key === 'status') { d = (ORDER[a.st] - ORDER[b.st]) || (b.flags.length - a.flags.length); }
      else if (key === 'left') { d = leftOf(a) - leftOf(b); }
      else if (key === 'contact') { d = (a.seen_ms || Infinity) - (b.seen_ms || Infinity); }
      return d || ((a.seat || 1e9) - (b.seat || 1e9)) || a.no.localeCompare(b.no);
    });
    return list;
  }

  function rowHtml(r) {
    var meta = [];
    if (r.device) { meta.push(esc(r.device)); }
    if (r.devices) { meta.push(L.devices + ': ' + r.devices); }
    if (r.hidden) { meta.push(L.hidden[0] + ' ' + r.hidden + ' ' + L.hidden[1]); }
    if (r.hidden_now) { meta.push('<b>' + L.now_hidden + '</b>'); }
    if (r.seen_ms && r.st !== 'absent') {
      meta.push(L.contact[0] + ' ' + Math.max(0, Math.round((now() - r.seen_ms) / 1000)) + ' ' + L.contact[1]);
    }
    var flags = r.flags.filter(function (f) { return f !== 'disconnected'; })
      .map(function (f) { return '<span class="flag">' + esc(L.flags[f] || f) + '</span>'; }).join(' ');
    var time = r.st === 'absent' ? '' : '<span class="left" data-id="' + r.id + '">' + clock(leftOf(r)) + '</span> ' + L.left;
    return '<li class="row st-' + r.st + (r.flags.length ? ' problem' : '') + '" data-id="' + r.id + '">' +
      '<label class="pick"><input type="checkbox" data-id="' + r.id + '"' + (picked[r.id] ? ' checked' : '') +
      ' aria-label="' + esc(r.name) + '"></label>' +
      '<div class="person"><b>' + esc(r.name) + '</b> <span class="no">' + esc(r.no) + '</span>' +
      (r.seat ? ' <span class="seat">' + L.seat + ' ' + r.seat + '</span>' : '') +
      (r.unit ? ' <span class="unit">' + esc(r.unit) + '</span>' : '') + '</div>' +
      '<div class="state"><span class="badge st-' + r.st + '">' + esc(statusText(r)) + '</span> ' +
      (r.st === 'absent' ? '' : r.answered + '/' + r.total + ' ' + L.answered + ' · ') + time + '</div>' +
      (meta.length ? '<div class="meta">' + meta.join(' · ') + '</div>' : '') +
      (flags ? '<div class="flags">' + flags + '</div>' : '') + '</li>';
  }

  function draw() {
    var list = visible();
    var total = Object.keys(rows).length;
    $('rows').innerHTML = list.length ? list.slice(0, limit).map(rowHtml).join('') :
      '<li class="none">' + L.none + '</li>';
    $('shown').textContent = Math.min(list.length, limit) + ' ' + L.shown[0] + ' ' + L.shown[1] + ' ' + total;
    $('more').hidden = list.length <= limit;
    $('more').textContent = L.more;
    Object.keys(head.counts).forEach(function (k) {
      var el = $('n-' + k);
      if (el) { el.textContent = head.counts[k]; }
    });
    drawAlarm();
    drawPicked();
  }

  function drawAlarm() {
    var a = head.alarm;
    $('alarm').hidden = !a;
    if (!a) { return; }
    $('alarm-count').textContent = a.count;
    $('alarm-text').textContent = L.alarm[0];
    $('alarm-ids').value = a.ids.join(',');
    $('alarm-button').textContent = L.alarm[1] + ' (' + a.count + ')';
  }

  function drawPicked() {
    var ids = Object.keys(picked);
    $('picked').textContent = ids.length;
    $('picked-bar').textContent = ids.length;
    $('ids').value = ids.join(',');
  }

  function tick() {  // clocks and "for N seconds" move every second without a redraw
    var spans = document.querySelectorAll('#rows .left');
    for (var i = 0; i < spans.length; i++) {
      var r = rows[spans[i].getAttribute('data-id')];
      if (r) { spans[i].textContent = clock(leftOf(r)); }
    }
    var badges = document.querySelectorAll('#rows .row.st-disconnected');
    for (var j = 0; j < badges.length; j++) {
      var row = rows[badges[j].getAttribute('data-id')];
      var b = badges[j].querySelector('.badge');
      if (row && b) { b.textContent = statusText(row); }
    }
  }

  function take(data) {
    offset = data.now_ms - Date.now();
    if (data.full) { rows = {}; }
    data.rows.forEach(function (r) { rows[r.id] = r; });
    head = { counts: data.counts, alarm: data.alarm };
    draw();
  }

  function connect() {
    var conn = $('conn');
    if (!window.EventSource) {  // old browsers: poll the same JSON
      var poll = function () {
        fetch(base + '/data', { credentials: 'same-origin' }).then(function (r) { return r.json(); })
          .then(function (d) { take(d); conn.textContent = L.live[0]; }, function () { conn.textContent = L.live[1]; });
      };
      poll(); setInterval(poll, 3000); return;
    }
    var source = new EventSource(base + '/live');
    source.addEventListener('room', function (ev) {
      take(JSON.parse(ev.data));
      conn.textContent = L.live[0];
      conn.className = 'conn ok';
    });
    source.onerror = function () { conn.textContent = L.live[1]; conn.className = 'conn down'; };
  }

  $('rows').addEventListener('change', function (ev) {
    var id = ev.target.getAttribute('data-id');
    if (!id) { return; }
    if (ev.target.checked) { picked[id] = true; } else { delete picked[id]; }
    drawPicked();
  });
  $('pick-all').addEventListener('change', function (ev) {
    visible().slice(0, limit).forEach(function (r) {
      if (ev.target.checked) { picked[r.id] = true; } else { delete picked[r.id]; }
    });
    draw();
  });
  ['q', 'sort', 'problems'].forEach(function (id) {
    $(id).addEventListener(id === 'q' ? 'input' : 'change', function () { limit = 200; draw(); });
  });
  $('more').addEventListener('click', function () { limit += 200; draw(); });
  Array.prototype.forEach.call(document.querySelectorAll('.count'), function (btn) {
    btn.addEventListener('click', function () {
      var st = btn.getAttribute('data-st');
      onlyStatus = onlyStatus === st ? '' : st;
      Array.prototype.forEach.call(document.querySelectorAll('.count'), function (b) {
        b.setAttribute('aria-pressed', String(b.getAttribute('data-st') === onlyStatus));
      });
      draw();
    });
  });

  // Actions are sent without leaving the page; the server checks everything again.
  Array.prototype.forEach.call(document.querySelectorAll('form.act'), function (form) {
    form.addEventListener('submit', function (ev) {
      ev.preventDefault();
      var out = $('result');
      var body = new URLSearchParams(new FormData(form));
      fetch(form.getAttribute('action'), {  // not form.action: a field is named "action"
        method: 'POST', body: body, credentials: 'same-origin',
        headers: { 'Accept': 'application/json' }
      }).then(function (r) { return r.json(); }).then(function (d) {
        out.textContent = d.message;
        out.className = d.ok ? 'flash' : 'error';
        if (d.ok) {
          var confirm = form.querySelector('[name=confirm]');
          if (confirm) { confirm.checked = false; }
          if (form.id === 'action-form' && $('action').value === 'notice') { $('message').value = ''; }
        }
      }, function () { out.textContent = L.live[1]; out.className = 'error'; });
    });
  });

  connect();
  setInterval(tick, 1000);
})();
