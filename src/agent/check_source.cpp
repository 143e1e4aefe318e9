// The agent's check list: long polled from the server, kept on disk (see check_source.h).
#include "agent/check_source.h"

#include <fmt/format.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "core/text.h"

namespace leeway::agent {

using nlohmann::json;

CheckSource::CheckSource(ClientOptions client, std::string location, std::string saved_path,
                         OnList on_list)
    : client_(std::move(client)),
      location_(std::move(location)),
      saved_path_(std::move(saved_path)),
      on_list_(std::move(on_list)) {}

CheckSource::~CheckSource() {
  stop();
}

void CheckSource::start() {
  std::ifstream in(saved_path_);
  if (in) {
    std::stringstream text;
    text << in.rdbuf();
    json saved = json::parse(text.str(), nullptr, false);
    auto list = saved.is_object() && saved.contains("list")
                    ? check_list_from_json(saved["list"])
                    : Result<std::vector<AgentCheck>>(fail("not a saved check list"));
    if (list) {
      etag_ = saved.value("etag", "");
      std::cerr << fmt::format("leeway agent: {} checks from the saved list {}\n", list->size(),
                               saved_path_);
      on_list_(std::move(*list));
    } else {
      std::cerr << fmt::format("leeway agent: ignoring the saved list {}: {}\n", saved_path_,
                               list.error().message);
    }
  }
  thread_ = std::thread([this] { run(); });
}

void CheckSource::stop() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
}

void CheckSource::save(const std::string& body, const std::string& etag) {
  // Whole or not at all: a new file renamed over the old one.
  std::string temp = saved_path_ + ".tmp";
  {
    std::ofstream out(temp, std::ios::trunc);
    out << R"({"etag":)" << json(etag).dump() << R"(,"list":)" << body << "}";
    if (!out) return;
  }
  std::rename(temp.c_str(), saved_path_.c_str());
}

void CheckSource::run() {
  Client client(client_, stop_);
  std::chrono::milliseconds backoff{0};
  bool failing = false;
  const std::string path =
      fmt::format("/api/v1/agent/checks?location={}&wait={}", location_, kLongPollWaitS);
  while (!stop_) {
    if (backoff.count() > 0) {
      for (auto waited = std::chrono::milliseconds(0); waited < backoff && !stop_;
           waited += std::chrono::milliseconds(50))
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
      if (stop_) return;
    }
    Reply reply = client.get(path, etag_, (kLongPollWaitS + 15) * 1000L);
    if (stop_) return;
    if (reply.status == 304 || reply.status == 200) {
      if (failing) std::cerr << "leeway agent: the server answers again\n";
      failing = false;
      backoff = std::chrono::milliseconds(0);
    }
    if (reply.status == 304) continue;
    if (reply.status == 200) {
      auto list = check_list_from_json(json::parse(reply.body, nullptr, false));
      if (!list) {
        std::cerr << "leeway agent: the server's check list is not one this agent reads: "
                  << list.error().message << "\n";
        backoff = std::chrono::seconds(30);
        continue;
      }
      etag_ = reply.etag;
      save(reply.body, reply.etag);
      std::cerr << fmt::format("leeway agent: {} checks from the server\n", list->size());
      on_list_(std::move(*list));
      continue;
    }
    if (!failing)
      std::cerr << "leeway agent: cannot fetch the checks (going on with the ones in hand): "
                << (reply.status == 0 ? reply.error
                                      : fmt::format("HTTP {}: {}", reply.status,
                                                    terminal_safe(reply.body.substr(0, 200))))
                << "\n";
    failing = true;
    backoff =
        std::clamp(backoff * 2, std::chrono::milliseconds(500), std::chrono::milliseconds(30'000));
  }
}

}  // namespace leeway::agent
