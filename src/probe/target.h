// What may be shown of a check's target to people: the target without its credentials.
#pragma once

#include <string>
#include <string_view>

namespace leeway::probe {

// The target with the password of its user info masked ("http://user:pass@host/" becomes
// "http://user:***@host/"), or all of the user info when there is no password, since a lone user
// name is often a token ("https://TOKEN@host/" becomes "https://***@host/"). Anything without
// user info comes back unchanged.
std::string redact_credentials(std::string_view target);

}  // namespace leeway::probe
