// The fleet dashboard: polls api/v1/fleet every second and api/v1/history every five, and never
// presents old numbers as current (a red banner and greyed numbers when data is not fresh). Every
// URL is relative, so the page works behind a proxy under a path prefix.
"use strict";
const state = { selected: null, sort: { key: "workerId", dir: 1 }, leaving: new Map(), lastFleet: null, workerKv: {}, skewMs: 0 };
const $ = (sel) => document.querySelector(sel);
const key = (e) => `${e.namespace}/${e.component}/${e.endpoint}`;
const pct = (v) => (v == null ? "–" : (100 * v).toFixed(1) + "%");
const num = (v, d = 0) => (v == null ? "–" : Number(v).toFixed(d));

function setTile(id, value, sub) {
  $(`#${id} .value`).textContent = value;
  if (sub !== undefined) $(`#${id} .sub`).textContent = sub;
}

function showBanner(text) {
  const b = $("#banner");
  b.hidden = !text;
  b.textContent = text || "";
  document.querySelector("main").classList.toggle("stale", !!text);
}

function renderStatus(fleet) {
  const s = fleet.status, badge = $("#status");
  badge.className = "badge";
  let banner = null;
  if (s.mode === "starting") {
    badge.textContent = "starting";
  } else if (s.mode === "standby") {
    badge.textContent = "standby"; badge.classList.add("standby");
    banner = "This instance is on standby: another aggregator leads. Fleet numbers are not collected here.";
  } else if (!s.transportConnected) {
    badge.textContent = "NATS down"; badge.classList.add("down");
    banner = "NATS is disconnected: no worker stats are arriving." +
      (s.polls > 0 ? ` The numbers below are the last ones received and are not current; workers drop off after ${s.stalenessPolls} missed polls (--staleness).` : "");
  } else if (s.polls === 0) {
    badge.textContent = "waiting for first poll";
  } else if (!s.fresh) {
    badge.textContent = "stale"; badge.classList.add("down");
    banner = `No completed poll for ${num(s.lastPollAgeSeconds, 0)} s (more than ${s.stalenessPolls} poll intervals, --staleness): numbers below are not current.`;
  } else {
    badge.textContent = "live"; badge.classList.add("live");
  }
  showBanner(banner);
  renderPublishers(s.eventPublishers);
  $("#updated").textContent = s.polls > 0 ? `poll #${s.polls}, ${num(s.lastPollAgeSeconds, 1)} s ago` : "";
}

// ZMQ event publishers (Dynamo 1.3 on): how many the service reaches, and how many it cannot
function renderPublishers(p) {
  const el = $("#publishers");
  const total = p ? (p.connecting || 0) + (p.connected || 0) + (p.unreachable || 0) : 0;
  el.hidden = total === 0;
  if (total === 0) return;
  el.textContent = `ZMQ publishers: ${p.connected || 0} connected` +
    (p.connecting ? `, ${p.connecting} connecting` : "") +
    (p.unreachable ? `, ${p.unreachable} unreachable` : "");
  el.className = p.unreachable ? "badge down" : "muted";
  el.title = p.unreachable
    ? "Workers advertise addresses this service cannot reach: set DYN_EVENT_PLANE_HOST on them to a reachable address (the pod IP on Kubernetes); the service log names each one."
    : "";
}

function renderSelector(fleet) {
  const keys = fleet.endpoints.map(key);
  if (!keys.includes(state.selected)) state.selected = keys[0] || null;
  const sel = $("#endpoint-select");
  $("#selector-label").hidden = keys.length < 2;
  if (sel.options.length !== keys.length || [...sel.options].some((o, i) => o.value !== keys[i])) {
    sel.replaceChildren(...keys.map((k) => new Option(k, k)));
  }
  sel.value = state.selected || "";
}

function renderTiles(ep) {
  const a = (ep && ep.aggregates) || {};
  setTile("tile-workers", ep ? String(a.workers) : "–", ep ? `${ep.poll.replies} replies in ${num(1000 * ep.poll.durationSeconds, 1)} ms` : "no endpoint aggregated yet");
  setTile("tile-kv", pct(a.kvUsageRatio));
  setTile("tile-slots", pct(a.slotsUsageRatio));
  setTile("tile-waiting", a.requestsWaiting == null ? "–" : String(a.requestsWaiting));
  setTile("tile-hit", pct(a.kvHitRatio));
  setTile("tile-load", a.loadAvg == null ? "–" : `${num(a.loadAvg, 1)} ± ${num(a.loadStd, 1)}`,
    a.loadMin == null ? "" : `min ${a.loadMin}, max ${a.loadMax}`);
  setTile("tile-imbalance", num(a.imbalanceRatio, 2));
}

function level(ratio) { return ratio >= 0.9 ? "hot" : ratio >= 0.7 ? "warn" : "ok"; }

// A field the worker's Dynamo release does not send is null in the API and a dash here, never 0.
const has = (v) => v != null;
const ratio = (a, b) => (has(a) && b ? a / b : null);
const pair = (a, b) => (has(a) || has(b) ? `${has(a) ? a : "–"} / ${has(b) ? b : "–"}` : "–");

function row(w) {
  const tr = document.createElement("tr");
  const kvUse = ratio(w.kvActiveBlocks, w.kvTotalBlocks);
  const slotUse = ratio(w.requestActiveSlots, w.requestTotalSlots);
  tr.className = level(Math.max(kvUse || 0, slotUse || 0));
  tr.dataset.worker = w.workerId + (w.dpRank == null ? "" : "/" + w.dpRank);
  const cells = [w.workerId, w.dpRank == null ? "–" : w.dpRank, null, null,
    pair(w.requestActiveSlots, w.requestTotalSlots), has(w.requestsWaiting) ? w.requestsWaiting : "–",
    pct(w.gpuCacheUsage), pct(w.prefixCacheHitRate), w.intake || "–", `${num(w.statsAgeSeconds, 1)} s`];
  cells.forEach((c, i) => {
    const td = document.createElement("td");
    if (i === 2) {
      const bar = document.createElement("span"); bar.className = "bar";
      const fill = document.createElement("span"); fill.style.width = `${Math.min(100, 100 * (kvUse || 0))}%`;
      bar.append(fill); td.append(bar, pair(w.kvActiveBlocks, w.kvTotalBlocks));
    } else if (i === 3) {
      td.append(strip(state.workerKv[w.workerId + "/" + (w.dpRank == null ? "" : w.dpRank)]));
    } else td.textContent = String(c);
    tr.append(td);
  });
  return tr;
}

const SVG = "http://www.w3.org/2000/svg";
function el(name, attrs, text) {
  const e = document.createElementNS(SVG, name);
  for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
  if (text != null) e.textContent = text;
  return e;
}

// One worker's KV usage over the last 15 minutes: a cell per 15 s, coloured by level, so that a
// worker that runs hot is seen at a glance down the table.
function strip(cells) {
  const svg = el("svg", { class: "heat", viewBox: "0 0 120 12", width: "120", height: "12" });
  const values = (cells || []).filter((c) => c != null);
  svg.dataset.cells = String(values.length);
  const peak = values.length ? Math.max(...values) : null;
  svg.setAttribute("role", "img");
  svg.setAttribute("aria-label", values.length ? `KV usage, last 15 min: now ${values[values.length - 1]}%, peak ${peak}%` : "no KV history yet");
  (cells || []).forEach((c, i) => {
    if (c == null) return;
    const r = el("rect", { x: 2 * i, y: 0, width: 2, height: 12, class: level(c / 100) });
    r.style.opacity = String(0.25 + 0.75 * c / 100);
    svg.append(r);
  });
  const title = el("title", {}, values.length ? `KV usage over the last 15 minutes (a cell per 15 s): peak ${peak}%` : "no KV history yet");
  svg.prepend(title);
  return svg;
}

function sortValue(w, k) {
  if (k === "kvUse") return ratio(w.kvActiveBlocks, w.kvTotalBlocks) ?? -1;
  if (k === "slotUse") return ratio(w.requestActiveSlots, w.requestTotalSlots) ?? -1;
  if (k === "workerId") return BigInt(w.workerId);
  if (k === "intake") return w.intake || "";
  return w[k] == null ? -1 : w[k];
}

function renderTable(ep) {
  const workers = ep ? [...ep.workers] : [];
  const { key: k, dir } = state.sort;
  workers.sort((a, b) => { const x = sortValue(a, k), y = sortValue(b, k); return x < y ? -dir : x > y ? dir : 0; });
  const now = Date.now(), present = new Set(workers.map((w) => w.workerId + "/" + w.dpRank));
  // Workers that just left stay a few seconds, faded, so the eye sees them go.
  for (const w of (state.lastWorkers || [])) {
    const id = w.workerId + "/" + w.dpRank;
    if (!present.has(id) && !state.leaving.has(id)) state.leaving.set(id, { w, since: now });
  }
  for (const [id, l] of state.leaving) if (present.has(id) || now - l.since > 5000) state.leaving.delete(id);
  state.lastWorkers = workers;
  const rows = workers.map(row);
  for (const { w } of state.leaving.values()) { const r = row(w); r.classList.add("leaving"); r.dataset.leaving = "true"; rows.push(r); }
  $("#workers tbody").replaceChildren(...rows);
  document.querySelectorAll("#workers th").forEach((th) => {
    const b = th.querySelector("button");
    if (!b) return;
    if (b.dataset.sort === k) th.setAttribute("aria-sort", dir > 0 ? "ascending" : "descending"); else th.removeAttribute("aria-sort");
  });
}

// A chart with a time axis (minutes ago), a y range with its unit, and a readout of the value under
// the pointer; focus it and use the arrow keys (Home, End) to move the readout without a mouse.
const PLOT = { left: 40, right: 312, top: 8, bottom: 96 };
function chart(id, points, field, scale, unit) {
  const svg = $(`#${id}`);
  const now = Date.now() + state.skewMs; // the server's clock, which stamped the points
  const data = points.filter((p) => p[field] != null).map((p) => ({ t: p.t, v: p[field] * scale }));
  svg.dataset.points = String(data.length);
  svg.replaceChildren();
  if (data.length < 2) { svg.append(el("text", { x: 4, y: 52 }, "collecting…")); return; }
  const windowMs = Math.max(60000, now - data[0].t);
  const max = Math.max(...data.map((d) => d.v), unit === "%" ? 1 : 0.001) * 1.1;
  const top = unit === "%" ? Math.min(100, Math.max(max, 1)) : max;
  const x = (t) => PLOT.left + (PLOT.right - PLOT.left) * (1 - (now - t) / windowMs);
  const y = (v) => PLOT.bottom - (PLOT.bottom - PLOT.top) * Math.min(1, v / top);
  const fmt = (v) => (unit === "%" ? v.toFixed(v < 10 ? 1 : 0) + "%" : v >= 100 ? v.toFixed(0) : v.toFixed(2));
  // axes: y range with its unit, time in minutes ago
  svg.append(el("line", { class: "axis", x1: PLOT.left, y1: PLOT.bottom, x2: PLOT.right, y2: PLOT.bottom }));
  svg.append(el("text", { class: "tick y-max", x: PLOT.left - 3, y: PLOT.top + 4, "text-anchor": "end" }, fmt(top)));
  svg.append(el("text", { class: "tick y-min", x: PLOT.left - 3, y: PLOT.bottom, "text-anchor": "end" }, unit === "%" ? "0%" : "0"));
  const minutes = windowMs / 60000, step = minutes > 10 ? 5 : minutes > 4 ? 2 : 1;
  for (let m = 0; m <= minutes + 1e-9; m += step) {
    const tx = x(now - m * 60000);
    svg.append(el("line", { class: "grid", x1: tx, y1: PLOT.top, x2: tx, y2: PLOT.bottom }));
    svg.append(el("text", { class: "tick x", x: tx, y: PLOT.bottom + 12, "text-anchor": m === 0 ? "end" : "middle" }, m === 0 ? "now" : `${m} min ago`));
  }
  svg.append(el("polyline", { points: data.map((d) => `${x(d.t).toFixed(1)},${y(d.v).toFixed(1)}`).join(" ") }));
  // the readout
  const cursor = el("g", { class: "cursor", visibility: "hidden" });
  const line = el("line", { y1: PLOT.top, y2: PLOT.bottom }), dot = el("circle", { r: 2.5 });
  cursor.append(line, dot);
  svg.append(cursor);
  const out = document.getElementById(`${id}-readout`);
  const show = (i) => {
    i = Math.max(0, Math.min(data.length - 1, i));
    svg.dataset.cursor = String(i);
    const d = data[i], ago = (now - d.t) / 60000;
    line.setAttribute("x1", x(d.t)); line.setAttribute("x2", x(d.t));
    dot.setAttribute("cx", x(d.t)); dot.setAttribute("cy", y(d.v));
    cursor.setAttribute("visibility", "visible");
    out.textContent = `${fmt(d.v)} · ${ago < 0.1 ? "now" : ago.toFixed(1) + " min ago"}`;
  };
  svg._data = data;
  svg.onpointermove = (e) => {
    const vx = new DOMPoint(e.clientX, e.clientY).matrixTransform(svg.getScreenCTM().inverse()).x;
    const t = now - windowMs * (1 - (vx - PLOT.left) / (PLOT.right - PLOT.left));
    let best = 0;
    data.forEach((d, i) => { if (Math.abs(d.t - t) < Math.abs(data[best].t - t)) best = i; });
    show(best);
  };
  svg.onpointerleave = () => { cursor.setAttribute("visibility", "hidden"); out.textContent = ""; delete svg.dataset.cursor; };
  svg.onkeydown = (e) => {
    const at = svg.dataset.cursor == null ? data.length : Number(svg.dataset.cursor);
    const to = { ArrowLeft: at - 1, ArrowRight: at + 1, Home: 0, End: data.length - 1 }[e.key];
    if (to === undefined) return;
    e.preventDefault();
    show(to);
  };
  if (svg.dataset.cursor != null) show(Math.min(Number(svg.dataset.cursor), data.length - 1));
}

async function refreshFleet() {
  try {
    const r = await fetch("api/v1/fleet", { cache: "no-store" });
    const fleet = await r.json();
    state.lastFleet = fleet;
    state.skewMs = fleet.status.serverTimeMillis - Date.now();
    renderStatus(fleet);
    renderSelector(fleet);
    const ep = fleet.endpoints.find((e) => key(e) === state.selected);
    renderTiles(ep);
    renderTable(ep);
  } catch (e) {
    $("#status").className = "badge down";
    $("#status").textContent = "service unreachable";
    showBanner("Cannot reach the dynamo-metrics service: numbers below are not current.");
  }
}

async function refreshHistory() {
  if (!state.selected) return;
  const [ns, component, endpoint] = state.selected.split("/");
  try {
    const q = new URLSearchParams({ namespace: ns, component, endpoint, window: "15m" });
    const r = await fetch(`api/v1/history?${q}`, { cache: "no-store" });
    if (!r.ok) return;
    const h = await r.json();
    chart("chart-kv", h.points, "kvUsageRatio", 100, "%");
    chart("chart-slots", h.points, "slotsUsageRatio", 100, "%");
    chart("chart-waiting", h.points, "requestsWaiting", 1, "requests");
    chart("chart-imbalance", h.points, "imbalanceRatio", 1, "max/mean");
    state.workerKv = (h.workerKv && h.workerKv.workers) || {};
  } catch (e) { /* the fleet refresh reports an unreachable service */ }
}

document.querySelectorAll("#workers th button").forEach((b) => b.addEventListener("click", () => {
  const k = b.dataset.sort;
  state.sort = { key: k, dir: state.sort.key === k ? -state.sort.dir : 1 };
  if (state.lastFleet) renderTable(state.lastFleet.endpoints.find((e) => key(e) === state.selected));
}));
$("#endpoint-select").addEventListener("change", (e) => { state.selected = e.target.value; state.lastWorkers = []; refreshFleet(); refreshHistory(); });
refreshFleet(); refreshHistory();
setInterval(refreshFleet, 1000);
setInterval(refreshHistory, 5000);
