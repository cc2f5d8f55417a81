import { createHash } from 'node:crypto';

// The page ships as strings in a module: tsc copies no .html files into dist/, and one file
// with no external resource needs no build step and no CDN. Everything from the API reaches the
// DOM through textContent or attributes set from code, never as markup.

const STYLE = `
:root {
  color-scheme: light dark;
  --bg: #f3f5f9; --panel: #ffffff; --panel-2: #f8fafc; --text: #0f172a; --muted: #5f6b7e; --faint: #94a3b8;
  --line: #e2e7ef; --rps: #4f46e5; --rps-fill: rgba(79, 70, 229, .13); --p99: #ea580c; --p99-fill: rgba(234, 88, 12, .10);
  --ok: #15803d; --ok-bg: #dcfce7; --warn: #b45309; --warn-bg: #fef3c7; --bad: #b91c1c; --bad-bg: #fee2e2;
  --info: #1d4ed8; --info-bg: #dbeafe; --teal: #0e7490; --teal-bg: #cffafe; --grey: #475569; --grey-bg: #e6eaf0;
  --shadow: 0 1px 2px rgba(15, 23, 42, .05), 0 1px 3px rgba(15, 23, 42, .04); --radius: 12px;
  --mono: ui-monospace, SFMono-Regular, Menlo, Consolas, "Liberation Mono", "DejaVu Sans Mono", monospace;
}
@media (prefers-color-scheme: dark) {
  :root {
    --bg: #0a0e17; --panel: #111827; --panel-2: #0f1522; --text: #e5e9f0; --muted: #97a3b6; --faint: #5d6a7e;
    --line: #1f2a3b; --rps: #818cf8; --rps-fill: rgba(129, 140, 248, .16); --p99: #fb923c; --p99-fill: rgba(251, 146, 60, .13);
    --ok: #4ade80; --ok-bg: rgba(74, 222, 128, .12); --warn: #fbbf24; --warn-bg: rgba(251, 191, 36, .13);
    --bad: #f87171; --bad-bg: rgba(248, 113, 113, .14); --info: #60a5fa; --info-bg: rgba(96, 165, 250, .14);
    --teal: #22d3ee; --teal-bg: rgba(34, 211, 238, .12); --grey: #94a3b8; --grey-bg: rgba(148, 163, 184, .14);
    --shadow: none;
  }
}
* { box-sizing: border-box; }
[hidden] { display: none !important; }
html { -webkit-text-size-adjust: 100%; text-size-adjust: 100%; }
body {
  margin: 0; background: var(--bg); color: var(--text);
  font: 14px/1.45 -apple-system, BlinkMacSystemFont, "Segoe UI", Roboto, "Helvetica Neue", Arial, system-ui, sans-serif;
}
.wrap { max-width: 1360px; margin: 0 auto; padding: 20px 24px 28px; }
.top { display: flex; flex-wrap: wrap; align-items: center; justify-content: space-between; gap: 12px 20px; margin-bottom: 18px; }
.brand { display: flex; align-items: center; gap: 10px; min-width: 0; }
.logo { width: 30px; height: 30px; flex: none; }
.logo .bg { fill: var(--rps); }
.logo .fg { stroke: #fff; stroke-width: 2; stroke-linecap: round; fill: none; }
.logo .dot { fill: #fff; }
h1 { font-size: 18px; font-weight: 650; margin: 0; letter-spacing: -.01em; white-space: nowrap; }
h1 span { color: var(--muted); font-weight: 500; }
.meta { display: flex; flex-wrap: wrap; align-items: center; gap: 8px; min-width: 0; }
.chip {
  display: inline-flex; align-items: center; gap: 6px; max-width: 100%; padding: 4px 11px; border-radius: 999px;
  background: var(--panel); border: 1px solid var(--line); color: var(--muted); font-size: 12.5px; box-shadow: var(--shadow);
}
.chip b { color: var(--text); font-weight: 600; overflow-wrap: anywhere; }
.chip.panic { background: var(--bad-bg); color: var(--bad); border-color: transparent; font-weight: 700; }
.conn i { width: 8px; height: 8px; border-radius: 50%; background: var(--faint); flex: none; }
.conn[data-status="live"] i { background: var(--ok); box-shadow: 0 0 0 3px var(--ok-bg); }
.conn[data-status="reconnecting"] i, .conn[data-status="connecting"] i { background: var(--warn); }
.conn[data-status="unauthorized"] i, .conn[data-status="closed"] i { background: var(--bad); }
.auth {
  display: flex; flex-wrap: wrap; align-items: center; gap: 8px 12px; margin-bottom: 16px; padding: 12px 14px;
  border-radius: var(--radius); background: var(--warn-bg); color: var(--warn);
}
.auth input {
  flex: 1 1 200px; min-width: 0; padding: 7px 10px; border-radius: 8px; border: 1px solid var(--line);
  background: var(--panel); color: var(--text); font: inherit;
}
.stats { display: grid; grid-template-columns: repeat(6, minmax(0, 1fr)); gap: 12px; margin-bottom: 12px; }
.tile, .chart, .panel {
  background: var(--panel); border: 1px solid var(--line); border-radius: var(--radius); box-shadow: var(--shadow); min-width: 0;
}
.tile { padding: 12px 14px 13px; }
.label { font-size: 12px; color: var(--muted); white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
.value { margin-top: 3px; font-size: 24px; font-weight: 650; letter-spacing: -.02em; white-space: nowrap; font-variant-numeric: tabular-nums; }
.value small, .num small { font-size: .58em; font-weight: 500; color: var(--muted); margin-left: 3px; letter-spacing: 0; }
.tile[data-tone="bad"] .value { color: var(--bad); }
.tile[data-tone="warn"] .value { color: var(--warn); }
.c-success[data-tone="bad"] .num { color: var(--bad); }
.charts { display: grid; grid-template-columns: 1fr 1fr; gap: 12px; margin-bottom: 22px; }
.chart { margin: 0; padding: 12px 14px 10px; }
.chart header { display: flex; align-items: baseline; justify-content: space-between; gap: 8px; }
.chart h2 { margin: 0; font-size: 13px; font-weight: 600; }
.chart h2 i { display: inline-block; width: 9px; height: 9px; border-radius: 3px; margin-right: 7px; vertical-align: 0; }
.chart.rps h2 i { background: var(--rps); }
.chart.p99 h2 i { background: var(--p99); }
.chart .now { font-size: 12.5px; color: var(--muted); font-variant-numeric: tabular-nums; white-space: nowrap; }
.chart .now b { color: var(--text); font-size: 15px; }
.chart svg { display: block; width: 100%; height: 112px; margin-top: 10px; }
.axis { display: flex; justify-content: space-between; margin-top: 5px; font-size: 11px; color: var(--faint); }
svg.spark { overflow: visible; }
.spark path { vector-effect: non-scaling-stroke; }
.spark .line { fill: none; stroke-width: 1.75; stroke-linejoin: round; stroke-linecap: round; }
.spark .area { stroke: none; }
.spark .grid { stroke: var(--line); stroke-width: 1; stroke-dasharray: 3 4; fill: none; }
.spark.rps .line { stroke: var(--rps); }
.spark.rps .area { fill: var(--rps-fill); }
.spark.p99 .line { stroke: var(--p99); }
.spark.p99 .area { fill: var(--p99-fill); }
.section-head { display: flex; align-items: baseline; justify-content: space-between; gap: 8px; margin: 0 2px 10px; }
.section-head h2 { margin: 0; font-size: 15px; font-weight: 650; }
.section-head span { color: var(--muted); font-size: 12.5px; }
.cols, .row {
  display: grid; align-items: center; gap: 0 16px; padding: 11px 18px;
  grid-template-columns: minmax(150px, 1.5fr) minmax(128px, 1.15fr) 58px 62px minmax(110px, 1.25fr) 70px 70px minmax(110px, 1.25fr) 70px 88px;
}
.cols {
  padding-top: 9px; padding-bottom: 9px; border-bottom: 1px solid var(--line); background: var(--panel-2);
  color: var(--muted); font-size: 11px; font-weight: 650; letter-spacing: .05em; text-transform: uppercase;
  border-radius: var(--radius) var(--radius) 0 0;
}
.row { border-bottom: 1px solid var(--line); transition: opacity .3s; }
.row:last-child { border-bottom: 0; }
.row[data-state="removed"] { opacity: .55; }
.row > div { min-width: 0; }
.name { font-family: var(--mono); font-size: 13px; font-weight: 600; overflow-wrap: anywhere; }
.sub { margin-top: 2px; font-size: 12px; color: var(--muted); overflow-wrap: anywhere; }
.num { font-weight: 600; white-space: nowrap; font-variant-numeric: tabular-nums; }
.badge {
  display: inline-flex; align-items: center; gap: 6px; padding: 3px 10px 3px 8px; border-radius: 999px;
  font-size: 12px; font-weight: 650; white-space: nowrap; color: var(--grey); background: var(--grey-bg);
}
.badge::before { content: ""; width: 7px; height: 7px; border-radius: 50%; background: currentColor; }
.badge[data-tone="ready"] { color: var(--ok); background: var(--ok-bg); }
.badge[data-tone="slow"] { color: var(--teal); background: var(--teal-bg); }
.badge[data-tone="warming"] { color: var(--info); background: var(--info-bg); }
.badge[data-tone="draining"] { color: var(--warn); background: var(--warn-bg); }
.badge[data-tone="down"], .badge[data-tone="ejected"] { color: var(--bad); background: var(--bad-bg); }
.bar { height: 4px; max-width: 128px; margin-top: 6px; border-radius: 2px; background: var(--line); overflow: hidden; }
.bar i { display: block; height: 100%; width: 0; background: var(--teal); transition: width .8s ease; }
.c-rps svg, .c-p99 svg { display: block; width: 100%; height: 26px; margin-top: 4px; }
.btn {
  appearance: none; padding: 6px 12px; border-radius: 8px; border: 1px solid var(--line); background: var(--panel);
  color: var(--text); font: inherit; font-size: 12.5px; font-weight: 600; cursor: pointer; white-space: nowrap;
}
.btn:hover:not(:disabled) { border-color: var(--faint); }
.btn:focus-visible { outline: 2px solid var(--rps); outline-offset: 2px; }
.btn:disabled { opacity: .5; cursor: default; }
.btn[data-action="undrain"] { background: var(--warn-bg); color: var(--warn); border-color: transparent; }
.c-act { text-align: right; }
.empty { padding: 32px 18px; text-align: center; color: var(--muted); }
footer { display: flex; flex-wrap: wrap; justify-content: space-between; gap: 6px 16px; margin-top: 16px; font-size: 12px; color: var(--faint); }
body.stale main { opacity: .6; }
.toast {
  position: fixed; left: 50%; bottom: 20px; max-width: calc(100vw - 32px); padding: 10px 14px; border-radius: 10px;
  transform: translate(-50%, 8px); opacity: 0; pointer-events: none; transition: opacity .2s, transform .2s;
  background: #111827; color: #f9fafb; font-size: 13px; box-shadow: 0 8px 24px rgba(0, 0, 0, .2);
}
.toast.show { opacity: 1; transform: translate(-50%, 0); }
.toast.bad { background: #991b1b; }
@media (max-width: 1100px) {
  .stats { grid-template-columns: repeat(3, minmax(0, 1fr)); }
  .cols { display: none; }
  .panel { background: none; border: 0; box-shadow: none; }
  .rows { display: grid; grid-template-columns: repeat(auto-fill, minmax(min(340px, 100%), 1fr)); gap: 12px; }
  .row, .row:last-child {
    gap: 12px; padding: 14px 16px; align-items: start;
    grid-template-columns: repeat(6, minmax(0, 1fr));
    grid-template-areas: "name name name name state state" "rps rps rps p99 p99 p99" "weight weight inflight inflight success success" "p50 p50 ewma ewma act act";
    background: var(--panel); border: 1px solid var(--line); border-radius: var(--radius); box-shadow: var(--shadow);
  }
  .c-name { grid-area: name; } .c-state { grid-area: state; text-align: right; } .c-weight { grid-area: weight; }
  .c-inflight { grid-area: inflight; } .c-rps { grid-area: rps; } .c-success { grid-area: success; }
  .c-p50 { grid-area: p50; } .c-p99 { grid-area: p99; } .c-ewma { grid-area: ewma; }
  .c-act { grid-area: act; align-self: end; }
  .c-state .bar { margin-left: auto; }
  [data-label]::before {
    content: attr(data-label); display: block; margin-bottom: 2px; color: var(--muted);
    font-size: 10.5px; font-weight: 650; letter-spacing: .05em; text-transform: uppercase;
  }
  .empty { background: var(--panel); border: 1px solid var(--line); border-radius: var(--radius); }
}
@media (max-width: 720px) {
  .wrap { padding: 14px 12px 22px; }
  .top { margin-bottom: 14px; }
  .stats { gap: 8px; }
  .tile { padding: 10px 11px; }
  .value { font-size: 19px; }
  .charts { grid-template-columns: 1fr; gap: 8px; margin-bottom: 18px; }
  .chart svg { height: 78px; }
}
`;

const SCRIPT = String.raw`
(function () {
  'use strict';
  var TOKEN_KEY = 'readykit-balancer-token';
  var MAX_POINTS = 300;
  var MIN_SPAN = 10;
  var STALL_MS = 10000;
  var SVG = 'http://www.w3.org/2000/svg';
  var COLUMNS = [
    ['c-name', null], ['c-state', null], ['c-weight', 'Weight'], ['c-inflight', 'In flight'],
    ['c-rps', 'Req/s'], ['c-success', 'Success'], ['c-p50', 'p50'], ['c-p99', 'p99'],
    ['c-ewma', 'EWMA'], ['c-act', null]
  ];

  var token = readToken();
  var retryMs = 2000;
  var failures = 0;
  var controller = null;
  var stallTimer = 0;
  var retryTimer = 0;
  var total = [];
  var series = new Map();
  var rows = new Map();
  var lastSecond = -1;
  var toastTimer = 0;

  function $(id) { return document.getElementById(id); }

  function readToken() {
    var match = /(?:^#|&)token=([^&]*)/.exec(location.hash);
    if (match) {
      var value = '';
      try { value = decodeURIComponent(match[1]); } catch (e) { value = ''; }
      // The fragment never reaches the server; take it out of the address bar and history too.
      history.replaceState(null, '', location.pathname + location.search);
      try { sessionStorage.setItem(TOKEN_KEY, value); } catch (e) { /* storage disabled */ }
      return value || null;
    }
    try { return sessionStorage.getItem(TOKEN_KEY); } catch (e) { return null; }
  }

  function authHeaders(extra) {
    var headers = extra || {};
    if (token) headers.Authorization = 'Bearer ' + token;
    return headers;
  }

  // --- the event stream: fetch + ReadableStream, since EventSource cannot send a token ---

  function connect() {
    clearTimeout(retryTimer);
    if (controller) controller.abort();
    var ctl = new AbortController();
    controller = ctl;
    setStatus(failures === 0 ? 'connecting' : 'reconnecting', failures === 0 ? 'connecting' : 'reconnecting');
    fetch('api/events', { headers: authHeaders({ Accept: 'text/event-stream' }), cache: 'no-store', signal: ctl.signal })
      .then(function (res) {
        if (res.status === 401 || res.status === 403) {
          showAuth(true);
          setStatus('unauthorized', token ? 'token refused' : 'token required');
          ctl.abort();
          return 'auth';
        }
        if (!res.ok || !res.body) throw new Error('HTTP ' + res.status);
        showAuth(false);
        return read(res.body.getReader(), ctl);
      })
      .then(function (result) {
        if (ctl === controller && result !== 'auth') retry('stream ended');
      }, function (error) {
        if (ctl === controller && !ctl.signal.aborted) retry(error && error.message ? error.message : 'failed');
      });
  }

  function retry(reason) {
    clearTimeout(stallTimer);
    if (controller) controller.abort();
    controller = null;
    document.body.classList.add('stale');
    var delay = Math.min(30000, retryMs * Math.pow(2, failures)) * (0.8 + Math.random() * 0.4);
    failures++;
    setStatus('reconnecting', 'reconnecting in ' + Math.max(1, Math.round(delay / 1000)) + ' s');
    $('conn').title = reason;
    retryTimer = setTimeout(connect, delay);
  }

  function armStall(ctl) {
    clearTimeout(stallTimer);
    stallTimer = setTimeout(function () { if (ctl === controller) retry('no data for ' + STALL_MS / 1000 + ' s'); }, STALL_MS);
  }

  function read(reader, ctl) {
    var decoder = new TextDecoder();
    var parser = eventParser(onEvent);
    armStall(ctl);
    function pump() {
      return reader.read().then(function (chunk) {
        if (chunk.done || ctl !== controller) return 'ended';
        armStall(ctl);
        parser(decoder.decode(chunk.value, { stream: true }));
        return pump();
      });
    }
    return pump();
  }

  // text/event-stream as the HTML standard parses it: lines end in CRLF, LF or CR; a blank
  // line dispatches; lines starting with a colon are comments.
  function eventParser(dispatch) {
    var buffer = '';
    var skipLF = false;
    var data = [];
    var type = '';
    function line(text) {
      if (text === '') {
        if (data.length > 0) dispatch(type || 'message', data.join('\n'));
        data = [];
        type = '';
        return;
      }
      if (text.charCodeAt(0) === 58) return;
      var colon = text.indexOf(':');
      var field = colon < 0 ? text : text.slice(0, colon);
      var value = colon < 0 ? '' : text.slice(colon + 1);
      if (value.charCodeAt(0) === 32) value = value.slice(1);
      if (field === 'data') data.push(value);
      else if (field === 'event') type = value;
      else if (field === 'retry' && /^\d+$/.test(value)) retryMs = Math.max(500, Number(value));
    }
    return function (text) {
      buffer += text;
      var start = 0;
      for (var i = 0; i < buffer.length; i++) {
        var c = buffer.charCodeAt(i);
        if (c === 10 && skipLF && i === start) { skipLF = false; start = i + 1; continue; }
        skipLF = false;
        if (c !== 10 && c !== 13) continue;
        line(buffer.slice(start, i));
        if (c === 13) {
          if (i + 1 < buffer.length) { if (buffer.charCodeAt(i + 1) === 10) i++; }
          else skipLF = true;
        }
        start = i + 1;
      }
      buffer = buffer.slice(start);
    };
  }

  function onEvent(type, data) {
    var message;
    try { message = JSON.parse(data); } catch (e) { return; }
    if (type === 'history') applyHistory(message);
    else if (type === 'snapshot') {
      failures = 0;
      document.body.classList.remove('stale');
      setStatus('live', 'live');
      $('conn').title = 'connected: one update per second';
      applySnapshot(message);
    } else if (type === 'closing') {
      setStatus('closed', 'balancer shutting down');
    }
  }

  // --- history: one [requests, p99] point per second, newest last ---

  function applyHistory(h) {
    lastSecond = h.second;
    total = h.total.slice(-MAX_POINTS);
    series = new Map();
    for (var i = 0; i < h.backends.length; i++) series.set(h.backends[i].url, h.backends[i].points.slice(-MAX_POINTS));
  }

  function merge(points, recent, missing) {
    if (missing <= 0) return points;
    for (var gap = missing - recent.length; gap > 0; gap--) points.push([0, null]);
    var from = Math.max(0, recent.length - missing);
    for (var i = from; i < recent.length; i++) points.push(recent[i]);
    if (points.length > MAX_POINTS) points.splice(0, points.length - MAX_POINTS);
    return points;
  }

  function applySnapshot(s) {
    var missing = lastSecond < 0 ? 0 : s.second - lastSecond;
    total = merge(total, s.total.recent, missing);
    var seen = new Set();
    for (var i = 0; i < s.backends.length; i++) {
      var b = s.backends[i];
      seen.add(b.url);
      var points = series.get(b.url);
      series.set(b.url, points ? merge(points, b.recent, missing) : b.recent.slice());
    }
    series.forEach(function (_, url) { if (!seen.has(url)) series.delete(url); });
    lastSecond = s.second;
    render(s);
  }

  // --- rendering ---

  function el(tag, className, parent) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (parent) parent.appendChild(node);
    return node;
  }

  function sparkline(parent, kind, grid) {
    var svg = document.createElementNS(SVG, 'svg');
    svg.setAttribute('class', 'spark ' + kind);
    svg.setAttribute('preserveAspectRatio', 'none');
    svg.setAttribute('viewBox', '0 0 1 100');
    svg.setAttribute('aria-hidden', 'true');
    if (grid) {
      var lines = document.createElementNS(SVG, 'path');
      lines.setAttribute('class', 'grid');
      svg.appendChild(lines);
    }
    var area = document.createElementNS(SVG, 'path');
    area.setAttribute('class', 'area');
    var line = document.createElementNS(SVG, 'path');
    line.setAttribute('class', 'line');
    svg.appendChild(area);
    svg.appendChild(line);
    parent.appendChild(svg);
    return svg;
  }

  // Draws field 0 (requests) or 1 (p99) of the points, newest at the right edge, scaled to the
  // largest value; a null p99 (no requests that second) leaves a gap. Returns that largest value.
  function draw(svg, points, field) {
    var n = points.length;
    var span = Math.max(n, MIN_SPAN) - 1;
    var offset = span - (n - 1);
    var max = 0;
    var i;
    for (i = 0; i < n; i++) if (points[i][field] !== null && points[i][field] > max) max = points[i][field];
    var top = max > 0 ? max * 1.12 : 1;
    var line = '';
    var area = '';
    var open = false;
    var lastX = 0;
    for (i = 0; i < n; i++) {
      var v = points[i][field];
      var x = offset + i;
      if (v === null) {
        if (open) area += 'L' + lastX + ' 100Z';
        open = false;
        continue;
      }
      var y = (100 - (v / top) * 100).toFixed(1);
      line += (open ? 'L' : 'M') + x + ' ' + y;
      area += (open ? 'L' : 'M' + x + ' 100L') + x + ' ' + y;
      open = true;
      lastX = x;
    }
    if (open) area += 'L' + lastX + ' 100Z';
    svg.setAttribute('viewBox', '0 0 ' + Math.max(1, span) + ' 100');
    var paths = svg.querySelectorAll('path');
    var grid = svg.querySelector('.grid');
    if (grid) grid.setAttribute('d', 'M0 25H' + span + 'M0 50H' + span + 'M0 75H' + span);
    paths[paths.length - 2].setAttribute('d', area);
    paths[paths.length - 1].setAttribute('d', line);
    return max;
  }

  function setText(node, text) {
    if (node.textContent !== text) node.textContent = text;
  }

  function setValue(node, parts) {
    var text = parts[0] + '\u0000' + parts[1];
    if (node.dataset.v === text) return;
    node.dataset.v = text;
    node.textContent = parts[0];
    if (parts[1]) el('small', null, node).textContent = parts[1];
  }

  function rate(v) {
    if (v >= 10000) return [(v / 1000).toFixed(0) + 'k', ''];
    if (v >= 1000) return [(v / 1000).toFixed(1) + 'k', ''];
    if (v >= 100 || v === 0) return [v.toFixed(0), ''];
    return [v.toFixed(1), ''];
  }

  function ms(v) {
    if (v === null || v === undefined) return ['\u2014', ''];
    if (v >= 10000) return [(v / 1000).toFixed(0), 's'];
    if (v >= 1000) return [(v / 1000).toFixed(2), 's'];
    if (v >= 100) return [v.toFixed(0), 'ms'];
    if (v >= 10) return [v.toFixed(1), 'ms'];
    return [v.toFixed(2), 'ms'];
  }

  function percent(v) {
    if (v === null || v === undefined) return ['\u2014', ''];
    var p = v * 100;
    if (p >= 99.995) return ['100', '%'];
    return [p >= 99 ? p.toFixed(2) : p.toFixed(1), '%'];
  }

  function weight(b) {
    if (b.effectiveWeight < b.weight) return [String(Math.round(b.effectiveWeight * 100) / 100), '/ ' + b.weight];
    return [String(b.weight), ''];
  }

  function span(seconds) {
    if (seconds >= 120) return Math.round(seconds / 60) + ' min ago';
    return seconds + ' s ago';
  }

  // [tone, badge text, detail line] of a backend.
  function describe(b) {
    if (b.state === 'removed') {
      return ['removed', 'removed', b.inFlight > 0 ? 'finishing ' + b.inFlight + ' in flight' : 'gone from discovery'];
    }
    if (b.state === 'draining') {
      var by = b.drain === 'operator' ? 'by an operator' : b.drain === 'discovery' ? 'by discovery' : 'readiness 503';
      return ['draining', 'draining', by];
    }
    if (b.state === 'ready' && b.ejected) return ['ejected', 'ejected', Math.ceil(b.ejectedForMs / 1000) + ' s left'];
    if (b.state === 'ready' && b.slowStartPercent !== null) return ['slow', 'slow start ' + b.slowStartPercent + '%', ''];
    if (b.state === 'ready') return ['ready', 'ready', ''];
    if (b.state === 'warming') return ['warming', 'warming', b.lastCheck && b.lastCheck !== 'ready' ? b.lastCheck : 'waiting for ready'];
    if (b.state === 'down') return ['down', 'down', b.lastCheck || ''];
    return ['other', String(b.state), ''];
  }

  function createRow(b) {
    var row = { view: b, cells: {} };
    row.root = el('div', 'row');
    row.root.setAttribute('role', 'row');
    for (var i = 0; i < COLUMNS.length; i++) {
      var cell = el('div', COLUMNS[i][0], row.root);
      cell.setAttribute('role', 'cell');
      if (COLUMNS[i][1]) cell.setAttribute('data-label', COLUMNS[i][1]);
      row.cells[COLUMNS[i][0]] = cell;
    }
    var c = row.cells;
    row.name = el('div', 'name', c['c-name']);
    row.sub = el('div', 'sub', c['c-name']);
    row.badge = el('span', 'badge', c['c-state']);
    row.bar = el('div', 'bar', c['c-state']);
    row.barFill = el('i', null, row.bar);
    row.detail = el('div', 'sub', c['c-state']);
    row.weight = el('div', 'num', c['c-weight']);
    row.inflight = el('div', 'num', c['c-inflight']);
    row.rps = el('div', 'num', c['c-rps']);
    row.rpsSpark = sparkline(c['c-rps'], 'rps', false);
    row.success = el('div', 'num', c['c-success']);
    row.p50 = el('div', 'num', c['c-p50']);
    row.p99 = el('div', 'num', c['c-p99']);
    row.p99Spark = sparkline(c['c-p99'], 'p99', false);
    row.ewma = el('div', 'num', c['c-ewma']);
    row.button = el('button', 'btn', c['c-act']);
    row.button.type = 'button';
    row.button.addEventListener('click', function () { toggleDrain(row); });
    return row;
  }

  function updateRow(row, b) {
    row.view = b;
    var d = describe(b);
    row.root.setAttribute('data-backend', b.name);
    row.root.setAttribute('data-state', b.state);
    setText(row.name, b.name);
    var sub = b.requests.toLocaleString('en-US') + ' requests';
    if (b.failures > 0) sub += ' \u00b7 ' + b.failures.toLocaleString('en-US') + ' failed';
    if (b.url !== 'http://' + b.name) sub = b.url + ' \u00b7 ' + sub;
    setText(row.sub, sub);
    row.name.title = b.url;
    setText(row.badge, d[1]);
    row.badge.setAttribute('data-tone', d[0]);
    setText(row.detail, d[2]);
    row.detail.hidden = d[2] === '';
    row.bar.hidden = d[0] !== 'slow';
    if (d[0] === 'slow') row.barFill.style.setProperty('width', b.slowStartPercent + '%');
    setValue(row.weight, weight(b));
    setValue(row.inflight, [String(b.inFlight), '']);
    setValue(row.rps, rate(b.rps));
    setValue(row.success, percent(b.successRate));
    row.success.parentNode.setAttribute('data-tone', b.successRate !== null && b.successRate < 0.99 ? 'bad' : '');
    setValue(row.p50, ms(b.p50Ms));
    setValue(row.p99, ms(b.p99Ms));
    setValue(row.ewma, ms(b.ewmaMs));
    var points = series.get(b.url) || [];
    draw(row.rpsSpark, points, 0);
    draw(row.p99Spark, points, 1);
    var button = row.button;
    button.hidden = b.state === 'removed';
    if (!row.pending) {
      var undrain = b.drain === 'operator';
      setText(button, undrain ? 'Undrain' : 'Drain');
      button.setAttribute('data-action', undrain ? 'undrain' : 'drain');
      button.setAttribute('aria-label', (undrain ? 'Undrain ' : 'Drain ') + b.name);
      button.disabled = b.drain === 'discovery';
      button.title = b.drain === 'discovery'
        ? 'Discovery is terminating this backend'
        : undrain ? 'Put the backend back into rotation' : 'Stop sending new requests; requests in flight finish';
    }
  }

  function toggleDrain(row) {
    var b = row.view;
    var action = b.drain === 'operator' ? 'undrain' : 'drain';
    row.pending = true;
    row.button.disabled = true;
    fetch('api/backends/' + encodeURIComponent(b.name) + '/' + action, {
      method: 'POST', headers: authHeaders(), cache: 'no-store'
    })
      .then(function (res) {
        if (res.status === 401 || res.status === 403) showAuth(true);
        if (!res.ok) throw new Error('HTTP ' + res.status);
        return res.json();
      })
      .then(function (report) {
        row.pending = false;
        var view = Object.assign({}, row.view, { state: report.state, drain: report.drain });
        updateRow(row, view);
        toast(b.name + (action === 'drain' ? ' drained: no new requests' : ' back in rotation'), false);
      })
      .catch(function (error) {
        row.pending = false;
        updateRow(row, row.view);
        toast('Could not ' + action + ' ' + b.name + ': ' + error.message, true);
      });
  }

  function render(s) {
    setText($('algorithm'), s.algorithm);
    setText($('discovery'), s.discovery);
    $('panic').hidden = !s.panic;

    var ready = 0;
    var live = 0;
    for (var i = 0; i < s.backends.length; i++) {
      if (s.backends[i].state !== 'removed') live++;
      if (s.backends[i].state === 'ready' && !s.backends[i].ejected) ready++;
    }
    setValue($('t-rps'), rate(s.total.rps));
    setValue($('t-success'), percent(s.total.successRate));
    $('t-success').parentNode.setAttribute('data-tone', s.total.successRate !== null && s.total.successRate < 0.99 ? 'bad' : '');
    setValue($('t-p50'), ms(s.total.p50Ms));
    setValue($('t-p99'), ms(s.total.p99Ms));
    setValue($('t-inflight'), [String(s.inFlight), '']);
    setValue($('t-ready'), [String(ready), '/ ' + live]);
    $('t-ready').parentNode.setAttribute('data-tone', ready === 0 ? 'bad' : ready < live ? 'warn' : '');
    document.title = 'readykit balancer \u00b7 ' + ready + '/' + live + ' ready';

    var peakRps = draw($('chart-rps'), total, 0);
    var peakP99 = draw($('chart-p99'), total, 1);
    setText($('now-rps'), rate(s.total.rps)[0]);
    setText($('peak-rps'), 'peak ' + rate(peakRps)[0]);
    setText($('now-p99'), ms(s.total.p99Ms).join(' ').trim());
    setText($('peak-p99'), 'peak ' + ms(peakP99 || null).join(' ').trim());
    var since = span(Math.max(total.length, MIN_SPAN));
    setText($('since-rps'), since);
    setText($('since-p99'), since);

    var list = $('rows');
    var seen = new Set();
    for (var j = 0; j < s.backends.length; j++) {
      var b = s.backends[j];
      seen.add(b.url);
      var row = rows.get(b.url);
      if (!row) {
        row = createRow(b);
        rows.set(b.url, row);
      }
      updateRow(row, b);
      if (list.children[j] !== row.root) list.insertBefore(row.root, list.children[j] || null);
    }
    rows.forEach(function (row, url) {
      if (!seen.has(url)) {
        row.root.remove();
        rows.delete(url);
      }
    });
    $('empty').hidden = s.backends.length > 0;
    setText($('count'), live + (live === 1 ? ' backend' : ' backends'));
    setText($('updated'), 'Updated ' + new Date(s.time).toLocaleTimeString());
  }

  function setStatus(status, text) {
    var conn = $('conn');
    conn.setAttribute('data-status', status);
    setText($('conn-text'), text);
  }

  function showAuth(show) {
    $('auth').hidden = !show;
    if (show) $('token').focus();
  }

  function toast(text, bad) {
    var node = $('toast');
    node.textContent = text;
    node.className = 'toast show' + (bad ? ' bad' : '');
    clearTimeout(toastTimer);
    toastTimer = setTimeout(function () { node.className = 'toast' + (bad ? ' bad' : ''); }, 3500);
  }

  $('auth').addEventListener('submit', function (event) {
    event.preventDefault();
    token = $('token').value.trim() || null;
    $('token').value = '';
    try {
      if (token) sessionStorage.setItem(TOKEN_KEY, token);
      else sessionStorage.removeItem(TOKEN_KEY);
    } catch (e) { /* storage disabled */ }
    failures = 0;
    connect();
  });

  connect();
})();
`;

const BODY = `<div class="wrap">
<header class="top">
  <div class="brand">
    <svg class="logo" viewBox="0 0 32 32" aria-hidden="true"><rect class="bg" width="32" height="32" rx="9"/><path class="fg" d="M9.5 16 22 9.5M9.5 16H22M9.5 16 22 22.5"/><circle class="dot" cx="9.5" cy="16" r="3.2"/><circle class="dot" cx="22.5" cy="9.5" r="2.4"/><circle class="dot" cx="22.5" cy="16" r="2.4"/><circle class="dot" cx="22.5" cy="22.5" r="2.4"/></svg>
    <h1>readykit <span>balancer</span></h1>
  </div>
  <div class="meta">
    <span class="chip">algorithm <b id="algorithm">&#8230;</b></span>
    <span class="chip">discovery <b id="discovery">&#8230;</b></span>
    <span class="chip panic" id="panic" hidden title="Too few healthy backends: every backend that still answers gets traffic">panic mode</span>
    <span class="chip conn" id="conn" data-status="connecting"><i></i><span id="conn-text">connecting</span></span>
  </div>
</header>
<form class="auth" id="auth" hidden>
  <span>The admin API needs a token.</span>
  <input id="token" type="password" autocomplete="off" placeholder="admin token" aria-label="admin token">
  <button class="btn" type="submit">Connect</button>
</form>
<main>
  <section class="stats" aria-label="Totals over the last 10 seconds">
    <div class="tile"><div class="label">Requests / s</div><div class="value" id="t-rps">&#8212;</div></div>
    <div class="tile"><div class="label">Success</div><div class="value" id="t-success">&#8212;</div></div>
    <div class="tile"><div class="label">Latency p50</div><div class="value" id="t-p50">&#8212;</div></div>
    <div class="tile"><div class="label">Latency p99</div><div class="value" id="t-p99">&#8212;</div></div>
    <div class="tile"><div class="label">In flight</div><div class="value" id="t-inflight">&#8212;</div></div>
    <div class="tile"><div class="label">Backends ready</div><div class="value" id="t-ready">&#8212;</div></div>
  </section>
  <section class="charts">
    <figure class="chart rps">
      <header><h2><i></i>Throughput</h2><span class="now"><b id="now-rps">&#8212;</b> req/s &#183; <span id="peak-rps"></span></span></header>
      <svg class="spark rps" id="chart-rps" preserveAspectRatio="none" viewBox="0 0 1 100" aria-hidden="true"><path class="grid"/><path class="area"/><path class="line"/></svg>
      <div class="axis"><span id="since-rps"></span><span>now</span></div>
    </figure>
    <figure class="chart p99">
      <header><h2><i></i>Latency p99</h2><span class="now"><b id="now-p99">&#8212;</b> &#183; <span id="peak-p99"></span></span></header>
      <svg class="spark p99" id="chart-p99" preserveAspectRatio="none" viewBox="0 0 1 100" aria-hidden="true"><path class="grid"/><path class="area"/><path class="line"/></svg>
      <div class="axis"><span id="since-p99"></span><span>now</span></div>
    </figure>
  </section>
  <section aria-label="Backends">
    <div class="section-head"><h2>Backends</h2><span id="count"></span></div>
    <div class="panel" role="table">
      <div class="cols" role="row">
        <div role="columnheader">Backend</div><div role="columnheader">State</div><div role="columnheader">Weight</div>
        <div role="columnheader">In flight</div><div role="columnheader">Req/s</div><div role="columnheader">Success</div>
        <div role="columnheader">p50</div><div role="columnheader">p99</div><div role="columnheader">EWMA</div><div></div>
      </div>
      <div class="rows" id="rows"></div>
      <div class="empty" id="empty" hidden>No backends yet: discovery has not delivered any.</div>
    </div>
  </section>
</main>
<footer><span id="updated">Waiting for the first update</span><span>Figures over the last 10 s &#183; charts one point per second, up to 5 min &#183; JSON at /api/backends</span></footer>
</div>
<div class="toast" id="toast" role="status" aria-live="polite"></div>`;

function sha256(text: string): string {
  return `'sha256-${createHash('sha256').update(text, 'utf8').digest('base64')}'`;
}

/**
 * The dashboard's Content-Security-Policy: nothing but this document's own script and style
 * (by hash), connections to its own origin, and no framing. An injected string from a backend
 * URL could not run even if it reached the DOM as markup.
 */
export const DASHBOARD_CSP = [
  "default-src 'none'",
  `script-src ${sha256(SCRIPT)}`,
  `style-src ${sha256(STYLE)}`,
  "connect-src 'self'",
  'img-src data:',
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

/** Headers of the page besides those of every readykit answer (no-store, nosniff). */
export const DASHBOARD_HEADERS: readonly string[] = Object.freeze([
  'Content-Security-Policy',
  DASHBOARD_CSP,
  'Referrer-Policy',
  'no-referrer',
  'X-Frame-Options',
  'DENY',
]);

/** The whole dashboard: one HTML document with its style and script inline, no data in it. */
export const DASHBOARD_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<title>readykit balancer</title>
<link rel="icon" href="data:,">
<style>${STYLE}</style>
</head>
<body>
${BODY}
<script>${SCRIPT}</script>
</body>
</html>
`;
