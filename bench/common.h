// What the bench drivers share.
#pragma once

#include <sys/resource.h>

namespace leeway::bench {

// CPU seconds (user + system) this process has used so far.
inline double cpu_seconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return u.ru_utime.tv_sec + u.ru_stime.tv_sec + (u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

}  // namespace leeway::bench
