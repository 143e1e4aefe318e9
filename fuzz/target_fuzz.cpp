// libFuzzer entry point for the target URL parser (`leeway check URL`, a check's `target`):
// any bytes give a check or a clear error; never a crash or an exception.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "probe/types.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto spec = leeway::probe::parse_target(text);
  if (!spec && spec.error().message.empty()) __builtin_trap();
  return 0;
}
