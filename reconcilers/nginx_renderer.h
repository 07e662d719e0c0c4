#pragma once
// Renders the nginx model into nginx.conf. RenderNginxConfig is a pure function:
// the same model gives the same bytes whatever the order of its lists (they are
// sorted), and the output holds no timestamp or generation, so "identical output ->
// no delivery" holds. Thread-safe: no shared state.

#include <string>
#include <string_view>
#include <vector>

#include "operator/common/result.h"
#include "reconcilers/nginx_model.h"

namespace sg::nginx {

std::string RenderNginxConfig(const ProxyModel& model);

// A token nginx reads as one word: printable ASCII without whitespace, quotes,
// backslash, ';', '{', '}', '$' or '#'.
bool IsSafeToken(std::string_view s);
// A value the renderer puts between double quotes: printable ASCII (space allowed)
// without quotes, backslash or '$'.
bool IsSafeQuoted(std::string_view s);

// Reports the first model string the renderer would have to neutralise, naming
// its route and field. The API grammars make this unreachable; builders call it
// as defence in depth to mark the route Degraded instead of serving a mangled
// config. RenderNginxConfig itself never emits an unsafe string: it replaces the
// offending characters with '_'.
sg::Status CheckModelStrings(const ProxyModel& model);

// Certificate and key paths the rendered config reads, as written in it
// (certs_dir joined), sorted and unique. `nginx -t` needs these files to exist.
std::vector<std::string> CertificateFiles(const ProxyModel& model);

}  // namespace sg::nginx
