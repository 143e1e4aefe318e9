// The config schema table and the reference docs generated from it and the check option table.
#include "config/schema.h"

#include <cctype>

#include <fmt/format.h>

#include "config/config.h"
#include "probe/options.h"

namespace leeway::config {

namespace {

using V = ValueType;

// Keep sections in the order people write them; a section's keys follow its row.
constexpr SchemaKey kSchema[] = {
    {"", "include", V::kPathList, "", "", false,
     "more config files, relative to this one; their locations and services are added"},

    {"", "server", V::kMap, "", "", false, "how the daemon runs (one file only)"},
    {"server", "listen", V::kAddress, "127.0.0.1:8080", "", false,
     "address for the HTTP API, the UI and /metrics"},
    {"server", "store", V::kString, "leeway.db", "", false,
     "where results are kept: a SQLite file path or a postgres:// URL"},
    {"server", "location", V::kId, "local", "", false,
     "the daemon's own location id; it exists even when `locations` does not list it"},
    {"server", "max_concurrent_per_host", V::kInt, "4", "1..1000", false,
     "most runs in flight against one target host at a time"},
    {"server", "max_connections", V::kInt, "256", "1..100000", false,
     "most HTTP connections open at once; past it a new one gets a 503"},
    {"server", "api_tokens", V::kMapList, "", "", false,
     "who may write through the API (POST /api/v1/reload); none: writes are refused"},
    {"server.api_tokens", "name", V::kId, "", "", true, "who holds the token, for the log"},
    {"server.api_tokens", "hash", V::kString, "", "", true,
     "`sha256:` and the token's SHA-256 in hex (`printf %s TOKEN | sha256sum`)"},
    {"server", "tls", V::kMap, "", "", false,
     "serve the API over HTTPS with this certificate (agents trust it with --ca-file)"},
    {"server.tls", "cert_file", V::kString, "", "", true,
     "PEM file of the certificate, followed by its chain; relative to this config file"},
    {"server.tls", "key_file", V::kString, "", "", true,
     "PEM file of the certificate's private key; relative to this config file"},
    {"server", "retention", V::kMap, "", "", false, "how long results are kept"},
    {"server.retention", "raw", V::kDuration, "14d", "", false, "every single result"},
    {"server.retention", "rollups", V::kDuration, "400d", "", false,
     "per-minute rollups (what SLOs and SLAs are computed from)"},

    {"", "defaults", V::kMap, "", "", false,
     "what checks inherit when they do not say (one file only)"},
    {"defaults", "interval", V::kDuration, "1m", "1s", false, "time between runs of a check"},
    {"defaults", "timeout", V::kDuration, "10s", "", false,
     "give up on a run and report it down after this long"},
    {"defaults", "locations", V::kIdList, "(server.location)", "", false,
     "the locations that run a check"},

    {"", "locations", V::kMapList, "", "", false,
     "vantage points: where checks run from, with labels to group them"},
    {"locations", "id", V::kId, "", "", true, "unique among locations"},
    {"locations", "region", V::kString, "", "", false, "region label, e.g. eu-west"},
    {"locations", "isp", V::kString, "", "", false, "ISP or ASN label, e.g. AS3320"},
    {"locations", "kind", V::kChoice, "(local for server.location, else agent)", "local,agent",
     false, "local: the daemon itself; agent: a remote `leeway agent`"},
    {"locations", "token", V::kString, "", "", false,
     "an agent location's token as `sha256:` and its SHA-256 in hex (`printf %s TOKEN | "
     "sha256sum`); the agent sends the token itself"},
    {"locations", "token_file", V::kString, "", "", false,
     "a file holding what `token` would (relative to this config file), instead of `token`"},

    {"", "services", V::kMapList, "", "", false, "what people depend on, each with its checks"},
    {"services", "id", V::kId, "", "", true, "unique among services"},
    {"services", "name", V::kString, "(the id)", "", false, "name for people"},
    {"services", "owner", V::kString, "", "", false, "the team or person responsible"},
    {"services", "tier", V::kInt, "2", "1..4", false, "importance: 1 is the most critical"},
    {"services", "checks", V::kMapList, "", "", false,
     "probe definitions; each also takes every check option below"},

    {"services.checks", "name", V::kId, "", "", true,
     "unique within the service; the check's id is `<service id>/<name>`"},
    {"services.checks", "target", V::kTarget, "", "", true,
     "what to probe, as for `leeway check`: https://host/path, tcp://host:port, "
     "dns://[resolver]/name?type=MX, icmp://host, tls://host:443"},
    {"services.checks", "interval", V::kDuration, "(defaults.interval)", "1s", false,
     "time between runs; not shorter than the timeout"},
    {"services.checks", "locations", V::kIdList, "(defaults.locations)", "", false,
     "the locations that run it"},

    {"", "references", V::kMapList, "", "", false,
     "targets every location also probes (another of your sites, a public resolver), so that a "
     "vantage that cannot reach anything is told from one that cannot reach a service; each "
     "also takes every check option below"},
    {"references", "name", V::kId, "", "", true,
     "unique among references; the check's id is `reference:<name>`"},
    {"references", "target", V::kTarget, "", "", true, "what to probe, as for a check"},
    {"references", "interval", V::kDuration, "(defaults.interval)", "1s", false,
     "time between runs; not shorter than the timeout"},
    {"references", "locations", V::kIdList, "(every location)", "", false,
     "the locations that probe it"},

    {"", "incidents", V::kMap, "", "", false,
     "when an incident opens and resolves, and what it lists (one file only)"},
    {"incidents", "confirm", V::kInt, "2", "1..100", false,
     "consecutive failures before a location sees a check down"},
    {"incidents", "recover", V::kInt, "2", "1..100", false,
     "consecutive successes before it sees the check up again"},
    {"incidents", "silent_after", V::kInt, "3", "2..100", false,
     "a location whose last result of a check is older than this many of the check's intervals "
     "is silent: not counted as down, and its network or vantage is suspected (at least 2: a "
     "run may end up to an interval after the last)"},
    {"incidents", "down_when", V::kString, "50%", "", false,
     "a check is down when this many networks (ISPs) see it down, as a count (`2`), or more than "
     "this share of the networks that report (`50%`); fewer is degraded"},
    {"incidents", "change_window", V::kDuration, "60m", "", false,
     "changes recorded this long before an incident opened are listed in it"},
    {"incidents", "reopen_within", V::kDuration, "5m", "", false,
     "failing again this soon after resolving reopens the incident (flapping) instead of "
     "opening a new one"},
    // Maintenance windows, which SLA contracts may exclude (src/store/sla_store.h).
    {"", "maintenance", V::kMapList, "", "", false,
     "planned maintenance windows: checks keep running during one, and an SLA contract may "
     "exclude its minutes when it was announced early enough; loaded into the store at start "
     "and on reload (a window removed here goes from the store)"},
    {"maintenance", "start", V::kTime, "", "", true, "when it starts"},
    {"maintenance", "end", V::kTime, "", "", true, "when it ends; after `start`"},
    {"maintenance", "services", V::kIdList, "", "", true, "the ids of the services it covers"},
    {"maintenance", "announced", V::kTime, "", "", true,
     "when it was announced to the customers (a fixed time, so that a restart changes nothing)"},
    {"maintenance", "description", V::kString, "", "", false, "what is done, for people"},
    // The deploy gate's policy for a service (`leeway gate`).
    {"services", "gate", V::kMap, "", "", false,
     "what holds a deploy of the service (`leeway gate`); when the budget is spent only "
     "fixes and rollbacks go"},
    {"services.gate", "min_budget_remaining", V::kString, "10%", "", false,
     "hold a deploy when less than this share of an SLO's error budget remains, e.g. 10%"},
    {"services.gate", "hold_on_page", V::kChoice, "true", "true,false", false,
     "hold a deploy while a page burn-rate alert of the service's SLOs fires"},
    {"services.gate", "hold_while_incident", V::kChoice, "true", "true,false", false,
     "hold a deploy while an incident of the service is open"},
    // SLOs of a service: error budgets and burn-rate alerts (src/slo/spec.h).
    {"services", "slos", V::kMapList, "", "", false,
     "service level objectives: error budgets and burn-rate alerts"},
    {"services.slos", "id", V::kId, "", "", true,
     "unique among all SLOs; the `slo` label in /metrics and in the Prometheus rules"},
    {"services.slos", "sli", V::kChoice, "", "availability_minutes,availability_runs,latency", true,
     "what is good: minutes the service was up (no incident of it while a network saw it "
     "down), runs up or degraded, or runs no slower than `threshold`"},
    {"services.slos", "objective", V::kString, "", "", true,
     "the percentage that must be good, e.g. 99.9"},
    {"services.slos", "window", V::kString, "30d", "", false,
     "a rolling window of whole minutes (1h to 400d), or `month`: the calendar month in "
     "`time_zone`"},
    {"services.slos", "time_zone", V::kString, "UTC", "", false,
     "for `window: month`: an IANA time zone, e.g. Asia/Seoul"},
    {"services.slos", "method", V::kChoice,
     "(timeslices for availability_minutes, else occurrences)",
     "occurrences,timeslices,ratio_timeslices", false,
     "how the budget counts, as OpenSLO names it: good runs over all runs, good minutes over "
     "minutes with data, or the mean of the minutes' good ratios"},
    {"services.slos", "slice_target", V::kString, "", "", false,
     "for timeslices over runs, where it is required: the percentage of good runs that makes "
     "a minute good, e.g. 95"},
    {"services.slos", "threshold", V::kDuration, "", "", false,
     "for latency, where it is required: a run this fast or faster is good; one of the "
     "latency histogram's bounds, 5ms to 10s"},
    {"services.slos", "checks", V::kIdList, "(every check of the service)", "", false,
     "names of the service's checks that the SLI reads"},
    {"services.slos", "network_spends_budget", V::kChoice, "true", "true,false", false,
     "whether the bad minutes of incidents attributed to a network (`network:*`) spend the "
     "budget; when false they leave the window like minutes without data"},
    {"services.slos", "alerts", V::kMapList, "(the SRE workbook's)", "", false,
     "burn-rate alert conditions, replacing the defaults when given: page at 14.4 over 1h and "
     "5m or 6 over 6h and 30m, ticket at 3 over 1d and 2h or 1 over 3d and 6h"},
    {"services.slos.alerts", "severity", V::kChoice, "", "page,ticket", true,
     "the alert this condition raises: one per SLO and severity"},
    {"services.slos.alerts", "burn_rate", V::kString, "", "", true,
     "fire when the budget burns faster than this in both windows (1 spends it in exactly the "
     "SLO's window), e.g. 14.4"},
    {"services.slos.alerts", "long", V::kDuration, "", "", true,
     "the long window: whole minutes, at most 30d"},
    {"services.slos.alerts", "short", V::kDuration, "", "", true,
     "the short window: whole minutes, shorter than the long one"},

    // SLA contracts (src/sla/contract.h): what a month of incidents costs under each.
    {"", "contracts", V::kMapList, "", "", false,
     "SLA contracts: what each covers, how its minutes are measured, how incidents are graded and "
     "charged, its credit tiers, cap and exclusions (`leeway report`)"},
    {"contracts", "id", V::kId, "", "", true, "unique among contracts"},
    {"contracts", "customer", V::kString, "", "", true, "who buys the service level"},
    {"contracts", "services", V::kIdList, "", "", true,
     "the services it covers; its minutes are these services' minutes, summed"},
    {"contracts", "fee", V::kString, "", "", true,
     "the monthly fee in major units, no more decimals than the currency has: 1500000 (KRW), "
     "1500.00 (USD)"},
    {"contracts", "currency", V::kString, "", "", true, "ISO 4217 code, e.g. KRW, USD, EUR"},
    {"contracts", "rounding", V::kChoice, "half_up", "half_up,half_even,down,up", false,
     "how a percentage of the fee is rounded to a minor unit"},
    {"contracts", "time_zone", V::kString, "UTC", "", false,
     "the IANA time zone of its calendar months and business hours, e.g. Asia/Seoul"},
    {"contracts", "target", V::kString, "", "", true,
     "the monthly availability it promises, a percentage like 99.9"},
    {"contracts", "measurement", V::kMap, "", "", false, "what makes a minute count"},
    {"contracts.measurement", "unavailable", V::kChoice, "down", "down,down_or_degraded", false,
     "the incidents whose minutes are unavailable: down only, or degraded too"},
    {"contracts.measurement", "partial_minutes", V::kChoice, "count", "count,ignore", false,
     "count: a minute any downtime touches is unavailable; ignore: only whole minutes of "
     "downtime are (a downtime under a minute costs none)"},
    {"contracts.measurement", "denominator", V::kChoice, "all_minutes",
     "all_minutes,existing_minutes", false,
     "every minute of the month, or only those a service existed in"},
    {"contracts.measurement", "min_locations", V::kString, "", "", false,
     "an incident's minutes count only when at least this share of the locations saw it, e.g. "
     "50%; unset: every incident"},
    {"contracts", "business_hours", V::kMap, "", "", false,
     "working hours in the contract's time zone, for grades that depend on them"},
    {"contracts.business_hours", "days", V::kIdList, "mon,tue,wed,thu,fri", "", false,
     "the working days: mon, tue, wed, thu, fri, sat, sun"},
    {"contracts.business_hours", "start", V::kString, "09:00", "", false,
     "when working hours start, HH:MM local time"},
    {"contracts.business_hours", "end", V::kString, "18:00", "", false,
     "when they end, HH:MM local time (24:00 for midnight)"},
    {"contracts.business_hours", "holidays", V::kIdList, "", "", false,
     "local dates that are not working days, like 2026-10-09"},
    {"contracts", "grades", V::kMapList, "", "", false,
     "incident grades, first match wins; an incident that matches none costs nothing"},
    {"contracts.grades", "name", V::kId, "", "", true, "unique within the contract, e.g. 1"},
    {"contracts.grades", "when", V::kMapList, "(any incident)", "", false,
     "rules; the grade matches when any rule holds, and a rule holds when all its conditions do"},
    {"contracts.grades.when", "min_duration", V::kDuration, "", "", false,
     "lasted at least this long"},
    {"contracts.grades.when", "max_duration", V::kDuration, "", "", false, "lasted less than this"},
    {"contracts.grades.when", "outcome", V::kChoice, "", "down,degraded", false,
     "its worst state; unset: either"},
    {"contracts.grades.when", "min_locations", V::kString, "", "", false,
     "at least this share of the locations saw it, e.g. 100%"},
    {"contracts.grades.when", "min_checks", V::kString, "", "", false,
     "at least this share of the service's checks failed, e.g. 50%"},
    {"contracts.grades.when", "services", V::kIdList, "", "", false, "of any of these services"},
    {"contracts.grades.when", "checks", V::kTextList, "", "", false,
     "hit any of these checks, by id: `service/check`"},
    {"contracts.grades.when", "tags", V::kIdList, "", "", false, "carries any of these tags"},
    {"contracts.grades.when", "business_hours", V::kChoice, "", "true,false", false,
     "opened inside (true) or outside (false) business hours"},
    {"contracts.grades", "penalty", V::kString, "0", "", false,
     "the fixed amount each incident of this grade costs, in major units"},
    {"contracts.grades", "respond_within", V::kDuration, "", "", false,
     "acknowledged within this long, or `missed_response` is owed"},
    {"contracts.grades", "missed_response", V::kString, "0", "", false,
     "owed when the response target is missed, in major units"},
    {"contracts.grades", "recover_within", V::kDuration, "", "", false,
     "resolved within this long, or `missed_recovery` is owed"},
    {"contracts.grades", "missed_recovery", V::kString, "0", "", false,
     "owed when the recovery target is missed, in major units"},
    {"contracts", "credits", V::kMapList, "", "", false,
     "credit tiers by monthly availability; the tier the exact figure falls in applies"},
    {"contracts.credits", "below", V::kString, "", "", true,
     "availability less than this percentage, e.g. 99.99"},
    {"contracts.credits", "at_least", V::kString, "0", "", false,
     "and at least this one, e.g. 99.0"},
    {"contracts.credits", "credit", V::kString, "", "", true,
     "earns this share of the monthly fee, e.g. 10"},
    {"contracts", "cap", V::kString, "", "", false,
     "the month's total is at most this share of the fee, e.g. 30; unset: no cap"},
    {"contracts", "exclusions", V::kMap, "", "", false,
     "what leaves the accounting: its minutes leave both sides of the availability, its "
     "incidents cost nothing"},
    {"contracts.exclusions", "maintenance", V::kChoice, "true", "true,false", false,
     "exclude maintenance windows announced in time"},
    {"contracts.exclusions", "maintenance_notice", V::kDuration, "(any notice)", "", false,
     "a window counts as announced in time when announced at least this long before it starts"},
    {"contracts.exclusions", "network", V::kChoice, "false", "true,false", false,
     "exclude incidents attributed to a carrier (`network:*`), beyond the provider's edge"},
    {"contracts.exclusions", "customer", V::kTextList, "", "", false,
     "attributions the customer owns, e.g. `dependency:customer-db`; a trailing `*` matches any "
     "rest"},
    {"contracts", "charge_in", V::kChoice, "opened_month", "opened_month,resolved_month", false,
     "the month whose report charges an incident that crosses a month boundary"},
};

std::string_view type_name(const SchemaKey& key) {
  switch (key.type) {
    case V::kString:
      return "text";
    case V::kId:
      return "id";
    case V::kInt:
      return "integer";
    case V::kDuration:
      return "duration";
    case V::kChoice:
      return "choice";
    case V::kAddress:
      return "host:port";
    case V::kTarget:
      return "URL";
    case V::kTime:
      return "time";
    case V::kIdList:
      return "list of ids";
    case V::kPathList:
      return "list of paths";
    case V::kTextList:
      return "list of text";
    case V::kMap:
      return "section";
    case V::kMapList:
      return "list of sections";
  }
  return "";
}

std::string_view type_name(probe::OptionType type) {
  using T = probe::OptionType;
  switch (type) {
    case T::kString:
      return "text";
    case T::kDuration:
      return "duration";
    case T::kInt:
      return "integer";
    case T::kBool:
      return "boolean";
    case T::kPercent:
      return "percentage";
    case T::kStatusList:
      return "status codes";
    case T::kHeader:
      return "header";
    case T::kIpVersion:
      return "4, 6 or any";
    case T::kRedirects:
      return "same-host, any or none";
  }
  return "";
}

// Markdown table cells must not contain a bare '|'.
std::string cell(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (c == '|')
      out += "\\|";
    else
      out += c;
  }
  return out;
}

// "a,b" as "a, b".
std::string list(std::string_view items) {
  std::string out;
  for (char c : items) out += c == ',' ? std::string(", ") : std::string(1, c);
  return out;
}

std::string code_or_blank(std::string_view text) {
  if (text.empty()) return "";
  if (text.front() == '(') return std::string(text);
  return fmt::format("`{}`", cell(text));
}

void append_section(std::string& out, const SchemaKey* opener, std::string_view section) {
  std::string title = section.empty() ? "Top level" : fmt::format("`{}`", section);
  out += fmt::format("\n## {}\n\n", title);
  if (opener != nullptr) {
    std::string intro(opener->doc);
    intro[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(intro[0])));
    out += fmt::format("{}.{}\n\n", intro,
                       opener->type == V::kMapList ? " A list; each entry takes these keys:" : "");
  }
  out += "| key | type | default | description |\n| --- | --- | --- | --- |\n";
  for (const auto& key : config_schema()) {
    if (key.section != section) continue;
    std::string type(type_name(key));
    if (key.type == V::kInt || key.type == V::kChoice)
      type += fmt::format(" ({})", list(key.allowed));
    if (key.type == V::kDuration && !key.allowed.empty())
      type += fmt::format(" (at least {})", key.allowed);
    std::string doc = cell(key.doc);
    if (key.required) doc = "**required**; " + doc;
    if (key.type == V::kMap || key.type == V::kMapList)
      doc += fmt::format("; see `{}` below", section_path(key));
    out += fmt::format("| `{}` | {} | {} | {} |\n", key.key, type, code_or_blank(key.default_text),
                       doc);
  }
}

}  // namespace

std::span<const SchemaKey> config_schema() {
  return kSchema;
}

const SchemaKey* find_schema_key(std::string_view section, std::string_view key) {
  for (const auto& row : kSchema)
    if (row.section == section && row.key == key) return &row;
  return nullptr;
}

std::string section_path(const SchemaKey& key) {
  if (key.section.empty()) return std::string(key.key);
  return fmt::format("{}.{}", key.section, key.key);
}

std::string describe(const SchemaKey& key) {
  switch (key.type) {
    case V::kString:
      return "text";
    case V::kId:
      return "an id of letters, digits, '-', '_' or '.'";
    case V::kInt: {
      auto dots = key.allowed.find("..");
      return fmt::format("a whole number from {} to {}", key.allowed.substr(0, dots),
                         key.allowed.substr(dots + 2));
    }
    case V::kDuration:
      if (!key.allowed.empty()) return fmt::format("a duration of at least {}", key.allowed);
      return std::string(probe::describe(probe::OptionType::kDuration));
    case V::kChoice: {
      std::string choices(key.allowed);
      auto last = choices.rfind(',');
      if (last != std::string::npos) choices.replace(last, 1, " or ");
      for (auto at = choices.find(','); at != std::string::npos; at = choices.find(',', at + 2))
        choices.replace(at, 1, ", ");
      return choices;
    }
    case V::kAddress:
      return "an address like 127.0.0.1:8080";
    case V::kTarget:
      return "a URL like https://example.com/health";
    case V::kTime:
      return "a time in RFC 3339 like 2026-11-03T02:00:00+09:00";
    case V::kIdList:
      return "a list of ids";
    case V::kPathList:
      return "a list of file paths";
    case V::kTextList:
      return "a list of text values";
    case V::kMap:
      return "a map of keys";
    case V::kMapList:
      return "a list of maps";
  }
  return "";
}

std::string reference_docs() {
  std::string out =
      "# Configuration reference\n"
      "\n"
      "<!-- Generated by `leeway config docs` from the schema in src/config/schema.cpp and the\n"
      "     check options in src/probe/options.cpp. Do not edit by hand:\n"
      "     leeway config docs > docs/config.md -->\n"
      "\n"
      "`leeway serve` reads one YAML file; `include:` adds more. `leeway config check FILE`\n"
      "validates it and prints every error at once, one per line, as\n"
      "`file:line:column: key: what was expected`, then exits 2 (0 when the file is valid).\n"
      "See `examples/full.yaml` for a commented example.\n"
      "\n"
      "Durations need a unit: `500ms`, `30s`, `1m30s`, `2h`, `14d`. A list of ids or paths with\n"
      "one item may be written as that item alone. Sections marked \"one file only\" may appear\n"
      "in only one of the files read.\n";
  out += fmt::format(
      "\n"
      "Only regular files are read, each at most {} MiB and {} MiB in all; a file included\n"
      "several times is read once. Every value is UTF-8 text without NUL characters; ids, names\n"
      "and labels (owner, region, isp) are at most {} bytes.\n",
      kMaxConfigFileBytes >> 20, kMaxConfigBytes >> 20, kMaxLabelBytes);
  append_section(out, nullptr, "");
  for (const auto& key : kSchema) {
    if (key.type == V::kMap || key.type == V::kMapList)
      append_section(out, &key, section_path(key));
  }

  out += fmt::format(
      "\n## Check options\n\n"
      "Every entry of `{}` and of `{}` also takes these, the options of `leeway check` (whose\n"
      "flags are the keys with dashes: `expect_status` is `--expect-status`). An option applies\n"
      "only to the kinds of check listed; setting it on another kind is an error. Values of any\n"
      "YAML type are read as text (`count: 5` and `count: \"5\"` are the same). Options marked\n"
      "repeatable take a single value or a list.\n\n"
      "| key | type | kinds | default | description |\n| --- | --- | --- | --- | --- |\n",
      kCheckSection, kReferenceSection);
  for (const auto& option : probe::check_options()) {
    std::string default_text = code_or_blank(option.default_text);
    if (find_schema_key(kDefaultsSection, option.key) != nullptr)
      default_text = fmt::format("({}.{})", kDefaultsSection, option.key);
    std::string type(type_name(option.type));
    if (option.repeatable) type += ", repeatable";
    out += fmt::format("| `{}` | {} | {} | {} | {} |\n", option.key, type, list(option.kinds),
                       default_text, cell(option.help));
  }
  return out;
}

}  // namespace leeway::config
