// libcurl's multi interface driven by an Asio loop: curl says which sockets and which timeout it
// waits for, and the loop wakes it when they are ready. Any number of transfers run at once
// without a thread of their own. The http prober uses it; so can anything else that speaks HTTP
// through curl (a webhook sender, the agent's push client). Internal to the probe module.
#pragma once

#include <curl/curl.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <unordered_map>
#include <vector>

namespace leeway::probe {

class CurlLoop : public std::enable_shared_from_this<CurlLoop> {
 public:
  // Called on the loop once a transfer is over, with curl's code for it. The handle has left the
  // loop by then: its info (curl_easy_getinfo) can be read, and it may be added again.
  using Done = std::function<void(CURL* easy, CURLcode rc)>;

  // A loop on `io`, which must outlive it. (Shared: pending handlers hold it.)
  static std::shared_ptr<CurlLoop> create(boost::asio::io_context& io);
  ~CurlLoop();
  CurlLoop(const CurlLoop&) = delete;
  CurlLoop& operator=(const CurlLoop&) = delete;

  // Starts a transfer on a configured easy handle, which the caller keeps owning; `done` runs
  // exactly once unless remove() or close() comes first.
  CURLMcode add(CURL* easy, Done done);

  // Takes a transfer out before it is over; its `done` never runs.
  void remove(CURL* easy);

  // Stops every transfer (without calling their `done`) and frees curl's multi handle; nothing
  // runs afterwards. Idempotent; the destructor calls it.
  void close();

 private:
  using SteadyClock = std::chrono::steady_clock;
  struct Watch;

  explicit CurlLoop(boost::asio::io_context& io);

  static int on_socket(CURL*, curl_socket_t fd, int what, void* user, void* socketp);
  static int on_timer(CURLM*, long timeout_ms, void* user);
  void arm(Watch* w);
  void on_ready(Watch* w, unsigned generation, int direction, boost::system::error_code ec);
  void on_deadline();
  void act(curl_socket_t fd, int events);
  void drain_messages();

  boost::asio::io_context& io_;
  CURLM* multi_ = nullptr;
  bool closed_ = false;
  std::unordered_map<CURL*, Done> running_;

  std::vector<std::unique_ptr<Watch>> watches_;
  std::vector<Watch*> idle_watches_;

  // curl's single timeout. The timer is moved earlier when curl asks, but left alone when curl
  // asks for later, which happens on nearly every call with many runs in flight; an early wake-up
  // just re-arms. A zero timeout is a post, cheaper than a timer.
  boost::asio::steady_timer timer_;
  SteadyClock::time_point deadline_ = SteadyClock::time_point::max();
  bool timer_armed_ = false;
  bool timeout_posted_ = false;
};

}  // namespace leeway::probe
