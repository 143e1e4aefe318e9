// Alert events and gate decisions in the SQLite file of the result store, on a connection of their
// own (the file is in WAL mode: it writes beside the result writer, waiting on its lock at most
// the busy timeout). A few rows a minute at most: one connection behind a mutex is plenty.
#include <sqlite3.h>

#include <mutex>

#include "store/detail.h"
#include "store/sqlite_query.h"

namespace leeway::store::detail {
namespace {

constexpr int kSchemaVersion = 1;

// Migrations; migration i (0-based) takes the tables to version i + 1. The version lives in
// slo_schema, apart from every other table's.
const char* const kMigrations[] = {
    R"sql(
CREATE TABLE slo_alert_events(id INTEGER PRIMARY KEY, slo TEXT NOT NULL, service TEXT NOT NULL,
                              severity TEXT NOT NULL, firing INTEGER NOT NULL,
                              at_us INTEGER NOT NULL, data_us INTEGER NOT NULL,
                              document TEXT NOT NULL);
CREATE INDEX slo_alert_events_by_slo ON slo_alert_events(slo, id);
CREATE TABLE gate_decisions(id INTEGER PRIMARY KEY, service TEXT NOT NULL, at_us INTEGER NOT NULL,
                            asked_by TEXT NOT NULL, kind TEXT NOT NULL, decision TEXT NOT NULL,
                            reasons TEXT NOT NULL, change_id INTEGER);
CREATE INDEX gate_decisions_by_service ON gate_decisions(service, id);
CREATE INDEX gate_decisions_by_change ON gate_decisions(change_id);
)sql",
};
static_assert(std::size(kMigrations) == kSchemaVersion);

constexpr const char* kEventColumns =
    "id, slo, service, severity, firing, at_us, data_us, document";
constexpr const char* kDecisionColumns =
    "id, service, at_us, asked_by, kind, decision, reasons, change_id";

StoredAlertEvent read_event(const SqliteQuery& q) {
  return {q.i64(0), q.text(1), q.text(2), q.text(3), q.i64(4) != 0, q.i64(5), q.i64(6), q.text(7)};
}

StoredDecision read_decision(const SqliteQuery& q) {
  StoredDecision d{q.i64(0), q.text(1), q.i64(2), q.text(3), q.text(4), q.text(5), {}, {}};
  d.reasons = split_reasons(q.text(6));
  if (!q.null(7)) d.change = q.i64(7);
  return d;
}

std::int64_t limit_of(std::size_t limit) {
  return std::int64_t(std::min<std::size_t>(limit, INT64_MAX));
}

std::string select(const char* columns, const char* rest) {
  return std::string("SELECT ") + columns + rest;
}

class SqliteSloStore final : public SloStore {
 public:
  SqliteSloStore(std::string path, sqlite3* db) : path_(std::move(path)), db_(db) {}
  ~SqliteSloStore() override { sqlite3_close_v2(db_); }

  Status init() {
    // The result writer holds the file's write lock for a batch at a time.
    sqlite3_busy_timeout(db_, 10'000);
    if (auto s = exec("PRAGMA journal_mode=WAL"); !s) return failed(s.error());
    return in_transaction([&]() -> Status {
      if (auto s = exec("CREATE TABLE IF NOT EXISTS slo_schema(version INTEGER NOT NULL)"); !s)
        return s;
      SqliteQuery q(db_, "SELECT max(version) FROM slo_schema");
      if (auto row = q.step(); !row) return row.error();
      const int version = int(q.i64(0));
      if (version > kSchemaVersion) {
        return fail("SLO tables have schema version ", std::to_string(version),
                    ", newer than this leeway supports (", std::to_string(kSchemaVersion),
                    "); upgrade leeway");
      }
      for (int v = version; v < kSchemaVersion; ++v) {
        if (auto s = exec(kMigrations[v]); !s) return s;
      }
      if (version == kSchemaVersion) return {};
      return exec(("DELETE FROM slo_schema; INSERT INTO slo_schema VALUES(" +
                   std::to_string(kSchemaVersion) + ")")
                      .c_str());
    });
  }

  std::string describe() const override { return "sqlite:" + path_; }

  Result<StoredAlertEvent> add_alert_event(StoredAlertEvent e) override {
    std::lock_guard lock(mutex_);
    SqliteQuery q(db_,
                  "INSERT INTO slo_alert_events(slo, service, severity, firing, at_us, data_us, "
                  "document) VALUES(?, ?, ?, ?, ?, ?, ?)");
    q.bind(e.slo).bind(e.service).bind(e.severity).bind(std::int64_t(e.firing)).bind(e.at_us);
    if (auto s = q.bind(e.data_us).bind(e.document).run(); !s) return failed(s.error());
    e.id = sqlite3_last_insert_rowid(db_);
    return e;
  }

  Result<std::vector<StoredAlertEvent>> alert_events(const AlertEventQuery& query) override {
    std::lock_guard lock(mutex_);
    SqliteQuery q(db_, select(kEventColumns,
                              " FROM slo_alert_events WHERE (?1 IS NULL OR slo = ?1) AND id < ?2 "
                              "ORDER BY id DESC LIMIT ?3")
                           .c_str());
    q.bind(query.slo).bind(query.before_id).bind(limit_of(query.limit));
    std::vector<StoredAlertEvent> out;
    if (auto s = q.each_row([&] { out.push_back(read_event(q)); }); !s) return failed(s.error());
    return out;
  }

  Result<std::vector<StoredAlertEvent>> latest_alert_events() override {
    std::lock_guard lock(mutex_);
    SqliteQuery q(db_, select(kEventColumns,
                              " FROM slo_alert_events WHERE id IN (SELECT max(id) FROM "
                              "slo_alert_events GROUP BY slo, severity) ORDER BY id")
                           .c_str());
    std::vector<StoredAlertEvent> out;
    if (auto s = q.each_row([&] { out.push_back(read_event(q)); }); !s) return failed(s.error());
    return out;
  }

  Result<StoredDecision> add_decision(StoredDecision d) override {
    std::lock_guard lock(mutex_);
    SqliteQuery q(db_,
                  "INSERT INTO gate_decisions(service, at_us, asked_by, kind, decision, reasons, "
                  "change_id) VALUES(?, ?, ?, ?, ?, ?, ?)");
    q.bind(d.service).bind(d.at_us).bind(d.asked_by).bind(d.kind).bind(d.decision);
    if (auto s = q.bind(join_reasons(d.reasons)).bind(d.change).run(); !s) return failed(s.error());
    d.id = sqlite3_last_insert_rowid(db_);
    return d;
  }

  Result<std::vector<StoredDecision>> decisions(const DecisionQuery& query) override {
    std::lock_guard lock(mutex_);
    SqliteQuery q(db_, select(kDecisionColumns,
                              " FROM gate_decisions WHERE (?1 IS NULL OR service = ?1) AND id < ?2 "
                              "ORDER BY id DESC LIMIT ?3")
                           .c_str());
    q.bind(query.service).bind(query.before_id).bind(limit_of(query.limit));
    std::vector<StoredDecision> out;
    if (auto s = q.each_row([&] { out.push_back(read_decision(q)); }); !s) return failed(s.error());
    return out;
  }

  Result<std::optional<StoredDecision>> link_change(std::string_view service,
                                                    std::int64_t change_id, TimeUs from_us,
                                                    TimeUs to_us) override {
    std::lock_guard lock(mutex_);
    std::optional<StoredDecision> linked;
    Status s = in_transaction([&]() -> Status {
      SqliteQuery find(db_, select(kDecisionColumns,
                                   " FROM gate_decisions WHERE service = ? AND decision = 'go' "
                                   "AND change_id IS NULL AND at_us >= ? AND at_us <= ? "
                                   "ORDER BY at_us DESC, id DESC LIMIT 1")
                                .c_str());
      auto row = find.bind(service).bind(from_us).bind(to_us).step();
      if (!row) return row.error();
      if (!*row) return {};
      linked = read_decision(find);
      linked->change = change_id;
      SqliteQuery update(db_, "UPDATE gate_decisions SET change_id = ? WHERE id = ?");
      return update.bind(change_id).bind(linked->id).run();
    });
    if (!s) return failed(s.error());
    return linked;
  }

  Result<std::optional<StoredDecision>> decision_of_change(std::int64_t change_id) override {
    std::lock_guard lock(mutex_);
    SqliteQuery q(
        db_, select(kDecisionColumns, " FROM gate_decisions WHERE change_id = ? LIMIT 1").c_str());
    auto row = q.bind(change_id).step();
    if (!row) return failed(row.error());
    if (!*row) return std::optional<StoredDecision>();
    return std::optional<StoredDecision>(read_decision(q));
  }

 private:
  Status exec(const char* sql) {
    char* message = nullptr;
    if (sqlite3_exec(db_, sql, nullptr, nullptr, &message) == SQLITE_OK) return {};
    Error e = fail_as(ErrorKind::kUnavailable, "sqlite: ", message ? message : sqlite3_errmsg(db_));
    sqlite3_free(message);
    return e;
  }

  // Runs `body` in a write transaction, rolled back when it fails.
  template <typename Body>
  Status in_transaction(Body body) {
    if (auto s = exec("BEGIN IMMEDIATE"); !s) return s;
    if (auto s = body(); !s) {
      (void)exec("ROLLBACK");  // the error being reported matters more
      return s;
    }
    if (auto s = exec("COMMIT"); !s) {
      (void)exec("ROLLBACK");
      return s;
    }
    return {};
  }

  // A failure, naming the file.
  Error failed(const Error& e) const {
    return fail_as(ErrorKind::kUnavailable, "store: sqlite:", path_, ": ", e.message);
  }

  const std::string path_;
  std::mutex mutex_;
  sqlite3* db_;
};

}  // namespace

Result<std::unique_ptr<SloStore>> open_sqlite_slos(const std::string& path) {
  sqlite3* db = nullptr;
  const int rc = sqlite3_open_v2(
      path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  auto store = std::make_unique<SqliteSloStore>(path, db);
  if (rc != SQLITE_OK) {
    return fail("store: cannot open sqlite:", path, ": ",
                db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
  }
  if (auto s = store->init(); !s) return fail("store: sqlite:", path, ": ", s.error().message);
  return std::unique_ptr<SloStore>(std::move(store));
}

}  // namespace leeway::store::detail
