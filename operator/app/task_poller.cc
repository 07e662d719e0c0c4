#include "operator/app/task_poller.h"

#include <algorithm>

#include "operator/runtime/logging.h"

namespace sg::app {

TaskPoller::TaskPoller(docker::DockerClient& docker, runtime::Clock& clock, OnChange on_change,
                       TaskPollerOptions options)
    : docker_(docker), clock_(clock), on_change_(std::move(on_change)), options_(options) {}

void TaskPoller::MarkHot(const std::string& service_name) {
  std::lock_guard<std::mutex> lock(mu_);
  hot_until_[service_name] = clock_.Now() + options_.hot_for;
}

bool TaskPoller::AnyHot() {
  std::lock_guard<std::mutex> lock(mu_);
  auto now = clock_.Now();
  for (auto it = hot_until_.begin(); it != hot_until_.end();) {
    if (it->second < now) {
      it = hot_until_.erase(it);
    } else {
      ++it;
    }
  }
  return !hot_until_.empty();
}

Result<std::vector<std::string>> TaskPoller::PollOnce() {
  auto tasks = docker_.ListTasks({});
  if (!tasks.ok()) return tasks.error();
  auto services = docker_.ListServices({});
  if (!services.ok()) return services.error();
  if (on_listing_) on_listing_(*services, *tasks);
  std::map<std::string, std::string> name_of;
  for (const auto& s : *services) {
    name_of[s.id] = s.name;
    // A rolling update in progress keeps the service hot until it completes.
    if (s.update_state == "updating" || s.update_state == "rollback_started") MarkHot(s.name);
  }
  std::map<std::string, std::vector<std::string>> parts;
  for (const auto& t : *tasks) {
    std::string p = t.id + ":" + t.state + ":" + t.desired_state;
    for (const auto& n : t.networks) {
      for (const auto& a : n.addresses) p += ":" + a;
    }
    parts[t.service_id].push_back(std::move(p));
  }
  std::map<std::string, std::string> next;
  for (auto& [service, list] : parts) {
    std::sort(list.begin(), list.end());
    std::string fp;
    for (const auto& p : list) fp += p + ";";
    next[service] = std::move(fp);
  }
  std::vector<std::string> changed;
  // Not fingerprints_.empty(): a Swarm without tasks at the first poll still
  // has its baseline, and the first task after it is a change.
  bool first = !baselined_;
  baselined_ = true;
  for (const auto& [service, fp] : next) {
    auto it = fingerprints_.find(service);
    if (it == fingerprints_.end() || it->second != fp) changed.push_back(service);
  }
  for (const auto& [service, fp] : fingerprints_) {
    if (!next.count(service)) changed.push_back(service);
  }
  fingerprints_ = std::move(next);
  std::vector<std::string> names;
  if (first) return names;  // the initial sync already reconciles everything
  for (const auto& id : changed) {
    auto it = name_of.find(id);
    if (it != name_of.end()) names.push_back(it->second);
  }
  return names;
}

void TaskPoller::Run(runtime::StopSignal& stop) {
  auto log = runtime::NamedLogger("tasks");
  runtime::Backoff backoff;
  while (!stop.IsStopped()) {
    auto changed = PollOnce();
    auto wait = AnyHot() ? options_.fast_interval : options_.slow_interval;
    if (!changed.ok()) {
      log->warn("task poll failed error={}", changed.error().ToString());
      if (stop.WaitFor(clock_, backoff.Next())) return;
      continue;
    }
    backoff.Reset();
    for (const auto& name : *changed) {
      MarkHot(name);
      on_change_(name);
    }
    if (stop.WaitFor(clock_, wait)) return;
  }
}

}  // namespace sg::app
