// libFuzzer entry point for the OpenSLO import: any bytes in, SLOs or errors out, never a crash,
// a hang or an exception; and what imports exports and imports back to the same SLOs.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "slo/openslo.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  leeway::slo::OpenSloImport imported = leeway::slo::import_openslo(text, "fuzz.yaml", "home");
  if (imported.ok() == imported.slos.empty() && imported.ok()) __builtin_trap();
  if (!imported.ok()) return 0;
  auto again = leeway::slo::import_openslo(leeway::slo::export_openslo(imported.slos), "export");
  if (!again.ok() || again.slos != imported.slos) __builtin_trap();
  return 0;
}
