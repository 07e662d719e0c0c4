// EngineClient and HttpTransport against a scripted server on a unix socket:
// the wire details a real engine does not let us provoke on demand.
#include "operator/docker/engine_client.h"

#include <gtest/gtest.h>

#include <chrono>
#include <mutex>
#include <thread>

#include "operator/testing/test_unix_http_server.h"

namespace sg::docker {
namespace {

using testing::TestRequest;
using testing::TestSocket;
using testing::TestUnixHttpServer;
using testing::WriteRaw;
using testing::WriteResponse;

constexpr char kVersion141[] = R"({"Version":"20.10.24+dfsg1","ApiVersion":"1.41"})";

DockerEndpoint EndpointOf(const TestUnixHttpServer& server) {
  auto ep = ParseDockerEndpoint(server.url(), false, false, "");
  EXPECT_TRUE(ep.ok());
  return *ep;
}

struct Observed {
  std::string method, endpoint;
  int code;
};

TEST(EngineClientTest, ConnectFailureNamesEndpointAndCause) {
  auto ep = ParseDockerEndpoint("unix:///nonexistent-dir/x.sock", false, false, "");
  auto client = EngineClient::Connect(*ep);
  ASSERT_FALSE(client.ok());
  EXPECT_TRUE(client.error().Is(ErrorCode::kUnavailable));
  EXPECT_EQ(client.error().message,
            "cannot connect to unix:///nonexistent-dir/x.sock: No such file or directory");
}

TEST(EngineClientTest, RejectsOldApi) {
  TestUnixHttpServer server([](const TestRequest& req, TestSocket& s) {
    EXPECT_EQ(req.target(), "/version");  // unversioned: old engines refuse /v1.41
    WriteResponse(s, 200, R"({"Version":"19.03.15","ApiVersion":"1.40"})");
    return true;
  });
  auto client = EngineClient::Connect(EndpointOf(server));
  ASSERT_FALSE(client.ok());
  EXPECT_EQ(client.error().message,
            "Docker API 1.40 at " + server.url() + " is too old: swarmgate needs >= 1.41");
}

TEST(EngineClientTest, SendsWellFormedRequestsAndReusesConnection) {
  std::mutex mu;
  std::vector<TestRequest> seen;
  TestUnixHttpServer server([&](const TestRequest& req, TestSocket& s) {
    {
      std::lock_guard<std::mutex> lock(mu);
      seen.push_back(req);
    }
    if (req.target() == "/version") {
      WriteResponse(s, 200, kVersion141);
    } else if (req.target().starts_with("/v1.41/configs?")) {
      WriteResponse(s, 200,
                    R"([{"ID":"c1","Version":{"Index":7},"Spec":{"Name":"n","Data":"aGkK"}}])");
    } else if (req.target() == "/v1.41/configs/create") {
      WriteResponse(s, 201, R"({"ID":"c2"})");
    } else {
      WriteResponse(s, 404, R"({"message":"page not found"})");
    }
    return true;
  });
  std::vector<Observed> observed;
  EngineClientOptions opts;
  opts.observer = [&](std::string_view m, std::string_view e, int code, double secs) {
    EXPECT_GE(secs, 0.0);
    observed.push_back({std::string(m), std::string(e), code});
  };
  auto client = EngineClient::Connect(EndpointOf(server), opts);
  ASSERT_TRUE(client.ok()) << client.error().ToString();

  auto configs = (*client)->ListConfigs({{"label", {"a=b"}}});
  ASSERT_TRUE(configs.ok()) << configs.error().ToString();
  ASSERT_EQ(configs->size(), 1u);
  EXPECT_EQ((*configs)[0].spec.data, "hi\n");
  auto id = (*client)->CreateConfig({"n2", {}, "x"});
  ASSERT_TRUE(id.ok());
  EXPECT_EQ(*id, "c2");

  std::lock_guard<std::mutex> lock(mu);
  ASSERT_EQ(seen.size(), 3u);
  EXPECT_EQ(seen[1].target(), "/v1.41/configs?filters=%7B%22label%22%3A%5B%22a%3Db%22%5D%7D");
  EXPECT_EQ(seen[1][boost::beast::http::field::host], "docker");
  EXPECT_EQ(seen[2].method_string(), "POST");
  EXPECT_EQ(seen[2][boost::beast::http::field::content_type], "application/json");
  EXPECT_EQ(seen[2].body(), R"({"Name":"n2","Labels":{},"Data":"eA=="})");
  EXPECT_EQ(server.connections(), 1);  // keep-alive

  ASSERT_EQ(observed.size(), 3u);
  EXPECT_EQ(observed[0].endpoint, "/version");
  EXPECT_EQ(observed[1].method, "GET");
  EXPECT_EQ(observed[1].endpoint, "/configs");
  EXPECT_EQ(observed[2].endpoint, "/configs/create");
  EXPECT_EQ(observed[2].code, 201);
}

TEST(EngineClientTest, MapsErrorsAndTemplatesEndpoints) {
  TestUnixHttpServer server([](const TestRequest& req, TestSocket& s) {
    if (req.target() == "/version") {
      WriteResponse(s, 200, kVersion141);
    } else if (req.target() == "/v1.41/configs/abc/update?version=3") {
      WriteResponse(s, 500,
                    R"({"message":"rpc error: code = Unknown desc = update out of sequence"})");
    } else if (req.target() == "/v1.41/services/web?insertDefaults=false") {
      WriteResponse(s, 404, R"({"message":"service web not found"})");
    } else {
      WriteResponse(s, 503, R"({"message":"This node is not a swarm manager."})");
    }
    return true;
  });
  std::vector<Observed> observed;
  EngineClientOptions opts;
  opts.observer = [&](std::string_view m, std::string_view e, int code, double) {
    observed.push_back({std::string(m), std::string(e), code});
  };
  auto client = EngineClient::Connect(EndpointOf(server), opts);
  ASSERT_TRUE(client.ok());

  Status st = (*client)->UpdateConfig("abc", 3, {"n", {}, "x"});
  ASSERT_FALSE(st.ok());
  EXPECT_TRUE(st.error().Is(ErrorCode::kConflict));
  EXPECT_EQ(st.error().message, "rpc error: code = Unknown desc = update out of sequence");

  auto svc = (*client)->InspectService("web");
  ASSERT_FALSE(svc.ok());
  EXPECT_TRUE(svc.error().Is(ErrorCode::kNotFound));

  auto swarm = (*client)->InspectSwarm();
  ASSERT_FALSE(swarm.ok());
  EXPECT_TRUE(swarm.error().Is(ErrorCode::kUnavailable));
  EXPECT_NE(swarm.error().message.find(server.url()), std::string::npos);
  EXPECT_NE(swarm.error().message.find("This node is not a swarm manager."), std::string::npos);

  ASSERT_EQ(observed.size(), 4u);
  EXPECT_EQ(observed[1].method, "POST");
  EXPECT_EQ(observed[1].endpoint, "/configs/{id}/update");
  EXPECT_EQ(observed[1].code, 500);
  EXPECT_EQ(observed[2].endpoint, "/services/{id}");
  EXPECT_EQ(observed[3].endpoint, "/swarm");
}

TEST(EngineClientTest, RetriesOnceWhenIdleConnectionWasClosed) {
  // Answers every request, then closes the connection without saying so
  // (no "Connection: close"), as an engine dropping idle clients would.
  TestUnixHttpServer server([](const TestRequest&, TestSocket& s) {
    WriteResponse(s, 200, kVersion141);
    return false;
  });
  auto client = EngineClient::Connect(EndpointOf(server));
  ASSERT_TRUE(client.ok()) << client.error().ToString();
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  for (int i = 0; i < 3; ++i) {
    auto v = (*client)->Version();
    ASSERT_TRUE(v.ok()) << v.error().ToString();
  }
  EXPECT_EQ(server.requests(), 4);
}

TEST(EngineClientTest, RequestTimeoutIsUnavailable) {
  TestUnixHttpServer server([](const TestRequest& req, TestSocket& s) {
    if (req.target() == "/version") {
      WriteResponse(s, 200, kVersion141);
      return true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(800));  // never in time
    return false;
  });
  EngineClientOptions opts;
  opts.transport.request_timeout = std::chrono::milliseconds(200);
  auto client = EngineClient::Connect(EndpointOf(server), opts);
  ASSERT_TRUE(client.ok());
  auto start = std::chrono::steady_clock::now();
  auto nodes = (*client)->ListNodes({});
  auto elapsed = std::chrono::steady_clock::now() - start;
  ASSERT_FALSE(nodes.ok());
  EXPECT_TRUE(nodes.error().Is(ErrorCode::kUnavailable));
  EXPECT_EQ(nodes.error().message,
            "GET /v1.41/nodes to " + server.url() + " timed out after 200ms");
  EXPECT_LT(elapsed, std::chrono::milliseconds(700));
}

// The stream server: header, then events split at awkward places across
// chunks, then silence until the client goes away.
bool ServeEvents(const TestRequest& req, TestSocket& s) {
  if (req.target() == "/version") {
    WriteResponse(s, 200, kVersion141);
    return true;
  }
  EXPECT_EQ(req.target(),
            "/v1.41/events?since=100.5&filters=%7B%22type%22%3A%5B%22config%22%5D%7D");
  auto chunk = [&](const std::string& data) {
    char size[16];
    std::snprintf(size, sizeof(size), "%zx\r\n", data.size());
    return WriteRaw(s, size + data + "\r\n");
  };
  WriteRaw(s,
           "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
           "Transfer-Encoding: chunked\r\n\r\n");
  const std::string e1 =
      R"({"Type":"config","Action":"create","Actor":{"ID":"c1","Attributes":{"name":"a"}},"scope":"swarm","time":101,"timeNano":101000000000})";
  const std::string e2 =
      R"({"Type":"config","Action":"remove","Actor":{"ID":"c1","Attributes":{"name":"a"}},"scope":"swarm","time":102,"timeNano":102000000000})";
  chunk(e1.substr(0, 10));
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  chunk(e1.substr(10) + "\n" + e2.substr(0, 30));
  chunk(e2.substr(30) + "\nnot json\n");
  // Then silence: block until the client hangs up.
  char byte;
  boost::system::error_code ec;
  s.read_some(boost::asio::buffer(&byte, 1), ec);
  return false;
}

TEST(EngineClientTest, StreamsEventsAcrossChunksAndStopsOnCancel) {
  TestUnixHttpServer server(ServeEvents);
  int header_code = -1;
  EngineClientOptions opts;
  opts.observer = [&](std::string_view, std::string_view e, int code, double) {
    if (e == "/events") header_code = code;
  };
  auto client = EngineClient::Connect(EndpointOf(server), opts);
  ASSERT_TRUE(client.ok());

  std::atomic<bool> cancel{false};
  std::vector<Event> events;
  std::mutex mu;
  EventOptions eo;
  eo.since = "100.5";
  eo.filters = {{"type", {"config"}}};
  Status result;
  std::thread streamer([&] {
    result = (*client)->StreamEvents(
        eo,
        [&](const Event& e) {
          std::lock_guard<std::mutex> lock(mu);
          events.push_back(e);
          return true;
        },
        cancel);
  });
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  for (;;) {
    {
      std::lock_guard<std::mutex> lock(mu);
      if (events.size() >= 2 || std::chrono::steady_clock::now() > deadline) break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  auto cancelled_at = std::chrono::steady_clock::now();
  cancel = true;
  streamer.join();
  EXPECT_LT(std::chrono::steady_clock::now() - cancelled_at, std::chrono::seconds(1));
  EXPECT_TRUE(result.ok()) << result.error().ToString();
  ASSERT_EQ(events.size(), 2u);  // the malformed line is skipped
  EXPECT_EQ(events[0].action, "create");
  EXPECT_EQ(events[0].attributes.at("name"), "a");
  EXPECT_EQ(events[1].action, "remove");
  EXPECT_EQ(events[1].time, 102);
  EXPECT_EQ(header_code, 200);
}

TEST(EngineClientTest, StreamStoppedByCallbackAndErrorAnswer) {
  TestUnixHttpServer server([](const TestRequest& req, TestSocket& s) {
    if (req.target() == "/version") {
      WriteResponse(s, 200, kVersion141);
      return true;
    }
    if (req.target().find("until=") != std::string::npos) {
      WriteResponse(s, 400, R"({"message":"invalid filter 'bogus'"})");
      return true;
    }
    return ServeEvents(req, s);
  });
  auto client = EngineClient::Connect(EndpointOf(server));
  ASSERT_TRUE(client.ok());
  std::atomic<bool> cancel{false};
  EventOptions eo;
  eo.since = "100.5";
  eo.filters = {{"type", {"config"}}};
  int n = 0;
  Status st = (*client)->StreamEvents(
      eo, [&](const Event&) { return ++n < 1; }, cancel);
  EXPECT_TRUE(st.ok());
  EXPECT_EQ(n, 1);

  eo.until = "200";
  st = (*client)->StreamEvents(
      eo, [&](const Event&) { return true; }, cancel);
  ASSERT_FALSE(st.ok());
  EXPECT_TRUE(st.error().Is(ErrorCode::kInvalidArgument));
  EXPECT_EQ(st.error().message, "invalid filter 'bogus'");
}

TEST(EngineClientTest, ConcurrentCallsAreSafe) {
  TestUnixHttpServer server([](const TestRequest& req, TestSocket& s) {
    if (req.target() == "/version") {
      WriteResponse(s, 200, kVersion141);
    } else {
      WriteResponse(s, 200, "[]");
    }
    return true;
  });
  auto client = EngineClient::Connect(EndpointOf(server));
  ASSERT_TRUE(client.ok());
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 25; ++i) {
        if ((*client)->ListServices({}).ok()) ++ok;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), 200);
  EXPECT_LE(server.connections(), 9);
}

}  // namespace
}  // namespace sg::docker
