// The scenario loader: yaml-cpp parses; this file checks each key and names every mistake with
// its file:line:column. The config part goes to config::load_config, the daemon's own loader:
// inline, the scenario's own keys are blanked out line for line, so its errors keep their lines.
#include "simulate/scenario.h"

#include <algorithm>
#include <filesystem>
#include <map>
#include <span>

#include <fmt/format.h>

#include "config/yaml_document.h"
#include "core/text.h"

namespace leeway::simulate {

namespace {

// The scenario's own keys; the others are the config's sections, given inline.
constexpr std::string_view kScenarioKeys[] = {
    "config", "from", "to", "failures", "silences", "reference_failures", "changes", "maintenance"};
constexpr std::string_view kConfigSections[] = {"server",     "locations", "defaults",  "services",
                                                "references", "incidents", "contracts", "include"};

bool listed(std::span<const std::string_view> names, std::string_view name) {
  return std::find(names.begin(), names.end(), name) != names.end();
}

std::string shown(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Scalar: {
      std::string_view text = node.Scalar();
      return fmt::format("\"{}{}\"", terminal_safe(text.substr(0, 60)),
                         text.size() > 60 ? "..." : "");
    }
    case YAML::NodeType::Sequence:
      return "a list";
    case YAML::NodeType::Map:
      return "a map";
    default:
      return "nothing";
  }
}

// A key and its value.
struct Field {
  YAML::Node key, value;
  std::string name() const { return key.Scalar(); }
};
using Fields = std::map<std::string, Field, std::less<>>;

class Parser {
 public:
  Parser(std::string file, const config::FileReader& read) : file_(std::move(file)), read_(read) {}

  LoadResult parse(std::string_view text) {
    YAML::Node root;
    if (auto problem = config::load_document(std::string(text), root)) {
      errors_.push_back({file_, problem->line, problem->column, problem->message});
      return finish();
    }
    if (!root.IsMap() || root.Style() == YAML::EmitterStyle::Flow) {
      error(root, fmt::format("expected a map of keys, one a line (from, to, config or the "
                              "config's sections, failures, ...), got {}",
                              root.IsMap() ? "a map in braces" : shown(root)));
      return finish();
    }
    Fields fields = keys(root, "", {}, /*any=*/true);
    const Field* from = find(fields, "from");
    const Field* to = find(fields, "to");
    if (!from) error(root, "from: required key is missing");
    if (!to) error(root, "to: required key is missing");
    if (from) scenario_.from_us = time(*from, /*relative=*/false).value_or(0);
    if (to) scenario_.to_us = time(*to).value_or(0);
    if (from && to && scenario_.to_us <= scenario_.from_us && errors_.empty())
      error(to->value, "to: expected a time after `from`");

    load_config(text, fields);
    for (const auto& [name, field] : fields) {
      if (name == "failures" || name == "reference_failures") {
        for (const auto& item : items(field)) fault(item, name == "reference_failures");
      } else if (name == "silences") {
        for (const auto& item : items(field)) silence(item);
      } else if (name == "changes") {
        for (const auto& item : items(field)) change(item);
      } else if (name == "maintenance") {
        for (const auto& item : items(field)) maintenance(item);
      }
    }
    if (to && config_) bound_results(*to);
    return finish();
  }

 private:
  LoadResult finish() {
    LoadResult result;
    std::stable_sort(errors_.begin(), errors_.end(), [](const auto& a, const auto& b) {
      return std::tie(a.file, a.line, a.column) < std::tie(b.file, b.line, b.column);
    });
    result.errors = std::move(errors_);
    if (result.errors.empty()) {
      scenario_.file = file_;
      scenario_.config = std::move(*config_);
      result.scenario = std::move(scenario_);
    }
    return result;
  }

  void error(const YAML::Node& node, std::string message) {
    const YAML::Mark mark = node.Mark();
    if (mark.is_null()) {
      errors_.push_back({file_, 0, 0, std::move(message)});
    } else {
      errors_.push_back({file_, mark.line + 1, mark.column + 1, std::move(message)});
    }
  }
  // A null value has no mark of its own: its key's is used.
  void error(const Field& field, std::string message) {
    error(field.value.IsNull() || field.value.Mark().is_null() ? field.key : field.value,
          fmt::format("{}: {}", field.name(), message));
  }

  static const Field* find(const Fields& fields, std::string_view name) {
    auto it = fields.find(name);
    return it == fields.end() ? nullptr : &it->second;
  }

  // The keys of a map, checked against `allowed` (all the scenario's top-level keys when `any`).
  Fields keys(const YAML::Node& map, std::string_view what,
              std::initializer_list<std::string_view> allowed, bool any = false) {
    Fields fields;
    for (auto it = map.begin(); it != map.end(); ++it) {
      Field field{it->first, it->second};
      if (!field.key.IsScalar()) {
        error(field.key, fmt::format("expected a key name, got {}", shown(field.key)));
        continue;
      }
      const std::string name = field.name();
      const bool known = any ? listed(kScenarioKeys, name) || listed(kConfigSections, name)
                             : listed(std::span(allowed.begin(), allowed.size()), name);
      if (!known) {
        std::string names;
        for (auto n : any ? std::span<const std::string_view>(kScenarioKeys)
                          : std::span(allowed.begin(), allowed.size()))
          names += (names.empty() ? "" : ", ") + std::string(n);
        if (any) names += " or the config's sections";
        error(field.key, fmt::format("{}: unknown key{}; expected {}", shown(field.key),
                                     what.empty() ? "" : fmt::format(" in {}", what), names));
        continue;
      }
      if (auto [first, added] = fields.emplace(name, field); !added)
        error(field.key, fmt::format("{}: set twice; first at line {}", name,
                                     first->second.key.Mark().line + 1));
    }
    return fields;
  }

  // The maps of a list section, each checked to be a map.
  std::vector<YAML::Node> items(const Field& field) {
    std::vector<YAML::Node> out;
    if (field.value.IsNull()) return out;
    if (!field.value.IsSequence()) {
      error(field, fmt::format("expected a list, got {}", shown(field.value)));
      return out;
    }
    for (const auto& item : field.value) {
      if (item.IsMap()) {
        out.push_back(item);
      } else {
        error(item, fmt::format("{}: expected a map of keys, got {}", field.name(), shown(item)));
      }
    }
    return out;
  }

  // A time in UTC ("2026-10-05T11:16:40Z"), or one relative to `from` ("+16m40s").
  std::optional<TimeUs> time(const Field& field, bool relative = true) {
    if (field.value.IsScalar()) {
      std::string_view text = field.value.Scalar();
      if (relative && text.starts_with('+')) {
        if (auto d = parse_duration(text.substr(1)); d && *d >= 0) return scenario_.from_us + *d;
      } else if (auto t = parse_rfc3339(text)) {
        return *t;
      }
    }
    error(field, fmt::format("expected a time in UTC like 2026-10-05T11:16:40Z{}, got {}",
                             relative ? ", or +DURATION after `from` like +16m40s" : "",
                             shown(field.value)));
    return std::nullopt;
  }

  // A required time range: `from` and `to` of a list item, to after from.
  bool range(const YAML::Node& item, const Fields& fields, TimeUs& from_us, TimeUs& to_us) {
    const Field* from = find(fields, "from");
    const Field* to = find(fields, "to");
    if (!from) error(item, "from: required key is missing");
    if (!to) error(item, "to: required key is missing");
    if (!from || !to) return false;
    auto f = time(*from);
    auto t = time(*to);
    if (!f || !t) return false;
    if (*t <= *f) {
      error(*to, "expected a time after `from`");
      return false;
    }
    from_us = *f;
    to_us = *t;
    return true;
  }

  // A name or a list of names.
  std::vector<std::string> names(const Field& field) {
    std::vector<std::string> out;
    std::vector<YAML::Node> nodes;
    if (field.value.IsSequence()) {
      for (const auto& n : field.value) nodes.push_back(n);
    } else {
      nodes.push_back(field.value);
    }
    for (const auto& n : nodes) {
      if (n.IsScalar() && !n.Scalar().empty()) {
        out.push_back(n.Scalar());
      } else {
        error(
            n.IsNull() ? field.key : n,
            fmt::format("{}: expected a name or a list of names, got {}", field.name(), shown(n)));
      }
    }
    return out;
  }

  std::string text(const Fields& fields, std::string_view name) {
    const Field* field = find(fields, name);
    if (!field) return "";
    if (field->value.IsScalar()) return field->value.Scalar();
    error(*field, fmt::format("expected text, got {}", shown(field->value)));
    return "";
  }

  // ---- The config: a file it names, or its sections inline.

  void load_config(std::string_view text, const Fields& fields) {
    const Field* named = find(fields, "config");
    std::vector<const Field*> inline_sections;
    for (const auto& [name, field] : fields)
      if (listed(kConfigSections, name)) inline_sections.push_back(&field);
    config::LoadResult loaded;
    if (named) {
      for (const Field* f : inline_sections)
        error(f->key, fmt::format("{}: not with `config:`; give the config's file or its "
                                  "sections inline, not both",
                                  f->name()));
      if (!inline_sections.empty()) return;
      if (!named->value.IsScalar() || named->value.Scalar().empty()) {
        error(*named,
              fmt::format("expected the path of a leeway config, got {}", shown(named->value)));
        return;
      }
      std::filesystem::path path(named->value.Scalar());
      if (path.is_relative()) path = std::filesystem::path(file_).parent_path() / path;
      loaded = config::load_config(path.lexically_normal().string(), read_);
    } else if (inline_sections.empty()) {
      errors_.push_back({file_, 0, 0,
                         "expected `config: FILE` or the config's sections inline (locations, "
                         "services, references, incidents, ...)"});
      return;
    } else {
      loaded = config::load_config_text(blank_scenario_keys(text, fields), file_, read_);
    }
    for (auto& e : loaded.errors) errors_.push_back(std::move(e));
    if (loaded.config) config_ = std::move(loaded.config);
  }

  // The text with the lines of the scenario's own keys emptied: the config's sections stay
  // where they were, so the config loader's errors point at the right lines.
  static std::string blank_scenario_keys(std::string_view text, const Fields& fields) {
    std::vector<std::pair<int, bool>> starts;  // (line, is the scenario's own) of each key
    for (const auto& [name, field] : fields)
      starts.emplace_back(field.key.Mark().line, listed(kScenarioKeys, name));
    std::sort(starts.begin(), starts.end());
    std::vector<std::string_view> lines;
    for (std::size_t at = 0; at <= text.size();) {
      std::size_t end = text.find('\n', at);
      if (end == std::string_view::npos) end = text.size();
      lines.push_back(text.substr(at, end - at));
      at = end + 1;
    }
    std::string out;
    for (int line = 0; line < static_cast<int>(lines.size()); ++line) {
      auto owner = std::upper_bound(starts.begin(), starts.end(), std::pair{line, true});
      const bool blank = owner != starts.begin() && std::prev(owner)->second;
      if (!blank) out += lines[line];
      out += '\n';
    }
    return out;
  }

  // ---- What happened: checked against the config when it loaded.

  const config::Service* find_service(const std::string& id) const {
    for (const auto& s : config_->services)
      if (s.id == id) return &s;
    return nullptr;
  }

  const config::Check* find_check(const std::string& id) const {
    for (const auto& s : config_->services)
      for (const auto& c : s.checks)
        if (c.id == id) return &c;
    for (const auto& r : config_->references)
      if (r.id == id) return &r;
    return nullptr;
  }

  void fault(const YAML::Node& item, bool reference) {
    const Fields fields =
        reference
            ? keys(item, "reference_failures",
                   {"references", "locations", "from", "to", "outcome", "stage", "cause"})
            : keys(item, "failures",
                   {"service", "checks", "locations", "from", "to", "outcome", "stage", "cause"});
    Fault f;
    if (!range(item, fields, f.from_us, f.to_us)) return;
    outcome_and_stage(item, fields, f);
    if (!config_) return;
    if (reference) {
      reference_checks(item, fields, f);
    } else {
      service_checks(item, fields, f);
    }
    if (const Field* locations = find(fields, "locations")) {
      for (const std::string& id : names(*locations)) {
        if (!config_->find_location(id)) {
          error(*locations, fmt::format("no location \"{}\" in the config", terminal_safe(id)));
        } else if (!runs_any(id, f.checks)) {
          error(*locations, fmt::format("location \"{}\" runs none of these checks", id));
        }
        f.locations.insert(id);
      }
    }
    scenario_.faults.push_back(std::move(f));
  }

  bool runs_any(const std::string& location, const std::set<std::string>& checks) const {
    for (const std::string& id : checks) {
      const config::Check* c = find_check(id);
      if (c && std::count(c->locations.begin(), c->locations.end(), location)) return true;
    }
    return false;
  }

  void outcome_and_stage(const YAML::Node& item, const Fields& fields, Fault& f) {
    if (const Field* outcome = find(fields, "outcome")) {
      const std::string o = outcome->value.IsScalar() ? outcome->value.Scalar() : "";
      if (o == "down" || o == "degraded") {
        f.outcome = o == "down" ? probe::Outcome::kDown : probe::Outcome::kDegraded;
      } else {
        error(*outcome, fmt::format("expected down or degraded, got {}", shown(outcome->value)));
      }
    }
    if (const Field* stage = find(fields, "stage")) {
      auto s =
          stage->value.IsScalar() ? probe::stage_from_string(stage->value.Scalar()) : std::nullopt;
      if (s) {
        f.stage = *s;
      } else {
        error(*stage, fmt::format("expected dns, connect, tls, send, status, body or timeout, "
                                  "got {}",
                                  shown(stage->value)));
      }
    } else if (f.outcome == probe::Outcome::kDown) {
      error(item,
            "stage: required key is missing (where the checks fail: dns, connect, tls, "
            "send, status, body or timeout)");
    }
    if (const Field* cause = find(fields, "cause")) {
      auto c =
          cause->value.IsScalar() ? probe::cause_from_string(cause->value.Scalar()) : std::nullopt;
      if (c) {
        f.cause = *c;
      } else {
        error(*cause, fmt::format("expected refused, unreachable, reset, timeout, nxdomain, "
                                  "servfail or tls, got {}",
                                  shown(cause->value)));
      }
    }
  }

  // `service: S` (every check of S) or `checks: [S/name, ...]`: one of the two.
  void service_checks(const YAML::Node& item, const Fields& fields, Fault& f) {
    const Field* service = find(fields, "service");
    const Field* checks = find(fields, "checks");
    if (!service == !checks) {
      error(item,
            "expected `service: S` (every check of S) or `checks: [S/NAME, ...]`, one of "
            "the two");
      return;
    }
    if (service) {
      const std::string id = service->value.IsScalar() ? service->value.Scalar() : "";
      if (const config::Service* s = find_service(id)) {
        for (const auto& c : s->checks) f.checks.insert(c.id);
      } else {
        error(*service, fmt::format("no service {} in the config", shown(service->value)));
      }
      return;
    }
    for (const std::string& id : names(*checks)) {
      if (id.rfind("reference:", 0) == 0 || !find_check(id)) {
        error(*checks, fmt::format("no check \"{}\" in the config (a check id is SERVICE/NAME; "
                                   "references fail under reference_failures)",
                                   terminal_safe(id)));
      }
      f.checks.insert(id);
    }
  }

  // `references: [name, ...]`; every reference when not given.
  void reference_checks(const YAML::Node& item, const Fields& fields, Fault& f) {
    const Field* references = find(fields, "references");
    if (!references) {
      for (const auto& r : config_->references) f.checks.insert(r.id);
      if (f.checks.empty()) error(item, "references: the config has no references");
      return;
    }
    for (const std::string& name : names(*references)) {
      const std::string id = "reference:" + name;
      if (!find_check(id))
        error(*references, fmt::format("no reference \"{}\" in the config", terminal_safe(name)));
      f.checks.insert(id);
    }
  }

  void silence(const YAML::Node& item) {
    const Fields fields = keys(item, "silences", {"locations", "from", "to"});
    Silence s;
    if (!range(item, fields, s.from_us, s.to_us)) return;
    const Field* locations = find(fields, "locations");
    if (!locations) return error(item, "locations: required key is missing");
    for (const std::string& id : names(*locations)) {
      if (config_ && !config_->find_location(id))
        error(*locations, fmt::format("no location \"{}\" in the config", terminal_safe(id)));
      s.locations.insert(id);
    }
    scenario_.silences.push_back(std::move(s));
  }

  void change(const YAML::Node& item) {
    const Fields fields =
        keys(item, "changes", {"service", "at", "kind", "description", "improvement"});
    ScenarioChange c;
    c.service = text(fields, "service");
    if (!find(fields, "service")) error(item, "service: required key is missing");
    if (config_ && find(fields, "service") && !find_service(c.service))
      error(*find(fields, "service"),
            fmt::format("no service \"{}\" in the config", terminal_safe(c.service)));
    const Field* at = find(fields, "at");
    if (!at) return error(item, "at: required key is missing");
    c.change.at_us = time(*at).value_or(0);
    c.change.kind = find(fields, "kind") ? text(fields, "kind") : "deploy";
    c.change.description = text(fields, "description");
    if (const Field* improvement = find(fields, "improvement")) {
      const std::string v = improvement->value.IsScalar() ? improvement->value.Scalar() : "";
      if (v != "true" && v != "false")
        error(*improvement,
              fmt::format("expected true or false, got {}", shown(improvement->value)));
      c.change.improvement = v == "true";
    }
    scenario_.changes.push_back(std::move(c));
  }

  void maintenance(const YAML::Node& item) {
    const Fields fields =
        keys(item, "maintenance", {"services", "from", "to", "announced", "description"});
    config::Maintenance w;
    if (!range(item, fields, w.start_us, w.end_us)) return;
    const Field* services = find(fields, "services");
    if (!services) return error(item, "services: required key is missing");
    for (const std::string& id : names(*services)) {
      if (config_ && !find_service(id))
        error(*services, fmt::format("no service \"{}\" in the config", terminal_safe(id)));
      w.services.push_back(id);
    }
    const Field* announced = find(fields, "announced");
    if (!announced) return error(item, "announced: required key is missing");
    w.announced_us = time(*announced).value_or(0);
    w.description = text(fields, "description");
    scenario_.maintenance.push_back(std::move(w));
  }

  // Refuses a scenario that would make more than kMaxResults results.
  void bound_results(const Field& to) {
    const DurationUs span = scenario_.to_us - scenario_.from_us;
    if (span <= 0) return;
    std::size_t total = 0;
    auto add = [&](const config::Check& c) {
      total +=
          static_cast<std::size_t>((span + c.interval_us - 1) / c.interval_us) * c.locations.size();
    };
    for (const auto& s : config_->services)
      for (const auto& c : s.checks) add(c);
    for (const auto& r : config_->references) add(r);
    if (total > kMaxResults)
      error(to, fmt::format("{} results from `from` to here, over the limit of {}; shorten the "
                            "time range",
                            total, kMaxResults));
  }

  std::string file_;
  const config::FileReader& read_;
  std::vector<config::ConfigError> errors_;
  std::optional<config::Config> config_;
  Scenario scenario_;
};

}  // namespace

LoadResult load_scenario_text(std::string_view text, const std::string& file_name,
                              const config::FileReader& read) {
  return Parser(file_name, read).parse(text);
}

LoadResult load_scenario(const std::string& path, const config::FileReader& read) {
  auto text = read(path);
  if (!text) {
    LoadResult result;
    result.errors.push_back({path, 0, 0, "cannot read: " + text.error().message});
    return result;
  }
  return load_scenario_text(*text, path, read);
}

}  // namespace leeway::simulate
