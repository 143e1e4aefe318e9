// Incidents and changes in the result store's PostgreSQL database, on a connection of their own.
// A few rows a minute at most: one connection behind a mutex is plenty.
#include "store/detail.h"
#include "store/postgres_connection.h"

namespace leeway::store::detail {
namespace {

// Migrations; migration i (0-based) takes the tables to version i + 1. Texts are COLLATE "C"
// so that they order as in the SQLite store.
const char* const kMigrations[] = {
    R"sql(
CREATE TABLE incidents(id TEXT COLLATE "C" PRIMARY KEY, service TEXT COLLATE "C" NOT NULL,
                       opened_us BIGINT NOT NULL, resolved_us BIGINT, state TEXT NOT NULL,
                       verdict TEXT NOT NULL, summary TEXT NOT NULL, document TEXT NOT NULL);
CREATE INDEX incidents_by_opened ON incidents(opened_us);
CREATE INDEX incidents_by_service ON incidents(service, opened_us);
CREATE TABLE incident_notes(id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                            incident_id TEXT COLLATE "C" NOT NULL, kind TEXT NOT NULL,
                            at_us BIGINT NOT NULL, author TEXT NOT NULL, text TEXT NOT NULL);
CREATE INDEX incident_notes_by_incident ON incident_notes(incident_id, id);
CREATE TABLE changes(id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                     service TEXT COLLATE "C" NOT NULL, at_us BIGINT NOT NULL, kind TEXT NOT NULL,
                     description TEXT NOT NULL, improvement BOOLEAN NOT NULL,
                     recorded_by TEXT NOT NULL);
CREATE INDEX changes_by_time ON changes(at_us);
CREATE INDEX changes_by_service ON changes(service, at_us);
)sql",
    R"sql(
CREATE TABLE incident_moves(id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                            from_id TEXT COLLATE "C" NOT NULL, to_id TEXT COLLATE "C" NOT NULL);
)sql",
};

constexpr const char* kIncidentColumns =
    "id, service, opened_us, resolved_us, state, verdict, summary, document, "
    "(SELECT count(*) FROM incident_notes n WHERE n.incident_id = i.id AND n.kind = 'ack')";

StoredIncident read_incident(const pqxx::row& row) {
  StoredIncident i;
  i.id = row[0].as<std::string>();
  i.service = row[1].as<std::string>();
  i.opened_us = row[2].as<std::int64_t>();
  if (!row[3].is_null()) i.resolved_us = row[3].as<std::int64_t>();
  i.state = row[4].as<std::string>();
  i.verdict = row[5].as<std::string>();
  i.summary = row[6].as<std::string>();
  i.document = row[7].as<std::string>();
  i.acks = row[8].as<int>();
  return i;
}

Error not_found(std::string_view id) {
  return fail_as(ErrorKind::kNotFound, "no such incident: \"", std::string(id), "\"");
}

class PostgresIncidentStore final : public IncidentStore {
 public:
  explicit PostgresIncidentStore(Target target) : session_(std::move(target)) {}

  // Creates or migrates the tables. Nodes starting together migrate one at a time.
  Status init() {
    return session_.run("migrating", [&](pqxx::connection& conn) -> Status {
      pqxx::work txn(conn);
      if (Status s =
              migrate(txn, session_.target(), "incident_schema", "incident tables", kMigrations);
          !s)
        return s;
      txn.commit();
      return {};
    });
  }

  std::string describe() const override { return session_.target().display; }

  Status write_incidents(std::span<const StoredIncident> incidents,
                         std::span<const IncidentRetirement> retired) override {
    return session_.run("writing incidents to", [&](pqxx::connection& conn) -> Status {
      pqxx::work txn(conn);
      for (const StoredIncident& i : incidents) {
        txn.exec_params(
            "INSERT INTO incidents VALUES($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT(id) DO "
            "UPDATE SET service = excluded.service, opened_us = excluded.opened_us, "
            "resolved_us = excluded.resolved_us, state = excluded.state, "
            "verdict = excluded.verdict, summary = excluded.summary, document = excluded.document",
            i.id, i.service, i.opened_us, i.resolved_us, i.state, i.verdict, i.summary, i.document);
      }
      for (const IncidentRetirement& r : retired) {
        if (r.to_id.empty()) {
          txn.exec_params("DELETE FROM incident_notes WHERE incident_id = $1", r.id);
        } else {
          txn.exec_params("UPDATE incident_notes SET incident_id = $1 WHERE incident_id = $2",
                          r.to_id, r.id);
        }
        txn.exec_params("DELETE FROM incidents WHERE id = $1", r.id);
        if (!r.to_id.empty())
          txn.exec_params("INSERT INTO incident_moves(from_id, to_id) VALUES($1, $2)", r.id,
                          r.to_id);
      }
      txn.commit();
      return {};
    });
  }

  Result<std::vector<IncidentMove>> pending_moves() override {
    return session_.run("reading incident moves from", [&](pqxx::connection& conn) {
      pqxx::nontransaction txn(conn);
      const pqxx::result rows =
          txn.exec("SELECT id, from_id, to_id FROM incident_moves ORDER BY id");
      std::vector<IncidentMove> out;
      for (const auto& r : rows)
        out.push_back({r[0].as<std::int64_t>(), r[1].as<std::string>(), r[2].as<std::string>()});
      return out;
    });
  }

  Status forget_move(std::int64_t id) override {
    return session_.run("forgetting an incident move in", [&](pqxx::connection& conn) -> Status {
      pqxx::work txn(conn);
      txn.exec_params("DELETE FROM incident_moves WHERE id = $1", id);
      txn.commit();
      return {};
    });
  }

  Result<std::vector<StoredIncident>> incidents(const IncidentQuery& q) override {
    return session_.run("reading incidents from", [&](pqxx::connection& conn) {
      pqxx::nontransaction txn(conn);
      const pqxx::result rows = txn.exec_params(
          std::string("SELECT ") + kIncidentColumns +
              " FROM incidents i WHERE ($1::TEXT IS NULL OR service = $1) AND "
              "($2::TEXT IS NULL OR state = $2) AND opened_us < $3 AND "
              "(resolved_us IS NULL OR resolved_us >= $4) ORDER BY opened_us DESC, id LIMIT $5",
          q.service, q.state, q.to_us, q.from_us, limit_of(q.limit));
      std::vector<StoredIncident> out;
      for (const auto& row : rows) out.push_back(read_incident(row));
      return out;
    });
  }

  Result<StoredIncident> incident(std::string_view id) override {
    return session_.run(
        "reading incidents from", [&](pqxx::connection& conn) -> Result<StoredIncident> {
          pqxx::work txn(conn);  // one snapshot for the incident and its notes
          const pqxx::result rows = txn.exec_params(
              std::string("SELECT ") + kIncidentColumns + " FROM incidents i WHERE id = $1",
              std::string(id));
          if (rows.empty()) return not_found(id);
          StoredIncident incident = read_incident(rows[0]);
          for (const auto& n :
               txn.exec_params("SELECT kind, at_us, author, text FROM incident_notes "
                               "WHERE incident_id = $1 ORDER BY id",
                               std::string(id))) {
            incident.notes.push_back({note_kind(n[0].as<std::string>()), n[1].as<std::int64_t>(),
                                      n[2].as<std::string>(), n[3].as<std::string>()});
          }
          return incident;
        });
  }

  Status add_note(std::string_view incident_id, const IncidentNote& note) override {
    return session_.run("writing a note to", [&](pqxx::connection& conn) -> Status {
      pqxx::work txn(conn);
      const pqxx::result r = txn.exec_params(
          "INSERT INTO incident_notes(incident_id, kind, at_us, author, text) "
          "SELECT $1, $2, $3, $4, $5 WHERE EXISTS (SELECT 1 FROM incidents WHERE id = $1)",
          std::string(incident_id), std::string(to_string(note.kind)), note.at_us, note.author,
          note.text);
      txn.commit();
      if (r.affected_rows() == 0) return not_found(incident_id);
      return {};
    });
  }

  Result<StoredChange> record_change(StoredChange change) override {
    return session_.run("writing a change to", [&](pqxx::connection& conn) {
      pqxx::work txn(conn);
      const pqxx::result r = txn.exec_params(
          "INSERT INTO changes(service, at_us, kind, description, improvement, recorded_by) "
          "VALUES($1, $2, $3, $4, $5, $6) RETURNING id",
          change.service, change.at_us, change.kind, change.description, change.improvement,
          change.recorded_by);
      change.id = r[0][0].as<std::int64_t>();
      txn.commit();
      return change;
    });
  }

  Result<std::vector<StoredChange>> changes(const ChangeQuery& q) override {
    return session_.run("reading changes from", [&](pqxx::connection& conn) {
      pqxx::nontransaction txn(conn);
      const pqxx::result rows = txn.exec_params(
          "SELECT id, service, at_us, kind, description, improvement, recorded_by FROM changes "
          "WHERE ($1::TEXT IS NULL OR service = $1) AND at_us >= $2 AND at_us < $3 "
          "ORDER BY at_us, id LIMIT $4",
          q.service, q.from_us, q.to_us, limit_of(q.limit));
      std::vector<StoredChange> out;
      for (const auto& r : rows) {
        out.push_back({r[0].as<std::int64_t>(), r[1].as<std::string>(), r[2].as<std::int64_t>(),
                       r[3].as<std::string>(), r[4].as<std::string>(), r[5].as<bool>(),
                       r[6].as<std::string>()});
      }
      return out;
    });
  }

 private:
  // A body is idempotent but for record_change, whose insert is lost with a broken connection
  // unless it committed: a change recorded twice only lists twice.
  Session session_;
};

}  // namespace

Result<std::unique_ptr<IncidentStore>> open_postgres_incidents(const std::string& uri) {
  auto target = parse_target(uri);
  if (!target) return target.error();
  auto store = std::make_unique<PostgresIncidentStore>(std::move(*target));
  if (auto s = store->init(); !s) return s.error();
  return std::unique_ptr<IncidentStore>(std::move(store));
}

}  // namespace leeway::store::detail
