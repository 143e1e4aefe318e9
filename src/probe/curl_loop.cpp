// The curl multi loop on Asio: see curl_loop.h.
#include "probe/curl_loop.h"

#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/post.hpp>

namespace leeway::probe {

namespace asio = boost::asio;

// One socket curl asked us to watch. The descriptor only watches: curl opened the fd and
// closes it, so we release() it (never close) when curl says the socket is gone.
struct CurlLoop::Watch {
  explicit Watch(asio::io_context& io) : descriptor(io) {}
  asio::posix::stream_descriptor descriptor;
  curl_socket_t fd = CURL_SOCKET_BAD;
  int wanted = CURL_POLL_NONE;  // what curl wants to hear about
  // Bumped whenever the watch is let go, so a completion for an older socket is ignored.
  unsigned generation = 0;
  bool read_pending = false;
  bool write_pending = false;
};

std::shared_ptr<CurlLoop> CurlLoop::create(asio::io_context& io) {
  static const CURLcode kInit = curl_global_init(CURL_GLOBAL_DEFAULT);
  (void)kInit;
  return std::shared_ptr<CurlLoop>(new CurlLoop(io));
}

CurlLoop::CurlLoop(asio::io_context& io) : io_(io), timer_(io) {
  multi_ = curl_multi_init();
  curl_multi_setopt(multi_, CURLMOPT_SOCKETFUNCTION, &CurlLoop::on_socket);
  curl_multi_setopt(multi_, CURLMOPT_SOCKETDATA, this);
  curl_multi_setopt(multi_, CURLMOPT_TIMERFUNCTION, &CurlLoop::on_timer);
  curl_multi_setopt(multi_, CURLMOPT_TIMERDATA, this);
}

CurlLoop::~CurlLoop() {
  close();
}

CURLMcode CurlLoop::add(CURL* easy, Done done) {
  CURLMcode mc = curl_multi_add_handle(multi_, easy);
  if (mc == CURLM_OK) running_[easy] = std::move(done);
  return mc;
}

void CurlLoop::remove(CURL* easy) {
  if (running_.erase(easy)) curl_multi_remove_handle(multi_, easy);
}

void CurlLoop::close() {
  if (closed_) return;
  closed_ = true;
  for (auto& [easy, done] : running_) curl_multi_remove_handle(multi_, easy);
  running_.clear();
  curl_multi_cleanup(multi_);
  for (auto& w : watches_) {
    if (w->fd != CURL_SOCKET_BAD) w->descriptor.release();
  }
  timer_.cancel();
}

int CurlLoop::on_socket(CURL*, curl_socket_t fd, int what, void* user, void* socketp) {
  auto* self = static_cast<CurlLoop*>(user);
  auto* w = static_cast<Watch*>(socketp);
  if (what == CURL_POLL_REMOVE) {
    if (w) {
      w->descriptor.release();  // cancels its waits; the fd stays curl's to close
      w->fd = CURL_SOCKET_BAD;
      w->wanted = CURL_POLL_NONE;
      ++w->generation;
      self->idle_watches_.push_back(w);
      curl_multi_assign(self->multi_, fd, nullptr);
    }
    return 0;
  }
  if (!w) {
    if (self->idle_watches_.empty()) {
      self->watches_.push_back(std::make_unique<Watch>(self->io_));
      self->idle_watches_.push_back(self->watches_.back().get());
    }
    w = self->idle_watches_.back();
    self->idle_watches_.pop_back();
    boost::system::error_code ec;
    w->descriptor.assign(fd, ec);
    if (ec) {
      self->idle_watches_.push_back(w);
      return -1;
    }
    w->fd = fd;
    w->read_pending = w->write_pending = false;
    curl_multi_assign(self->multi_, fd, w);
  }
  w->wanted = what;
  self->arm(w);
  return 0;
}

void CurlLoop::arm(Watch* w) {
  auto self = shared_from_this();
  if ((w->wanted & CURL_POLL_IN) && !w->read_pending) {
    w->read_pending = true;
    w->descriptor.async_wait(asio::posix::descriptor_base::wait_read,
                             [self, w, g = w->generation](boost::system::error_code ec) {
                               self->on_ready(w, g, CURL_CSELECT_IN, ec);
                             });
  }
  if ((w->wanted & CURL_POLL_OUT) && !w->write_pending) {
    w->write_pending = true;
    w->descriptor.async_wait(asio::posix::descriptor_base::wait_write,
                             [self, w, g = w->generation](boost::system::error_code ec) {
                               self->on_ready(w, g, CURL_CSELECT_OUT, ec);
                             });
  }
}

void CurlLoop::on_ready(Watch* w, unsigned generation, int direction,
                        boost::system::error_code ec) {
  if (closed_ || w->generation != generation) return;
  (direction == CURL_CSELECT_IN ? w->read_pending : w->write_pending) = false;
  if (ec == asio::error::operation_aborted) return;
  // A wait that is no longer wanted (curl changed its mind) is simply not renewed.
  int want_bit = direction == CURL_CSELECT_IN ? CURL_POLL_IN : CURL_POLL_OUT;
  if (!(w->wanted & want_bit)) return;
  act(w->fd, ec ? CURL_CSELECT_ERR : direction);
  if (!closed_ && w->generation == generation) arm(w);
}

int CurlLoop::on_timer(CURLM*, long timeout_ms, void* user) {
  auto* self = static_cast<CurlLoop*>(user);
  if (timeout_ms < 0) {
    // Nothing is in flight: cancel outright, so an idle loop has no pending work and returns.
    self->deadline_ = SteadyClock::time_point::max();
    if (self->timer_armed_) self->timer_.cancel();
    self->timer_armed_ = false;
    return 0;
  }
  if (timeout_ms == 0) {
    self->deadline_ = SteadyClock::time_point::max();
    if (!self->timeout_posted_) {
      self->timeout_posted_ = true;
      asio::post(self->io_, [s = self->shared_from_this()] {
        s->timeout_posted_ = false;
        if (!s->closed_) s->act(CURL_SOCKET_TIMEOUT, 0);
      });
    }
    return 0;
  }
  self->deadline_ = SteadyClock::now() + std::chrono::milliseconds(timeout_ms);
  if (self->timer_armed_ && self->timer_.expiry() <= self->deadline_) return 0;
  self->timer_armed_ = true;
  self->timer_.expires_at(self->deadline_);
  self->timer_.async_wait([s = self->shared_from_this()](boost::system::error_code ec) {
    if (s->closed_ || ec == asio::error::operation_aborted) return;
    s->timer_armed_ = false;
    s->on_deadline();
  });
  return 0;
}

void CurlLoop::on_deadline() {
  if (deadline_ == SteadyClock::time_point::max()) return;
  if (SteadyClock::now() < deadline_) {
    timer_armed_ = true;
    timer_.expires_at(deadline_);
    timer_.async_wait([s = shared_from_this()](boost::system::error_code ec) {
      if (s->closed_ || ec == asio::error::operation_aborted) return;
      s->timer_armed_ = false;
      s->on_deadline();
    });
    return;
  }
  deadline_ = SteadyClock::time_point::max();
  act(CURL_SOCKET_TIMEOUT, 0);
}

void CurlLoop::act(curl_socket_t fd, int events) {
  int running = 0;
  curl_multi_socket_action(multi_, fd, events, &running);
  drain_messages();
}

void CurlLoop::drain_messages() {
  int left = 0;
  while (!closed_) {
    CURLMsg* msg = curl_multi_info_read(multi_, &left);
    if (!msg) break;
    if (msg->msg != CURLMSG_DONE) continue;
    CURL* easy = msg->easy_handle;  // msg is gone once the handle is removed
    CURLcode rc = msg->data.result;
    auto it = running_.find(easy);
    if (it == running_.end()) continue;
    Done done = std::move(it->second);
    running_.erase(it);
    curl_multi_remove_handle(multi_, easy);
    done(easy, rc);
  }
}

}  // namespace leeway::probe
