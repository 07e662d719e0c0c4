// Every string that can reach an nginx.conf (or a Docker object the proxies
// read) is fed characters that could inject configuration; each must be
// rejected with an error naming the field.

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "crds/loader.h"
#include "crds/test_util.h"

namespace sg::crds {
namespace {

struct Field {
  std::string path;      // where the error must be reported
  std::string valid;     // a valid value; payloads are appended to it
  std::string document;  // YAML with $V where the value goes
};

std::string Route(const std::string& spec, const std::string& name = "r1") {
  return "apiVersion: swarmgate.io/v1alpha1\nkind: Route\nmetadata:\n  name: " + name +
         "\nspec:\n" + spec;
}

const std::string kSc = "  serviceCluster: public\n";
const std::string kHosts = "  hosts: [a.example.com]\n";
const std::string kBackends = "  backends: [{service: app, port: 8080, canary: true}]\n";
const std::string kBase = kSc + kHosts + kBackends;

std::string Cluster(const std::string& spec, const std::string& name = "c1") {
  return "apiVersion: swarmgate.io/v1alpha1\nkind: ServiceCluster\nmetadata:\n  name: " + name +
         "\nspec:\n" + spec;
}

std::vector<Field> Fields() {
  return {
      {"metadata.name", "r", Route(kBase, "$V")},
      {"spec.serviceCluster", "public", Route("  serviceCluster: $V\n" + kHosts + kBackends)},
      {"spec.hosts[0]", "a.example.com", Route(kSc + "  hosts: [$V]\n" + kBackends)},
      {"spec.path", "/a", Route(kBase + "  path: $V\n")},
      {"spec.rewrite", "/a", Route(kBase + "  rewrite: $V\n")},
      {"spec.backends[0].service", "app",
       Route(kSc + kHosts + "  backends: [{service: $V, port: 80}]\n")},
      {"spec.canary.header.name", "X-C", Route(kBase + "  canary: {header: {name: $V}}\n")},
      {"spec.canary.header.value", "on",
       Route(kBase + "  canary: {header: {name: X-C, value: $V}}\n")},
      {"spec.canary.cookie.name", "c", Route(kBase + "  canary: {cookie: {name: $V}}\n")},
      {"spec.canary.cookie.value", "on",
       Route(kBase + "  canary: {cookie: {name: c, value: $V}}\n")},
      {"spec.tls.secret", "s", Route(kBase + "  tls: {mode: terminate, secret: $V}\n")},
      {"spec.stickySession.cookie", "s", Route(kBase + "  stickySession: {cookie: $V}\n")},
      {"spec.redirects[0].from", "b.example.com",
       Route(kBase + "  redirects: [{from: $V, to: 'https://a.example.com'}]\n")},
      {"spec.redirects[0].to", "https://a.example.com/x",
       Route(kBase + "  redirects: [{from: b.example.com, to: $V}]\n")},
      {"spec.timeouts.connect", "5s", Route(kBase + "  timeouts: {connect: $V}\n")},
      {"spec.timeouts.read", "5s", Route(kBase + "  timeouts: {read: $V}\n")},
      {"spec.timeouts.send", "5s", Route(kBase + "  timeouts: {send: $V}\n")},
      {"spec.healthCheck.failTimeout", "5s", Route(kBase + "  healthCheck: {failTimeout: $V}\n")},
      {"metadata.name", "c", Cluster("  backendMode: task\n", "$V")},
      {"spec.network", "net", Cluster("  network: $V\n")},
      {"spec.proxy.image", "proxy", Cluster("  proxy: {image: $V}\n")},
      {"spec.proxy.config.keepaliveTimeout", "75s",
       Cluster("  proxy: {config: {keepaliveTimeout: $V}}\n")},
      {"spec.proxy.config.clientMaxBodySize", "10m",
       Cluster("  proxy: {config: {clientMaxBodySize: $V}}\n")},
  };
}

// A YAML double-quoted scalar holding exactly `value`.
std::string YamlQuoted(const std::string& value) {
  std::string out = "\"";
  for (char c : value) {
    if (c == '\0') {
      out += "\\0";
    } else if (!AppendShortEscape(out, c)) {
      out += c;
    }
  }
  return out + "\"";
}

std::string Substitute(std::string document, const std::string& value) {
  size_t at = document.find("$V");
  return document.replace(at, 2, YamlQuoted(value));
}

TEST(HostileInputTest, ValidValuesAreAccepted) {
  for (const Field& f : Fields()) {
    LoadResult r = LoadText(Substitute(f.document, f.valid), "h.yaml");
    EXPECT_TRUE(r.ok()) << f.path << "\n" << testing::Dump(r);
  }
}

TEST(HostileInputTest, EveryPayloadIsRejectedNamingTheField) {
  const std::vector<std::string> payloads = {";",        "{",
                                             "}",        "#",
                                             "\"",       "'",
                                             "$",        "\\",
                                             "\n",       "\r",
                                             "\t",       std::string("\0", 1),
                                             "\xc3\xa9", std::string(5000, 'a'),
                                             " ",        ";\n}\nserver {",
                                             "${host}"};
  int cases = 0;
  for (const Field& f : Fields()) {
    for (const std::string& payload : payloads) {
      // Appended, and in the middle, so neither end anchors hide it.
      for (const std::string& value :
           {f.valid + payload, f.valid.substr(0, 1) + payload + f.valid.substr(1)}) {
        ++cases;
        LoadResult r = LoadText(Substitute(f.document, value), "h.yaml");
        bool named = false;
        for (const Diagnostic& d : r.diagnostics) {
          named |= d.path == f.path && d.line > 0;
          EXPECT_EQ(d.message.find("schema keyword"), std::string::npos) << d.ToString();
        }
        EXPECT_TRUE(named) << f.path << " accepted or misreported " << Quote(value) << "\n"
                           << testing::Dump(r);
      }
    }
  }
  EXPECT_GT(cases, 700);
}

}  // namespace
}  // namespace sg::crds
