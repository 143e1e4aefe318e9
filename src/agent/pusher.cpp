// The pusher: the spool to the server, oldest first, with backoff (see pusher.h).
#include "agent/pusher.h"

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>

#include "core/text.h"

namespace leeway::agent {

namespace {

// Refusals that may pass later without the batch changing: a token being rotated, a server
// asking to slow down. Anything else in 4xx is the batch's own fault and will not pass.
bool may_pass_later(long status) {
  return status == 0 || status >= 500 || status == 401 || status == 403 || status == 408 ||
         status == 429;
}

}  // namespace

Pusher::Pusher(ClientOptions client, std::string location, Spool& spool, const Clock& clock,
               PusherOptions options)
    : client_(std::move(client)),
      location_(std::move(location)),
      spool_(spool),
      clock_(clock),
      options_(options),
      rejected_dir_(spool_.dir() + "/rejected") {}

Pusher::~Pusher() {
  stop();
}

void Pusher::start() {
  thread_ = std::thread([this] { run(); });
}

void Pusher::stop() {
  stop_ = true;
  spool_.wake();
  if (thread_.joinable()) thread_.join();
}

void Pusher::set_aside(const std::string& id, const std::string& body, long status,
                       const std::string& answer) {
  std::string name = id;
  std::replace(name.begin(), name.end(), ':', '-');
  std::filesystem::create_directories(rejected_dir_);
  std::ofstream(rejected_dir_ + "/" + name + ".json") << body;
  std::ofstream(rejected_dir_ + "/" + name + ".answer") << status << " " << answer << "\n";
  ++set_aside_;
  std::cerr << fmt::format(
      "leeway agent: the server refused batch {} for good (HTTP {}: {}); set aside in {}/{}.json "
      "and going on with the next\n",
      id, status, terminal_safe(answer.substr(0, 300)), rejected_dir_, name);
}

void Pusher::pause(std::chrono::milliseconds how_long) {
  for (auto waited = std::chrono::milliseconds(0); waited < how_long && !stop_;
       waited += std::chrono::milliseconds(50))
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
}

void Pusher::run() {
  Client client(client_, stop_);
  auto backoff = std::chrono::milliseconds(0);
  bool failing = false;
  std::int64_t reported_dropped = -1;
  std::size_t max_records = options_.max_records;
  while (!stop_) {
    auto chunk = spool_.peek(max_records, options_.max_bytes);
    if (!chunk) {
      std::cerr << "leeway agent: spool: " << chunk.error().message << "\n";
      spool_.wait(std::chrono::seconds(1));
      continue;
    }
    std::int64_t dropped = spool_.dropped_total();
    // Nothing to send, and the server knows of every drop: wait for results.
    if (chunk->records.empty() && dropped == reported_dropped) {
      spool_.wait(std::chrono::seconds(1));
      continue;
    }
    std::string id = fmt::format("{}:{}:{}", location_, chunk->begin.segment, chunk->begin.offset);
    // The records are the results' JSON already: the body is put together, not re-encoded.
    std::string body = fmt::format(
        R"({{"batch":{},"location":{},"sent_us":{},"dropped_total":{},"results":[)",
        nlohmann::json(id).dump(), nlohmann::json(location_).dump(), clock_.now_us(), dropped);
    for (std::size_t i = 0; i < chunk->records.size(); ++i) {
      if (i > 0) body += ',';
      body += chunk->records[i];
    }
    body += "]}";
    Reply reply = client.post("/api/v1/agent/results", body, 30'000);
    if (stop_) return;
    if (reply.status >= 200 && reply.status < 300) {
      if (failing) std::cerr << "leeway agent: the server takes results again; sending the spool\n";
      failing = false;
      backoff = std::chrono::milliseconds(0);
      max_records = options_.max_records;
      reported_dropped = dropped;
      ++sent_;
      if (Status s = spool_.acknowledge(chunk->end); !s)
        std::cerr << "leeway agent: spool: " << s.error().message << "\n";
      // Caught up: let the next results gather for a moment, so that 1,000 checks make a few
      // batches a second rather than one request per result; they still leave within a second.
      if (chunk->records.size() < max_records) pause(options_.gather);
      continue;
    }
    if (reply.status == 413 && chunk->records.size() > 1) {
      max_records = std::max<std::size_t>(1, chunk->records.size() / 2);  // smaller, and again
      continue;
    }
    std::string answer = reply.status == 0 ? reply.error : reply.body;
    if (!may_pass_later(reply.status)) {
      set_aside(id, body, reply.status, answer);
      reported_dropped = dropped;
      if (Status s = spool_.acknowledge(chunk->end); !s)
        std::cerr << "leeway agent: spool: " << s.error().message << "\n";
      continue;
    }
    if (!failing)
      std::cerr << fmt::format(
          "leeway agent: cannot push results ({}); keeping them in the spool and retrying\n",
          reply.status == 0
              ? answer
              : fmt::format("HTTP {}: {}", reply.status, terminal_safe(answer.substr(0, 300))));
    failing = true;
    backoff = std::clamp(backoff * 2, options_.min_backoff, options_.max_backoff);
    pause(backoff);
  }
}

}  // namespace leeway::agent
