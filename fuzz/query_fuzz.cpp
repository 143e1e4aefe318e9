// libFuzzer entry point for the API's query parameters: times (RFC 3339 or Unix seconds) and
// results cursors. Any bytes give a value or a clear error; never a crash or an exception.
#include <cstddef>
#include <cstdint>
#include <string>

#include "core/time.h"
#include "daemon/daemon.h"
#include "store/detail.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace leeway;
  std::string text(reinterpret_cast<const char*>(data), size);
  auto t = daemon::parse_time_param("from", text);
  if (!t && t.error().message.find("from") == std::string::npos) __builtin_trap();
  // A time that parses prints back to one that parses to the same instant.
  if (auto rfc = parse_rfc3339(text); rfc) {
    auto again = parse_rfc3339(format_rfc3339(*rfc));
    if (!again || *again != *rfc) __builtin_trap();
  }
  store::ResultQuery query;
  query.cursor = text;
  if (!text.empty() && store::check_cursor(query)) {  // empty: the first page
    auto cursor = store::detail::decode_cursor(text);
    if (!cursor) __builtin_trap();
    auto again = store::detail::decode_cursor(store::detail::encode_cursor(*cursor));
    if (!again || again->started_us != cursor->started_us || again->location != cursor->location)
      __builtin_trap();
  }
  return 0;
}
