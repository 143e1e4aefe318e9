#include "http/auth.h"

#include <gtest/gtest.h>

namespace leeway::http {
namespace {

TEST(ApiTokens, HashIsSha256) {
  // FIPS 180-2's example: SHA-256("abc").
  TokenHash abc = {0xba, 0x78, 0x16, 0xbf, 0x8f, 0x01, 0xcf, 0xea, 0x41, 0x41, 0x40,
                   0xde, 0x5d, 0xae, 0x22, 0x23, 0xb0, 0x03, 0x61, 0xa3, 0x96, 0x17,
                   0x7a, 0x9c, 0xb4, 0x10, 0xff, 0x61, 0xf2, 0x00, 0x15, 0xad};
  EXPECT_EQ(hash_token("abc"), abc);
}

TEST(ApiTokens, FindsTheTokenPresentedAndNothingElse) {
  std::vector<ApiToken> tokens = {{"ops", hash_token("one")}, {"ci", hash_token("two")}};
  ASSERT_NE(find_token(tokens, "two"), nullptr);
  EXPECT_EQ(find_token(tokens, "two")->name, "ci");
  EXPECT_EQ(find_token(tokens, "one")->name, "ops");
  EXPECT_EQ(find_token(tokens, "tw"), nullptr);
  EXPECT_EQ(find_token(tokens, ""), nullptr);
  EXPECT_EQ(find_token({}, "one"), nullptr);
}

}  // namespace
}  // namespace leeway::http
