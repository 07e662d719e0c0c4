#include "operator/docker/docker_endpoint.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>

namespace sg::docker {
namespace {

TEST(DockerEndpointTest, DefaultsToLocalSocket) {
  auto ep = ResolveDockerEndpoint("", DockerEnv{});
  ASSERT_TRUE(ep.ok()) << ep.error().ToString();
  EXPECT_EQ(ep->kind, DockerEndpoint::Kind::kUnix);
  EXPECT_EQ(ep->socket_path, "/var/run/docker.sock");
  EXPECT_EQ(ep->url, "unix:///var/run/docker.sock");
  EXPECT_EQ(ep->HostHeader(), "docker");
  EXPECT_FALSE(ep->tls);
}

TEST(DockerEndpointTest, FlagBeatsEnvironment) {
  DockerEnv env;
  env.docker_host = "tcp://10.0.0.1:2375";
  auto ep = ResolveDockerEndpoint("unix:///run/sg.sock", env);
  ASSERT_TRUE(ep.ok());
  EXPECT_EQ(ep->socket_path, "/run/sg.sock");

  auto from_env = ResolveDockerEndpoint("", env);
  ASSERT_TRUE(from_env.ok());
  EXPECT_EQ(from_env->kind, DockerEndpoint::Kind::kTcp);
  EXPECT_EQ(from_env->host, "10.0.0.1");
  EXPECT_EQ(from_env->port, "2375");
  EXPECT_EQ(from_env->HostHeader(), "10.0.0.1:2375");
}

TEST(DockerEndpointTest, EmptyDockerHostFallsBackToDefault) {
  DockerEnv env;
  env.docker_host = "";
  auto ep = ResolveDockerEndpoint("", env);
  ASSERT_TRUE(ep.ok());
  EXPECT_EQ(ep->url, kDefaultDockerHost);
}

TEST(DockerEndpointTest, TcpForms) {
  struct Case {
    const char* url;
    const char* host;
    const char* port;
    bool tls;
  };
  const Case cases[] = {
      {"tcp://docker.example:2376", "docker.example", "2376", false},
      {"tcp://127.0.0.1", "127.0.0.1", "2375", false},
      {"http://127.0.0.1:80/", "127.0.0.1", "80", false},
      {"tcp://[::1]:2375", "::1", "2375", false},
      {"https://docker.example", "docker.example", "2376", true},
  };
  for (const auto& c : cases) {
    auto ep = ParseDockerEndpoint(c.url, false, false, "/nonexistent");
    ASSERT_TRUE(ep.ok()) << c.url << ": " << ep.error().ToString();
    EXPECT_EQ(ep->kind, DockerEndpoint::Kind::kTcp) << c.url;
    EXPECT_EQ(ep->host, c.host) << c.url;
    EXPECT_EQ(ep->port, c.port) << c.url;
    EXPECT_EQ(ep->tls, c.tls) << c.url;
  }
  EXPECT_EQ(ParseDockerEndpoint("tcp://[::1]:2375", false, false, "")->HostHeader(), "[::1]:2375");
}

TEST(DockerEndpointTest, ErrorsNameTheEndpoint) {
  const char* bad[] = {"docker.sock",     "ssh://host",         "unix://",
                       "tcp://:2375",     "tcp://host:",        "tcp://host:99999",
                       "tcp://host:12ab", "tcp://host:2375/v1", "tcp://[::1"};
  for (const char* url : bad) {
    auto ep = ParseDockerEndpoint(url, false, false, "");
    ASSERT_FALSE(ep.ok()) << url;
    EXPECT_TRUE(ep.error().Is(ErrorCode::kInvalidArgument));
    EXPECT_NE(ep.error().message.find(std::string("\"") + url + "\""), std::string::npos)
        << ep.error().message;
  }
}

class TlsEndpointTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/sg-endpoint-test-XXXXXX";
    dir_ = ::mkdtemp(tmpl);
  }
  void TearDown() override {
    for (const char* f : {"ca.pem", "cert.pem", "key.pem"}) ::unlink((dir_ + "/" + f).c_str());
    ::rmdir(dir_.c_str());
  }
  void Touch(const char* name) { std::ofstream(dir_ + "/" + name) << "x"; }
  std::string dir_;
};

TEST_F(TlsEndpointTest, TlsVerifyUsesCertPath) {
  Touch("ca.pem");
  Touch("cert.pem");
  Touch("key.pem");
  DockerEnv env;
  env.docker_host = "tcp://docker.example:2376";
  env.tls_verify = "1";
  env.cert_path = dir_;
  auto ep = ResolveDockerEndpoint("", env);
  ASSERT_TRUE(ep.ok()) << ep.error().ToString();
  EXPECT_TRUE(ep->tls);
  EXPECT_EQ(ep->ca_file, dir_ + "/ca.pem");
  EXPECT_EQ(ep->cert_file, dir_ + "/cert.pem");
  EXPECT_EQ(ep->key_file, dir_ + "/key.pem");
}

TEST_F(TlsEndpointTest, TlsVerifyDefaultsToHomeDotDocker) {
  DockerEnv env;
  env.docker_host = "tcp://docker.example:2376";
  env.tls_verify = "yes";
  env.home = dir_;
  auto ep = ResolveDockerEndpoint("", env);
  ASSERT_FALSE(ep.ok());
  EXPECT_NE(ep.error().message.find(dir_ + "/.docker/ca.pem does not exist"), std::string::npos)
      << ep.error().message;
  EXPECT_NE(ep.error().message.find("tcp://docker.example:2376"), std::string::npos);
}

TEST_F(TlsEndpointTest, TlsVerifyZeroOrEmptyIsOff) {
  for (const char* v : {"", "0"}) {
    DockerEnv env;
    env.docker_host = "tcp://docker.example:2375";
    env.tls_verify = v;
    env.cert_path = dir_;
    auto ep = ResolveDockerEndpoint("", env);
    ASSERT_TRUE(ep.ok());
    EXPECT_FALSE(ep->tls) << "DOCKER_TLS_VERIFY=" << v;
  }
}

TEST_F(TlsEndpointTest, HttpsUsesWhateverCertificatesExist) {
  Touch("ca.pem");
  DockerEnv env;
  env.cert_path = dir_;
  auto ep = ResolveDockerEndpoint("https://docker.example:2376", env);
  ASSERT_TRUE(ep.ok()) << ep.error().ToString();
  EXPECT_TRUE(ep->tls);
  EXPECT_EQ(ep->ca_file, dir_ + "/ca.pem");
  EXPECT_TRUE(ep->cert_file.empty());

  Touch("cert.pem");  // a certificate without its key is a mistake
  EXPECT_FALSE(ResolveDockerEndpoint("https://docker.example:2376", env).ok());
}

TEST_F(TlsEndpointTest, UnixSocketIgnoresTls) {
  DockerEnv env;
  env.tls_verify = "1";
  env.cert_path = dir_;
  auto ep = ResolveDockerEndpoint("unix:///run/docker.sock", env);
  ASSERT_TRUE(ep.ok());
  EXPECT_FALSE(ep->tls);
}

}  // namespace
}  // namespace sg::docker
