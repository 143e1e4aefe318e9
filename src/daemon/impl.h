// The daemon's state and wiring, shared by its parts: daemon.cpp (wiring and lifecycle), api.cpp
// (the HTTP API) and metrics.cpp (/metrics). Internal to the daemon module.
#pragma once

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/thread_pool.hpp>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "config/config.h"
#include "daemon/agent_api.h"
#include "daemon/availability.h"
#include "daemon/current_state.h"
#include "daemon/daemon.h"
#include "daemon/slos.h"
#include "http/server.h"
#include "incident/tracker.h"
#include "ingest/ingest.h"
#include "probe/probe.h"
#include "schedule/schedule.h"
#include "store/incident_store.h"
#include "store/sla_store.h"
#include "store/slo_store.h"
#include "store/store.h"

namespace leeway::daemon {

// Work whose response is already known (bad parameters).
http::Work answer(http::Response response);

struct Daemon::Impl {
  Impl(const DaemonOptions& options, const Clock& clock, config::Config cfg,
       std::unique_ptr<store::Store> db);

  // The config's API tokens as the HTTP server takes them.
  static std::vector<http::ApiToken> api_tokens(const config::Config& cfg);
  static schedule::Options schedule_options(const config::Config& cfg);

  // The checks this daemon runs: those listing its own location.
  std::vector<schedule::Entry> entries();

  // Whether the config has a check with this id, wherever it runs.
  bool has_check(std::string_view id) const;

  // Every check of the config, wherever it runs: the API lists them all.
  std::vector<std::string> all_check_ids() const;

  // Runs one check (the driver calls it on the loop) and submits its result.
  void start_run(const schedule::Entry& entry, TimeUs, std::function<void()> done);

  // The first subscriber to the results stream: what the API and /metrics show now. The
  // stream's thread hands each batch to the loop, which owns `state`.
  Status subscribe_state();

  // Incidents (incidents.cpp): the detector's subscriber to the results stream. It restores the
  // tracker from the stores first, and after a reload rebuilds it with the new config on the
  // stream's thread, before its next batch.
  Status subscribe_incidents();
  // The tracker now; thread-safe.
  std::shared_ptr<incident::Tracker> current_tracker() const;
  // After the stream stopped: saves where the detector stopped, when it had results left, so
  // that the next start resumes there (see subscribe_incidents()).
  void save_detector_position();

  // SLOs (slos.cpp): restores them from the store, subscribes them to the results stream and
  // arms their evaluation every 10 s of the clock.
  Status subscribe_slos();
  void evaluate_slos_at(TimeUs due_us);
  // The SLO routes (slos_api.cpp).
  std::vector<http::Route> slo_routes();
  http::Work slo_json_work(const http::Request& r);
  // The deploy gate's routes (gate.cpp).
  std::vector<http::Route> gate_routes();
  http::Work gate_decisions_json(const http::Request& r);
  // Who asks: the name of the API token the request carries, or "anonymous".
  std::string asked_by(const http::Request& r) const;

  // Reads and validates the config file on the calling thread, never the loop's (a 10,000-check
  // file takes up to a second to parse), then applies it on the loop and returns what that said.
  // REQUIRES: not called on the loop's thread.
  Status reload();

  // On the loop: swaps in a validated config; the old one stays if the schedule refuses it.
  Status apply(std::shared_ptr<const config::Config> next);

  // Signals are taken on a thread of their own (signal_io), so that a loop with thousands of
  // handlers waiting still stops at once: SIGHUP reloads (off the loop); SIGTERM and SIGINT stop
  // the loop after the handler it is running.
  void wait_for_signals();

  // The API (api.cpp).
  std::vector<http::Route> routes();
  // The API's slow routes: each reads what it needs on the loop and returns the work (store
  // queries, rendering) that the HTTP server runs on its worker threads.
  http::Work checks_json();
  http::Work results_json(const http::Request& r);
  http::Work minutes_json(const http::Request& r);
  // The incident and change routes (incidents_api.cpp).
  std::vector<http::Route> incident_routes();
  http::Work incidents_json(const http::Request& r);
  http::Work incident_json(const http::Request& r);
  http::Work add_note(const http::Request& r, store::IncidentNote::Kind kind);
  http::Work record_change(const http::Request& r);
  http::Work changes_json(const http::Request& r);
  // Maintenance windows, exclusions and reclassifications (sla_records_api.cpp).
  std::vector<http::Route> sla_record_routes();
  std::vector<std::string> service_ids() const;
  http::Work add_maintenance(const http::Request& r);
  http::Work maintenance_json(const http::Request& r);
  http::Work add_exclusion(const http::Request& r);
  http::Work exclusions_json(const http::Request& r);
  http::Work reclassify(const http::Request& r);
  // The contracts and their monthly reports (reports_api.cpp).
  std::vector<http::Route> report_routes();
  http::Work contract_report(const http::Request& r);
  // Makes the store's config windows those of `cfg` (at start and on reload, off the loop).
  static Status sync_maintenance(store::SlaStore& sla, const config::Config& cfg);
  // /metrics, written piece by piece on the loop (metrics.cpp).
  http::Response metrics();

  DaemonOptions options;
  const Clock& clock;
  std::shared_ptr<const config::Config> config;
  std::vector<const config::Check*> checks;  // payload index -> check, for the config
  boost::asio::io_context io;  // before ingest: the state subscriber posts to it until stopped
  std::unique_ptr<store::Store> store;
  // Before ingest, which stops the stream's threads (the tracker's among them) first.
  std::unique_ptr<store::IncidentStore> incident_store;  // set before subscribe_incidents()
  std::unique_ptr<store::SlaStore> sla_store;            // set at create()
  std::unique_ptr<store::SloStore> slo_store;            // set before subscribe_slos()
  mutable std::mutex tracker_mutex;
  std::shared_ptr<incident::Tracker> tracker;            // under tracker_mutex
  std::shared_ptr<const config::Config> tracker_config;  // a reload's, under tracker_mutex
  std::unique_ptr<SloState> slos;    // set by subscribe_slos(); its SLOs are the start config's
  std::unique_ptr<Timer> slo_timer;  // evaluates the SLOs every 10 s
  ingest::Ingest ingest;
  AvailabilityCache availability;
  probe::ProbeEngine engine;
  schedule::Driver driver;
  boost::asio::io_context signal_io;  // run by run()'s signal thread
  boost::asio::signal_set signals;
  std::unique_ptr<http::Server> server;
  std::uint16_t port = 0;
  CurrentState state;
  // Vantage agents: their routes, tokens and the locations' health (agent_api.cpp).
  AgentApi agents;
  std::atomic<std::size_t> checks_run_here{0};  // checks.size(), for threads off the loop
  // The SLOs' evaluations run here, off the loop: they read and write the stores. Destroyed
  // (joined) before the SLO state and the stores.
  boost::asio::thread_pool slo_worker{1};
  // SIGHUP's reloads parse the file here, off the loop. Last: destroyed (joined) first.
  boost::asio::thread_pool reloads{1};
};

}  // namespace leeway::daemon
