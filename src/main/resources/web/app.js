// The fleet dashboard: polls /api/v1/fleet every second and /api/v1/history every five, and never
// presents old numbers as current (a red banner and greyed numbers when data is not fresh).
"use strict";
const state = { selected: null, sort: { key: "workerId", dir: 1 }, leaving: new Map(), lastFleet: null };
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
      (s.polls > 0 ? " The numbers below are the last ones received and are not current; workers drop off after 3 missed polls." : "");
  } else if (s.polls === 0) {
    badge.textContent = "waiting for first poll";
  } else if (!s.fresh) {
    badge.textContent = "stale"; badge.classList.add("down");
    banner = `No completed poll for ${num(s.lastPollAgeSeconds, 0)} s: numbers below are not current.`;
  } else {
    badge.textContent = "live"; badge.classList.add("live");
  }
  showBanner(banner);
  $("#updated").textContent = s.polls > 0 ? `poll #${s.polls}, ${num(s.lastPollAgeSeconds, 1)} s ago` : "";
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

function row(w) {
  const tr = document.createElement("tr");
  const kvUse = w.kvTotalBlocks ? w.kvActiveBlocks / w.kvTotalBlocks : 0;
  const slotUse = w.requestTotalSlots ? w.requestActiveSlots / w.requestTotalSlots : 0;
  tr.className = level(Math.max(kvUse, slotUse));
  tr.dataset.worker = w.workerId + (w.dpRank == null ? "" : "/" + w.dpRank);
  const cells = [w.workerId, w.dpRank == null ? "–" : w.dpRank, null,
    `${w.requestActiveSlots} / ${w.requestTotalSlots}`, w.requestsWaiting, pct(w.gpuCacheUsage),
    pct(w.prefixCacheHitRate), `${num(w.statsAgeSeconds, 1)} s`];
  cells.forEach((c, i) => {
    const td = document.createElement("td");
    if (i === 2) {
      const bar = document.createElement("span"); bar.className = "bar";
      const fill = document.createElement("span"); fill.style.width = `${Math.min(100, 100 * kvUse)}%`;
      bar.append(fill); td.append(bar, `${w.kvActiveBlocks} / ${w.kvTotalBlocks}`);
    } else td.textContent = String(c);
    tr.append(td);
  });
  return tr;
}

function sortValue(w, k) {
  if (k === "kvUse") return w.kvTotalBlocks ? w.kvActiveBlocks / w.kvTotalBlocks : 0;
  if (k === "slotUse") return w.requestTotalSlots ? w.requestActiveSlots / w.requestTotalSlots : 0;
  if (k === "workerId") return BigInt(w.workerId);
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
    if (b.dataset.sort === k) th.setAttribute("aria-sort", dir > 0 ? "ascending" : "descending"); else th.removeAttribute("aria-sort");
  });
}

function chart(id, points, field, scale) {
  const svg = $(`#${id}`);
  const vals = points.map((p) => (p[field] == null ? null : p[field] * scale));
  const real = vals.filter((v) => v != null);
  svg.dataset.points = String(real.length);
  if (real.length < 2) { svg.innerHTML = '<text x="4" y="52">collecting…</text>'; return; }
  const t0 = points[0].t, t1 = points[points.length - 1].t || t0 + 1;
  const max = Math.max(...real, scale === 100 ? 1 : 0.001) * 1.1;
  const xy = points.map((p, i) => vals[i] == null ? null :
    `${(300 * (p.t - t0) / Math.max(1, t1 - t0)).toFixed(1)},${(100 - 100 * vals[i] / max).toFixed(1)}`).filter(Boolean);
  svg.innerHTML = `<polyline points="${xy.join(" ")}"></polyline><text x="2" y="10">${max.toFixed(scale === 100 ? 0 : 2)}</text>`;
}

async function refreshFleet() {
  try {
    const r = await fetch("/api/v1/fleet", { cache: "no-store" });
    const fleet = await r.json();
    state.lastFleet = fleet;
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
    const r = await fetch(`/api/v1/history?${q}`, { cache: "no-store" });
    if (!r.ok) return;
    const h = await r.json();
    chart("chart-kv", h.points, "kvUsageRatio", 100);
    chart("chart-slots", h.points, "slotsUsageRatio", 100);
    chart("chart-waiting", h.points, "requestsWaiting", 1);
    chart("chart-imbalance", h.points, "imbalanceRatio", 1);
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
