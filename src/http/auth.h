// API tokens: who may use the server's write routes. A token is kept only as its SHA-256 (in the
// config), compared in constant time, and never logged: only its holder's name is.
#pragma once

#include <array>
#include <string>
#include <string_view>
#include <vector>

namespace leeway::http {

using TokenHash = std::array<unsigned char, 32>;

// A token that may write: who holds it and the SHA-256 of the token.
struct ApiToken {
  std::string name;
  TokenHash sha256{};
};

// The SHA-256 of a token.
TokenHash hash_token(std::string_view token);

// The token among `tokens` that `presented` is, or nullptr. Its time does not depend on how much
// of a hash matches.
const ApiToken* find_token(const std::vector<ApiToken>& tokens, std::string_view presented);

}  // namespace leeway::http
