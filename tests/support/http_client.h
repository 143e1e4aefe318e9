// A blocking HTTP/1.1 client for tests that talk to a daemon on loopback.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace leeway::testing {

using HttpHeaders = std::vector<std::pair<std::string, std::string>>;

struct HttpReply {
  int status = 0;  // 0 when the server could not be reached
  std::string body;
  HttpHeaders headers;  // of the reply
};

// Sends one request to 127.0.0.1:port, with `headers` beside Host, and reads the reply.
HttpReply http_request(std::uint16_t port, const std::string& method, const std::string& target,
                       const std::string& body = "", const HttpHeaders& headers = {});

}  // namespace leeway::testing
