// The small helpers of the report model and the evidence: names, exact shares and the
// four-decimal availability text.
#include "sla/report.h"

#include <fmt/format.h>

namespace leeway::sla {

std::string duration_text(DurationUs us) {
  if (us < 0) return "-" + duration_text(-us);
  std::string out;
  std::int64_t seconds = us / kSecondUs;
  for (auto [unit, size] : {std::pair{"d", 86'400}, {"h", 3'600}, {"m", 60}, {"s", 1}}) {
    if (seconds >= size) out += fmt::format("{}{}", seconds / size, unit);
    seconds %= size;
  }
  return out.empty() ? "0s" : out;
}

bool Share::at_least(Percentage p) const {
  if (whole <= 0) return false;
  return static_cast<__int128>(part) * kWholeMillionths >=
         static_cast<__int128>(p.millionths) * whole;
}

std::string_view field_name(ReclassifiedField field) {
  switch (field) {
    case ReclassifiedField::kGrade:
      return "grade";
    case ReclassifiedField::kAttribution:
      return "attribution";
    case ReclassifiedField::kExclusion:
      return "exclusion";
  }
  return "";
}

std::string_view reason_name(ExclusionReason reason) {
  switch (reason) {
    case ExclusionReason::kMaintenance:
      return "maintenance";
    case ExclusionReason::kNetwork:
      return "network";
    case ExclusionReason::kCustomer:
      return "customer";
    case ExclusionReason::kManual:
      return "manual";
    case ExclusionReason::kReclassified:
      return "reclassified";
  }
  return "";
}

std::string_view target_result_name(TargetResult result) {
  switch (result) {
    case TargetResult::kNone:
      return "none";
    case TargetResult::kMet:
      return "met";
    case TargetResult::kMissed:
      return "missed";
    case TargetResult::kPending:
      return "pending";
  }
  return "";
}

bool Availability::at_least(Percentage p) const {
  return Share{available, counted}.at_least(p);
}

std::string Availability::text() const {
  if (!known()) return "unknown";
  // Percent with four decimals is millionths of the whole, rounded down.
  std::int64_t millionths =
      divide_rounded(static_cast<__int128>(available) * kWholeMillionths, counted, Rounding::kDown);
  return fmt::format("{}.{:04}", millionths / 10'000, millionths % 10'000);
}

}  // namespace leeway::sla
