// The CLI in-process, for everything that needs no cluster: validate,
// diagnostics, usage errors, --help and an unreachable Docker endpoint.
#include "operator/cli/cli.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "operator/cli/exit_codes.h"
#include "sg_build_paths.h"

namespace sg::cli {
namespace {

namespace fs = std::filesystem;

const std::string kSamples = std::string(SG_SOURCE_DIR) + "/crds/samples";

struct CliRun {
  int code = -1;
  std::string out;
  std::string err;
};

std::ostream& operator<<(std::ostream& os, const CliRun& r) {
  return os << "exit " << r.code << "\n--- stdout:\n" << r.out << "--- stderr:\n" << r.err;
}

CliRun RunSwarmgate(std::vector<std::string> args, const std::string& stdin_text = "") {
  args.insert(args.begin(), "swarmgate");
  std::istringstream in(stdin_text);
  std::ostringstream out, err;
  CliRun r;
  r.code = RunCli(args, in, out, err);
  r.out = out.str();
  r.err = err.str();
  return r;
}

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

// Lines 1-9 of a valid Route; `extra` continues its spec at line 10.
std::string RouteYaml(const std::string& name, const std::string& host = "a.example.com",
                      const std::string& extra = "") {
  return "apiVersion: swarmgate.io/v1alpha1\n"
         "kind: Route\n"
         "metadata:\n"
         "  name: " +
         name +
         "\n"
         "spec:\n"
         "  serviceCluster: public\n"
         "  hosts: [" +
         host +
         "]\n"
         "  backends:\n"
         "    - {service: app, port: 8080}\n" +
         extra;
}

class CliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = fs::temp_directory_path() /
           ("sg-cli-test-" + std::to_string(::getpid()) + "-" + info->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string Write(const std::string& file, const std::string& text) {
    fs::path p = dir_ / file;
    std::ofstream(p) << text;
    return p.string();
  }

  fs::path dir_;
};

// FILE:LINE:COL: FIELD.PATH: MESSAGE
const std::regex kDiagnosticLine(R"(^(.+):(\d+):(\d+): ([A-Za-z0-9_.\[\]]+): (.+)$)");

// The diagnostic of `err` for `file` (suffix match), or a failure.
::testing::AssertionResult HasDiagnostic(const CliRun& r, const std::string& file, int line,
                                         const std::string& path, const std::string& text) {
  for (const auto& l : Lines(r.err)) {
    std::smatch m;
    if (!std::regex_match(l, m, kDiagnosticLine)) continue;
    const std::string f = m[1];
    if (f.size() >= file.size() && f.compare(f.size() - file.size(), file.size(), file) == 0 &&
        std::stoi(m[2]) == line && std::stoi(m[3]) >= 1 && m[4] == path &&
        std::string(m[5]).find(text) != std::string::npos) {
      return ::testing::AssertionSuccess();
    }
  }
  return ::testing::AssertionFailure() << "no \"" << file << ":" << line << ":COL: " << path
                                       << ": ..." << text << "...\" line in\n"
                                       << r;
}

// ---- validate

TEST_F(CliTest, ValidateSamplesPrintsOneLineSummary) {
  CliRun r = RunSwarmgate({"validate", "-f", kSamples});
  EXPECT_EQ(r.code, kExitOk) << r;
  EXPECT_EQ(r.out, "valid: 8 resources (2 ServiceCluster, 6 Route) in 7 files\n") << r;
  EXPECT_EQ(r.err, "") << r;

  CliRun quick = RunSwarmgate({"validate", "-f", kSamples + "/quickstart"});
  EXPECT_EQ(quick.code, kExitOk) << quick;
  EXPECT_EQ(quick.out, "valid: 2 resources (1 ServiceCluster, 1 Route) in 2 files\n") << quick;

  CliRun one = RunSwarmgate({"validate", "-f", kSamples + "/route-shop.yaml"});
  EXPECT_EQ(one.code, kExitOk) << one;
  EXPECT_EQ(one.out, "valid: 1 resources (0 ServiceCluster, 1 Route) in 1 file\n") << one;

  // Positional files and repeated -f are accepted too.
  CliRun both = RunSwarmgate({"validate", kSamples, "-f", kSamples + "/quickstart"});
  EXPECT_EQ(both.code, kExitOk) << both;
  EXPECT_EQ(both.out, "valid: 10 resources (3 ServiceCluster, 7 Route) in 9 files\n") << both;
}

// ---- render

std::string ClusterYaml(const std::string& engine) {
  return "apiVersion: swarmgate.io/v1alpha1\n"
         "kind: ServiceCluster\n"
         "metadata: {name: public}\n"
         "spec:\n"
         "  proxy: {engine: " +
         engine + "}\n";
}

TEST_F(CliTest, RenderPrintsTheConfigurationOfTheClusterEngine) {
  RegisterRenderCommand();  // main() registers it in the binary
  for (const std::string engine : {"nginx", "haproxy"}) {
    std::string file = Write(engine + ".yaml", ClusterYaml(engine) + "---\n" + RouteYaml("shop"));
    CliRun r = RunSwarmgate({"render", "-f", file, "--cluster", "public", "--check"});
    ASSERT_EQ(r.code, 0) << engine << "\n" << r;
    if (engine == "haproxy") {
      EXPECT_NE(r.out.find("frontend "), std::string::npos) << r;
      EXPECT_NE(r.out.find("bind \"${SG_HTTP_BIND}\""), std::string::npos) << r;
      EXPECT_EQ(r.out.find("server {"), std::string::npos) << r;
    } else {
      EXPECT_NE(r.out.find("server {"), std::string::npos) << r;
      EXPECT_EQ(r.out.find("frontend "), std::string::npos) << r;
    }
  }
}

TEST_F(CliTest, RenderTakesTaskAddressesFromTheCommandLine) {
  RegisterRenderCommand();
  for (const std::string engine : {"nginx", "haproxy"}) {
    std::string file = Write(engine + ".yaml", ClusterYaml(engine) + "---\n" + RouteYaml("shop"));
    CliRun none = RunSwarmgate({"render", "-f", file, "--cluster", "public"});
    ASSERT_EQ(none.code, 0) << engine << "\n" << none;
    EXPECT_EQ(none.out.find("10.0.9.2:8080"), std::string::npos) << none;
    CliRun r = RunSwarmgate({"render", "-f", file, "--cluster", "public", "--endpoints",
                             "app=10.0.9.2,10.0.9.3", "--endpoints", "other=10.0.9.4", "--check"});
    ASSERT_EQ(r.code, 0) << engine << "\n" << r;
    EXPECT_NE(r.out.find("10.0.9.2:8080"), std::string::npos) << r;
    EXPECT_NE(r.out.find("10.0.9.3:8080"), std::string::npos) << r;
    EXPECT_EQ(r.out.find("10.0.9.4"), std::string::npos) << r;
  }
  CliRun bad = RunSwarmgate({"render", "-f", Write("c.yaml", ClusterYaml("nginx")), "--cluster",
                             "public", "--endpoints", "app"});
  EXPECT_EQ(bad.code, kExitUsage) << bad;
  EXPECT_NE(bad.err.find("expected SERVICE=IP"), std::string::npos) << bad;
}

TEST_F(CliTest, ValidateUnknownField) {
  std::string f = Write("unknown.yaml", RouteYaml("r1", "a.example.com", "  bogus: 1\n"));
  CliRun r = RunSwarmgate({"validate", "-f", f});
  EXPECT_EQ(r.code, kExitInvalid) << r;
  EXPECT_EQ(r.out, "") << r;
  EXPECT_TRUE(HasDiagnostic(r, "unknown.yaml", 10, "spec.bogus", "unknown field"));
  EXPECT_NE(r.err.find(f + ":10:"), std::string::npos) << "the full path is shown: " << r;
  EXPECT_NE(r.err.find("invalid: 1 error in 1 file\n"), std::string::npos) << r;
}

TEST_F(CliTest, ValidateBadPort) {
  std::string f = Write("port.yaml",
                        "apiVersion: swarmgate.io/v1alpha1\n"
                        "kind: Route\n"
                        "metadata:\n"
                        "  name: r1\n"
                        "spec:\n"
                        "  serviceCluster: public\n"
                        "  hosts: [a.example.com]\n"
                        "  backends:\n"
                        "    - service: app\n"
                        "      port: 70000\n");
  CliRun r = RunSwarmgate({"validate", "-f", f});
  EXPECT_EQ(r.code, kExitInvalid) << r;
  EXPECT_TRUE(HasDiagnostic(r, "port.yaml", 10, "spec.backends[0].port", "70000"));
}

TEST_F(CliTest, ValidateMalformedYamlHasLineAndColumn) {
  std::string f = Write("broken.yaml", RouteYaml("r1") + "  hosts: [unclosed\n");
  CliRun r = RunSwarmgate({"validate", "-f", f});
  EXPECT_EQ(r.code, kExitInvalid) << r;
  std::regex located("(^|\n)" +
                     std::regex_replace(f, std::regex(R"([.^$|()\[\]{}*+?\\])"), R"(\$&)") +
                     R"(:(\d+):(\d+): [^\n]*malformed YAML)");
  std::smatch m;
  ASSERT_TRUE(std::regex_search(r.err, m, located)) << r;
  EXPECT_GE(std::stoi(m[2]), 10) << r;
  EXPECT_GE(std::stoi(m[3]), 1) << r;
}

TEST_F(CliTest, ValidateDuplicateHostAndPathAcrossFiles) {
  std::string a = Write("a.yaml", RouteYaml("first", "shared.example.com"));
  std::string b = Write("b.yaml", RouteYaml("second", "shared.example.com"));
  CliRun r = RunSwarmgate({"validate", "-f", a, "-f", b});
  EXPECT_EQ(r.code, kExitInvalid) << r;
  EXPECT_TRUE(HasDiagnostic(r, "b.yaml", 7, "spec.hosts[0]", "already claimed by Route \"first\""));
  EXPECT_NE(r.err.find("at " + a + ":7"), std::string::npos) << "names the first claim: " << r;
  EXPECT_NE(r.err.find("invalid: 1 error in 2 files\n"), std::string::npos) << r;

  // A different path is no conflict.
  std::string c = Write("c.yaml", RouteYaml("third", "shared.example.com", "  path: /c\n"));
  CliRun ok = RunSwarmgate({"validate", "-f", a, "-f", c});
  EXPECT_EQ(ok.code, kExitOk) << ok;
}

TEST_F(CliTest, ValidateReportsEveryErrorInTheStandardFormat) {
  std::string f = Write("many.yaml",
                        RouteYaml("r1", "a.example.com", "  path: nope\n  timeouts: {read: 5x}\n") +
                            "---\n" + RouteYaml("Bad_Name"));
  std::string g = Write("more.yaml", RouteYaml("r3", "UPPER.example.com"));
  CliRun r = RunSwarmgate({"validate", "-f", f, "-f", g});
  EXPECT_EQ(r.code, kExitInvalid) << r;
  auto lines = Lines(r.err);
  ASSERT_GE(lines.size(), 5u) << r;
  for (size_t i = 0; i + 1 < lines.size(); ++i) {
    EXPECT_TRUE(std::regex_match(lines[i], kDiagnosticLine)) << "line " << i << ": " << lines[i];
  }
  EXPECT_EQ(lines.back(), "invalid: " + std::to_string(lines.size() - 1) + " errors in 2 files")
      << r;
  EXPECT_TRUE(HasDiagnostic(r, "many.yaml", 10, "spec.path", "expected"));
  EXPECT_TRUE(HasDiagnostic(r, "many.yaml", 11, "spec.timeouts.read", "expected a duration"));
  EXPECT_TRUE(HasDiagnostic(r, "many.yaml", 16, "metadata.name", "Bad_Name"));
  EXPECT_TRUE(HasDiagnostic(r, "more.yaml", 7, "spec.hosts[0]", "UPPER"));
}

TEST_F(CliTest, ValidateMissingFile) {
  CliRun r = RunSwarmgate({"validate", "-f", (dir_ / "nope.yaml").string()});
  EXPECT_EQ(r.code, kExitInvalid) << r;
  EXPECT_NE(r.err.find("nope.yaml"), std::string::npos) << r;
}

TEST_F(CliTest, ApplyValidatesBeforeConnecting) {
  // Invalid input is reported (exit 1) without contacting the endpoint.
  std::string f = Write("bad.yaml", RouteYaml("r1", "a.example.com", "  bogus: 1\n"));
  for (const char* cmd : {"apply", "diff"}) {
    CliRun r = RunSwarmgate({cmd, "-f", f, "--docker-host", "unix:///nonexistent.sock"});
    EXPECT_EQ(r.code, kExitInvalid) << cmd << ": " << r;
    EXPECT_NE(r.err.find("spec.bogus"), std::string::npos) << cmd << ": " << r;
    EXPECT_NE(r.err.find("nothing was applied"), std::string::npos) << cmd << ": " << r;
    EXPECT_EQ(r.err.find("nonexistent.sock"), std::string::npos) << cmd << ": " << r;
  }
}

// ---- explain

TEST_F(CliTest, ExplainPrintsAFieldFromTheSchemasOffline) {
  // Offline: an unreachable endpoint does not matter.
  CliRun r =
      RunSwarmgate({"explain", "route.spec.timeouts", "--docker-host", "unix:///nonexistent.sock"});
  EXPECT_EQ(r.code, kExitOk) << r;
  EXPECT_EQ(r.err, "") << r;
  EXPECT_EQ(r.out.rfind("KIND:     Route\nVERSION:  swarmgate.io/v1alpha1\n\n"
                        "FIELD:    spec.timeouts <object>\n",
                        0),
            0u)
      << r;
  EXPECT_NE(r.out.find("\n  read     <string>  default 60s\n"), std::string::npos) << r;

  CliRun engine = RunSwarmgate({"explain", "ServiceCluster.spec.proxy.engine"});
  EXPECT_EQ(engine.code, kExitOk) << engine;
  EXPECT_NE(engine.out.find("VALUES:   nginx, haproxy\nDEFAULT:  nginx\n"), std::string::npos)
      << engine;

  CliRun weight = RunSwarmgate({"explain", "routes.spec.backends.weight"});
  EXPECT_EQ(weight.code, kExitOk) << weight;
  EXPECT_NE(weight.out.find("FIELD:    spec.backends[].weight <integer>\nRANGE:    0-100\n"),
            std::string::npos)
      << weight;

  CliRun kind = RunSwarmgate({"explain", "sc"});
  EXPECT_EQ(kind.code, kExitOk) << kind;
  for (const char* field : {"apiVersion", "kind", "metadata", "spec"}) {
    EXPECT_NE(kind.out.find("\n  " + std::string(field) + " "), std::string::npos) << field << "\n"
                                                                                   << kind;
  }
}

TEST_F(CliTest, ExplainUnknownFieldIsAUsageErrorListingTheValidFields) {
  CliRun r = RunSwarmgate({"explain", "route.spec.timeouts.connet"});
  EXPECT_EQ(r.code, kExitUsage) << r;
  EXPECT_EQ(r.out, "") << r;
  EXPECT_EQ(r.err,
            "error: route.spec.timeouts has no field \"connet\"; its fields: connect, read, "
            "send\n")
      << r;

  CliRun kind = RunSwarmgate({"explain", "gadget.spec"});
  EXPECT_EQ(kind.code, kExitUsage) << kind;
  EXPECT_NE(kind.err.find("unknown kind \"gadget\""), std::string::npos) << kind;
}

// ---- import interlock (from a file: no cluster needed)

TEST_F(CliTest, ImportInterlockStackFile) {
  RegisterImportCommand();  // main() registers it in the binary
  const std::string stack =
      "services:\n"
      "  web:\n"
      "    image: example/web\n"
      "    networks: [front]\n"
      "    deploy:\n"
      "      labels:\n"
      "        com.docker.lb.hosts: app.example.com,old.example.com\n"
      "        com.docker.lb.port: \"8080\"\n"
      "        com.docker.lb.redirects: http://old.example.com,https://app.example.com;\n"
      "  fallback:\n"
      "    image: example/sorry\n"
      "    networks: [front]\n"
      "    deploy:\n"
      "      labels:\n"
      "        com.docker.lb.default_backend: \"true\"\n"
      "        com.docker.lb.port: \"80\"\n"
      "networks:\n"
      "  front: {driver: overlay}\n";
  std::string f = Write("stack.yml", stack);
  for (const auto& run :
       {RunSwarmgate({"import", "interlock", "-f", f, "--stack", "shop"}),
        RunSwarmgate({"import", "interlock", "-f", "-", "--stack", "shop"}, stack)}) {
    EXPECT_EQ(run.code, kExitOk) << run;
    EXPECT_NE(run.out.find("  network: shop_front\n  defaultBackend:\n    service: shop_fallback\n"
                           "    port: 80\n"),
              std::string::npos)
        << run;
    EXPECT_NE(run.out.find("# backends are attached to network shop_front already\n"),
              std::string::npos)
        << run;
    EXPECT_NE(run.out.find("    - service: shop_web\n      port: 8080\n"), std::string::npos)
        << run;
    EXPECT_NE(run.out.find("      code: 302\n"), std::string::npos) << run;
    EXPECT_NE(
        run.err.find("imported 2 of 2 services with Interlock labels into 1 ServiceCluster(s) "
                     "and 1 Route(s)\n"),
        std::string::npos)
        << run;
  }
}

// ---- usage errors

TEST_F(CliTest, UsageErrorsExitTwo) {
  const std::vector<std::vector<std::string>> cases = {
      {},
      {"frobnicate"},
      {"get"},
      {"get", "widgets"},
      {"get", "route", "a", "b"},
      {"get", "route", "-o", "bogus"},
      {"get", "route", "--no-such-flag"},
      {"describe"},
      {"describe", "route"},
      {"describe", "gadget", "x"},
      {"delete"},
      {"delete", "route"},
      {"delete", "gadget", "x"},
      {"delete", "-f", kSamples, "route", "x"},
      {"apply"},
      {"apply", "-f", kSamples, "--timeout", "soon"},
      {"apply", "-f"},
      {"diff"},
      {"validate"},
      {"explain"},
      {"explain", "route", "spec"},
      {"explain", "widget"},
      {"explain", "route.spec.bogus"},
      {"explain", "route", "--bogus"},
      {"version", "--bogus"},
  };
  for (const auto& args : cases) {
    // The endpoint is unreachable: a usage error must be found before connecting.
    std::vector<std::string> full = args;
    if (!args.empty() && args[0] != "frobnicate") {
      full.insert(full.end(), {"--docker-host", "unix:///nonexistent.sock"});
    }
    CliRun r = RunSwarmgate(full);
    EXPECT_EQ(r.code, kExitUsage) << ::testing::PrintToString(full) << "\n" << r;
    EXPECT_FALSE(r.err.empty()) << ::testing::PrintToString(full);
    EXPECT_EQ(r.err.find("nonexistent.sock"), std::string::npos)
        << ::testing::PrintToString(full) << "\n"
        << r;
  }
}

TEST_F(CliTest, UsageErrorMessagesSayWhatIsWrong) {
  CliRun unknown = RunSwarmgate({"frobnicate"});
  EXPECT_NE(unknown.err.find("unknown command \"frobnicate\""), std::string::npos) << unknown;
  EXPECT_NE(unknown.err.find("Usage:"), std::string::npos) << unknown;

  CliRun kind = RunSwarmgate({"get", "widgets"});
  EXPECT_NE(kind.err.find("unknown kind \"widgets\""), std::string::npos) << kind;

  CliRun output = RunSwarmgate({"get", "route", "-o", "bogus"});
  EXPECT_NE(output.err.find("bogus"), std::string::npos) << output;

  CliRun no_kind = RunSwarmgate({"get"});
  EXPECT_NE(no_kind.err.find("Usage: swarmgate get"), std::string::npos) << no_kind;
}

TEST_F(CliTest, HelpForEverySubcommand) {
  for (const char* cmd :
       {"apply", "get", "describe", "delete", "diff", "explain", "validate", "version"}) {
    for (const char* flag : {"--help", "-h"}) {
      CliRun r = RunSwarmgate({cmd, flag});
      EXPECT_EQ(r.code, kExitOk) << cmd << " " << flag << ": " << r;
      EXPECT_EQ(r.out.rfind("Usage: swarmgate " + std::string(cmd), 0), 0u)
          << cmd << " " << flag << ": " << r;
      EXPECT_NE(r.out.find("--docker-host"), std::string::npos) << cmd << ": " << r;
      EXPECT_EQ(r.err, "") << cmd << ": " << r;
    }
  }
  for (const char* flag : {"--help", "-h", "help"}) {
    CliRun top = RunSwarmgate({flag});
    EXPECT_EQ(top.code, kExitOk) << top;
    EXPECT_NE(top.out.find("Usage: swarmgate COMMAND"), std::string::npos) << top;
    for (const char* cmd :
         {"apply", "get", "describe", "delete", "diff", "explain", "validate", "version"}) {
      EXPECT_NE(top.out.find("  " + std::string(cmd) + " "), std::string::npos) << cmd << top;
    }
  }
}

TEST_F(CliTest, Version) {
  CliRun r = RunSwarmgate({"version"});
  EXPECT_EQ(r.code, kExitOk) << r;
  EXPECT_EQ(r.out.rfind("swarmgate ", 0), 0u) << r;
  EXPECT_EQ(Lines(r.out).size(), 1u) << r;
  CliRun flag = RunSwarmgate({"--version"});
  EXPECT_EQ(flag.code, kExitOk) << flag;
  EXPECT_EQ(flag.out, r.out);
}

// ---- unreachable Docker

TEST_F(CliTest, UnreachableDockerExitsThreeWithOneLine) {
  std::string route = Write("r.yaml", RouteYaml("r1"));
  for (const std::string endpoint : {"unix:///nonexistent.sock", "tcp://127.0.0.1:1"}) {
    const std::string shown = endpoint.substr(endpoint.find("://") + 3);
    const std::vector<std::vector<std::string>> cases = {
        {"get", "route"},
        {"get", "servicecluster", "public", "-o", "json"},
        {"describe", "route", "r1"},
        {"delete", "route", "r1"},
        {"delete", "-f", route},
        {"apply", "-f", route},
        {"apply", "-f", route, "--dry-run"},
        {"diff", "-f", route},
    };
    for (auto args : cases) {
      args.insert(args.end(), {"--docker-host", endpoint});
      CliRun r = RunSwarmgate(args);
      const std::string what = ::testing::PrintToString(args);
      EXPECT_EQ(r.code, kExitUnreachable) << what << "\n" << r;
      EXPECT_EQ(r.out, "") << what << "\n" << r;
      auto lines = Lines(r.err);
      ASSERT_EQ(lines.size(), 1u) << what << "\n" << r;
      EXPECT_EQ(lines[0].rfind("error: ", 0), 0u) << what << "\n" << r;
      EXPECT_NE(lines[0].find(shown), std::string::npos)
          << "the message names the endpoint: " << what << "\n"
          << r;
      for (const char* noise : {"terminate", "what()", "Aborted", "stack", "exception"}) {
        EXPECT_EQ(lines[0].find(noise), std::string::npos) << what << "\n" << r;
      }
    }
  }
}

}  // namespace
}  // namespace sg::cli
