// Small SVG line charts: a check's value and threshold per scan, alert periods shaded.
// Drawn by hand so the page needs no library and no network.
"use strict";

const Charts = (() => {
  const W = 360, H = 170, PAD = { l: 46, r: 10, t: 10, b: 26 };

  function esc(text) {
    return String(text).replace(/[&<>"']/g, c => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]));
  }

  function fmt(v) {
    if (v === null || v === undefined) return "n/a";
    const a = Math.abs(v);
    return a !== 0 && (a < 0.01 || a >= 1e5) ? v.toExponential(2) : (+v.toPrecision(3)).toString();
  }

  function scale(d0, d1, r0, r1) {
    const span = d1 - d0 || 1;
    return v => r0 + (v - d0) / span * (r1 - r0);
  }

  // history: {points: [{window_end, value, threshold, passed}], alerts: [{from, to, severity}]}
  function checkChart(history) {
    const pts = history.points.filter(p => p.value !== null);
    if (!pts.length) return '<p class="muted">no values stored yet</p>';
    const times = history.points.map(p => Date.parse(p.window_end));
    const t0 = Math.min(...times), t1 = Math.max(...times);
    const ys = pts.map(p => p.value).concat(history.points.filter(p => p.threshold !== null).map(p => p.threshold));
    let y0 = Math.min(...ys), y1 = Math.max(...ys);
    const margin = (y1 - y0) * 0.1 || Math.abs(y1) * 0.1 || 1;
    y0 -= margin; y1 += margin;
    const x = scale(t0, t1 === t0 ? t0 + 1 : t1, PAD.l, W - PAD.r);
    const y = scale(y0, y1, H - PAD.b, PAD.t);
    const parts = [`<svg viewBox="0 0 ${W} ${H}" role="img" aria-label="${esc(history.check_id)} over time">`];
    for (const a of history.alerts) {
      const from = Math.max(Date.parse(a.from), t0), to = a.to ? Math.min(Date.parse(a.to), t1) : t1;
      if (to < t0 || from > t1) continue;
      const colour = a.severity === "critical" ? "#fecaca" : "#fde68a";
      parts.push(`<rect class="alert-period" x="${x(from)}" y="${PAD.t}" width="${Math.max(x(to) - x(from), 3)}" height="${H - PAD.t - PAD.b}" fill="${colour}" opacity="0.7"><title>alert #${a.id} (${esc(a.severity)}, ${esc(a.state)}) from ${esc(a.from)}</title></rect>`);
    }
    for (const v of [y0 + margin, (y0 + y1) / 2, y1 - margin]) {
      parts.push(`<line x1="${PAD.l}" x2="${W - PAD.r}" y1="${y(v)}" y2="${y(v)}" stroke="#eee"/><text x="${PAD.l - 4}" y="${y(v) + 4}" font-size="10" text-anchor="end" fill="#6b7280">${fmt(v)}</text>`);
    }
    const day = iso => iso.slice(5, 10);
    parts.push(`<text x="${PAD.l}" y="${H - 8}" font-size="10" fill="#6b7280">${esc(day(history.points[0].window_end))}</text>`);
    parts.push(`<text x="${W - PAD.r}" y="${H - 8}" font-size="10" text-anchor="end" fill="#6b7280">${esc(day(history.points[history.points.length - 1].window_end))}</text>`);
    const thr = history.points.filter(p => p.threshold !== null);
    if (thr.length) {
      const path = thr.map((p, i) => `${i ? "L" : "M"}${x(Date.parse(p.window_end))},${y(p.threshold)}`).join(" ");
      parts.push(`<path class="threshold" d="${path}" fill="none" stroke="#6b7280" stroke-dasharray="4 3"/>`);
    }
    const line = pts.map((p, i) => `${i ? "L" : "M"}${x(Date.parse(p.window_end))},${y(p.value)}`).join(" ");
    parts.push(`<path class="value" d="${line}" fill="none" stroke="#2563eb" stroke-width="1.8"/>`);
    for (const p of pts) {
      const fill = p.passed === false ? "#c62828" : p.passed === null ? "#9ca3af" : "#2563eb";
      parts.push(`<circle cx="${x(Date.parse(p.window_end))}" cy="${y(p.value)}" r="3" fill="${fill}"><title>${esc(p.window_end)}: ${fmt(p.value)} (threshold ${fmt(p.threshold)})</title></circle>`);
    }
    parts.push("</svg>");
    return parts.join("");
  }

  return { checkChart, fmt, esc };
})();
