#pragma once
// Helpers both engines' renderers use to write a model in one canonical
// order (so the same model gives the same bytes whatever its input order)
// and to name its files.
//
// Thread-safety: pure functions.

#include <algorithm>
#include <string>
#include <string_view>
#include <vector>

#include "reconcilers/model/traffic_model.h"

namespace sg::model {

// Pointers to the elements of `v`, sorted by `less` (the model is not copied).
template <class T, class Less>
std::vector<const T*> SortedPtrs(const std::vector<T>& v, Less less) {
  std::vector<const T*> out;
  out.reserve(v.size());
  for (const T& x : v) out.push_back(&x);
  std::sort(out.begin(), out.end(), [&](const T* a, const T* b) { return less(*a, *b); });
  return out;
}

// Locations by path, then route.
bool LocationLess(const Location* a, const Location* b);

// "certs/shop-tls": certificate paths as the config names them.
std::string JoinCertPath(const Settings& s, const std::string& file);

// Strips trailing slashes: "/api/" and "/api" are one context root; "/" stays "/".
std::string_view BasePath(std::string_view path);

// Sorted, de-duplicated views of `hosts`.
std::vector<std::string_view> SortedHosts(const std::vector<std::string>& hosts);

// An upstream's servers by address.
std::vector<const UpstreamServer*> SortedServers(const Upstream& u);

}  // namespace sg::model
