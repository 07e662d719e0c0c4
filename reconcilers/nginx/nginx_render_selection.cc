// A location's backend selection as nginx variables: split_clients for the
// weighted splits, maps for the canary rule and sticky-session cookies. The
// shares and the fallbacks were decided by the builder (model/backend_selection.h);
// this only spells them. Every line is written for the location's route.

#include <string>
#include <string_view>

#include "reconcilers/nginx/nginx_render.h"

namespace sg::nginx::internal {

// The variable holding a cookie's value. Names nginx can spell as a variable
// use $cookie_NAME; others are extracted from the Cookie header once.
std::string ConfigRenderer::CookieVar(const std::string& name) {
  if (IsVariableName(name)) return "$cookie_" + name;
  std::string var = "$sg_ckx_" + Hex(name);
  if (cookie_maps_.emplace(var, true).second) {
    maps_ << "    map $http_cookie " << var << " {\n";
    // The cookie name is a literal inside the regex; $1 is its value.
    maps_ << "        \"~(?:^|;)\\s*" << CookieNamePattern{name}
          << "=([^;]*)\" $1;\n        default \"\";\n    }\n";
  }
  return var;
}

std::string ConfigRenderer::CookieSuffix(const std::string& name) {
  return IsVariableName(name) ? "_" + name : "x_" + Hex(name);
}

// $sg_sk_NAME: the sticky hash key — the cookie, or for a new client its
// request id. $sg_ss_NAME: the Set-Cookie value for new clients, empty (no
// header) for clients that already have the cookie.
std::string ConfigRenderer::StickyKeyVar(const std::string& cookie) {
  std::string suffix = CookieSuffix(cookie);
  std::string var = "$sg_sk" + suffix;
  if (sticky_maps_.emplace(suffix, true).second) {
    std::string cv = CookieVar(cookie);
    maps_ << "    map " << cv << ' ' << var << " {\n"
          << "        \"\" $request_id;\n"
          << "        default " << cv << ";\n    }\n";
    maps_ << "    map " << cv << " $sg_ss" << suffix << " {\n"
          << "        \"\" \"" << Tok(cookie) << "=$request_id; Path=/; HttpOnly; SameSite=Lax\";\n"
          << "        default \"\";\n    }\n";
  }
  return var;
}

// Emits split_clients for `split` keyed by `key` into variable `var`, or
// returns the single upstream's name.
std::string ConfigRenderer::EmitSplit(const std::vector<model::WeightedUpstream>& split,
                                      const std::string& key, const std::string& var,
                                      std::string_view route) {
  // The name may end up as a map value: sanitise it like any other token.
  if (split.size() == 1) return SafeToken(split[0].upstream);
  // split_clients hashes the key of each request: with $request_id (random per
  // request) every request is split independently by weight, whatever the
  // replica counts. Percentages have two decimals; the last backend takes the
  // rounding remainder through "*". Sticky routes key on the session cookie
  // instead so a session keeps its backend service too.
  maps_ << "    # route " << Tok(route) << "\n";
  maps_ << "    split_clients \"" << key << "\" " << var << " {\n";
  for (size_t i = 0; i < split.size(); ++i) {
    const model::WeightedUpstream& w = split[i];
    if (i + 1 == split.size()) {
      maps_ << "        * " << Tok(w.upstream) << ";\n";
      break;
    }
    int bp = w.basis_points;
    maps_ << "        " << bp / 100;
    if (bp % 100 != 0) {
      maps_ << '.' << static_cast<char>('0' + (bp % 100) / 10);
      if (bp % 10 != 0) maps_ << static_cast<char>('0' + bp % 10);
    }
    maps_ << "% " << Tok(w.upstream) << ";\n";
  }
  maps_ << "    }\n";
  return var;
}

// Returns what proxy_pass targets for `loc`: "" (no endpoints: 503), an
// upstream name, or a "$variable" naming one.
std::string ConfigRenderer::Target(const model::Location& loc) {
  // One set of variables per route; a route rendered on several hosts shares it.
  auto& variants = selections_[loc.route];
  for (const auto& [other, target] : variants) {
    if (other->selection == loc.selection && other->canary == loc.canary) return target;
  }
  RouteScope scope(maps_, loc.route);
  std::string target = EmitTarget(loc, variants.size());
  variants.emplace_back(&loc, target);
  return target;
}

std::string ConfigRenderer::EmitTarget(const model::Location& loc, size_t variant) {
  const model::BackendSelection& sel = loc.selection;
  if (sel.split.empty()) return "";
  std::string key = sel.sticky_cookie.empty() ? "${request_id}" : StickyKeyVar(sel.sticky_cookie);
  std::string id = IdentString(loc.route);
  std::string v = variant == 0 ? "" : std::to_string(variant + 1);
  std::string normal = EmitSplit(sel.split, key, "$sg_w" + v + "_" + id, loc.route);
  if (sel.canary_split.empty()) return normal;
  std::string canary_target = EmitSplit(sel.canary_split, key, "$sg_cw" + v + "_" + id, loc.route);

  const model::CanaryRule& rule = loc.canary;
  std::string next = normal;
  if (!rule.cookie_name.empty()) {
    std::string var = "$sg_c" + v + "_" + id;
    // CookieVar may itself write a map into maps_: call it before streaming.
    std::string cookie_var = CookieVar(rule.cookie_name);
    maps_ << "    # route " << Tok(loc.route) << ": canary cookie " << Tok(rule.cookie_name)
          << "\n";
    maps_ << "    map " << cookie_var << ' ' << var << " {\n";
    MatchArms(rule.cookie_value, canary_target, next);
    next = var;
  }
  if (!rule.header_name.empty()) {
    std::string var = "$sg_h" + v + "_" + id;
    maps_ << "    # route " << Tok(loc.route) << ": canary header " << Tok(rule.header_name)
          << "\n";
    maps_ << "    map " << HeaderVar{rule.header_name} << ' ' << var << " {\n";
    MatchArms(rule.header_value, canary_target, next);
    next = var;
  }
  return next;
}

// Map arms: `value` (or, when empty, any non-empty value) -> on_match.
// Header and cookie values compare exactly, case included: a plain string
// key would match "ALWAYS" for "always".
void ConfigRenderer::MatchArms(const std::string& value, const std::string& on_match,
                               const std::string& other) {
  if (value.empty()) {
    maps_ << "        \"\" " << other << ";\n        default " << on_match << ";\n    }\n";
    return;
  }
  maps_ << "        " << ExactMapKey{value} << ' ' << on_match << ";\n        default " << other
        << ";\n    }\n";
}

}  // namespace sg::nginx::internal
