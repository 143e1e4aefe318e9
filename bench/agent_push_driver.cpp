// Push ingest for bench/agent.sh: the same stream of results either written with Store::write
// into a fresh SQLite file (mode store), or posted as agent batches to a running `leeway serve`
// (mode push: POST /api/v1/agent/results over keep-alive connections, each batch answered after
// its commit). Prints results per second. The batches' JSON is made before the clock starts, as
// an agent makes it when each run ends.
#include <curl/curl.h>
#include <fmt/core.h>

#include <CLI/CLI.hpp>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "agent/wire.h"
#include "bench/common.h"
#include "store/store.h"

using namespace leeway;

namespace {

using Steady = std::chrono::steady_clock;

// `count` results of `checks` checks (check k is s<k / service_checks>/c<k>), one run each per
// 10 s ending a minute ago, mostly up with realistic timings and a few failures with their error
// texts.
std::vector<store::StoredResult> make_stream(int checks, int service_checks, int count,
                                             const std::string& location) {
  std::vector<store::StoredResult> out;
  out.reserve(std::size_t(count));
  TimeUs end = std::chrono::duration_cast<std::chrono::microseconds>(
                   std::chrono::system_clock::now().time_since_epoch())
                   .count() -
               kMinuteUs;
  int rounds = (count + checks - 1) / checks;
  TimeUs start = end - TimeUs(rounds) * 10 * kSecondUs;
  for (int i = 0; i < count; ++i) {
    store::StoredResult r;
    r.check = fmt::format("s{}/c{}", i % checks / service_checks, i % checks);
    r.location = location;
    r.started_us = start + TimeUs(i / checks) * 10 * kSecondUs + (i % checks) * 997;
    r.dns_us = 800 + i % 300;
    r.connect_us = 12'000 + i % 5000;
    r.tls_us = 25'000 + i % 7000;
    r.first_byte_us = 40'000 + i % 20'000;
    r.total_us = r.dns_us + r.connect_us + r.tls_us + r.first_byte_us + 300;
    r.http_status = 200;
    r.outcome = probe::Outcome::kUp;
    if (i % 97 == 0) {
      r.outcome = probe::Outcome::kDown;
      r.stage = probe::Stage::kConnect;
      r.error = "connect: connection refused (10.0.0.7:443)";
      r.http_status = 0;
      r.tls_us = r.first_byte_us = -1;
    }
    out.push_back(std::move(r));
  }
  return out;
}

double store_mode(const std::vector<store::StoredResult>& stream, const std::string& db,
                  std::size_t batch) {
  auto s = store::open_store(db);
  if (!s) throw std::runtime_error(s.error().message);
  auto began = Steady::now();
  for (std::size_t i = 0; i < stream.size(); i += batch) {
    auto n = std::min(batch, stream.size() - i);
    auto written = (*s)->write(std::span(stream).subspan(i, n));
    if (!written) throw std::runtime_error(written.error().message);
  }
  return std::chrono::duration<double>(Steady::now() - began).count();
}

size_t discard(char*, size_t size, size_t n, void*) {
  return size * n;
}

double push_mode(const std::vector<store::StoredResult>& stream, const std::string& url,
                 const std::string& token, const std::string& location, std::size_t batch,
                 int connections, std::size_t& body_bytes) {
  std::vector<std::string> bodies;
  for (std::size_t i = 0; i < stream.size(); i += batch) {
    std::string body = fmt::format(R"({{"batch":"b{}","location":"{}","sent_us":{},"results":[)", i,
                                   location, stream.back().started_us + kMinuteUs);
    for (std::size_t j = i; j < std::min(stream.size(), i + batch); ++j) {
      if (j > i) body += ',';
      body += agent::result_to_json(stream[j]).dump();
    }
    body += "]}";
    body_bytes += body.size();
    bodies.push_back(std::move(body));
  }
  curl_global_init(CURL_GLOBAL_DEFAULT);
  std::atomic<std::size_t> next{0};
  std::atomic<int> failures{0};
  std::string auth = "Authorization: Bearer " + token;
  auto began = Steady::now();
  std::vector<std::thread> threads;
  for (int c = 0; c < connections; ++c) {
    threads.emplace_back([&] {
      CURL* curl = curl_easy_init();
      curl_slist* headers = curl_slist_append(nullptr, auth.c_str());
      headers = curl_slist_append(headers, "Content-Type: application/json");
      curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
      curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
      curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, discard);
      for (std::size_t i; (i = next++) < bodies.size();) {
        curl_easy_setopt(curl, CURLOPT_POSTFIELDS, bodies[i].data());
        curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(bodies[i].size()));
        long status = 0;
        if (curl_easy_perform(curl) == CURLE_OK)
          curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
        if (status != 200) ++failures;
      }
      curl_slist_free_all(headers);
      curl_easy_cleanup(curl);
    });
  }
  for (auto& t : threads) t.join();
  double seconds = std::chrono::duration<double>(Steady::now() - began).count();
  if (failures > 0) throw std::runtime_error(fmt::format("{} batches were refused", int(failures)));
  return seconds;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"push ingest through the agent API, or Store::write of the same stream"};
  std::string mode = "store", db, url, token, location = "bench";
  int checks = 1000, service_checks = 10, count = 200'000, connections = 2;
  std::size_t batch = 5000;
  app.add_option("--mode", mode, "store or push")->required();
  app.add_option("--db", db, "store: the SQLite file to create");
  app.add_option("--url", url, "push: the server's /api/v1/agent/results URL");
  app.add_option("--token", token, "push: the location's token");
  app.add_option("--location", location);
  app.add_option("--checks", checks);
  app.add_option("--service-checks", service_checks, "checks to a service");
  app.add_option("--results", count);
  app.add_option("--batch", batch, "results per Store::write call or per pushed batch");
  app.add_option("--connections", connections, "push: batches in flight at once");
  CLI11_PARSE(app, argc, argv);
  auto stream = make_stream(checks, service_checks, count, location);
  double cpu_before = bench::cpu_seconds();
  std::size_t body_bytes = 0;
  double seconds = mode == "store"
                       ? store_mode(stream, db, batch)
                       : push_mode(stream, url, token, location, batch, connections, body_bytes);
  fmt::print("mode={} results={} seconds={:.3f} results_per_s={:.0f} driver_cpu_s={:.3f}", mode,
             count, seconds, count / seconds, bench::cpu_seconds() - cpu_before);
  if (body_bytes > 0) fmt::print(" wire_bytes_per_result={:.1f}", double(body_bytes) / count);
  fmt::print("\n");
  return 0;
}
