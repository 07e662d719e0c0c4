#include "crds/schema_explain.h"

#include <gtest/gtest.h>

#include <functional>
#include <string>
#include <vector>

namespace sg::crds {
namespace {

Explanation MustExplain(const std::string& path) {
  auto e = Explain(path);
  EXPECT_TRUE(e.ok()) << path << ": " << e.error().message;
  return e.ok() ? *e : Explanation{};
}

std::vector<std::string> Names(const std::vector<FieldSummary>& fields) {
  std::vector<std::string> names;
  for (const FieldSummary& f : fields) names.push_back(f.name);
  return names;
}

const FieldSummary* FindField(const Explanation& e, const std::string& name) {
  for (const FieldSummary& f : e.fields) {
    if (f.name == name) return &f;
  }
  return nullptr;
}

TEST(SchemaExplainTest, ObjectFieldPrintsItsFieldsWithTypesAndDefaults) {
  EXPECT_EQ(FormatExplanation(MustExplain("route.spec.timeouts")),
            "KIND:     Route\n"
            "VERSION:  swarmgate.io/v1alpha1\n"
            "\n"
            "FIELD:    spec.timeouts <object>\n"
            "\n"
            "DESCRIPTION:\n"
            "    Timeouts of the requests sent to the backends. Default {connect: 1s, read:\n"
            "    60s, send: 60s}.\n"
            "\n"
            "FIELDS:\n"
            "  connect  <string>  default 1s\n"
            "    Time to open a connection to one task.\n"
            "\n"
            "  read     <string>  default 60s\n"
            "    Longest wait for the backend's response; beyond it the client gets 504.\n"
            "\n"
            "  send     <string>  default 60s\n"
            "    Longest wait while sending the request to the backend.\n");
}

TEST(SchemaExplainTest, EnumFieldPrintsItsValuesAndDefault) {
  std::string text = FormatExplanation(MustExplain("servicecluster.spec.proxy.engine"));
  EXPECT_EQ(text.substr(0, text.find("DESCRIPTION:")),
            "KIND:     ServiceCluster\n"
            "VERSION:  swarmgate.io/v1alpha1\n"
            "\n"
            "FIELD:    spec.proxy.engine <string>\n"
            "VALUES:   nginx, haproxy\n"
            "DEFAULT:  nginx\n"
            "\n")
      << text;
  EXPECT_NE(text.find("DESCRIPTION:\n    The proxies' data plane."), std::string::npos) << text;
  EXPECT_EQ(text.find("FIELDS:"), std::string::npos) << text;
}

TEST(SchemaExplainTest, ResourceListsItsTopLevelFieldsMarkingRequiredOnes) {
  Explanation route = MustExplain("route");
  EXPECT_EQ(route.kind, Kind::kRoute);
  EXPECT_EQ(route.path, "");
  EXPECT_EQ(route.type, "object");
  EXPECT_EQ(Names(route.fields),
            (std::vector<std::string>{"apiVersion", "kind", "metadata", "spec"}));
  for (const FieldSummary& f : route.fields) EXPECT_TRUE(f.required) << f.name;
  std::string text = FormatExplanation(route);
  EXPECT_EQ(text.rfind("KIND:     Route\nVERSION:  swarmgate.io/v1alpha1\n\nDESCRIPTION:\n", 0), 0u)
      << text;
  EXPECT_NE(text.find("\n  spec        <object> -required-\n    What the route serves:"),
            std::string::npos)
      << text;

  // A ServiceCluster may leave out its spec: every field has a default.
  Explanation cluster = MustExplain("servicecluster");
  EXPECT_EQ(cluster.kind, Kind::kServiceCluster);
  const FieldSummary* spec = FindField(cluster, "spec");
  ASSERT_NE(spec, nullptr);
  EXPECT_FALSE(spec->required);
}

TEST(SchemaExplainTest, KindIsSpelledAsTheCliAcceptsIt) {
  for (const char* route : {"route", "Route", "ROUTES", "routes"}) {
    EXPECT_EQ(MustExplain(std::string(route) + ".spec.path").kind, Kind::kRoute) << route;
  }
  for (const char* cluster : {"servicecluster", "ServiceCluster", "serviceclusters", "sc", "SC"}) {
    EXPECT_EQ(MustExplain(std::string(cluster) + ".spec.network").kind, Kind::kServiceCluster)
        << cluster;
  }
}

TEST(SchemaExplainTest, ArrayFieldsLeadIntoTheirItems) {
  Explanation backends = MustExplain("route.spec.backends");
  EXPECT_EQ(backends.type, "[]object");
  EXPECT_FALSE(backends.required);  // spec.rules instead is allowed
  EXPECT_EQ(backends.limits, "1-32 items");
  EXPECT_NE(backends.item_description, "");
  EXPECT_EQ(Names(backends.fields),
            (std::vector<std::string>{"service", "port", "weight", "canary"}));
  EXPECT_TRUE(FindField(backends, "service")->required);
  EXPECT_FALSE(FindField(backends, "weight")->required);
  EXPECT_EQ(FindField(backends, "weight")->default_value, "100");
  EXPECT_EQ(FindField(backends, "canary")->type, "boolean");

  Explanation weight = MustExplain("route.spec.backends.weight");
  EXPECT_EQ(weight.path, "spec.backends[].weight");
  EXPECT_EQ(weight.type, "integer");
  EXPECT_EQ(weight.range, "0-100");
  EXPECT_EQ(weight.default_value, "100");
  EXPECT_FALSE(weight.required);
  EXPECT_NE(FormatExplanation(weight).find("FIELD:    spec.backends[].weight <integer>\n"
                                           "RANGE:    0-100\n"
                                           "DEFAULT:  100\n"),
            std::string::npos);

  // The paths of validation messages work too.
  for (const char* path : {"route.spec.backends[0].port", "route.spec.backends[].port"}) {
    Explanation port = MustExplain(path);
    EXPECT_EQ(port.path, "spec.backends[].port") << path;
    EXPECT_EQ(port.type, "integer") << path;
    EXPECT_EQ(port.range, "1-65535") << path;
    EXPECT_TRUE(port.required) << path;
  }

  Explanation code = MustExplain("route.spec.redirects.code");
  EXPECT_EQ(code.values, (std::vector<std::string>{"301", "302", "307", "308"}));
  EXPECT_EQ(code.default_value, "301");
}

TEST(SchemaExplainTest, StringsReferringToADefinitionShowItsFormat) {
  Explanation read = MustExplain("route.spec.timeouts.read");
  EXPECT_EQ(read.type, "string");
  EXPECT_EQ(read.format.rfind("a duration: an integer followed by ms, s, m or h", 0), 0u)
      << read.format;
  EXPECT_EQ(read.default_value, "60s");
  EXPECT_EQ(read.description.rfind("Longest wait for the backend's response", 0), 0u);

  Explanation hosts = MustExplain("route.spec.hosts");
  EXPECT_EQ(hosts.type, "[]string");
  EXPECT_EQ(hosts.limits, "1-64 items, unique");
  EXPECT_EQ(hosts.format.rfind("a lowercase host name", 0), 0u) << hosts.format;
  EXPECT_TRUE(hosts.fields.empty());

  Explanation name = MustExplain("servicecluster.metadata.name");
  EXPECT_EQ(name.limits, "1-40 characters");
  EXPECT_EQ(name.format.rfind("a resource name", 0), 0u) << name.format;

  Explanation labels = MustExplain("sc.metadata.labels");
  EXPECT_EQ(labels.type, "map[string]string");
  EXPECT_EQ(labels.limits, "at most 64 entries");
  EXPECT_EQ(labels.format.rfind("a label value", 0), 0u) << labels.format;

  // A default stated in the definition applies to the field.
  Explanation mode = MustExplain("servicecluster.spec.backendMode");
  EXPECT_EQ(mode.values, (std::vector<std::string>{"task", "vip"}));
  EXPECT_EQ(mode.default_value, "task");
  // A route's own backendMode has none: its cluster's applies.
  EXPECT_FALSE(MustExplain("route.spec.backendMode").default_value);
}

TEST(SchemaExplainTest, UnknownFieldNamesTheSegmentAndTheValidFields) {
  auto r = Explain("route.spec.timeout");
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.error().Is(ErrorCode::kInvalidArgument));
  EXPECT_EQ(
      r.error().message,
      "route.spec has no field \"timeout\"; its fields: serviceCluster, hosts, path, "
      "rewrite, backends, rules, canary, backendMode, tls, stickySession, websocket, timeouts, "
      "healthCheck, rateLimit, ipAccess, cors, compression, redirects, updatePolicy");

  auto item = Explain("route.spec.backends.host");
  ASSERT_FALSE(item.ok());
  EXPECT_EQ(item.error().message,
            "route.spec.backends has no field \"host\"; its fields: service, port, weight, canary");

  auto leaf = Explain("route.spec.path.x");
  ASSERT_FALSE(leaf.ok());
  EXPECT_EQ(leaf.error().message, "route.spec.path has no field \"x\": it is a string");

  auto map = Explain("sc.metadata.labels.team");
  ASSERT_FALSE(map.ok());
  EXPECT_EQ(map.error().message,
            "sc.metadata.labels has no field \"team\": it is a map[string]string");
}

TEST(SchemaExplainTest, MalformedPathsAndUnknownKindsAreInvalidArguments) {
  for (const char* path : {"", "widget", "widget.spec", "route..spec", "route.",
                           "route.spec.backends[x]", "route.spec.backends[0"}) {
    auto r = Explain(path);
    ASSERT_FALSE(r.ok()) << path;
    EXPECT_TRUE(r.error().Is(ErrorCode::kInvalidArgument)) << path;
    EXPECT_FALSE(r.error().message.empty()) << path;
  }
  EXPECT_EQ(Explain("widget.spec").error().message,
            "unknown kind \"widget\": expected route (routes) or servicecluster "
            "(serviceclusters, sc), e.g. route.spec.timeouts");
  EXPECT_EQ(Explain("route..spec").error().message,
            "invalid field name \"\" after route: expected NAME, NAME[] or NAME[N]");
}

// Every field of both schemas, at every level, says what it means: walked
// through explain itself, so what the CLI prints is what is checked.
TEST(SchemaExplainTest, EveryFieldHasADescription) {
  size_t fields = 0;
  std::function<void(const std::string&, int)> walk = [&](const std::string& path, int depth) {
    ASSERT_LT(depth, 10) << path;
    Explanation e = MustExplain(path);
    EXPECT_FALSE(e.description.empty()) << path << " has no description";
    for (const FieldSummary& f : e.fields) {
      ++fields;
      EXPECT_FALSE(f.summary.empty()) << path << "." << f.name << " has no description";
      EXPECT_NE(f.type, "any") << path << "." << f.name << " has no type";
      walk(path + "." + f.name, depth + 1);
    }
  };
  walk("route", 0);
  walk("servicecluster", 0);
  EXPECT_GT(fields, 70u) << "the walk reached too few fields";
}

TEST(SchemaExplainTest, LongTextWrapsUnderItsLabel) {
  std::string text = FormatExplanation(MustExplain("route.spec.timeouts.read"));
  EXPECT_NE(text.find("FORMAT:   a duration: an integer followed by ms, s, m or h (e.g. 500ms, "
                      "5s, 2m,\n          1h)\n"),
            std::string::npos)
      << text;
  size_t start = 0;
  for (size_t end = text.find('\n'); end != std::string::npos; end = text.find('\n', start)) {
    EXPECT_LE(end - start, 80u) << text.substr(start, end - start);
    start = end + 1;
  }
}

}  // namespace
}  // namespace sg::crds
