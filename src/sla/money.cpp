// Currencies, formatting and integer rounding of money.
#include "sla/money.h"

#include <array>
#include <charconv>
#include <optional>

#include <fmt/format.h>

namespace leeway::sla {

namespace {

// The currencies contracts are written in; ISO 4217 minor units. A code missing here is
// refused rather than guessed at.
constexpr std::array kCurrencies = {
    Currency{"KRW", 0, "₩"}, Currency{"JPY", 0, "¥"}, Currency{"USD", 2, "$"},
    Currency{"EUR", 2, "€"}, Currency{"GBP", 2, "£"}, Currency{"CNY", 2, "¥"},
    Currency{"CHF", 2, ""},  Currency{"CAD", 2, ""},  Currency{"AUD", 2, ""},
    Currency{"SGD", 2, ""},  Currency{"HKD", 2, ""},  Currency{"INR", 2, "₹"},
    Currency{"TWD", 2, ""},  Currency{"VND", 0, "₫"}, Currency{"KWD", 3, ""},
    Currency{"BHD", 3, ""},
};

std::string group_thousands(std::uint64_t n) {
  std::string digits = std::to_string(n);
  std::string out;
  for (std::size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return out;
}

std::uint64_t power_of_ten(int digits) {
  std::uint64_t p = 1;
  for (int i = 0; i < digits; ++i) p *= 10;
  return p;
}

bool all_digits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s)
    if (c < '0' || c > '9') return false;
  return true;
}

// "12.34" with at most `decimals` decimals, as an integer scaled by 10^decimals.
std::optional<std::int64_t> parse_scaled(std::string_view text, int decimals) {
  auto dot = text.find('.');
  std::string_view whole = text.substr(0, dot);
  std::string_view fraction = dot == std::string_view::npos ? "" : text.substr(dot + 1);
  if (!all_digits(whole) || whole.size() > 15) return std::nullopt;
  if (dot != std::string_view::npos && (!all_digits(fraction) || int(fraction.size()) > decimals))
    return std::nullopt;
  std::int64_t w = 0;
  std::from_chars(whole.data(), whole.data() + whole.size(), w);
  std::string padded(fraction);
  padded.resize(static_cast<std::size_t>(decimals), '0');
  std::int64_t f = 0;
  if (!padded.empty()) std::from_chars(padded.data(), padded.data() + padded.size(), f);
  return w * static_cast<std::int64_t>(power_of_ten(decimals)) + f;
}

}  // namespace

Result<Currency> find_currency(std::string_view code) {
  std::string known;
  for (const auto& c : kCurrencies) {
    if (c.code == code) return c;
    known += known.empty() ? "" : ", ";
    known += c.code;
  }
  return fail(fmt::format("unknown currency \"{}\"; expected an ISO 4217 code leeway knows: {}",
                          code, known));
}

std::string format_money(const Money& money, bool symbol) {
  Currency c = find_currency(money.currency).value();
  bool negative = money.minor_units < 0;
  std::uint64_t magnitude = negative ? 0 - static_cast<std::uint64_t>(money.minor_units)
                                     : static_cast<std::uint64_t>(money.minor_units);
  std::uint64_t unit = power_of_ten(c.digits);
  std::string number = group_thousands(magnitude / unit);
  if (c.digits > 0) number += fmt::format(".{:0{}}", magnitude % unit, c.digits);
  std::string sign = negative ? "-" : "";
  if (symbol && !c.symbol.empty()) return fmt::format("{}{}{}", sign, c.symbol, number);
  return fmt::format("{}{} {}", sign, c.code, number);
}

Result<Percentage> parse_percentage(std::string_view text) {
  if (!text.empty() && text.back() == '%') text.remove_suffix(1);
  auto scaled = parse_scaled(text, 4);
  if (!scaled || *scaled > kWholeMillionths)
    return fail(fmt::format(
        "expected a percentage from 0 to 100 with at most four decimals, like 99.95, got \"{}\"",
        text));
  return Percentage{*scaled};
}

std::string format_percentage(Percentage p) {
  std::int64_t whole = p.millionths / 10'000;
  std::int64_t fraction = p.millionths % 10'000;
  if (fraction == 0) return fmt::format("{}%", whole);
  std::string digits = fmt::format("{:04}", fraction);
  while (digits.back() == '0') digits.pop_back();
  return fmt::format("{}.{}%", whole, digits);
}

std::string_view rounding_name(Rounding rounding) {
  switch (rounding) {
    case Rounding::kHalfUp:
      return "half_up";
    case Rounding::kHalfEven:
      return "half_even";
    case Rounding::kDown:
      return "down";
    case Rounding::kUp:
      return "up";
  }
  return "";
}

Result<Rounding> parse_rounding(std::string_view text) {
  for (Rounding r : {Rounding::kHalfUp, Rounding::kHalfEven, Rounding::kDown, Rounding::kUp})
    if (rounding_name(r) == text) return r;
  return fail(
      fmt::format("expected a rounding rule: half_up, half_even, down or up, got \"{}\"", text));
}

std::int64_t divide_rounded(__int128 numerator, __int128 denominator, Rounding rounding) {
  bool negative = (numerator < 0) != (denominator < 0);
  __int128 n = numerator < 0 ? -numerator : numerator;
  __int128 d = denominator < 0 ? -denominator : denominator;
  __int128 q = n / d;
  __int128 r = n % d;
  bool up = false;
  switch (rounding) {
    case Rounding::kDown:
      break;
    case Rounding::kUp:
      up = r != 0;
      break;
    case Rounding::kHalfUp:
      up = 2 * r >= d;
      break;
    case Rounding::kHalfEven:
      up = 2 * r > d || (2 * r == d && q % 2 == 1);
      break;
  }
  if (up) ++q;
  return static_cast<std::int64_t>(negative ? -q : q);
}

Money percent_of(const Money& amount, Percentage percent, Rounding rounding) {
  __int128 product = static_cast<__int128>(amount.minor_units) * percent.millionths;
  return Money{divide_rounded(product, kWholeMillionths, rounding), amount.currency};
}

Result<Money> parse_money(std::string_view amount, const Currency& currency) {
  auto scaled = parse_scaled(amount, currency.digits);
  if (!scaled && currency.digits == 0)
    return fail(
        fmt::format("expected a whole amount of {} (it has no minor unit), like 1500000, "
                    "got \"{}\"",
                    currency.code, amount));
  if (!scaled)
    return fail(fmt::format(
        "expected an amount of {} in major units with at most {} decimals, like 1500.{}, got "
        "\"{}\"",
        currency.code, currency.digits, std::string(std::size_t(currency.digits), '0'), amount));
  return Money{*scaled, std::string(currency.code)};
}

}  // namespace leeway::sla
