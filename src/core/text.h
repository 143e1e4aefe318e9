// Text from outside (peers' bytes, DNS answers, banners, config files, argv) made safe for where
// it goes: JSON and the store need valid UTF-8, a terminal needs no control characters.
#pragma once

#include <string>
#include <string_view>

namespace leeway {

// Whether `text` is well-formed UTF-8: no stray continuation bytes, no overlong forms, no
// surrogates, nothing above U+10FFFF. NUL and other control characters are valid UTF-8.
bool utf8_valid(std::string_view text);

// `text` with every byte that is not part of well-formed UTF-8 replaced by U+FFFD, so it can go
// into JSON and the store. Valid text comes back unchanged.
std::string utf8_safe(std::string_view text);

// `text` for a terminal or a one-line log: control characters (C0, DEL, C1 such as CSI) and
// bytes that are not well-formed UTF-8 are written as \xNN, and a backslash as \\, so the text
// cannot move the cursor, change colours or start a line of its own. Printable UTF-8 is kept.
std::string terminal_safe(std::string_view text);

}  // namespace leeway
