// libFuzzer entry point for the agent API's batch decoder, which reads what an agent (or anyone
// with a token) posts: any body is a batch or an error, never a crash; a batch's valid results
// encode back (result_to_json) to a batch that decodes to the same results.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "agent/wire.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace leeway::agent;
  auto batch = batch_from_json(std::string_view(reinterpret_cast<const char*>(data), size), "a");
  if (!batch || batch->location != "a") return 0;
  nlohmann::json results = nlohmann::json::array();
  for (const auto& r : batch->results) results.push_back(result_to_json(r));
  nlohmann::json again = {{"batch", "b"}, {"location", "a"}, {"sent_us", 1}, {"results", results}};
  auto back =
      batch_from_json(again.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace), "a");
  if (!back || back->bad_result || back->results.size() != batch->results.size()) __builtin_trap();
  return 0;
}
