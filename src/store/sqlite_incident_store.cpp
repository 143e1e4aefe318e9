// Incidents and changes in the SQLite file of the result store, on a connection of their own (the
// file is in WAL mode, so it writes beside the result writer, waiting on its lock at most the
// busy timeout). A few rows a minute at most: one connection behind a mutex is plenty.
#include <sqlite3.h>

#include <mutex>

#include "store/detail.h"

namespace leeway::store::detail {
namespace {

constexpr int kSchemaVersion = 1;

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
};
static_assert(std::size(kMigrations) == kSchemaVersion);

constexpr const char* kIncidentColumns =
    "id, service, opened_us, resolved_us, state, verdict, summary, document, "
    "(SELECT count(*) FROM incident_notes n WHERE n.incident_id = i.id AND n.kind = 'ack')";

// A prepared statement, finalized when it goes out of scope.
class Query {
 public:
  Query(sqlite3* db, const char* sql) : db_(db) {
    if (sqlite3_prepare_v2(db, sql, -1, &s_, nullptr) != SQLITE_OK) s_ = nullptr;
  }
  ~Query() { sqlite3_finalize(s_); }
  Query(const Query&) = delete;
  Query& operator=(const Query&) = delete;

  Query& bind(std::int64_t v) {
    sqlite3_bind_int64(s_, next_++, v);
    return *this;
  }
  Query& bind(std::string_view v) {
    sqlite3_bind_text(s_, next_++, v.data(), int(v.size()), SQLITE_TRANSIENT);
    return *this;
  }
  template <typename T>
  Query& bind(const std::optional<T>& v) {
    if (v) return bind(*v);
    sqlite3_bind_null(s_, next_++);
    return *this;
  }
  // True for a row, false when done; an error names the statement's failure.
  Result<bool> step() {
    if (!s_) return error();
    const int rc = sqlite3_step(s_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    return error();
  }
  Status run() {
    auto r = step();
    if (!r) return r.error();
    return {};
  }
  std::int64_t i64(int col) const { return sqlite3_column_int64(s_, col); }
  bool null(int col) const { return sqlite3_column_type(s_, col) == SQLITE_NULL; }
  std::string text(int col) const {
    auto* p = reinterpret_cast<const char*>(sqlite3_column_text(s_, col));
    return p ? std::string(p, std::size_t(sqlite3_column_bytes(s_, col))) : std::string();
  }

 private:
  Error error() const { return fail_as(ErrorKind::kUnavailable, "sqlite: ", sqlite3_errmsg(db_)); }
  sqlite3* db_;
  sqlite3_stmt* s_ = nullptr;
  int next_ = 1;
};

// Calls `on_row` for each row of `q`.
template <typename OnRow>
Status each_row(Query& q, OnRow on_row) {
  while (true) {
    auto row = q.step();
    if (!row) return row.error();
    if (!*row) return {};
    on_row();
  }
}

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
  SqliteIncidentStore(std::string path, sqlite3* db) : path_(std::move(path)), db_(db) {}
  ~SqliteIncidentStore() override { sqlite3_close_v2(db_); }

  Status init() {
    // The result writer holds the file's write lock for a batch at a time.
    sqlite3_busy_timeout(db_, 10'000);
    if (auto s = exec("PRAGMA journal_mode=WAL"); !s) return failed(s.error());
    return in_transaction([&]() -> Status {
      if (auto s = exec("CREATE TABLE IF NOT EXISTS incident_schema(version INTEGER NOT NULL)"); !s)
        return s;
      Query q(db_, "SELECT max(version) FROM incident_schema");
      if (auto row = q.step(); !row) return row.error();
      const int version = int(q.i64(0));
      if (version > kSchemaVersion) {
        return fail("incident tables have schema version ", std::to_string(version),
                    ", newer than this leeway supports (", std::to_string(kSchemaVersion),
                    "); upgrade leeway");
      }
      for (int v = version; v < kSchemaVersion; ++v) {
        if (auto s = exec(kMigrations[v]); !s) return s;
      }
      if (version == kSchemaVersion) return {};
      return exec(("DELETE FROM incident_schema; INSERT INTO incident_schema VALUES(" +
                   std::to_string(kSchemaVersion) + ")")
                      .c_str());
    });
  }

  std::string describe() const override { return "sqlite:" + path_; }

  Status write_incidents(std::span<const StoredIncident> incidents,
                         std::span<const IncidentRetirement> retired) override {
    std::lock_guard lock(mutex_);
    return in_transaction([&]() -> Status {
      for (const StoredIncident& i : incidents) {
        Query q(db_,
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
        Query notes(db_, r.to_id.empty()
                             ? "DELETE FROM incident_notes WHERE incident_id = ?2"
                             : "UPDATE incident_notes SET incident_id = ?1 WHERE incident_id = ?2");
        if (auto s = notes.bind(r.to_id).bind(r.id).run(); !s) return s;
        Query gone(db_, "DELETE FROM incidents WHERE id = ?");
        if (auto s = gone.bind(r.id).run(); !s) return s;
      }
      return {};
    });
  }

  Result<std::vector<StoredIncident>> incidents(const IncidentQuery& query) override {
    std::lock_guard lock(mutex_);
    Query q(db_, (std::string("SELECT ") + kIncidentColumns +
                  " FROM incidents i WHERE (?1 IS NULL OR service = ?1) AND "
                  "(?2 IS NULL OR state = ?2) AND opened_us < ?3 AND "
                  "(resolved_us IS NULL OR resolved_us >= ?4) ORDER BY opened_us DESC, id LIMIT ?5")
                     .c_str());
    q.bind(query.service).bind(query.state).bind(query.to_us).bind(query.from_us);
    q.bind(std::int64_t(std::min<std::size_t>(query.limit, INT64_MAX)));
    std::vector<StoredIncident> out;
    if (auto s = each_row(q, [&] { out.push_back(read_incident(q)); }); !s)
      return failed(s.error());
    return out;
  }

  Result<StoredIncident> incident(std::string_view id) override {
    std::lock_guard lock(mutex_);
    Query q(db_,
            (std::string("SELECT ") + kIncidentColumns + " FROM incidents i WHERE id = ?").c_str());
    auto row = q.bind(id).step();
    if (!row) return failed(row.error());
    if (!*row) return not_found(id);
    StoredIncident incident = read_incident(q);
    Query notes(db_,
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
    Query q(db_,
            "INSERT INTO incident_notes(incident_id, kind, at_us, author, text) "
            "SELECT ?1, ?2, ?3, ?4, ?5 WHERE EXISTS (SELECT 1 FROM incidents WHERE id = ?1)");
    q.bind(incident_id).bind(to_string(note.kind)).bind(note.at_us).bind(note.author);
    if (auto s = q.bind(note.text).run(); !s) return failed(s.error());
    if (sqlite3_changes(db_) == 0) return not_found(incident_id);
    return {};
  }

  Result<StoredChange> record_change(StoredChange change) override {
    std::lock_guard lock(mutex_);
    Query q(db_,
            "INSERT INTO changes(service, at_us, kind, description, improvement, recorded_by) "
            "VALUES(?, ?, ?, ?, ?, ?)");
    q.bind(change.service).bind(change.at_us).bind(change.kind).bind(change.description);
    if (auto s = q.bind(std::int64_t(change.improvement)).bind(change.recorded_by).run(); !s)
      return failed(s.error());
    change.id = sqlite3_last_insert_rowid(db_);
    return change;
  }

  Result<std::vector<StoredChange>> changes(const ChangeQuery& query) override {
    std::lock_guard lock(mutex_);
    Query q(db_,
            "SELECT id, service, at_us, kind, description, improvement, recorded_by FROM changes "
            "WHERE (?1 IS NULL OR service = ?1) AND at_us >= ?2 AND at_us < ?3 "
            "ORDER BY at_us, id LIMIT ?4");
    q.bind(query.service).bind(query.from_us).bind(query.to_us);
    q.bind(std::int64_t(std::min<std::size_t>(query.limit, INT64_MAX)));
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
    if (auto s = exec("BEGIN IMMEDIATE"); !s) return failed(s.error());
    if (auto s = body(); !s) {
      (void)exec("ROLLBACK");  // the error being reported matters more
      return failed(s.error());
    }
    if (auto s = exec("COMMIT"); !s) {
      (void)exec("ROLLBACK");
      return failed(s.error());
    }
    return {};
  }

  // A failure, naming the file.
  Error failed(const Error& e) const {
    return fail_as(ErrorKind::kUnavailable, "store: sqlite:", path_, ": ", e.message);
  }

  static Error not_found(std::string_view id) {
    return fail_as(ErrorKind::kNotFound, "no such incident: \"", std::string(id), "\"");
  }

  const std::string path_;
  std::mutex mutex_;
  sqlite3* db_;
};

}  // namespace

Result<std::unique_ptr<IncidentStore>> open_sqlite_incidents(const std::string& path) {
  sqlite3* db = nullptr;
  const int rc = sqlite3_open_v2(
      path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  auto store = std::make_unique<SqliteIncidentStore>(path, db);
  if (rc != SQLITE_OK) {
    return fail("store: cannot open sqlite:", path, ": ",
                db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
  }
  if (auto s = store->init(); !s) return s.error();
  return std::unique_ptr<IncidentStore>(std::move(store));
}

}  // namespace leeway::store::detail
