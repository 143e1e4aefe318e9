// The deploy gate: "may we ship SERVICE now?" answered from its SLOs' budgets and alerts and its
// open incidents, against the service's policy (config `gate:`); each answer stored with who
// asked, and listed a page at a time.
#include <fmt/format.h>

#include <strings.h>

#include <algorithm>
#include <charconv>
#include <limits>

#include "daemon/impl.h"
#include "http/auth.h"

namespace leeway::daemon {

namespace {

using nlohmann::json;

std::string percent(double share) {
  return fmt::format("{:.1f}%", share * 100);
}

// The decision and its reasons, in plain words. `open` is the service's open incidents.
store::StoredDecision decide(const config::Service& service, const std::string& kind,
                             const std::vector<SloView>& slos, int open, TimeUs now_us) {
  const config::GatePolicy& policy = service.gate;
  const bool deploy = kind == "deploy";
  store::StoredDecision d{0, service.id, now_us, "", kind, "go", {}, std::nullopt};
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

// A page of decisions: at most this many, 100 unless `limit` says.
constexpr std::size_t kMaxDecisionsPage = 1000;

// A positive whole number from a query parameter, or an error naming it.
Result<std::int64_t> positive(const http::Request& r, const char* name, std::int64_t fallback) {
  auto it = r.query.find(name);
  if (it == r.query.end()) return fallback;
  std::int64_t v = 0;
  const std::string& text = it->second;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size() || v <= 0)
    return fail(name, ": expected a whole number above 0, got \"", text, "\"");
  return v;
}

}  // namespace

json decision_json(const store::StoredDecision& d) {
  return {{"id", d.id},
          {"service", d.service},
          {"kind", d.kind},
          {"decision", d.decision},
          {"reasons", d.reasons},
          {"asked_by", d.asked_by},
          {"at", format_rfc3339(d.at_us)},
          {"change", d.change ? json(*d.change) : json()}};
}

std::string Daemon::Impl::asked_by(const http::Request& r) const {
  constexpr std::string_view kBearer = "Bearer ";
  const std::string authorization = r.header("authorization");
  if (authorization.size() > kBearer.size() &&
      strncasecmp(authorization.c_str(), kBearer.data(), kBearer.size()) == 0) {
    const auto tokens = api_tokens(*config);
    if (const auto* token = http::find_token(tokens, authorization.substr(kBearer.size())))
      return token->name;
  }
  return "anonymous";
}

http::Work Daemon::Impl::gate_decisions_json(const http::Request& r) {
  const std::string& id = r.params.at(0);
  if (std::none_of(config->services.begin(), config->services.end(),
                   [&](const config::Service& s) { return s.id == id; }))
    return answer(http::Response::error(404, "no service with id \"" + id + "\""));
  auto limit = positive(r, "limit", 100);
  auto before = positive(r, "before", std::numeric_limits<std::int64_t>::max());
  if (!limit) return answer(http::Response::error(400, limit.error().message));
  if (!before) return answer(http::Response::error(400, before.error().message));
  store::DecisionQuery q{id, *before,
                         std::min<std::size_t>(std::size_t(*limit), kMaxDecisionsPage)};
  return [this, q] {
    auto found = slo_store->decisions(q);
    if (!found) return http::Response::error(503, found.error().message);
    json list = json::array();
    for (const auto& d : *found) list.push_back(decision_json(d));
    // The next page's `before`: the oldest id of a full page.
    json next = found->size() == q.limit ? json(found->back().id) : json();
    return http::Response::json({{"decisions", list}, {"next_before", next}});
  };
}

std::vector<http::Route> Daemon::Impl::gate_routes() {
  using http::Request;
  return {
      {"GET", "/api/v1/services/{id}/gate",
       [this](const Request& r) -> http::Work {
         const std::string& id = r.params.at(0);
         const config::Service* service = nullptr;
         for (const auto& s : config->services)
           if (s.id == id) service = &s;
         if (!service)
           return answer(http::Response::error(404, "no service with id \"" + id + "\""));
         std::string kind = "deploy";
         if (auto it = r.query.find("kind"); it != r.query.end()) kind = it->second;
         if (kind != "deploy" && kind != "fix" && kind != "rollback")
           return answer(http::Response::error(
               400, "kind: expected deploy, fix or rollback, got \"" + kind + "\""));
         const incident::TrackerStatus incidents = current_tracker()->status();
         auto open = incidents.open.find(id);
         store::StoredDecision d =
             decide(*service, kind, slos->views(), open == incidents.open.end() ? 0 : open->second,
                    clock.now_us());
         d.asked_by = asked_by(r);
         // Recorded before it is answered: a pipeline never acts on an answer not on record.
         return [this, d = std::move(d)] {
           auto stored = slo_store->add_decision(d);
           if (!stored)
             return http::Response::error(
                 503,
                 "the decision cannot be recorded, so none is given: " + stored.error().message);
           return http::Response::json(decision_json(*stored));
         };
       }},
      {"GET", "/api/v1/services/{id}/gate/decisions",
       [this](const Request& r) { return gate_decisions_json(r); }},
  };
}

}  // namespace leeway::daemon
