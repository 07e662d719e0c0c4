#pragma once
// A stored resource as the CLI shows it: spec fields for table columns and
// the status conditions, read from the stored JSON without the typed decoder
// so that `get` still shows resources written by a newer version.

#include <chrono>
#include <string>
#include <vector>

#include <rapidjson/document.h>

#include "operator/store/resource_store.h"

namespace sg::cli {

struct ConditionView {
  std::string type, status, reason, message, last_transition_time;
};

class ResourceView {
 public:
  explicit ResourceView(store::StoredResource stored);

  const store::StoredResource& stored() const { return stored_; }
  // "True", "False" or "Unknown" (no status yet, or status of an older generation).
  std::string Ready() const;
  std::vector<ConditionView> Conditions() const;
  int64_t ObservedGeneration() const;
  std::vector<std::string> Endpoints() const;
  std::string SpecString(const char* field) const;                // spec.<field> if a string
  std::vector<std::string> SpecStrings(const char* field) const;  // spec.<field> if a string array
  std::vector<std::string> BackendSummaries() const;              // "svc:8080 w90 (canary)"
  std::string ProxyReplicas() const;  // clusters: "running/desired" from status, or "-/desired"

  // {apiVersion, kind, metadata{name, labels, generation, creationTimestamp}, spec, status}
  void ToDocument(rapidjson::Document* doc) const;
  std::string KindLower() const;  // "route" | "servicecluster"

 private:
  store::StoredResource stored_;
  rapidjson::Document data_;
  rapidjson::Document status_;
};

}  // namespace sg::cli
