// `leeway agent`'s wiring: check list -> scheduler -> probe engine -> spool -> pusher.
#include "agent/agent.h"

#include <fmt/format.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <cctype>
#include <iostream>
#include <memory>

#include "agent/check_source.h"
#include "agent/pusher.h"
#include "agent/spool.h"
#include "agent/wire.h"
#include "config/config.h"
#include "probe/probe.h"
#include "schedule/schedule.h"

namespace leeway::agent {

namespace {

// The token, without the line break an editor leaves. Never printed.
Result<std::string> read_token(const std::string& path) {
  auto text = config::read_file(path);
  if (!text) return fail("--token-file ", path, ": ", text.error().message);
  std::string token = std::move(*text);
  while (!token.empty() && std::isspace(static_cast<unsigned char>(token.back()))) token.pop_back();
  while (!token.empty() && std::isspace(static_cast<unsigned char>(token.front())))
    token.erase(token.begin());
  if (token.empty()) return fail("--token-file ", path, ": the file is empty");
  return token;
}

}  // namespace

int run_agent(const AgentOptions& options, const Clock& clock) {
  auto token = read_token(options.token_file);
  if (!token) {
    std::cerr << "leeway agent: " << token.error().message << "\n";
    return 1;
  }
  auto spool = Spool::open({options.spool_dir, options.spool_max_bytes});
  if (!spool) {
    std::cerr << "leeway agent: spool: " << spool.error().message << "\n";
    return 1;
  }
  std::string server = options.server;
  while (!server.empty() && server.back() == '/') server.pop_back();
  ClientOptions client{server, *token, options.ca_file};

  boost::asio::io_context io;
  probe::ProbeEngine engine(io, clock);
  // The list in use, owned by the loop; a run holds the list it came from.
  auto checks = std::make_shared<const std::vector<AgentCheck>>();
  std::size_t runs = 0;
  schedule::Driver driver(
      io, clock, [&](const schedule::Entry& entry, TimeUs, std::function<void()> done) {
        auto list = checks;
        std::size_t index = entry.payload;
        engine.run(
            list->at(index).spec, [&, list, index, done = std::move(done)](probe::ProbeResult r) {
              auto stored = store::make_stored_result((*list)[index].id, options.location, r);
              if (Status s = (*spool)->append(result_to_json(stored).dump(
                      -1, ' ', false, nlohmann::json::error_handler_t::replace));
                  !s)
                std::cerr << "leeway agent: spool: " << s.error().message << "\n";
              ++runs;
              done();
            });
      });
  auto use = [&](std::vector<AgentCheck> list) {
    checks = std::make_shared<const std::vector<AgentCheck>>(std::move(list));
    std::vector<schedule::Entry> entries;
    for (std::size_t i = 0; i < checks->size(); ++i)
      entries.push_back({(*checks)[i].id, (*checks)[i].interval_us, (*checks)[i].spec.host, i});
    if (Status s = driver.replace(std::move(entries)); !s)
      std::cerr << "leeway agent: the check list was refused: " << s.error().message << "\n";
  };
  CheckSource source(client, options.location, options.spool_dir + "/checks.json",
                     [&](std::vector<AgentCheck> list) {
                       boost::asio::post(
                           io, [&, list = std::move(list)]() mutable { use(std::move(list)); });
                     });
  Pusher pusher(client, options.location, **spool, clock);

  boost::asio::signal_set signals(io, SIGTERM, SIGINT);
  signals.async_wait([&](boost::system::error_code ec, int) {
    if (ec) return;
    std::cerr << "leeway agent: stopping; unsent results stay in the spool\n";
    driver.stop();
    io.stop();
  });
  source.start();
  pusher.start();
  std::cerr << fmt::format("leeway agent: location {}, server {}, spool {}\n", options.location,
                           server, options.spool_dir);
  io.run();
  source.stop();
  pusher.stop();
  std::cerr << fmt::format("leeway agent: stopped after {} runs; {} batches sent\n", runs,
                           pusher.batches_sent());
  return 0;
}

}  // namespace leeway::agent
