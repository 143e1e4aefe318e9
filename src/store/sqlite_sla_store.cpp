// Maintenance windows, reclassifications and manual exclusions in the SQLite file of the result
// store, on a connection of their own. A few rows a day: one connection behind a mutex.
#include <mutex>

#include "store/detail.h"
#include "store/sqlite_query.h"

namespace leeway::store::detail {
namespace {

// Migrations; migration i (0-based) takes the tables to version i + 1 (in sla_schema).
const char* const kMigrations[] = {
    R"sql(
CREATE TABLE maintenance_windows(id INTEGER PRIMARY KEY, start_us INTEGER NOT NULL,
                                 end_us INTEGER NOT NULL, services TEXT NOT NULL,
                                 announced_us INTEGER NOT NULL, author TEXT NOT NULL,
                                 description TEXT NOT NULL, source TEXT NOT NULL);
CREATE INDEX maintenance_windows_by_start ON maintenance_windows(start_us);
CREATE TABLE reclassifications(id INTEGER PRIMARY KEY, incident_id TEXT NOT NULL,
                               field TEXT NOT NULL, value TEXT NOT NULL, author TEXT NOT NULL,
                               reason TEXT NOT NULL, at_us INTEGER NOT NULL);
CREATE INDEX reclassifications_by_incident ON reclassifications(incident_id, id);
CREATE TABLE manual_exclusions(id INTEGER PRIMARY KEY, start_us INTEGER NOT NULL,
                               end_us INTEGER NOT NULL, services TEXT NOT NULL,
                               reason TEXT NOT NULL, author TEXT NOT NULL, at_us INTEGER NOT NULL);
CREATE INDEX manual_exclusions_by_start ON manual_exclusions(start_us);
)sql",
    R"sql(
CREATE TABLE frozen_reports(contract_id TEXT NOT NULL, month TEXT NOT NULL,
                            revision INTEGER NOT NULL, inputs_sha256 TEXT NOT NULL,
                            inputs TEXT NOT NULL, frozen_us INTEGER NOT NULL, json TEXT NOT NULL,
                            markdown TEXT NOT NULL, html TEXT NOT NULL, csv TEXT NOT NULL,
                            PRIMARY KEY(contract_id, month, revision));
)sql",
};

// Rows of `table` of `?1`'s service (a whole item of the services column) that overlap
// [?3, ?2), oldest start first, at most ?4.
std::string overlapping(const char* columns, const char* table) {
  return std::string("SELECT ") + columns + " FROM " + table +
         " WHERE (?1 IS NULL OR instr(',' || services || ',', ',' || ?1 || ',') > 0) AND "
         "start_us < ?2 AND end_us > ?3 ORDER BY start_us, id LIMIT ?4";
}

constexpr const char* kWindowColumns =
    "id, start_us, end_us, services, announced_us, author, description, source";

MaintenanceWindow read_window(const Query& q) {
  return {
      q.i64(0),
      q.i64(1),
      q.i64(2),
      split_services(q.text(3)),
      q.i64(4),
      q.text(5),
      q.text(6),
      q.text(7) == "config" ? MaintenanceWindow::Source::kConfig : MaintenanceWindow::Source::kApi};
}

class SqliteSlaStore final : public SlaStore {
 public:
  Status open(const std::string& path) {
    return conn_.open(path, "sla_schema", "SLA tables", kMigrations);
  }

  std::string describe() const override { return "sqlite:" + conn_.path(); }

  Result<MaintenanceWindow> add_window(MaintenanceWindow window) override {
    if (Status s = validate(window); !s) return s.error();
    std::lock_guard lock(mutex_);
    if (Status s = insert(window); !s) return conn_.failed(s.error());
    window.id = sqlite3_last_insert_rowid(conn_.db());
    return window;
  }

  Status sync_config_windows(std::span<const MaintenanceWindow> windows) override {
    for (const auto& w : windows)
      if (Status s = validate(w); !s) return s;
    std::lock_guard lock(mutex_);
    return conn_.in_transaction([&]() -> Status {
      Query q(conn_.db(), (std::string("SELECT ") + kWindowColumns +
                           " FROM maintenance_windows WHERE source = 'config' ORDER BY id")
                              .c_str());
      std::vector<MaintenanceWindow> stored;
      if (Status s = each_row(q, [&] { stored.push_back(read_window(q)); }); !s) return s;
      const WindowSync sync = plan_sync(stored, windows);
      for (std::int64_t id : sync.remove) {
        Query gone(conn_.db(), "DELETE FROM maintenance_windows WHERE id = ?");
        if (Status s = gone.bind(id).run(); !s) return s;
      }
      for (MaintenanceWindow w : sync.add) {
        w.source = MaintenanceWindow::Source::kConfig;
        if (Status s = insert(w); !s) return s;
      }
      return {};
    });
  }

  Result<std::vector<MaintenanceWindow>> windows(const RangeQuery& query) override {
    std::lock_guard lock(mutex_);
    Query q(conn_.db(), overlapping(kWindowColumns, "maintenance_windows").c_str());
    q.bind(query.service).bind(query.to_us).bind(query.from_us).bind(limit_of(query.limit));
    std::vector<MaintenanceWindow> out;
    if (Status s = each_row(q, [&] { out.push_back(read_window(q)); }); !s)
      return conn_.failed(s.error());
    return out;
  }

  Result<Reclassification> reclassify(Reclassification r) override {
    if (Status s = validate(r); !s) return s.error();
    std::lock_guard lock(mutex_);
    Query q(conn_.db(),
            "INSERT INTO reclassifications(incident_id, field, value, author, reason, at_us) "
            "VALUES(?, ?, ?, ?, ?, ?)");
    q.bind(r.incident_id).bind(r.field).bind(r.value).bind(r.author).bind(r.reason);
    if (Status s = q.bind(r.at_us).run(); !s) return conn_.failed(s.error());
    r.id = sqlite3_last_insert_rowid(conn_.db());
    return r;
  }

  Status move_reclassifications(std::string_view from_id, std::string_view to_id) override {
    std::lock_guard lock(mutex_);
    Query q(conn_.db(), "UPDATE reclassifications SET incident_id = ? WHERE incident_id = ?");
    if (Status s = q.bind(to_id).bind(from_id).run(); !s) return conn_.failed(s.error());
    return {};
  }

  Result<std::vector<Reclassification>> reclassifications(std::string_view incident_id) override {
    std::lock_guard lock(mutex_);
    Query q(conn_.db(),
            "SELECT id, incident_id, field, value, author, reason, at_us FROM reclassifications "
            "WHERE incident_id = ? ORDER BY id");
    q.bind(incident_id);
    std::vector<Reclassification> out;
    if (Status s = each_row(q,
                            [&] {
                              out.push_back({q.i64(0), q.text(1), q.text(2), q.text(3), q.text(4),
                                             q.text(5), q.i64(6)});
                            });
        !s)
      return conn_.failed(s.error());
    return out;
  }

  Result<ManualExclusion> add_exclusion(ManualExclusion e) override {
    if (Status s = validate(e); !s) return s.error();
    std::lock_guard lock(mutex_);
    Query q(conn_.db(),
            "INSERT INTO manual_exclusions(start_us, end_us, services, reason, author, at_us) "
            "VALUES(?, ?, ?, ?, ?, ?)");
    q.bind(e.start_us).bind(e.end_us).bind(join_services(e.services)).bind(e.reason);
    if (Status s = q.bind(e.author).bind(e.at_us).run(); !s) return conn_.failed(s.error());
    e.id = sqlite3_last_insert_rowid(conn_.db());
    return e;
  }

  Result<std::vector<ManualExclusion>> exclusions(const RangeQuery& query) override {
    std::lock_guard lock(mutex_);
    Query q(conn_.db(), overlapping("id, start_us, end_us, services, reason, author, at_us",
                                    "manual_exclusions")
                            .c_str());
    q.bind(query.service).bind(query.to_us).bind(query.from_us).bind(limit_of(query.limit));
    std::vector<ManualExclusion> out;
    if (Status s =
            each_row(q,
                     [&] {
                       out.push_back({q.i64(0), q.i64(1), q.i64(2), split_services(q.text(3)),
                                      q.text(4), q.text(5), q.i64(6)});
                     });
        !s)
      return conn_.failed(s.error());
    return out;
  }

  Result<bool> add_frozen_report(const FrozenReport& r) override {
    std::lock_guard lock(mutex_);
    Query q(conn_.db(),
            "INSERT OR IGNORE INTO frozen_reports(contract_id, month, revision, inputs_sha256, "
            "inputs, frozen_us, json, markdown, html, csv) VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
    q.bind(r.contract_id).bind(r.month).bind(r.revision).bind(r.inputs_sha256).bind(r.inputs);
    q.bind(r.frozen_us).bind(r.json).bind(r.markdown).bind(r.html).bind(r.csv);
    if (Status s = q.run(); !s) return conn_.failed(s.error());
    return sqlite3_changes(conn_.db()) > 0;
  }

  Result<std::optional<FrozenReport>> frozen_report(std::string_view contract_id,
                                                    std::string_view month,
                                                    std::optional<int> revision) override {
    std::lock_guard lock(mutex_);
    Query q(conn_.db(),
            "SELECT contract_id, month, revision, inputs_sha256, inputs, frozen_us, json, "
            "markdown, html, csv FROM frozen_reports WHERE contract_id = ?1 AND month = ?2 AND "
            "(?3 IS NULL OR revision = ?3) ORDER BY revision DESC LIMIT 1");
    q.bind(contract_id)
        .bind(month)
        .bind(revision ? std::optional<std::int64_t>(*revision) : std::optional<std::int64_t>());
    std::optional<FrozenReport> out;
    if (Status s = each_row(q,
                            [&] {
                              out = FrozenReport{q.text(0), q.text(1), static_cast<int>(q.i64(2)),
                                                 q.text(3), q.text(4), q.i64(5),
                                                 q.text(6), q.text(7), q.text(8),
                                                 q.text(9)};
                            });
        !s)
      return conn_.failed(s.error());
    return out;
  }

 private:
  Status insert(const MaintenanceWindow& w) {
    Query q(conn_.db(),
            "INSERT INTO maintenance_windows(start_us, end_us, services, announced_us, author, "
            "description, source) VALUES(?, ?, ?, ?, ?, ?, ?)");
    q.bind(w.start_us).bind(w.end_us).bind(join_services(w.services)).bind(w.announced_us);
    return q.bind(w.author).bind(w.description).bind(to_string(w.source)).run();
  }

  std::mutex mutex_;
  SqliteConnection conn_;
};

}  // namespace

Result<std::unique_ptr<SlaStore>> open_sqlite_sla(const std::string& path) {
  auto store = std::make_unique<SqliteSlaStore>();
  if (auto s = store->open(path); !s) return s.error();
  return std::unique_ptr<SlaStore>(std::move(store));
}

}  // namespace leeway::store::detail
