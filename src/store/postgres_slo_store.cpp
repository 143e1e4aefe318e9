// Alert events and gate decisions in the result store's PostgreSQL database, on a connection of
// their own. A few rows a minute at most: one connection behind a mutex is plenty.
#include "store/detail.h"
#include "store/postgres_connection.h"

namespace leeway::store::detail {
namespace {

// Migrations; migration i (0-based) takes the tables to version i + 1. Texts are COLLATE "C"
// so that they order as in the SQLite store.
const char* const kMigrations[] = {
    R"sql(
CREATE TABLE slo_alert_events(id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                              slo TEXT COLLATE "C" NOT NULL, service TEXT COLLATE "C" NOT NULL,
                              severity TEXT NOT NULL, firing BOOLEAN NOT NULL,
                              at_us BIGINT NOT NULL, data_us BIGINT NOT NULL,
                              document TEXT NOT NULL);
CREATE INDEX slo_alert_events_by_slo ON slo_alert_events(slo, id);
CREATE TABLE gate_decisions(id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                            service TEXT COLLATE "C" NOT NULL, at_us BIGINT NOT NULL,
                            asked_by TEXT NOT NULL, kind TEXT NOT NULL, decision TEXT NOT NULL,
                            reasons TEXT NOT NULL, change_id BIGINT);
CREATE INDEX gate_decisions_by_service ON gate_decisions(service, id);
CREATE INDEX gate_decisions_by_change ON gate_decisions(change_id);
)sql",
};

constexpr const char* kEventColumns =
    "id, slo, service, severity, firing, at_us, data_us, document";
constexpr const char* kDecisionColumns =
    "id, service, at_us, asked_by, kind, decision, reasons, change_id";

StoredAlertEvent read_event(const pqxx::row& r) {
  return {r[0].as<std::int64_t>(), r[1].as<std::string>(), r[2].as<std::string>(),
          r[3].as<std::string>(),  r[4].as<bool>(),        r[5].as<std::int64_t>(),
          r[6].as<std::int64_t>(), r[7].as<std::string>()};
}

StoredDecision read_decision(const pqxx::row& r) {
  StoredDecision d{r[0].as<std::int64_t>(),
                   r[1].as<std::string>(),
                   r[2].as<std::int64_t>(),
                   r[3].as<std::string>(),
                   r[4].as<std::string>(),
                   r[5].as<std::string>(),
                   {},
                   {}};
  d.reasons = split_reasons(r[6].as<std::string>());
  if (!r[7].is_null()) d.change = r[7].as<std::int64_t>();
  return d;
}

std::int64_t limit_of(std::size_t limit) {
  return std::int64_t(std::min<std::size_t>(limit, INT64_MAX));
}

std::string select(const char* columns, const char* rest) {
  return std::string("SELECT ") + columns + rest;
}

class PostgresSloStore final : public SloStore {
 public:
  explicit PostgresSloStore(Target target) : session_(std::move(target)) {}

  // Creates or migrates the tables. Nodes starting together migrate one at a time.
  Status init() {
    return session_.run("migrating", [&](pqxx::connection& conn) -> Status {
      pqxx::work txn(conn);
      if (Status st = migrate(txn, session_.target(), "slo_schema", "SLO tables", kMigrations); !st)
        return st;
      txn.commit();
      return {};
    });
  }

  std::string describe() const override { return session_.target().display; }

  Result<StoredAlertEvent> add_alert_event(StoredAlertEvent e) override {
    return session_.run("writing an alert event to", [&](pqxx::connection& conn) {
      pqxx::work txn(conn);
      const pqxx::result r = txn.exec_params(
          "INSERT INTO slo_alert_events(slo, service, severity, firing, at_us, data_us, document) "
          "VALUES($1, $2, $3, $4, $5, $6, $7) RETURNING id",
          e.slo, e.service, e.severity, e.firing, e.at_us, e.data_us, e.document);
      e.id = r[0][0].as<std::int64_t>();
      txn.commit();
      return e;
    });
  }

  Result<std::vector<StoredAlertEvent>> alert_events(const AlertEventQuery& q) override {
    return session_.run("reading alert events from", [&](pqxx::connection& conn) {
      pqxx::nontransaction txn(conn);
      std::vector<StoredAlertEvent> out;
      for (const auto& row :
           txn.exec_params(select(kEventColumns,
                                  " FROM slo_alert_events WHERE ($1::TEXT IS NULL OR slo = $1) "
                                  "AND id < $2 ORDER BY id DESC LIMIT $3"),
                           q.slo, q.before_id, limit_of(q.limit)))
        out.push_back(read_event(row));
      return out;
    });
  }

  Result<std::vector<StoredAlertEvent>> latest_alert_events() override {
    return session_.run("reading alert events from", [&](pqxx::connection& conn) {
      pqxx::nontransaction txn(conn);
      std::vector<StoredAlertEvent> out;
      for (const auto& row :
           txn.exec(select(kEventColumns,
                           " FROM slo_alert_events WHERE id IN (SELECT max(id) FROM "
                           "slo_alert_events GROUP BY slo, severity) ORDER BY id")))
        out.push_back(read_event(row));
      return out;
    });
  }

  Result<StoredDecision> add_decision(StoredDecision d) override {
    return session_.run("writing a gate decision to", [&](pqxx::connection& conn) {
      pqxx::work txn(conn);
      const pqxx::result r = txn.exec_params(
          "INSERT INTO gate_decisions(service, at_us, asked_by, kind, decision, reasons, "
          "change_id) VALUES($1, $2, $3, $4, $5, $6, $7) RETURNING id",
          d.service, d.at_us, d.asked_by, d.kind, d.decision, join_reasons(d.reasons), d.change);
      d.id = r[0][0].as<std::int64_t>();
      txn.commit();
      return d;
    });
  }

  Result<std::vector<StoredDecision>> decisions(const DecisionQuery& q) override {
    return session_.run("reading gate decisions from", [&](pqxx::connection& conn) {
      pqxx::nontransaction txn(conn);
      std::vector<StoredDecision> out;
      for (const auto& row : txn.exec_params(
               select(kDecisionColumns,
                      " FROM gate_decisions WHERE ($1::TEXT IS NULL OR service = $1) AND "
                      "id < $2 ORDER BY id DESC LIMIT $3"),
               q.service, q.before_id, limit_of(q.limit)))
        out.push_back(read_decision(row));
      return out;
    });
  }

  Result<std::optional<StoredDecision>> link_change(std::string_view service,
                                                    std::int64_t change_id, TimeUs from_us,
                                                    TimeUs to_us) override {
    return session_.run("linking a change in", [&](pqxx::connection& conn) {
      pqxx::work txn(conn);
      // Locked, so that two changes recorded at once never take the same "go".
      const pqxx::result rows = txn.exec_params(
          select(kDecisionColumns,
                 " FROM gate_decisions WHERE service = $1 AND decision = 'go' AND change_id IS "
                 "NULL AND at_us >= $2 AND at_us <= $3 ORDER BY at_us DESC, id DESC LIMIT 1 "
                 "FOR UPDATE"),
          std::string(service), from_us, to_us);
      std::optional<StoredDecision> linked;
      if (!rows.empty()) {
        linked = read_decision(rows[0]);
        linked->change = change_id;
        txn.exec_params("UPDATE gate_decisions SET change_id = $1 WHERE id = $2", change_id,
                        linked->id);
      }
      txn.commit();
      return linked;
    });
  }

  Result<std::optional<StoredDecision>> decision_of_change(std::int64_t change_id) override {
    return session_.run("reading gate decisions from", [&](pqxx::connection& conn) {
      pqxx::nontransaction txn(conn);
      const pqxx::result rows = txn.exec_params(
          select(kDecisionColumns, " FROM gate_decisions WHERE change_id = $1 LIMIT 1"), change_id);
      std::optional<StoredDecision> out;
      if (!rows.empty()) out = read_decision(rows[0]);
      return out;
    });
  }

 private:
  // An alert event or a gate decision that committed and lost only its answer lists twice.
  Session session_;
};

}  // namespace

Result<std::unique_ptr<SloStore>> open_postgres_slos(const std::string& uri) {
  auto target = parse_target(uri);
  if (!target) return target.error();
  auto store = std::make_unique<PostgresSloStore>(std::move(*target));
  if (auto s = store->init(); !s) return s.error();
  return std::unique_ptr<SloStore>(std::move(store));
}

}  // namespace leeway::store::detail
