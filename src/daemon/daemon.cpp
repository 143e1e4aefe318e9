// `leeway serve`'s wiring and lifecycle: config, schedule, probes and ingest on one loop; reload
// off the loop; a clean stop that writes every pending result.
#include "daemon/daemon.h"

#include <fmt/format.h>

#include <boost/asio/post.hpp>
#include <future>
#include <iostream>
#include <thread>

#include "daemon/impl.h"
#include "report/evidence.h"

namespace leeway::daemon {

Daemon::Impl::Impl(const DaemonOptions& options, const Clock& clock, config::Config cfg,
                   std::unique_ptr<store::Store> db)
    : options(options),
      clock(clock),
      config(std::make_shared<const config::Config>(std::move(cfg))),
      store(std::move(db)),
      ingest(*store, clock),
      availability(*store, clock),
      engine(io, clock),
      driver(
          io, clock,
          [this](const schedule::Entry& e, TimeUs scheduled_us, std::function<void()> done) {
            start_run(e, scheduled_us, std::move(done));
          },
          schedule_options(*config)),
      signals(signal_io, SIGTERM, SIGINT, SIGHUP),
      agents(io, clock, ingest, config) {}

std::vector<http::ApiToken> Daemon::Impl::api_tokens(const config::Config& cfg) {
  std::vector<http::ApiToken> tokens;
  for (const auto& t : cfg.server.api_tokens) tokens.push_back({t.name, t.sha256});
  return tokens;
}

schedule::Options Daemon::Impl::schedule_options(const config::Config& cfg) {
  schedule::Options o;
  if (cfg.server.max_concurrent_per_host > 0)
    o.max_in_flight_per_host = static_cast<std::size_t>(cfg.server.max_concurrent_per_host);
  return o;
}

std::vector<schedule::Entry> Daemon::Impl::entries() {
  std::vector<schedule::Entry> out;
  std::size_t index = 0;
  checks.clear();
  for (const auto& service : config->services) {
    for (const auto& check : service.checks) {
      bool here = std::find(check.locations.begin(), check.locations.end(),
                            config->server.location) != check.locations.end();
      if (here) {
        checks.push_back(&check);
        out.push_back({check.id, check.interval_us, check.spec.host, index++});
      }
    }
  }
  // This location's reference targets, whose results the detector counts toward it.
  for (const auto& reference : config->references) {
    if (std::find(reference.locations.begin(), reference.locations.end(),
                  config->server.location) != reference.locations.end()) {
      checks.push_back(&reference);
      out.push_back({reference.id, reference.interval_us, reference.spec.host, index++});
    }
  }
  checks_run_here.store(checks.size());
  return out;
}

bool Daemon::Impl::has_check(std::string_view id) const {
  for (const auto& service : config->services)
    for (const auto& check : service.checks)
      if (check.id == id) return true;
  for (const auto& reference : config->references)
    if (reference.id == id) return true;
  return false;
}

std::vector<std::string> Daemon::Impl::all_check_ids() const {
  std::vector<std::string> ids;
  for (const auto& service : config->services)
    for (const auto& check : service.checks) ids.push_back(check.id);
  return ids;
}

void Daemon::Impl::start_run(const schedule::Entry& entry, TimeUs, std::function<void()> done) {
  // Hold the config the check came from until the run is over, even across a reload.
  auto snapshot = config;
  const config::Check* check = checks.at(entry.payload);
  engine.run(check->spec, [this, snapshot, check, done = std::move(done)](probe::ProbeResult r) {
    ingest.submit(store::make_stored_result(check->id, snapshot->server.location, r));
    done();
  });
}

Status Daemon::Impl::subscribe_state() {
  return ingest.subscribe({.name = "state"}, [this](ingest::Batch batch) {
    std::vector<store::StoredResult> results;
    results.reserve(batch.size());
    for (const auto& c : batch) results.push_back(c.result);
    boost::asio::post(io, [this, results = std::move(results)] {
      for (const auto& r : results) state.record(r);
    });
  });
}

Status Daemon::Impl::sync_maintenance(store::SlaStore& sla, const config::Config& cfg) {
  std::vector<store::MaintenanceWindow> windows;
  for (const auto& m : cfg.maintenance) {
    windows.push_back(report::stored_window(m));
  }
  return sla.sync_config_windows(windows);
}

Status Daemon::Impl::reload() {
  config::LoadResult loaded = config::load_config(options.config_path);
  if (!loaded.ok()) {
    std::string all;
    for (const auto& e : loaded.errors) all += e.to_string() + "\n";
    std::cerr << "leeway serve: reload refused, the running config stays:\n" << all;
    return Error{all};
  }
  auto next = std::make_shared<const config::Config>(std::move(*loaded.config));
  // Before the config is applied, so that no API answer shows the new config's services with
  // the old windows. The store failing leaves the old windows; the checks still reload.
  if (Status s = sync_maintenance(*sla_store, *next); !s)
    std::cerr << "leeway serve: reload: maintenance windows not updated: " << s.error().message
              << "\n";
  auto applied = std::make_shared<std::promise<Status>>();
  auto result = applied->get_future();
  boost::asio::post(io, [this, next, applied] { applied->set_value(apply(next)); });
  // The loop may stop (SIGTERM) before it takes the new config: then it was not applied.
  while (result.wait_for(std::chrono::milliseconds(100)) != std::future_status::ready)
    if (io.stopped()) return fail("leeway is stopping; the new config was not applied");
  return result.get();
}

Status Daemon::Impl::apply(std::shared_ptr<const config::Config> next) {
  auto previous = config;
  config = std::move(next);
  if (Status s = driver.replace(entries()); !s) {
    config = previous;
    (void)driver.replace(entries());
    return s;
  }
  availability.set_checks(all_check_ids());
  {
    std::lock_guard lock(tracker_mutex);
    tracker_config = config;  // the detector takes it before its next batch
  }
  server->set_api_tokens(api_tokens(*config));
  agents.set_config(config);
  engine.reload_trust();  // CA files are read again, as the rest of the config is
  std::cerr << fmt::format("leeway serve: reloaded {}: {} checks run here\n", options.config_path,
                           checks.size());
  return {};
}

void Daemon::Impl::wait_for_signals() {
  signals.async_wait([this](boost::system::error_code ec, int signal) {
    if (ec) return;
    if (signal == SIGHUP) {
      boost::asio::post(reloads, [this] { (void)reload(); });
      wait_for_signals();
      return;
    }
    std::cerr << "leeway serve: stopping; writing pending results\n";
    // Thread-safe, and it does not wait in the loop's queue: an overloaded loop, busy with curl's
    // socket events, once took more than 15 s to reach a handler posted to it.
    io.stop();
  });
}

Daemon::Daemon(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Daemon::~Daemon() = default;

std::unique_ptr<Daemon> Daemon::create(const DaemonOptions& options, const Clock& clock,
                                       StartFailure& failure) {
  config::LoadResult loaded = config::load_config(options.config_path);
  if (!loaded.ok()) {
    failure.bad_config = true;
    for (const auto& e : loaded.errors) failure.errors.push_back(e.to_string());
    return nullptr;
  }
  config::Config cfg = std::move(*loaded.config);
  std::string uri = options.store_uri.empty() ? cfg.server.store : options.store_uri;
  store::StoreOptions store_options;
  store_options.raw_retention_us = cfg.server.raw_retention_us;
  store_options.rollup_retention_us = cfg.server.rollup_retention_us;
  auto db = store::open_store(uri, store_options);
  if (!db) {
    failure.errors.push_back(db.error().message);
    return nullptr;
  }
  auto incidents = store::open_incident_store(uri);
  if (!incidents) {
    failure.errors.push_back(incidents.error().message);
    return nullptr;
  }
  auto sla = store::open_sla_store(uri);
  if (!sla) {
    failure.errors.push_back(sla.error().message);
    return nullptr;
  }
  if (Status s = Impl::sync_maintenance(**sla, cfg); !s) {
    failure.errors.push_back("maintenance windows: " + s.error().message);
    return nullptr;
  }
  auto slo_store = store::open_slo_store(uri);
  if (!slo_store) {
    failure.errors.push_back(slo_store.error().message);
    return nullptr;
  }
  auto impl = std::make_unique<Impl>(options, clock, std::move(cfg), std::move(*db));
  impl->incident_store = std::move(*incidents);
  impl->sla_store = std::move(*sla);
  impl->slo_store = std::move(*slo_store);
  // What the daemon knew before a restart: the latest results, so /metrics and the API are
  // complete from the first second; the stream brings everything stored from here on.
  if (auto latest = impl->store->latest(""); latest) {
    for (const auto& r : *latest) impl->state.seed(r);
  }
  if (Status s = impl->subscribe_state(); !s) {
    failure.errors.push_back(s.error().message);
    return nullptr;
  }
  if (Status s = impl->subscribe_incidents(); !s) {
    failure.errors.push_back(s.error().message);
    return nullptr;
  }
  if (Status s = impl->subscribe_slos(); !s) {
    failure.errors.push_back(s.error().message);
    return nullptr;
  }
  return std::unique_ptr<Daemon>(new Daemon(std::move(impl)));
}

int Daemon::run() {
  Impl& d = *impl_;
  http::ServerOptions server_options;
  server_options.max_connections = static_cast<std::size_t>(d.config->server.max_connections);
  server_options.tls_cert_file = d.config->server.tls_cert_file;
  server_options.tls_key_file = d.config->server.tls_key_file;
  std::vector<http::Route> routes = d.routes();
  for (auto& route : d.agents.routes()) routes.push_back(std::move(route));
  d.server = std::make_unique<http::Server>(d.io, std::move(routes), server_options);
  d.server->set_api_tokens(Impl::api_tokens(*d.config));
  std::string listen = d.options.listen.empty() ? d.config->server.listen : d.options.listen;
  auto port = d.server->listen(listen);
  if (!port) {
    std::cerr << "leeway serve: " << port.error().message << "\n";
    return 1;
  }
  if (d.server->beyond_loopback() && !d.server->tls())
    std::cerr
        << "leeway serve: WARNING: " << listen
        << " is reachable from other machines and the API speaks plain HTTP: API tokens "
           "and results cross the network unencrypted. Set server.tls, or listen on 127.0.0.1 "
           "behind a TLS proxy (see Security in the README).\n";
  d.port = *port;
  if (Status s = d.driver.replace(d.entries()); !s) {
    std::cerr << "leeway serve: " << s.error().message << "\n";
    return 1;
  }
  d.availability.set_checks(d.all_check_ids());
  d.wait_for_signals();
  std::thread signal_thread([&d] { d.signal_io.run(); });
  std::cerr << fmt::format(
      "leeway serve: {} checks run here (location {}); storing in {}; "
      "listening on {}://{}:{}/\n",
      d.checks.size(), d.config->server.location, d.store->describe(),
      d.server->tls() ? "https" : "http", listen.substr(0, listen.rfind(':')), d.port);
  d.io.run();
  d.signal_io.stop();
  signal_thread.join();
  // Nothing runs on the loop any more, so this thread may stop what lives on it. Runs in flight
  // are abandoned: their results would come from a loop that no longer runs. The subscribers
  // stop without handling their queues (ingest.stop()): what they skip is in the store, and each
  // reads it from there at the next start.
  d.driver.stop();
  if (d.slo_timer) d.slo_timer->cancel();
  d.server->stop();
  d.reloads.join();  // a reload under way sees the loop stopped and gives up
  d.server.reset();  // waits for API work still running on its threads: it reads the store
  d.availability.stop();
  d.ingest.stop();  // every pending result is written before we exit
  d.save_detector_position();
  const store::StoreWriter& writer = d.ingest.writer();
  if (writer.write_errors_total() > 0) {
    // Results were lost: say so, and exit non-zero so that a supervisor notices.
    std::cerr << fmt::format(
        "leeway serve: stopped; {} results written, {} lost in {} failed writes (last: {})\n",
        writer.results_written_total(), writer.dropped_total(), writer.write_errors_total(),
        writer.last_error());
    return 1;
  }
  std::cerr << fmt::format("leeway serve: stopped; {} results written\n",
                           writer.results_written_total());
  return 0;
}

std::uint16_t Daemon::port() const {
  return impl_->port;
}

}  // namespace leeway::daemon
