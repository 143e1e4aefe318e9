// Sends the spool to the server, oldest first, one batch at a time: a batch is forgotten only
// when the server answers that it is committed, so nothing is lost and (the server storing each
// result once) nothing doubled. A batch the server will never take is set aside on disk.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>
#include <thread>

#include "agent/client.h"
#include "agent/spool.h"
#include "core/clock.h"

namespace leeway::agent {

struct PusherOptions {
  std::size_t max_records = 2000;     // results per batch at most
  std::size_t max_bytes = 512 << 10;  // and about this many bytes: under the server's 1 MiB
  std::chrono::milliseconds min_backoff{200};
  std::chrono::milliseconds max_backoff{10'000};
  // After a batch that emptied the spool, how long new results gather before the next.
  std::chrono::milliseconds gather{250};
};

class Pusher {
 public:
  // `spool` and `clock` must outlive the pusher.
  Pusher(ClientOptions client, std::string location, Spool& spool, const Clock& clock,
         PusherOptions options = {});
  // Calls stop().
  ~Pusher();

  void start();
  // Ends the thread; a batch under way is left in the spool and sent again next time.
  void stop();

  std::int64_t batches_sent() const { return sent_.load(); }
  std::int64_t batches_set_aside() const { return set_aside_.load(); }

 private:
  void run();
  // Sleeps, waking early when stopped.
  void pause(std::chrono::milliseconds how_long);
  // Keeps a refused batch under <spool>/rejected/ with the server's answer, for a person.
  void set_aside(const std::string& id, const std::string& body, long status,
                 const std::string& answer);

  ClientOptions client_;
  std::string location_;
  Spool& spool_;
  const Clock& clock_;
  PusherOptions options_;
  std::string rejected_dir_;
  std::atomic<bool> stop_{false};
  std::atomic<std::int64_t> sent_{0};
  std::atomic<std::int64_t> set_aside_{0};
  std::thread thread_;
};

}  // namespace leeway::agent
