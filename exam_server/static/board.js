/* The scoreboard: polls its JSON and redraws (a static file: the CSP allows no inline script). */
(function () {
var root = document.getElementById("board-page");
var en = root.getAttribute("data-lang") === "en";
function t(id, e) { return en ? e : id; }
var url = root.getAttribute("data-url");
var pollMs = parseInt(root.getAttribute("data-poll-ms"), 10) || 5000;
var states = {absent: t("tidak hadir", "absent"), waiting: t("belum mulai", "not started"), running: t("mengerjakan", "working"),
  paused: t("dijeda", "paused"), submitted: t("selesai", "finished"), graded: t("selesai", "finished")};
function cell(row, text, cls) { var td = document.createElement("td"); td.textContent = text; if (cls) td.className = cls; row.appendChild(td); return td; }
function draw(data) {
  document.getElementById("title").textContent = t("Papan skor", "Scoreboard") + " · " + data.session;
  var head = document.querySelector("#board thead"), body = document.querySelector("#board tbody");
  var cols = ["#", t("Nama", "Name"), "NIK", t("Progres", "Progress")].concat(data.released ? data.sections.concat(["Total", "Status"]) : ["Status"]);
  head.textContent = ""; var hr = document.createElement("tr");
  cols.forEach(function (c) { var th = document.createElement("th"); th.textContent = c; hr.appendChild(th); });
  head.appendChild(hr);
  body.textContent = "";
  data.rows.forEach(function (r) {
    var tr = document.createElement("tr");
    cell(tr, r.rank === null ? "" : String(r.rank), "num");
    cell(tr, r.name); cell(tr, r.nik);
    var p = cell(tr, r.answered + "/" + r.questions + " ");
    var bar = document.createElement("span"); bar.className = "bar"; var fill = document.createElement("i");
    fill.style.width = (r.questions ? Math.round(100 * r.answered / r.questions) : 0) + "%"; bar.appendChild(fill); p.appendChild(bar);
    if (data.released) {
      data.sections.forEach(function (c) { cell(tr, r.sections && c in r.sections ? String(r.sections[c]) : "", "num"); });
      cell(tr, r.total === null ? "" : String(r.total), "num");
    }
    if (r.passed === null) { cell(tr, states[r.state] || r.state); }
    else { cell(tr, r.passed ? t("LULUS", "PASSED") : t("TIDAK LULUS", "NOT PASSED"), r.passed ? "passed" : "failed"); }
    body.appendChild(tr);
  });
  document.getElementById("status").textContent = t("Diperbarui ", "Updated ") + new Date(data.updated_at).toLocaleTimeString();
}
function poll() {
  fetch(url, {cache: "no-store"}).then(function (resp) {
    return resp.json().then(function (data) {
      if (resp.ok) { draw(data); }
      else { document.querySelector("#board tbody").textContent = ""; document.querySelector("#board thead").textContent = "";
             document.getElementById("status").textContent = data.error ? data.error.message : t("Papan skor tidak aktif.", "Scoreboard is off."); }
    });
  }).catch(function () {
    document.getElementById("status").textContent = t("Koneksi terputus; mencoba lagi…", "Connection lost; retrying…");
  }).then(function () { setTimeout(poll, pollMs); });
}
poll();
})();
