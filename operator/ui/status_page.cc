#include "operator/ui/status_page.h"

#include <string>

namespace sg::ui {
namespace {

// The whole page. Rules for editing it:
//   - no external assets: no URLs to other hosts, no CDN fonts or scripts
//     (the unit test checks that no "http://" or "https://" appears);
//   - data from the API reaches the DOM through textContent (or canvas text)
//     only, never innerHTML;
//   - requests use paths relative to where /ui is mounted, so the page works
//     behind a reverse proxy that adds a path prefix;
//   - the status token (when the operator requires one) is typed into the
//     page, kept in this tab's sessionStorage and sent only as an
//     Authorization header on the requests for /v1/status: never in a URL,
//     where history, logs and Referer headers would keep it.
constexpr const char kPage[] = R"page(<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>swarmgate status</title>
<style>
:root {
  --bg: #f6f7f9; --fg: #1d2330; --muted: #667085; --card: #fff; --line: #e3e6eb;
  --ok: #18794e; --ok-bg: #e6f4ec; --warn: #9a6700; --warn-bg: #fff4d6;
  --bad: #b42318; --bad-bg: #fde8e6; --p50: #2f6feb; --p99: #c2410c; --err: #b42318;
}
@media (prefers-color-scheme: dark) {
  :root {
    --bg: #11151c; --fg: #e6e9ef; --muted: #98a2b3; --card: #1a1f29; --line: #2b3240;
    --ok: #5cd69b; --ok-bg: #13301f; --warn: #f1c453; --warn-bg: #33290d;
    --bad: #ff8a80; --bad-bg: #3a1715; --p50: #6ea8ff; --p99: #ff9d5c; --err: #ff8a80;
  }
}
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--fg);
  font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
header { display: flex; align-items: center; gap: 16px; padding: 12px 20px;
  border-bottom: 1px solid var(--line); background: var(--card); position: sticky; top: 0; }
header h1 { font-size: 17px; margin: 0; }
#conn { font-size: 12px; padding: 2px 8px; border-radius: 10px; }
#updated { color: var(--muted); font-size: 12px; margin-left: auto; }
main { padding: 16px 20px; display: grid; gap: 16px; }
section { background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 12px 16px; }
section h2 { font-size: 15px; margin: 0 0 8px; display: flex; gap: 12px; align-items: baseline; }
section h2 .sub { font-weight: normal; color: var(--muted); font-size: 12px; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; vertical-align: top; padding: 6px 8px; border-top: 1px solid var(--line); }
th { font-size: 12px; color: var(--muted); font-weight: 600; border-top: none; }
td.num { font-variant-numeric: tabular-nums; }
tbody td:first-child { white-space: nowrap; }
.badge { display: inline-block; font-size: 12px; padding: 1px 8px; border-radius: 10px; white-space: nowrap; }
.ok { color: var(--ok); background: var(--ok-bg); }
.warn { color: var(--warn); background: var(--warn-bg); }
.bad { color: var(--bad); background: var(--bad-bg); }
.none { color: var(--muted); background: var(--bg); }
.msg { color: var(--muted); font-size: 12px; max-width: 38em; overflow-wrap: anywhere; }
.mono { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 12px; }
.list { margin: 0; padding: 0; list-style: none; }
.empty { color: var(--muted); font-style: italic; }
.charts { display: grid; grid-template-columns: repeat(auto-fit, minmax(420px, 1fr)); gap: 16px; }
canvas { width: 100%; height: 220px; display: block; }
.legend { display: flex; gap: 14px; font-size: 12px; color: var(--muted); margin-top: 4px; flex-wrap: wrap; }
.legend i { display: inline-block; width: 12px; height: 3px; vertical-align: middle; margin-right: 4px; }
select { font: inherit; font-size: 12px; }
#login form { display: flex; gap: 8px; flex-wrap: wrap; align-items: center; }
#login input { font: inherit; padding: 4px 8px; min-width: 24em; }
#login button { font: inherit; padding: 4px 12px; }
</style>
</head>
<body>
<header>
  <h1>swarmgate</h1>
  <span id="conn" class="badge none">connecting</span>
  <span id="conn-error" class="msg"></span>
  <span id="updated"></span>
</header>
<main>
  <section id="login" hidden>
    <h2>Status token</h2>
    <p class="msg" id="login-message"></p>
    <form id="login-form" method="post" autocomplete="off">
      <input type="password" id="login-token" aria-label="status token" autocomplete="off" spellcheck="false">
      <button type="submit">Show status</button>
    </form>
  </section>
  <section id="clusters-section">
    <h2>Service clusters <span class="sub" id="clusters-summary"></span></h2>
    <table>
      <thead><tr><th>Name</th><th>Ready</th><th>Proxies running / desired</th>
        <th>Config generation offered / served</th><th>Proxy generations</th><th>Observed / generation</th></tr></thead>
      <tbody id="clusters-body"></tbody>
    </table>
  </section>
  <section id="routes-section">
    <h2>Routes <span class="sub" id="routes-summary"></span></h2>
    <table>
      <thead><tr><th>Name</th><th>Hosts</th><th>Path</th><th>Cluster</th>
        <th>Ready</th><th>Progressing</th><th>Degraded</th><th>Endpoints</th></tr></thead>
      <tbody id="routes-body"></tbody>
    </table>
  </section>
  <div class="charts">
    <section id="latency-section">
      <h2>Convergence latency
        <span class="sub" id="latency-summary"></span>
        <select id="latency-cluster" aria-label="cluster"><option value="">all clusters</option></select>
      </h2>
      <canvas id="latency-chart" width="640" height="220"></canvas>
      <div class="legend"><span><i style="background:var(--p50)"></i>p50</span>
        <span><i style="background:var(--p99)"></i>p99</span>
        <span>over the changes of the last 30 s, from swarmgate_convergence_seconds</span></div>
    </section>
    <section id="errors-section">
      <h2>Reconcile errors <span class="sub" id="errors-summary"></span></h2>
      <canvas id="errors-chart" width="640" height="220"></canvas>
      <div class="legend"><span><i style="background:var(--err)"></i>errors per 2 s poll</span>
        <span id="errors-by-controller"></span></div>
    </section>
  </div>
</main>
<script>
"use strict";
(function () {
  var POLL_MS = 2000;        // poll period
  var WINDOW_MS = 30000;     // quantiles over the observations of this window
  var HISTORY = 150;         // points kept on the charts (5 minutes)
  var base = location.pathname.replace(/\/ui(\/.*)?$/, "");
  var latencyPoints = [];    // {t, p50, p99, n}
  var errorPoints = [];      // {t, v}
  var snapshots = [];        // {t, buckets: {cluster: {le: count}}}
  var prevErrors = null;     // {controller: total}
  var TOKEN_KEY = "swarmgate.statusToken";
  var token = readToken();   // the status token, "" until one is typed

  function $(id) { return document.getElementById(id); }
  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }
  // sessionStorage: the token survives a reload of this tab and goes with it.
  // Where storage is refused, it lives in this page only.
  function readToken() {
    try { return sessionStorage.getItem(TOKEN_KEY) || ""; } catch (e) { return ""; }
  }
  function setToken(t) {
    token = t;
    try {
      if (t) sessionStorage.setItem(TOKEN_KEY, t); else sessionStorage.removeItem(TOKEN_KEY);
    } catch (e) { /* kept in `token` only */ }
  }
  function clear(node) { while (node.firstChild) node.removeChild(node.firstChild); }
  function str(v) { return v === undefined || v === null ? "" : String(v); }

  // Prometheus text format 0.0.4 -> [{name, labels, value}]
  function parseMetrics(text) {
    var out = [];
    var lines = text.split("\n");
    for (var i = 0; i < lines.length; i++) {
      var line = lines[i];
      if (!line || line.charAt(0) === "#") continue;
      var m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)/.exec(line);
      if (!m) continue;
      var labels = {};
      if (m[3]) {
        var re = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g, lm;
        while ((lm = re.exec(m[3])) !== null) {
          labels[lm[1]] = lm[2].replace(/\\n/g, "\n").replace(/\\(["\\])/g, "$1");
        }
      }
      out.push({ name: m[1], labels: labels, value: parseFloat(m[4]) });
    }
    return out;
  }

  // histogram_quantile as Prometheus computes it: linear interpolation in
  // the bucket holding the rank; +Inf answers the highest finite bound.
  function quantile(q, buckets) {
    if (!buckets.length) return null;
    var total = buckets[buckets.length - 1].count;
    if (!(total > 0)) return null;
    var rank = q * total, prevLe = 0, prevCount = 0;
    for (var i = 0; i < buckets.length; i++) {
      var b = buckets[i];
      if (b.count >= rank) {
        if (b.le === Infinity) return prevLe;
        if (b.count === prevCount) return b.le;
        return prevLe + (b.le - prevLe) * (rank - prevCount) / (b.count - prevCount);
      }
      prevLe = b.le; prevCount = b.count;
    }
    return prevLe;
  }

  function convergenceBuckets(samples) {
    var byCluster = {};
    samples.forEach(function (s) {
      if (s.name !== "swarmgate_convergence_seconds_bucket") return;
      var c = s.labels.cluster || "", le = s.labels.le;
      byCluster[c] = byCluster[c] || {};
      byCluster[c][le] = (byCluster[c][le] || 0) + s.value;
    });
    return byCluster;
  }

  // Bucket deltas between two snapshots for one cluster ("" = all), as a
  // cumulative list sorted by bound. A counter that went down (operator
  // restarted) counts from zero.
  function deltaBuckets(cur, old, cluster) {
    var sum = {};
    Object.keys(cur).forEach(function (c) {
      if (cluster && c !== cluster) return;
      Object.keys(cur[c]).forEach(function (le) {
        var now = cur[c][le];
        var was = old && old[c] && old[c][le] !== undefined ? old[c][le] : 0;
        var d = now - was;
        if (d < 0) d = now;
        sum[le] = (sum[le] || 0) + d;
      });
    });
    return Object.keys(sum).map(function (le) {
      return { le: le === "+Inf" ? Infinity : parseFloat(le), count: sum[le] };
    }).sort(function (a, b) { return a.le - b.le; });
  }

  function fmtSeconds(v) {
    if (v === null || v === undefined || isNaN(v)) return "-";
    if (v < 1) return Math.round(v * 1000) + " ms";
    return (v < 10 ? v.toFixed(2) : v.toFixed(1)) + " s";
  }

  function updateClusterSelect(names) {
    var sel = $("latency-cluster"), have = {};
    for (var i = 0; i < sel.options.length; i++) have[sel.options[i].value] = true;
    names.sort().forEach(function (n) {
      if (have[n]) return;
      var o = el("option", null, n);
      o.value = n;
      sel.appendChild(o);
    });
  }

  function onMetrics(text, now) {
    var samples = parseMetrics(text);
    var buckets = convergenceBuckets(samples);
    updateClusterSelect(Object.keys(buckets).filter(function (c) { return c; }));
    snapshots.push({ t: now, buckets: buckets });
    while (snapshots.length > 1 && now - snapshots[1].t >= WINDOW_MS) snapshots.shift();
    var oldest = snapshots[0];
    var cluster = $("latency-cluster").value;
    var d = deltaBuckets(buckets, oldest === snapshots[snapshots.length - 1] ? null : oldest.buckets, cluster);
    if (oldest === snapshots[snapshots.length - 1]) d = [];  // first poll: no window yet
    var n = d.length ? d[d.length - 1].count : 0;
    var p50 = n > 0 ? quantile(0.5, d) : null, p99 = n > 0 ? quantile(0.99, d) : null;
    latencyPoints.push({ t: now, p50: p50, p99: p99, n: n });
    if (latencyPoints.length > HISTORY) latencyPoints.shift();
    $("latency-summary").textContent = n > 0
      ? "p50 " + fmtSeconds(p50) + ", p99 " + fmtSeconds(p99) + " over " + n + " change(s)"
      : "no change converged in the last 30 s";

    var errors = {};
    samples.forEach(function (s) {
      if (s.name !== "swarmgate_reconcile_errors_total") return;
      var c = s.labels.controller || "";
      errors[c] = (errors[c] || 0) + s.value;
    });
    var delta = 0, parts = [];
    Object.keys(errors).sort().forEach(function (c) {
      var was = prevErrors && prevErrors[c] !== undefined ? prevErrors[c] : errors[c];
      var dd = errors[c] - was;
      delta += dd < 0 ? errors[c] : dd;
      parts.push(c + ": " + errors[c]);
    });
    prevErrors = errors;
    errorPoints.push({ t: now, v: delta });
    if (errorPoints.length > HISTORY) errorPoints.shift();
    $("errors-by-controller").textContent = parts.length ? "total by controller - " + parts.join(", ") : "";
    var recent = 0;
    errorPoints.forEach(function (p) { if (now - p.t < 60000) recent += p.v; });
    $("errors-summary").textContent = recent + " in the last minute";
    drawLatency();
    drawErrors();
  }

  function cssVar(name) { return getComputedStyle(document.documentElement).getPropertyValue(name).trim(); }

  // Sizes the canvas to its box and returns the context and plot area.
  function setupCanvas(id) {
    var c = $(id), ratio = window.devicePixelRatio || 1;
    var w = c.clientWidth || 640, h = c.clientHeight || 220;
    c.width = Math.round(w * ratio); c.height = Math.round(h * ratio);
    var ctx = c.getContext("2d");
    ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
    ctx.clearRect(0, 0, w, h);
    ctx.font = "11px system-ui, sans-serif";
    return { ctx: ctx, w: w, h: h, left: 52, right: w - 8, top: 8, bottom: h - 20 };
  }

  function drawAxes(g, max, fmt) {
    var ctx = g.ctx;
    ctx.strokeStyle = cssVar("--line"); ctx.fillStyle = cssVar("--muted"); ctx.lineWidth = 1;
    for (var i = 0; i <= 4; i++) {
      var y = g.bottom - (g.bottom - g.top) * i / 4;
      ctx.beginPath(); ctx.moveTo(g.left, y); ctx.lineTo(g.right, y); ctx.stroke();
      ctx.textAlign = "right"; ctx.textBaseline = "middle";
      ctx.fillText(fmt(max * i / 4), g.left - 4, y);
    }
    // The end labels align inwards: centred, "now" would be clipped at the
    // right edge and "-5m" would run into the y axis' "0" label.
    ctx.textBaseline = "top";
    for (var m = 0; m <= 5; m++) {
      var x = g.left + (g.right - g.left) * (1 - m / 5);
      ctx.textAlign = m === 0 ? "right" : m === 5 ? "left" : "center";
      ctx.fillText(m === 0 ? "now" : "-" + m + "m", x, g.bottom + 4);
    }
  }

  function xOf(g, t, now) {
    var span = HISTORY * POLL_MS;
    return g.left + (g.right - g.left) * (1 - (now - t) / span);
  }

  function niceMax(v) {
    if (!(v > 0)) return 1;
    var steps = [0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120, 300];
    for (var i = 0; i < steps.length; i++) if (v <= steps[i]) return steps[i];
    return Math.ceil(v / 60) * 60;
  }

  function drawLatency() {
    var g = setupCanvas("latency-chart"), now = Date.now(), max = 0;
    latencyPoints.forEach(function (p) { if (p.p99 !== null && p.p99 > max) max = p.p99; });
    max = niceMax(max);
    drawAxes(g, max, fmtSeconds);
    [["p50", cssVar("--p50")], ["p99", cssVar("--p99")]].forEach(function (s) {
      var ctx = g.ctx, drawing = false;
      ctx.strokeStyle = s[1]; ctx.fillStyle = s[1]; ctx.lineWidth = 2;
      ctx.beginPath();
      latencyPoints.forEach(function (p) {
        var v = p[s[0]];
        if (v === null) { drawing = false; return; }
        var x = xOf(g, p.t, now), y = g.bottom - (g.bottom - g.top) * Math.min(v / max, 1);
        if (drawing) ctx.lineTo(x, y); else ctx.moveTo(x, y);
        drawing = true;
      });
      ctx.stroke();
    });
  }

  function drawErrors() {
    var g = setupCanvas("errors-chart"), now = Date.now(), max = 0;
    errorPoints.forEach(function (p) { if (p.v > max) max = p.v; });
    max = Math.max(4, Math.ceil(max / 4) * 4);
    drawAxes(g, max, function (v) { return String(Math.round(v)); });
    var ctx = g.ctx, bw = Math.max(1, (g.right - g.left) / HISTORY - 1);
    ctx.fillStyle = cssVar("--err");
    errorPoints.forEach(function (p) {
      if (!(p.v > 0)) return;
      var x = xOf(g, p.t, now), hgt = (g.bottom - g.top) * Math.min(p.v / max, 1);
      ctx.fillRect(x - bw, g.bottom - hgt, bw, hgt);
    });
  }

  function condition(status, type) {
    var list = status && status.conditions;
    if (!list || !list.length) return null;
    for (var i = 0; i < list.length; i++) if (list[i] && list[i].type === type) return list[i];
    return null;
  }

  // A condition cell: badge (status and reason) and message. Degraded=True
  // is bad, Progressing=True a warning, Ready=True good.
  function conditionCell(c, type) {
    var td = el("td");
    if (!c) { td.appendChild(el("span", "badge none", "unknown")); return td; }
    var isTrue = c.status === "True", cls;
    if (type === "Ready") cls = isTrue ? "ok" : "bad";
    else if (type === "Degraded") cls = isTrue ? "bad" : "ok";
    else cls = isTrue ? "warn" : "ok";
    var label = str(c.status) + (c.reason ? " · " + str(c.reason) : "");
    var badge = el("span", "badge " + cls, label);
    if (c.lastTransitionTime) badge.title = "since " + str(c.lastTransitionTime);
    td.appendChild(badge);
    if (c.message) td.appendChild(el("div", "msg", c.message));
    return td;
  }

  function listCell(items, cls) {
    var td = el("td", cls);
    if (!items || !items.length) { td.appendChild(el("span", "empty", "none")); return td; }
    var ul = el("ul", "list");
    items.forEach(function (i) { ul.appendChild(el("li", null, i)); });
    td.appendChild(ul);
    return td;
  }

  function spec(item) {
    var r = item.resource || {};
    return r.spec || r;
  }

  function renderClusters(clusters) {
    var body = $("clusters-body"), ready = 0;
    clear(body);
    if (!clusters.length) {
      var tr = el("tr"), td = el("td", "empty", "no ServiceCluster applied");
      td.colSpan = 6; tr.appendChild(td); body.appendChild(tr);
    }
    clusters.forEach(function (c) {
      var st = c.status || {}, tr = el("tr");
      tr.id = "cluster-" + str(c.name);
      tr.appendChild(el("td", "mono", c.name));
      var rc = condition(st, "Ready");
      if (rc && rc.status === "True") ready++;
      tr.appendChild(conditionCell(rc, "Ready"));
      var pr = st.proxyReplicas;
      var prCell = el("td", "num");
      if (pr) {
        var full = pr.running >= pr.desired && pr.desired > 0;
        prCell.appendChild(el("span", "badge " + (full ? "ok" : "warn"), str(pr.running) + " / " + str(pr.desired)));
      } else prCell.appendChild(el("span", "empty", "-"));
      tr.appendChild(prCell);
      var offered = c.configGeneration, served = c.servedGeneration;
      var genCell = el("td", "num");
      genCell.appendChild(el("span", "badge " + (offered === served ? "ok" : "warn"), str(offered) + " / " + str(served)));
      tr.appendChild(genCell);
      var proxies = (c.proxies || []).map(function (p) {
        var s = str(p.id).slice(0, 12) + ": gen " + str(p.generation);
        if (!p.expected) s += " (not expected)";
        if (p.ok === false) s += " - error: " + str(p.error);
        return s;
      });
      tr.appendChild(listCell(proxies, "mono"));
      tr.appendChild(el("td", "num", str(st.observedGeneration) + " / " + str(c.generation)));
      body.appendChild(tr);
    });
    $("clusters-summary").textContent = ready + " of " + clusters.length + " ready";
  }

  function renderRoutes(routes) {
    var body = $("routes-body"), ready = 0;
    clear(body);
    if (!routes.length) {
      var tr = el("tr"), td = el("td", "empty", "no Route applied");
      td.colSpan = 8; tr.appendChild(td); body.appendChild(tr);
    }
    routes.forEach(function (r) {
      var sp = spec(r), st = r.status || {}, tr = el("tr");
      tr.id = "route-" + str(r.name);
      tr.appendChild(el("td", "mono", r.name));
      tr.appendChild(listCell((sp.hosts || []).map(str), "mono"));
      tr.appendChild(el("td", "mono", sp.path || "/"));
      tr.appendChild(el("td", "mono", sp.serviceCluster));
      var rc = condition(st, "Ready");
      if (rc && rc.status === "True") ready++;
      tr.appendChild(conditionCell(rc, "Ready"));
      tr.appendChild(conditionCell(condition(st, "Progressing"), "Progressing"));
      tr.appendChild(conditionCell(condition(st, "Degraded"), "Degraded"));
      tr.appendChild(listCell((st.endpoints || []).map(str), "mono"));
      body.appendChild(tr);
    });
    $("routes-summary").textContent = ready + " of " + routes.length + " ready";
  }

  function setConn(ok, message) {
    var c = $("conn");
    c.className = "badge " + (ok ? "ok" : "bad");
    c.textContent = ok ? "live" : "unreachable";
    $("conn-error").textContent = ok ? "" : message;
  }

  // `withToken`: send the status token, if one was typed, as a bearer header.
  function fetchText(path, withToken) {
    var options = { cache: "no-store" };
    if (withToken && token) options.headers = { "Authorization": "Bearer " + token };
    return fetch(base + path, options).then(function (res) {
      return res.text().then(function (t) {
        if (!res.ok) {
          var e = new Error(path + ": HTTP " + res.status + " " + t.slice(0, 200));
          e.status = res.status;
          throw e;
        }
        return t;
      });
    });
  }

  // The operator wants a status token (none typed yet, or a refused one):
  // polling stops until one is submitted.
  function askForToken(refused) {
    $("login").hidden = false;
    $("login-message").textContent = refused
      ? "The operator refused this token. Enter the status token again."
      : "This operator requires a token to show its status (the file given to swarmgate operator --status-token-file).";
    var c = $("conn");
    c.className = "badge warn";
    c.textContent = "token required";
    $("conn-error").textContent = "";
    $("login-token").focus();
  }

  $("login-form").addEventListener("submit", function (ev) {
    ev.preventDefault();
    var t = $("login-token").value.trim();
    if (!t) return;
    setToken(t);
    $("login-token").value = "";
    $("login").hidden = true;
    poll();
  });

  function poll() {
    var now = Date.now();
    Promise.all([fetchText("/v1/status", true), fetchText("/metrics", false)]).then(function (r) {
      var status = JSON.parse(r[0]);
      renderClusters(status.clusters || []);
      renderRoutes(status.routes || []);
      onMetrics(r[1], now);
      setConn(true, "");
      $("updated").textContent = "updated " + new Date(now).toLocaleTimeString();
    }).catch(function (e) {
      if (e && e.status === 401) {
        askForToken(token !== "");
        setToken("");
        return "stop";
      }
      setConn(false, e && e.message ? e.message : String(e));
    }).then(function (stop) {
      if (stop !== "stop") setTimeout(poll, Math.max(0, POLL_MS - (Date.now() - now)));
    });
  }

  $("latency-cluster").addEventListener("change", function () {
    latencyPoints = []; drawLatency();
  });
  window.addEventListener("resize", function () { drawLatency(); drawErrors(); });
  poll();
})();
</script>
</body>
</html>
)page";

}  // namespace

std::string_view StatusPageHtml() { return std::string_view(kPage, sizeof(kPage) - 1); }

void RegisterStatusPage(http::HttpServer& server) {
  server.Handle("GET", kStatusPagePath, [](const http::Request&) {
    http::Response res;
    res.status = 200;
    res.content_type = kHtmlContentType;
    res.body = std::string(StatusPageHtml());
    // The page needs nothing beyond itself and this origin's API. Its token
    // form is handled by script: were that to fail, the browser must not
    // send the form anywhere, least of all with the token in a URL.
    res.headers.emplace_back("Content-Security-Policy",
                             "default-src 'none'; script-src 'unsafe-inline'; "
                             "style-src 'unsafe-inline'; connect-src 'self'; img-src 'self'; "
                             "form-action 'none'");
    res.headers.emplace_back("X-Content-Type-Options", "nosniff");
    res.headers.emplace_back("Cache-Control", "no-cache");
    return res;
  });
}

}  // namespace sg::ui
