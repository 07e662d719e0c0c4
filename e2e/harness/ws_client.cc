#include "e2e/harness/ws_client.h"

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>

namespace sg::e2e {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;

struct WsClient::Impl {
  asio::io_context ioc;
  std::unique_ptr<websocket::stream<tcp::socket>> ws;
  bool open = false;

  // Runs the io_context until `done` or `timeout`; on timeout closes the
  // socket so the pending operation completes with an error.
  bool RunFor(const bool& done, Duration timeout) {
    ioc.restart();
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!done && std::chrono::steady_clock::now() < deadline) {
      ioc.run_one_until(deadline);
    }
    if (done) return true;
    beast::error_code ignored;
    ws->next_layer().close(ignored);
    open = false;
    ioc.restart();
    while (!done) ioc.run_one_for(std::chrono::seconds(1));
    return false;
  }
};

WsClient::WsClient() : impl_(std::make_unique<Impl>()) {}
WsClient::~WsClient() { Close(); }

bool WsClient::connected() const { return impl_->open; }

std::string WsClient::Connect(const std::string& addr, int port, const std::string& target,
                              const std::string& host, Duration timeout) {
  Impl& m = *impl_;
  m.ws = std::make_unique<websocket::stream<tcp::socket>>(m.ioc);
  m.open = false;
  beast::error_code addr_ec;
  auto ip = asio::ip::make_address(addr, addr_ec);
  if (addr_ec) return "bad address " + addr + ": " + addr_ec.message();
  tcp::endpoint ep(ip, static_cast<unsigned short>(port));

  bool done = false;
  beast::error_code ec;
  m.ws->next_layer().async_connect(ep, [&](beast::error_code e) {
    ec = e;
    done = true;
  });
  if (!m.RunFor(done, timeout))
    return "connect to " + addr + ":" + std::to_string(port) + " timed out";
  if (ec) return "connect to " + addr + ":" + std::to_string(port) + ": " + ec.message();

  websocket::response_type res;
  done = false;
  m.ws->async_handshake(res, host, target, [&](beast::error_code e) {
    ec = e;
    done = true;
  });
  if (!m.RunFor(done, timeout)) return "websocket handshake timed out";
  if (ec) {
    return "websocket handshake: " + ec.message() + " (HTTP " + std::to_string(res.result_int()) +
           ")";
  }
  m.open = true;
  return "";
}

std::string WsClient::Send(const std::string& text, Duration timeout) {
  Impl& m = *impl_;
  if (!m.open) return "not connected";
  m.ws->text(true);
  bool done = false;
  beast::error_code ec;
  m.ws->async_write(asio::buffer(text), [&](beast::error_code e, size_t) {
    ec = e;
    done = true;
  });
  if (!m.RunFor(done, timeout)) return "write timed out";
  if (ec) {
    m.open = false;
    return "write: " + ec.message();
  }
  return "";
}

std::string WsClient::Receive(std::string* text, Duration timeout) {
  Impl& m = *impl_;
  if (!m.open) return "not connected";
  beast::flat_buffer buf;
  bool done = false;
  beast::error_code ec;
  m.ws->async_read(buf, [&](beast::error_code e, size_t) {
    ec = e;
    done = true;
  });
  if (!m.RunFor(done, timeout)) return "read timed out";
  if (ec) {
    m.open = false;
    return "read: " + ec.message();
  }
  *text = beast::buffers_to_string(buf.data());
  return "";
}

std::string WsClient::Echo(const std::string& text, Duration timeout) {
  std::string err = Send(text, timeout);
  if (!err.empty()) return "error: " + err;
  std::string reply;
  err = Receive(&reply, timeout);
  if (!err.empty()) return "error: " + err;
  return reply;
}

void WsClient::Close() {
  Impl& m = *impl_;
  if (!m.ws) return;
  if (m.open) {
    bool done = false;
    m.ws->async_close(websocket::close_code::normal, [&](beast::error_code) { done = true; });
    m.RunFor(done, std::chrono::seconds(2));
  }
  beast::error_code ignored;
  m.ws->next_layer().close(ignored);
  m.open = false;
}

}  // namespace sg::e2e
