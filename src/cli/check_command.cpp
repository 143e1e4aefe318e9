// `leeway check TARGET`: one probe now, explained stage by stage. Its flags come from the check
// option table (probe/options.h), so they match the config file's keys.
#include <unistd.h>

#include <fmt/format.h>
#include <CLI/CLI.hpp>
#include <algorithm>
#include <boost/asio/io_context.hpp>
#include <iostream>
#include <map>
#include <memory>

#include "cli/commands.h"
#include "cli/report.h"
#include "probe/options.h"
#include "probe/probe.h"

namespace leeway::cli {

namespace {

std::string flag_name(std::string_view key) {
  std::string flag = "--" + std::string(key);
  std::replace(flag.begin(), flag.end(), '_', '-');
  return flag;
}

// Short forms people know from curl and ping.
std::string with_alias(std::string_view key, std::string flag) {
  if (key == "header") return "-H," + flag;
  if (key == "method") return "-X," + flag;
  if (key == "body") return "-d," + flag;
  if (key == "count") return "-c," + flag;
  if (key == "timeout") return "-t," + flag;
  return flag;
}

struct CheckArgs {
  std::string target;
  std::map<std::string, std::vector<std::string>, std::less<>> values;  // option key -> values
  bool json = false;
  bool nagios = false;
};

int run_check(const CheckArgs& args) {
  auto spec = probe::parse_target(args.target);
  if (!spec) {
    std::cerr << "leeway check: " << spec.error().message << "\n";
    return kExitUnknown;
  }
  for (const auto& option : probe::check_options()) {
    auto it = args.values.find(option.key);
    if (it == args.values.end() || it->second.empty()) continue;
    if (!probe::applies_to(option, spec->kind)) {
      std::cerr << "leeway check: " << flag_name(option.key) << " applies to " << option.kinds
                << " checks, not " << probe::to_string(spec->kind) << "\n";
      return kExitUnknown;
    }
    for (const auto& value : it->second) {
      if (Status s = option.apply(*spec, value); !s) {
        std::cerr << "leeway check: " << flag_name(option.key) << ": " << s.error().message << "\n";
        return kExitUnknown;
      }
    }
  }

  boost::asio::io_context io;
  probe::ProbeEngine engine(io, SystemClock::instance());
  probe::ProbeResult result;
  engine.run(*spec, [&](probe::ProbeResult r) {
    result = std::move(r);
    io.stop();  // the verdict is in; whatever a peer still holds open is not our business
  });
  io.run();

  if (args.json) {
    std::cout << to_json(*spec, result).dump() << "\n";
  } else if (args.nagios) {
    std::cout << format_nagios(*spec, result);
  } else {
    std::cout << format_human(*spec, result, isatty(STDOUT_FILENO));
  }
  switch (result.outcome) {
    case probe::Outcome::kUp:
      return kExitUp;
    case probe::Outcome::kDegraded:
      return kExitDegraded;
    case probe::Outcome::kDown:
      return kExitDown;
    case probe::Outcome::kUnknown:
      return kExitUnknown;
  }
  return kExitUnknown;
}

}  // namespace

Runner setup_check(CLI::App& sub) {
  auto args = std::make_shared<CheckArgs>();
  sub.add_option(
         "target", args->target,
         "what to probe: https://host/path, tcp://host:port, dns://[resolver]/name?type=MX, "
         "icmp://host, tls://host:443")
      ->required();
  for (const auto& option : probe::check_options()) {
    auto& values = args->values[std::string(option.key)];
    std::string help = fmt::format("[{}] {}", option.kinds, option.help);
    bool on_by_default = option.type == probe::OptionType::kBool && option.default_text == "true";
    if (on_by_default)
      help = fmt::format("[{}] do not {}", option.kinds, option.help);
    else if (!option.default_text.empty() && option.type != probe::OptionType::kBool)
      help += fmt::format(" (default {})", option.default_text);
    if (option.type == probe::OptionType::kBool) {
      // A true-by-default switch is turned off with --no-<key>; a false one on with --<key>.
      std::string flag =
          on_by_default ? "--no-" + flag_name(option.key).substr(2) : flag_name(option.key);
      sub.add_flag_callback(
          flag, [&values, on_by_default] { values.assign(1, on_by_default ? "false" : "true"); },
          help);
    } else if (option.type == probe::OptionType::kIpVersion) {
      sub.add_flag_callback(
          "-4", [&values] { values.assign(1, "4"); }, "[http,tcp,icmp,tls] use only IPv4");
      sub.add_flag_callback(
          "-6", [&values] { values.assign(1, "6"); }, "[http,tcp,icmp,tls] use only IPv6");
    } else {
      // One value per use (a repeatable option is given again): a value list would also take
      // the target that follows it (`-t 3s URL --json`).
      auto* opt = sub.add_option(with_alias(option.key, flag_name(option.key)), values, help);
      opt->expected(1)->allow_extra_args(false)->multi_option_policy(
          option.repeatable ? CLI::MultiOptionPolicy::TakeAll : CLI::MultiOptionPolicy::TakeLast);
      opt->type_name(option.type == probe::OptionType::kString ? "TEXT" : "VALUE");
    }
  }
  auto* json = sub.add_flag("--json", args->json, "print the result as one JSON object");
  sub.add_flag("--nagios", args->nagios, "print in the Nagios plugin format with performance data")
      ->excludes(json);
  return [args] { return run_check(*args); };
}

}  // namespace leeway::cli
