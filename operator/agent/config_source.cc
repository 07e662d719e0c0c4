#include "operator/agent/config_source.h"

#include <fstream>
#include <sstream>
#include <utility>

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "operator/delivery/config_hub.h"
#include "operator/runtime/logging.h"

namespace sg::agent {
namespace {

const std::shared_ptr<spdlog::logger>& Log() {
  static const auto logger = runtime::NamedLogger("agent");
  return logger;
}

constexpr std::chrono::seconds kReportTimeout{10};
// Beyond the server's long-poll window: the hub answers 304 at `wait`.
constexpr std::chrono::seconds kFetchMargin{15};

Error ErrorForStatus(const HttpReply& reply, const std::string& what) {
  std::string body = reply.body.substr(0, 200);
  while (!body.empty() && (body.back() == '\n' || body.back() == '\r')) body.pop_back();
  const std::string msg = what + ": HTTP " + std::to_string(reply.status) + " " + body;
  switch (reply.status) {
    case 401:
    case 403:
      return InvalidArgument(msg + " (check the token secret)");
    case 404:
      return NotFound(msg);
    default:
      return Unavailable(msg);
  }
}

}  // namespace

HttpConfigSource::HttpConfigSource(HttpEndpoint endpoint, std::string cluster, std::string proxy_id,
                                   std::string token)
    : cluster_(std::move(cluster)),
      proxy_id_(std::move(proxy_id)),
      token_(std::move(token)),
      base_path_(endpoint.base_path),
      client_(endpoint) {}

Result<std::optional<FetchedConfig>> HttpConfigSource::Fetch(std::int64_t after,
                                                             const std::string& serving,
                                                             std::chrono::seconds wait) {
  HttpCall call;
  call.method = "GET";
  call.target = base_path_ + delivery::kConfigPath + "?cluster=" + QueryEscape(cluster_) +
                "&after=" + std::to_string(after) + "&wait=" + std::to_string(wait.count()) +
                "&proxy=" + QueryEscape(proxy_id_);
  if (!serving.empty()) call.target += "&serving=" + QueryEscape(serving);
  call.headers.emplace_back("Authorization", "Bearer " + token_);
  auto reply = client_.Do(call, wait + kFetchMargin);
  if (!reply.ok()) return reply.error();
  if (reply->status == 304) return std::optional<FetchedConfig>();
  if (reply->status != 200) return ErrorForStatus(*reply, "config request");
  FetchedConfig cfg;
  const std::string gen = reply->Header("x-swarmgate-generation");
  try {
    std::size_t used = 0;
    cfg.generation = std::stoll(gen, &used);
    if (used != gen.size() || cfg.generation <= 0) throw std::invalid_argument(gen);
  } catch (const std::exception&) {
    return Internal("config answer without a valid " + std::string(delivery::kGenerationHeader) +
                    " header");
  }
  cfg.text = std::move(reply->body);
  return std::optional<FetchedConfig>(std::move(cfg));
}

Status HttpConfigSource::Report(std::int64_t generation, bool ok, const std::string& message) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  w.StartObject();
  w.Key("cluster");
  w.String(cluster_.c_str(), static_cast<rapidjson::SizeType>(cluster_.size()));
  w.Key("proxy");
  w.String(proxy_id_.c_str(), static_cast<rapidjson::SizeType>(proxy_id_.size()));
  w.Key("generation");
  w.Int64(generation);
  w.Key("ok");
  w.Bool(ok);
  w.Key("message");
  w.String(message.c_str(), static_cast<rapidjson::SizeType>(message.size()));
  w.EndObject();

  HttpCall call;
  call.method = "POST";
  call.target = base_path_ + delivery::kReportPath;
  call.headers.emplace_back("Authorization", "Bearer " + token_);
  call.body = buf.GetString();
  call.content_type = "application/json";
  std::lock_guard<std::mutex> l(report_mu_);
  auto reply = client_.Do(call, kReportTimeout);
  if (!reply.ok()) return reply.error();
  if (reply->status != 204 && reply->status != 200) return ErrorForStatus(*reply, "report");
  return OkStatus();
}

void HttpConfigSource::Cancel() { client_.Cancel(); }

StaticFileSource::StaticFileSource(std::string path, runtime::Clock& clock)
    : path_(std::move(path)), clock_(clock) {}

Result<std::optional<FetchedConfig>> StaticFileSource::Fetch(std::int64_t after,
                                                             const std::string& serving,
                                                             std::chrono::seconds wait) {
  (void)serving;  // one file, one source of truth: nothing to recognise
  // The first answer is immediate; later ones only after a poll interval, so
  // an unchanged file does not make the caller spin.
  if (generation_ > 0 && after == generation_ && cancelled_.WaitFor(clock_, wait)) {
    return Unavailable("cancelled");
  }
  std::ifstream f(path_, std::ios::binary);
  if (!f) return NotFound("cannot read config file " + path_);
  std::ostringstream s;
  s << f.rdbuf();
  std::string text = s.str();
  if (generation_ > 0 && text == last_ && after == generation_) {
    return std::optional<FetchedConfig>();
  }
  if (generation_ == 0 || text != last_) {
    ++generation_;
    last_ = text;
  }
  return std::optional<FetchedConfig>(FetchedConfig{generation_, std::move(text)});
}

Status StaticFileSource::Report(std::int64_t generation, bool ok, const std::string& message) {
  if (ok) {
    Log()->info("serving config file path={} generation={}", path_, generation);
  } else {
    Log()->error("config file rejected path={} generation={} error=\"{}\"", path_, generation,
                 message);
  }
  return OkStatus();
}

void StaticFileSource::Cancel() { cancelled_.Stop(); }

}  // namespace sg::agent
