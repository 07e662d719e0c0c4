#include "reconcilers/dataplane/proxy_data_plane.h"

#include <map>
#include <utility>

namespace sg::dataplane {
namespace {

// `text` with every line passed through `rewrite`; the names of the
// placeholder files it wrote added to *files.
std::string PointCertificatesAtPlaceholders(const std::string& text, const std::string& certs_dir,
                                            CertificateLineRewrite rewrite,
                                            std::vector<std::string>* files) {
  std::string out;
  out.reserve(text.size());
  const std::string prefix =
      certs_dir.empty() || certs_dir.back() == '/' ? certs_dir : certs_dir + "/";
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    rewrite(std::string_view(text.data() + start, end - start), prefix, &out, files);
    if (end < text.size()) out.push_back('\n');
    start = end + 1;
  }
  return out;
}

}  // namespace

ProxyDataPlane::ProxyDataPlane(ProxyEngine engine, ConfigValidator& validator,
                               std::string openssl_binary)
    : engine_(std::move(engine)), validator_(validator), placeholder_(std::move(openssl_binary)) {}

EngineConfig ProxyDataPlane::Render(const TrafficModel& model) const {
  return engine_.render(model);
}

bool ProxyDataPlane::CoveredByCheckOf(const EngineConfig& checked, const EngineConfig& next) const {
  return engine_.covered_by_check && engine_.covered_by_check(checked.text, next.text);
}

CheckOutcome ProxyDataPlane::CheckModel(const TrafficModel& model) {
  if (!engine_.check_model) return {OkStatus(), ""};
  return engine_.check_model(model);
}

CheckOutcome ProxyDataPlane::Check(const TrafficModel& model, const EngineConfig& config) {
  if (CheckOutcome refused = CheckModel(model); !refused.status.ok()) return refused;
  std::map<std::string, std::string> files;
  const std::string* text = &config.text;
  std::string rewritten;
  if (!engine_.certificate_files(model).empty()) {
    auto cert = placeholder_.Get();
    if (!cert.ok()) return {cert.error(), ""};
    std::vector<std::string> placeholders;
    rewritten = PointCertificatesAtPlaceholders(config.text, model.settings.certs_dir,
                                                engine_.point_at_placeholders, &placeholders);
    const std::string pem = cert->certificate_pem + cert->key_pem;
    for (const std::string& file : placeholders) files[file] = pem;
    text = &rewritten;
  }
  CheckOutcome out;
  out.status = validator_.Validate(*text, files);
  if (!out.status.ok()) {
    out.route = config.RouteAtLine(engine_.error_line(config, out.status.error().message));
  }
  return out;
}

std::string RouteOfMessage(const std::string& message) {
  static constexpr std::string_view kPrefix = "route \"";
  if (message.rfind(kPrefix, 0) != 0) return "";
  size_t end = message.find('"', kPrefix.size());
  if (end == std::string::npos) return "";
  return message.substr(kPrefix.size(), end - kPrefix.size());
}

}  // namespace sg::dataplane
