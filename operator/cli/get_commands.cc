// Subcommands that read the cluster: get, describe, version.
#include <iostream>

#include <rapidjson/document.h>

#include "crds/loader.h"
#include "operator/cli/commands.h"
#include "operator/cli/exit_codes.h"
#include "operator/cli/output.h"
#include "operator/cli/resource_view.h"
#include "operator/store/resource_store.h"

#ifndef SG_VERSION
#define SG_VERSION "0.0.0"
#endif

namespace po = boost::program_options;

namespace sg::cli {
namespace {

std::string Join(const std::vector<std::string>& v, const char* sep = ",") {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : sep) + s;
  return out.empty() ? "-" : out;
}

std::string RouteReason(const ResourceView& v) {
  for (const auto& c : v.Conditions()) {
    if (c.type == "Ready" && c.status != "True") return c.reason;
  }
  return "";
}

void PrintTable(const std::vector<ResourceView>& views, crds::Kind kind, bool wide,
                std::ostream& out) {
  auto now = std::chrono::system_clock::now();
  if (kind == crds::Kind::kRoute) {
    std::vector<std::string> header = {"NAME", "READY", "CLUSTER", "HOSTS", "PATH", "AGE"};
    if (wide) {
      header.insert(header.end(), {"GENERATION", "BACKENDS", "ENDPOINTS", "REASON"});
    }
    Table t(header);
    for (const auto& v : views) {
      std::string path = v.SpecString("path");
      std::vector<std::string> row = {v.stored().name,
                                      v.Ready(),
                                      v.SpecString("serviceCluster"),
                                      Join(v.SpecStrings("hosts")),
                                      path.empty() ? "/" : path,
                                      FormatAge(v.stored().created_at, now)};
      if (wide) {
        row.insert(row.end(),
                   {std::to_string(v.stored().generation), Join(v.BackendSummaries(), ";"),
                    std::to_string(v.Endpoints().size()), RouteReason(v)});
      }
      t.AddRow(row);
    }
    out << t.Render();
  } else {
    std::vector<std::string> header = {"NAME", "READY", "PROXIES", "NETWORK", "AGE"};
    if (wide) header.insert(header.end(), {"GENERATION", "DELIVERY", "BACKEND-MODE", "REASON"});
    Table t(header);
    for (const auto& v : views) {
      std::string network = v.SpecString("network");
      std::vector<std::string> row = {v.stored().name, v.Ready(), v.ProxyReplicas(),
                                      network.empty() ? "sg-" + v.stored().name : network,
                                      FormatAge(v.stored().created_at, now)};
      if (wide) {
        std::string mode = v.SpecString("backendMode");
        row.insert(row.end(), {std::to_string(v.stored().generation), "-",
                               mode.empty() ? "task" : mode, RouteReason(v)});
      }
      t.AddRow(row);
    }
    out << t.Render();
  }
}

}  // namespace

int RunGet(const Args& args, CliContext& ctx) {
  std::vector<std::string> positional;
  std::string output = "table";
  po::options_description desc("get: list resources");
  desc.add_options()("output,o", po::value<std::string>(&output), "table|wide|yaml|json")(
      "args", po::value<std::vector<std::string>>(&positional), "KIND [NAME]");
  AddGlobalOptions(desc, ctx);
  po::positional_options_description pos;
  pos.add("args", -1);
  const char* usage = "swarmgate get servicecluster|route [NAME] [-o table|wide|yaml|json]";
  auto parsed = ParseArgs(args, desc, &pos, usage, ctx);
  if (parsed.help) return kExitOk;
  if (!parsed.ok) return kExitUsage;
  auto kind = ParseKindArgs(positional, 1, 2, usage, ctx);
  if (!kind) return kExitUsage;
  if (output != "table" && output != "wide" && output != "yaml" && output != "json") {
    ctx.err << "error: -o: expected table, wide, yaml or json, got \"" << output << "\"\n";
    return kExitUsage;
  }
  auto* docker = ctx.Docker();
  if (!docker) return ExitCodeFor(ctx.last_error);
  store::ResourceStore store(*docker);

  std::vector<ResourceView> views;
  if (positional.size() == 2) {
    auto r = store.Get(*kind, positional[1]);
    if (!r.ok()) {
      ctx.err << "error: " << r.error().message << "\n";
      return ExitCodeFor(r.error());
    }
    views.emplace_back(std::move(r).value());
  } else {
    auto all = store.List(*kind);
    if (!all.ok()) {
      ctx.err << "error: " << all.error().message << "\n";
      return ExitCodeFor(all.error());
    }
    for (auto& r : *all) views.emplace_back(std::move(r));
  }

  if (output == "table" || output == "wide") {
    if (views.empty()) {
      ctx.err << "No " << crds::KindName(*kind) << " resources found.\n";
      return kExitOk;
    }
    PrintTable(views, *kind, output == "wide", ctx.out);
    return kExitOk;
  }
  rapidjson::Document doc;
  if (positional.size() == 2) {
    views[0].ToDocument(&doc);
  } else {
    doc.SetObject();
    auto& a = doc.GetAllocator();
    doc.AddMember("apiVersion", "v1", a);
    doc.AddMember("kind", "List", a);
    rapidjson::Value items(rapidjson::kArrayType);
    for (const auto& v : views) {
      rapidjson::Document item;
      v.ToDocument(&item);
      items.PushBack(rapidjson::Value(item, a), a);
    }
    doc.AddMember("items", items, a);
  }
  ctx.out << (output == "json" ? PrettyJson(doc) + "\n" : ToYaml(doc));
  return kExitOk;
}

int RunDescribe(const Args& args, CliContext& ctx) {
  std::vector<std::string> positional;
  po::options_description desc("describe: one resource with its status");
  desc.add_options()("args", po::value<std::vector<std::string>>(&positional), "KIND NAME");
  AddGlobalOptions(desc, ctx);
  po::positional_options_description pos;
  pos.add("args", -1);
  const char* usage = "swarmgate describe servicecluster|route NAME";
  auto parsed = ParseArgs(args, desc, &pos, usage, ctx);
  if (parsed.help) return kExitOk;
  if (!parsed.ok) return kExitUsage;
  auto kind = ParseKindArgs(positional, 2, 2, usage, ctx);
  if (!kind) return kExitUsage;
  auto* docker = ctx.Docker();
  if (!docker) return ExitCodeFor(ctx.last_error);
  store::ResourceStore store(*docker);
  auto r = store.Get(*kind, positional[1]);
  if (!r.ok()) {
    ctx.err << "error: " << r.error().message << "\n";
    return ExitCodeFor(r.error());
  }
  ResourceView view(std::move(r).value());
  const auto& s = view.stored();
  auto& out = ctx.out;
  out << "Name:                " << s.name << "\n"
      << "Kind:                " << crds::KindName(s.kind) << "\n"
      << "Generation:          " << s.generation << "\n"
      << "Observed generation: " << view.ObservedGeneration() << "\n"
      << "Created:             " << s.created_at << " ("
      << FormatAge(s.created_at, std::chrono::system_clock::now()) << " ago)\n"
      << "Stored as:           docker config " << store::ConfigName(s.kind, s.name, s.generation)
      << "\n";
  rapidjson::Document doc;
  view.ToDocument(&doc);
  if (doc.HasMember("spec")) {
    out << "Spec:\n";
    std::string yaml = ToYaml(doc["spec"]);
    size_t start = 0;
    while (start < yaml.size()) {
      size_t end = yaml.find('\n', start);
      if (end == std::string::npos) end = yaml.size();
      out << "  " << yaml.substr(start, end - start) << "\n";
      start = end + 1;
    }
  }
  if (s.kind == crds::Kind::kServiceCluster) {
    out << "Proxies (running/desired): " << view.ProxyReplicas() << "\n";
  } else {
    auto eps = view.Endpoints();
    out << "Endpoints (" << eps.size() << "):";
    for (const auto& e : eps) out << " " << e;
    out << "\n";
  }
  auto conds = view.Conditions();
  out << "Conditions:\n";
  if (conds.empty()) {
    out << "  none yet (is the operator running?)\n";
  } else {
    Table t({"  TYPE", "STATUS", "REASON", "SINCE", "MESSAGE"});
    for (const auto& c : conds) {
      t.AddRow({"  " + c.type, c.status, c.reason, c.last_transition_time, c.message});
    }
    out << t.Render();
  }
  return kExitOk;
}

int RunVersion(const Args& args, CliContext& ctx) {
  po::options_description desc("version");
  AddGlobalOptions(desc, ctx);
  auto parsed = ParseArgs(args, desc, nullptr, "swarmgate version", ctx);
  if (parsed.help) return kExitOk;
  if (!parsed.ok) return kExitUsage;
  ctx.out << "swarmgate " << SG_VERSION << " (API swarmgate.io/v1alpha1, Docker API >= 1.41)\n";
  return kExitOk;
}

}  // namespace sg::cli
