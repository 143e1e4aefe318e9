// libFuzzer entry point for the DNS answer formatter: any reply bytes, read as each record type,
// give text records or an error, and the dns check's verdict on them; never a crash, a read
// outside the reply or an exception. What a result holds is then made safe as the engine and the
// CLI make it (core/text.h), and the promises are checked: valid UTF-8 for JSON and the store, no
// control character for a terminal, whatever a hostile server put in a TXT string.
// The first byte picks the record type and whether an expected answer is set; the rest is the
// reply as it came off the wire.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/text.h"
#include "probe/dns_format.h"

namespace {

constexpr const char* kTypes[] = {"A", "AAAA", "CNAME", "MX", "TXT", "NS"};

// What the CLI prints must not move the cursor, change colours or start a line: no C0, DEL or
// C1 control, and valid UTF-8 (bytes that were not are written as \xNN).
void check_terminal_safe(std::string_view text) {
  std::string shown = leeway::terminal_safe(text);
  if (!leeway::utf8_valid(shown)) __builtin_trap();
  for (std::size_t i = 0; i < shown.size(); ++i) {
    auto c = static_cast<unsigned char>(shown[i]);
    if (c < 0x20 || c == 0x7f) __builtin_trap();
    if (c == 0xc2 && i + 1 < shown.size() && static_cast<unsigned char>(shown[i + 1]) <= 0x9f)
      __builtin_trap();
  }
}

// What the engine does to every result's text before it is stored or sent as JSON.
void check_json_safe(std::string_view text) {
  std::string stored = leeway::utf8_safe(text);
  if (!leeway::utf8_valid(stored)) __builtin_trap();
  if (leeway::utf8_valid(text) && stored != text) __builtin_trap();  // valid text is kept
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace leeway::probe;
  if (size == 0) return 0;
  const std::string type = kTypes[data[0] % std::size(kTypes)];
  const bool expect = (data[0] / std::size(kTypes)) % 2 == 1;
  // The reply gets a buffer of its own, so ASan sees any read past its end.
  std::string reply(reinterpret_cast<const char*>(data + 1), size - 1);
  auto records = parse_records(reinterpret_cast<const unsigned char*>(reply.data()),
                               static_cast<int>(reply.size()), record_type_code(type));
  if (!records) {
    if (records.error().message.empty()) __builtin_trap();
    check_json_safe(records.error().message);
    return 0;
  }

  DnsAnswer answer;
  answer.rcode = rcode_name(reply.size() >= 4 ? reply[3] & 0x0f : 0);
  answer.records = *records;
  CheckSpec spec;
  spec.kind = Kind::kDns;
  spec.host = "example.com";
  spec.dns.record_type = type;
  if (expect) spec.dns.expect = "v=spf1 -all";
  ProbeResult result = judge_dns_answer(spec, answer);
  if (result.outcome != Outcome::kUp && result.error.empty()) __builtin_trap();
  for (const auto& record : answer.records) {
    check_json_safe(record);
    check_terminal_safe(record);
  }
  for (const std::string* text : {&result.answer, &result.error}) {
    check_json_safe(*text);
    check_terminal_safe(*text);
  }
  return 0;
}
