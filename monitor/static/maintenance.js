// Maintenance windows on the model page: plan one, list those in force or planned, cancel one.
// Over GET/POST /api/maintenance and POST /api/maintenance/{id}/cancel (docs/api.md). Loaded
// after app.js and uses its helpers (getJSON, post, route, toast, esc, when, enc, parseHash).
// It adds its section to the model page each time app.js renders one, watching #main, so
// app.js needs no hook. The banner of the window in force is app.js's (model status JSON).
"use strict";

(() => {
  const SECTION_ID = "maintenance";

  // The model of the page shown, when it is a model page (not one of its check pages).
  function shownModel() {
    const match = parseHash().path.match(/^#\/models\/([^/]+)$/);
    return match ? decodeURIComponent(match[1]) : null;
  }

  const utc = value => (value ? new Date(`${value}Z`).toISOString() : null);

  function windowLine(w) {
    const state = w.active ? "in force" : "planned";
    const why = w.reason ? `: ${esc(w.reason)}` : "";
    return `<li data-window="${w.id}">#${w.id} ${when(w.starts_at)} .. ${when(w.ends_at)} <span class="badge">${state}</span> by ${esc(w.created_by)}${why}
      <button type="button" data-maintenance-cancel="${w.id}">Cancel window #${w.id}</button></li>`;
  }

  function section(model, windows) {
    const list = windows.length
      ? `<ul class="windows">${windows.map(windowLine).join("")}</ul>`
      : '<p class="muted">No maintenance window in force or planned.</p>';
    return `<details class="maintenance-windows" id="${SECTION_ID}"${windows.length ? " open" : ""}><summary>Maintenance windows (${windows.length})</summary>
      ${list}
      <form id="maintenance-form" data-model="${esc(model)}">
        <label class="control">from (UTC, empty: now) <input name="from" type="datetime-local"></label>
        <label class="control">to (UTC) <input name="to" type="datetime-local" required></label>
        <label class="control">reason <input name="reason" maxlength="2000" placeholder="retraining, a source migration, ..."></label>
        <button type="submit">Plan window</button></form>
      <p class="muted">Scans still run and store; notifications are held and summarised when it ends.</p></details>`;
  }

  async function addSection() {
    const model = shownModel();
    if (model === null || document.getElementById(SECTION_ID) || !main.querySelector("h1")) return;
    let windows;
    try {
      windows = (await getJSON(`/api/maintenance?model=${enc(model)}`)).windows;
    } catch (err) {
      toast(`maintenance windows of ${model}: ${err.message}`);
      return;
    }
    // The page may have changed while we read: add it only to the page it belongs to.
    if (shownModel() !== model || document.getElementById(SECTION_ID)) return;
    const anchor = main.querySelector("details.retrain") || main.querySelector("h2");
    if (anchor) anchor.insertAdjacentHTML("afterend", section(model, windows));
    main.dataset.maintenance = String(Date.now());
  }

  async function plan(form) {
    const data = Object.fromEntries(new FormData(form));
    const model = form.dataset.model;
    const body = await post("/api/maintenance", `To plan maintenance of ${model}:`, {
      model, from: utc(data.from), to: utc(data.to), reason: data.reason || "",
    });
    if (!body) return;
    toast(`maintenance window #${body.id} of ${model} planned`);
    await route();
  }

  async function cancel(id) {
    const body = await post(`/api/maintenance/${id}/cancel`, `To cancel maintenance window #${id}:`, {});
    if (!body) return;
    toast(`maintenance window #${id} of ${body.model} cancelled`);
    await route();
  }

  new MutationObserver(() => { addSection(); }).observe(main, { childList: true });

  document.addEventListener("submit", event => {
    if (event.target.id !== "maintenance-form") return;
    event.preventDefault();
    plan(event.target);
  });

  document.addEventListener("click", event => {
    const button = event.target.closest("button[data-maintenance-cancel]");
    if (button) cancel(button.dataset.maintenanceCancel);
  });
})();
