// Subcommands that read resource files: validate, apply, diff, delete -f.
#include <chrono>
#include <iostream>
#include <map>
#include <thread>

#include <rapidjson/document.h>

#include "crds/decode.h"
#include "crds/engine_on_apply.h"
#include "crds/grammar.h"
#include "crds/host_ports.h"
#include "crds/loader.h"
#include "operator/cli/commands.h"
#include "operator/cli/exit_codes.h"
#include "operator/cli/output.h"
#include "operator/cli/resource_view.h"
#include "operator/store/resource_store.h"

namespace po = boost::program_options;

namespace sg::cli {
namespace {

std::string Ref(crds::Kind kind, const std::string& name) {
  return std::string(kind == crds::Kind::kRoute ? "route" : "servicecluster") + "/" + name;
}

// Loads -f paths; prints every diagnostic. Returns nullopt when invalid.
std::optional<crds::LoadResult> LoadOrReport(const std::vector<std::string>& files,
                                             CliContext& ctx) {
  auto loaded = crds::LoadPaths(files);
  for (const auto& d : loaded.diagnostics) ctx.err << d.ToString() << "\n";
  if (!loaded.ok()) {
    ctx.err << "error: " << loaded.diagnostics.size() << " problem"
            << (loaded.diagnostics.size() == 1 ? "" : "s") << " found; nothing was applied\n";
    return std::nullopt;
  }
  return loaded;
}

// Clusters before routes, so a route's cluster exists when the operator
// first sees the route; deletion goes the other way round.
std::vector<const crds::Resource*> ApplyOrder(const crds::LoadResult& loaded, bool reverse) {
  std::vector<const crds::Resource*> out;
  for (auto kind : {crds::Kind::kServiceCluster, crds::Kind::kRoute}) {
    for (const auto& r : loaded.resources) {
      if (r.kind == kind) out.push_back(&r);
    }
  }
  if (reverse) std::reverse(out.begin(), out.end());
  return out;
}

// What apply stores for `r`: its canonical JSON, with the engine a
// ServiceCluster naming none gets (crds/engine_on_apply.h), read against the
// stored one (`current`: Get's answer for it).
Result<std::string> StoredForm(const crds::Resource& r,
                               const Result<store::StoredResource>& current) {
  if (r.kind != crds::Kind::kServiceCluster) return r.canonical_json;
  if (!current.ok() && !current.error().Is(ErrorCode::kNotFound)) return current.error();
  return crds::WithEngineOnApply(
      r.canonical_json, current.ok() ? std::optional<std::string>(current->data) : std::nullopt);
}

// The stored ServiceClusters that `loaded` does not replace, for the host
// port check (crds/host_ports.h; the loader checked the file's own).
Result<std::vector<crds::ServiceCluster>> OtherStoredClusters(store::ResourceStore& store,
                                                              const crds::LoadResult& loaded) {
  std::vector<crds::ServiceCluster> out;
  bool any = false;
  for (const auto& r : loaded.resources) any = any || r.kind == crds::Kind::kServiceCluster;
  if (!any) return out;
  auto stored = store.List(crds::Kind::kServiceCluster);
  if (!stored.ok()) return stored.error();
  for (const auto& s : *stored) {
    bool replaced = false;
    for (const auto& r : loaded.resources) {
      replaced = replaced || (r.kind == crds::Kind::kServiceCluster && r.name == s.name);
    }
    rapidjson::Document d;
    d.Parse(s.data.c_str(), s.data.size());
    if (replaced || d.HasParseError() || !d.IsObject()) continue;
    out.push_back(crds::DecodeServiceCluster(d));
  }
  return out;
}

std::string PrettyData(const std::string& json) {
  rapidjson::Document d;
  d.Parse(json.c_str(), json.size());
  return d.HasParseError() ? json : PrettyJson(d);
}

po::options_description FileOptions(const char* title, std::vector<std::string>* files,
                                    CliContext& ctx) {
  po::options_description desc(title);
  desc.add_options()("filename,f", po::value<std::vector<std::string>>(files)->composing(),
                     "file, directory (its *.yaml|*.yml|*.json) or - for stdin; repeatable");
  AddGlobalOptions(desc, ctx);
  return desc;
}

}  // namespace

int RunValidate(const Args& args, CliContext& ctx) {
  std::vector<std::string> files;
  auto desc = FileOptions("validate: schema and semantic checks, offline", &files, ctx);
  po::positional_options_description pos;
  pos.add("filename", -1);
  auto parsed = ParseArgs(args, desc, &pos, "swarmgate validate -f FILE|DIR|- ...", ctx);
  if (parsed.help) return kExitOk;
  if (!parsed.ok) return kExitUsage;
  if (files.empty()) {
    ctx.err << "error: validate needs -f FILE|DIR|-\n";
    return kExitUsage;
  }
  auto loaded = crds::LoadPaths(files);
  for (const auto& d : loaded.diagnostics) ctx.err << d.ToString() << "\n";
  if (!loaded.ok()) {
    ctx.err << "invalid: " << loaded.diagnostics.size() << " error"
            << (loaded.diagnostics.size() == 1 ? "" : "s") << " in " << loaded.files << " file"
            << (loaded.files == 1 ? "" : "s") << "\n";
    return kExitInvalid;
  }
  int clusters = 0, routes = 0;
  for (const auto& r : loaded.resources) (r.kind == crds::Kind::kRoute ? routes : clusters)++;
  ctx.out << "valid: " << loaded.resources.size() << " resources (" << clusters
          << " ServiceCluster, " << routes << " Route) in " << loaded.files << " file"
          << (loaded.files == 1 ? "" : "s") << "\n";
  return kExitOk;
}

int RunApply(const Args& args, CliContext& ctx) {
  std::vector<std::string> files;
  bool dry_run = false, wait = false;
  std::string timeout = "60s";
  auto desc = FileOptions("apply: create or update resources", &files, ctx);
  desc.add_options()("dry-run", po::bool_switch(&dry_run), "say what would change, write nothing")(
      "wait", po::bool_switch(&wait), "wait until every applied resource is Ready")(
      "timeout", po::value<std::string>(&timeout), "how long --wait waits (default 60s)");
  auto parsed =
      ParseArgs(args, desc, nullptr,
                "swarmgate apply -f FILE|DIR|- [--dry-run] [--wait [--timeout 60s]]", ctx);
  if (parsed.help) return kExitOk;
  if (!parsed.ok) return kExitUsage;
  if (files.empty()) {
    ctx.err << "error: apply needs -f FILE|DIR|-\n";
    return kExitUsage;
  }
  auto timeout_ms = crds::ParseDuration(timeout);
  if (!timeout_ms) {
    ctx.err << "error: --timeout: expected a duration like 60s, got \"" << timeout << "\"\n";
    return kExitUsage;
  }
  auto loaded = LoadOrReport(files, ctx);
  if (!loaded) return kExitInvalid;
  auto* docker = ctx.Docker();
  if (!docker) return ExitCodeFor(ctx.last_error);
  store::ResourceStore store(*docker);

  auto others = OtherStoredClusters(store, *loaded);
  if (!others.ok()) {
    ctx.err << "error: " << others.error().message << "\n";
    return ExitCodeFor(others.error());
  }
  int rc = kExitOk;
  std::vector<std::pair<const crds::Resource*, int64_t>> applied;
  for (const auto* r : ApplyOrder(*loaded, false)) {
    if (const crds::ServiceCluster* cluster = r->cluster()) {
      std::optional<crds::HostPortClash> clash;
      for (const auto& other : *others) {
        if (!clash) clash = crds::FindHostPortClash(*cluster, other);
      }
      if (clash) {
        ctx.err << "error: " << Ref(r->kind, r->name) << " (" << r->file << ":" << r->line
                << "): " << clash->path << ": " << clash->message << "\n";
        rc = kExitInvalid;
        continue;
      }
    }
    auto data = StoredForm(*r, r->kind == crds::Kind::kServiceCluster
                                   ? store.Get(r->kind, r->name)
                                   : Result<store::StoredResource>(NotFound("")));
    auto result = data.ok() ? store.Apply(r->kind, r->name, *data, dry_run)
                            : Result<store::ApplyResult>(data.error());
    if (!result.ok()) {
      ctx.err << "error: " << Ref(r->kind, r->name) << " (" << r->file << ":" << r->line
              << "): " << result.error().message << "\n";
      if (result.error().Is(ErrorCode::kUnavailable)) return kExitUnreachable;
      rc = kExitInvalid;
      continue;
    }
    ctx.out << Ref(r->kind, r->name) << " " << store::ApplyOutcomeName(result->outcome)
            << (dry_run ? " (dry run)" : "") << "\n";
    applied.emplace_back(r, result->generation);
  }
  if (!wait || dry_run || rc != kExitOk) return rc;

  // --wait: poll until each resource reports Ready for the applied generation.
  auto deadline = std::chrono::steady_clock::now() + *timeout_ms;
  for (const auto& [r, generation] : applied) {
    std::string last = "no status yet";
    while (true) {
      auto current = store.Get(r->kind, r->name);
      if (current.ok()) {
        ResourceView view(*current);
        if (view.ObservedGeneration() >= generation && view.Ready() == "True") break;
        for (const auto& c : view.Conditions()) {
          if (c.type == "Ready") last = c.status + " " + c.reason + ": " + c.message;
        }
      } else {
        last = current.error().message;
      }
      if (std::chrono::steady_clock::now() > deadline) {
        ctx.err << "error: " << Ref(r->kind, r->name) << " not Ready within " << timeout
                << " (last seen: " << last << ")\n";
        return kExitInvalid;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
    ctx.out << Ref(r->kind, r->name) << " ready\n";
  }
  return rc;
}

int RunDiff(const Args& args, CliContext& ctx) {
  std::vector<std::string> files;
  auto desc = FileOptions("diff: what apply would change", &files, ctx);
  auto parsed = ParseArgs(args, desc, nullptr, "swarmgate diff -f FILE|DIR|-", ctx);
  if (parsed.help) return kExitOk;
  if (!parsed.ok) return kExitUsage;
  if (files.empty()) {
    ctx.err << "error: diff needs -f FILE|DIR|-\n";
    return kExitUsage;
  }
  auto loaded = LoadOrReport(files, ctx);
  if (!loaded) return kExitInvalid;
  auto* docker = ctx.Docker();
  if (!docker) return ExitCodeFor(ctx.last_error);
  store::ResourceStore store(*docker);
  for (const auto* r : ApplyOrder(*loaded, false)) {
    auto current = store.Get(r->kind, r->name);
    if (!current.ok() && !current.error().Is(ErrorCode::kNotFound)) {
      ctx.err << "error: " << current.error().message << "\n";
      return ExitCodeFor(current.error());
    }
    std::string before = current.ok() ? PrettyData(current->data) : "";
    auto data = StoredForm(*r, current);
    if (!data.ok()) {
      ctx.err << "error: " << data.error().message << "\n";
      return ExitCodeFor(data.error());
    }
    std::string after = PrettyData(*data);
    if (before == after) {
      ctx.out << Ref(r->kind, r->name) << " unchanged\n";
      continue;
    }
    ctx.out << Ref(r->kind, r->name)
            << (current.ok() ? " would be configured" : " would be created") << "\n";
    for (const auto& line : DiffLines(before, after)) ctx.out << "  " << line << "\n";
  }
  return kExitOk;
}

int RunDelete(const Args& args, CliContext& ctx) {
  std::vector<std::string> files, positional;
  auto desc = FileOptions("delete: remove resources", &files, ctx);
  desc.add_options()("args", po::value<std::vector<std::string>>(&positional), "KIND NAME");
  po::positional_options_description pos;
  pos.add("args", -1);
  const char* usage = "swarmgate delete (-f FILE | servicecluster|route NAME)";
  auto parsed = ParseArgs(args, desc, &pos, usage, ctx);
  if (parsed.help) return kExitOk;
  if (!parsed.ok) return kExitUsage;

  std::vector<std::pair<crds::Kind, std::string>> targets;
  if (!files.empty()) {
    if (!positional.empty()) {
      ctx.err << "error: give either -f or KIND NAME, not both\nUsage: " << usage << "\n";
      return kExitUsage;
    }
    auto loaded = LoadOrReport(files, ctx);
    if (!loaded) return kExitInvalid;
    for (const auto* r : ApplyOrder(*loaded, true)) targets.emplace_back(r->kind, r->name);
  } else {
    auto kind = ParseKindArgs(positional, 2, 2, usage, ctx);
    if (!kind) return kExitUsage;
    targets.emplace_back(*kind, positional[1]);
  }
  auto* docker = ctx.Docker();
  if (!docker) return ExitCodeFor(ctx.last_error);
  store::ResourceStore store(*docker);
  int rc = kExitOk;
  for (const auto& [kind, name] : targets) {
    auto st = store.Delete(kind, name);
    if (!st.ok()) {
      ctx.err << "error: " << st.error().message << "\n";
      if (st.error().Is(ErrorCode::kUnavailable)) return kExitUnreachable;
      rc = kExitInvalid;
      continue;
    }
    ctx.out << Ref(kind, name) << " deleted\n";
  }
  return rc;
}

}  // namespace sg::cli
