// UTF-8 validation (RFC 3629's well-formed byte sequences) and the two ways of making outside
// text safe that the rest of leeway uses.
#include "core/text.h"

#include <fmt/format.h>

namespace leeway {

namespace {

// The length of the well-formed UTF-8 sequence at the start of `text`, or 0 when there is none.
std::size_t sequence_length(std::string_view text) {
  auto byte = [&](std::size_t i) { return static_cast<unsigned char>(text[i]); };
  unsigned char first = byte(0);
  if (first < 0x80) return 1;
  std::size_t length = 0;
  unsigned char lo = 0x80, hi = 0xbf;  // the range of the second byte
  if (first >= 0xc2 && first <= 0xdf) {
    length = 2;
  } else if (first >= 0xe0 && first <= 0xef) {
    length = 3;
    if (first == 0xe0) lo = 0xa0;  // overlong
    if (first == 0xed) hi = 0x9f;  // surrogates
  } else if (first >= 0xf0 && first <= 0xf4) {
    length = 4;
    if (first == 0xf0) lo = 0x90;  // overlong
    if (first == 0xf4) hi = 0x8f;  // above U+10FFFF
  } else {
    return 0;
  }
  if (text.size() < length || byte(1) < lo || byte(1) > hi) return 0;
  for (std::size_t i = 2; i < length; ++i)
    if (byte(i) < 0x80 || byte(i) > 0xbf) return 0;
  return length;
}

}  // namespace

bool utf8_valid(std::string_view text) {
  while (!text.empty()) {
    std::size_t n = sequence_length(text);
    if (n == 0) return false;
    text.remove_prefix(n);
  }
  return true;
}

std::string utf8_safe(std::string_view text) {
  if (utf8_valid(text)) return std::string(text);
  std::string out;
  out.reserve(text.size() + 8);
  while (!text.empty()) {
    std::size_t n = sequence_length(text);
    if (n == 0) {
      out += "\xef\xbf\xbd";  // U+FFFD REPLACEMENT CHARACTER
      n = 1;
    } else {
      out.append(text.substr(0, n));
    }
    text.remove_prefix(n);
  }
  return out;
}

std::string terminal_safe(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  while (!text.empty()) {
    std::size_t n = sequence_length(text);
    auto first = static_cast<unsigned char>(text[0]);
    // C1 controls (U+0080..U+009F) are two bytes, 0xc2 0x80..0x9f: some terminals obey them.
    bool c1 = n == 2 && first == 0xc2 && static_cast<unsigned char>(text[1]) <= 0x9f;
    if (n == 0 || first < 0x20 || first == 0x7f || c1) {
      std::size_t bad = n == 0 ? 1 : n;
      for (std::size_t i = 0; i < bad; ++i)
        out += fmt::format("\\x{:02x}", static_cast<unsigned char>(text[i]));
      n = bad;
    } else if (first == '\\') {
      out += "\\\\";
    } else {
      out.append(text.substr(0, n));
    }
    text.remove_prefix(n);
  }
  return out;
}

}  // namespace leeway
