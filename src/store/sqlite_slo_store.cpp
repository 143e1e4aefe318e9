// Alert events and gate decisions in the SQLite file of the result store, on a connection of their
// own (the file is in WAL mode: it writes beside the result writer, waiting on its lock at most
// the busy timeout). A few rows a minute at most: one connection behind a mutex is plenty.
#include <sqlite3.h>

#include <mutex>

#include "store/detail.h"
#include "store/sqlite_query.h"

namespace leeway::store::detail {
namespace {

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

constexpr const char* kEventColumns =
    "id, slo, service, severity, firing, at_us, data_us, document";
constexpr const char* kDecisionColumns =
    "id, service, at_us, asked_by, kind, decision, reasons, change_id";

StoredAlertEvent read_event(const Query& q) {
  return {q.i64(0), q.text(1), q.text(2), q.text(3), q.i64(4) != 0, q.i64(5), q.i64(6), q.text(7)};
}

StoredDecision read_decision(const Query& q) {
  StoredDecision d{q.i64(0), q.text(1), q.i64(2), q.text(3), q.text(4), q.text(5), {}, {}};
  d.reasons = split_reasons(q.text(6));
  if (!q.null(7)) d.change = q.i64(7);
  return d;
}

std::string select(const char* columns, const char* rest) {
  return std::string("SELECT ") + columns + rest;
}

class SqliteSloStore final : public SloStore {
 public:
  Status open(const std::string& path) {
    return conn_.open(path, "slo_schema", "SLO tables", kMigrations);
  }

  std::string describe() const override { return "sqlite:" + conn_.path(); }

  Result<StoredAlertEvent> add_alert_event(StoredAlertEvent e) override {
    std::lock_guard lock(mutex_);
    Query q(conn_.db(),
            "INSERT INTO slo_alert_events(slo, service, severity, firing, at_us, data_us, "
            "document) VALUES(?, ?, ?, ?, ?, ?, ?)");
    q.bind(e.slo).bind(e.service).bind(e.severity).bind(std::int64_t(e.firing)).bind(e.at_us);
    if (auto s = q.bind(e.data_us).bind(e.document).run(); !s) return conn_.failed(s.error());
    e.id = sqlite3_last_insert_rowid(conn_.db());
    return e;
  }

  Result<std::vector<StoredAlertEvent>> alert_events(const AlertEventQuery& query) override {
    std::lock_guard lock(mutex_);
    Query q(conn_.db(), select(kEventColumns,
                               " FROM slo_alert_events WHERE (?1 IS NULL OR slo = ?1) AND id < ?2 "
                               "ORDER BY id DESC LIMIT ?3")
                            .c_str());
    q.bind(query.slo).bind(query.before_id).bind(limit_of(query.limit));
    std::vector<StoredAlertEvent> out;
    if (auto s = each_row(q, [&] { out.push_back(read_event(q)); }); !s)
      return conn_.failed(s.error());
    return out;
  }

  Result<std::vector<StoredAlertEvent>> latest_alert_events() override {
    std::lock_guard lock(mutex_);
    Query q(conn_.db(), select(kEventColumns,
                               " FROM slo_alert_events WHERE id IN (SELECT max(id) FROM "
                               "slo_alert_events GROUP BY slo, severity) ORDER BY id")
                            .c_str());
    std::vector<StoredAlertEvent> out;
    if (auto s = each_row(q, [&] { out.push_back(read_event(q)); }); !s)
      return conn_.failed(s.error());
    return out;
  }

  Result<StoredDecision> add_decision(StoredDecision d) override {
    std::lock_guard lock(mutex_);
    Query q(conn_.db(),
            "INSERT INTO gate_decisions(service, at_us, asked_by, kind, decision, reasons, "
            "change_id) VALUES(?, ?, ?, ?, ?, ?, ?)");
    q.bind(d.service).bind(d.at_us).bind(d.asked_by).bind(d.kind).bind(d.decision);
    if (auto s = q.bind(join_reasons(d.reasons)).bind(d.change).run(); !s)
      return conn_.failed(s.error());
    d.id = sqlite3_last_insert_rowid(conn_.db());
    return d;
  }

  Result<std::vector<StoredDecision>> decisions(const DecisionQuery& query) override {
    std::lock_guard lock(mutex_);
    Query q(conn_.db(),
            select(kDecisionColumns,
                   " FROM gate_decisions WHERE (?1 IS NULL OR service = ?1) AND id < ?2 "
                   "ORDER BY id DESC LIMIT ?3")
                .c_str());
    q.bind(query.service).bind(query.before_id).bind(limit_of(query.limit));
    std::vector<StoredDecision> out;
    if (auto s = each_row(q, [&] { out.push_back(read_decision(q)); }); !s)
      return conn_.failed(s.error());
    return out;
  }

  Result<std::optional<StoredDecision>> link_change(std::string_view service,
                                                    std::int64_t change_id, TimeUs from_us,
                                                    TimeUs to_us) override {
    std::lock_guard lock(mutex_);
    std::optional<StoredDecision> linked;
    Status s = conn_.in_transaction([&]() -> Status {
      Query find(conn_.db(), select(kDecisionColumns,
                                    " FROM gate_decisions WHERE service = ? AND decision = 'go' "
                                    "AND change_id IS NULL AND at_us >= ? AND at_us <= ? "
                                    "ORDER BY at_us DESC, id DESC LIMIT 1")
                                 .c_str());
      auto row = find.bind(service).bind(from_us).bind(to_us).step();
      if (!row) return row.error();
      if (!*row) return {};
      linked = read_decision(find);
      linked->change = change_id;
      Query update(conn_.db(), "UPDATE gate_decisions SET change_id = ? WHERE id = ?");
      return update.bind(change_id).bind(linked->id).run();
    });
    if (!s) return s.error();
    return linked;
  }

  Result<std::optional<StoredDecision>> decision_of_change(std::int64_t change_id) override {
    std::lock_guard lock(mutex_);
    Query q(conn_.db(),
            select(kDecisionColumns, " FROM gate_decisions WHERE change_id = ? LIMIT 1").c_str());
    auto row = q.bind(change_id).step();
    if (!row) return conn_.failed(row.error());
    if (!*row) return std::optional<StoredDecision>();
    return std::optional<StoredDecision>(read_decision(q));
  }

 private:
  std::mutex mutex_;
  SqliteConnection conn_;
};

}  // namespace

Result<std::unique_ptr<SloStore>> open_sqlite_slos(const std::string& path) {
  auto store = std::make_unique<SqliteSloStore>();
  if (auto s = store->open(path); !s) return s.error();
  return std::unique_ptr<SloStore>(std::move(store));
}

}  // namespace leeway::store::detail
