// The daemon's configuration: one YAML file (plus its includes) loaded into plain structs, or
// every error in it at once, each with file:line:column. `leeway serve` exits 2 on errors.
#pragma once

#include <array>
#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "core/time.h"
#include "probe/types.h"
#include "sla/contract.h"
#include "slo/spec.h"

namespace leeway::config {

// A vantage point that runs checks. The daemon itself is one, of kind "local".
struct Location {
  std::string id;
  std::string region;  // a label, e.g. "eu-west"; "" when not given
  std::string isp;     // a label: ISP name or ASN; "" when not given
  std::string kind;    // "local" (the daemon) or "agent" (a remote `leeway agent`)
  // An agent location's token, as its SHA-256 (from `token` or the file `token_file` names);
  // none: no agent can speak for this location.
  std::optional<std::array<unsigned char, 32>> token_sha256;
};

// One probe definition of a service, ready to run.
struct Check {
  std::string id;                      // "<service id>/<name>", unique in the config
  std::string service_id;              // the owning service's id
  std::string name;                    // unique within its service
  probe::CheckSpec spec;               // target parsed, every option applied, timeout set
  DurationUs interval_us = 0;          // time between runs; never shorter than spec.timeout_us
  std::vector<std::string> locations;  // ids of known locations that run it; at least one
};

// Something people depend on, watched by its checks.
// The deploy gate's policy for a service (`gate:`): what holds a deploy. When the budget is
// spent, only fixes and rollbacks go.
struct GatePolicy {
  double min_budget_remaining = 0.10;  // hold a deploy below this share of the budget left
  bool hold_on_page = true;            // hold a deploy while a page alert fires
  bool hold_while_incident = true;     // hold a deploy while an incident is open
};

struct Service {
  std::string id;
  std::string name;   // for people; the id when not given
  std::string owner;  // team or person; "" when not given
  int tier = 2;       // 1 is the most critical
  std::vector<Check> checks;
  std::vector<slo::SloSpec> slos;  // checks hold check ids; alerts are never empty
  GatePolicy gate;
};

// A token that may write through the API: who holds it and the SHA-256 of the token (the token
// itself is never in the config).
struct ApiToken {
  std::string name;
  std::array<unsigned char, 32> sha256{};
};

// The `server` section: how the daemon itself runs.
struct ServerSettings {
  std::string listen;  // "host:port" for the HTTP API, UI and /metrics
  std::string store;   // a SQLite file path or a postgres:// URL
  DurationUs raw_retention_us = 0;
  DurationUs rollup_retention_us = 0;
  std::string location;  // the daemon's own location id
  int max_concurrent_per_host = 0;
  int max_connections = 0;           // HTTP connections open at once
  std::vector<ApiToken> api_tokens;  // none: the API refuses every write
  // HTTPS: PEM files of the certificate (and chain) and its key, as paths the daemon can open;
  // both empty: plain HTTP.
  std::string tls_cert_file;
  std::string tls_key_file;
};

// When a check counts as down across locations (see incident::DownWhen): at least `networks`
// networks down, or more than `fraction` of the networks that report.
struct DownWhen {
  bool is_count = false;
  int networks = 1;
  double fraction = 0.5;
};

// The `incidents` section: how the detector opens, resolves and explains incidents.
struct IncidentSettings {
  int confirm = 2;  // consecutive failures before a location sees a check down
  int recover = 2;  // consecutive successes before it sees it up again
  // A location is silent once its last result is this many check intervals old.
  int silent_after_intervals = 3;
  DownWhen down_when;
  DurationUs change_window_us = 0;  // changes this long before an incident are listed in it
  DurationUs reopen_within_us = 0;  // failing again this soon after resolving reopens it
};

// Planned work on services (`maintenance:`): checks keep running during it, and the SLA
// accounting may exclude it when it was announced early enough.
struct Maintenance {
  TimeUs start_us = 0;
  TimeUs end_us = 0;                  // after start_us
  std::vector<std::string> services;  // ids of services of this config
  TimeUs announced_us = 0;
  std::string description;
};

// What checks inherit when they do not say.
struct Defaults {
  DurationUs interval_us = 0;
  DurationUs timeout_us = 0;
  std::vector<std::string> locations;
};

// A whole validated configuration.
struct Config {
  ServerSettings server;
  Defaults defaults;
  std::vector<Location> locations;  // the daemon's own first when the file does not list it
  std::vector<Service> services;
  IncidentSettings incidents;
  // Targets that locations probe besides the services (another site, a public resolver), whose
  // results tell a vantage that cannot reach anything from one that cannot reach a service. Their
  // ids are "reference:<name>"; service_id is empty.
  std::vector<Check> references;
  std::vector<sla::Contract> contracts;  // valid by sla::validate, over known services
  std::vector<Maintenance> maintenance;
  std::vector<std::string> files;  // every file read, the main one first, named as in errors

  // Checks across all services.
  std::size_t check_count() const;
  // The location with this id, or nullptr.
  const Location* find_location(std::string_view id) const;
  // The contract with this id, or nullptr.
  const sla::Contract* find_contract(std::string_view id) const;
  // Every service's SLOs, in config order.
  std::vector<slo::SloSpec> slos() const;
};

// One problem in a config file. line and column are 1-based; 0 when the whole file is at fault.
struct ConfigError {
  std::string file;
  int line = 0;
  int column = 0;
  std::string message;  // "<key>: <what was expected>", e.g. `interval: expected a duration ...`

  // "file:line:column: message", or "file: message" without a position.
  std::string to_string() const;
};

// A loaded config, or every error found. config is set exactly when errors is empty.
struct LoadResult {
  std::optional<Config> config;
  std::vector<ConfigError> errors;

  bool ok() const { return errors.empty(); }
};

// What the loader reads at most: one file, and all the files of one config together (the main
// file and every include). Beyond them a config is refused rather than held in memory.
inline constexpr std::size_t kMaxConfigFileBytes = std::size_t{4} << 20;
inline constexpr std::size_t kMaxConfigBytes = std::size_t{16} << 20;
// The longest id, name or label (owner, region, isp), in bytes.
inline constexpr std::size_t kMaxLabelBytes = 200;

// Reads a whole file by the name it is known by. Injected so tests and the fuzzer control what
// `include:` can see.
using FileReader = std::function<Result<std::string>(const std::string& path)>;

// Reads a regular file from disk, at most kMaxConfigFileBytes, without blocking on a FIFO; the
// error says why it could not (e.g. "No such file or directory", "not a regular file").
Result<std::string> read_file(const std::string& path);

// Loads and validates the file at `path` and everything it includes. Errors name files as
// given here, and included files relative to it ("conf/leeway.yaml" including "checks/a.yaml"
// is "conf/checks/a.yaml"). Each file is read once: a file included again adds nothing.
LoadResult load_config(const std::string& path, const FileReader& read = read_file);

// Same, from text already in memory named `file_name`; includes are read with `read`.
LoadResult load_config_text(std::string_view text, const std::string& file_name = "leeway.yaml",
                            const FileReader& read = read_file);

// Loads a file of contracts (`contracts:`, and `include:`) for `base`, as `leeway simulate
// --contracts` reads a draft: the config is `base` with the file's contracts in place of its
// own, checked against base's services and checks. Another section, or no contract at all, is
// an error; errors are load_config's.
LoadResult load_contracts(const std::string& path, const Config& base,
                          const FileReader& read = read_file);

}  // namespace leeway::config
