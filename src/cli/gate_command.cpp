// `leeway gate SERVICE [--kind deploy|fix|rollback] [--json]`: asks a running daemon whether the
// service may ship now. Exit 0 go, 1 hold, 3 unknown (no data, no daemon), with the reasons. The
// daemon records the decision under the name of the API token sent, if any.
#include <CLI/CLI.hpp>
#include <cstdlib>
#include <iostream>
#include <memory>

#include "cli/commands.h"
#include "cli/http.h"
#include "core/text.h"

namespace leeway::cli {

namespace {

constexpr int kExitGo = 0;
constexpr int kExitHold = 1;

struct GateOptions {
  std::string service;
  std::string kind = "deploy";
  std::string server = "http://127.0.0.1:8080";
  std::string token_file;
  bool as_json = false;
};

int run_gate(const GateOptions& o) {
  // Asking needs no token; with one, the decision is on record under its holder's name.
  std::string token;
  if (!o.token_file.empty() || std::getenv("LEEWAY_TOKEN")) {
    auto t = api_token(o.token_file);
    if (!t) {
      std::cerr << "leeway gate: unknown: " << t.error().message << "\n";
      return kExitUnknown;
    }
    token = *t;
  }
  auto j = get_json(o.server,
                    "/api/v1/services/" + path_segment(o.service) + "/gate?kind=" + o.kind, token);
  if (!j) {
    std::cerr << "leeway gate: unknown: " << j.error().message << "\n";
    return kExitUnknown;
  }
  try {
    const std::string decision = j->at("decision").get<std::string>();
    if (o.as_json) {
      std::cout << j->dump(2) << "\n";
    } else {
      std::cout << field(*j, "decision") << ": " << field(*j, "kind") << " of "
                << field(*j, "service") << "\n";
      for (const auto& reason : j->at("reasons"))
        std::cout << "  - " << terminal_safe(reason.get<std::string>()) << "\n";
    }
    if (decision == "go") return kExitGo;
    if (decision == "hold") return kExitHold;
    return kExitUnknown;
  } catch (const nlohmann::json::exception&) {
    std::cerr << "leeway gate: " << terminal_safe(o.server)
              << " did not answer like a leeway daemon\n";
    return kExitUnknown;
  }
}

}  // namespace

Runner setup_gate(CLI::App& sub) {
  auto o = std::make_shared<GateOptions>();
  sub.add_option("service", o->service, "the service's id")->required();
  sub.add_option("--kind", o->kind, "what is to ship")
      ->check(CLI::IsMember({"deploy", "fix", "rollback"}))
      ->capture_default_str();
  sub.add_option("--server", o->server, "the daemon's base URL")->capture_default_str();
  sub.add_flag("--json", o->as_json, "print the daemon's JSON answer");
  sub.add_option("--token-file", o->token_file,
                 "a file holding an API token, whose name the decision is recorded under; "
                 "default: the LEEWAY_TOKEN variable, else anonymous");
  sub.footer(
      "Holds a deploy when an SLO's budget is below the service's gate policy or spent, a page\n"
      "alert fires, or an incident is open (config `gate:`); a fix or a rollback goes.\n"
      "Exit codes: 0 go; 1 hold; 3 unknown (no data, no daemon, bad usage).");
  return [o] { return run_gate(*o); };
}

}  // namespace leeway::cli
