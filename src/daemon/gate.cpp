// The deploy gate: "may we ship SERVICE now?" answered from its SLOs' budgets and alerts and its
// open incidents, against the service's policy (config `gate:`); each answer kept for the API.
#include <fmt/format.h>

#include "daemon/impl.h"

namespace leeway::daemon {

namespace {

using nlohmann::json;

std::string percent(double share) {
  return fmt::format("{:.1f}%", share * 100);
}

// The decision and its reasons, in plain words. `open` is the service's open incidents.
GateDecision decide(const config::Service& service, const std::string& kind,
                    const std::vector<SloView>& slos, int open, TimeUs now_us) {
  const config::GatePolicy& policy = service.gate;
  const bool deploy = kind == "deploy";
  GateDecision d{service.id, kind, "go", {}, now_us};
  bool hold = false;
  int known = 0;
  for (const auto& v : slos) {
    if (v.spec.service != service.id) continue;
    const auto& ratio = v.status.budget.remaining_ratio;
    if (!v.evaluated || !ratio) {
      d.reasons.push_back(
          fmt::format("SLO {}: no data in its window yet, so its budget is unknown", v.spec.id));
      continue;
    }
    ++known;
    if (*ratio <= 0) {
      d.reasons.push_back(fmt::format("SLO {}: the error budget is spent ({} remains){}", v.spec.id,
                                      percent(*ratio),
                                      deploy ? "; only a fix or a rollback may go" : ""));
      hold = hold || deploy;
    } else if (*ratio < policy.min_budget_remaining) {
      d.reasons.push_back(
          fmt::format("SLO {}: {} of the error budget remains, less than the {} "
                      "the policy asks for a deploy",
                      v.spec.id, percent(*ratio), percent(policy.min_budget_remaining)));
      hold = hold || deploy;
    } else {
      d.reasons.push_back(
          fmt::format("SLO {}: {} of the error budget remains (the policy asks "
                      "for at least {})",
                      v.spec.id, percent(*ratio), percent(policy.min_budget_remaining)));
    }
    for (slo::Severity severity : {slo::Severity::kPage, slo::Severity::kTicket}) {
      if (!v.status.firing[static_cast<std::size_t>(severity)]) continue;
      bool holds = deploy && severity == slo::Severity::kPage && policy.hold_on_page;
      d.reasons.push_back(fmt::format("SLO {}: its {} burn-rate alert fires{}", v.spec.id,
                                      slo::to_string(severity),
                                      holds ? " (the policy holds)" : ""));
      hold = hold || holds;
    }
  }
  if (open > 0) {
    bool holds = deploy && policy.hold_while_incident;
    d.reasons.push_back(fmt::format("{} incident{} open for the service{}", open,
                                    open == 1 ? " is" : "s are",
                                    holds ? " (the policy holds deploys meanwhile)" : ""));
    hold = hold || holds;
  } else {
    d.reasons.push_back("no incident is open for the service");
  }
  if (hold) {
    d.decision = "hold";
  } else if (known == 0) {
    d.decision = "unknown";
    if (slos.empty() || std::none_of(slos.begin(), slos.end(), [&](const SloView& v) {
          return v.spec.service == service.id;
        }))
      d.reasons.insert(d.reasons.begin(), "the service has no SLO, so no budget to judge by");
  } else if (!deploy) {
    d.reasons.push_back(fmt::format("a {} goes whatever the budget", kind));
  }
  return d;
}

json decision_json(const GateDecision& d) {
  return {{"service", d.service},
          {"kind", d.kind},
          {"decision", d.decision},
          {"reasons", d.reasons},
          {"at", format_rfc3339(d.at_us)}};
}

}  // namespace

std::vector<http::Route> Daemon::Impl::gate_routes() {
  using http::Request;
  auto find_service = [this](const std::string& id) -> const config::Service* {
    for (const auto& s : config->services)
      if (s.id == id) return &s;
    return nullptr;
  };
  return {
      {"GET", "/api/v1/services/{id}/gate",
       [this, find_service](const Request& r) {
         const std::string& id = r.params.at(0);
         const config::Service* service = find_service(id);
         if (!service) return http::Response::error(404, "no service with id \"" + id + "\"");
         std::string kind = "deploy";
         if (auto it = r.query.find("kind"); it != r.query.end()) kind = it->second;
         if (kind != "deploy" && kind != "fix" && kind != "rollback")
           return http::Response::error(
               400, "kind: expected deploy, fix or rollback, got \"" + kind + "\"");
         const incident::TrackerStatus incidents = current_tracker()->status();
         auto open = incidents.open.find(id);
         GateDecision d = decide(*service, kind, slos->views(),
                                 open == incidents.open.end() ? 0 : open->second, clock.now_us());
         slos->record(d);
         return http::Response::json(decision_json(d));
       }},
      {"GET", "/api/v1/services/{id}/gate/decisions",
       [this, find_service](const Request& r) {
         const std::string& id = r.params.at(0);
         if (!find_service(id))
           return http::Response::error(404, "no service with id \"" + id + "\"");
         json list = json::array();
         for (const auto& d : slos->decisions(id)) list.push_back(decision_json(d));
         return http::Response::json({{"decisions", list}});
       }},
  };
}

}  // namespace leeway::daemon
