#pragma once
// Helpers shared by the crds tests.

#include <gtest/gtest.h>

#include <string>

#include "crds/loader.h"

namespace sg::crds::testing {

// "<path> @ line <n>: <message>" for every diagnostic, for failure output.
inline std::string Dump(const LoadResult& r) {
  std::string out;
  for (const Diagnostic& d : r.diagnostics) out += "  " + d.ToString() + "\n";
  return out;
}

// Whether `r` has an error on exactly `path`, on `line`, whose message
// contains `text`.
inline ::testing::AssertionResult HasError(const LoadResult& r, const std::string& path, int line,
                                           const std::string& text) {
  // The fallback message means RapidJSON rejected something the schema
  // walker could not explain: the two must always agree.
  for (const Diagnostic& d : r.diagnostics) {
    if (d.message.find("schema keyword") != std::string::npos) {
      return ::testing::AssertionFailure() << "unexplained schema error: " << d.ToString();
    }
  }
  for (const Diagnostic& d : r.diagnostics) {
    if (d.path == path && d.line == line && d.message.find(text) != std::string::npos) {
      return ::testing::AssertionSuccess();
    }
  }
  return ::testing::AssertionFailure()
         << "no error at " << path << " line " << line << " containing \"" << text << "\"; got:\n"
         << Dump(r);
}

// Lines 1-9 of a valid Route; `extra` continues its spec at line 10.
inline std::string RouteYaml(const std::string& extra = "", const std::string& name = "r1") {
  return "apiVersion: swarmgate.io/v1alpha1\n"
         "kind: Route\n"
         "metadata:\n"
         "  name: " +
         name +
         "\n"
         "spec:\n"
         "  serviceCluster: public\n"
         "  hosts: [a.example.com]\n"
         "  backends:\n"
         "    - {service: app, port: 8080}\n" +
         extra;
}

// Lines 1-5 of a valid ServiceCluster; `extra` continues its spec at line 6.
inline std::string ClusterYaml(const std::string& extra = "", const std::string& name = "c1") {
  return "apiVersion: swarmgate.io/v1alpha1\n"
         "kind: ServiceCluster\n"
         "metadata:\n"
         "  name: " +
         name +
         "\n"
         "spec:\n" +
         (extra.empty() ? std::string("  backendMode: task\n") : extra);
}

}  // namespace sg::crds::testing
