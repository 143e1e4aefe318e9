// Blocking HTTP requests to the server on libcurl's easy interface (see client.h).
#include "agent/client.h"

#include <curl/curl.h>

#include <cctype>

namespace leeway::agent {

namespace {

// More than any check list or answer the server sends; past it the reply is refused.
constexpr std::size_t kMaxReplyBytes = std::size_t{32} << 20;

struct Transfer {
  Reply* reply;
  const std::atomic<bool>* stop;
  bool too_big = false;
};

size_t on_body(char* data, size_t size, size_t n, void* out) {
  auto* t = static_cast<Transfer*>(out);
  if (t->reply->body.size() + size * n > kMaxReplyBytes) {
    t->too_big = true;
    return CURL_WRITEFUNC_ERROR;
  }
  t->reply->body.append(data, size * n);
  return size * n;
}

size_t on_header(char* data, size_t size, size_t n, void* out) {
  auto* t = static_cast<Transfer*>(out);
  std::string_view line(data, size * n);
  constexpr std::string_view kEtag = "etag:";
  if (line.size() > kEtag.size() &&
      std::equal(kEtag.begin(), kEtag.end(), line.begin(),
                 [](char a, char b) { return a == std::tolower(static_cast<unsigned char>(b)); })) {
    line.remove_prefix(kEtag.size());
    while (!line.empty() && std::isspace(static_cast<unsigned char>(line.front())))
      line.remove_prefix(1);
    while (!line.empty() && std::isspace(static_cast<unsigned char>(line.back())))
      line.remove_suffix(1);
    t->reply->etag = std::string(line);
  }
  return size * n;
}

int on_progress(void* data, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  return static_cast<Transfer*>(data)->stop->load() ? 1 : 0;
}

}  // namespace

Client::Client(ClientOptions options, const std::atomic<bool>& stop)
    : options_(std::move(options)), stop_(stop) {
  static const CURLcode kInit = curl_global_init(CURL_GLOBAL_DEFAULT);
  (void)kInit;
  curl_ = curl_easy_init();
}

Client::~Client() {
  curl_easy_cleanup(static_cast<CURL*>(curl_));
}

Reply Client::get(const std::string& path, const std::string& etag, long timeout_ms) {
  return perform(path, nullptr, etag, timeout_ms);
}

Reply Client::post(const std::string& path, const std::string& body, long timeout_ms) {
  return perform(path, &body, "", timeout_ms);
}

Reply Client::perform(const std::string& path, const std::string* body, const std::string& etag,
                      long timeout_ms) {
  CURL* curl = static_cast<CURL*>(curl_);
  curl_easy_reset(curl);
  Reply reply;
  Transfer transfer{&reply, &stop_};
  std::string url = options_.server + path;
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, 5'000L);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, timeout_ms);
  if (!options_.ca_file.empty()) curl_easy_setopt(curl, CURLOPT_CAINFO, options_.ca_file.c_str());
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &transfer);
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &transfer);
  curl_easy_setopt(curl, CURLOPT_XFERINFOFUNCTION, on_progress);
  curl_easy_setopt(curl, CURLOPT_XFERINFODATA, &transfer);
  curl_easy_setopt(curl, CURLOPT_NOPROGRESS, 0L);
  std::string authorization = "Authorization: Bearer " + options_.token;
  std::string if_none_match = "If-None-Match: " + etag;
  curl_slist* headers = curl_slist_append(nullptr, authorization.c_str());
  if (!etag.empty()) headers = curl_slist_append(headers, if_none_match.c_str());
  if (body) {
    headers = curl_slist_append(headers, "Content-Type: application/json");
    curl_easy_setopt(curl, CURLOPT_POST, 1L);
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body->data());
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body->size()));
  }
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  CURLcode rc = curl_easy_perform(curl);
  curl_slist_free_all(headers);
  if (transfer.too_big) {
    reply = Reply{};
    reply.error = "the server's answer is over the limit";
  } else if (rc != CURLE_OK) {
    reply.status = 0;
    reply.error = stop_.load() ? "stopped" : curl_easy_strerror(rc);
  } else {
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &reply.status);
  }
  return reply;
}

}  // namespace leeway::agent
