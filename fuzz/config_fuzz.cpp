// libFuzzer entry point for the config loader: any bytes in, a config or errors out; never a
// crash, a hang or an exception. `make fuzz` runs it under libFuzzer (the clang `fuzz` preset);
// `make test` replays the saved inputs through fuzz/replay_main.cpp.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "config/config.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using leeway::Result;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  // One includable file, with the same text, so include handling (and cycles) is exercised
  // without touching the disk.
  leeway::config::FileReader read = [text](const std::string& path) -> Result<std::string> {
    if (path == "again.yaml") return std::string(text);
    return leeway::fail("no such file");
  };
  leeway::config::LoadResult result = leeway::config::load_config_text(text, "fuzz.yaml", read);
  if (result.ok() != result.config.has_value()) __builtin_trap();
  for (const auto& error : result.errors)
    if (error.message.empty() || error.file.empty()) __builtin_trap();
  return 0;
}
