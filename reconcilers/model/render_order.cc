#include "reconcilers/model/render_order.h"

#include <tuple>

namespace sg::model {

bool LocationLess(const Location* a, const Location* b) {
  return std::tie(a->path, a->route) < std::tie(b->path, b->route);
}

std::string JoinCertPath(const Settings& s, const std::string& file) {
  if (file.empty() || file[0] == '/' || s.certs_dir.empty()) return file;
  std::string p = s.certs_dir;
  if (p.back() != '/') p.push_back('/');
  return p + file;
}

std::string_view BasePath(std::string_view path) {
  while (path.size() > 1 && path.back() == '/') path.remove_suffix(1);
  return path.empty() ? std::string_view("/") : path;
}

std::vector<std::string_view> SortedHosts(const std::vector<std::string>& hosts) {
  std::vector<std::string_view> out(hosts.begin(), hosts.end());
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

std::vector<const UpstreamServer*> SortedServers(const Upstream& u) {
  return SortedPtrs(u.servers, [](const UpstreamServer& a, const UpstreamServer& b) {
    return std::tie(a.address, a.weight) < std::tie(b.address, b.weight);
  });
}

}  // namespace sg::model
