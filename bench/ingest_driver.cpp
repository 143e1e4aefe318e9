// Ingest load for bench/ingest.sh: writes a realistic stream of probe results to SQLite in
// batches, either through leeway's Store::write, through StoreWriter (the daemon's path) or the
// way Uptime Kuma stores heartbeats, and prints results per second and bytes on disk per result
// before and after compaction. One mode per process, so each starts from a cold, empty file.
#include <fmt/core.h>
#include <sqlite3.h>
#include <sys/stat.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <numeric>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "bench/common.h"
#include "store/store.h"

using namespace leeway;

namespace {

using Clock = std::chrono::steady_clock;
double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// A small, fast, seeded generator: the same stream in every mode and every run.
class Rng {
 public:
  std::uint64_t next() {
    s_ ^= s_ << 13;
    s_ ^= s_ >> 7;
    s_ ^= s_ << 17;
    return s_;
  }
  // Uniform in [lo, hi].
  std::int64_t in(std::int64_t lo, std::int64_t hi) {
    return lo + std::int64_t(next() % std::uint64_t(hi - lo + 1));
  }
  bool chance(double p) { return double(next() % 1'000'000) < p * 1e6; }

 private:
  std::uint64_t s_ = 88172645463325252ull;
};

enum class Kind { kHttps, kHttp, kTcp, kDns, kTls };

// One check at one location: what it probes and how far away it is.
struct Series {
  std::string check;
  std::string location;
  Kind kind = Kind::kHttps;
  DurationUs phase_us = 0;   // offset of its runs within the interval
  DurationUs rtt_us = 0;     // network round trip from this location
  DurationUs server_us = 0;  // time the service takes to answer
  int status = 200;
  std::string address;  // for error texts that name the endpoint
};

// The stream: every series runs once per interval at its phase, a few ms late at times; most
// runs are up; outages hit a check at every location for a few runs, blips hit one location
// once; slow runs are degraded. Results come in start-time order, as the scheduler makes them.
class Stream {
 public:
  Stream(int checks, int locations, int interval_s, double hours)
      : interval_us_(interval_s * kSecondUs) {
    rounds_ = std::int64_t(hours * 3600 / interval_s);
    for (int c = 0; c < checks; ++c) {
      std::uint64_t pick = rng_.next() % 100;
      Kind kind = pick < 60   ? Kind::kHttps
                  : pick < 75 ? Kind::kHttp
                  : pick < 90 ? Kind::kTcp
                  : pick < 95 ? Kind::kDns
                              : Kind::kTls;
      DurationUs phase = rng_.in(0, interval_us_ - 1);
      DurationUs server = rng_.in(2'000, 120'000);
      int status = rng_.chance(0.1) ? 204 : 200;
      for (int l = 0; l < locations; ++l) {
        Series s;
        s.check = fmt::format("team-{}/check-{}", c % 50, c);
        s.location = fmt::format("loc-{}", l);
        s.kind = kind;
        s.phase_us = phase;
        s.rtt_us = rng_.in(500, 40'000) + l * 30'000;
        s.server_us = server;
        s.status = kind == Kind::kHttps || kind == Kind::kHttp ? status : 0;
        s.address = fmt::format("10.{}.{}.{}:{}", c / 250, c % 250, 10 + l,
                                kind == Kind::kTcp ? 5432 : 443);
        series_.push_back(std::move(s));
      }
    }
    order_.resize(series_.size());
    std::iota(order_.begin(), order_.end(), 0);
    std::stable_sort(order_.begin(), order_.end(),
                     [&](int a, int b) { return series_[a].phase_us < series_[b].phase_us; });
    outage_left_.assign(std::size_t(checks), 0);
    locations_ = locations;
  }

  std::int64_t total() const { return rounds_ * std::int64_t(series_.size()); }
  TimeUs start_us() const { return kT0; }
  TimeUs end_us() const { return kT0 + rounds_ * interval_us_; }
  std::size_t series_count() const { return series_.size(); }

  // Appends up to n results (and the index of their series); false when the stream is done.
  bool next(std::size_t n, std::vector<store::StoredResult>& out, std::vector<int>& series) {
    out.clear();
    series.clear();
    while (out.size() < n && round_ < rounds_) {
      if (pos_ == 0) start_round();
      int i = order_[pos_];
      out.push_back(make(series_[std::size_t(i)], i));
      series.push_back(i);
      if (++pos_ == order_.size()) {
        pos_ = 0;
        ++round_;
      }
    }
    return !out.empty();
  }

 private:
  static constexpr TimeUs kT0 = 1'767'225'600'000'000;  // 2026-01-01T00:00:00Z

  void start_round() {
    for (auto& left : outage_left_) {
      if (left > 0) {
        --left;
      } else if (rng_.chance(1.0 / 3000)) {
        left = int(rng_.in(1, 20));
      }
    }
  }

  DurationUs vary(DurationUs us) { return us + rng_.in(-us / 8, us / 4); }

  store::StoredResult make(const Series& s, int index) {
    store::StoredResult r;
    r.check = s.check;
    r.location = s.location;
    r.started_us =
        kT0 + round_ * interval_us_ + s.phase_us + (rng_.chance(0.2) ? rng_.in(0, 5'000) : 0);
    // Stage timings are cumulative from the start, as curl reports them.
    DurationUs t = vary(s.kind == Kind::kDns ? s.rtt_us : rng_.in(20, 1'500));
    if (s.kind != Kind::kDns) {
      r.dns_us = t;
      r.connect_us = t += vary(s.rtt_us);
      if (s.kind == Kind::kHttps || s.kind == Kind::kTls) r.tls_us = t += vary(2 * s.rtt_us);
      if (s.kind == Kind::kHttps || s.kind == Kind::kHttp) {
        r.first_byte_us = t += vary(s.rtt_us + s.server_us);
        t += rng_.in(50, 2'000);
      }
    }
    r.total_us = t;
    r.outcome = probe::Outcome::kUp;
    r.http_status = s.status;
    bool outage = outage_left_[std::size_t(index / locations_)] > 0;
    if (outage || rng_.chance(0.0005)) {
      fail(s, r, outage);
    } else if (rng_.chance(0.01)) {
      r.outcome = probe::Outcome::kDegraded;
      r.total_us += 500'000 + rng_.in(0, 1'500'000);
      r.error = fmt::format("slower than 500ms: took {}ms", r.total_us / 1000);
    }
    return r;
  }

  // A down run: the error texts leeway's probers write, naming the endpoint where they do.
  void fail(const Series& s, store::StoredResult& r, bool outage) {
    r.outcome = probe::Outcome::kDown;
    r.tls_us = r.first_byte_us = -1;
    r.http_status = 0;
    std::uint64_t what = outage ? std::hash<std::string>{}(s.check) % 3 : 3;
    if (what == 0 && (s.kind == Kind::kHttps || s.kind == Kind::kHttp)) {
      r.stage = probe::Stage::kStatus;
      r.http_status = 503;
      r.tls_us = s.kind == Kind::kHttps ? r.connect_us + 2 * s.rtt_us : -1;
      r.first_byte_us = r.total_us = std::max(r.connect_us, r.tls_us) + s.rtt_us + 1'000;
      r.error = "status 503 is not in the expected 200-399";
    } else if (what <= 1) {
      r.stage = probe::Stage::kConnect;
      r.total_us = r.connect_us = std::max<DurationUs>(r.dns_us, 0) + s.rtt_us;
      r.error = "connect: Connection refused (" + s.address + ")";
    } else {
      r.stage = probe::Stage::kTimeout;
      r.total_us = 10 * kSecondUs;
      r.error = "no result within the 10s timeout";
    }
  }

  Rng rng_;
  std::vector<Series> series_;
  std::vector<int> order_;
  std::vector<int> outage_left_;  // per check: runs left in its outage
  int locations_ = 1;
  DurationUs interval_us_;
  std::int64_t rounds_ = 0;
  std::int64_t round_ = 0;
  std::size_t pos_ = 0;
};

[[noreturn]] void die(const std::string& message) {
  fmt::print(stderr, "ingest_driver: {}\n", message);
  std::exit(1);
}

void check(sqlite3* db, int rc) {
  if (rc != SQLITE_OK && rc != SQLITE_DONE && rc != SQLITE_ROW) die(sqlite3_errmsg(db));
}

void exec(sqlite3* db, const char* sql) {
  check(db, sqlite3_exec(db, sql, nullptr, nullptr, nullptr));
}

std::int64_t query_int(sqlite3* db, const char* sql) {
  sqlite3_stmt* st = nullptr;
  check(db, sqlite3_prepare_v2(db, sql, -1, &st, nullptr));
  check(db, sqlite3_step(st));
  std::int64_t v = sqlite3_column_int64(st, 0);
  sqlite3_finalize(st);
  return v;
}

std::int64_t file_bytes(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 ? std::int64_t(st.st_size) : 0;
}

void remove_db(const std::string& path) {
  for (const char* suffix : {"", "-wal", "-shm"}) std::remove((path + suffix).c_str());
}

// What a database holds, measured from a connection of its own after a checkpoint: the file,
// the pages in use (the file less its free list, which later writes reuse), and the pages of
// the tables (and their indexes) that hold raw results.
struct Footprint {
  std::int64_t file = 0;
  std::int64_t used = 0;
  std::int64_t raw = 0;
};

Footprint measure(const std::string& path, const std::string& raw_tables) {
  sqlite3* db = nullptr;
  check(db, sqlite3_open(path.c_str(), &db));
  exec(db, "PRAGMA wal_checkpoint(TRUNCATE)");
  Footprint f;
  f.file = file_bytes(path) + file_bytes(path + "-wal");
  f.used = (query_int(db, "PRAGMA page_count") - query_int(db, "PRAGMA freelist_count")) *
           query_int(db, "PRAGMA page_size");
  std::string sql =
      "SELECT COALESCE(SUM(s.pgsize), 0) FROM dbstat s JOIN sqlite_schema m "
      "ON m.name = s.name WHERE m.tbl_name IN (" +
      raw_tables + ")";
  f.raw = query_int(db, sql.c_str());
  sqlite3_close(db);
  return f;
}

// Bytes this process has handed to write(2) so far: the WAL and checkpoint traffic.
std::int64_t bytes_written() {
  std::FILE* f = std::fopen("/proc/self/io", "r");
  if (!f) return 0;
  long long v = 0;
  char line[128];
  while (std::fgets(line, sizeof line, f)) {
    if (std::sscanf(line, "wchar: %lld", &v) == 1) break;
  }
  std::fclose(f);
  return v;
}

struct Run {
  std::int64_t results = 0;
  double write_s = 0;
  double cpu_s = 0;          // CPU of the whole process while writing
  std::int64_t written = 0;  // bytes written(2) while writing
  Footprint before;
  std::int64_t compacted = 0;
  double compact_s = 0;
  Footprint after;
};

// Adds the wall time, CPU time and bytes written during its life to a run.
class Meter {
 public:
  explicit Meter(Run& run)
      : run_(run), start_(Clock::now()), cpu_(bench::cpu_seconds()), written_(bytes_written()) {}
  ~Meter() {
    run_.write_s += seconds_since(start_);
    run_.cpu_s += bench::cpu_seconds() - cpu_;
    run_.written += bytes_written() - written_;
  }
  Meter(const Meter&) = delete;
  Meter& operator=(const Meter&) = delete;

 private:
  Run& run_;
  Clock::time_point start_;
  double cpu_;
  std::int64_t written_;
};

// leeway through Store::write (batches written on this thread) or through StoreWriter (results
// enqueued one by one, written by its worker in batches of up to `batch`).
Run run_leeway(Stream& stream, const std::string& path, std::size_t batch, bool via_writer) {
  auto store = store::open_store(path);
  if (!store) die(store.error().message);
  Run run;
  std::vector<store::StoredResult> results;
  std::vector<int> series;
  if (!via_writer) {
    while (stream.next(batch, results, series)) {
      Meter meter(run);
      // Moved, as the daemon's writer does: the new results are returned without a copy.
      if (auto s = (*store)->write(std::move(results)); !s) die(s.error().message);
      run.results += std::int64_t(results.size());
    }
  } else {
    store::WriterOptions options;
    options.max_batch = batch;
    options.queue_capacity = 4 * batch;
    options.maintenance_interval_us = 0;  // compaction is measured on its own below
    store::StoreWriter writer(**store, SystemClock::instance(), options);
    std::optional<Meter> meter(run);
    // The stream is made in small slices so that making it overlaps the worker's writes, as
    // probes do in the daemon; a full queue makes the producer wait rather than drop.
    while (stream.next(256, results, series)) {
      while (writer.queue_depth() + results.size() > options.queue_capacity) {
        std::this_thread::sleep_for(std::chrono::microseconds(200));
      }
      for (auto& r : results) writer.enqueue(std::move(r));
      run.results += std::int64_t(results.size());
    }
    writer.flush();
    meter.reset();
    if (writer.dropped_total() != 0 || writer.write_errors_total() != 0) {
      die(fmt::format("writer dropped {} results: {}", writer.dropped_total(),
                      writer.last_error()));
    }
  }
  const std::string raw_tables = "'recent_results', 'chunks', 'errors'";
  run.before = measure(path, raw_tables);
  // The daemon keeps the last hour as plain rows and compacts what is older.
  auto start = Clock::now();
  auto moved = (*store)->compact(stream.end_us() - kHourUs);
  if (!moved) die(moved.error().message);
  run.compact_s = seconds_since(start);
  run.compacted = *moved;
  store->reset();
  run.after = measure(path, raw_tables);
  return run;
}

// Uptime Kuma 2.0's heartbeat table on SQLite (db/knex_init_db.js and its knex migrations up
// to 2025-12-22: retries, end_time, the partial "important" indexes) with its pragmas. One
// monitor per check and location, since Kuma has no locations; status 0 down, 1 up (Kuma has
// no degraded); msg as its HTTP monitor writes it; ping in ms; important on a status change.
constexpr const char* kKumaSchema = R"sql(
PRAGMA foreign_keys = ON;
PRAGMA journal_mode = WAL;
PRAGMA cache_size = -12000;
PRAGMA auto_vacuum = INCREMENTAL;
PRAGMA synchronous = NORMAL;
CREATE TABLE monitor(id INTEGER PRIMARY KEY AUTOINCREMENT, name VARCHAR(150));
CREATE TABLE heartbeat(
  id INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
  important BOOLEAN NOT NULL DEFAULT 0,
  monitor_id INTEGER NOT NULL REFERENCES monitor(id) ON DELETE CASCADE ON UPDATE CASCADE,
  status SMALLINT NOT NULL,
  msg TEXT,
  time DATETIME NOT NULL,
  ping INTEGER,
  duration INTEGER NOT NULL DEFAULT 0,
  down_count INTEGER NOT NULL DEFAULT 0,
  end_time DATETIME NULL DEFAULT NULL,
  retries INTEGER NOT NULL DEFAULT 0);
CREATE INDEX monitor_time_index ON heartbeat(monitor_id, time);
CREATE INDEX heartbeat_monitor_id_index ON heartbeat(monitor_id);
CREATE INDEX monitor_important_time_index ON heartbeat(monitor_id, time DESC) WHERE important = 1;
CREATE INDEX important ON heartbeat(important) WHERE important = 1;
)sql";

// "YYYY-MM-DD HH:MM:SS.mmm" in UTC, as Kuma stores times.
std::string kuma_time(TimeUs t) {
  std::time_t s = std::time_t(t / kSecondUs);
  std::tm tm{};
  gmtime_r(&s, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02d %02d:%02d:%02d.%03d", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                int(t % kSecondUs / 1000));
  return buf;
}

Run run_kuma(Stream& stream, const std::string& path, std::size_t batch) {
  sqlite3* db = nullptr;
  check(db, sqlite3_open(path.c_str(), &db));
  exec(db, kKumaSchema);
  exec(db, "BEGIN");
  for (std::size_t i = 0; i < stream.series_count(); ++i) {
    exec(db, fmt::format("INSERT INTO monitor(name) VALUES('monitor-{}')", i).c_str());
  }
  exec(db, "COMMIT");
  sqlite3_stmt* insert = nullptr;
  check(db,
        sqlite3_prepare_v3(db,
                           "INSERT INTO heartbeat(important, monitor_id, status, msg, time, ping, "
                           "duration, down_count, retries, end_time) VALUES(?,?,?,?,?,?,?,?,?,?)",
                           -1, SQLITE_PREPARE_PERSISTENT, &insert, nullptr));
  struct Last {
    int status = -1;
    TimeUs time = 0;
    int down_count = 0;
  };
  std::vector<Last> last(stream.series_count());
  Run run;
  std::vector<store::StoredResult> results;
  std::vector<int> series;
  while (stream.next(batch, results, series)) {
    Meter meter(run);
    exec(db, "BEGIN");
    for (std::size_t i = 0; i < results.size(); ++i) {
      const auto& r = results[i];
      Last& prev = last[std::size_t(series[i])];
      int status = r.outcome == probe::Outcome::kDown ? 0 : 1;
      std::string msg = status == 0     ? r.error
                        : r.http_status ? fmt::format("{} - OK", r.http_status)
                                        : "";
      prev.down_count = status == 0 ? prev.down_count + 1 : 0;
      sqlite3_reset(insert);
      sqlite3_bind_int(insert, 1, status != prev.status);
      sqlite3_bind_int(insert, 2, series[i] + 1);
      sqlite3_bind_int(insert, 3, status);
      sqlite3_bind_text(insert, 4, msg.data(), int(msg.size()), SQLITE_TRANSIENT);
      std::string time = kuma_time(r.started_us);
      sqlite3_bind_text(insert, 5, time.data(), int(time.size()), SQLITE_TRANSIENT);
      if (status == 1) {
        sqlite3_bind_int64(insert, 6, r.total_us / 1000);
      } else {
        sqlite3_bind_null(insert, 6);
      }
      sqlite3_bind_int64(insert, 7, prev.time ? (r.started_us - prev.time) / kSecondUs : 0);
      sqlite3_bind_int(insert, 8, prev.down_count);
      sqlite3_bind_int(insert, 9, 0);
      sqlite3_bind_null(insert, 10);
      check(db, sqlite3_step(insert));
      prev.status = status;
      prev.time = r.started_us;
    }
    exec(db, "COMMIT");
    run.results += std::int64_t(results.size());
  }
  sqlite3_finalize(insert);
  sqlite3_close(db);
  run.before = run.after = measure(path, "'heartbeat'");
  return run;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"leeway ingest driver: one mode, one fresh SQLite file, figures on one line"};
  std::string mode = "store", db = "/tmp/leeway-ingest.db";
  int checks = 1000, locations = 2, interval_s = 30;
  std::size_t batch = 2000;
  double hours = 6;
  app.add_option("--mode", mode, "store (Store::write), writer (StoreWriter) or kuma (the peer)")
      ->check(CLI::IsMember({"store", "writer", "kuma"}));
  app.add_option("--db", db, "SQLite file to create (deleted first and after)");
  app.add_option("--checks", checks)->check(CLI::Range(1, 1'000'000));
  app.add_option("--locations", locations)->check(CLI::Range(1, 1000));
  app.add_option("--interval-s", interval_s, "seconds between runs of one check")
      ->check(CLI::Range(1, 86400));
  app.add_option("--hours", hours, "span of simulated time")->check(CLI::Range(0.1, 10000.0));
  app.add_option("--batch", batch, "results per write transaction")
      ->check(CLI::Range(1, 1'000'000));
  bool keep = false;
  app.add_flag("--keep", keep, "keep the database file, to look inside");
  CLI11_PARSE(app, argc, argv);

  remove_db(db);
  Stream stream(checks, locations, interval_s, hours);
  Run run = mode == "kuma" ? run_kuma(stream, db, batch)
                           : run_leeway(stream, db, batch, mode == "writer");
  if (!keep) remove_db(db);
  double n = double(run.results);
  fmt::print(
      "mode={} results={} write_s={:.3f} results_per_s={:.0f} cpu_s={:.3f} "
      "results_per_cpu_s={:.0f} written_bytes_per_result={:.0f} "
      "raw_bytes_per_result_before={:.1f} used_bytes_per_result_before={:.1f} "
      "compacted={} compact_s={:.3f} raw_bytes_per_result={:.1f} used_bytes_per_result={:.1f} "
      "file_bytes_per_result={:.1f}\n",
      mode, run.results, run.write_s, n / run.write_s, run.cpu_s, n / run.cpu_s,
      double(run.written) / n, double(run.before.raw) / n, double(run.before.used) / n,
      run.compacted, run.compact_s, double(run.after.raw) / n, double(run.after.used) / n,
      double(run.after.file) / n);
  return 0;
}
