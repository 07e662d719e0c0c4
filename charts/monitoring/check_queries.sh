#!/usr/bin/env bash
# Runs every PromQL expression of a Grafana dashboard against a Prometheus:
#   charts/monitoring/check_queries.sh DASHBOARD.json PROM_URL
# e.g. charts/monitoring/check_queries.sh charts/monitoring/grafana/dashboards/swarmgate.json \
#        http://127.0.0.1:9091
#
# Dashboard variables are replaced before querying ($cluster and other
# variables by ".*", $__rate_interval and $__interval by 1m, $__range by 1h).
# Exit status: 0 when every query is accepted, 1 when any query errors (parse
# error, unknown function, bad matcher...), 2 on bad usage or an unreachable
# Prometheus. Queries that succeed but return no data are listed as warnings
# (a metric without samples yet, e.g. convergence before the first change).
# With --require-data they fail too.
set -euo pipefail

usage() {
  echo "usage: $0 [--require-data] DASHBOARD.json PROM_URL" >&2
  exit 2
}
REQUIRE_DATA=0
if [[ "${1:-}" == "--require-data" ]]; then
  REQUIRE_DATA=1
  shift
fi
[[ $# -eq 2 ]] || usage
[[ -r "$1" ]] || { echo "check_queries: cannot read $1" >&2; exit 2; }

exec python3 - "$1" "$2" "$REQUIRE_DATA" <<'PY'
import json
import re
import sys
import urllib.error
import urllib.parse
import urllib.request

dashboard_path, prom_url, require_data = sys.argv[1], sys.argv[2].rstrip("/"), sys.argv[3] == "1"

with open(dashboard_path, encoding="utf-8") as f:
    dashboard = json.load(f)


def panels(items):
    for p in items or []:
        yield p
        yield from panels(p.get("panels"))


queries = []  # (panel title, refId, expr)
for p in panels(dashboard.get("panels")):
    for t in p.get("targets") or []:
        if "expr" in t:
            queries.append((p.get("title", "?"), t.get("refId", "?"), t["expr"]))
for v in (dashboard.get("templating") or {}).get("list") or []:
    q = v.get("query")
    if isinstance(q, dict):
        q = q.get("query")
    if v.get("type") == "query" and isinstance(q, str):
        m = re.fullmatch(r"\s*label_values\((.*),\s*\w+\)\s*", q)
        if m:  # Grafana's label_values(metric, label): check the selector
            queries.append(("variable " + v.get("name", "?"), "-", m.group(1)))

SUBST = [
    (re.compile(r"\$__rate_interval|\$\{__rate_interval\}"), "1m"),
    (re.compile(r"\$__interval|\$\{__interval\}"), "1m"),
    (re.compile(r"\$__range|\$\{__range\}"), "1h"),
    (re.compile(r"\$\{?[A-Za-z_][A-Za-z0-9_]*(:[a-z]+)?\}?"), ".*"),
]


def prepare(expr):
    for pattern, value in SUBST:
        expr = pattern.sub(value, expr)
    return expr


def query(expr):
    url = prom_url + "/api/v1/query?" + urllib.parse.urlencode({"query": expr})
    try:
        with urllib.request.urlopen(url, timeout=10) as res:
            return json.load(res)
    except urllib.error.HTTPError as e:  # 400/422: Prometheus explains in JSON
        try:
            return json.load(e)
        except ValueError:
            return {"status": "error", "error": "HTTP %d" % e.code}


try:
    query("vector(1)")
except (urllib.error.URLError, OSError) as e:
    print("check_queries: Prometheus at %s unreachable: %s" % (prom_url, e), file=sys.stderr)
    sys.exit(2)

if not queries:
    print("check_queries: no expr in %s" % dashboard_path, file=sys.stderr)
    sys.exit(1)

errors = empty = 0
for title, ref, expr in queries:
    body = query(prepare(expr))
    where = "%s [%s]" % (title, ref)
    if body.get("status") != "success":
        errors += 1
        print("ERROR   %s: %s\n        %s" % (where, body.get("error", body), expr))
        continue
    if not body.get("data", {}).get("result"):
        empty += 1
        print("NO DATA %s\n        %s" % (where, expr))
    else:
        print("ok      %s" % where)

print("check_queries: %d queries, %d errors, %d without data" % (len(queries), errors, empty))
sys.exit(1 if errors or (require_data and empty) else 0)
PY
