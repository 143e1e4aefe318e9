// Placeholder until the c-ares resolver lands: address literals only.
#include "probe/resolver.h"

#include <boost/asio/post.hpp>

namespace leeway::probe {

struct Resolver::Impl {
  boost::asio::io_context& io;
};

Resolver::Resolver(boost::asio::io_context& io, const std::string&)
    : impl_(std::make_shared<Impl>(Impl{io})) {}
Resolver::~Resolver() = default;

void Resolver::resolve(const std::string& host, IpFamily, DurationUs, AddressesCallback done) {
  boost::system::error_code ec;
  auto addr = boost::asio::ip::make_address(host, ec);
  boost::asio::post(impl_->io, [done = std::move(done), addr, ec, host] {
    if (ec) return done(fail("cannot resolve \"", host, "\": resolver not implemented yet"));
    done(std::vector<boost::asio::ip::address>{addr});
  });
}

void Resolver::query(const std::string&, const std::string&, DurationUs, AnswerCallback done) {
  boost::asio::post(impl_->io, [done = std::move(done)] { done(fail("DNS queries are not implemented yet")); });
}

}  // namespace leeway::probe
