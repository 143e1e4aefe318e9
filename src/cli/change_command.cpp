// `leeway change record`: tells a running daemon of a deploy or another change, so that an
// incident soon after it names it (for a deploy pipeline: run it after each deploy).
#include <CLI/CLI.hpp>
#include <iostream>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/http.h"
#include "core/text.h"

namespace leeway::cli {

Runner setup_change(CLI::App& sub) {
  struct Options {
    std::string server = "http://127.0.0.1:8080";
    std::string token_file, service, kind, description, at;
    bool improvement = false;
  };
  auto o = std::make_shared<Options>();
  sub.require_subcommand(1);
  CLI::App* record = sub.add_subcommand("record", "Record a change made to a service");
  record->add_option("--service", o->service, "the service changed")->required();
  record->add_option("--kind", o->kind, "deploy, config, infra, ...")->required();
  record->add_option("--description", o->description, "what changed, for people")->required();
  record->add_flag("--improvement", o->improvement, "the change was made to improve the service");
  record->add_option("--at", o->at, "when it was made (RFC 3339 or Unix seconds); default: now");
  record->add_option("--server", o->server, "the daemon's base URL")->capture_default_str();
  record->add_option("--token-file", o->token_file,
                     "a file holding an API token; default: the LEEWAY_TOKEN variable");
  return [o] {
    auto token = api_token(o->token_file);
    if (!token) {
      std::cerr << "leeway change record: " << token.error().message << "\n";
      return int(kExitUnknown);
    }
    nlohmann::json body = {{"service", o->service},
                           {"kind", o->kind},
                           {"description", o->description},
                           {"improvement", o->improvement}};
    if (!o->at.empty()) body["at"] = o->at;
    auto answer = http_post(o->server + "/api/v1/changes", body.dump(), *token);
    if (!answer) {
      std::cerr << "leeway change record: " << answer.error().message << "\n";
      return int(kExitUnknown);
    }
    auto j = nlohmann::json::parse(*answer, nullptr, false);
    if (j.is_discarded() || !j.is_object() || !j["id"].is_number() || !j["at"].is_string()) {
      std::cerr << "leeway change record: " << terminal_safe(o->server)
                << " did not answer like a leeway daemon\n";
      return int(kExitUnknown);
    }
    std::cout << "recorded change " << j["id"].get<long>() << " to " << terminal_safe(o->service)
              << " at " << terminal_safe(j["at"].get<std::string>()) << "\n";
    return 0;
  };
}

}  // namespace leeway::cli
