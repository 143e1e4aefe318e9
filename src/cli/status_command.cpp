// `leeway status`: the current state of every check, from a running daemon's API.
#include <curl/curl.h>
#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <iostream>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "core/result.h"
#include "core/time.h"

namespace leeway::cli {

namespace {

// A blocking GET is right here: a one-shot command with nothing else to do meanwhile.
Result<std::string> http_get(const std::string& url) {
  CURL* curl = curl_easy_init();
  std::string body;
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, 10'000L);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION,
                   +[](char* data, size_t size, size_t n, void* out) {
                     static_cast<std::string*>(out)->append(data, size * n);
                     return size * n;
                   });
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &body);
  CURLcode rc = curl_easy_perform(curl);
  long status = 0;
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
  curl_easy_cleanup(curl);
  if (rc != CURLE_OK) return fail("cannot reach ", url, ": ", curl_easy_strerror(rc));
  if (status != 200) return fail(url, " answered HTTP ", std::to_string(status), ": ", body);
  return body;
}

int run_status(const std::string& server, bool as_json) {
  auto body = http_get(server + "/api/v1/checks");
  if (!body) {
    std::cerr << "leeway status: " << body.error().message << "\n";
    return kExitUnknown;
  }
  auto j = nlohmann::json::parse(*body, nullptr, false);
  if (j.is_discarded() || !j.contains("checks")) {
    std::cerr << "leeway status: " << server << " did not answer like a leeway daemon\n";
    return kExitUnknown;
  }
  if (as_json) {
    std::cout << j.dump(2) << "\n";
    return 0;
  }
  int worst = kExitUp;
  std::cout << fmt::format("{:<9} {:<32} {:<10} {:>9} {:>9}  {}\n", "STATE", "CHECK", "LOCATION",
                           "LAST", "24H", "DETAIL");
  for (const auto& c : j["checks"]) {
    std::string avail = c["availability_24h"].is_object() && c["availability_24h"]["total"].get<long>() > 0
                            ? fmt::format("{:.3f}%", c["availability_24h"]["ratio"].get<double>() * 100)
                            : "-";
    if (c["last"].empty()) {
      std::cout << fmt::format("{:<9} {:<32} {:<10} {:>9} {:>9}  {}\n", "PENDING",
                               c["id"].get<std::string>(), "-", "-", avail, "no result yet");
      continue;
    }
    for (const auto& r : c["last"]) {
      std::string outcome = r["outcome"];
      if (outcome == "down") worst = kExitDown;
      else if (outcome == "degraded" && worst == kExitUp) worst = kExitDegraded;
      std::string detail = r["error"].get<std::string>();
      // "connect: connection refused"; not "status: status 503 is not ...".
      if (std::string stage = r["stage"].is_null() ? "" : r["stage"].get<std::string>();
          !stage.empty() && !detail.starts_with(stage))
        detail = stage + ": " + detail;
      std::string upper = outcome;
      for (auto& ch : upper) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
      std::cout << fmt::format("{:<9} {:<32} {:<10} {:>9} {:>9}  {}\n", upper,
                               c["id"].get<std::string>(), r["location"].get<std::string>(),
                               format_duration(r["timings_us"]["total"].get<DurationUs>()), avail,
                               detail);
    }
  }
  return worst;
}

}  // namespace

Runner setup_status(CLI::App& sub) {
  auto server = std::make_shared<std::string>("http://127.0.0.1:8080");
  auto as_json = std::make_shared<bool>(false);
  sub.add_option("--server", *server, "the daemon's base URL")->capture_default_str();
  sub.add_flag("--json", *as_json, "print the daemon's answer as JSON");
  sub.footer("Exit codes: 0 all up, 1 something degraded, 2 something down, 3 daemon unreachable.");
  return [server, as_json] { return run_status(*server, *as_json); };
}

}  // namespace leeway::cli
