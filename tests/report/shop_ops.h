// The contract the report tests compute with: shop-ops over the service web, KRW 15,000,000 a
// month in Seoul; grade 1 from 30 minutes (3,000,000, acknowledged within 10 minutes or
// 500,000 more), grade 2 any other incident (1,000,000); a 30% cap.
#pragma once

#include "sla/contract.h"

namespace leeway::testing {

inline sla::Contract shop_ops() {
  sla::Contract c;
  c.id = "shop-ops";
  c.customer = "Example Trading Co.";
  c.services = {"web"};
  c.fee = sla::Money{15'000'000, "KRW"};
  c.rounding = sla::Rounding::kDown;
  c.time_zone = "Asia/Seoul";
  c.grades = {sla::Grade{"1",
                         {sla::GradeRule{.min_duration_us = 30 * kMinuteUs}},
                         3'000'000,
                         10 * kMinuteUs,
                         500'000},
              sla::Grade{"2", {sla::GradeRule{}}, 1'000'000}};
  c.cap = sla::parse_percentage("30").value();
  return c;
}

}  // namespace leeway::testing
