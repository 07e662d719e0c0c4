#pragma once
// Every string of a traffic model that a renderer writes into a
// configuration, with the route it belongs to and the role it plays, so each
// engine checks them all with its own grammar (nginx::CheckModelStrings,
// haproxy::CheckModel) from one walk: a string added to the model is then
// checked by every engine or by none.
//
// Thread-safety: pure functions.

#include <functional>
#include <string_view>

#include "reconcilers/model/traffic_model.h"

namespace sg::model {

enum class StringRole {
  kWord,     // a configuration word: hosts, paths, addresses, files, URLs, settings
  kName,     // an identifier: upstream, backend and route names
  kArg,      // a header or cookie name
  kQuoted,   // a value written between quotes: header and cookie values
  kPattern,  // a regular expression written between quotes (backslashes kept)
};

struct ModelString {
  std::string_view route;  // "" for settings
  std::string_view field;  // "host", "upstream server", ... for messages
  std::string_view value;
  StringRole role;
};

// Calls `visit` for every string a renderer may write, in model order.
// Optional strings (a cookie name, the status address) are skipped when empty.
void ForEachModelString(const TrafficModel& m,
                        const std::function<void(const ModelString&)>& visit);

// Calls `visit` for every certificate of a virtual host or a redirect.
void ForEachCertificate(
    const TrafficModel& m,
    const std::function<void(std::string_view route, const TlsCertificate& tls)>& visit);

}  // namespace sg::model
