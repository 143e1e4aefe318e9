#include "core/text.h"

#include <gtest/gtest.h>

namespace leeway {
namespace {

TEST(Utf8Valid, AcceptsWellFormedAndRejectsTheRest) {
  EXPECT_TRUE(utf8_valid(""));
  EXPECT_TRUE(utf8_valid("plain ascii"));
  EXPECT_TRUE(utf8_valid("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"));
  EXPECT_TRUE(utf8_valid(std::string("nul\0inside", 10)));
  EXPECT_FALSE(utf8_valid("\xfe"));
  EXPECT_FALSE(utf8_valid("\xff\xfe"));
  EXPECT_FALSE(utf8_valid("\x80"));              // a continuation byte alone
  EXPECT_FALSE(utf8_valid("\xc3"));              // cut short
  EXPECT_FALSE(utf8_valid("\xc0\xaf"));          // overlong '/'
  EXPECT_FALSE(utf8_valid("\xe0\x80\xaf"));      // overlong
  EXPECT_FALSE(utf8_valid("\xed\xa0\x80"));      // a surrogate
  EXPECT_FALSE(utf8_valid("\xf4\x90\x80\x80"));  // above U+10FFFF
}

TEST(Utf8Safe, ReplacesEachBadByteAndKeepsTheRest) {
  EXPECT_EQ(utf8_safe("caf\xc3\xa9"), "caf\xc3\xa9");
  EXPECT_EQ(utf8_safe("a\xfe"
                      "b"),
            "a\xef\xbf\xbd"
            "b");
  EXPECT_EQ(utf8_safe("\xc3"), "\xef\xbf\xbd");
  EXPECT_EQ(utf8_safe("\xc0\xaf"), "\xef\xbf\xbd\xef\xbf\xbd");
  EXPECT_TRUE(utf8_valid(utf8_safe("\xff\xfe\xfd\xe2\x82")));
}

TEST(TerminalSafe, EscapesControlsAndBadBytes) {
  EXPECT_EQ(terminal_safe("v=spf1 -all"), "v=spf1 -all");
  EXPECT_EQ(terminal_safe("caf\xc3\xa9"), "caf\xc3\xa9");
  EXPECT_EQ(terminal_safe("\x1b[2J\r\nUP forged"), "\\x1b[2J\\x0d\\x0aUP forged");
  EXPECT_EQ(terminal_safe("tab\tdel\x7f"), "tab\\x09del\\x7f");
  EXPECT_EQ(terminal_safe("\xc2\x9b"
                          "31m"),
            "\\xc2\\x9b31m");  // C1 CSI
  EXPECT_EQ(terminal_safe("\xfe\xff"), "\\xfe\\xff");
  EXPECT_EQ(terminal_safe(std::string("a\0b", 3)), "a\\x00b");
  EXPECT_EQ(terminal_safe("back\\x1b"), "back\\\\x1b");  // an escape cannot be faked
}

}  // namespace
}  // namespace leeway
