// The dashboard: hash routes over the JSON API. No framework, no build step.
"use strict";

const { esc, fmt } = Charts;
const main = document.getElementById("main");
const TOKEN_KEY = "monitor.token", BY_KEY = "monitor.by";

function toast(text) {
  const box = document.getElementById("toast");
  box.textContent = text;
  box.style.display = "block";
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => { box.style.display = "none"; }, 4000);
}

function headers() {
  const token = sessionStorage.getItem(TOKEN_KEY);
  return token ? { Authorization: `Bearer ${token}` } : {};
}

// Asks for the token once per browser session, when it is first needed.
function askToken(why) {
  const token = prompt(`${why}\nAPI token (api.token in the config; kept for this browser session):`);
  if (token) sessionStorage.setItem(TOKEN_KEY, token.trim());
  return Boolean(token);
}

async function getJSON(path) {
  let res = await fetch(path, { headers: headers() });
  if (res.status === 401 && askToken("Reading needs a token (api.read_token is set).")) {
    res = await fetch(path, { headers: headers() });
  }
  if (!res.ok) throw new Error(`${path}: ${res.status} ${(await res.json().catch(() => ({}))).detail || ""}`);
  return res.json();
}

async function act(alertId, action) {
  if (!sessionStorage.getItem(TOKEN_KEY) && !askToken(`To ${action} alert #${alertId}:`)) return;
  let by = sessionStorage.getItem(BY_KEY);
  if (!by) {
    by = (prompt("Your name (kept in the alert's history):") || "").trim();
    if (!by) return;
    sessionStorage.setItem(BY_KEY, by);
  }
  const res = await fetch(`/api/alerts/${alertId}/${action}`, {
    method: "POST",
    headers: { ...headers(), "Content-Type": "application/json" },
    body: JSON.stringify({ by }),
  });
  const body = await res.json().catch(() => ({}));
  if (res.status === 401) sessionStorage.removeItem(TOKEN_KEY);
  if (!res.ok) { toast(`alert #${alertId}: ${body.detail || res.status}`); return; }
  toast(`alert #${alertId} is now ${body.alert.state}`);
  route();
}

const badge = (text, cls) => `<span class="badge ${esc(cls || text)}">${esc(text)}</span>`;
const when = iso => iso ? esc(iso.replace("T", " ").replace(/:\d\d(\.\d+)?Z$/, "Z")) : "";

function modelCard(m) {
  const a = m.alerts || {};
  const last = m.last_scan;
  const items = (m.action_items || []).slice(0, 3).map(i => `<li>${esc(i)}</li>`).join("");
  return `<div class="card ${esc(m.health)}" data-model="${esc(m.name)}">
    <h3><a href="#/models/${encodeURIComponent(m.name)}">${esc(m.name)}</a> ${badge(m.health)}</h3>
    <div class="reason">${esc(m.reason)}</div>
    <div class="muted">alerts: ${a.open || 0} open, ${a.unacknowledged || 0} unacknowledged${a.oldest_unacknowledged_since ? `, oldest since ${when(a.oldest_unacknowledged_since)}` : ""}</div>
    ${m.maintenance ? `<div class="muted">maintenance until ${when(m.maintenance.ends_at)}: notifications held</div>` : ""}
    <div class="muted">last scan: ${last ? `<a href="#/scans/${last.id}">#${last.id}</a> ${when(last.window_end)} (${esc(last.status)})` : "none"} · next: ${when(m.next_scan)}</div>
    ${items ? `<ul class="items">${items}</ul>` : ""}
  </div>`;
}

function alertsTable(alerts) {
  if (!alerts.length) return '<p class="muted">No open alerts.</p>';
  const rows = alerts.map(a => `<tr data-alert="${a.id}">
    <td>#${a.id}</td><td>${esc(a.model)}</td>
    <td><a href="#/models/${encodeURIComponent(a.model)}/checks/${encodeURIComponent(a.check_id)}">${esc(a.check_id)}</a>${a.segment ? ` [${esc(a.segment)}]` : ""}</td>
    <td>${badge(a.severity)}</td><td class="state">${badge(a.state)}</td>
    <td class="num">${fmt(a.value)} / ${fmt(a.threshold)}</td>
    <td>${when(a.raised_at)}</td><td>${esc(a.acked_by || "")}</td>
    <td>${a.state === "acknowledged" ? `<button data-action="unack" data-id="${a.id}">Unacknowledge</button>` : `<button data-action="ack" data-id="${a.id}">Acknowledge</button>`}
        <button data-action="resolve" data-id="${a.id}">Resolve</button></td></tr>`).join("");
  return `<table id="alerts"><thead><tr><th>id</th><th>model</th><th>check</th><th>severity</th><th>state</th><th>value / threshold</th><th>raised</th><th>acked by</th><th></th></tr></thead><tbody>${rows}</tbody></table>`;
}

async function overview() {
  const [status, alerts] = await Promise.all([getJSON("/api/models"), getJSON("/api/alerts?state=open")]);
  document.getElementById("updated").textContent = `report ${status.generated_at}`;
  return `<h1>Models</h1><div class="cards">${status.models.map(modelCard).join("") || '<p class="muted">No models configured.</p>'}</div>
    <h2>Open alerts</h2>${alertsTable(alerts.alerts)}`;
}

async function alertsPage() {
  const alerts = await getJSON("/api/alerts?state=open");
  return `<h1>Open alerts</h1>${alertsTable(alerts.alerts)}`;
}

function performanceTable(perf) {
  const rows = Object.entries(perf || {}).map(([name, p]) => `<tr class="${p.passed === false ? "fail" : ""}">
    <td>${esc(name)}</td><td class="num">${fmt(p.value)}</td><td class="num">${fmt(p.baseline)}</td><td class="num">${fmt(p.threshold)}</td><td>${p.passed === null ? "" : p.passed ? "pass" : "FAIL"}</td></tr>`).join("");
  return rows ? `<table><thead><tr><th>metric</th><th>current</th><th>baseline (reference)</th><th>threshold</th><th></th></tr></thead><tbody>${rows}</tbody></table>` : '<p class="muted">no performance yet (labels pending?)</p>';
}

function driftTable(drift) {
  if (!drift) return '<p class="muted">no scan yet</p>';
  const rows = drift.columns.slice().sort((a, b) => (b.drifted === true) - (a.drifted === true)).map(c => `<tr class="${c.drifted ? "fail" : ""}">
    <td>${esc(c.column)}</td><td>${esc(c.method)}</td><td class="num">${fmt(c.score)}</td><td>${c.drifted === null ? "insufficient data" : c.drifted ? "drifted" : "no"}</td></tr>`).join("");
  return `<p>data drift: <b>${drift.detected ? "yes" : drift.detected === false ? "no" : "n/a"}</b> (${fmt(drift.share)} of features)</p>
    <table><thead><tr><th>feature</th><th>method</th><th>score</th><th>drift</th></tr></thead><tbody>${rows}</tbody></table>`;
}

async function modelPage(name) {
  const m = await getJSON(`/api/models/${encodeURIComponent(name)}`);
  const scans = (await getJSON(`/api/models/${encodeURIComponent(name)}/scans?limit=60`)).scans;
  const ops = m.operations || {};
  const md = m.model_drift || {};
  const scanRows = scans.map(s => `<tr><td><a href="#/scans/${s.id}">#${s.id}</a></td><td>${when(s.window_end)}</td><td>${badge(s.status, s.status === "failed" || s.status === "error" ? "red" : s.status === "ok" ? "green" : "yellow")}</td><td class="num">${s.rows.live ?? ""}</td><td class="num">${s.rows.labelled ?? ""}</td></tr>`).join("");
  let charts = "";
  if (m.last_scan) {
    const scan = await getJSON(`/api/scans/${m.last_scan.id}`);
    const ids = scan.results.filter(r => !r.segment && r.value !== null).map(r => r.check_id);
    const histories = await Promise.all(ids.map(id => getJSON(`/api/models/${encodeURIComponent(name)}/checks/${encodeURIComponent(id)}/history`)));
    charts = histories.map(h => `<div class="chart" data-check="${esc(h.check_id)}"><h4><a href="#/models/${encodeURIComponent(name)}/checks/${encodeURIComponent(h.check_id)}">${esc(h.check_id)}</a></h4>${Charts.checkChart(h)}</div>`).join("");
  }
  return `<h1>${esc(m.name)} ${badge(m.health)}</h1>
    <p>${esc(m.reason)}</p>
    ${m.maintenance ? `<p class="maintenance">Maintenance until ${when(m.maintenance.ends_at)} by ${esc(m.maintenance.created_by)}${m.maintenance.reason ? `: ${esc(m.maintenance.reason)}` : ""}. Scans run and are stored; notifications are held until it ends.</p>` : ""}
    <h2>Action items</h2><ul class="items">${(m.action_items || []).map(i => `<li>${esc(i)}</li>`).join("") || "<li>none</li>"}</ul>
    <h2>Performance vs baseline</h2>${performanceTable(m.performance)}
    <p>model drift: <b>${md.detected ? "yes" : md.detected === false ? "no" : "n/a"}</b> ${Object.entries(md.degradation || {}).map(([k, v]) => `${esc(k)} ${v > 0 ? "+" : ""}${fmt(v)}`).join(", ")}</p>
    <h2>Operations</h2><div class="kv"><span>latency p50</span><span>${fmt(ops.latency_p50)} ms</span><span>latency p99</span><span>${fmt(ops.latency_p99)} ms</span><span>throughput</span><span>${fmt(ops.throughput_per_s)} rows/s</span><span>rows</span><span>${fmt(ops.row_count)}</span></div>
    <h2>Data drift</h2>${driftTable(m.data_drift)}
    <h2>Checks over time</h2><p class="legend"><span>── value</span><span>- - threshold</span><span style="color:#c62828">● failed</span><span style="background:#fecaca">&nbsp;alert&nbsp;</span></p><div class="charts">${charts}</div>
    <h2>Scans</h2><table><thead><tr><th>scan</th><th>window end</th><th>status</th><th>live rows</th><th>labelled</th></tr></thead><tbody>${scanRows}</tbody></table>`;
}

async function checkPage(name, checkId) {
  const h = await getJSON(`/api/models/${encodeURIComponent(name)}/checks/${encodeURIComponent(checkId)}/history`);
  const rows = h.points.slice().reverse().map(p => `<tr class="${p.passed === false ? "fail" : ""}"><td><a href="#/scans/${p.scan_id}">#${p.scan_id}</a></td><td>${when(p.window_end)}</td><td class="num">${fmt(p.value)}</td><td class="num">${fmt(p.threshold)}</td><td>${p.passed === null ? "n/a" : p.passed ? "pass" : "FAIL"}</td></tr>`).join("");
  return `<h1><a href="#/models/${encodeURIComponent(name)}">${esc(name)}</a> / ${esc(checkId)}</h1>
    <div class="chart">${Charts.checkChart(h)}</div>
    <h2>Values</h2><table><thead><tr><th>scan</th><th>window end</th><th>value</th><th>threshold</th><th></th></tr></thead><tbody>${rows}</tbody></table>`;
}

async function scanPage(id) {
  const s = await getJSON(`/api/scans/${id}`);
  const rows = s.results.map(r => `<tr class="${r.passed === false ? "fail" : ""}"><td>${esc(r.check_id)}</td><td>${esc(r.segment || "")}</td><td>${esc(r.method)}</td><td class="num">${fmt(r.value)}</td><td class="num">${fmt(r.threshold)}</td><td>${r.passed === null ? esc(r.reason || "n/a") : r.passed ? "pass" : "FAIL"}</td><td>${esc(r.severity || "")}</td></tr>`).join("");
  return `<h1>Scan #${s.id}: <a href="#/models/${encodeURIComponent(s.model)}">${esc(s.model)}</a> ${badge(s.status, s.status === "ok" ? "green" : s.status === "no_data" ? "yellow" : "red")}</h1>
    <div class="kv"><span>live window</span><span>${when(s.window_start)} .. ${when(s.window_end)}</span>
    <span>reference</span><span>${esc(JSON.stringify(s.reference))}</span>
    <span>rows</span><span>reference ${s.rows.reference ?? "n/a"}, live ${s.rows.live ?? "n/a"}, labelled ${s.rows.labelled ?? "n/a"}</span>
    <span>model versions</span><span>${esc((s.model_versions || []).join(", ") || "n/a")}</span>
    <span>config</span><span>${esc(s.config_hash)}</span>
    ${s.error ? `<span>error</span><span class="error">${esc(s.error)}</span>` : ""}</div>
    <p><button id="report" data-scan="${s.id}">Drill-down report (Evidently)</button> <span class="muted">re-reads a bounded sample of this scan's windows; takes a few seconds</span></p>
    <h2>Results</h2><table><thead><tr><th>check</th><th>segment</th><th>method</th><th>value</th><th>threshold</th><th>verdict</th><th>severity</th></tr></thead><tbody>${rows}</tbody></table>`;
}

// The report needs the read token when one is set, so it is fetched and opened as a blob.
async function openReport(scanId) {
  toast("building the report…");
  const res = await fetch(`/reports/${scanId}.html`, { headers: headers() });
  if (!res.ok) { toast(`report: ${(await res.json().catch(() => ({}))).detail || res.status}`); return; }
  const url = URL.createObjectURL(await res.blob());
  window.open(url, "_blank") || (location.href = url);
}

const ROUTES = [
  [/^#?\/?$/, overview],
  [/^#\/alerts$/, alertsPage],
  [/^#\/models\/([^/]+)\/checks\/([^/]+)$/, (m, c) => checkPage(decodeURIComponent(m), decodeURIComponent(c))],
  [/^#\/models\/([^/]+)$/, m => modelPage(decodeURIComponent(m))],
  [/^#\/scans\/(\d+)$/, scanPage],
];

async function route() {
  const hash = location.hash || "#/";
  for (const [pattern, page] of ROUTES) {
    const match = hash.match(pattern);
    if (!match) continue;
    try {
      main.innerHTML = await page(...match.slice(1));
    } catch (err) {
      main.innerHTML = `<p class="error">${esc(err.message)}</p>`;
    }
    return;
  }
  main.innerHTML = '<p class="error">no such page</p>';
}

document.addEventListener("click", event => {
  const button = event.target.closest("button");
  if (!button) return;
  if (button.dataset.action) act(button.dataset.id, button.dataset.action);
  if (button.id === "report") openReport(button.dataset.scan);
});
window.addEventListener("hashchange", route);
route();
