// Money in integer minor units with an ISO 4217 currency, and exact percentages of it with a
// named rounding rule. Never a float: a client must be able to recompute every figure.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/result.h"

namespace leeway::sla {

// A currency leeway knows: its ISO 4217 code, minor-unit digits (KRW 0, USD 2) and symbol.
struct Currency {
  std::string_view code;
  int digits = 2;
  std::string_view symbol;  // "₩", "$"; "" when the code alone is used
};

// The currency with this code ("KRW"), or an error listing what is known.
Result<Currency> find_currency(std::string_view code);

// An amount of money: minor units (won, cents) of a currency.
struct Money {
  std::int64_t minor_units = 0;
  std::string currency;  // ISO 4217 code, e.g. "KRW"
  bool operator==(const Money&) const = default;
};

// "KRW 1,234,000", "USD 12.34"; with `symbol`, "₩1,234,000", "$12.34". Negative: "-USD 1.00".
// REQUIRES: a known currency.
std::string format_money(const Money& money, bool symbol = false);

// A percentage kept exactly, in millionths of the whole: 100% is 1,000,000 and 99.9999% is
// 999,999, so every percentage with at most four decimals is exact.
struct Percentage {
  std::int64_t millionths = 0;
  bool operator==(const Percentage&) const = default;
  auto operator<=>(const Percentage&) const = default;
};
inline constexpr std::int64_t kWholeMillionths = 1'000'000;

// "99.95", "10", "99.9999", optionally followed by "%"; 0 to 100 with at most four decimals.
Result<Percentage> parse_percentage(std::string_view text);

// "99.95%": the shortest exact text, with "%".
std::string format_percentage(Percentage p);

// How a fraction of a minor unit is resolved. Named so a contract says which it uses.
enum class Rounding {
  kHalfUp,    // to the nearest; a half goes away from zero (the usual commercial rule)
  kHalfEven,  // to the nearest; a half goes to the even unit (banker's rounding)
  kDown,      // toward zero: never more than the exact amount
  kUp,        // away from zero: never less than the exact amount
};

// "half_up", "half_even", "down", "up": as written in config and reports.
std::string_view rounding_name(Rounding rounding);
Result<Rounding> parse_rounding(std::string_view text);

// `percent` of `amount`, in the amount's minor units, rounded by `rounding`. Exact in integers.
Money percent_of(const Money& amount, Percentage percent, Rounding rounding);

// numerator / denominator rounded by `rounding`. REQUIRES: denominator > 0.
std::int64_t divide_rounded(__int128 numerator, __int128 denominator, Rounding rounding);

// Parses an amount written in major units, "1234000" for KRW or "12.34" for USD, with no more
// decimals than the currency has, into minor units.
Result<Money> parse_money(std::string_view amount, const Currency& currency);

}  // namespace leeway::sla
