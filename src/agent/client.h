// The agent's side of HTTP: blocking requests to the server with the location's token, over
// libcurl's easy interface. One Client per thread (the check list's and the pusher's).
#pragma once

#include <atomic>
#include <string>

namespace leeway::agent {

struct ClientOptions {
  std::string server;   // base URL, e.g. https://leeway.example:8443
  std::string token;    // the location's token; sent as a Bearer token, never logged
  std::string ca_file;  // PEM bundle to trust instead of the system's; "" for the system's
};

struct Reply {
  long status = 0;    // 0: no HTTP answer (see error)
  std::string body;   // at most a few MiB
  std::string etag;   // the ETag header, if any
  std::string error;  // why there was no answer: curl's words
};

class Client {
 public:
  // `stop`, when it becomes true, aborts a request under way (a long poll) within ~100 ms.
  Client(ClientOptions options, const std::atomic<bool>& stop);
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // GET `path` (with its query), with If-None-Match when `etag` is not empty.
  Reply get(const std::string& path, const std::string& etag, long timeout_ms);
  // POST a JSON body.
  Reply post(const std::string& path, const std::string& body, long timeout_ms);

 private:
  Reply perform(const std::string& path, const std::string* body, const std::string& etag,
                long timeout_ms);

  ClientOptions options_;
  const std::atomic<bool>& stop_;
  void* curl_;  // CURL*, kept for its connection cache
};

}  // namespace leeway::agent
