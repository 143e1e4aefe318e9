// Placeholder until the icmp prober lands: reports every run as down with a clear error.
#include <boost/asio/post.hpp>

#include "probe/probers.h"

namespace leeway::probe {

namespace {
class UnimplementedIcmpProber final : public Prober {
 public:
  explicit UnimplementedIcmpProber(ProbeContext& ctx) : ctx_(ctx) {}
  void start(const CheckSpec&, ProbeCallback done) override {
    ProbeResult result;
    result.error = "icmp probes are not implemented yet";
    boost::asio::post(ctx_.io, [done = std::move(done), result]() mutable { done(std::move(result)); });
  }
 private:
  ProbeContext& ctx_;
};
}  // namespace

std::unique_ptr<Prober> make_icmp_prober(ProbeContext& ctx) {
  return std::make_unique<UnimplementedIcmpProber>(ctx);
}

}  // namespace leeway::probe
