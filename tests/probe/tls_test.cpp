// The tls prober through ProbeEngine against real TLS servers on loopback, with certificates the
// test makes: every outcome and the stage it names, the certificate's facts, SNI and closing.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <optional>
#include <thread>

#include "probe/probe.h"
#include "probe/trust_store.h"
#include "support/certs.h"
#include "support/peers.h"
#include "support/tls_server.h"

namespace leeway::testing {
namespace {

using probe::Outcome;
using probe::Stage;
using ::testing::AnyOf;
using ::testing::ElementsAre;
using ::testing::StartsWith;

// Runs one check on a loop of its own and stops the loop at its result (the engine's icmp
// sockets keep a loop busy forever).
probe::ProbeResult run(const probe::CheckSpec& spec) {
  boost::asio::io_context io;
  probe::ProbeEngine engine(io, SystemClock::instance());
  probe::ProbeResult result;
  engine.run(spec, [&](probe::ProbeResult r) {
    result = std::move(r);
    io.stop();
  });
  io.run();
  return result;
}

// Waits up to two seconds for `condition`, which another thread makes true.
template <typename Condition>
bool eventually(Condition condition) {
  auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(2);
  while (!condition()) {
    if (std::chrono::steady_clock::now() > give_up) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return true;
}

class TlsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new std::string(std::filesystem::temp_directory_path() /
                           ("leeway-tls-" + std::to_string(getpid())));
    ca_ = new TestCa(*dir_);
  }
  static void TearDownTestSuite() {
    delete ca_;
    std::filesystem::remove_all(*dir_);
    delete dir_;
  }

  // A tls check of 127.0.0.1:port that verifies `name` and trusts the test CA.
  static probe::CheckSpec spec_for(std::uint16_t port, const std::string& name = "localhost") {
    auto spec = probe::parse_target("tls://127.0.0.1:" + std::to_string(port));
    EXPECT_TRUE(spec) << spec.error().message;
    spec->tls.server_name = name;
    spec->tls.ca_file = ca_->ca_pem_path();
    spec->timeout_us =
        10 * kSecondUs;  // generous: verdicts come in milliseconds, even under sanitizers
    return *spec;
  }

  static TlsServerOptions serving(const CertFiles& files) {
    TlsServerOptions options;
    options.cert_pem_path = files.cert_pem_path;
    options.key_pem_path = files.key_pem_path;
    return options;
  }

  static std::string* dir_;
  static TestCa* ca_;
};

std::string* TlsTest::dir_ = nullptr;
TestCa* TlsTest::ca_ = nullptr;

TEST_F(TlsTest, ValidCertificateIsUpWithItsFacts) {
  TlsServer server(serving(ca_->issue("valid", "localhost", -1, 90)));
  auto r = run(spec_for(server.port()));
  EXPECT_EQ(r.outcome, Outcome::kUp) << r.error;
  EXPECT_EQ(r.stage, Stage::kNone);
  EXPECT_EQ(r.error, "");
  ASSERT_TRUE(r.cert_days_left);
  // Issued for 90 days a moment ago: 89 whole days and some hours are left.
  EXPECT_THAT(*r.cert_days_left, AnyOf(89, 90));
  EXPECT_EQ(r.cert_subject, "CN=localhost");
  EXPECT_EQ(r.timings.dns_us, -1);  // an address literal needs no lookup
  EXPECT_GE(r.timings.connect_us, 0);
  EXPECT_GT(r.timings.tls_us, 0);
  EXPECT_GE(r.timings.total_us, r.timings.connect_us + r.timings.tls_us);
  EXPECT_EQ(r.remote_address, "127.0.0.1");
  EXPECT_THAT(server.server_names(), ElementsAre("localhost"));
  EXPECT_TRUE(eventually([&] { return server.handshakes() == 1; }));
}

TEST_F(TlsTest, ExpiringSoonIsDegraded) {
  TlsServer server(serving(ca_->issue("expiring", "localhost", -30, 5)));
  auto spec = spec_for(server.port());
  spec.tls.expiry_degraded_days = 14;
  auto r = run(spec);
  EXPECT_EQ(r.outcome, Outcome::kDegraded);
  EXPECT_EQ(r.stage, Stage::kTls);
  ASSERT_TRUE(r.cert_days_left);
  EXPECT_THAT(*r.cert_days_left, AnyOf(4, 5));
  EXPECT_EQ(r.error, "certificate expires in " + std::to_string(*r.cert_days_left) + " days");

  spec.tls.expiry_degraded_days = 3;
  EXPECT_EQ(run(spec).outcome, Outcome::kUp);
}

TEST_F(TlsTest, ExpiredIsDownAtTls) {
  TlsServer server(serving(ca_->issue("expired", "localhost", -60, -3)));
  auto r = run(spec_for(server.port()));
  EXPECT_EQ(r.outcome, Outcome::kDown);
  EXPECT_EQ(r.stage, Stage::kTls);
  EXPECT_EQ(r.error, "certificate expired 3 days ago");
  ASSERT_TRUE(r.cert_days_left);
  EXPECT_THAT(*r.cert_days_left, AnyOf(-4, -3));  // the floor of -3 days and a few seconds
  EXPECT_EQ(r.cert_subject, "CN=localhost");
}

TEST_F(TlsTest, NotYetValidIsDownAtTls) {
  TlsServer server(serving(ca_->issue("future", "localhost", 2, 90)));
  auto r = run(spec_for(server.port()));
  EXPECT_EQ(r.outcome, Outcome::kDown);
  EXPECT_EQ(r.stage, Stage::kTls);
  EXPECT_THAT(r.error, StartsWith("certificate is not valid until 20"));
  EXPECT_THAT(r.error, ::testing::EndsWith("Z"));
}

TEST_F(TlsTest, WrongHostIsDownAtTls) {
  TlsServer server(serving(ca_->issue("wronghost", "other.example", -1, 90)));
  auto r = run(spec_for(server.port()));
  EXPECT_EQ(r.outcome, Outcome::kDown);
  EXPECT_EQ(r.stage, Stage::kTls);
  EXPECT_EQ(r.error, "certificate is not valid for localhost (subject CN=other.example)");
  EXPECT_THAT(*r.cert_days_left, AnyOf(89, 90));  // facts are reported whatever the verdict
}

TEST_F(TlsTest, WildcardCoversExactlyOneLabel) {
  TlsServer server(serving(ca_->issue("wildcard", "*.example.test", -1, 90)));
  EXPECT_EQ(run(spec_for(server.port(), "api.example.test")).outcome, Outcome::kUp);
  EXPECT_EQ(run(spec_for(server.port(), "a.b.example.test")).error,
            "certificate is not valid for a.b.example.test (subject CN=*.example.test)");
  EXPECT_EQ(run(spec_for(server.port(), "example.test")).stage, Stage::kTls);
}

TEST_F(TlsTest, SelfSignedIsDownAtTls) {
  TlsServer server(serving(ca_->self_signed("self", "localhost")));
  auto r = run(spec_for(server.port()));
  EXPECT_EQ(r.outcome, Outcome::kDown);
  EXPECT_EQ(r.stage, Stage::kTls);
  EXPECT_THAT(r.error, StartsWith("certificate not trusted: self"));
  EXPECT_EQ(r.cert_subject, "CN=localhost");
}

TEST_F(TlsTest, UnknownCaIsDownAtTlsWithoutItsCaFile) {
  // Signed by the test CA, which the system store does not know.
  TlsServer server(serving(ca_->issue("valid2", "localhost", -1, 90)));
  auto spec = spec_for(server.port());
  spec.tls.ca_file.clear();
  auto r = run(spec);
  EXPECT_EQ(r.outcome, Outcome::kDown);
  EXPECT_EQ(r.stage, Stage::kTls);
  EXPECT_EQ(r.error, "certificate not trusted: unable to get local issuer certificate");

  // Sending the CA along does not make it trusted.
  auto options = serving(ca_->issue("chained", "localhost", -1, 90));
  options.chain_pem_path = ca_->ca_pem_path();
  TlsServer chained(options);
  spec.port = chained.port();
  r = run(spec);
  EXPECT_EQ(r.stage, Stage::kTls);
  EXPECT_EQ(r.error, "certificate not trusted: self-signed certificate in certificate chain");

  // Trusting it does.
  spec.tls.ca_file = ca_->ca_pem_path();
  EXPECT_EQ(run(spec).outcome, Outcome::kUp);
}

TEST_F(TlsTest, AddressLiteralsAreCheckedAgainstIpSansAndSentNoSni) {
  TlsServer server(serving(ca_->issue("ip", "127.0.0.1", -1, 90)));
  auto spec = spec_for(server.port(), "");  // verify the target's own address
  auto r = run(spec);
  EXPECT_EQ(r.outcome, Outcome::kUp) << r.error;
  EXPECT_EQ(r.cert_subject, "CN=127.0.0.1");
  spec.tls.server_name = "127.0.0.2";
  EXPECT_EQ(run(spec).error, "certificate is not valid for 127.0.0.2 (subject CN=127.0.0.1)");
  EXPECT_THAT(server.server_names(), ElementsAre("", ""));
}

TEST_F(TlsTest, HostNamesAreResolvedAndVerified) {
  TlsServer server(serving(ca_->issue("byname", "localhost", -1, 90)));
  auto spec = probe::parse_target("tls://localhost:" + std::to_string(server.port()));
  ASSERT_TRUE(spec);
  spec->family = probe::IpFamily::kV4;  // /etc/hosts has localhost for IPv4 only here
  spec->tls.ca_file = ca_->ca_pem_path();
  auto r = run(*spec);
  EXPECT_EQ(r.outcome, Outcome::kUp) << r.error;
  EXPECT_GE(r.timings.dns_us, 0);
  EXPECT_EQ(r.remote_address, "127.0.0.1");
  EXPECT_THAT(server.server_names(), ElementsAre("localhost"));
}

TEST_F(TlsTest, Ipv6Loopback) {
  if (!ipv6_loopback_available()) GTEST_SKIP() << "no ::1 on this machine";
  auto options = serving(ca_->issue("v6", "localhost", -1, 90));
  options.where = Loopback::kV6;
  TlsServer server(options);
  auto spec = probe::parse_target("tls://[::1]:" + std::to_string(server.port()));
  ASSERT_TRUE(spec);
  spec->tls.server_name = "localhost";
  spec->tls.ca_file = ca_->ca_pem_path();
  auto r = run(*spec);
  EXPECT_EQ(r.outcome, Outcome::kUp) << r.error;
  EXPECT_EQ(r.remote_address, "::1");
}

TEST_F(TlsTest, RefusedIsDownAtConnect) {
  std::uint16_t port = closed_port();
  auto r = run(spec_for(port));
  EXPECT_EQ(r.outcome, Outcome::kDown);
  EXPECT_EQ(r.stage, Stage::kConnect);
  EXPECT_EQ(r.error, "connect to 127.0.0.1:" + std::to_string(port) + ": Connection refused");
  EXPECT_EQ(r.timings.tls_us, -1);
  EXPECT_FALSE(r.cert_days_left);
}

TEST_F(TlsTest, SilentPeerTimesOutWithinTheTimeout) {
  TlsServerOptions options;
  options.speak_tls = false;
  TlsServer silent(options);
  auto spec = spec_for(silent.port());
  spec.timeout_us = 300 * kMillisecondUs;
  auto start = std::chrono::steady_clock::now();
  auto r = run(spec);
  auto took = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(r.outcome, Outcome::kDown);
  EXPECT_EQ(r.stage, Stage::kTimeout);
  EXPECT_EQ(r.error, "timed out after 300ms during tls handshake");
  EXPECT_GE(took, std::chrono::milliseconds(300));
  EXPECT_LT(took, std::chrono::milliseconds(300 + 400));
  EXPECT_GE(r.timings.connect_us, 0);
  EXPECT_EQ(r.timings.tls_us, -1);
}

TEST_F(TlsTest, PeersThatDoNotSpeakTlsAreDownAtTls) {
  TlsServerOptions options;
  options.speak_tls = false;
  options.plain_reply = "HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n";
  TlsServer http(options);
  auto r = run(spec_for(http.port()));
  EXPECT_EQ(r.outcome, Outcome::kDown);
  EXPECT_EQ(r.stage, Stage::kTls);
  EXPECT_THAT(r.error, StartsWith("tls handshake: "));

  BannerPeer ssh("SSH-2.0-OpenSSH_9.2\r\n");
  r = run(spec_for(ssh.port()));
  EXPECT_EQ(r.stage, Stage::kTls);
  EXPECT_THAT(r.error, StartsWith("tls handshake: "));

  // Reset in answer to the ClientHello.
  ResetPeer reset(ResetPeer::When::kAfterFirstRead);
  r = run(spec_for(reset.port()));
  EXPECT_EQ(r.outcome, Outcome::kDown);
  EXPECT_EQ(r.stage, Stage::kTls) << r.error;
  EXPECT_EQ(r.error, "tls handshake: Connection reset by peer");

  // Reset on accept: the RST may beat the client's check of its connect, so either stage is right.
  ResetPeer reset_at_once(ResetPeer::When::kOnAccept);
  r = run(spec_for(reset_at_once.port()));
  EXPECT_EQ(r.outcome, Outcome::kDown);
  EXPECT_THAT(r.stage, AnyOf(Stage::kConnect, Stage::kTls)) << r.error;
}

TEST_F(TlsTest, ClosesTheSessionWithCloseNotifyAfterReporting) {
  auto options = serving(ca_->issue("idle", "localhost", -1, 90));
  options.idle_after_handshake = true;
  TlsServer server(options);
  boost::asio::io_context io;
  probe::ProbeEngine engine(io, SystemClock::instance());
  std::optional<probe::ProbeResult> result;
  engine.run(spec_for(server.port()), [&](probe::ProbeResult r) { result = std::move(r); });
  // The result comes first; the loop keeps running for the closing exchange.
  for (int i = 0; i < 200 && server.clean_closes() == 0; ++i)
    io.run_for(std::chrono::milliseconds(10));
  ASSERT_TRUE(result);
  EXPECT_EQ(result->outcome, Outcome::kUp) << result->error;
  EXPECT_EQ(server.clean_closes(), 1);
}

TEST_F(TlsTest, ManyConcurrentRunsOnOneEngine) {
  TlsServer server(serving(ca_->issue("many", "localhost", -1, 90)));
  TlsServer self_signed(serving(ca_->self_signed("many-self", "localhost")));
  boost::asio::io_context io;
  probe::ProbeEngine engine(io, SystemClock::instance());
  constexpr int kRuns = 40;
  int results = 0;
  int up = 0;
  int untrusted = 0;
  for (int i = 0; i < kRuns; ++i) {
    // Two servers and two trust stores, so runs share the cached contexts.
    auto spec = spec_for(i % 2 ? server.port() : self_signed.port());
    if (i % 4 == 0) spec.tls.ca_file.clear();
    // Forty handshakes queue on two server threads; under sanitizers on a busy machine the last
    // ones take seconds. This test is about sharing, not speed.
    spec.timeout_us = 30 * kSecondUs;
    engine.run(spec, [&](probe::ProbeResult r) {
      if (r.outcome == Outcome::kUp) ++up;
      if (r.error.starts_with("certificate not trusted: ")) ++untrusted;
      if (++results == kRuns) io.stop();
    });
  }
  io.run();
  EXPECT_EQ(up, kRuns / 2);
  EXPECT_EQ(untrusted, kRuns / 2);
  EXPECT_EQ(server.connections() + self_signed.connections(), kRuns);
}

TEST_F(TlsTest, MissingCaFileIsAClearError) {
  auto spec = probe::parse_target("tls://127.0.0.1:1");
  ASSERT_TRUE(spec);
  spec->tls.ca_file = "/nonexistent/ca.pem";
  auto r = run(*spec);
  EXPECT_EQ(r.outcome, Outcome::kDown);
  EXPECT_EQ(r.stage, Stage::kTls);
  EXPECT_THAT(r.error, StartsWith("cannot load CA file \"/nonexistent/ca.pem\": "));
}

TEST_F(TlsTest, CaFileReplacedOnDiskIsPickedUp) {
  TestCa other(*dir_ + "/other");
  TlsServer server(serving(ca_->issue("replaced", "localhost", -1, 90)));
  std::string ca_file = *dir_ + "/replaced-ca.pem";
  std::filesystem::copy_file(other.ca_pem_path(), ca_file);
  // One engine throughout, on a clock the test moves past the trust stores' recheck interval.
  boost::asio::io_context io;
  ManualClock clock;
  probe::ProbeEngine engine(io, clock);
  auto run_here = [&](const probe::CheckSpec& spec) {
    probe::ProbeResult result;
    engine.run(spec, [&](probe::ProbeResult r) {
      result = std::move(r);
      io.stop();
    });
    io.restart();
    io.run();
    return result;
  };
  auto spec = spec_for(server.port());
  spec.tls.ca_file = ca_file;
  auto r = run_here(spec);
  EXPECT_EQ(r.stage, Stage::kTls);
  EXPECT_THAT(r.error, StartsWith("certificate not trusted: "));

  // The right CA renamed over the file: seen at the next look at the file, not per check.
  std::filesystem::copy_file(ca_->ca_pem_path(), ca_file + ".new");
  std::filesystem::rename(ca_file + ".new", ca_file);
  EXPECT_EQ(run_here(spec).stage, Stage::kTls);
  clock.advance(probe::TrustStores::kRecheckUs);
  r = run_here(spec);
  EXPECT_EQ(r.outcome, Outcome::kUp) << r.error;

  // And the wrong one written in place.
  {
    std::ifstream in(other.ca_pem_path());
    std::ofstream out(ca_file, std::ios::trunc);
    out << in.rdbuf();
  }
  clock.advance(probe::TrustStores::kRecheckUs);
  r = run_here(spec);
  EXPECT_EQ(r.stage, Stage::kTls);
  EXPECT_THAT(r.error, StartsWith("certificate not trusted: "));
}

TEST_F(TlsTest, CaFileWithoutCertificatesIsAClearError) {
  std::string ca_file = *dir_ + "/not-a-ca.pem";
  std::ofstream(ca_file) << "not a certificate\n";
  TlsServer server(serving(ca_->issue("bad-ca", "localhost", -1, 90)));
  auto spec = spec_for(server.port());
  spec.tls.ca_file = ca_file;
  auto r = run(spec);
  EXPECT_EQ(r.outcome, Outcome::kDown);
  EXPECT_EQ(r.stage, Stage::kTls);
  EXPECT_THAT(r.error, StartsWith("cannot load CA file \"" + ca_file + "\": ")) << r.error;
  EXPECT_EQ(server.connections(), 0);
}

}  // namespace
}  // namespace leeway::testing
