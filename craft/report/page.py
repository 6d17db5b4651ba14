r"""The page ``craft verify --html`` writes: its markup, style and script, all inline.

``craft.report.html`` fills the three ``<!--...-->`` markers with data. The Content
Security Policy forbids every fetch (``default-src 'none'``), so the page works offline
and cannot leak anything; only its own inline style and script run.

The script parses the exchanges at load (one short array each) and a message only when
an exchange showing it is clicked; the timeline draws just the rows in view over a spacer
as tall as all of them (virtual scrolling). Colours are the terminal view's palette
(``craft.view.hexview.PALETTE``) in the same order.
"""

PAGE = r"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>craft verify: %TITLE%</title>
<style>
:root { --ink: #1d2430; --muted: #667085; --line: #d9dee7; --bg: #f6f7f9; --card: #fff; --accent: #1565c0; --bad: #c62828; }
* { box-sizing: border-box; }
body { margin: 0; font: 13px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--ink); background: var(--bg); }
header { padding: 12px 20px; background: #14213d; color: #fff; display: flex; align-items: baseline; gap: 16px; flex-wrap: wrap; }
header h1 { font-size: 18px; margin: 0; font-weight: 600; }
header .src { font-family: ui-monospace, "DejaVu Sans Mono", monospace; opacity: .85; }
header .verdict { margin-left: auto; font-weight: 600; padding: 2px 10px; border-radius: 10px; background: #2e7d32; }
header .verdict.bad { background: var(--bad); }
main { padding: 12px 20px 24px; display: grid; gap: 12px; grid-template-columns: minmax(0, 1.15fr) minmax(0, 1fr); }
.card { background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 10px 12px; min-width: 0; }
.card h2 { font-size: 13px; margin: 0 0 8px; text-transform: uppercase; letter-spacing: .04em; color: var(--muted); }
.wide { grid-column: 1 / -1; }
.figures { display: flex; flex-wrap: wrap; gap: 6px 18px; }
.figures div { min-width: 92px; }
.figures b { display: block; font-size: 18px; }
.figures span { color: var(--muted); font-size: 11px; }
.charts { display: grid; grid-template-columns: 1.3fr 1fr 1fr 1.3fr; gap: 12px; }
.charts svg { width: 100%; height: 150px; display: block; }
.charts text { font-size: 10px; fill: var(--muted); }
#problems { max-height: 150px; overflow: auto; margin: 0; padding-left: 18px; }
#problems li { margin: 2px 0; }
a { color: var(--accent); cursor: pointer; text-decoration: none; }
a:hover { text-decoration: underline; }
.filters { display: flex; gap: 8px; margin-bottom: 8px; flex-wrap: wrap; }
.filters input, .filters select { font: inherit; padding: 3px 6px; border: 1px solid var(--line); border-radius: 4px; background: #fff; }
.filters input { flex: 1; min-width: 140px; }
.grid { display: grid; grid-template-columns: 38px 54px 28px minmax(0, 2.6fr) 42px minmax(0, 1.9fr) 40px 70px 44px minmax(0, 1fr); column-gap: 6px; align-items: center; }
.thead { font-weight: 600; color: var(--muted); border-bottom: 1px solid var(--line); padding: 2px 4px; }
#tl { height: 430px; overflow-y: auto; position: relative; border: 1px solid var(--line); border-top: 0; }
#rows { position: absolute; left: 0; right: 0; top: 0; will-change: transform; }
.r { height: 22px; padding: 0 4px; white-space: nowrap; cursor: pointer; border-bottom: 1px solid #eef0f4; font-family: ui-monospace, "DejaVu Sans Mono", monospace; font-size: 12px; }
.r > span { overflow: hidden; text-overflow: ellipsis; }
.r:hover { background: #eef4ff; }
.r.sel { background: #dbe8ff; }
.r .p { color: var(--bad); }
.rc-NOERROR { color: #2e7d32; }
.rc-NXDOMAIN, .rc-SERVFAIL, .rc-REFUSED, .rc-FORMERR, .rc-NOTIMP { color: var(--bad); }
#detail .empty { color: var(--muted); padding: 40px 0; text-align: center; }
.msg { margin-bottom: 12px; }
.msg h3 { font-size: 13px; margin: 4px 0; }
.msg .where { color: var(--muted); font-weight: 400; }
.hex { font: 13px/1.5 ui-monospace, "DejaVu Sans Mono", monospace; background: #fbfbfc; border: 1px solid var(--line); border-radius: 4px; padding: 6px 8px; white-space: pre; overflow-x: auto; }
.hex .o { font-weight: 600; }
.hex .o.plain { color: #98a2b3; font-weight: 400; }
table.fields { border-collapse: collapse; width: 100%; margin-top: 6px; font-size: 12px; }
table.fields th { text-align: left; color: var(--muted); font-weight: 600; border-bottom: 1px solid var(--line); padding: 2px 6px; }
table.fields td { padding: 1px 6px; vertical-align: top; border-bottom: 1px solid #f0f2f5; }
table.fields td:first-child { white-space: nowrap; color: var(--muted); }
table.fields td.b { font-family: ui-monospace, "DejaVu Sans Mono", monospace; font-weight: 600; white-space: nowrap; }
table.fields tr.part td.f { padding-left: 18px; color: var(--muted); }
.verdict-line { margin-top: 6px; padding: 4px 8px; border-radius: 4px; background: #e8f5e9; color: #1b5e20; white-space: pre-wrap; }
.verdict-line.bad { background: #fdecea; color: #8e1c1c; }
.summary-line { font-family: ui-monospace, "DejaVu Sans Mono", monospace; margin-bottom: 8px; }
.note { color: var(--muted); font-size: 11px; }
</style>
</head>
<body>
<header><h1>craft verify</h1><span class="src" id="src"></span><span class="verdict" id="verdict"></span></header>
<main>
<section class="card wide"><div class="figures" id="figures"></div></section>
<section class="card wide charts">
  <div><h2>Response times (ms)</h2><svg id="chart-rtt" role="img" aria-label="response time histogram"></svg></div>
  <div><h2>Response codes</h2><svg id="chart-rcode" role="img" aria-label="response codes"></svg></div>
  <div><h2>Query types</h2><svg id="chart-qtype" role="img" aria-label="query types"></svg></div>
  <div><h2>Problems</h2><ul id="problems"></ul></div>
</section>
<section class="card">
  <h2>Exchanges <span id="count"></span></h2>
  <div class="filters">
    <input id="f-name" type="search" placeholder="name contains…" aria-label="name">
    <select id="f-type" aria-label="type"></select>
    <select id="f-rcode" aria-label="rcode"></select>
    <select id="f-problem" aria-label="problem"></select>
  </div>
  <div class="grid thead"><span>#</span><span>time s</span><span></span><span>client → server</span><span>id</span><span>name</span><span>type</span><span>rcode</span><span>ms</span><span>problems</span></div>
  <div id="tl"><div id="spacer"></div><div id="rows"></div></div>
  <p class="note" id="limits"></p>
</section>
<section class="card" id="detail"><h2>Exchange</h2><div class="empty">Click an exchange to see both messages field by field, with Scapy's verdict.</div></section>
</main>
<script type="application/json" id="meta"><!--META--></script>
<script type="application/json" id="xrows"><!--ROWS--></script>
<script type="application/json" id="msgs"><!--MSGS--></script>
<script>
"use strict";
(function () {
const $ = (id) => document.getElementById(id);
const esc = (s) => String(s).replace(/[&<>"]/g, (c) => ({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;"})[c]);
const COLORS = ["#c62828", "#2e7d32", "#9a7400", "#1565c0", "#8e24aa", "#00838f", "#e65100", "#558b2f", "#c2185b", "#3949ab", "#6d4c41", "#00897b"];
const meta = JSON.parse($("meta").textContent);
const X = JSON.parse($("xrows").textContent);  // [t, proto, client, server, id, name, type, rcode, ms, bits, q, r, copies]
let text = null, starts = null;  // where each message's line starts, found on first use
const message = (i) => {
  if (!starts) {
    text = $("msgs").textContent;
    starts = new Uint32Array(meta.packets.length + 1);
    let at = 0;
    for (let k = 0; k < meta.packets.length; k++) { starts[k] = at; at = text.indexOf("\n", at) + 1; }
    starts[meta.packets.length] = at;
  }
  return JSON.parse(text.slice(starts[i], starts[i + 1] - 1));
};
X.sort((a, b) => a[0] - b[0]);
const msgRow = new Int32Array(meta.packets.length).fill(-1);
X.forEach((x, i) => { if (x[10] >= 0) msgRow[x[10]] = i; if (x[11] >= 0) msgRow[x[11]] = i; });
const BITS = meta.bits;
const DIS = BITS.indexOf("disagree"), MAL = BITS.indexOf("malformed");
X.forEach((x) => {  // an exchange is "disagree"/"malformed" when one of its messages is
  for (const m of [x[10], x[11]]) {
    if (m < 0) continue;
    const s = meta.status[m];
    if (s === "1") x[9] |= 1 << DIS;
    if (s === "2") x[9] |= 1 << MAL;
  }
});
const labels = (bits) => BITS.filter((_, i) => bits & (1 << i));

// ---- header, figures ----
const rep = meta.report, st = meta.stats;
$("src").textContent = meta.source;
const ok = rep.ok;
$("verdict").textContent = ok ? "craft and Scapy agree on every message" : (meta.problems.length + meta.more_problems) + " problem(s)";
if (!ok) $("verdict").classList.add("bad");
const t = st.response_time_ms;
const fig = [["packets", rep.packets], ["DNS messages", rep.dns_messages], ["queries", rep.queries], ["responses", rep.responses],
  ["exchanges", st.exchanges], ["unanswered", st.unanswered], ["unsolicited", st.unsolicited], ["retransmissions", st.retransmissions],
  ["duplicates", st.duplicates], ["TC → TCP", st.tc_retried_over_tcp + " / " + st.tc_answers], ["agreeing", rep.agreeing],
  ["disagreeing", rep.disagreeing], ["malformed", rep.malformed],
  ["median ms", t.median === null ? "-" : t.median], ["p95 ms", t.p95 === null ? "-" : t.p95], ["p99 ms", t.p99 === null ? "-" : t.p99], ["max ms", t.max === null ? "-" : t.max]];
$("figures").innerHTML = fig.map(([k, v]) => `<div><b>${esc(v)}</b><span>${esc(k)}</span></div>`).join("");

// ---- charts (SVG) ----
function svgBars(svg, items, colour) {
  const w = svg.clientWidth || 300, h = 150, pad = 4, lab = 78;
  const max = Math.max(1, ...items.map((i) => i[1]));
  const bh = Math.min(20, (h - pad * 2) / Math.max(items.length, 1) - 3);
  let out = "";
  items.forEach(([k, v], i) => {
    const y = pad + i * (bh + 3), bw = Math.max(1, (w - lab - 40) * v / max);
    out += `<text x="${lab - 4}" y="${y + bh * 0.75}" text-anchor="end">${esc(k)}</text>` +
      `<rect x="${lab}" y="${y}" width="${bw}" height="${bh}" rx="2" fill="${colour(k, i)}"><title>${esc(k)}: ${v}</title></rect>` +
      `<text x="${lab + bw + 4}" y="${y + bh * 0.75}">${v}</text>`;
  });
  svg.setAttribute("viewBox", `0 0 ${w} ${h}`);
  svg.innerHTML = out || `<text x="8" y="20">none</text>`;
}
svgBars($("chart-rcode"), Object.entries(st.rcodes).slice(0, 8), (k) => k === "NOERROR" ? "#2e7d32" : "#c62828");
svgBars($("chart-qtype"), Object.entries(st.qtypes).slice(0, 8), () => "#1565c0");
(function rttChart() {
  const svg = $("chart-rtt"), w = svg.clientWidth || 300, h = 150;
  const v = X.map((x) => x[8]).filter((m) => m !== null);
  svg.setAttribute("viewBox", `0 0 ${w} ${h}`);
  if (!v.length) { svg.innerHTML = `<text x="8" y="20">no answered exchanges</text>`; return; }
  let lo = Infinity, hi = -Infinity;
  for (const m of v) { if (m < lo) lo = m; if (m > hi) hi = m; }
  if (hi - lo < 0.001) {  // one value: e.g. a server that stamps both messages at once
    svg.innerHTML = `<rect x="${w / 2 - 14}" y="20" width="28" height="${h - 50}" fill="#1565c0"></rect>` +
      `<text x="${w / 2}" y="${h - 14}" text-anchor="middle">all ${v.length} answered in ${lo} ms</text>`;
    return;
  }
  const floor = Math.max(lo, 0.001), bins = 24;
  const span = Math.log(Math.max(hi, floor * 1.0001) / floor);
  const counts = new Array(bins).fill(0);
  for (const m of v) counts[Math.min(bins - 1, Math.max(0, Math.floor(Math.log(Math.max(m, floor) / floor) / span * bins)))]++;
  const max = Math.max(...counts), bw = (w - 20) / bins;
  let out = "";
  counts.forEach((c, i) => {
    const bh = c ? Math.max(2, (h - 30) * c / max) : 0;
    const a = floor * Math.exp(span * i / bins), b = floor * Math.exp(span * (i + 1) / bins);
    out += `<rect x="${10 + i * bw}" y="${h - 18 - bh}" width="${bw - 2}" height="${bh}" fill="#1565c0"><title>${a.toPrecision(3)}-${b.toPrecision(3)} ms: ${c}</title></rect>`;
  });
  out += `<text x="10" y="${h - 4}">${floor.toPrecision(3)} ms</text><text x="${w - 10}" y="${h - 4}" text-anchor="end">${hi.toPrecision(3)} ms (log scale)</text>`;
  svg.innerHTML = out;
})();

// ---- problems ----
const plist = [];
BITS.forEach((b, i) => {
  const n = X.reduce((s, x) => s + ((x[9] >> i) & 1), 0);
  if (n) plist.push(`<li><a data-problem="${esc(b)}">${n} exchange(s): ${esc(b)}</a></li>`);
});
for (const p of meta.problems) {
  plist.push(`<li><a data-packet="${p.packet}">${p.packet ? "packet " + p.packet : "capture"}</a>: ${esc(p.kind)}: ${esc(p.detail.length > 300 ? p.detail.slice(0, 300) + "…" : p.detail)}</li>`);
}
if (meta.more_problems) plist.push(`<li>… and ${meta.more_problems} more (see craft verify's own output)</li>`);
$("problems").innerHTML = plist.join("") || "<li>none</li>";
$("problems").addEventListener("click", (e) => {
  const a = e.target.closest("a"); if (!a) return;
  if (a.dataset.problem) { resetFilters(); $("f-problem").value = a.dataset.problem; apply(); return; }
  const packet = Number(a.dataset.packet), i = firstMessage(packet);
  if (i < 0) return;
  if (msgRow[i] >= 0) { resetFilters(); apply(); reveal(msgRow[i]); } else showAlone(i);
});
function firstMessage(packet) {
  let lo = 0, hi = meta.packets.length;
  while (lo < hi) { const mid = (lo + hi) >> 1; if (meta.packets[mid] < packet) lo = mid + 1; else hi = mid; }
  return lo < meta.packets.length && meta.packets[lo] === packet ? lo : -1;
}

// ---- filters ----
function options(sel, first, values) {
  sel.innerHTML = [`<option value="">${first}</option>`, ...values.map((v) => `<option>${esc(v)}</option>`)].join("");
}
const uniq = (i) => [...new Set(X.map((x) => x[i]).filter((v) => v))].sort();
options($("f-type"), "any type", uniq(6));
options($("f-rcode"), "any rcode", [...uniq(7), "(no response)"]);
options($("f-problem"), "any or none", ["any problem", "no problem", ...BITS]);
let shown = X.map((_, i) => i);
function resetFilters() { $("f-name").value = ""; $("f-type").value = ""; $("f-rcode").value = ""; $("f-problem").value = ""; }
function apply() {
  const name = $("f-name").value.trim().toLowerCase(), type = $("f-type").value, rcode = $("f-rcode").value, prob = $("f-problem").value;
  const bit = BITS.indexOf(prob);
  shown = [];
  for (let i = 0; i < X.length; i++) {
    const x = X[i];
    if (name && !x[5].toLowerCase().includes(name)) continue;
    if (type && x[6] !== type) continue;
    if (rcode && (rcode === "(no response)" ? x[7] !== "" : x[7] !== rcode)) continue;
    if (prob === "any problem" && !x[9]) continue;
    if (prob === "no problem" && x[9]) continue;
    if (bit >= 0 && !(x[9] & (1 << bit))) continue;
    shown.push(i);
  }
  $("count").textContent = `(${shown.length.toLocaleString()} of ${X.length.toLocaleString()})`;
  $("spacer").style.height = shown.length * ROW + "px";
  $("tl").scrollTop = 0;
  render(true);
}
for (const id of ["f-name", "f-type", "f-rcode", "f-problem"]) $(id).addEventListener("input", apply);

// ---- the timeline: only the rows in view are in the document ----
const ROW = 22, tl = $("tl"), rowsEl = $("rows");
let selected = -1, pending = false;
function rowHtml(k) {
  const i = shown[k], x = X[i];
  const probs = labels(x[9]).join(", ");
  return `<div class="r grid${i === selected ? " sel" : ""}" data-x="${i}"><span>${i + 1}</span><span>${x[0].toFixed(3)}</span>` +
    `<span>${x[1]}</span><span title="${esc(x[2])} → ${esc(x[3])}">${esc(x[2])} → ${esc(peer(x[2], x[3]))}</span><span>${x[4] === null ? "" : x[4]}</span>` +
    `<span title="${esc(x[5])}">${esc(x[5])}</span><span>${esc(x[6])}</span><span class="rc-${esc(x[7])}">${esc(x[7] || "—")}</span>` +
    `<span>${x[8] === null ? "" : x[8]}</span><span class="p">${esc(probs)}</span></div>`;
}
function peer(client, server) {  // the server's port alone when both ends share a host
  const host = (e) => e.slice(0, e.lastIndexOf(":"));
  return host(client) === host(server) ? server.slice(server.lastIndexOf(":")) : server;
}
let drawn = "";
function render(force) {
  pending = false;
  const first = Math.max(0, Math.floor(tl.scrollTop / ROW) - 4);
  const last = Math.min(shown.length, first + Math.ceil(tl.clientHeight / ROW) + 8);
  const key = `${first} ${last} ${selected} ${shown.length}`;
  if (key === drawn && !force) return;  // the same rows: leave the document alone
  drawn = key;
  let html = "";
  for (let k = first; k < last; k++) html += rowHtml(k);
  rowsEl.style.transform = `translateY(${first * ROW}px)`;
  rowsEl.innerHTML = html;
}
tl.addEventListener("scroll", () => { if (!pending) { pending = true; requestAnimationFrame(render); } });
rowsEl.addEventListener("click", (e) => { const r = e.target.closest(".r"); if (r) select(Number(r.dataset.x)); });
function reveal(i) {
  let k = shown.indexOf(i);
  if (k < 0) { resetFilters(); apply(); k = shown.indexOf(i); }
  tl.scrollTop = Math.max(0, k * ROW - tl.clientHeight / 3);
  select(i);
}

// ---- one exchange, the lab's way ----
function panel(title, i) {
  const m = message(i);  // [packet, t, proto, src, dst, length, hex, spans, status, verdict]
  const [packet, , proto, src, dst, length, kept, spans, status, verdict] = m;
  const hex = kept === null ? "" : kept;  // null: past the page's limits (see the note)
  const n = hex.length / 2, colour = new Array(n).fill(-1);
  for (const s of spans) if (s[2] === 0 && s[3] >= 0) for (let o = s[0]; o < Math.min(s[1], n); o++) colour[o] = s[3];
  let dump = "";
  for (let o = 0; o < n; o++) {
    const c = colour[o], cell = hex.substr(o * 2, 2);
    dump += c >= 0 ? `<span class="o" data-o="${o}" style="color:${COLORS[c]}">${cell}</span>` : `<span class="o plain" data-o="${o}">${cell}</span>`;
    dump += o === n - 1 ? "" : (o % 16 === 15 ? "\n" : " ");
  }
  let section = null, rows = "";
  for (const s of spans) {
    const sec = meta.words[s[4]], field = meta.words[s[5]];
    const raw = hex.slice(s[0] * 2, Math.min(s[1], n) * 2).replace(/(..)(?!$)/g, "$1 ");
    const shownRaw = raw.length > 47 ? raw.slice(0, 44) + " …" : raw;
    const style = s[3] >= 0 ? ` style="color:${COLORS[s[3]]}"` : "";
    rows += `<tr class="${s[2] ? "part" : "field"}" data-start="${s[0]}" data-end="${s[1]}" data-level="${s[2]}">` +
      `<td>${sec === section ? "" : esc(sec)}</td><td class="f">${esc(s[2] ? meta.words[s[7]] : field)}</td>` +
      `<td class="b"${style}>${esc(shownRaw)}</td><td>${esc(s[6])}</td></tr>`;
    section = sec;
  }
  const agree = status === 0;
  const said = agree ? "Scapy agrees with craft on every field, and craft re-encodes it" : verdict;
  const cut = kept === null ? ` <span class="note">(hex and fields not kept: see the note under the timeline)</span>`
    : length > n ? ` <span class="note">(first ${n} of ${length} octets shown)</span>` : "";
  return `<div class="msg"><h3>${title} <span class="where">packet ${packet} · ${proto} ${esc(src)} → ${esc(dst)} · ${length} octets</span>${cut}</h3>` +
    `<div class="hex">${dump}</div><table class="fields"><thead><tr><th>SECTION</th><th>FIELD</th><th>BYTES</th><th>VALUE</th></tr></thead><tbody>${rows}</tbody></table>` +
    `<div class="verdict-line${agree ? "" : " bad"}">scapy: ${esc(said)}</div></div>`;
}
function select(i) {
  selected = i;
  render();
  const x = X[i];
  const probs = labels(x[9]);
  let html = `<h2>Exchange ${i + 1}</h2><div class="summary-line">${x[1]} ${esc(x[2])} → ${esc(x[3])} · id ${x[4] === null ? "?" : x[4]} · ${esc(x[5] || "(no question)")} ${esc(x[6])} · ${esc(x[7] || "no response")}` +
    `${x[8] === null ? "" : " · " + x[8] + " ms"}${x[12] > 1 ? " · sent " + x[12] + " times" : ""}${probs.length ? ' · <span style="color:var(--bad)">' + esc(probs.join(", ")) + "</span>" : ""}</div>`;
  if (x[10] >= 0) html += panel("Query", x[10]); else html += `<p class="note">No query in the capture for this response.</p>`;
  if (x[11] >= 0) html += panel("Response", x[11]); else html += `<p class="note">No response in the capture.</p>`;
  $("detail").innerHTML = html;
}
function showAlone(i) {
  selected = -1; render();
  $("detail").innerHTML = `<h2>Message</h2>` + panel("Message", i);
}
$("limits").textContent = `Each message's data in this page is at most ${meta.max_entry.toLocaleString()} characters (hex of its first ${meta.max_octets.toLocaleString()} octets, field spans, Scapy's verdict); only the rows in view are drawn.` +
  (meta.undetailed ? ` Hex and fields are kept for the first ${meta.detailed.toLocaleString()} messages and up to ${meta.late_problems.toLocaleString()} later ones with a problem; the other ${meta.undetailed.toLocaleString()} keep their row and Scapy's verdict (a browser holds the page's data as one string).` : "");
apply();
})();
</script>
</body>
</html>
"""
