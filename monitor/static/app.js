// The dashboard: hash routes over the JSON API, charts by uPlot. No framework, no build step.
"use strict";

const { esc, fmt } = Charts;
const main = document.getElementById("main");
const TOKEN_KEY = "monitor.token", BY_KEY = "monitor.by";
// Seconds between polls of /api/models; `/?refresh=5` polls faster (a wall screen, a test).
const REFRESH_S = Math.max(1, Number(new URLSearchParams(location.search).get("refresh")) || 30);
const live = { updated: null, signature: null, shown: null, busy: false };
let pendingCharts = [];

function toast(text) {
  const box = document.getElementById("toast");
  box.textContent = text;
  box.style.display = "block";
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => { box.style.display = "none"; }, 5000);
}

function headers() {
  const token = sessionStorage.getItem(TOKEN_KEY);
  return token ? { Authorization: `Bearer ${token}` } : {};
}

// The token (and the name, for actions) come from a form in a dialog, never from prompt():
// kept in the tab's session storage, gone when it closes.
function askCredentials(why, needName) {
  const dialog = document.getElementById("auth");
  const form = dialog.querySelector("form");
  form.reset();
  document.getElementById("auth-why").textContent = why;
  const tokenField = document.getElementById("auth-token"), byField = document.getElementById("auth-by");
  const hasToken = Boolean(sessionStorage.getItem(TOKEN_KEY));
  tokenField.closest("label").hidden = hasToken;
  tokenField.required = !hasToken;
  byField.closest("label").hidden = !needName;
  byField.required = needName;
  byField.value = sessionStorage.getItem(BY_KEY) || "";
  return new Promise(resolve => {
    dialog.addEventListener("close", () => {
      if (dialog.returnValue !== "ok") { resolve(false); return; }
      if (!hasToken) {
        sessionStorage.setItem(TOKEN_KEY, tokenField.value.trim());
        // Lets /reports/ID.html open as a plain link when reads need a token (reports only).
        document.cookie = `monitor_read=${encodeURIComponent(tokenField.value.trim())}; path=/reports; SameSite=Strict`;
      }
      if (needName) sessionStorage.setItem(BY_KEY, byField.value.trim());
      resolve(true);
    }, { once: true });
    dialog.showModal();
    (hasToken ? byField : tokenField).focus();
  });
}

async function getJSON(path) {
  let res = await fetch(path, { headers: headers() });
  if (res.status === 401) {
    sessionStorage.removeItem(TOKEN_KEY);
    if (await askCredentials("Reading needs a token (api.read_token is set).", false)) res = await fetch(path, { headers: headers() });
  }
  if (!res.ok) throw new Error(`${path}: ${res.status} ${(await res.json().catch(() => ({}))).detail || ""}`);
  return res.json();
}

// POSTs a write as the person of this tab; asks for the token and name first when it has none.
async function post(path, why, extra) {
  if (!sessionStorage.getItem(TOKEN_KEY) || !sessionStorage.getItem(BY_KEY)) {
    if (!(await askCredentials(why, true))) return null;
  }
  const res = await fetch(path, {
    method: "POST",
    headers: { ...headers(), "Content-Type": "application/json" },
    body: JSON.stringify({ by: sessionStorage.getItem(BY_KEY), ...extra }),
  });
  const body = await res.json().catch(() => ({}));
  if (res.status === 401) sessionStorage.removeItem(TOKEN_KEY);
  if (!res.ok) { toast(`${why} ${body.detail || res.status}`); return null; }
  return body;
}

async function act(alertId, action, extra = {}) {
  const body = await post(`/api/alerts/${alertId}/${action}`, `To ${action} alert #${alertId}:`, extra);
  if (!body) return;
  toast(`alert #${alertId} is now ${body.alert.state}`);
  await route();
}

async function recordRetraining(model, data) {
  const at = data.at ? new Date(`${data.at}Z`).toISOString() : null;
  const body = await post(`/api/models/${enc(model)}/retrainings`, `To record a retraining of ${model}:`, { version: data.version || null, note: data.note || null, at });
  if (!body) return;
  toast(`recorded: ${model} retrained${body.version ? ` (${body.version})` : ""}`);
  await route();
}

const retrainingForm = name => `<details class="retrain"><summary>Record a retraining</summary>
  <form id="retraining-form" data-model="${esc(name)}">
    <label class="control">version <input name="version" maxlength="200" placeholder="e.g. ${esc(name)}-2026.12"></label>
    <label class="control">serving since (UTC) <input name="at" type="datetime-local"></label>
    <label class="control">note <input name="note" maxlength="2000"></label>
    <button type="submit">Record</button></form></details>`;

// --- small pieces --------------------------------------------------------------------------

const badge = (text, cls) => `<span class="badge ${esc(cls || text)}">${esc(text)}</span>`;
const stateBadge = a => badge(a.state, a.state === "firing" ? `firing ${a.severity}` : a.state);
const when = iso => (iso ? esc(iso.replace("T", " ").replace(/:\d\d(\.\d+)?Z$/, "Z")) : "");
const enc = encodeURIComponent;
const modelHref = (name, query = "") => `#/models/${enc(name)}${query}`;
const checkHref = (model, check, segment) => `#/models/${enc(model)}/checks/${enc(check)}${segment ? `?segment=${enc(segment)}` : ""}`;
const pct = v => (v === null || v === undefined ? "" : `${v > 0 ? "+" : ""}${v.toFixed(1)}%`);
// A change is worse when it goes against the metric's direction (mae down is better).
const trend = p => (!p.change_percent ? "" : (p.change_percent > 0) === (p.higher_is_better !== false) ? "better" : "worse");
const yesNo = v => (v === true ? "yes" : v === false ? "no" : "n/a");

function age(iso) {
  const s = Math.max(0, (Date.now() - Date.parse(iso)) / 1000);
  if (s < 3600) return `${Math.floor(s / 60)} min`;
  if (s < 86400 * 2) return `${Math.floor(s / 3600)} h`;
  return `${Math.floor(s / 86400)} d`;
}

function throughput(t) {
  return t ? `${fmt(+t.value.toPrecision(3))} rows/${t.unit === "hour" ? "h" : t.unit}` : "n/a";
}

function parseHash() {
  const [path, query] = (location.hash || "#/").split("?");
  return { path, params: new URLSearchParams(query || "") };
}

function setParams(update) {
  const { path, params } = parseHash();
  for (const [k, v] of Object.entries(update)) (v ? params.set(k, v) : params.delete(k));
  const query = params.toString();
  location.hash = `${path.slice(1)}${query ? `?${query}` : ""}`;
}

// The chosen time range as [from, to] in ms: 7d, 30d (default), all, or custom from/to dates.
function timeRange(params) {
  const range = params.get("range") || "30d";
  if (range === "custom") {
    const from = Date.parse(params.get("from") || ""), to = Date.parse(params.get("to") || "");
    return [isNaN(from) ? -Infinity : from, isNaN(to) ? Infinity : to + 86400e3];
  }
  const days = { "7d": 7, "30d": 30 }[range];
  return days ? [Date.now() - days * 86400e3, Infinity] : [-Infinity, Infinity];
}

const inRange = (range, iso) => { const t = Date.parse(iso); return t >= range[0] && t < range[1]; };

function rangeControl(params) {
  const range = params.get("range") || "30d";
  const option = v => `<option value="${v}"${v === range ? " selected" : ""}>${v === "all" ? "all" : v === "custom" ? "custom…" : `last ${v}`}</option>`;
  const custom = range === "custom" ? ` <input type="date" id="range-from" value="${esc(params.get("from") || "")}" aria-label="from"> – <input type="date" id="range-to" value="${esc(params.get("to") || "")}" aria-label="to">` : "";
  return `<label class="control">time range <select id="range">${["7d", "30d", "all", "custom"].map(option).join("")}</select></label>${custom}`;
}

// caption: HTML between the title and the plot.
function chartBox(key, title, href, draw, attrs = "", cls = "chart", caption = "") {
  const id = `chart-${pendingCharts.length}`;
  pendingCharts.push({ id, draw });
  return `<div class="${cls}" ${attrs} data-key="${esc(key)}"><h4>${href ? `<a href="${href}">${esc(title)}</a>` : esc(title)}</h4>${caption}<div class="plot" id="${id}"></div></div>`;
}

const LEGEND = `<p class="legend"><span><i class="sw value"></i>value</span><span><i class="sw dash critical"></i>critical level</span><span><i class="sw dash warning"></i>warning level</span><span><i class="sw dot"></i>failed</span><span><i class="sw area critical"></i>critical alert</span><span><i class="sw area warning"></i>warning alert</span></p>`;

// --- action items: buttons, not CLI commands ------------------------------------------------

function actionItem(m, item) {
  if (item.kind === "alerts") {
    const a = m.alerts;
    return `<li data-kind="alerts">${a.unacknowledged} unacknowledged alert(s), the oldest since ${when(a.oldest_unacknowledged_since)} <a class="button" href="#/alerts?model=${enc(m.name)}&state=open">Review alerts</a></li>`;
  }
  if (item.kind === "no_scan") return `<li data-kind="no_scan">No scan stored yet: the first runs at ${when(m.next_scan)}</li>`;
  if (item.kind !== "check") return `<li data-kind="${esc(item.kind)}">${esc(item.text)}</li>`;
  const buttons = [`<a class="button" href="${checkHref(m.name, item.check_id, item.segment)}">Open chart</a>`];
  if (item.alert_id && item.alert_state !== "acknowledged") buttons.push(`<button data-action="ack" data-id="${item.alert_id}">Acknowledge #${item.alert_id}</button>`);
  else if (item.alert_id) buttons.push(`<a class="button" href="#/alerts/${item.alert_id}">Alert #${item.alert_id} (acknowledged)</a>`);
  return `<li data-kind="check" data-check="${esc(item.check_id)}">${badge(item.severity || "info")} ${esc(item.text)} ${buttons.join(" ")}</li>`;
}

const actionList = m => `<ul class="items actions">${(m.actions || []).map(i => actionItem(m, i)).join("") || "<li>none</li>"}</ul>`;

// --- the report layout (home cards and the model page) -------------------------------------

// The performance metric a model is judged by: its first thresholded one, else the first.
const headlineMetric = m => Object.entries(m.performance || {}).find(([, p]) => p.threshold !== null) || Object.entries(m.performance || {})[0];

function headline(m) {
  const perf = headlineMetric(m);
  if (!perf) return "n/a";
  const [name, p] = perf;
  return `${esc(name)} ${fmt(p.value)} vs ${fmt(p.baseline)} <b class="change ${trend(p)}">${pct(p.change_percent)}</b>`;
}

function modelDriftText(m) {
  const md = m.model_drift;
  if (!md) return "n/a";
  const name = (headlineMetric(m) || [])[0];
  const change = name === undefined ? undefined : md.degradation_percent[name];
  return `${yesNo(md.detected)}${change === undefined ? "" : ` (${esc(name)} ${pct(change)})`}`;
}

function dataDriftText(dd) {
  if (!dd) return "n/a";
  const drifted = dd.columns.filter(c => c.drifted).map(c => c.column);
  return `${yesNo(dd.detected)}${drifted.length ? `: ${esc(drifted.join(", "))}` : ""}`;
}

function retrainingText(r) {
  return r ? `${when(r.retrained_at)}${r.version ? ` (${esc(r.version)})` : ""}` : "none recorded";
}

function reportItems(m) {
  const ops = m.operations || {};
  const items = [
    ["health", `${badge(m.health)} ${esc(m.reason)}`],
    ["last-retraining", retrainingText(m.last_retraining)],
    ["performance", headline(m)],
    ["model-drift", modelDriftText(m)],
    ["data-drift", dataDriftText(m.data_drift)],
    ["latency", `p50 ${fmt(ops.latency_p50 ?? null)} ms · p99 ${fmt(ops.latency_p99 ?? null)} ms`],
    ["throughput", throughput(m.throughput)],
    ["rows", m.last_scan ? `live ${fmt(m.last_scan.rows.live)} · labelled ${fmt(m.last_scan.rows.labelled)}` : "n/a"],
    ["next-run", when(m.next_scan)],
    ["next-retraining", m.next_retraining ? when(m.next_retraining) : "not scheduled"],
  ];
  const label = { "last-retraining": "last retraining", "model-drift": "model drift", "data-drift": "data drift", "next-run": "next run", "next-retraining": "next retraining" };
  return `<dl class="report">${items.map(([k, v]) => `<div data-item="${k}"><dt>${label[k] || k}</dt><dd>${v}</dd></div>`).join("")}</dl>`;
}

function modelCard(m) {
  const a = m.alerts || {};
  const last = m.last_scan;
  return `<div class="card ${esc(m.health)}" data-model="${esc(m.name)}">
    <h3><a href="${modelHref(m.name)}">${esc(m.name)}</a> ${badge(m.health)}</h3>
    ${reportItems(m)}
    ${m.maintenance ? `<div class="muted">maintenance until ${when(m.maintenance.ends_at)}: notifications held</div>` : ""}
    <div class="muted">alerts: ${a.open || 0} open, ${a.unacknowledged || 0} unacknowledged · last scan: ${last ? `<a href="#/scans/${last.id}">#${last.id}</a> ${when(last.window_end)} (${esc(last.status)})` : "none"}</div>
    ${(m.actions || []).length ? `<ul class="items actions">${m.actions.slice(0, 3).map(i => actionItem(m, i)).join("")}</ul>` : ""}
  </div>`;
}

// --- alerts --------------------------------------------------------------------------------

function alertButtons(a) {
  if (a.state === "resolved") return "";
  const ack = a.state === "acknowledged" ? `<button data-action="unack" data-id="${a.id}">Unacknowledge</button>` : `<button data-action="ack" data-id="${a.id}">Acknowledge</button>`;
  return `${ack} <a class="button" href="#/alerts/${a.id}">Snooze / resolve…</a>`;
}

function alertsTable(alerts, empty = "No open alerts.") {
  if (!alerts.length) return `<p class="muted">${empty}</p>`;
  const rows = alerts.map(a => `<tr data-alert="${a.id}" class="sev-${esc(a.severity)}">
    <td><a href="#/alerts/${a.id}">#${a.id}</a></td><td><a href="${modelHref(a.model)}">${esc(a.model)}</a></td>
    <td><a href="${checkHref(a.model, a.check_id, a.segment)}">${esc(a.check_id)}</a>${a.segment ? ` [${esc(a.segment)}]` : ""}</td>
    <td>${badge(a.severity)}</td><td class="state">${stateBadge(a)}${a.snoozed_until && a.state !== "resolved" ? ` <span class="muted snoozed" title="${esc(a.snoozed_until)}">snoozed until ${when(a.snoozed_until)}</span>` : ""}</td>
    <td class="num">${fmt(a.value)} / ${fmt(a.threshold)}</td>
    <td title="${esc(a.raised_at)}">${age(a.raised_at)}</td><td>${esc(a.acked_by || a.resolved_by || "")}${a.resolution ? ` (${esc(a.resolution)})` : ""}</td>
    <td>${alertButtons(a)}</td></tr>`).join("");
  return `<table id="alerts"><thead><tr><th>id</th><th>model</th><th>check</th><th>severity</th><th>state</th><th>value / threshold</th><th>age</th><th>by</th><th></th></tr></thead><tbody>${rows}</tbody></table>`;
}

async function alertsPage(params) {
  const state = params.get("state") || "open", model = params.get("model") || "", severity = params.get("severity") || "", check = params.get("check") || "";
  const query = new URLSearchParams({ state });
  if (model) query.set("model", model);
  const [data, status] = await Promise.all([getJSON(`/api/alerts?${query}`), getJSON("/api/models")]);
  const shown = data.alerts.filter(a => (!severity || a.severity === severity) && (!check || a.check_id.includes(check)));
  const select = (id, values, chosen) => `<select id="${id}" data-param="${id.replace("f-", "")}">${values.map(([v, t]) => `<option value="${esc(v)}"${v === chosen ? " selected" : ""}>${esc(t)}</option>`).join("")}</select>`;
  const states = ["open", "firing", "recovered", "acknowledged", "resolved", "all"].map(s => [s, s]);
  const models = [["", "every model"], ...status.models.map(m => [m.name, m.name])];
  const severities = [["", "any severity"], ["critical", "critical"], ["warning", "warning"]];
  return `<h1>Alerts</h1>
    <form class="filters" id="alert-filters">
      <label class="control">state ${select("f-state", states, state)}</label>
      <label class="control">model ${select("f-model", models, model)}</label>
      <label class="control">severity ${select("f-severity", severities, severity)}</label>
      <label class="control">check <input id="f-check" data-param="check" value="${esc(check)}" placeholder="e.g. drift:"></label>
      <span class="muted">${shown.length} alert(s)</span>
    </form>${alertsTable(shown, `No ${esc(state)} alerts.`)}`;
}

async function alertPage(id) {
  const a = await getJSON(`/api/alerts/${id}`);
  const events = a.events.map(e => `<tr><td>${when(e.at)}</td><td>${esc(e.kind)}</td><td>${esc(e.from_state || "")} → ${esc(e.to_state)}</td><td>${badge(e.severity)}</td><td>${esc(e.actor)}</td><td>${esc(e.reason)}${e.note ? `: ${esc(e.note)}` : ""}</td></tr>`).join("");
  const open = a.state !== "resolved";
  const forms = open ? `<div class="forms">
      <form id="snooze-form" data-id="${a.id}"><h3>Snooze reminders</h3><label class="control">for <select name="for"><option>1h</option><option selected>4h</option><option>24h</option><option>7d</option></select></label> <button type="submit">Snooze</button></form>
      <form id="resolve-form" data-id="${a.id}"><h3>Resolve</h3><label class="control">reason <select name="resolution" required><option value="fixed">fixed</option><option value="expected">expected</option><option value="false_positive">false positive</option></select></label>
        <label class="control">note <input name="note" maxlength="2000" placeholder="what was done"></label> <button type="submit">Resolve</button></form>
    </div>` : "";
  return `<h1>Alert #${a.id}: <a href="${checkHref(a.model, a.check_id, a.segment)}">${esc(a.model)} / ${esc(a.check_id)}${a.segment ? ` [${esc(a.segment)}]` : ""}</a> ${stateBadge(a)} ${badge(a.severity)}</h1>
    <p>${esc(a.summary)}</p>
    <div class="kv"><span>raised</span><span>${when(a.raised_at)} (${age(a.raised_at)} ago), ${a.occurrences} occurrence(s)</span>
      <span>value / threshold</span><span>${fmt(a.value)} / ${fmt(a.threshold)}</span>
      ${a.acked_by ? `<span>acknowledged</span><span>by ${esc(a.acked_by)} at ${when(a.acked_at)}${a.ack_note ? `: ${esc(a.ack_note)}` : ""}</span>` : ""}
      ${a.snoozed_until ? `<span>snoozed until</span><span>${when(a.snoozed_until)}</span>` : ""}
      ${a.resolved_at ? `<span>resolved</span><span>by ${esc(a.resolved_by || "")} at ${when(a.resolved_at)} (${esc(a.resolution || a.resolve_reason || "")})</span>` : ""}
      ${a.runbook ? `<span>runbook</span><span><a href="${esc(a.runbook)}" rel="noopener">${esc(a.runbook)}</a></span>` : ""}</div>
    <p class="buttons">${alertButtons(a).replace(/<a class="button" href="#\/alerts\/\d+">[^<]*<\/a>/, "")}</p>${forms}
    <h2>History</h2><table id="events"><thead><tr><th>at</th><th>event</th><th>state</th><th>severity</th><th>by</th><th>reason</th></tr></thead><tbody>${events}</tbody></table>`;
}

// --- pages ---------------------------------------------------------------------------------

async function overview() {
  const [status, alerts] = await Promise.all([getJSON("/api/models"), getJSON("/api/alerts?state=open")]);
  live.shown = signatureOf(status);
  return `<h1>Models</h1><div class="cards">${status.models.map(modelCard).join("") || '<p class="muted">No models configured.</p>'}</div>
    <h2>Open alerts</h2>${alertsTable(alerts.alerts)}`;
}

function performanceTable(perf) {
  const rows = Object.entries(perf || {}).map(([name, p]) => `<tr data-metric="${esc(name)}" class="${p.passed === false ? "fail" : ""}">
    <td>${esc(name)}</td><td class="num">${fmt(p.value)}</td><td class="num">${fmt(p.baseline)}</td><td class="num change ${trend(p)}">${pct(p.change_percent)}</td><td class="num">${fmt(p.threshold)}</td><td>${p.passed === null ? "" : p.passed ? "pass" : "FAIL"}</td></tr>`).join("");
  return rows ? `<table id="performance"><thead><tr><th>metric</th><th>current</th><th>baseline (reference)</th><th>change</th><th>threshold</th><th></th></tr></thead><tbody>${rows}</tbody></table>` : '<p class="muted">no performance yet (labels pending?)</p>';
}

// Estimated (CBPE) vs realised performance: one chart per estimated metric over the last
// windows, the newest window's line of text, and how far the estimates were from the truth.
function estimatesSection(name, estimates, range) {
  const recent = estimates.recent.filter(w => inRange(range, w.window_end));
  const metrics = [...new Set(recent.flatMap(w => Object.keys(w.metrics)))].sort();
  if (!metrics.length) return '<p class="muted">no estimates in this range</p>';
  const box = metric => {
    const newest = recent.find(w => w.metrics[metric]).metrics[metric];
    const pending = recent.filter(w => w.metrics[metric]?.labels === "pending").length;
    const err = estimates.error[metric];
    const track = err && err.windows ? `mean |realised − estimated| ${fmt(err.mean_abs_error)} over ${err.windows} window(s)` : "no window has both yet";
    const caption = `<p class="estimate-text">${esc(newest.text)}</p><p class="muted">${pending ? `labels pending for the last ${pending} window(s) (shaded)` : "labels in for every window shown"}; ${esc(track)}</p>`;
    return chartBox(`estimate:${metric}`, `${metric}: estimated vs realised`, "", el => Charts.estimateChart(el, recent, metric), `data-estimate="${esc(metric)}" data-pending="${pending}"`, "chart", caption);
  };
  return `<p class="legend"><span><i class="sw value"></i>estimated (CBPE)</span><span><i class="sw area band"></i>band ± 3 sampling errors</span><span><i class="sw realised"></i>realised</span><span><i class="sw area pending"></i>labels pending</span></p>
    <div class="charts" id="estimate-charts">${metrics.map(box).join("")}</div>
    <p class="muted">The estimate reads only the scores: a change in how inputs relate to the label (concept drift) leaves it unchanged. The realised value is the truth once the labels arrive.</p>`;
}

function driftTable(drift) {
  if (!drift) return '<p class="muted">no scan yet</p>';
  const rows = drift.columns.slice().sort((a, b) => (b.drifted === true) - (a.drifted === true)).map(c => `<tr class="${c.drifted ? "fail" : ""}">
    <td>${esc(c.column)}</td><td>${esc(c.method)}</td><td class="num">${fmt(c.score)}</td><td class="num">${fmt(c.threshold)}</td><td>${c.drifted === null ? "insufficient data" : c.drifted ? "drifted" : "no"}</td><td>${esc(c.effect || "")}</td></tr>`).join("");
  return `<p>data drift: <b>${yesNo(drift.detected)}</b> (${drift.share === null ? "n/a" : `${Math.round(drift.share * 100)}%`} of features)</p>
    <table id="drift"><thead><tr><th>feature</th><th>method</th><th>score</th><th>threshold</th><th>drift</th><th>effect</th></tr></thead><tbody>${rows}</tbody></table>`;
}

// Segment x check of one scan: a cell per result, coloured by verdict and severity.
function heatmap(model, results) {
  const seg = results.filter(r => r.segment);
  if (!seg.length) return '<p class="muted">this model has no segments</p>';
  const checks = [...new Set(seg.map(r => r.check_id))], segments = [...new Set(seg.map(r => r.segment))];
  const cell = new Map(seg.map(r => [`${r.segment}\u0000${r.check_id}`, r]));
  const tone = r => (!r ? "none" : r.passed === false ? (r.severity || "fail") : r.passed === null ? "na" : "pass");
  const rows = segments.map(s => `<tr><th scope="row">${esc(s)}</th>${checks.map(c => {
    const r = cell.get(`${s}\u0000${c}`);
    return `<td class="heat ${tone(r)}" data-segment="${esc(s)}" data-check="${esc(c)}">${r ? `<a href="${checkHref(model, c, s)}" title="${esc(c)} [${esc(s)}]: ${fmt(r.value)} (threshold ${fmt(r.threshold)})">${fmt(r.value)}</a>` : ""}</td>`;
  }).join("")}</tr>`).join("");
  return `<div class="scroll"><table class="heatmap"><thead><tr><th>segment</th>${checks.map(c => `<th>${esc(c)}</th>`).join("")}</tr></thead><tbody>${rows}</tbody></table></div>
    <p class="legend"><span><i class="sw heat pass"></i>pass</span><span><i class="sw heat warning"></i>warning</span><span><i class="sw heat critical"></i>critical</span><span><i class="sw heat na"></i>not judged</span></p>`;
}

function segmentValues(results, segment) {
  const rows = results.filter(r => r.segment === segment).map(r => `<tr class="${r.passed === false ? "fail" : ""}" data-check="${esc(r.check_id)}"><td>${esc(r.check_id)}</td><td class="num value">${fmt(r.value)}</td><td class="num">${fmt(r.threshold)}</td><td>${r.passed === null ? esc(r.reason || "n/a") : r.passed ? "pass" : "FAIL"}</td></tr>`).join("");
  return `<table id="segment-values" data-segment="${esc(segment)}"><thead><tr><th>check</th><th>value</th><th>threshold</th><th>verdict</th></tr></thead><tbody>${rows}</tbody></table>`;
}

function metricCharts(name, points, checked) {
  const perf = [...new Set(points.flatMap(p => Object.keys(p.performance || {})))].filter(k => !checked.has(k));
  const boxes = perf.map(k => chartBox(`metric:${k}`, k, "", el => Charts.metricChart(el, points, [{ label: k, get: p => p.performance[k]?.value ?? null, baseline: p => p.performance[k]?.baseline ?? null }]), `data-metric="${esc(k)}"`));
  const ops = points.map(p => p.operations || {});
  if (ops.some(o => o.latency_p50 !== undefined)) {
    boxes.push(chartBox("metric:latency", "latency p50 / p99 (ms)", "", el => Charts.metricChart(el, points, [{ label: "p50", get: p => p.operations.latency_p50 ?? null }, { label: "p99", get: p => p.operations.latency_p99 ?? null }]), 'data-metric="latency"'));
  }
  boxes.push(chartBox("metric:throughput", "throughput (rows/h)", "", el => Charts.metricChart(el, points, [{ label: "rows/h", get: p => (p.operations.throughput_per_s ?? null) === null ? null : +(p.operations.throughput_per_s * 3600).toPrecision(4) }]), 'data-metric="throughput"'));
  boxes.push(chartBox("metric:rows", "rows (live, labelled)", "", el => Charts.metricChart(el, points, [{ label: "live", get: p => p.rows.live }, { label: "labelled", get: p => p.rows.labelled }]), 'data-metric="rows"'));
  return boxes.join("");
}

async function modelPage(name, params) {
  const segment = params.get("segment") || "";
  const range = timeRange(params);
  const api = `/api/models/${enc(name)}`;
  const [m, scans, metrics] = await Promise.all([getJSON(api), getJSON(`${api}/scans?limit=200`), getJSON(`${api}/metrics`)]);
  const scan = m.last_scan ? await getJSON(`/api/scans/${m.last_scan.id}`) : { results: [] };
  const segments = [...new Set(scan.results.filter(r => r.segment).map(r => r.segment))].sort();
  const unseen = segment && !segments.includes(segment);
  if (unseen) segments.push(segment);
  const ids = scan.results.filter(r => (r.segment || "") === segment && r.value !== null).map(r => r.check_id);
  const histories = await Promise.all(ids.map(id => getJSON(`${api}/checks/${enc(id)}/history?segment=${enc(segment)}`)));
  for (const h of histories) h.points = h.points.filter(p => inRange(range, p.window_end));
  const shown = histories.filter(h => !Charts.flat(h)), flat = histories.filter(h => Charts.flat(h));
  const box = h => chartBox(h.check_id, h.check_id, checkHref(name, h.check_id, segment), el => Charts.checkChart(el, h), `data-check="${esc(h.check_id)}"`);
  const flatBoxes = flat.map(box).join("");
  const points = metrics.points.filter(p => inRange(range, p.window_end));
  const scanRows = scans.scans.filter(s => inRange(range, s.window_end)).map(s => `<tr><td><a href="#/scans/${s.id}">#${s.id}</a></td><td>${when(s.window_end)}</td><td>${badge(s.status, s.status === "failed" || s.status === "error" ? "red" : s.status === "ok" ? "green" : "yellow")}</td><td class="num">${fmt(s.rows.live)}</td><td class="num">${fmt(s.rows.labelled)}</td></tr>`).join("");
  // a segment's own estimates (estimates.segments) when one is chosen
  const estimates = m.estimates && (segment ? (m.estimates.segments || {})[segment] : m.estimates);
  const options = ["", ...segments].map(s => `<option value="${esc(s)}"${s === segment ? " selected" : ""}>${s ? esc(s) : "whole window"}</option>`).join("");
  return `<h1>${esc(m.name)} ${badge(m.health)}</h1>
    <div class="controls">${segments.length ? `<label class="control">segment <select id="segment">${options}</select></label>` : ""}${rangeControl(params)}</div>
    ${segment ? `<p class="muted" id="whole-window-note">The report below is the whole window's; segment ${esc(segment)}'s latest values are under <b>Segment ${esc(segment)}</b>, its charts under <b>Checks over time</b>.</p>` : ""}
    ${reportItems(m)}${retrainingForm(m.name)}
    ${m.maintenance ? `<p class="maintenance">Maintenance until ${when(m.maintenance.ends_at)} by ${esc(m.maintenance.created_by)}${m.maintenance.reason ? `: ${esc(m.maintenance.reason)}` : ""}. Scans run and are stored; notifications are held until it ends.</p>` : ""}
    <h2>Action items</h2>${actionList(m)}
    <h2>Performance vs baseline</h2>${performanceTable(m.performance)}
    ${estimates ? `<h2>Estimated vs realised performance${segment ? ` [segment ${esc(segment)}]` : ""}</h2>${estimatesSection(name, estimates, range)}` : ""}
    <h2>Data drift</h2>${driftTable(m.data_drift)}
    ${segment ? `<h2>Segment ${esc(segment)}: latest scan #${scan.id}</h2>${unseen ? `<p class="muted">segment ${esc(segment)} has no result in the latest scan</p>` : segmentValues(scan.results, segment)}` : ""}
    <h2>Checks over time${segment ? ` [segment ${esc(segment)}]` : ""}</h2>${LEGEND}<div class="charts" id="check-charts">${shown.map(box).join("")}</div>
    ${flat.length ? `<details class="flat" id="flat-charts"><summary>${flat.length} check(s) always 0 in this range: ${esc(flat.map(h => h.check_id).join(", "))}</summary><div class="charts">${flatBoxes}</div></details>` : ""}
    ${segment ? "" : `<h2>Metrics over time</h2><div class="charts" id="metric-charts">${metricCharts(name, points, new Set(ids))}</div>`}
    ${segments.length ? `<h2>Segments × checks, scan #${scan.id}</h2>${heatmap(name, scan.results)}` : ""}
    <h2>Scans</h2><table id="scans"><thead><tr><th>scan</th><th>window end</th><th>status</th><th>live rows</th><th>labelled</th></tr></thead><tbody>${scanRows}</tbody></table>`;
}

async function checkPage(name, checkId, params) {
  const segment = params.get("segment") || "";
  const range = timeRange(params);
  const h = await getJSON(`/api/models/${enc(name)}/checks/${enc(checkId)}/history?segment=${enc(segment)}`);
  h.points = h.points.filter(p => inRange(range, p.window_end));
  const rows = h.points.slice().reverse().map(p => `<tr class="${p.passed === false ? "fail" : ""}"><td><a href="#/scans/${p.scan_id}">#${p.scan_id}</a></td><td>${when(p.window_end)}</td><td class="num">${fmt(p.value)}</td><td class="num">${fmt(p.threshold)}</td><td>${p.passed === null ? "n/a" : p.passed ? "pass" : "FAIL"}</td><td>${esc(p.severity || "")}</td></tr>`).join("");
  return `<h1><a href="${modelHref(name, segment ? `?segment=${enc(segment)}` : "")}">${esc(name)}</a> / ${esc(checkId)}${segment ? ` <span class="segment" data-segment="${esc(segment)}">[segment ${esc(segment)}]</span>` : ""}</h1>
    <div class="controls">${rangeControl(params)}</div>${LEGEND}
    ${chartBox(checkId, checkId, "", el => Charts.checkChart(el, h, { height: 300 }), `data-check="${esc(checkId)}"`, "chart wide")}
    <h2>Values</h2><table id="values"><thead><tr><th>scan</th><th>window end</th><th>value</th><th>threshold</th><th></th><th>severity</th></tr></thead><tbody>${rows}</tbody></table>`;
}

async function scanPage(id) {
  const s = await getJSON(`/api/scans/${id}`);
  const whole = s.results.filter(r => !r.segment);
  const rows = whole.map(r => `<tr class="${r.passed === false ? "fail" : ""}"><td>${esc(r.check_id)}</td><td>${esc(r.method)}</td><td class="num">${fmt(r.value)}</td><td class="num">${fmt(r.threshold)}</td><td>${r.passed === null ? esc(r.reason || "n/a") : r.passed ? "pass" : "FAIL"}</td><td>${esc(r.severity || "")}</td></tr>`).join("");
  const segmented = s.results.length - whole.length;
  return `<h1>Scan #${s.id}: <a href="${modelHref(s.model)}">${esc(s.model)}</a> ${badge(s.status, s.status === "ok" ? "green" : s.status === "no_data" ? "yellow" : "red")}</h1>
    <div class="kv"><span>live window</span><span>${when(s.window_start)} .. ${when(s.window_end)}</span>
    <span>reference</span><span>${esc(JSON.stringify(s.reference))}</span>
    <span>rows</span><span>reference ${fmt(s.rows.reference)}, live ${fmt(s.rows.live)}, labelled ${fmt(s.rows.labelled)}</span>
    <span>model versions</span><span>${esc((s.model_versions || []).join(", ") || "n/a")}</span>
    <span>config</span><span>${esc(s.config_hash)}</span>
    ${s.error ? `<span>error</span><span class="error">${esc(s.error)}</span>` : ""}</div>
    <p><a class="button" id="report" href="/reports/${s.id}.html" target="_blank" rel="noopener">Drill-down report (Evidently)</a> <span class="muted">re-reads a bounded sample of this scan's windows with the model's own drift settings; takes a few seconds</span></p>
    <h2>Results, whole window</h2><table id="results"><thead><tr><th>check</th><th>method</th><th>value</th><th>threshold</th><th>verdict</th><th>severity</th></tr></thead><tbody>${rows}</tbody></table>
    ${segmented ? `<h2>Segments × checks (${segmented} results)</h2>${heatmap(s.model, s.results)}` : ""}`;
}

const OVERVIEW = /^#?\/?$/;
const ROUTES = [
  [OVERVIEW, overview],
  [/^#\/alerts$/, (params) => alertsPage(params)],
  [/^#\/alerts\/(\d+)$/, alertPage],
  [/^#\/models\/([^/]+)\/checks\/([^/]+)$/, (m, c, params) => checkPage(decodeURIComponent(m), decodeURIComponent(c), params)],
  [/^#\/models\/([^/]+)$/, (m, params) => modelPage(decodeURIComponent(m), params)],
  [/^#\/scans\/(\d+)$/, scanPage],
];

async function route() {
  const { path, params } = parseHash();
  for (const [pattern, page] of ROUTES) {
    const match = path.match(pattern);
    if (!match) continue;
    pendingCharts = [];
    live.shown = null;
    const scroll = window.scrollY;
    try {
      const html = await page(...match.slice(1), params);
      main.innerHTML = html;
      // a page drawn from /api/models (the overview) is exactly as new as what it drew
      if (live.shown !== null) live.signature = live.shown;
      for (const { id, draw } of pendingCharts) {
        const el = document.getElementById(id);
        if (el && el.closest("details:not([open])") === null) draw(el);
        else if (el) el.closest("details").addEventListener("toggle", () => draw(el), { once: true });
      }
      window.scrollTo(0, scroll);
      markUpdated();
    } catch (err) {
      main.innerHTML = `<p class="error">${esc(err.message)}</p>`;
    }
    main.dataset.loaded = String(Date.now());
    return;
  }
  main.innerHTML = '<p class="error">no such page</p>';
}

// --- live: poll, redraw when a scan or an alert changed, say how fresh the page is ---------

function markUpdated() {
  live.updated = Date.now();
  tickUpdated();
}

function tickUpdated() {
  const box = document.getElementById("updated");
  if (!live.updated) return;
  const s = Math.round((Date.now() - live.updated) / 1000);
  box.textContent = `updated ${s} s ago`;
  box.title = new Date(live.updated).toISOString();
}

const signatureOf = status => JSON.stringify(status.models.map(m => [m.name, m.health, m.last_scan && m.last_scan.id, m.last_scan && m.last_scan.status, m.alerts.open, m.alerts.unacknowledged, m.last_retraining && m.last_retraining.id]));

async function poll() {
  if (live.busy || document.getElementById("auth").open) return;
  live.busy = true;
  try {
    const signature = signatureOf(await getJSON("/api/models"));
    const typing = document.activeElement && document.activeElement.closest("form") !== null;
    if (signature === live.signature) markUpdated();
    // A change seen while the person types in a form is kept unseen: it redraws after.
    else if (!typing) { live.signature = signature; await route(); }
  } catch (err) {
    document.getElementById("updated").textContent = `update failed: ${err.message}`;
  } finally {
    live.busy = false;
  }
}

// --- events --------------------------------------------------------------------------------

document.addEventListener("click", event => {
  const button = event.target.closest("button[data-action]");
  if (button) act(button.dataset.id, button.dataset.action);
});

document.addEventListener("change", event => {
  const target = event.target;
  if (target.id === "segment") setParams({ segment: target.value });
  else if (target.id === "range") setParams({ range: target.value === "30d" ? "" : target.value });
  else if (target.id === "range-from" || target.id === "range-to") setParams({ [target.id.slice(6)]: target.value });
  else if (target.dataset.param) setParams({ [target.dataset.param]: target.value });
});

document.addEventListener("submit", event => {
  const form = event.target;
  if (form.id === "alert-filters") { event.preventDefault(); return; }
  if (!["snooze-form", "resolve-form", "retraining-form"].includes(form.id)) return;
  event.preventDefault();
  const data = Object.fromEntries(new FormData(form));
  if (form.id === "retraining-form") { recordRetraining(form.dataset.model, data); return; }
  if (form.id === "snooze-form") act(form.dataset.id, "snooze", { for: data.for });
  else act(form.dataset.id, "resolve", { resolution: data.resolution, note: data.note || null });
});

// Slack messages posted before links became fragments point at /?alert=N: open that alert.
const legacyAlert = new URLSearchParams(location.search).get("alert");
if (/^\d+$/.test(legacyAlert || "") && !location.hash) {
  const kept = new URLSearchParams(location.search);
  kept.delete("alert");
  const query = kept.toString();
  history.replaceState(null, "", `${location.pathname}${query ? `?${query}` : ""}#/alerts/${legacyAlert}`);
}

window.addEventListener("hashchange", route);
// The first signature must not be newer than what the first render drew: taken from the first
// poll, after the render, a scan stored in between was taken as already shown. The overview
// draws from /api/models and keeps the signature of what it drew (route); any other page reads
// it before it draws. (If that read fails, the first poll that succeeds redraws.)
async function start() {
  if (!OVERVIEW.test(parseHash().path)) live.signature = await getJSON("/api/models").then(signatureOf, () => null);
  await route();
  poll();
  setInterval(poll, REFRESH_S * 1000);
  setInterval(tickUpdated, 1000);
}

start();
