// OpenSLO SLIs (inline or by indicatorRef) read as what a leeway SLO reads: its SLI and the
// checks, named by leeway metric sources or bound with --check.
#include <algorithm>
#include <cctype>

#include <fmt/format.h>

#include "slo/openslo.h"
#include "slo/openslo_read.h"

namespace leeway::slo::openslo {

bool is_id(std::string_view text) {
  return !text.empty() && std::all_of(text.begin(), text.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.';
  });
}

namespace {

// "NAME" or "SERVICE/NAME" as a check id; "" when it is neither.
std::string qualify(const std::string& check, const std::string& service) {
  auto slash = check.find('/');
  std::string id = slash == std::string::npos ? service + "/" + check : check;
  slash = id.find('/');
  if (slash == std::string::npos || !is_id(id.substr(0, slash)) || !is_id(id.substr(slash + 1)))
    return "";
  return id;
}

class SliReader {
 public:
  SliReader(const Documents& documents, Messages& messages, const std::string& check)
      : documents_(documents), messages_(messages), check_(check) {}

  // The SLI's own spec (thresholdMetric or ratioMetric), inline or by indicatorRef.
  std::optional<Binding> read_indicator(const Field& spec, const std::string& service) {
    Field inline_sli = field(spec.value, "indicator");
    Field ref = field(spec.value, "indicatorRef");
    if (inline_sli) return read_sli(field(inline_sli.value, "spec"), inline_sli.key, service);
    if (ref) {
      auto it = documents_.slis.find(ref.text());
      if (it == documents_.slis.end()) {
        error(ref.key, fmt::format("indicatorRef: no SLI named {} in the file", ref.text()));
        return std::nullopt;
      }
      return read_sli(field(it->second, "spec"), it->second, service);
    }
    Field objectives = field(spec.value, "objectives");
    if (objectives.value.IsSequence())
      for (const auto& o : objectives.value)
        if (field(o, "indicator") || field(o, "indicatorRef")) {
          error(o,
                "objectives: a composite SLO (an indicator per objective) has no leeway "
                "equivalent: import each part as its own SLO");
          return std::nullopt;
        }
    error(spec ? spec.key : YAML::Node(), "spec: an SLO needs an indicator or an indicatorRef");
    return std::nullopt;
  }

  // An SLI spec: its metric sources, leeway's or bound with --check.
  std::optional<Binding> read_sli(const Field& spec, const YAML::Node& at,
                                  const std::string& service) {
    Field threshold = field(spec.value, "thresholdMetric");
    Field ratio = field(spec.value, "ratioMetric");
    std::vector<Field> sources;
    if (threshold) {
      sources.push_back(field(threshold.value, "metricSource"));
    } else if (ratio) {
      for (const char* part : {"good", "bad", "total", "raw"})
        if (Field f = field(ratio.value, part)) sources.push_back(field(f.value, "metricSource"));
    } else {
      error(spec ? spec.key : at, "spec: an SLI needs a thresholdMetric or a ratioMetric");
      return std::nullopt;
    }
    if (sources.empty()) {
      error(ratio.key, "ratioMetric: expected good (or bad) and total, each with a metricSource");
      return std::nullopt;
    }
    Sli natural = threshold ? Sli::kLatency : Sli::kAvailabilityRuns;
    std::optional<Binding> found;
    for (const Field& source : sources) {
      if (!source) {
        error(threshold ? threshold.key : ratio.key, "metricSource: required");
        return std::nullopt;
      }
      if (field(source.value, "type").text() != kLeewayMetricSource) {
        if (!check_.empty()) continue;
        error(source.key,
              fmt::format("metricSource: type {} is not leeway's: bind the SLI to a leeway check "
                          "with --check ID, or write metricSource: {{type: leeway, spec: {{check: "
                          "ID}}}}",
                          field(source.value, "type").text()));
        return std::nullopt;
      }
      auto binding = read_leeway_source(source, natural, service);
      if (!binding) return std::nullopt;
      if (found && (found->sli != binding->sli || found->checks != binding->checks)) {
        error(source.key, "metricSource: the SLI's leeway sources name different checks or SLIs");
        return std::nullopt;
      }
      found = binding;
    }
    if (found) return found;
    // Every source is foreign, and --check binds them.
    std::string id = qualify(check_, service);
    if (id.empty()) {
      error(sources.front().key,
            fmt::format("--check: expected NAME or SERVICE/NAME, got \"{}\"", check_));
      return std::nullopt;
    }
    return Binding{natural, {id}, true};
  }

  // `metricSource: {type: leeway, spec: {check: ID | checks: [IDs], sli: NAME}}`.
  std::optional<Binding> read_leeway_source(const Field& source, Sli natural,
                                            const std::string& service) {
    Field spec = field(source.value, "spec");
    Binding out{natural, {}, false};
    for (const auto& entry : spec.value.IsMap() ? spec.value : YAML::Node(YAML::NodeType::Map)) {
      std::string key = entry.first.Scalar();
      if (key != "check" && key != "checks" && key != "sli") {
        error(entry.first,
              fmt::format("{}: a leeway metric source takes check, checks and sli", key));
        return std::nullopt;
      }
    }
    Field sli = field(spec.value, "sli");
    if (sli) {
      auto named = sli_from_string(sli.text());
      if (!named || (*named == Sli::kLatency) != (natural == Sli::kLatency)) {
        error(sli.key, fmt::format("sli: expected {}, got \"{}\"",
                                   natural == Sli::kLatency
                                       ? "latency for a thresholdMetric"
                                       : "availability_runs or availability_minutes for a "
                                         "ratioMetric",
                                   sli.text()));
        return std::nullopt;
      }
      out.sli = *named;
    }
    std::vector<YAML::Node> names;
    if (Field one = field(spec.value, "check")) names.push_back(one.value);
    if (Field many = field(spec.value, "checks"); many.value.IsSequence())
      for (const auto& n : many.value) names.push_back(n);
    if (names.empty()) {
      error(spec ? spec.key : source.key,
            "spec: a leeway metric source names its check: "
            "{check: SERVICE/NAME} or {checks: [...]}");
      return std::nullopt;
    }
    for (const auto& n : names) {
      std::string id = qualify(n.IsScalar() ? n.Scalar() : "", service);
      if (id.empty()) {
        error(n, "check: expected NAME or SERVICE/NAME");
        return std::nullopt;
      }
      if (!out.checks.empty() && id.substr(0, id.find('/')) !=
                                     out.checks.front().substr(0, out.checks.front().find('/'))) {
        error(n, "check: an SLO reads the checks of one service");
        return std::nullopt;
      }
      if (std::find(out.checks.begin(), out.checks.end(), id) != out.checks.end()) {
        error(n, fmt::format("check: {} listed twice", id));
        return std::nullopt;
      }
      out.checks.push_back(id);
    }
    return out;
  }

 private:
  void error(const YAML::Node& at, std::string_view message) { messages_.error(at, message); }

  const Documents& documents_;
  Messages& messages_;
  const std::string& check_;
};

}  // namespace

std::optional<Binding> read_indicator(const Field& spec, const std::string& service,
                                      const Documents& documents, const std::string& check,
                                      Messages& messages) {
  return SliReader(documents, messages, check).read_indicator(spec, service);
}

}  // namespace leeway::slo::openslo
