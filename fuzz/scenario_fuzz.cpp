// libFuzzer entry point for the scenario loader of `leeway simulate`: any bytes in, a scenario
// or errors out; never a crash, a hang or an exception. The config it names is the same text.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "simulate/scenario.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using leeway::Result;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  leeway::config::FileReader read = [text](const std::string& path) -> Result<std::string> {
    if (path == "leeway.yaml") return std::string(text);
    return leeway::fail("no such file");
  };
  leeway::simulate::LoadResult result =
      leeway::simulate::load_scenario_text(text, "fuzz.yaml", read);
  if (result.ok() != result.scenario.has_value()) __builtin_trap();
  for (const auto& error : result.errors)
    if (error.message.empty() || error.file.empty()) __builtin_trap();
  return 0;
}
