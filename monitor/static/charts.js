// Charts of a check or a metric over time, drawn by uPlot (vendored in static/vendor/uplot,
// see docs/dashboard.md): each threshold level its own dashed line, alert periods shaded,
// failing points red, times in UTC, axis labels without exponents.
"use strict";

const Charts = (() => {
  const COLOURS = { value: "#2563eb", critical: "#c62828", warning: "#d97706", baseline: "#6b7280", second: "#7c3aed", realised: "#059669", band: "#93c5fd" };
  const SHADE = { critical: "rgba(198,40,40,0.13)", warning: "rgba(217,119,6,0.16)", pending: "rgba(100,116,139,0.18)" };

  function esc(text) {
    return String(text).replace(/[&<>"']/g, c => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]));
  }

  // Integers exactly (row counts), other values to 3 significant digits, never as 7.70e-3.
  function fmt(v) {
    if (v === null || v === undefined) return "n/a";
    if (Number.isInteger(v) || Math.abs(v) >= 1e5) return String(Math.round(v));
    return String(+v.toPrecision(3));
  }

  const tick = v => (v === null || v === undefined ? "" : String(+v.toPrecision(4)));
  const seconds = iso => Date.parse(iso) / 1000;

  // uPlot draws the alert periods under the lines, on the plotting area only.
  function shading(periods) {
    return u => {
      const { ctx, bbox } = u;
      const [x0, x1] = [u.scales.x.min, u.scales.x.max];
      for (const p of periods) {
        const from = Math.max(seconds(p.from), x0), to = p.to ? Math.min(seconds(p.to), x1) : x1;
        if (to < x0 || from > x1) continue;
        const left = u.valToPos(from, "x", true), right = u.valToPos(to, "x", true);
        ctx.fillStyle = SHADE[p.severity] || SHADE.warning;
        ctx.fillRect(left, bbox.top, Math.max(right - left, 4), bbox.height);
        if (p.label) {
          ctx.fillStyle = "#334155";
          ctx.font = `${Math.round(11 * uPlot.pxRatio)}px sans-serif`;
          ctx.fillText(p.label, left + 4 * uPlot.pxRatio, bbox.top + 13 * uPlot.pxRatio);
        }
      }
    };
  }

  function line(label, values, colour, extra) {
    return { label, values, series: { label, stroke: colour, width: 1.8, spanGaps: true, value: (u, v) => fmt(v), ...extra } };
  }

  function dashed(label, values, colour) {
    return line(label, values, colour, { dash: [6, 4], width: 1.4, points: { show: false } });
  }

  function failedPoints(values) {
    return line("failed", values, COLOURS.critical, { width: 0, paths: () => null, points: { show: true, size: 8, fill: COLOURS.critical, stroke: COLOURS.critical } });
  }

  // lines: [{label, values, series}] over the x values (seconds); periods: alert periods.
  // bands: [[upper, lower]] indices into lines, the area between them filled.
  function draw(el, x, lines, { height = 220, periods = [], yLabel = "", bands = [] } = {}) {
    const width = Math.max(280, Math.min(el.clientWidth || 520, 1000));
    const opts = {
      width,
      height,
      tzDate: ts => uPlot.tzDate(new Date(ts * 1e3), "Etc/UTC"),
      scales: { x: { time: true } },
      axes: [
        { stroke: "#374151", grid: { stroke: "#f1f5f9" }, ticks: { stroke: "#e5e7eb" }, space: 70 },
        { stroke: "#374151", grid: { stroke: "#f1f5f9" }, ticks: { stroke: "#e5e7eb" }, values: (u, splits) => splits.map(tick), size: 58, label: yLabel, labelSize: yLabel ? 18 : 0 },
      ],
      series: [{ value: (u, v) => (v === null ? "" : new Date(v * 1e3).toISOString().slice(0, 16).replace("T", " ") + "Z") }, ...lines.map(l => l.series)],
      hooks: { drawClear: [shading(periods)] },
      cursor: { drag: { x: true, y: false } },
      bands: bands.map(([upper, lower]) => ({ series: [upper + 1, lower + 1], fill: "rgba(37,99,235,0.10)" })),
    };
    el.textContent = "";
    return new uPlot(opts, [x, ...lines.map(l => l.values)], el);
  }

  // history: {points: [{window_end, value, threshold, passed}], alerts: [...], levels: [...]}
  function checkChart(el, history, options = {}) {
    const points = history.points;
    if (!points.some(p => p.value !== null)) { el.innerHTML = '<p class="muted">no values in this range</p>'; return null; }
    const x = points.map(p => seconds(p.window_end));
    const lines = [line("value", points.map(p => p.value), COLOURS.value)];
    if (history.levels && history.levels.length) {
      for (const level of history.levels) {
        lines.push(dashed(`${level.severity} ${level.bound} ${fmt(level.value)}`, points.map(() => level.value), COLOURS[level.severity] || COLOURS.baseline));
      }
    } else if (points.some(p => p.threshold !== null)) {
      lines.push(dashed("threshold", points.map(p => p.threshold), COLOURS.baseline));
    }
    lines.push(failedPoints(points.map(p => (p.passed === false ? p.value : null))));
    return draw(el, x, lines, { ...options, periods: history.alerts || [] });
  }

  // A metric per scan; baseline (the reference's value) dashed when known.
  function metricChart(el, points, metrics, options = {}) {
    const x = points.map(p => seconds(p.window_end));
    const colours = [COLOURS.value, COLOURS.second];
    const lines = metrics.map((m, i) => line(m.label, points.map(m.get), colours[i % 2]));
    for (const m of metrics.filter(m => m.baseline)) lines.push(dashed(`${m.label} baseline`, points.map(m.baseline), COLOURS.baseline));
    if (!lines.some(l => l.values.some(v => v !== null && v !== undefined))) { el.innerHTML = '<p class="muted">no values in this range</p>'; return null; }
    return draw(el, x, lines, options);
  }

  // Runs of consecutive windows whose labels are pending, as shaded periods (the last one
  // open to the right edge).
  function pendingPeriods(rows, metric) {
    const periods = [];
    rows.forEach((w, i) => {
      if (w.metrics[metric].labels !== "pending") return;
      const last = periods[periods.length - 1];
      if (last && last.next === i) { last.to = w.window_end; last.next = i + 1; return; }
      periods.push({ from: w.window_start, to: w.window_end, next: i + 1, severity: "pending", label: "labels pending" });
    });
    for (const p of periods) if (p.next === rows.length) p.to = null;
    return periods;
  }

  // CBPE's estimate per window with its band (estimate ± 3 sampling errors), the realised
  // value where the labels arrived, and the windows whose labels are pending shaded.
  // windows: the API's estimates.recent (newest first).
  function estimateChart(el, windows, metric, options = {}) {
    const rows = windows.filter(w => w.metrics[metric]).sort((a, b) => seconds(a.window_end) - seconds(b.window_end));
    if (!rows.length) { el.innerHTML = '<p class="muted">no estimates in this range</p>'; return null; }
    const values = rows.map(w => w.metrics[metric]);
    const thin = { width: 1, points: { show: false } };
    const lines = [
      line("estimated", values.map(v => v.estimated), COLOURS.value),
      line("band high", values.map(v => v.upper), COLOURS.band, thin),
      line("band low", values.map(v => v.lower), COLOURS.band, thin),
      line("realised", values.map(v => v.realised), COLOURS.realised, { points: { show: true, size: 6, fill: COLOURS.realised } }),
    ];
    const x = rows.map(w => seconds(w.window_end));
    return draw(el, x, lines, { ...options, periods: pendingPeriods(rows, metric), bands: [[1, 2]] });
  }

  // Every value 0 (a missing share that never moved): shown folded, behind a toggle.
  const flat = history => history.points.length > 0 && history.points.every(p => p.value === null || p.value === 0);

  return { checkChart, metricChart, estimateChart, pendingPeriods, flat, fmt, esc, COLOURS };
})();
