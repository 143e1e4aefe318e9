// A token's hash as the config takes it ("sha256:" and 64 hex digits), for tests that write
// configs with agent or API tokens.
#pragma once

#include <cstdio>
#include <string>

#include "http/server.h"

namespace leeway::testing {

inline std::string token_hash_text(const std::string& token) {
  std::string out = "sha256:";
  char digits[3];
  for (unsigned char b : http::hash_token(token)) {
    std::snprintf(digits, sizeof digits, "%02x", b);
    out += digits;
  }
  return out;
}

}  // namespace leeway::testing
