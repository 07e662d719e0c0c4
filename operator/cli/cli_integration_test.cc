// The built `swarmgate` binary against a real Swarm manager named by
// SG_TEST_DOCKER_HOST: apply, get, describe, diff and delete round trips on a
// copy of crds/samples/ whose resource names carry a prefix unique to the run.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <rapidjson/document.h>
#include <yaml-cpp/yaml.h>

#include "crds/loader.h"
#include "operator/docker/engine_client.h"
#include "operator/store/resource_store.h"
#include "operator/testing/docker_test_util.h"
#include "sg_build_paths.h"

extern char** environ;

namespace sg::cli {
namespace {

namespace fs = std::filesystem;

const std::string kBinary = std::string(SG_BINARY_DIR) + "/operator/swarmgate";
const std::string kSamples = std::string(SG_SOURCE_DIR) + "/crds/samples";

struct Proc {
  int code = -1;
  std::string out;
  std::string err;
  std::string command;
};

std::ostream& operator<<(std::ostream& os, const Proc& p) {
  return os << "$ " << p.command << "\nexit " << p.code << "\n--- stdout:\n"
            << p.out << "--- stderr:\n"
            << p.err;
}

std::string ReadFile(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

std::vector<std::string> Fields(const std::string& line) {
  std::vector<std::string> out;
  std::istringstream in(line);
  for (std::string f; in >> f;) out.push_back(f);
  return out;
}

class CliIntegrationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    host_ = testing::TestDockerHost();
    if (host_.empty()) FAIL() << testing::kNoDockerHostMessage;
    ASSERT_TRUE(fs::exists(kBinary)) << kBinary << " is missing: build the swarmgate target";
    auto c = docker::EngineClient::ConnectFromFlag(host_);
    ASSERT_TRUE(c.ok()) << "cannot reach SG_TEST_DOCKER_HOST=" << host_ << ": "
                        << c.error().ToString();
    client_ = std::move(c).value();
    prefix_ = testing::UniquePrefix("sgcli");
    dir_ = fs::temp_directory_path() / ("sg-cli-it-" + prefix_ + "tmp");
    fs::remove_all(dir_);
    fs::create_directories(dir_ / "samples");
    WriteUniqueSamples();
  }

  void TearDown() override {
    if (client_) {
      for (const auto& c : OurConfigs()) {
        Status st = client_->RemoveConfig(c.id);
        if (!st.ok() && !st.error().Is(ErrorCode::kNotFound)) {
          ADD_FAILURE() << "cleanup of " << c.spec.name << ": " << st.error().ToString();
        }
      }
    }
    if (!dir_.empty()) fs::remove_all(dir_);
  }

  // Copies crds/samples/*.yaml into dir_/samples with every resource name
  // (and every serviceCluster reference) prefixed, and checks the copy.
  void WriteUniqueSamples() {
    auto original = crds::LoadPaths({kSamples});
    ASSERT_TRUE(original.ok()) << "the samples must be valid";
    std::set<std::string> names;
    for (const auto& r : original.resources) names.insert(r.name);
    const std::regex field(R"(^(\s*(?:name|serviceCluster):\s*)([a-z0-9-]+)\s*$)");
    for (const auto& entry : fs::directory_iterator(kSamples)) {
      if (!entry.is_regular_file() || entry.path().extension() != ".yaml") continue;
      std::string out;
      for (const auto& line : Lines(ReadFile(entry.path()))) {
        std::smatch m;
        if (std::regex_match(line, m, field) && names.count(m[2])) {
          out += std::string(m[1]) + prefix_ + std::string(m[2]) + "\n";
        } else {
          out += line + "\n";
        }
      }
      std::ofstream(dir_ / "samples" / entry.path().filename()) << out;
    }
    auto copy = crds::LoadPaths({Samples()});
    ASSERT_TRUE(copy.ok()) << "rewritten samples are invalid";
    ASSERT_EQ(copy.resources.size(), original.resources.size());
    for (const auto& r : copy.resources) {
      ASSERT_EQ(r.name.rfind(prefix_, 0), 0u) << r.name << " in " << r.file;
      resources_.emplace_back(r.kind == crds::Kind::kRoute ? "route" : "servicecluster", r.name);
    }
  }

  std::string Samples() const { return (dir_ / "samples").string(); }
  std::string N(const std::string& name) const { return prefix_ + name; }

  // Runs the binary with --docker-host appended; no shell involved.
  Proc Swarmgate(std::vector<std::string> args) {
    args.insert(args.begin(), kBinary);
    args.insert(args.end(), {"--docker-host", host_});
    Proc p;
    for (const auto& a : args) p.command += (p.command.empty() ? "" : " ") + a;
    const fs::path out = dir_ / "stdout", err = dir_ / "stderr";
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&actions, 1, out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_addopen(&actions, 2, err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    pid_t pid = 0;
    int rc = posix_spawn(&pid, kBinary.c_str(), &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    if (rc != 0) {
      ADD_FAILURE() << "cannot start " << kBinary << ": " << std::strerror(rc);
      return p;
    }
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    p.code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    p.out = ReadFile(out);
    p.err = ReadFile(err);
    return p;
  }

  // Configs of this run's resources, sorted by name.
  std::vector<docker::Config> OurConfigs() {
    auto all = client_->ListConfigs({{"label", {store::kLabelName}}});
    EXPECT_TRUE(all.ok()) << all.error().ToString();
    std::vector<docker::Config> out;
    if (!all.ok()) return out;
    for (const auto& c : *all) {
      auto it = c.spec.labels.find(store::kLabelName);
      if (it != c.spec.labels.end() && it->second.rfind(prefix_, 0) == 0) out.push_back(c);
    }
    std::sort(out.begin(), out.end(),
              [](const auto& a, const auto& b) { return a.spec.name < b.spec.name; });
    return out;
  }

  // "name@version" of every config of this run.
  std::vector<std::string> ConfigState() {
    std::vector<std::string> out;
    for (const auto& c : OurConfigs()) out.push_back(c.spec.name + "@" + std::to_string(c.version));
    return out;
  }

  std::vector<std::string> ConfigNamesOf(const std::string& storage_kind, const std::string& name) {
    std::vector<std::string> out;
    const std::string stem = "sg." + storage_kind + "." + name + ".";
    for (const auto& c : OurConfigs()) {
      if (c.spec.name.rfind(stem, 0) == 0) out.push_back(c.spec.name);
    }
    return out;
  }

  // Every "<kind>/<name> <word>" line expected for the samples, sorted.
  std::vector<std::string> Expected(const std::string& word) const {
    std::vector<std::string> out;
    for (const auto& [kind, name] : resources_) out.push_back(kind + "/" + name + " " + word);
    std::sort(out.begin(), out.end());
    return out;
  }

  static std::vector<std::string> SortedLines(const std::string& text) {
    auto lines = Lines(text);
    std::sort(lines.begin(), lines.end());
    return lines;
  }

  std::string host_;
  std::unique_ptr<docker::EngineClient> client_;
  std::string prefix_;
  fs::path dir_;
  std::vector<std::pair<std::string, std::string>> resources_;  // (cli kind, name)
};

TEST_F(CliIntegrationTest, ApplyGetDescribeDiffDeleteRoundTrip) {
  // Two ServiceClusters and six Routes (crds/samples).
  ASSERT_EQ(resources_.size(), 8u);

  // ---- apply: everything is created, clusters before routes.
  Proc apply = Swarmgate({"apply", "-f", Samples()});
  ASSERT_EQ(apply.code, 0) << apply;
  EXPECT_EQ(SortedLines(apply.out), Expected("created")) << apply;
  auto out_lines = Lines(apply.out);
  ASSERT_EQ(out_lines.size(), resources_.size()) << apply;
  EXPECT_EQ(out_lines[0].rfind("servicecluster/", 0), 0u) << apply;
  EXPECT_EQ(out_lines[1].rfind("servicecluster/", 0), 0u) << apply;
  EXPECT_EQ(apply.err, "") << apply;
  const auto after_create = ConfigState();
  ASSERT_EQ(after_create.size(), resources_.size()) << ::testing::PrintToString(after_create);
  EXPECT_EQ(ConfigNamesOf("route", N("shop")),
            std::vector<std::string>{"sg.route." + N("shop") + ".1"});
  EXPECT_EQ(ConfigNamesOf("cluster", N("public")),
            std::vector<std::string>{"sg.cluster." + N("public") + ".1"});

  // ---- get route: a table with our routes.
  Proc get = Swarmgate({"get", "route"});
  ASSERT_EQ(get.code, 0) << get;
  auto rows = Lines(get.out);
  ASSERT_FALSE(rows.empty()) << get;
  EXPECT_EQ(Fields(rows[0]),
            (std::vector<std::string>{"NAME", "READY", "CLUSTER", "HOSTS", "PATH", "AGE"}))
      << get;
  std::map<std::string, std::vector<std::string>> by_name;
  for (size_t i = 1; i < rows.size(); ++i) {
    auto f = Fields(rows[i]);
    if (!f.empty() && f[0].rfind(prefix_, 0) == 0) by_name[f[0]] = f;
  }
  EXPECT_EQ(by_name.size(), resources_.size() - 2) << get;  // all but the two clusters
  ASSERT_TRUE(by_name.count(N("shop"))) << get;
  const auto& shop = by_name[N("shop")];
  ASSERT_EQ(shop.size(), 6u) << get;
  EXPECT_EQ(shop[2], N("public")) << get;
  EXPECT_EQ(shop[3], "shop.example.com,*.shop.example.com") << get;
  EXPECT_EQ(shop[4], "/api") << get;
  EXPECT_TRUE(std::regex_match(shop[5], std::regex(R"(\d+[smhd])"))) << get;
  ASSERT_TRUE(by_name.count(N("blog"))) << get;
  EXPECT_EQ(by_name[N("blog")][4], "/") << get;
  ASSERT_TRUE(by_name.count(N("reports"))) << get;
  EXPECT_EQ(by_name[N("reports")][2], N("internal")) << get;

  Proc clusters = Swarmgate({"get", "servicecluster"});
  ASSERT_EQ(clusters.code, 0) << clusters;
  EXPECT_EQ(Fields(Lines(clusters.out).at(0)),
            (std::vector<std::string>{"NAME", "READY", "PROXIES", "NETWORK", "AGE"}))
      << clusters;
  EXPECT_NE(clusters.out.find(N("public")), std::string::npos) << clusters;
  EXPECT_NE(clusters.out.find(N("internal")), std::string::npos) << clusters;

  // ---- get NAME -o json | yaml: parseable, the stored resource.
  Proc json = Swarmgate({"get", "route", N("shop"), "-o", "json"});
  ASSERT_EQ(json.code, 0) << json;
  rapidjson::Document doc;
  doc.Parse(json.out.c_str());
  ASSERT_FALSE(doc.HasParseError()) << json;
  ASSERT_TRUE(doc.IsObject() && doc.HasMember("kind") && doc.HasMember("metadata") &&
              doc.HasMember("spec"))
      << json;
  EXPECT_STREQ(doc["kind"].GetString(), "Route") << json;
  EXPECT_EQ(std::string(doc["metadata"]["name"].GetString()), N("shop")) << json;
  EXPECT_EQ(doc["metadata"]["generation"].GetInt64(), 1) << json;
  EXPECT_EQ(std::string(doc["spec"]["serviceCluster"].GetString()), N("public")) << json;
  EXPECT_STREQ(doc["spec"]["path"].GetString(), "/api") << json;

  Proc yaml = Swarmgate({"get", "route", N("shop"), "-o", "yaml"});
  ASSERT_EQ(yaml.code, 0) << yaml;
  YAML::Node y;
  ASSERT_NO_THROW(y = YAML::Load(yaml.out)) << yaml;
  EXPECT_EQ(y["kind"].as<std::string>(), "Route") << yaml;
  EXPECT_EQ(y["metadata"]["name"].as<std::string>(), N("shop")) << yaml;
  EXPECT_EQ(y["spec"]["backends"][1]["weight"].as<int>(), 10) << yaml;
  EXPECT_EQ(y["spec"]["hosts"][1].as<std::string>(), "*.shop.example.com") << yaml;

  Proc list = Swarmgate({"get", "servicecluster", "-o", "json"});
  ASSERT_EQ(list.code, 0) << list;
  rapidjson::Document list_doc;
  list_doc.Parse(list.out.c_str());
  ASSERT_FALSE(list_doc.HasParseError()) << list;
  ASSERT_TRUE(list_doc.IsObject() && list_doc.HasMember("items") && list_doc["items"].IsArray())
      << list;
  EXPECT_STREQ(list_doc["kind"].GetString(), "List") << list;
  int ours = 0;
  for (const auto& item : list_doc["items"].GetArray()) {
    if (std::string(item["metadata"]["name"].GetString()).rfind(prefix_, 0) != 0) continue;
    ++ours;
    // The samples name no engine: apply created both clusters on HAProxy,
    // and says so in what it stored.
    ASSERT_TRUE(item["spec"].HasMember("proxy") && item["spec"]["proxy"].HasMember("engine"))
        << list;
    EXPECT_STREQ(item["spec"]["proxy"]["engine"].GetString(), "haproxy") << list;
  }
  EXPECT_EQ(ours, 2) << list;

  // ---- describe
  Proc describe = Swarmgate({"describe", "route", N("shop")});
  ASSERT_EQ(describe.code, 0) << describe;
  for (const std::string& want :
       {"Name:                " + N("shop") + "\n", std::string("Kind:                Route\n"),
        std::string("Generation:          1\n"),
        "Stored as:           docker config sg.route." + N("shop") + ".1\n", std::string("Spec:\n"),
        std::string("Conditions:\n")}) {
    EXPECT_NE(describe.out.find(want), std::string::npos) << "missing " << want << describe;
  }
  Proc describe_cluster = Swarmgate({"describe", "servicecluster", N("public")});
  ASSERT_EQ(describe_cluster.code, 0) << describe_cluster;
  EXPECT_NE(describe_cluster.out.find("Kind:                ServiceCluster\n"), std::string::npos)
      << describe_cluster;

  // ---- apply again: unchanged, no config written (the engine apply chose
  // on creation is kept, although the files still name none).
  Proc again = Swarmgate({"apply", "-f", Samples()});
  ASSERT_EQ(again.code, 0) << again;
  EXPECT_EQ(SortedLines(again.out), Expected("unchanged")) << again;
  EXPECT_EQ(ConfigState(), after_create);

  // ---- change one resource: diff shows it, dry run writes nothing, apply configures it.
  const fs::path blog_file = dir_ / "samples" / "route-plain.yaml";
  std::string blog = ReadFile(blog_file);
  const size_t port_at = blog.find("port: 80\n");
  ASSERT_NE(port_at, std::string::npos) << blog;
  blog.replace(port_at, 9, "port: 81\n");
  std::ofstream(blog_file) << blog;

  Proc diff = Swarmgate({"diff", "-f", blog_file.string()});
  ASSERT_EQ(diff.code, 0) << diff;
  auto diff_lines = Lines(diff.out);
  ASSERT_FALSE(diff_lines.empty()) << diff;
  EXPECT_EQ(diff_lines[0], "route/" + N("blog") + " would be configured") << diff;
  int minus = 0, plus = 0;
  for (const auto& l : diff_lines) {
    if (l.rfind("  - ", 0) == 0) {
      ++minus;
      EXPECT_NE(l.find("\"port\": 80"), std::string::npos) << diff;
    }
    if (l.rfind("  + ", 0) == 0) {
      ++plus;
      EXPECT_NE(l.find("\"port\": 81"), std::string::npos) << diff;
    }
  }
  EXPECT_EQ(minus, 1) << diff;
  EXPECT_EQ(plus, 1) << diff;

  Proc diff_all = Swarmgate({"diff", "-f", Samples()});
  ASSERT_EQ(diff_all.code, 0) << diff_all;
  int unchanged = 0, would = 0;
  for (const auto& l : Lines(diff_all.out)) {
    if (l.size() > 10 && l.compare(l.size() - 10, 10, " unchanged") == 0) ++unchanged;
    if (l.find(" would be ") != std::string::npos) ++would;
  }
  EXPECT_EQ(unchanged, static_cast<int>(resources_.size()) - 1) << diff_all;
  EXPECT_EQ(would, 1) << diff_all;

  Proc dry = Swarmgate({"apply", "-f", Samples(), "--dry-run"});
  ASSERT_EQ(dry.code, 0) << dry;
  EXPECT_NE(dry.out.find("route/" + N("blog") + " configured (dry run)\n"), std::string::npos)
      << dry;
  EXPECT_EQ(ConfigState(), after_create) << "diff and --dry-run write nothing";

  Proc change = Swarmgate({"apply", "-f", Samples()});
  ASSERT_EQ(change.code, 0) << change;
  auto want = Expected("unchanged");
  for (auto& l : want) {
    if (l == "route/" + N("blog") + " unchanged") l = "route/" + N("blog") + " configured";
  }
  std::sort(want.begin(), want.end());
  EXPECT_EQ(SortedLines(change.out), want) << change;
  EXPECT_EQ(ConfigNamesOf("route", N("blog")),
            std::vector<std::string>{"sg.route." + N("blog") + ".2"});
  EXPECT_EQ(OurConfigs().size(), resources_.size()) << ::testing::PrintToString(ConfigState());

  Proc changed = Swarmgate({"get", "route", N("blog"), "-o", "json"});
  ASSERT_EQ(changed.code, 0) << changed;
  rapidjson::Document changed_doc;
  changed_doc.Parse(changed.out.c_str());
  ASSERT_FALSE(changed_doc.HasParseError()) << changed;
  ASSERT_TRUE(changed_doc.IsObject() && changed_doc.HasMember("metadata") &&
              changed_doc.HasMember("spec"))
      << changed;
  EXPECT_EQ(changed_doc["metadata"]["generation"].GetInt64(), 2) << changed;
  EXPECT_EQ(changed_doc["spec"]["backends"][0]["port"].GetInt(), 81) << changed;

  Proc diff_after = Swarmgate({"diff", "-f", blog_file.string()});
  ASSERT_EQ(diff_after.code, 0) << diff_after;
  EXPECT_EQ(diff_after.out, "route/" + N("blog") + " unchanged\n") << diff_after;

  // ---- delete -f: routes first, then clusters; nothing left.
  Proc del = Swarmgate({"delete", "-f", Samples()});
  ASSERT_EQ(del.code, 0) << del;
  EXPECT_EQ(SortedLines(del.out), Expected("deleted")) << del;
  auto del_lines = Lines(del.out);
  ASSERT_EQ(del_lines.size(), resources_.size()) << del;
  EXPECT_EQ(del_lines.back().rfind("servicecluster/", 0), 0u) << del;
  EXPECT_TRUE(OurConfigs().empty()) << ::testing::PrintToString(ConfigState());

  Proc empty = Swarmgate({"get", "route", N("shop")});
  EXPECT_EQ(empty.code, 1) << empty;
}

TEST_F(CliIntegrationTest, MissingResourcesExitOne) {
  Proc del = Swarmgate({"delete", "route", N("missing")});
  EXPECT_EQ(del.code, 1) << del;
  EXPECT_NE(del.err.find("not found"), std::string::npos) << del;
  EXPECT_EQ(del.out, "") << del;

  Proc get = Swarmgate({"get", "route", N("missing")});
  EXPECT_EQ(get.code, 1) << get;
  EXPECT_NE(get.err.find("not found"), std::string::npos) << get;

  Proc describe = Swarmgate({"describe", "servicecluster", N("missing")});
  EXPECT_EQ(describe.code, 1) << describe;

  Proc del_files = Swarmgate({"delete", "-f", Samples()});
  EXPECT_EQ(del_files.code, 1) << del_files;
  EXPECT_EQ(Lines(del_files.err).size(), resources_.size()) << del_files;
}

TEST_F(CliIntegrationTest, DeleteByKindAndName) {
  Proc apply = Swarmgate({"apply", "-f", Samples() + "/route-vip.yaml", "-f",
                          Samples() + "/servicecluster-public.yaml"});
  ASSERT_EQ(apply.code, 0) << apply;
  ASSERT_EQ(OurConfigs().size(), 3u) << ::testing::PrintToString(ConfigState());

  Proc del = Swarmgate({"delete", "route", N("reports")});
  ASSERT_EQ(del.code, 0) << del;
  EXPECT_EQ(del.out, "route/" + N("reports") + " deleted\n") << del;
  EXPECT_TRUE(ConfigNamesOf("route", N("reports")).empty());
  EXPECT_EQ(OurConfigs().size(), 2u) << ::testing::PrintToString(ConfigState());

  Proc again = Swarmgate({"delete", "route", N("reports")});
  EXPECT_EQ(again.code, 1) << again;
}

}  // namespace
}  // namespace sg::cli
