// The OpenSLO import's common readers: messages at a line, fields, the documents of a stream,
// duration shorthands and exact fractions.
#include "slo/openslo_read.h"

#include <algorithm>
#include <charconv>
#include <sstream>

#include <fmt/format.h>

#include "yaml/documents.h"

namespace leeway::slo::openslo {

namespace {

int line_of(const YAML::Node& node) {
  return node.IsDefined() && !node.Mark().is_null() ? node.Mark().line + 1 : 0;
}

// Kinds that carry nothing a leeway SLO keeps: where a foreign metric comes from, and where
// notifications go.
constexpr std::string_view kSkippedKinds[] = {"DataSource", "AlertNotificationTarget"};

}  // namespace

void Messages::error(const YAML::Node& at, std::string_view message) {
  errors.push_back(fmt::format("{}:{}: {}", file, line_of(at), message));
}

void Messages::warning(const YAML::Node& at, std::string_view message) {
  warnings.push_back(fmt::format("{}:{}: warning: {}", file, line_of(at), message));
}

std::string Field::text() const {
  return value.IsScalar() ? value.Scalar() : "";
}

Field field(const YAML::Node& map, std::string_view name) {
  if (!map.IsMap()) return {};
  for (const auto& entry : map)
    if (entry.first.IsScalar() && entry.first.Scalar() == name) {
      // A key without a value ("spec:") is a null node with no position: keep the key's.
      return Field{entry.first, entry.second, true};
    }
  return {};
}

Documents read_documents(std::string_view text, Messages& messages) {
  Documents out;
  std::vector<YAML::Node> documents;
  std::string source(text);
  try {
    if (auto stuck = yaml::scan_documents(source).stuck) {
      messages.errors.push_back(fmt::format("{}:{}: invalid YAML", messages.file, stuck->line + 1));
      return out;
    }
    documents = YAML::LoadAll(source);
  } catch (const YAML::Exception& e) {
    messages.errors.push_back(fmt::format("{}:{}: invalid YAML: {}", messages.file,
                                          e.mark.is_null() ? 0 : e.mark.line + 1, e.msg));
    return out;
  }
  for (const auto& document : documents) {
    if (document.IsNull()) continue;
    if (!document.IsMap()) {
      messages.error(document, "expected an OpenSLO document: a map with apiVersion and kind");
      continue;
    }
    Field api = field(document, "apiVersion");
    Field kind = field(document, "kind");
    if (api.text() != "openslo/v1") {
      messages.error(api ? api.key : document,
                     fmt::format("apiVersion: expected openslo/v1, got \"{}\"", api.text()));
      continue;
    }
    std::string k = kind.text();
    if (std::find(std::begin(kSkippedKinds), std::end(kSkippedKinds), k) !=
            std::end(kSkippedKinds) ||
        k == "Service")
      continue;
    if (k == "SLO") {
      out.slos.push_back(document);
      continue;
    }
    auto* by_name = k == "SLI"              ? &out.slis
                    : k == "AlertPolicy"    ? &out.alert_policies
                    : k == "AlertCondition" ? &out.alert_conditions
                                            : nullptr;
    if (!by_name) {
      messages.error(kind ? kind.key : document,
                     fmt::format("kind: expected SLO, SLI, AlertPolicy, AlertCondition, Service, "
                                 "DataSource or AlertNotificationTarget, got \"{}\"",
                                 k));
      continue;
    }
    Field name = field(field(document, "metadata").value, "name");
    if (name.text().empty()) {
      messages.error(document, fmt::format("metadata.name: required for a {}", k));
      continue;
    }
    if (!by_name->emplace(name.text(), document).second)
      messages.error(name.key, fmt::format("metadata.name: a second {} named {}", k, name.text()));
  }
  return out;
}

std::optional<DurationUs> Shorthand::fixed_us() const {
  switch (unit) {
    case 'm':
      return count * kMinuteUs;
    case 'h':
      return count * kHourUs;
    case 'd':
      return count * kDayUs;
    case 'w':
      return count * 7 * kDayUs;
    default:
      return std::nullopt;
  }
}

std::optional<Shorthand> parse_shorthand(std::string_view text) {
  if (text.size() < 2 || text.size() > 8) return std::nullopt;
  Shorthand s;
  s.unit = text.back();
  if (std::string_view("mhdwMQY").find(s.unit) == std::string_view::npos) return std::nullopt;
  auto digits = text.substr(0, text.size() - 1);
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), s.count);
  if (ec != std::errc() || end != digits.data() + digits.size() || s.count < 0) return std::nullopt;
  return s;
}

DurationUs paired_short_window(DurationUs long_us) {
  for (const auto& c : default_burn_conditions())
    if (c.long_us == long_us) return c.short_us;
  return 0;
}

std::optional<Ratio> parse_fraction(std::string_view text) {
  constexpr int kDecimals = 9;  // a Ratio holds billionths
  auto dot = text.find('.');
  std::string_view whole = text.substr(0, dot);
  std::string fraction(dot == std::string_view::npos ? "" : text.substr(dot + 1));
  if ((whole != "0" && whole != "1") || fraction.size() > kDecimals ||
      (dot != std::string_view::npos && fraction.empty()) ||
      !std::all_of(fraction.begin(), fraction.end(), [](char c) { return c >= '0' && c <= '9'; }))
    return std::nullopt;
  fraction.resize(kDecimals, '0');
  std::int64_t billionths = 0;
  std::from_chars(fraction.data(), fraction.data() + fraction.size(), billionths);
  if (whole == "1") {
    if (billionths != 0) return std::nullopt;
    return Ratio{1'000'000'000};
  }
  return Ratio{billionths};
}

}  // namespace leeway::slo::openslo
