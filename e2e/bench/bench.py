#!/usr/bin/env python3
"""swarmgate benchmarks (not tests: they print numbers, see docs/benchmarks.md).

Subcommands:
  render       offline `swarmgate render` and `nginx -t` time at N routes (no cluster)
  reload       offline: `nginx -t`, start and graceful reload (SIGHUP -> new workers
               running) of the rendered configuration at N routes, on loopback
  convergence  `swarmgate apply` of one new route -> every proxy node serves it,
               with N routes already in the cluster; hot or rolling delivery
  endpoints    task scale/reschedule -> every proxy sends to the new task /
               stops sending to the removed one
  operator     operator RSS and CPU (docker stats) with N routes applied
  throughput   sg-loadgen through a proxy vs straight to the backend task
  cpu          offline, on loopback: CPU time per proxied request of the generated
               configuration (N routes) against a minimal hand-written one, per engine,
               one worker each, and the latency each adds at half of saturation
  churn        zero drop for clients that never resend: route applies/removals (or
               backend scaling) under keep-alive load from sg-loadgen --no-resend
               (GET and POST) and wrk (GET and POST), beside sg-loadgen
               --resend-idempotent; prints each client's failures

The cluster subcommands need an e2e cluster (e2e/cluster up) with images
(e2e/images/build); they read $SG_E2E_STATE/cluster.env, deploy the operator
stack if needed, and remove what they create. `with fault("partition", 3):`
puts a node under one of `e2e/cluster fault`'s faults for a block, as the e2e
tests do (e2e/harness/faults.h).
"""

import argparse
import contextlib
import http.client
import json
import os
import random
import shlex
import statistics
import string
import subprocess
import sys
import tempfile
import time

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


def pct(values, p):
    if not values:
        return float("nan")
    s = sorted(values)
    k = (len(s) - 1) * p / 100.0
    lo = int(k)
    hi = min(lo + 1, len(s) - 1)
    return s[lo] + (s[hi] - s[lo]) * (k - lo)


def summary(name, values, unit="s"):
    if not values:
        print(f"{name}: no samples")
        return
    print(f"{name}: n={len(values)} p50={pct(values, 50):.3f}{unit} "
          f"p99={pct(values, 99):.3f}{unit} max={max(values):.3f}{unit} "
          f"mean={statistics.mean(values):.3f}{unit}")
    sys.stdout.flush()


def suffix(n=6):
    return "".join(random.choice(string.ascii_lowercase + string.digits) for _ in range(n))


def sh(cmd, check=True, timeout=600, env=None):
    r = subprocess.run(cmd, shell=True, capture_output=True, text=True, timeout=timeout, env=env)
    if check and r.returncode != 0:
        raise RuntimeError(f"{cmd}: exit {r.returncode}: {r.stderr.strip()}")
    return r.stdout


def cluster_yaml(name, replicas, http_port, delivery="hot", constraint=True, monitor=None,
                 engine="nginx"):
    """replicas=None: mode global (one proxy per ingress node)."""
    placement = "mode: global" if replicas is None else f"replicas: {replicas}"
    y = (f"apiVersion: swarmgate.io/v1alpha1\nkind: ServiceCluster\nmetadata:\n  name: {name}\n"
         f"spec:\n  proxy:\n    image: swarmgate/proxy:dev\n    engine: {engine}\n"
         f"    {placement}\n"
         f"    delivery: {delivery}\n    ports: {{http: {http_port}, https: {http_port + 1}}}\n")
    if constraint:
        y += "    constraints: [\"node.labels.swarmgate.ingress==true\"]\n"
    if monitor:
        y += f"    updatePolicy: {{monitor: {monitor}}}\n"
    return y


def route_yaml(name, cluster, host, service, port=8080):
    return (f"apiVersion: swarmgate.io/v1alpha1\nkind: Route\nmetadata:\n  name: {name}\n"
            f"spec:\n  serviceCluster: {cluster}\n  hosts: [\"{host}\"]\n  path: /\n"
            f"  backends:\n    - {{service: {service}, port: {port}}}\n")


def write_routes_file(folder, n):
    """A cluster named bench and n routes over 50 services, for offline rendering."""
    path = os.path.join(folder, f"routes-{n}.yaml")
    with open(path, "w") as f:
        f.write(cluster_yaml("bench", 2, 18080))
        for i in range(n):
            f.write("---\n" + route_yaml(f"r{i}", "bench", f"r{i}.bench.test", f"svc{i % 50}"))
    return path


# --------------------------------------------------------------------- render


def cmd_render(a):
    sizes = [int(x) for x in a.sizes.split(",")]
    tmp = tempfile.mkdtemp(prefix="sgbench-render-")
    try:
        for n in sizes:
            path = write_routes_file(tmp, n)
            out = os.path.join(tmp, f"nginx-{n}.conf")
            times = []
            for _ in range(a.repeat):
                t = time.monotonic()
                sh(f"{shlex.quote(a.swarmgate)} render -f {shlex.quote(path)} --cluster bench"
                   f" > {shlex.quote(out)}")
                times.append(time.monotonic() - t)
            checks = []
            for _ in range(a.repeat):
                t = time.monotonic()
                sh(f"{shlex.quote(a.swarmgate)} render -f {shlex.quote(path)} --cluster bench"
                   f" --check > /dev/null")
                checks.append(time.monotonic() - t)
            size = os.path.getsize(out)
            print(f"render {n} routes: yaml {os.path.getsize(path)} B, nginx.conf {size} B; "
                  f"swarmgate render (load+decode+build+render) median {statistics.median(times):.3f}s; "
                  f"render --check median {statistics.median(checks):.3f}s "
                  f"(nginx -t share ~{statistics.median(checks) - statistics.median(times):.3f}s)")
            sys.stdout.flush()
    finally:
        if not a.keep:
            sh(f"rm -rf {shlex.quote(tmp)}")


# --------------------------------------------------------------------- reload


def children(pid):
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            return set(int(x) for x in f.read().split())
    except OSError:
        return set()


def free_port():
    import socket
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def cmd_reload(a):
    import re
    import signal
    nginx = a.nginx
    sizes = [int(x) for x in a.sizes.split(",")]
    tmp = tempfile.mkdtemp(prefix="sgbench-reload-")
    try:
        for n in sizes:
            path = write_routes_file(tmp, n)
            text = sh(f"{shlex.quote(a.swarmgate)} render -f {shlex.quote(path)} --cluster bench")
            http, https, status = free_port(), free_port(), free_port()
            text = re.sub(r"listen 18080\b", f"listen 127.0.0.1:{http}", text)
            text = re.sub(r"listen 18081\b", f"listen 127.0.0.1:{https}", text)
            text = text.replace("listen 127.0.0.1:8082;", f"listen 127.0.0.1:{status};")
            prefix = os.path.join(tmp, f"p{n}")
            os.makedirs(os.path.join(prefix, "logs"))
            conf = os.path.join(prefix, "nginx.conf")
            with open(conf, "w") as f:
                f.write(text)
            tests = []
            for _ in range(a.repeat):
                t = time.monotonic()
                sh(f"{nginx} -t -q -p {prefix} -c {conf}")
                tests.append(time.monotonic() - t)
            t = time.monotonic()
            proc = subprocess.Popen([nginx, "-p", prefix, "-c", conf],
                                    stderr=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
            try:
                wait("nginx up", 120, lambda: get("127.0.0.1", status, "/healthz")[0] == 200,
                     interval=0.005)
                start = time.monotonic() - t
                reloads, drained = [], []
                for _ in range(a.repeat):
                    old = children(proc.pid)
                    t = time.monotonic()
                    proc.send_signal(signal.SIGHUP)
                    # Live when workers of the new configuration run (the
                    # master parsed it and forked them).
                    wait("new workers", 120, lambda: bool(children(proc.pid) - old),
                         interval=0.002)
                    reloads.append(time.monotonic() - t)
                    wait("old workers gone", 120, lambda: not (children(proc.pid) & old),
                         interval=0.002)
                    drained.append(time.monotonic() - t)
                    time.sleep(0.2)
            finally:
                proc.send_signal(signal.SIGQUIT)
                proc.wait(timeout=60)
            print(f"reload {n} routes: nginx.conf {len(text)} B; nginx -t median "
                  f"{statistics.median(tests):.3f}s; start {start:.3f}s; reload (SIGHUP -> new "
                  f"workers) median {statistics.median(reloads):.3f}s max {max(reloads):.3f}s; "
                  f"old workers gone median {statistics.median(drained):.3f}s")
            sys.stdout.flush()
    finally:
        if not a.keep:
            sh(f"rm -rf {shlex.quote(tmp)}")


# --------------------------------------------------------------------- cluster helpers


class Swarm:
    def __init__(self, a):
        state = os.environ.get("SG_E2E_STATE", os.path.join(REPO, ".e2e"))
        env = {}
        with open(os.path.join(state, "cluster.env")) as f:
            for line in f:
                if "=" in line:
                    k, v = line.strip().split("=", 1)
                    env[k] = v
        self.nodes = int(env["NODES"])
        self.addr = {i: env[f"NODE{i}_ADDR"] for i in range(1, self.nodes + 1)}
        self.sock = {i: env[f"NODE{i}_SOCK"] for i in range(1, self.nodes + 1)}
        self.hostname = {i: env[f"NODE{i}_HOSTNAME"] for i in range(1, self.nodes + 1)}
        self.swarmgate = a.swarmgate
        self.engine = a.engine
        self.tmp = tempfile.mkdtemp(prefix="sgbench-")

    def docker(self, args, node=1, check=True, timeout=120):
        return sh(f"docker -H unix://{self.sock[node]} {args}", check=check, timeout=timeout)

    def sg(self, args, check=True, timeout=600):
        return sh(f"{shlex.quote(self.swarmgate)} --docker-host unix://{self.sock[1]} {args}",
                  check=check, timeout=timeout)

    def apply(self, text, name="r.yaml"):
        path = os.path.join(self.tmp, name)
        with open(path, "w") as f:
            f.write(text)
        return self.sg(f"apply -f {shlex.quote(path)}")

    def deploy_operator(self):
        # One replica on node 1, whose published port is read, as the e2e
        # suites place it (on a cluster of several managers too).
        node1 = self.docker("node inspect self --format '{{.Description.Hostname}}'").strip()
        sh(f"SWARMGATE_IMAGE=swarmgate/operator:dev SWARMGATE_REPLICAS=1 "
           f"SG_OPERATOR_NODE={shlex.quote(node1)} "
           f"docker -H unix://{self.sock[1]} stack deploy -c "
           f"{REPO}/charts/swarmgate/stack.yml -c {REPO}/charts/swarmgate/publish.yml "
           f"-c {REPO}/e2e/harness/operator-on-node1.yml swarmgate")
        wait("operator ready", 90, lambda: get(self.addr[1], 9090, "/readyz")[0] == 200)

    def ingress_nodes(self):
        out = []
        for i in range(1, self.nodes + 1):
            lab = self.docker("node inspect --format '{{index .Spec.Labels \"swarmgate.ingress\"}}' "
                              + self.hostname[i]).strip()
            if lab == "true":
                out.append(i)
        return out or [1]

    def cleanup(self):
        sh(f"rm -rf {shlex.quote(self.tmp)}", check=False)


def get(addr, port, path="/", host=None, timeout=2.0):
    try:
        c = http.client.HTTPConnection(addr, port, timeout=timeout)
        c.request("GET", path, headers={"Host": host or f"{addr}:{port}"})
        r = c.getresponse()
        body = r.read().decode(errors="replace")
        c.close()
        return r.status, body
    except Exception as e:  # noqa: BLE001 - any transport error is "no answer"
        return 0, str(e)


def wait(what, seconds, pred, interval=0.02):
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if pred():
            return True
        time.sleep(interval)
    raise RuntimeError(f"timed out after {seconds}s waiting for {what}")


# The undo of each fault that lasts (see the header of e2e/cluster).
UNDO = {"partition": "heal", "pause-daemon": "resume-daemon", "kill-daemon": "restart-daemon"}


def cluster_fault(*args, timeout=600):
    return sh(f"{shlex.quote(os.path.join(REPO, 'e2e', 'cluster'))} fault "
              + " ".join(shlex.quote(str(x)) for x in args), timeout=timeout)


@contextlib.contextmanager
def fault(kind, node):
    """Node `node` under fault `kind` (a key of UNDO) for the with-block.

    Undone however the block ends. The script records the fault before
    applying it, so a failed apply is undone too, and `e2e/cluster fault
    undo-all` (or `down`) undoes it if this process dies first.
    """
    try:
        cluster_fault(kind, node)
        yield
    finally:
        cluster_fault(UNDO[kind], node)


class Setup:
    """A ServiceCluster with one echo backend, removed on exit."""

    def __init__(self, sw, delivery="hot", backend_replicas=1, backend_args="", monitor=None):
        self.sw = sw
        self.name = "bench" + suffix()
        self.net = "sg-" + self.name
        self.port = random.randint(26000, 28000)
        self.nodes = sw.ingress_nodes()
        self.routes = []
        self.services = []
        sw.deploy_operator()
        sw.apply(cluster_yaml(self.name, None, self.port, delivery, monitor=monitor,
                              engine=sw.engine), "cluster.yaml")
        wait("cluster network", 60, lambda: sw.docker(
            f"network inspect --format '{{{{.Name}}}}' {self.net} 2>/dev/null", check=False,
            timeout=10).strip() == self.net, interval=0.5)
        self.svc = self.service(backend_replicas, backend_args)

    def service(self, replicas, extra=""):
        name = "bench-echo-" + suffix()
        self.services.append(name)
        self.sw.docker(
            f"service create -d --name {name} --replicas {replicas} --network {self.net} "
            f"--stop-grace-period 5s --env SG_SERVICE={{{{.Service.Name}}}} "
            f"--env SG_TASK={{{{.Task.Name}}}} {extra} swarmgate/echo:dev")
        return name

    def add_routes(self, n, prefix="bulk"):
        if n <= 0:
            return
        docs = [route_yaml(f"{prefix}{i}", self.name, f"{prefix}{i}.{self.name}.test", self.svc)
                for i in range(n)]
        self.routes += [f"{prefix}{i}" for i in range(n)]
        t = time.monotonic()
        self.sw.apply("---\n".join(docs), f"{prefix}.yaml")
        print(f"applied {n} routes in {time.monotonic() - t:.1f}s")
        sys.stdout.flush()

    def wait_served(self, host, seconds=600, service=None):
        def ok():
            for n in self.nodes:
                st, body = get(self.sw.addr[n], self.port, "/", host, 1.0)
                if st != 200 or (service and service not in body):
                    return False
            return True
        wait(host, seconds, ok)

    def close(self):
        sw = self.sw
        if self.routes:
            path = os.path.join(sw.tmp, "delete.txt")
            # one CLI call per route is slow at 1000+; delete by file instead
            # `delete -f` checks the file like `apply -f`: hosts must not clash
            docs = [route_yaml(r, self.name, f"{r}.gone.test", self.svc) for r in self.routes]
            with open(path, "w") as f:
                f.write("---\n".join(docs))
            sw.sg(f"delete -f {shlex.quote(path)}", check=False)
        sw.sg(f"delete servicecluster {self.name}", check=False)
        for s in self.services:
            sw.docker(f"service rm {s}", check=False)
        end = time.monotonic() + 90
        while time.monotonic() < end:
            if not sw.docker(f"service ls -q --filter label=swarmgate.io/owner=cluster/{self.name}", check=False).strip():
                break
            time.sleep(1)
        time.sleep(3)
        sw.docker(f"network rm {self.net}", check=False)


# --------------------------------------------------------------------- convergence


def cmd_convergence(a):
    sw = Swarm(a)
    st = Setup(sw, delivery=a.delivery, monitor=a.monitor)
    try:
        st.add_routes(a.routes - 1)
        # Every bulk route served before the first probe: the operator takes
        # a bulk apply in several passes, in no particular order, so the last
        # name served does not mean the others are.
        t = time.monotonic()
        for i in range(a.routes - 1):
            st.wait_served(f"bulk{i}.{st.name}.test", 900)
        if a.routes > 1:
            print(f"all {a.routes - 1} routes served {time.monotonic() - t:.1f}s after the apply")
        samples = []
        for i in range(a.changes):
            name = f"probe{i}"
            host = f"{name}.{st.name}.test"
            t = time.monotonic()
            wall = time.time()
            sw.apply(route_yaml(name, st.name, host, st.svc), f"{name}.yaml")
            applied_after = time.monotonic() - t
            st.routes.append(name)
            st.wait_served(host, 120)
            samples.append(time.monotonic() - t)
            if a.verbose:
                print(f"  {name}: apply started {time.strftime('%H:%M:%S', time.gmtime(wall))}"
                      f".{int(wall * 1000) % 1000:03d} UTC, CLI done after {applied_after:.3f}s, "
                      f"served after {samples[-1]:.3f}s")
                sys.stdout.flush()
        summary(f"convergence {a.delivery} at {a.routes} routes (apply -> all "
                f"{len(st.nodes)} proxies serve)", samples)
    finally:
        st.close()
        sw.cleanup()


# --------------------------------------------------------------------- endpoints


def task_ids_running(sw, service):
    out = sw.docker(f"service ps -q --filter desired-state=running {service}", check=False)
    ids = out.split()
    if not ids:
        return {}
    fmt = "'{{.ID}} {{.Status.State}} {{.Status.Timestamp.UnixNano}}'"
    res = {}
    for line in sw.docker(f"inspect --format {fmt} {' '.join(ids)}", check=False).splitlines():
        tid, state, ts = line.split()
        res[tid] = (state, int(ts) / 1e9)
    return res


def cmd_endpoints(a):
    sw = Swarm(a)
    base = a.replicas
    st = Setup(sw, backend_replicas=base)
    try:
        host = f"ep.{st.name}.test"
        sw.apply(route_yaml("ep", st.name, host, st.svc), "ep.yaml")
        st.routes.append("ep")
        st.wait_served(host, 120)
        up, down = [], []

        def tasks_answering(n, tries=12):
            seen = set()
            for _ in range(tries):
                code, body = get(sw.addr[n], st.port, "/", host, 1.0)
                if code == 200:
                    seen.add(json.loads(body).get("task", ""))
            return seen

        for i in range(a.changes):
            # scale up base -> base+1: from the new task's running timestamp until
            # every proxy sends requests to it
            sw.docker(f"service scale -d {st.svc}={base + 1}")
            before = None
            end = time.monotonic() + 60
            while time.monotonic() < end:
                tasks = task_ids_running(sw, st.svc)
                running = [t for t, (s, _) in tasks.items() if s == "running"]
                if len(running) == base + 1:
                    before = tasks
                    break
                time.sleep(0.05)
            if before is None:
                raise RuntimeError("scale up: no second running task")
            newest = max(before.items(), key=lambda kv: kv[1][1])
            t_running = newest[1][1]
            pending = set(st.nodes)
            end = time.monotonic() + 30
            while pending and time.monotonic() < end:
                for n in list(pending):
                    if len(tasks_answering(n, 8 * (base + 1))) == base + 1:
                        pending.discard(n)
                time.sleep(0.01)
            up.append(time.time() - t_running)
            # scale down base+1 -> base: from the scale command (desired state
            # shutdown follows within ms) until no proxy sends to the removed task
            t0 = time.time()
            sw.docker(f"service scale -d {st.svc}={base}")
            pending = set(st.nodes)
            end = time.monotonic() + 30
            while pending and time.monotonic() < end:
                for n in list(pending):
                    if len(tasks_answering(n, 8 * (base + 1))) == base:
                        pending.discard(n)
                time.sleep(0.01)
            down.append(time.time() - t0)
            time.sleep(1)
        summary(f"endpoint add {base} -> {base + 1} tasks (task running -> every proxy sends to it)", up)
        summary(f"endpoint removal {base + 1} -> {base} tasks (scale command -> no proxy sends to the task)", down)
    finally:
        st.close()
        sw.cleanup()


# --------------------------------------------------------------------- operator resources


def cmd_operator(a):
    sw = Swarm(a)
    st = Setup(sw)
    try:
        cid = sw.docker("ps -q --filter label=com.docker.swarm.service.name=swarmgate_operator")
        cid = cid.split()[0]

        def stats(label):
            out = sw.docker(f"stats --no-stream --format '{{{{.MemUsage}}}} {{{{.CPUPerc}}}}' {cid}")
            print(f"operator at {label}: {out.strip()}")
            sys.stdout.flush()

        stats("0 routes (baseline)")
        def process_metrics():
            out = {}
            for line in get(sw.addr[1], 9090, "/metrics", timeout=10)[1].splitlines():
                for key in ("process_cpu_seconds_total", "process_resident_memory_bytes",
                            "swarmgate_render_duration_seconds_sum",
                            "swarmgate_render_duration_seconds_count"):
                    if line.startswith(key + " ") or line.startswith(key + "{"):
                        out[key] = float(line.split()[-1])
            return out

        done = 0
        for n in [int(x) for x in a.sizes.split(",")]:
            before = process_metrics()
            added = n - done
            t = time.monotonic()
            st.add_routes(added, prefix=f"b{n}x")
            done = n
            st.wait_served(f"b{n}x{added - 1}.{st.name}.test", 1800)
            took = time.monotonic() - t
            after = process_metrics()
            cpu = after.get("process_cpu_seconds_total", 0) - before.get("process_cpu_seconds_total", 0)
            print(f"{added} routes applied and served on every proxy in {took:.1f}s; operator CPU "
                  f"{cpu:.1f}s meanwhile ({100 * cpu / took:.0f}% of one core)")
            time.sleep(a.settle)
            stats(f"{n} routes (idle, after {a.settle}s)")
            m = process_metrics()
            idle_before = m.get("process_cpu_seconds_total", 0)
            time.sleep(30)
            idle = process_metrics().get("process_cpu_seconds_total", 0) - idle_before
            print(f"  operator RSS {m.get('process_resident_memory_bytes', 0) / 2**20:.1f} MiB; "
                  f"idle CPU {100 * idle / 30:.1f}% of one core over 30s; render "
                  f"sum {m.get('swarmgate_render_duration_seconds_sum', 0):.2f}s count "
                  f"{m.get('swarmgate_render_duration_seconds_count', 0):.0f}")
            sys.stdout.flush()
    finally:
        st.close()
        sw.cleanup()


# --------------------------------------------------------------------- throughput


def cmd_throughput(a):
    sw = Swarm(a)
    st = Setup(sw)
    direct_port = st.port + 2
    node = st.nodes[0]
    try:
        # the backend on the proxy's node, also published directly (host mode)
        sw.docker(f"service update -d --constraint-add node.hostname=={sw.hostname[node]} "
                  f"--publish-add mode=host,target=8080,published={direct_port} {st.svc}")
        host = f"tp.{st.name}.test"
        sw.apply(route_yaml("tp", st.name, host, st.svc), "tp.yaml")
        st.routes.append("tp")
        wait("direct port", 120, lambda: get(sw.addr[node], direct_port, "/")[0] == 200, 0.5)
        st.wait_served(host, 120)
        time.sleep(3)

        def run(label, port, hh, rate=None):
            """One sg-loadgen run; prints and returns its report."""
            out = os.path.join(sw.tmp, f"{label}.json")
            flags = (f"--host {hh} " if hh else "") + (f"--rate {rate} " if rate else "")
            sh(f"{shlex.quote(a.loadgen)} --url http://{sw.addr[node]}:{port}/tp {flags}"
               f"--concurrency {a.concurrency} --threads 2 --keepalive --duration {a.seconds}s "
               f"--json {out}")
            with open(out) as f:
                r = json.load(f)
            kinds = {k: v for k, v in r.get("errors", {}).items() if v}
            codes = {k: v for k, v in r.get("status", {}).items() if not k.startswith("2")}
            paced = f" paced at {rate} req/s" if rate else ""
            print(f"{label}{paced}: {r['rps']:.0f} req/s, failures {r['failures']} {kinds} "
                  f"{codes}, p50 {r['latency_ms']['p50']:.2f} ms, "
                  f"p99 {r['latency_ms']['p99']:.2f} ms")
            sys.stdout.flush()
            return r

        paths = (("direct", direct_port, ""), ("proxy", st.port, host))
        res = {}
        for label, port, hh in paths + paths:
            res.setdefault(label, []).append(run(label, port, hh))
        d = max(x["rps"] for x in res["direct"])
        p = max(x["rps"] for x in res["proxy"])
        print(f"throughput ratio proxy/direct (best of 2 each): {p / d:.2f}")
        # Below saturation both paths carry the same rate; what the proxy
        # adds is latency (and CPU, which the saturated runs above share).
        for label, port, hh in paths:
            run(label, port, hh, rate=int(p * a.paced_share))
    finally:
        st.close()
        sw.cleanup()


# --------------------------------------------------------------------- churn


WRK_RE = {
    "requests": r"(\d+) requests in ",
    "connect": r"Socket errors: connect (\d+)",
    "read": r"Socket errors: connect \d+, read (\d+)",
    "write": r"Socket errors: connect \d+, read \d+, write (\d+)",
    "timeout": r"Socket errors: .*timeout (\d+)",
    "non2xx3xx": r"Non-2xx or 3xx responses: (\d+)",
}


def parse_wrk(text):
    """wrk's summary as numbers (its error lines are printed only when nonzero)."""
    import re
    out = {}
    for k, rx in WRK_RE.items():
        m = re.search(rx, text)
        out[k] = int(m.group(1)) if m else (-1 if k == "requests" else 0)
    return out


def wrk_script(path, method, body_bytes, delay_ms):
    with open(path, "w") as f:
        f.write(f'wrk.method = "{method}"\n')
        if body_bytes > 0:
            # wrk adds Content-Length for a body
            f.write(f'wrk.body = string.rep("x", {body_bytes})\n'
                    'wrk.headers["Content-Type"] = "application/octet-stream"\n')
        if delay_ms > 0:
            f.write(f"function delay() return {delay_ms} end\n")


def cmd_churn(a):
    sw = Swarm(a)
    st = Setup(sw, backend_replicas=2)
    node = st.nodes[0]
    procs = []
    try:
        host = f"churn.{st.name}.test"
        sw.apply(route_yaml("churn", st.name, host, st.svc), "churn.yaml")
        st.routes.append("churn")
        st.wait_served(host, 120)
        time.sleep(2)
        url = f"http://{sw.addr[node]}:{st.port}"
        seconds = a.seconds
        per_conn_delay = int(1000 * a.connections / a.rate)

        def loadgen(label, extra):
            out = os.path.join(sw.tmp, f"loadgen{len(procs)}.json")
            cmd = (f"{shlex.quote(a.loadgen)} --url {url}/churn --host {host} "
                   f"--concurrency {a.connections} --keepalive --rate {a.rate} "
                   f"--duration {seconds}s --timeout 2s {extra} --json {shlex.quote(out)}")
            return ("loadgen", label, out, subprocess.Popen(
                cmd, shell=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True))

        def wrk(label, method, body):
            script = os.path.join(sw.tmp, f"wrk{len(procs)}.lua")
            wrk_script(script, method, body, per_conn_delay)
            cmd = (f"{shlex.quote(a.wrk)} -t2 -c{a.connections} -d{seconds}s --timeout 2s "
                   f"-s {shlex.quote(script)} -H {shlex.quote('Host: ' + host)} {url}/churn-wrk")
            return ("wrk", label, None, subprocess.Popen(
                cmd, shell=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True))

        body = a.body_size
        procs.append(loadgen("sg-loadgen GET, never resends", "--no-resend"))
        procs.append(loadgen(f"sg-loadgen POST {body} B, never resends",
                             f"--no-resend --method POST --body-size {body}"))
        procs.append(loadgen("sg-loadgen GET, resends idempotent once", "--resend-idempotent"))
        if os.access(a.wrk, os.X_OK):
            procs.append(wrk("wrk GET", "GET", 0))
            procs.append(wrk(f"wrk POST {body} B", "POST", body))
        else:
            print(f"{a.wrk} not found (Debian package wrk): wrk not run")
        time.sleep(1)
        t = time.monotonic()
        changes = 0
        deadline = t + seconds - 2
        if a.kind == "mixed":
            # One roll of every backend task (new task first), detached, while
            # the route changes below go on.
            sw.docker(f"service update -d --force --update-order start-first "
                      f"--update-parallelism 1 {st.svc}")
        while changes < a.changes and time.monotonic() < deadline:
            if a.kind in ("routes", "mixed"):
                name = f"x{changes}"
                sw.apply(route_yaml(name, st.name, f"{name}.{st.name}.test", st.svc), "x.yaml")
                time.sleep(0.15)
                sw.sg(f"delete route {name}", check=False)
            else:
                sw.docker(f"service scale -d {st.svc}=3")
                time.sleep(1.5)
                sw.docker(f"service scale -d {st.svc}=2")
                time.sleep(1.5)
            changes += 1
        took = time.monotonic() - t
        what = {"routes": "route applies + removals",
                "mixed": "route applies + removals during a start-first roll of the backend",
                "scale": "backend scalings 2->3->2"}[a.kind]
        print(f"churn: {changes} {what} in {took:.1f}s, under {seconds}s of load on node "
              f"{node} ({a.connections} keep-alive connections and {a.rate} req/s per client)")
        if a.kind == "mixed":
            # Read while the load still runs: the roll must have happened under it.
            state = sw.docker("service inspect --format '{{.UpdateStatus.State}}' " + st.svc,
                              check=False).strip()
            print(f"  backend roll: {state or 'no update status'}")
        for kind, label, out, p in procs:
            text, err = p.communicate(timeout=seconds + 120)
            if kind == "loadgen":
                if not os.path.exists(out):
                    print(f"  {label}: no report: {err.strip()}")
                    continue
                with open(out) as f:
                    r = json.load(f)
                kinds = {k: v for k, v in r.get("errors", {}).items() if v}
                codes = {k: v for k, v in r.get("status", {}).items() if not k.startswith("2")}
                print(f"  {label}: requests {r['requests']}, failures (never resending) "
                      f"{r['failures_no_resend']}, resent {r['resent']}, failures after "
                      f"resending {r['failures_after_resend']}; closed on a reused keep-alive "
                      f"connection {r['closed_on_reuse']} (close pending before the write "
                      f"{r['closed_on_reuse_stale']}) {kinds} {codes}")
            else:
                w = parse_wrk(text)
                print(f"  {label}: requests {w['requests']}, socket errors: connect "
                      f"{w['connect']}, read {w['read']}, write {w['write']}, timeout "
                      f"{w['timeout']}; non-2xx/3xx {w['non2xx3xx']} (read errors include "
                      f"idle connections the server closed)")
                if w["requests"] < 0:
                    print("    " + text.strip().replace("\n", "\n    "))
            sys.stdout.flush()
        procs = []
    finally:
        for _, _, _, p in procs:
            if p.poll() is None:
                p.terminate()
                p.wait(timeout=10)
        st.close()
        sw.cleanup()


# --------------------------------------------------------------------- cpu


def proc_cpu_seconds(pids):
    """utime + stime of the processes and all their descendants, in seconds."""
    tick = os.sysconf("SC_CLK_TCK")
    seen, todo, total = set(), list(pids), 0.0
    while todo:
        pid = todo.pop()
        if pid in seen:
            continue
        seen.add(pid)
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            # after the name: state(0) ... utime(11) stime(12) cutime(13) cstime(14)
            total += (int(fields[11]) + int(fields[12])) / tick
        except OSError:
            continue
        todo += list(children(pid))
    return total


MINIMAL_NGINX = """worker_processes 1;
daemon off;
pid nginx.pid;
error_log stderr error;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    upstream echo {{ server 127.0.0.1:{echo}; keepalive 32; }}
    server {{
        listen 127.0.0.1:{port};
        location / {{
            proxy_pass http://echo;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
        }}
    }}
}}
"""

MINIMAL_HAPROXY = """global
    nbthread 1
defaults
    mode http
    option http-keep-alive
    timeout connect 5s
    timeout client 1m
    timeout server 1m
frontend http
    bind 127.0.0.1:{port}
    default_backend echo
backend echo
    server echo 127.0.0.1:{echo}
"""


def write_side_files(text, prefix):
    """Writes the maps a rendered haproxy.cfg carries as "#@file NAME" blocks
    (reconcilers/haproxy/haproxy_side_files.h) beside it, as the agent does."""
    name = None
    for line in text.split("\n"):
        if line.startswith("#@file "):
            name = line[len("#@file "):]
            open(os.path.join(prefix, name), "w").close()
        elif name and line.startswith("#@"):
            with open(os.path.join(prefix, name), "a") as f:
                f.write(line[3:] + "\n")
        else:
            name = None


def cmd_cpu(a):
    import re
    import signal
    tmp = tempfile.mkdtemp(prefix="sgbench-cpu-")
    procs = []

    def start(argv, env=None, cwd=None):
        p = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                             env=env, cwd=cwd, start_new_session=True)
        procs.append(p)
        return p

    def stop(p):
        if p.poll() is None:
            os.killpg(p.pid, signal.SIGTERM)
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait()

    def wrk_run(port, host, pids):
        before = proc_cpu_seconds(pids)
        t = time.monotonic()
        hdr = f"-H 'Host: {host}' " if host else ""
        hdr += "".join(f"-H {shlex.quote(h)} " for h in a.header)
        out = sh(f"{a.wrk} -t1 -c{a.connections} -d{a.seconds}s --latency {hdr}"
                 f"http://127.0.0.1:{port}/", timeout=a.seconds + 60)
        wall = time.monotonic() - t
        used = proc_cpu_seconds(pids) - before
        w = parse_wrk(out)
        return w, used, wall

    def paced(port, host, rate):
        out = os.path.join(tmp, "paced.json")
        flags = f"--host {host} " if host else ""
        sh(f"{shlex.quote(a.loadgen)} --url http://127.0.0.1:{port}/ {flags}--rate {rate} "
           f"--concurrency {a.connections} --threads 1 --keepalive --duration {a.seconds}s "
           f"--json {out}", timeout=a.seconds + 60)
        with open(out) as f:
            return json.load(f)

    try:
        echo_port = free_port()
        echo = start([os.path.join(REPO, "build", "e2e", "sg-echo"), "--port", str(echo_port),
                      "--threads", "1"])
        wait("echo", 30, lambda: get("127.0.0.1", echo_port, "/")[0] == 200)
        # The echo backend alone: its CPU per request is the floor of both.
        w, used, wall = wrk_run(echo_port, "", [echo.pid])
        print(f"echo backend alone: {w['requests']} requests in {wall:.1f}s, "
              f"{1e6 * used / max(1, w['requests']):.1f} us CPU per request")
        sys.stdout.flush()
        echo_rate = w["requests"] / wall
        direct = paced(echo_port, "", int(echo_rate * a.paced_share))
        for engine in ("nginx", "haproxy"):
            # N routes over 50 services, every service's task the echo backend.
            path = os.path.join(tmp, f"routes-{engine}.yaml")
            with open(path, "w") as f:
                f.write(cluster_yaml("bench", 2, 18080, engine=engine))
                for i in range(a.routes):
                    f.write("---\n" + route_yaml(f"r{i}", "bench", f"r{i}.bench.test",
                                                 f"svc{i % 50}", echo_port) + a.route_spec)
            eps = " ".join(f"--endpoints svc{i}=127.0.0.1" for i in range(50))
            text = sh(f"{shlex.quote(a.swarmgate)} render -f {shlex.quote(path)} --cluster bench "
                      f"{eps}")
            port = free_port()
            prefix = os.path.join(tmp, engine)
            os.makedirs(os.path.join(prefix, "logs"))
            host = "r0.bench.test"
            results = {}
            for kind in ("minimal", "generated"):
                cfg_port = free_port()
                if engine == "nginx":
                    if kind == "minimal":
                        conf = MINIMAL_NGINX.format(echo=echo_port, port=cfg_port)
                    else:
                        conf = re.sub(r"worker_processes \w+;", "worker_processes 1;", text)
                        conf = re.sub(r"listen 18080\b", f"listen 127.0.0.1:{cfg_port}", conf)
                        conf = re.sub(r"listen 18081\b", f"listen 127.0.0.1:{free_port()}", conf)
                        conf = conf.replace("listen 127.0.0.1:8082;",
                                            f"listen 127.0.0.1:{free_port()};")
                    cfile = os.path.join(prefix, f"{kind}.conf")
                    with open(cfile, "w") as f:
                        f.write(conf)
                    p = start(["/usr/sbin/nginx", "-p", prefix + "/", "-c", cfile])
                else:
                    if kind == "minimal":
                        conf = MINIMAL_HAPROXY.format(echo=echo_port, port=cfg_port)
                    else:
                        conf = text.replace("global\n", "global\n    nbthread 1\n", 1)
                        conf = conf.replace("bind 127.0.0.1:8082", f"bind 127.0.0.1:{free_port()}")
                    cfile = os.path.join(prefix, f"{kind}.cfg")
                    with open(cfile, "w") as f:
                        f.write(conf)
                    write_side_files(conf, prefix)
                    env = dict(os.environ, SG_HTTP_BIND=f"ipv4@127.0.0.1:{cfg_port}",
                               SG_HTTPS_BIND=f"ipv4@127.0.0.1:{free_port()}")
                    p = start(["/usr/sbin/haproxy", "-db", "-C", prefix, "-f", cfile], env=env)
                hh = host if kind == "generated" else ""
                wait(f"{engine} {kind}", 60,
                     lambda: get("127.0.0.1", cfg_port, "/", hh or None)[0] == 200)
                runs = []
                for _ in range(a.repeat):
                    w, used, wall = wrk_run(cfg_port, hh, [p.pid])
                    runs.append((1e6 * used / max(1, w["requests"]), w["requests"] / wall, w))
                us = [r[0] for r in runs]
                rps = max(r[1] for r in runs)
                bad = sum(r[2]["non2xx3xx"] + r[2]["read"] + r[2]["connect"] for r in runs)
                pr = paced(cfg_port, hh, int(rps * a.paced_share))
                results[kind] = statistics.median(us)
                print(f"{engine} {kind}: {'/'.join(f'{x:.1f}' for x in us)} us CPU per request "
                      f"(median {statistics.median(us):.1f}), saturated {rps:.0f} req/s, "
                      f"errors {bad}; at {int(rps * a.paced_share)} req/s p50 "
                      f"{pr['latency_ms']['p50']:.3f} ms p99 {pr['latency_ms']['p99']:.3f} ms "
                      f"(direct to echo at {int(echo_rate * a.paced_share)} req/s: "
                      f"p50 {direct['latency_ms']['p50']:.3f} ms p99 "
                      f"{direct['latency_ms']['p99']:.3f} ms), failures {pr['failures']}")
                sys.stdout.flush()
                stop(p)
            print(f"{engine}: generated ({a.routes} routes) / minimal = "
                  f"{results['generated'] / results['minimal']:.2f}")
            sys.stdout.flush()
    finally:
        for p in procs:
            stop(p)
        if not a.keep:
            sh(f"rm -rf {shlex.quote(tmp)}")


def main():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--swarmgate", default=os.path.join(REPO, "build", "operator", "swarmgate"))
    p.add_argument("--loadgen", default=os.path.join(REPO, "build", "e2e", "sg-loadgen"))
    p.add_argument("--wrk", default="/usr/bin/wrk")
    p.add_argument("--engine", choices=["nginx", "haproxy"], default="nginx",
                   help="the clusters' proxy engine (spec.proxy.engine)")
    sub = p.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("render")
    r.add_argument("--sizes", default="100,1000,10000")
    r.add_argument("--repeat", type=int, default=3)
    r.add_argument("--keep", action="store_true")
    rl = sub.add_parser("reload")
    rl.add_argument("--sizes", default="100,1000,10000")
    rl.add_argument("--repeat", type=int, default=5)
    rl.add_argument("--nginx", default="/usr/sbin/nginx")
    rl.add_argument("--keep", action="store_true")
    c = sub.add_parser("convergence")
    c.add_argument("--routes", type=int, default=10)
    c.add_argument("--changes", type=int, default=50)
    c.add_argument("--delivery", choices=["hot", "rolling"], default="hot")
    c.add_argument("--verbose", action="store_true", help="print every change")
    c.add_argument("--monitor", help="proxy updatePolicy.monitor (rolling delivery), e.g. 1s")
    e = sub.add_parser("endpoints")
    e.add_argument("--changes", type=int, default=20)
    e.add_argument("--replicas", type=int, default=1,
                   help="backend tasks between changes (scaled to one more and back)")
    o = sub.add_parser("operator")
    o.add_argument("--sizes", default="1000,10000")
    o.add_argument("--settle", type=int, default=10)
    t = sub.add_parser("throughput")
    t.add_argument("--concurrency", type=int, default=50)
    t.add_argument("--seconds", type=int, default=10)
    t.add_argument("--paced-share", type=float, default=0.5,
                   help="paced runs at this share of the proxy's saturated rate")
    cp = sub.add_parser("cpu")
    cp.add_argument("--routes", type=int, default=100)
    cp.add_argument("--seconds", type=int, default=10)
    cp.add_argument("--connections", type=int, default=8)
    cp.add_argument("--repeat", type=int, default=3)
    cp.add_argument("--paced-share", type=float, default=0.5)
    cp.add_argument("--keep", action="store_true")
    cp.add_argument("--route-spec", default="",
                    help="YAML lines added to every route's spec (two-space indent), such as "
                         "ipAccess, cors or compression")
    cp.add_argument("--header", action="append", default=[],
                    help="a header wrk sends with every request ('Name: value'); repeatable. "
                         "The paced latency runs (sg-loadgen) send none")
    ch = sub.add_parser("churn")
    ch.add_argument("--kind", choices=["routes", "mixed", "scale"], default="routes")
    ch.add_argument("--changes", type=int, default=50,
                    help="route applies+removals (or scalings), bounded by the load's duration")
    ch.add_argument("--seconds", type=int, default=30, help="load duration")
    ch.add_argument("--rate", type=int, default=100, help="req/s of each client")
    ch.add_argument("--connections", type=int, default=8, help="keep-alive connections per client")
    ch.add_argument("--body-size", type=int, default=2048, help="POST body bytes")
    a = p.parse_args()
    {"render": cmd_render, "reload": cmd_reload, "convergence": cmd_convergence, "endpoints": cmd_endpoints,
     "operator": cmd_operator, "throughput": cmd_throughput, "churn": cmd_churn,
     "cpu": cmd_cpu}[a.cmd](a)


if __name__ == "__main__":
    main()
