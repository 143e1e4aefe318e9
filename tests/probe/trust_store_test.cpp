// TrustStores: one parse per CA source, shared; parsed again after forget_all() (a reload).
#include "probe/trust_store.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <string>

#include "support/certs.h"

namespace leeway::probe {
namespace {

TEST(TrustStores, OneParsePerSourceUntilAReloadForgetsThem) {
  testing::TestCa ca("/tmp/leeway-trust-test-" + std::to_string(::getpid()));
  ManualClock clock(0);
  TrustStores stores(clock);
  auto first = stores.get(ca.ca_pem_path());
  ASSERT_TRUE(first) << first.error().message;
  auto again = stores.get(ca.ca_pem_path());
  ASSERT_TRUE(again);
  EXPECT_EQ(first->get(), again->get());
  EXPECT_EQ(stores.loads(), 1);

  stores.forget_all();
  auto after = stores.get(ca.ca_pem_path());
  ASSERT_TRUE(after);
  EXPECT_EQ(stores.loads(), 2);
  EXPECT_NE(after->get(), first->get());  // a new store; the old one lives while held
}

}  // namespace
}  // namespace leeway::probe
