// API tokens, hashed and compared with OpenSSL.
#include "http/auth.h"

#include <openssl/crypto.h>
#include <openssl/sha.h>

namespace leeway::http {

TokenHash hash_token(std::string_view token) {
  TokenHash hash;
  SHA256(reinterpret_cast<const unsigned char*>(token.data()), token.size(), hash.data());
  return hash;
}

const ApiToken* find_token(const std::vector<ApiToken>& tokens, std::string_view presented) {
  TokenHash hash = hash_token(presented);
  const ApiToken* found = nullptr;
  for (const auto& token : tokens)  // every one, found or not
    if (CRYPTO_memcmp(hash.data(), token.sha256.data(), hash.size()) == 0) found = &token;
  return found;
}

}  // namespace leeway::http
