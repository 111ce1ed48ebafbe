// The scorer's own live page (/dashboard): one self-contained HTML document whose inline script polls
// ./metrics, parses the Prometheus text format in the browser and draws SVG charts. No external
// scripts, fonts or CDNs, so it works on an air-gapped box with nothing but the scorer running.
//
// Each chart's <svg> carries data-chart="<name>" and data-points="<points drawn>" (bars with a value
// for the drift chart), and <body> data-polls="<successful polls>", so tests can tell a chart has data.

const STYLE = `
:root { --bg:#0f1419; --panel:#171d24; --line:#26303b; --text:#d8dee6; --muted:#8593a3; }
* { box-sizing: border-box; }
body { margin:0; background:var(--bg); color:var(--text); font:13px/1.4 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif; }
header { display:flex; align-items:baseline; gap:24px; padding:14px 20px 6px; flex-wrap:wrap; }
header h1 { font-size:18px; margin:0; font-weight:600; letter-spacing:.2px; }
header .model { color:var(--muted); }
header .model b { color:var(--text); font-weight:600; }
#status { margin-left:auto; color:var(--muted); }
#status.err { color:#ff6b6b; }
.stats { display:flex; gap:10px; padding:6px 20px 4px; flex-wrap:wrap; }
.stat { background:var(--panel); border:1px solid var(--line); border-radius:6px; padding:8px 14px; min-width:128px; }
.stat .v { font-size:20px; font-weight:600; font-variant-numeric:tabular-nums; }
.stat .k { color:var(--muted); font-size:11px; text-transform:uppercase; letter-spacing:.6px; }
main { display:grid; grid-template-columns:repeat(4, minmax(0,1fr)); gap:12px; padding:10px 20px 20px; }
.panel { background:var(--panel); border:1px solid var(--line); border-radius:6px; padding:10px 12px 6px; min-width:0; }
.panel.wide { grid-column: span 2; grid-row: span 2; }
.panel h2 { font-size:13px; font-weight:600; margin:0 0 2px; }
.panel .sub { color:var(--muted); font-size:11px; margin-bottom:4px; min-height:15px; }
.legend { display:flex; gap:12px; flex-wrap:wrap; font-size:11px; color:var(--muted); min-height:16px; }
.legend i { display:inline-block; width:10px; height:3px; margin-right:4px; vertical-align:middle; border-radius:1px; }
.legend b { color:var(--text); font-weight:600; font-variant-numeric:tabular-nums; }
svg { display:block; width:100%; }
svg text { fill:var(--muted); font-size:10px; font-variant-numeric:tabular-nums; }
@media (max-width: 1100px) { main { grid-template-columns:repeat(2, minmax(0,1fr)); } }
`;

// Plain ES2020, no template literals (this file is one), so it can sit inside this TypeScript string.
const SCRIPT = `
(function () {
'use strict';
var KEEP = 180;
var params = new URLSearchParams(location.search);
var INTERVAL = Math.max(250, Number(params.get('interval')) || 1000);
var COLORS = { a:'#4dabf7', b:'#ffa94d', c:'#69db7c', d:'#ff6b6b', e:'#b197fc', f:'#ffd43b' };
var STAGES = ['decode', 'features', 'inference', 'policy', 'produce', 'commit'];
var STAGE_COLORS = ['#8593a3', '#b197fc', '#4dabf7', '#69db7c', '#ffa94d', '#ff6b6b'];
var history = [];
var polls = 0;
var started = Date.now();

function parseMetrics(text) {
  var out = new Map();
  var lines = text.split('\\n');
  for (var i = 0; i < lines.length; i++) {
    var line = lines[i];
    if (line === '' || line.charCodeAt(0) === 35) continue;
    var m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\\{(.*)\\})?\\s+(\\S+)/.exec(line);
    if (!m) continue;
    var labels = {};
    if (m[3]) {
      var re = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\\]|\\\\.)*)"/g;
      var l;
      while ((l = re.exec(m[3])) !== null) labels[l[1]] = l[2].replace(/\\\\(.)/g, function (_, c) { return c === 'n' ? '\\n' : c; });
    }
    var v = m[4] === '+Inf' ? Infinity : m[4] === '-Inf' ? -Infinity : Number(m[4]);
    var list = out.get(m[1]);
    if (!list) { list = []; out.set(m[1], list); }
    list.push({ labels: labels, value: v });
  }
  return out;
}

function sum(ms, name, filter) {
  var s = 0, list = ms.get(name) || [];
  for (var i = 0; i < list.length; i++) if (!filter || filter(list[i].labels)) s += list[i].value;
  return s;
}
function max(ms, name) {
  var list = ms.get(name) || [], m = NaN;
  for (var i = 0; i < list.length; i++) if (!(list[i].value <= m)) m = list[i].value;
  return m;
}
function one(ms, name, key, value) {
  var list = ms.get(name) || [];
  for (var i = 0; i < list.length; i++) if (key === undefined || list[i].labels[key] === value) return list[i].value;
  return NaN;
}
function buckets(ms, name, key, value) {
  var list = ms.get(name + '_bucket') || [], b = [];
  for (var i = 0; i < list.length; i++) if (key === undefined || list[i].labels[key] === value) b.push([Number(list[i].labels.le === '+Inf' ? Infinity : list[i].labels.le), list[i].value]);
  b.sort(function (x, y) { return x[0] - y[0]; });
  return b;
}
// histogram_quantile over the increase between two scrapes (linear within the bucket, like Prometheus).
function quantile(q, now, then) {
  if (!now.length || !then || then.length !== now.length) return NaN;
  var total = now[now.length - 1][1] - then[then.length - 1][1];
  if (!(total > 0)) return NaN;
  var rank = q * total, prevLe = 0, prevC = 0;
  for (var i = 0; i < now.length; i++) {
    var c = now[i][1] - then[i][1];
    if (c >= rank) {
      var le = now[i][0];
      if (le === Infinity) return now[i - 1] ? now[i - 1][0] : NaN;
      return prevLe + (le - prevLe) * ((rank - prevC) / Math.max(c - prevC, 1e-12));
    }
    prevLe = now[i][0]; prevC = c;
  }
  return NaN;
}

function snapshot(ms) {
  return {
    t: Date.now() / 1000,
    in: sum(ms, 'fraudscore_records_in_total'),
    out: sum(ms, 'fraudscore_decisions_total'),
    approve: one(ms, 'fraudscore_decisions_total', 'outcome', 'APPROVE'),
    review: one(ms, 'fraudscore_decisions_total', 'outcome', 'REVIEW'),
    decline: one(ms, 'fraudscore_decisions_total', 'outcome', 'DECLINE'),
    dlq: sum(ms, 'fraudscore_dead_letters_total'),
    degraded: sum(ms, 'fraudscore_degraded_decisions_total'),
    overruns: sum(ms, 'fraudscore_inference_budget_overruns_total'),
    lat: buckets(ms, 'fraudscore_processing_seconds'),
    stages: STAGES.map(function (s) { return buckets(ms, 'fraudscore_stage_duration_seconds', 'stage', s); }),
    lagRecords: (ms.get('fraudscore_consumer_lag_records') || []).length ? sum(ms, 'fraudscore_consumer_lag_records') : NaN,
    lagSeconds: max(ms, 'fraudscore_consumer_lag_seconds'),
    scorePsi: one(ms, 'fraudscore_score_psi'),
    maxFeaturePsi: max(ms, 'fraudscore_feature_psi'),
  };
}

function rate(key) {
  var pts = [];
  for (var i = 1; i < history.length; i++) {
    var a = history[i - 1], b = history[i], dt = b.t - a.t;
    if (dt > 0 && b[key] >= a[key]) pts.push([b.t, (b[key] - a[key]) / dt]);
  }
  return pts;
}
function gauge(key) {
  var pts = [];
  for (var i = 0; i < history.length; i++) if (Number.isFinite(history[i][key])) pts.push([history[i].t, history[i][key]]);
  return pts;
}
function quantiles(q, scale, pick) {
  var pts = [];
  pick = pick || function (h) { return h.lat; };
  // Over a 5-sample sliding span, so one quiet poll does not blank the line.
  for (var i = 1; i < history.length; i++) {
    var v = quantile(q, pick(history[i]), pick(history[Math.max(0, i - 5)]));
    if (Number.isFinite(v)) pts.push([history[i].t, v * scale]);
  }
  return pts;
}

function fmt(v, unit) {
  if (!Number.isFinite(v)) return '–';
  var a = Math.abs(v), s;
  if (Number.isInteger(v) && a < 1e4) return String(v) + (unit || '');
  if (a >= 1e9) s = (v / 1e9).toFixed(2) + 'G';
  else if (a >= 1e6) s = (v / 1e6).toFixed(2) + 'M';
  else if (a >= 1e4) s = (v / 1e3).toFixed(1) + 'k';
  else if (a >= 100) s = v.toFixed(0);
  else if (a >= 10) s = v.toFixed(1);
  else if (a >= 1) s = v.toFixed(2);
  else if (a === 0) s = '0';
  else s = v.toPrecision(2);
  return s + (unit || '');
}

var NS = 'http://www.w3.org/2000/svg';
function el(name, attrs, parent) {
  var e = document.createElementNS(NS, name);
  for (var k in attrs) e.setAttribute(k, attrs[k]);
  if (parent) parent.appendChild(e);
  return e;
}
function niceMax(v) {
  if (!(v > 0)) return 1;
  var p = Math.pow(10, Math.floor(Math.log10(v))), r = v / p;
  return (r <= 1 ? 1 : r <= 2 ? 2 : r <= 2.5 ? 2.5 : r <= 5 ? 5 : 10) * p;
}

function lineChart(name, series, unit) {
  var svg = document.querySelector('svg[data-chart="' + name + '"]');
  var W = svg.clientWidth || 300, H = 150, L = 44, R = 8, T = 8, B = 18;
  svg.setAttribute('viewBox', '0 0 ' + W + ' ' + H);
  svg.setAttribute('height', H);
  while (svg.firstChild) svg.removeChild(svg.firstChild);
  // The time axis spans the data held (up to KEEP polls), at least 30 polls, ending now.
  var t1 = Date.now() / 1000, first = t1, ymax = 0, n = 0;
  series.forEach(function (s) {
    s.points.forEach(function (p) { if (p[1] > ymax) ymax = p[1]; if (p[0] < first) first = p[0]; });
    n = Math.max(n, s.points.length);
  });
  var t0 = Math.min(first, t1 - 30 * INTERVAL / 1000);
  ymax = niceMax(ymax * 1.05);
  var x = function (t) { return L + (W - L - R) * (t - t0) / (t1 - t0); };
  var y = function (v) { return T + (H - T - B) * (1 - v / ymax); };
  for (var g = 0; g <= 4; g++) {
    var gv = ymax * g / 4;
    el('line', { x1: L, x2: W - R, y1: y(gv), y2: y(gv), stroke: '#26303b', 'stroke-width': 1 }, svg);
    el('text', { x: L - 6, y: y(gv) + 3, 'text-anchor': 'end' }, svg).textContent = fmt(gv);
  }
  var span = (t1 - t0);
  [1, 0.5, 0].forEach(function (f) {
    el('text', { x: x(t1 - span * f), y: H - 4, 'text-anchor': f === 1 ? 'start' : f === 0 ? 'end' : 'middle' }, svg)
      .textContent = f === 0 ? 'now' : '−' + Math.round(span * f) + ' s';
  });
  if (n === 0) {
    el('text', { x: (L + W - R) / 2, y: (T + H - B) / 2, 'text-anchor': 'middle' }, svg).textContent = 'no data';
  }
  series.forEach(function (s) {
    if (!s.points.length) return;
    var d = s.points.map(function (p, i) { return (i ? 'L' : 'M') + x(p[0]).toFixed(1) + ' ' + y(p[1]).toFixed(1); }).join(' ');
    el('path', { d: d, fill: 'none', stroke: s.color, 'stroke-width': 1.8, 'stroke-linejoin': 'round' }, svg);
  });
  svg.setAttribute('data-points', String(n));
  var legend = document.querySelector('[data-legend="' + name + '"]');
  legend.innerHTML = '';
  series.forEach(function (s) {
    var last = s.points.length ? s.points[s.points.length - 1][1] : NaN;
    var span = document.createElement('span');
    span.innerHTML = '<i style="background:' + s.color + '"></i>' + s.name + ' <b>' + fmt(last, unit) + '</b>';
    legend.appendChild(span);
  });
}

function driftChart(ms) {
  var svg = document.querySelector('svg[data-chart="drift"]');
  var rows = (ms.get('fraudscore_feature_psi') || []).map(function (s) { return [s.labels.feature, s.value]; });
  var score = one(ms, 'fraudscore_score_psi');
  rows.push(['score', score]);
  var W = svg.clientWidth || 600, rowH = 15, T = 4, B = 18, L = 170, R = 50, H = T + B + rowH * rows.length;
  svg.setAttribute('viewBox', '0 0 ' + W + ' ' + H);
  svg.setAttribute('height', H);
  while (svg.firstChild) svg.removeChild(svg.firstChild);
  var top = 0.5;
  rows.forEach(function (r) { if (r[1] > top) top = r[1]; });
  top = niceMax(top);
  // Square-root scale: small values near the 0.1 / 0.25 thresholds stay readable next to large ones.
  var x = function (v) { return L + (W - L - R) * Math.sqrt(Math.max(0, Math.min(v, top)) / top); };
  (top >= 2 ? [0.1, 0.25, 1] : [0.1, 0.25]).forEach(function (th) {
    var stroke = th === 0.1 ? '#ffd43b' : th === 0.25 ? '#ff6b6b' : '#26303b';
    el('line', { x1: x(th), x2: x(th), y1: T, y2: H - B, stroke: stroke, 'stroke-dasharray': '3 3', 'stroke-width': 1 }, svg);
    el('text', { x: x(th), y: H - 5, 'text-anchor': 'middle' }, svg).textContent = String(th);
  });
  el('text', { x: W - R, y: H - 5, 'text-anchor': 'end' }, svg).textContent = fmt(top) + ' (√ scale)';
  var withValue = 0;
  rows.forEach(function (r, i) {
    var yy = T + i * rowH;
    var label = el('text', { x: L - 6, y: yy + 11, 'text-anchor': 'end' }, svg);
    label.textContent = r[0];
    if (r[0] === 'score') label.setAttribute('style', 'fill:#d8dee6;font-weight:600');
    var v = r[1];
    if (Number.isFinite(v)) {
      withValue++;
      var color = v >= 0.25 ? '#ff6b6b' : v >= 0.1 ? '#ffa94d' : '#69db7c';
      el('rect', { x: L, y: yy + 2, width: Math.max(1, x(v) - L), height: rowH - 4, fill: color, rx: 2 }, svg);
    }
    el('text', { x: Number.isFinite(v) ? Math.min(x(v) + 4, W - R + 4) : L + 4, y: yy + 11 }, svg).textContent = Number.isFinite(v) ? v.toFixed(3) : 'n/a (window filling)';
  });
  svg.setAttribute('data-points', String(withValue));
  var win = one(ms, 'fraudscore_drift_window_records'), def = one(ms, 'fraudscore_defaulted_features_ratio');
  document.getElementById('drift-sub').textContent =
    'PSI of the last ' + fmt(win) + ' records vs the training baseline · defaulted features ' + fmt(100 * def, '%') +
    ' · > 0.25 significant';
}

function header(ms) {
  var models = (ms.get('fraudscore_model_info') || []).map(function (s) {
    return s.labels.role + ' <b>' + s.labels.name + '@' + s.labels.version + '</b> (' + s.labels.format + ')';
  });
  document.getElementById('model').innerHTML = models.join(' · ') + ' · reloads <b>' + fmt(sum(ms, 'fraudscore_model_reloads_total')) + '</b>';
  var last = history[history.length - 1];
  var set = function (id, v) { document.getElementById(id).textContent = v; };
  set('s-in', fmt(last.in)); set('s-out', fmt(last.out)); set('s-dlq', fmt(last.dlq)); set('s-deg', fmt(last.degraded));
  set('s-over', fmt(last.overruns));
  var tp = rate('out'); set('s-tps', tp.length ? fmt(tp[tp.length - 1][1], '/s') : '–');
}

function render(ms) {
  header(ms);
  lineChart('throughput', [
    { name: 'records in', color: COLORS.a, points: rate('in') },
    { name: 'decisions', color: COLORS.c, points: rate('out') },
  ], '/s');
  lineChart('latency', [
    { name: 'p50', color: COLORS.a, points: quantiles(0.5, 1000) },
    { name: 'p99', color: COLORS.b, points: quantiles(0.99, 1000) },
  ], ' ms');
  lineChart('outcomes', [
    { name: 'APPROVE', color: COLORS.c, points: rate('approve') },
    { name: 'REVIEW', color: COLORS.f, points: rate('review') },
    { name: 'DECLINE', color: COLORS.d, points: rate('decline') },
  ], '/s');
  lineChart('errors', [
    { name: 'dead letters', color: COLORS.d, points: rate('dlq') },
    { name: 'degraded', color: COLORS.b, points: rate('degraded') },
  ], '/s');
  lineChart('stages', STAGES.map(function (s, k) {
    return { name: s, color: STAGE_COLORS[k], points: quantiles(0.99, 1000, function (h) { return h.stages[k]; }) };
  }).filter(function (s) { return s.points.length > 0; }), ' ms');
  lineChart('lag', [
    { name: 'records (sum)', color: COLORS.e, points: gauge('lagRecords') },
  ], '');
  lineChart('lagSeconds', [
    { name: 'oldest partition', color: COLORS.b, points: gauge('lagSeconds') },
  ], ' s');
  lineChart('psi', [
    { name: 'score', color: COLORS.a, points: gauge('scorePsi') },
    { name: 'max feature', color: COLORS.d, points: gauge('maxFeaturePsi') },
  ], '');
  driftChart(ms);
}

function poll() {
  fetch('metrics', { cache: 'no-store' })
    .then(function (r) { if (!r.ok) throw new Error('HTTP ' + r.status); return r.text(); })
    .then(function (text) {
      var ms = parseMetrics(text);
      history.push(snapshot(ms));
      if (history.length > KEEP) history.shift();
      polls++;
      document.body.setAttribute('data-polls', String(polls));
      var st = document.getElementById('status');
      st.className = '';
      st.textContent = 'live · every ' + (INTERVAL / 1000) + ' s · ' + new Date().toLocaleTimeString();
      render(ms);
    })
    .catch(function (err) {
      var st = document.getElementById('status');
      st.className = 'err';
      st.textContent = 'cannot read /metrics: ' + err.message;
    })
    .finally(function () { setTimeout(poll, INTERVAL); });
}
poll();
})();
`;

function panel(chart: string, title: string, sub: string, wide = false): string {
  return `<section class="panel${wide ? ' wide' : ''}"><h2>${title}</h2><div class="sub"${chart === 'drift' ? ' id="drift-sub"' : ''}>${sub}</div><svg data-chart="${chart}" data-points="0"></svg><div class="legend" data-legend="${chart}"></div></section>`;
}

const PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>fraudscore · live</title><link rel="icon" href="data:,"><style>${STYLE}</style></head>
<body data-polls="0">
<header><h1>fraudscore</h1><span class="model" id="model">loading…</span><span id="status">connecting…</span></header>
<div class="stats">
<div class="stat"><div class="v" id="s-tps">–</div><div class="k">decisions / s</div></div>
<div class="stat"><div class="v" id="s-in">–</div><div class="k">records in</div></div>
<div class="stat"><div class="v" id="s-out">–</div><div class="k">decisions</div></div>
<div class="stat"><div class="v" id="s-dlq">–</div><div class="k">dead letters</div></div>
<div class="stat"><div class="v" id="s-deg">–</div><div class="k">degraded</div></div>
<div class="stat"><div class="v" id="s-over">–</div><div class="k">budget overruns</div></div>
</div>
<main>
${panel('throughput', 'Throughput', 'records / s read and decided')}
${panel('latency', 'Processing latency', 'record received → decision written (p50, p99)')}
${panel('outcomes', 'Decisions by outcome', 'decisions / s')}
${panel('errors', 'Dead letters and degraded', 'records / s')}
${panel('lag', 'Consumer lag', 'records behind the high watermark (Kafka only)')}
${panel('lagSeconds', 'Seconds behind the head', 'how long the oldest waiting record has been at the head (0 = caught up)')}
${panel('drift', 'Drift by feature', '', true)}
${panel('stages', 'Stage latency p99', 'per micro-batch, by pipeline stage')}
${panel('psi', 'Drift over time', 'PSI of the score and the most drifted feature')}
</main>
<script>${SCRIPT}</script>
</body></html>
`;

/** The dashboard page (built once; the page fetches ./metrics itself). */
export function dashboardHtml(): string {
  return PAGE;
}
