// The attribution rules (README.md, "Vantage points and incidents"), applied in order: too little
// evidence, one vantage against its ISP peers, one network, one region, every network.
#include "incident/attribution.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <set>

namespace leeway::incident {
namespace {

enum class Seen { kReachable, kFailing, kSilent };

Seen seen_by(const LocationEvidence& l) {
  bool any_reporting = false;
  for (const CheckStatus& c : l.checks) {
    if (c.silent || c.outcome == probe::Outcome::kUnknown) continue;
    if (c.outcome == probe::Outcome::kDown) return Seen::kFailing;
    any_reporting = true;
  }
  return any_reporting ? Seen::kReachable : Seen::kSilent;
}

std::set<probe::Stage> stages_of(const std::vector<const LocationEvidence*>& locations) {
  std::set<probe::Stage> stages;
  for (const LocationEvidence* l : locations) {
    for (const CheckStatus& c : l->checks) {
      if (!c.silent && c.outcome == probe::Outcome::kDown) stages.insert(c.stage);
    }
  }
  return stages;
}

std::string join(const std::vector<std::string>& words) {
  std::string out;
  for (std::size_t i = 0; i < words.size(); ++i) {
    if (i > 0) out += i + 1 == words.size() ? " and " : ", ";
    out += words[i];
  }
  return out;
}

std::string stages_text(const std::set<probe::Stage>& stages) {
  std::vector<std::string> names;
  for (probe::Stage s : stages) {
    names.emplace_back(s == probe::Stage::kNone ? "unknown-stage" : probe::to_string(s));
  }
  return names.empty() ? std::string() : " (" + join(names) + " failures)";
}

std::string clock_time(TimeUs t) {
  return format_rfc3339(t).substr(11, 8);
}

// The locations of one network, by what they see.
struct Network {
  std::string name;
  std::vector<const LocationEvidence*> failing, silent, reachable;
  bool bad() const { return reachable.empty(); }
  std::size_t size() const { return failing.size() + silent.size() + reachable.size(); }
};

// The locations' words, sorted into networks, that every rule reads.
struct Picture {
  std::vector<const LocationEvidence*> failing, silent, reachable;
  std::map<std::string, Network> networks;
  std::vector<const Network*> bad, mixed, good;
};

Picture picture_of(std::span<const LocationEvidence> locations) {
  Picture p;
  for (const LocationEvidence& l : locations) {
    Network& n = p.networks[network_of(l.location, l.labels)];
    n.name = network_of(l.location, l.labels);
    switch (seen_by(l)) {
      case Seen::kFailing:
        p.failing.push_back(&l);
        n.failing.push_back(&l);
        break;
      case Seen::kSilent:
        p.silent.push_back(&l);
        n.silent.push_back(&l);
        break;
      case Seen::kReachable:
        p.reachable.push_back(&l);
        n.reachable.push_back(&l);
        break;
    }
  }
  for (const auto& [name, n] : p.networks) {
    if (n.bad()) {
      p.bad.push_back(&n);
    } else if (n.failing.empty() && n.silent.empty()) {
      p.good.push_back(&n);
    } else {
      p.mixed.push_back(&n);
    }
  }
  return p;
}

std::vector<std::string> names_of(const std::vector<const LocationEvidence*>& locations) {
  std::vector<std::string> names;
  for (const LocationEvidence* l : locations) names.push_back(l->location);
  std::sort(names.begin(), names.end());
  return names;
}

// Networks other than `except` where some location reaches the service.
std::vector<std::string> reachable_networks(const Picture& p, const std::string& except) {
  std::vector<std::string> names;
  for (const auto& [name, n] : p.networks) {
    if (name != except && !n.reachable.empty()) names.push_back(name);
  }
  return names;
}

// How the failing (not silent) locations fare with their reference targets.
struct ReferenceCount {
  int up = 0, down = 0, none = 0;
};

ReferenceCount references_of(const std::vector<const LocationEvidence*>& failing) {
  ReferenceCount r;
  for (const LocationEvidence* l : failing) {
    switch (l->references) {
      case ReferenceHealth::kUp:
        ++r.up;
        break;
      case ReferenceHealth::kDown:
        ++r.down;
        break;
      case ReferenceHealth::kNone:
        ++r.none;
        break;
    }
  }
  return r;
}

std::string references_fact(const ReferenceCount& r) {
  return fmt::format(
      "reference targets of the failing locations: {} reached, {} not reached, {} "
      "with none configured",
      r.up, r.down, r.none);
}

Verdict unknown(Verdict v, std::string reason) {
  v.kind = VerdictKind::kUnknown;
  v.name = "unknown";
  v.subject.clear();
  v.confidence = 0;
  v.reason = std::move(reason);
  return v;
}

void set(Verdict& v, VerdictKind kind, std::string name, std::string subject, double confidence) {
  v.kind = kind;
  v.name = std::move(name);
  v.subject = std::move(subject);
  v.confidence = std::min(confidence, 0.95);
}

// One network where nothing reaches the service, while others do.
Verdict one_network(Verdict v, const Picture& p, const Network& x) {
  const std::vector<std::string> others = reachable_networks(p, x.name);
  v.evidence.push_back(
      fmt::format("{} of {} locations behind {} fail and {} are silent; none "
                  "reaches the service",
                  x.failing.size(), x.size(), x.name, x.silent.size()));
  if (others.empty()) {
    return unknown(std::move(v), fmt::format("the service fails only behind {} and no other "
                                             "network reports, so the service cannot be told "
                                             "from the network",
                                             x.name));
  }
  v.evidence.push_back(
      fmt::format("reachable from {} other networks: {}", others.size(), join(others)));
  const ReferenceCount refs = references_of(x.failing);
  if (!x.failing.empty()) v.evidence.push_back(references_fact(refs));
  // A lone vantage that reaches nothing at all is more likely its own uplink than its ISP.
  if (x.size() == 1 && x.failing.size() == 1 && refs.down == 1) {
    set(v, VerdictKind::kVantage, "vantage:" + x.failing[0]->location, x.failing[0]->location, 0.5);
    v.evidence.push_back(
        fmt::format("{} is the only vantage behind {}: its own uplink and the "
                    "ISP cannot be told apart",
                    x.failing[0]->location, x.name));
    return v;
  }
  double confidence = 0.6;
  if (x.size() >= 2) confidence += 0.2;  // several vantages fail together: not one uplink
  if (refs.up > 0) confidence += 0.1;    // they reach elsewhere: the route to the target
  if (others.size() >= 2) confidence += 0.05;
  set(v, VerdictKind::kNetwork, "network:" + x.name, x.name, confidence);
  return v;
}

}  // namespace

Verdict attribute(std::span<const LocationEvidence> locations) {
  const Picture p = picture_of(locations);
  Verdict v;
  v.failing = names_of(p.failing);
  v.silent = names_of(p.silent);
  v.reachable = names_of(p.reachable);
  const std::set<probe::Stage> stages = stages_of(p.failing);
  v.failing_stages.assign(stages.begin(), stages.end());

  if (p.failing.empty() && p.silent.empty()) {
    return unknown(std::move(v), "no location sees the service fail");
  }
  const std::size_t reporting = p.failing.size() + p.reachable.size();
  if (reporting == 0) {
    return unknown(std::move(v),
                   fmt::format("no location reported recently ({} silent)", p.silent.size()));
  }
  if (reporting == 1) {
    const LocationEvidence* only = p.failing.empty() ? p.reachable[0] : p.failing[0];
    return unknown(std::move(v), fmt::format("only one location reports ({})", only->location));
  }

  // Nowhere does a whole network fail: the failing vantages are outvoted by their ISP peers.
  if (p.bad.empty()) {
    std::vector<const LocationEvidence*> lost;
    for (const Network* n : p.mixed) {
      std::vector<const LocationEvidence*> here = n->failing;
      here.insert(here.end(), n->silent.begin(), n->silent.end());
      lost.insert(lost.end(), here.begin(), here.end());
      v.evidence.push_back(fmt::format(
          "behind {}, {} of {} vantages fail or are silent ({}) while {} reach the service",
          n->name, here.size(), n->size(), join(names_of(here)), join(names_of(n->reachable))));
    }
    const std::vector<std::string> names = names_of(lost);
    std::string subject;
    for (const std::string& name : names) subject += (subject.empty() ? "" : ",") + name;
    set(v, VerdictKind::kVantage, "vantage:" + subject, subject, names.size() == 1 ? 0.85 : 0.7);
    return v;
  }

  if (p.bad.size() == 1) return one_network(std::move(v), p, *p.bad[0]);

  // Several networks fail. One region, while other regions reach the service?
  std::vector<const LocationEvidence*> in_bad;
  std::set<std::string> bad_names, failing_names;
  for (const Network* n : p.bad) {
    in_bad.insert(in_bad.end(), n->failing.begin(), n->failing.end());
    in_bad.insert(in_bad.end(), n->silent.begin(), n->silent.end());
    bad_names.insert(n->name);
    if (!n->failing.empty()) failing_names.insert(n->name);
  }
  std::set<std::string> bad_regions;
  for (const LocationEvidence* l : in_bad) bad_regions.insert(l->labels.region);
  if (bad_regions.size() == 1 && !bad_regions.begin()->empty()) {
    const std::string& region = *bad_regions.begin();
    const bool elsewhere = std::any_of(p.reachable.begin(), p.reachable.end(), [&](auto* l) {
      return !l->labels.region.empty() && l->labels.region != region;
    });
    const bool inside = std::any_of(p.reachable.begin(), p.reachable.end(),
                                    [&](auto* l) { return l->labels.region == region; });
    if (elsewhere && !inside) {
      v.evidence.push_back(fmt::format("{} networks fail, all in region {}: {}", bad_names.size(),
                                       region, join({bad_names.begin(), bad_names.end()})));
      v.evidence.push_back(
          fmt::format("reachable from {} locations outside {}", p.reachable.size(), region));
      set(v, VerdictKind::kRegion, "network:region:" + region, region, 0.7);
      return v;
    }
  }

  if (failing_names.size() < 2) {
    std::vector<std::string> silent_names;
    for (const std::string& name : bad_names) {
      if (!failing_names.count(name)) silent_names.push_back(name);
    }
    const std::string silent = "silent behind " + join(silent_names);
    return unknown(std::move(v), failing_names.empty() ? silent + ", failing nowhere"
                                                       : "fails behind " + *failing_names.begin() +
                                                             " only; " + silent);
  }
  const std::vector<const LocationEvidence*>& failing = p.failing;
  const ReferenceCount refs = references_of(failing);
  v.evidence.push_back(fmt::format("fails from {} locations in {} networks: {}", failing.size(),
                                   failing_names.size(),
                                   join({failing_names.begin(), failing_names.end()})));
  v.evidence.push_back(references_fact(refs));
  const std::vector<std::string> others = reachable_networks(p, "");
  if (!others.empty()) {
    v.evidence.push_back(
        fmt::format("reachable from {} networks: {}", others.size(), join(others)));
  }
  // Vantages that reach their references prove the path works: the fault is the service's.
  double confidence = refs.up > 0 ? 0.9 : refs.down == 0 ? 0.7 : 0.5;
  if (!others.empty()) confidence -= 0.1;
  if (stages == std::set<probe::Stage>{probe::Stage::kDns}) {
    set(v, VerdictKind::kDns, "dns", "", confidence);
    v.evidence.push_back("the failing stage is dns everywhere it fails: the name does not resolve");
  } else {
    set(v, VerdictKind::kService, "service", "", confidence);
  }
  return v;
}

ChangeCorrelation correlate_changes(std::span<const Change> changes, TimeUs incident_start_us,
                                    const Verdict& verdict, DurationUs window_us) {
  ChangeCorrelation c;
  c.window_us = window_us;
  for (const Change& change : changes) {
    if (change.at_us <= incident_start_us && change.at_us >= incident_start_us - window_us) {
      c.before.push_back(change);
    }
  }
  std::stable_sort(c.before.begin(), c.before.end(),
                   [](const Change& a, const Change& b) { return a.at_us < b.at_us; });
  const bool service_wide =
      verdict.kind == VerdictKind::kService || verdict.kind == VerdictKind::kDns;
  if (service_wide && !c.before.empty()) c.likely_cause = c.before.back();
  return c;
}

namespace {

std::string change_text(const Change& change, TimeUs start_us) {
  return fmt::format("{} \"{}\" at {} ({} before{})", change.kind, change.description,
                     clock_time(change.at_us), format_duration(start_us - change.at_us),
                     change.improvement ? ", an improvement" : "");
}

// What the failing locations' reference targets say, as a clause of the sentence.
std::string references_clause(const std::string& whose,
                              const std::vector<const LocationEvidence*>& failing) {
  const ReferenceCount r = references_of(failing);
  const int n = int(failing.size());
  if (n == 0 || r.none == n) return "";
  const char* their = n == 1 ? "its" : "their";
  if (r.down == n)
    return fmt::format("; {} cannot reach {} reference targets either", whose, their);
  if (r.up == n)
    return fmt::format("; {} still {} {} reference targets", whose, n == 1 ? "reaches" : "reach",
                       their);
  return fmt::format("; {} of the failing locations still reach their reference targets", r.up);
}

}  // namespace

std::string describe_changes(const ChangeCorrelation& c, TimeUs start_us) {
  const std::string window = c.window_us % kMinuteUs == 0
                                 ? fmt::format("{} minutes", c.window_us / kMinuteUs)
                                 : format_duration(c.window_us);
  if (c.before.empty()) return fmt::format("nothing was deployed in the {} before", window);
  if (c.likely_cause) {
    std::string out = "likely cause: " + change_text(*c.likely_cause, start_us);
    if (c.before.size() > 1) {
      out += fmt::format(", one of {} changes in the {} before", c.before.size(), window);
    }
    return out;
  }
  std::vector<std::string> texts;
  for (const Change& change : c.before) texts.push_back(change_text(change, start_us));
  return fmt::format("changed in the {} before: {}", window, join(texts));
}

std::string describe(const std::string& service, TimeUs since_us, const Verdict& verdict,
                     std::span<const LocationEvidence> locations,
                     const ChangeCorrelation& changes) {
  const Picture p = picture_of(locations);
  std::string out;
  switch (verdict.kind) {
    case VerdictKind::kNetwork: {
      const Network& x = p.networks.at(verdict.subject);
      if (x.failing.empty()) {
        out = fmt::format("{} cannot be seen from ISP {}: its {} vantages went silent since {}",
                          service, x.name, x.silent.size(), clock_time(since_us));
      } else {
        out = fmt::format("{} is unreachable from the vantages behind ISP {}{}", service, x.name,
                          stages_text(stages_of(x.failing)));
        if (!x.silent.empty()) out += fmt::format(" ({} more silent)", x.silent.size());
        out += " since " + clock_time(since_us);
      }
      out += "; reachable from " + join(reachable_networks(p, x.name));
      out += references_clause(x.name + (x.failing.size() == 1 ? "'s vantage" : "'s vantages"),
                               x.failing);
      break;
    }
    case VerdictKind::kRegion:
      out = fmt::format("{} is unreachable from region {}{} since {}; reachable from {}", service,
                        verdict.subject, stages_text(stages_of(p.failing)), clock_time(since_us),
                        join(verdict.reachable));
      break;
    case VerdictKind::kVantage: {
      const std::string listed = "," + verdict.subject + ",";
      std::vector<const LocationEvidence*> lost_failing;
      for (const LocationEvidence* l : p.failing) {
        if (listed.find("," + l->location + ",") != std::string::npos) lost_failing.push_back(l);
      }
      if (lost_failing.empty()) {
        out = fmt::format("{}: vantage {} went silent since {}", service, verdict.subject,
                          clock_time(since_us));
      } else {
        out = fmt::format("{} is unreachable from vantage {}{} since {}", service, verdict.subject,
                          stages_text(stages_of(lost_failing)), clock_time(since_us));
      }
      out += "; reachable from " + join(verdict.reachable);
      out += references_clause(verdict.subject, lost_failing);
      break;
    }
    case VerdictKind::kService:
    case VerdictKind::kDns: {
      std::set<std::string> networks;
      for (const LocationEvidence* l : p.failing)
        networks.insert(network_of(l->location, l->labels));
      out = fmt::format("{} {} from {} locations in {} networks{} since {}", service,
                        verdict.kind == VerdictKind::kDns ? "does not resolve" : "is unreachable",
                        p.failing.size(), networks.size(),
                        verdict.kind == VerdictKind::kDns ? "" : stages_text(stages_of(p.failing)),
                        clock_time(since_us));
      if (!verdict.reachable.empty()) out += "; reachable from " + join(verdict.reachable);
      out += references_clause("the failing locations", p.failing);
      break;
    }
    case VerdictKind::kUnknown:
      out = fmt::format("{} fails from {}{} since {}; {}", service,
                        verdict.failing.empty() ? "no location" : join(verdict.failing),
                        stages_text(stages_of(p.failing)), clock_time(since_us), verdict.reason);
      break;
  }
  out += "; " + describe_changes(changes, since_us) + ": ";
  switch (verdict.kind) {
    case VerdictKind::kNetwork:
      return out + "network: " + verdict.subject;
    case VerdictKind::kRegion:
      return out + "network: region " + verdict.subject;
    case VerdictKind::kVantage:
      return out + "vantage: " + verdict.subject;
    default:
      return out + verdict.name;
  }
}

}  // namespace leeway::incident
