// Where an agent's checks come from: the server (GET /api/v1/agent/checks, long polled with the
// list's ETag, so a reload reaches the agent within a moment), and the copy of the last list kept
// on disk, so an agent keeps checking while the server is away, across its own restarts.
#pragma once

#include <atomic>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "agent/client.h"
#include "agent/wire.h"

namespace leeway::agent {

class CheckSource {
 public:
  using OnList = std::function<void(std::vector<AgentCheck>)>;

  // `saved_path` is where the last list is kept. `on_list` is called from the source's thread
  // with every new list.
  CheckSource(ClientOptions client, std::string location, std::string saved_path, OnList on_list);
  // Calls stop().
  ~CheckSource();

  // Hands on the saved list, if any (before returning), then follows the server on a thread.
  void start();
  // Ends the thread, aborting a long poll under way.
  void stop();

 private:
  void run();
  void save(const std::string& body, const std::string& etag);

  ClientOptions client_;
  std::string location_;
  std::string saved_path_;
  OnList on_list_;
  std::string etag_;  // of the list in hand
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace leeway::agent
