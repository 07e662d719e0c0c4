#pragma once
// A minimal synchronous websocket client (Boost.Beast) for end-to-end tests:
// connect with a chosen Host header, send text messages and read replies, every
// step bounded in time. Errors are returned as text, never thrown.
//
// Thread-safety: one WsClient is used by one thread at a time.

#include <memory>
#include <string>

#include "e2e/harness/harness.h"

namespace sg::e2e {

class WsClient {
 public:
  WsClient();
  ~WsClient();
  WsClient(const WsClient&) = delete;
  WsClient& operator=(const WsClient&) = delete;

  // TCP connect plus the HTTP upgrade. Returns "" or what failed.
  std::string Connect(const std::string& addr, int port, const std::string& target,
                      const std::string& host, Duration timeout = std::chrono::seconds(5));
  // Sends one text message. Returns "" or what failed.
  std::string Send(const std::string& text, Duration timeout = std::chrono::seconds(5));
  // Reads one message into `*text`. Returns "" or what failed.
  std::string Receive(std::string* text, Duration timeout = std::chrono::seconds(5));
  // Send then Receive; returns the reply or "error: ..." text.
  std::string Echo(const std::string& text, Duration timeout = std::chrono::seconds(5));
  // Sends a close frame (best effort) and drops the connection.
  void Close();
  bool connected() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace sg::e2e
