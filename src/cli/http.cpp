// The CLI's HTTP client (see http.h).
#include "cli/http.h"

#include <curl/curl.h>

#include <cstdlib>
#include <iostream>

#include "cli/commands.h"
#include "config/config.h"
#include "core/text.h"

namespace leeway::cli {

namespace {

// Far more than the daemon's answer for tens of thousands of checks; a server that sends more
// (or never stops) is not a leeway daemon, and is not held in memory.
constexpr std::size_t kMaxReplyBytes = std::size_t{64} << 20;
// How much of an error reply is shown.
constexpr std::size_t kShownErrorBytes = 200;

struct Reply {
  std::string body;
  bool too_big = false;
};

// Runs a request prepared on `curl` (which it cleans up) and returns a 2xx answer's body.
Result<std::string> perform(CURL* curl, const std::string& url) {
  Reply reply;
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, 10'000L);
  curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(
      curl, CURLOPT_WRITEFUNCTION, +[](char* data, size_t size, size_t n, void* out) -> size_t {
        auto* reply = static_cast<Reply*>(out);
        if (reply->body.size() + size * n > kMaxReplyBytes) {
          reply->too_big = true;
          return CURL_WRITEFUNC_ERROR;
        }
        reply->body.append(data, size * n);
        return size * n;
      });
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &reply);
  CURLcode rc = curl_easy_perform(curl);
  long status = 0;
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
  curl_easy_cleanup(curl);
  std::string where = terminal_safe(url);
  if (reply.too_big)
    return fail(where, " sent more than ", std::to_string(kMaxReplyBytes >> 20),
                " MiB; stopped reading");
  if (rc != CURLE_OK) return fail("cannot reach ", where, ": ", curl_easy_strerror(rc));
  if (status < 200 || status > 299)
    return fail(where, " answered HTTP ", std::to_string(status), ": ",
                terminal_safe(std::string_view(reply.body).substr(0, kShownErrorBytes)));
  return std::move(reply.body);
}

}  // namespace

Result<std::string> http_get(const std::string& url, const std::string& token) {
  CURL* curl = curl_easy_init();
  curl_slist* headers = nullptr;
  if (!token.empty()) {
    headers = curl_slist_append(headers, ("Authorization: Bearer " + token).c_str());
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  }
  auto out = perform(curl, url);
  curl_slist_free_all(headers);
  return out;
}

Result<std::string> http_post(const std::string& url, const std::string& json_body,
                              const std::string& token) {
  CURL* curl = curl_easy_init();
  curl_slist* headers = curl_slist_append(nullptr, "Content-Type: application/json");
  headers = curl_slist_append(headers, ("Authorization: Bearer " + token).c_str());
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(curl, CURLOPT_POSTFIELDS, json_body.c_str());
  curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, long(json_body.size()));
  auto out = perform(curl, url);
  curl_slist_free_all(headers);
  return out;
}

std::string path_segment(const std::string& text) {
  char* escaped = curl_easy_escape(nullptr, text.data(), int(text.size()));
  std::string out = escaped ? escaped : "";
  curl_free(escaped);
  return out;
}

Result<std::string> api_token(const std::string& token_file) {
  std::string token;
  if (!token_file.empty()) {
    auto text = config::read_file(token_file);
    if (!text) return fail("--token-file ", terminal_safe(token_file), ": ", text.error().message);
    token = text->substr(0, text->find('\n'));
  } else if (const char* env = std::getenv("LEEWAY_TOKEN")) {
    token = env;
  }
  while (!token.empty() && (token.back() == '\r' || token.back() == ' ')) token.pop_back();
  if (token.empty())
    return fail("an API token is needed: --token-file FILE or the LEEWAY_TOKEN variable");
  return token;
}

Result<nlohmann::json> get_json(const std::string& server, const std::string& path,
                                const std::string& token) {
  auto body = http_get(server + path, token);
  if (!body) return body.error();
  nlohmann::json j = nlohmann::json::parse(*body, nullptr, false);
  if (j.is_discarded() || !j.is_object())
    return fail(terminal_safe(server), " did not answer like a leeway daemon");
  return j;
}

int show(const char* command, const std::string& server, const std::string& path, bool as_json,
         const std::function<void(const nlohmann::json&)>& print) {
  auto j = get_json(server, path);
  if (!j) {
    std::cerr << "leeway " << command << ": " << j.error().message << "\n";
    return kExitUnknown;
  }
  try {
    if (as_json) {
      std::cout << j->dump(2) << "\n";
    } else {
      print(*j);
    }
    return 0;
  } catch (const nlohmann::json::exception&) {
    std::cerr << "leeway " << command << ": " << terminal_safe(server)
              << " did not answer like a leeway daemon\n";
    return kExitUnknown;
  }
}

int post(const char* command, const std::string& server, const std::string& path,
         const nlohmann::json& body, const std::string& token_file,
         const std::function<void(const nlohmann::json&)>& print) {
  auto token = api_token(token_file);
  if (!token) {
    std::cerr << "leeway " << command << ": " << token.error().message << "\n";
    return kExitUnknown;
  }
  auto answer = http_post(server + path, body.dump(), *token);
  if (!answer) {
    std::cerr << "leeway " << command << ": " << answer.error().message << "\n";
    return kExitUnknown;
  }
  try {
    print(nlohmann::json::parse(*answer));
    return 0;
  } catch (const nlohmann::json::exception&) {
    std::cerr << "leeway " << command << ": " << terminal_safe(server)
              << " did not answer like a leeway daemon\n";
    return kExitUnknown;
  }
}

std::string field(const nlohmann::json& j, const char* name) {
  const nlohmann::json& v = j.at(name);
  if (v.is_null()) return "-";
  return terminal_safe(v.is_string() ? v.get<std::string>() : v.dump());
}

}  // namespace leeway::cli
