// libFuzzer entry point for the SQLite store's chunk decoder, which reads bytes from the database
// file: a damaged chunk is an error, never a crash; a chunk that decodes encodes back to rows that
// decode the same.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "store/detail.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace leeway::store::detail;
  auto rows = decode_chunk(std::string_view(reinterpret_cast<const char*>(data), size));
  if (!rows) return 0;
  auto again = decode_chunk(encode_chunk(*rows));
  if (!again || *again != *rows) __builtin_trap();
  return 0;
}
