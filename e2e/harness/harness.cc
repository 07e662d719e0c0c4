#include "e2e/harness/harness.h"
#include "sg_build_paths.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <mutex>
#include <random>
#include <set>
#include <sstream>
#include <thread>

#include <rapidjson/document.h>
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

namespace sg::e2e {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;

// ------------------------------------------------------------------ shell

std::string ShResult::Describe() const {
  if (timed_out) return "timed out; stderr: " + TrimRight(err);
  return "exit " + std::to_string(exit_code) + ": " + TrimRight(err.empty() ? out : err);
}

std::string ShellQuote(const std::string& s) {
  std::string q = "'";
  for (char c : s) {
    if (c == '\'') {
      q += "'\\''";
    } else {
      q += c;
    }
  }
  return q + "'";
}

std::string TrimRight(std::string s) {
  while (!s.empty() &&
         (s.back() == '\n' || s.back() == ' ' || s.back() == '\r' || s.back() == '\t')) {
    s.pop_back();
  }
  return s;
}

std::vector<std::string> Lines(const std::string& s) {
  std::vector<std::string> out;
  std::istringstream in(s);
  std::string line;
  while (std::getline(in, line)) {
    if (!TrimRight(line).empty()) out.push_back(TrimRight(line));
  }
  return out;
}

ShResult Sh(const std::string& cmd, Duration timeout) {
  ShResult r;
  int out_pipe[2], err_pipe[2];
  if (pipe2(out_pipe, O_CLOEXEC) != 0) return r;
  if (pipe2(err_pipe, O_CLOEXEC) != 0) {
    close(out_pipe[0]), close(out_pipe[1]);
    return r;
  }
  pid_t pid = fork();
  if (pid < 0) {
    for (int fd : {out_pipe[0], out_pipe[1], err_pipe[0], err_pipe[1]}) close(fd);
    return r;
  }
  if (pid == 0) {
    // Own process group, so a timeout can kill the whole pipeline.
    setpgid(0, 0);
    int devnull = open("/dev/null", O_RDONLY);
    dup2(devnull, 0);
    dup2(out_pipe[1], 1);
    dup2(err_pipe[1], 2);
    execl("/bin/bash", "bash", "-c", cmd.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  setpgid(pid, pid);
  close(out_pipe[1]);
  close(err_pipe[1]);
  auto deadline = Clock::now() + timeout;
  pollfd fds[2] = {{out_pipe[0], POLLIN, 0}, {err_pipe[0], POLLIN, 0}};
  int open_fds = 2;
  char buf[8192];
  while (open_fds > 0) {
    auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (left <= 0) {
      r.timed_out = true;
      break;
    }
    int n = poll(fds, 2, static_cast<int>(std::min<long long>(left, 1000)));
    if (n < 0 && errno != EINTR) break;
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      ssize_t got = read(fds[i].fd, buf, sizeof(buf));
      if (got > 0) {
        (i == 0 ? r.out : r.err).append(buf, static_cast<size_t>(got));
      } else {
        close(fds[i].fd);
        fds[i].fd = -1;
        --open_fds;
      }
    }
  }
  int status = 0;
  if (r.timed_out) {
    kill(-pid, SIGTERM);
    for (int i = 0; i < 20; ++i) {
      if (waitpid(pid, &status, WNOHANG) == pid) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      if (i == 19) {
        kill(-pid, SIGKILL);
        waitpid(pid, &status, 0);
      }
    }
  } else {
    waitpid(pid, &status, 0);
    r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }
  for (auto& f : fds) {
    if (f.fd >= 0) close(f.fd);
  }
  return r;
}

// ------------------------------------------------------------------ cluster

std::string SourceDir() { return SG_SOURCE_DIR; }

std::string StateDir() {
  const char* s = std::getenv("SG_E2E_STATE");
  return s && *s ? s : SourceDir() + "/.e2e";
}

Cluster::Loaded Cluster::Load() {
  Loaded l;
  std::string path = StateDir() + "/cluster.env";
  std::ifstream in(path);
  if (!in) {
    l.error = "no e2e cluster is up: " + path +
              " does not exist. Bring one up first: e2e/cluster up (or run e2e/run), "
              "or point SG_E2E_STATE at its state dir.";
    return l;
  }
  std::map<std::string, std::string> kv;
  std::string line;
  while (std::getline(in, line)) {
    auto eq = line.find('=');
    if (eq != std::string::npos) kv[line.substr(0, eq)] = line.substr(eq + 1);
  }
  Cluster c;
  int n = std::atoi(kv["NODES"].c_str());
  c.managers_ = std::max(1, std::atoi(kv["MANAGERS"].c_str()));
  c.host_addr_ = kv["HOST_ADDR"];
  for (int i = 1; i <= n; ++i) {
    std::string p = "NODE" + std::to_string(i) + "_";
    c.nodes_.push_back(Node{i, kv[p + "ADDR"], kv[p + "SOCK"], kv[p + "HOSTNAME"], kv[p + "LOG"]});
  }
  if (c.nodes_.empty()) {
    l.error = path + " lists no nodes; the cluster is broken: e2e/cluster down && e2e/cluster up";
    return l;
  }
  auto v = c.Docker("info --format '{{.Swarm.LocalNodeState}}'", 1, std::chrono::seconds(10));
  if (!v.ok() || TrimRight(v.out) != "active") {
    l.error = "the e2e cluster in " + StateDir() + " does not answer (node 1: " +
              (v.ok() ? "swarm state " + TrimRight(v.out) : v.Describe()) +
              "). Check `e2e/cluster status` and " + c.nodes_[0].log;
    return l;
  }
  l.cluster = std::move(c);
  return l;
}

ShResult Cluster::Docker(const std::string& args, int node, Duration timeout) const {
  return Sh("docker -H " + ShellQuote(this->node(node).docker_host()) + " " + args, timeout);
}

std::optional<int> Cluster::IndexOfHostname(const std::string& hostname) const {
  for (const auto& n : nodes_) {
    if (n.hostname == hostname) return n.index;
  }
  return std::nullopt;
}

Capabilities DetectCapabilities() {
  Capabilities caps;
  auto r = Sh(ShellQuote(SourceDir() + "/e2e/cluster") + " caps", std::chrono::seconds(10));
  std::string out = TrimRight(r.out);
  caps.ipvs = out.rfind("ipvs=yes", 0) == 0;
  auto pos = out.find("reason=");
  caps.ipvs_reason =
      pos == std::string::npos ? "e2e/cluster caps said: " + out + r.err : out.substr(pos + 7);
  return caps;
}

// ------------------------------------------------------------------ http

std::string HttpResponse::Describe() const {
  if (!error.empty()) return "error: " + error;
  return std::to_string(status) + " " + body.substr(0, 300);
}

HttpResponse Http(const HttpRequest& rq) {
  HttpResponse res;
  try {
    asio::io_context io;
    tcp::resolver resolver(io);
    beast::tcp_stream stream(io);
    auto endpoints = resolver.resolve(rq.addr, std::to_string(rq.port));
    beast::error_code ec;
    // One deadline for the whole exchange; each phase gets what is left.
    auto deadline = Clock::now() + rq.timeout;
    stream.expires_at(deadline);
    stream.async_connect(endpoints, [&](beast::error_code e, const tcp::endpoint&) { ec = e; });
    io.run();
    if (ec) {
      res.error = "connect " + rq.addr + ":" + std::to_string(rq.port) + ": " + ec.message();
      return res;
    }
    http::request<http::string_body> req{http::string_to_verb(rq.method), rq.target, 11};
    if (req.method() == http::verb::unknown) req.method_string(rq.method);
    req.set(http::field::host, rq.host.empty() ? rq.addr + ":" + std::to_string(rq.port) : rq.host);
    req.set(http::field::user_agent, "sg-e2e");
    for (const auto& [k, v] : rq.headers) req.set(k, v);
    req.body() = rq.body;
    req.keep_alive(false);
    req.prepare_payload();
    if (!rq.proxy_header.empty()) {
      io.restart();
      asio::async_write(stream, asio::buffer(rq.proxy_header),
                        [&](beast::error_code e, std::size_t) { ec = e; });
      io.run();
      if (ec) {
        res.error = "write PROXY header: " + ec.message();
        return res;
      }
    }
    io.restart();
    http::async_write(stream, req, [&](beast::error_code e, std::size_t) { ec = e; });
    io.run();
    if (ec) {
      res.error = "write: " + ec.message();
      return res;
    }
    beast::flat_buffer buf;
    http::response<http::string_body> resp;
    io.restart();
    http::async_read(stream, buf, resp, [&](beast::error_code e, std::size_t) { ec = e; });
    io.run();
    if (ec) {
      res.error = "read: " + ec.message();
      return res;
    }
    res.status = static_cast<int>(resp.result_int());
    res.body = resp.body();
    for (const auto& f : resp) {
      std::string name(f.name_string().data(), f.name_string().size());
      std::transform(name.begin(), name.end(), name.begin(),
                     [](unsigned char c) { return std::tolower(c); });
      // Repeated headers joined with ", " (RFC 9110), as the echo backend
      // reports request headers; each Set-Cookie stays apart, the last kept.
      std::string value(f.value().data(), f.value().size());
      auto [it, inserted] = res.headers.emplace(name, value);
      if (!inserted) it->second = name == "set-cookie" ? value : it->second + ", " + value;
    }
    beast::error_code ignore;
    stream.socket().shutdown(tcp::socket::shutdown_both, ignore);
  } catch (const std::exception& e) {
    res.error = e.what();
  }
  return res;
}

HttpResponse HttpGet(const std::string& addr, int port, const std::string& target,
                     const std::string& host, Duration timeout) {
  HttpRequest r;
  r.addr = addr, r.port = port, r.target = target, r.host = host, r.timeout = timeout;
  return Http(r);
}

HttpResponse HttpPost(const std::string& addr, int port, const std::string& target,
                      const std::string& body, const std::string& host, Duration timeout) {
  HttpRequest r;
  r.method = "POST", r.addr = addr, r.port = port, r.target = target, r.host = host, r.body = body,
  r.timeout = timeout;
  return Http(r);
}

std::string JsonField(const std::string& json, const std::string& field) {
  rapidjson::Document d;
  d.Parse(json.c_str(), json.size());
  if (d.HasParseError() || !d.IsObject()) return "";
  auto it = d.FindMember(field.c_str());
  if (it == d.MemberEnd()) return "";
  if (it->value.IsString()) return it->value.GetString();
  if (it->value.IsInt64()) return std::to_string(it->value.GetInt64());
  if (it->value.IsBool()) return it->value.GetBool() ? "true" : "false";
  return "";
}

// ------------------------------------------------------------------ waiting

WaitResult WaitUntil(const std::string& what, Duration deadline,
                     const std::function<bool(std::string& observed)>& predicate,
                     Duration interval) {
  WaitResult w;
  auto start = Clock::now();
  for (;;) {
    std::string observed;
    bool done = predicate(observed);
    w.observed = observed;
    w.elapsed = std::chrono::duration_cast<Duration>(Clock::now() - start);
    if (done) {
      w.ok = true;
      return w;
    }
    if (w.elapsed + interval > deadline) break;
    std::this_thread::sleep_for(interval);
  }
  std::ostringstream m;
  m << "timed out after " << w.elapsed.count() / 1000.0 << "s waiting for " << what
    << "; last observed: " << (w.observed.empty() ? "(nothing)" : w.observed);
  w.message = m.str();
  std::cerr << "WaitUntil: " << w.message << "\n";
  return w;
}

// ------------------------------------------------------------------ names

namespace {
std::mutex g_names_mu;
std::mt19937& Rng() {
  static std::mt19937 rng(std::random_device{}() ^ static_cast<unsigned>(getpid()));
  return rng;
}
}  // namespace

std::string UniqueName(const std::string& prefix) {
  static const char kAlphabet[] = "abcdefghijklmnopqrstuvwxyz0123456789";
  static std::set<std::string> used;
  std::lock_guard<std::mutex> lock(g_names_mu);
  for (;;) {
    std::string s = prefix + "-";
    for (int i = 0; i < 6; ++i) s += kAlphabet[Rng()() % (sizeof(kAlphabet) - 1)];
    if (used.insert(s).second) return s;
  }
}

int UniquePort(int lo, int hi) {
  static std::set<int> used;
  std::lock_guard<std::mutex> lock(g_names_mu);
  for (int tries = 0; tries < 10000; ++tries) {
    int p = lo + static_cast<int>(Rng()() % static_cast<unsigned>(hi - lo));
    if (used.insert(p).second) return p;
  }
  return 0;
}

// ------------------------------------------------------------------ cleanup

std::string Resources::Network(const std::string& name, const std::string& args) {
  auto r = cluster_.Docker("network create " + args + " " + ShellQuote(name));
  if (!r.ok()) {
    last_error_ = "network create " + name + ": " + r.Describe();
    return "";
  }
  networks_.push_back(name);
  return name;
}

std::string Resources::Service(const std::string& name, const std::string& args_and_image) {
  // Track before creating: a create that times out may still have created it.
  services_.push_back(name);
  auto r = cluster_.Docker("service create --detach --quiet --name " + ShellQuote(name) + " " +
                           args_and_image);
  if (!r.ok()) {
    last_error_ = "service create " + name + ": " + r.Describe();
    return "";
  }
  return name;
}

std::string Resources::Config(const std::string& name, const std::string& data) {
  configs_.push_back(name);
  auto r =
      cluster_.Docker("config create " + ShellQuote(name) + " - <<'SG_EOF'\n" + data + "\nSG_EOF");
  if (!r.ok()) {
    last_error_ = "config create " + name + ": " + r.Describe();
    return "";
  }
  return name;
}

void Resources::Cleanup() {
  auto rm = [this](const char* kind, std::vector<std::string>& names) {
    if (names.empty()) return;
    std::string args;
    for (auto& n : names) args += " " + ShellQuote(n);
    auto r = cluster_.Docker(std::string(kind) + " rm" + args);
    if (!r.ok() && r.err.find("not found") == std::string::npos) {
      std::cerr << "cleanup: " << kind << " rm" << args << ": " << r.Describe() << "\n";
    }
  };
  rm("service", services_);
  // A network cannot go while tasks still hold endpoints on it; the tasks of
  // removed services shut down asynchronously, so retry for a bounded time.
  if (!networks_.empty()) {
    std::string args;
    for (auto& n : networks_) args += " " + ShellQuote(n);
    WaitUntil(
        "networks" + args + " removed", std::chrono::seconds(30),
        [&](std::string& observed) {
          auto r = cluster_.Docker("network rm" + args + " 2>&1 | grep -v 'not found' || true");
          observed = TrimRight(r.out);
          // Done when no tracked name is listed any more.
          auto ls = cluster_.Docker("network ls --format '{{.Name}}'");
          for (auto& n : networks_) {
            for (auto& l : Lines(ls.out)) {
              if (l == n) return false;
            }
          }
          return true;
        },
        std::chrono::milliseconds(500));
  }
  rm("config", configs_);
  rm("secret", secrets_);
  services_.clear(), networks_.clear(), configs_.clear(), secrets_.clear();
}

Resources::~Resources() { Cleanup(); }

// ------------------------------------------------------------------ swarm queries

std::vector<TaskInfo> RunningTasks(const Cluster& c, const std::string& service,
                                   const std::string& network) {
  std::vector<TaskInfo> tasks;
  auto ps = c.Docker(
      "service ps --no-trunc --filter desired-state=running --format '{{.ID}} {{.Name}} {{.Node}} "
      "{{.CurrentState}}' " +
      ShellQuote(service));
  if (!ps.ok()) return tasks;
  for (auto& line : Lines(ps.out)) {
    std::istringstream in(line);
    TaskInfo t;
    in >> t.id >> t.name >> t.node >> t.state;
    std::transform(t.state.begin(), t.state.end(), t.state.begin(),
                   [](unsigned char ch) { return std::tolower(ch); });
    if (t.state != "running") continue;
    t.node_index = c.IndexOfHostname(t.node).value_or(0);
    if (!network.empty()) {
      auto ins = c.Docker(
          "inspect --format '{{range .NetworksAttachments}}{{.Network.Spec.Name}} "
          "{{range .Addresses}}{{.}} {{end}}\n{{end}}' " +
          t.id);
      for (auto& l : Lines(ins.out)) {
        std::istringstream li(l);
        std::string name, addr;
        li >> name;
        if (name != network) continue;
        while (li >> addr) t.addrs.push_back(addr.substr(0, addr.find('/')));
      }
    }
    tasks.push_back(std::move(t));
  }
  return tasks;
}

}  // namespace sg::e2e
