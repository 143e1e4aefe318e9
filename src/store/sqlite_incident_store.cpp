// Incidents and changes in the SQLite file of the result store, on a connection of their own (the
// file is in WAL mode, so it writes beside the result writer, waiting on its lock at most the
// busy timeout). A few rows a minute at most: one connection behind a mutex is plenty.
#include <mutex>

#include "store/detail.h"
#include "store/sqlite_query.h"

namespace leeway::store::detail {
namespace {

// Migrations; migration i (0-based) takes the tables to version i + 1. The version lives in a
// table of its own: the result store has PRAGMA user_version.
const char* const kMigrations[] = {
    R"sql(
CREATE TABLE incidents(id TEXT PRIMARY KEY, service TEXT NOT NULL, opened_us INTEGER NOT NULL,
                       resolved_us INTEGER, state TEXT NOT NULL, verdict TEXT NOT NULL,
                       summary TEXT NOT NULL, document TEXT NOT NULL);
CREATE INDEX incidents_by_opened ON incidents(opened_us);
CREATE INDEX incidents_by_service ON incidents(service, opened_us);
CREATE TABLE incident_notes(id INTEGER PRIMARY KEY, incident_id TEXT NOT NULL, kind TEXT NOT NULL,
                            at_us INTEGER NOT NULL, author TEXT NOT NULL, text TEXT NOT NULL);
CREATE INDEX incident_notes_by_incident ON incident_notes(incident_id, id);
CREATE TABLE changes(id INTEGER PRIMARY KEY, service TEXT NOT NULL, at_us INTEGER NOT NULL,
                     kind TEXT NOT NULL, description TEXT NOT NULL, improvement INTEGER NOT NULL,
                     recorded_by TEXT NOT NULL);
CREATE INDEX changes_by_time ON changes(at_us);
CREATE INDEX changes_by_service ON changes(service, at_us);
)sql",
    R"sql(
CREATE TABLE incident_moves(id INTEGER PRIMARY KEY, from_id TEXT NOT NULL, to_id TEXT NOT NULL);
)sql",
};

constexpr const char* kIncidentColumns =
    "id, service, opened_us, resolved_us, state, verdict, summary, document, "
    "(SELECT count(*) FROM incident_notes n WHERE n.incident_id = i.id AND n.kind = 'ack')";

StoredIncident read_incident(const Query& q) {
  StoredIncident i;
  i.id = q.text(0);
  i.service = q.text(1);
  i.opened_us = q.i64(2);
  if (!q.null(3)) i.resolved_us = q.i64(3);
  i.state = q.text(4);
  i.verdict = q.text(5);
  i.summary = q.text(6);
  i.document = q.text(7);
  i.acks = int(q.i64(8));
  return i;
}

class SqliteIncidentStore final : public IncidentStore {
 public:
  Status open(const std::string& path) {
    return conn_.open(path, "incident_schema", "incident tables", kMigrations);
  }

  std::string describe() const override { return "sqlite:" + conn_.path(); }

  Status write_incidents(std::span<const StoredIncident> incidents,
                         std::span<const IncidentRetirement> retired) override {
    std::lock_guard lock(mutex_);
    return in_transaction([&]() -> Status {
      for (const StoredIncident& i : incidents) {
        Query q(conn_.db(),
                "INSERT INTO incidents VALUES(?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(id) DO UPDATE "
                "SET service = excluded.service, opened_us = excluded.opened_us, "
                "resolved_us = excluded.resolved_us, state = excluded.state, "
                "verdict = excluded.verdict, summary = excluded.summary, "
                "document = excluded.document");
        q.bind(i.id).bind(i.service).bind(i.opened_us).bind(i.resolved_us).bind(i.state);
        q.bind(i.verdict).bind(i.summary).bind(i.document);
        if (auto s = q.run(); !s) return s;
      }
      for (const IncidentRetirement& r : retired) {
        Query notes(conn_.db(),
                    r.to_id.empty()
                        ? "DELETE FROM incident_notes WHERE incident_id = ?2"
                        : "UPDATE incident_notes SET incident_id = ?1 WHERE incident_id = ?2");
        if (auto s = notes.bind(r.to_id).bind(r.id).run(); !s) return s;
        Query gone(conn_.db(), "DELETE FROM incidents WHERE id = ?");
        if (auto s = gone.bind(r.id).run(); !s) return s;
        if (r.to_id.empty()) continue;
        Query move(conn_.db(), "INSERT INTO incident_moves(from_id, to_id) VALUES(?, ?)");
        if (auto s = move.bind(r.id).bind(r.to_id).run(); !s) return s;
      }
      return {};
    });
  }

  Result<std::vector<IncidentMove>> pending_moves() override {
    std::lock_guard lock(mutex_);
    Query q(conn_.db(), "SELECT id, from_id, to_id FROM incident_moves ORDER BY id");
    std::vector<IncidentMove> out;
    if (auto s = each_row(q, [&] { out.push_back({q.i64(0), q.text(1), q.text(2)}); }); !s)
      return failed(s.error());
    return out;
  }

  Status forget_move(std::int64_t id) override {
    std::lock_guard lock(mutex_);
    Query q(conn_.db(), "DELETE FROM incident_moves WHERE id = ?");
    if (auto s = q.bind(id).run(); !s) return failed(s.error());
    return {};
  }

  Result<std::vector<StoredIncident>> incidents(const IncidentQuery& query) override {
    std::lock_guard lock(mutex_);
    Query q(conn_.db(),
            (std::string("SELECT ") + kIncidentColumns +
             " FROM incidents i WHERE (?1 IS NULL OR service = ?1) AND "
             "(?2 IS NULL OR state = ?2) AND opened_us < ?3 AND "
             "(resolved_us IS NULL OR resolved_us >= ?4) ORDER BY opened_us DESC, id LIMIT ?5")
                .c_str());
    q.bind(query.service).bind(query.state).bind(query.to_us).bind(query.from_us);
    q.bind(limit_of(query.limit));
    std::vector<StoredIncident> out;
    if (auto s = each_row(q, [&] { out.push_back(read_incident(q)); }); !s)
      return failed(s.error());
    return out;
  }

  Result<StoredIncident> incident(std::string_view id) override {
    std::lock_guard lock(mutex_);
    Query q(conn_.db(),
            (std::string("SELECT ") + kIncidentColumns + " FROM incidents i WHERE id = ?").c_str());
    auto row = q.bind(id).step();
    if (!row) return failed(row.error());
    if (!*row) return not_found(id);
    StoredIncident incident = read_incident(q);
    Query notes(conn_.db(),
                "SELECT kind, at_us, author, text FROM incident_notes WHERE incident_id = ? "
                "ORDER BY id");
    notes.bind(id);
    if (auto s = each_row(notes,
                          [&] {
                            incident.notes.push_back({note_kind(notes.text(0)), notes.i64(1),
                                                      notes.text(2), notes.text(3)});
                          });
        !s)
      return failed(s.error());
    return incident;
  }

  Status add_note(std::string_view incident_id, const IncidentNote& note) override {
    std::lock_guard lock(mutex_);
    Query q(conn_.db(),
            "INSERT INTO incident_notes(incident_id, kind, at_us, author, text) "
            "SELECT ?1, ?2, ?3, ?4, ?5 WHERE EXISTS (SELECT 1 FROM incidents WHERE id = ?1)");
    q.bind(incident_id).bind(to_string(note.kind)).bind(note.at_us).bind(note.author);
    if (auto s = q.bind(note.text).run(); !s) return failed(s.error());
    if (sqlite3_changes(conn_.db()) == 0) return not_found(incident_id);
    return {};
  }

  Result<StoredChange> record_change(StoredChange change) override {
    std::lock_guard lock(mutex_);
    Query q(conn_.db(),
            "INSERT INTO changes(service, at_us, kind, description, improvement, recorded_by) "
            "VALUES(?, ?, ?, ?, ?, ?)");
    q.bind(change.service).bind(change.at_us).bind(change.kind).bind(change.description);
    if (auto s = q.bind(std::int64_t(change.improvement)).bind(change.recorded_by).run(); !s)
      return failed(s.error());
    change.id = sqlite3_last_insert_rowid(conn_.db());
    return change;
  }

  Result<std::vector<StoredChange>> changes(const ChangeQuery& query) override {
    std::lock_guard lock(mutex_);
    Query q(conn_.db(),
            "SELECT id, service, at_us, kind, description, improvement, recorded_by FROM changes "
            "WHERE (?1 IS NULL OR service = ?1) AND at_us >= ?2 AND at_us < ?3 "
            "ORDER BY at_us, id LIMIT ?4");
    q.bind(query.service).bind(query.from_us).bind(query.to_us);
    q.bind(limit_of(query.limit));
    std::vector<StoredChange> out;
    if (auto s = each_row(q,
                          [&] {
                            out.push_back({q.i64(0), q.text(1), q.i64(2), q.text(3), q.text(4),
                                           q.i64(5) != 0, q.text(6)});
                          });
        !s)
      return failed(s.error());
    return out;
  }

 private:
  template <typename Body>
  Status in_transaction(Body body) {
    return conn_.in_transaction(body);
  }
  Error failed(const Error& e) const { return conn_.failed(e); }

  static Error not_found(std::string_view id) {
    return fail_as(ErrorKind::kNotFound, "no such incident: \"", std::string(id), "\"");
  }

  std::mutex mutex_;
  SqliteConnection conn_;
};

}  // namespace

Result<std::unique_ptr<IncidentStore>> open_sqlite_incidents(const std::string& path) {
  auto store = std::make_unique<SqliteIncidentStore>();
  if (auto s = store->open(path); !s) return s.error();
  return std::unique_ptr<IncidentStore>(std::move(store));
}

}  // namespace leeway::store::detail
