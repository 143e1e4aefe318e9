// Maintenance windows, reclassifications and manual exclusions in the result store's PostgreSQL
// database, on a connection of their own. A few rows a day: one connection behind a mutex.
#include "store/detail.h"
#include "store/postgres_connection.h"

namespace leeway::store::detail {
namespace {

// Migrations; migration i (0-based) takes the tables to version i + 1 (in sla_schema). Texts
// are COLLATE "C" so that they order as in the SQLite store.
const char* const kMigrations[] = {
    R"sql(
CREATE TABLE maintenance_windows(id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                                 start_us BIGINT NOT NULL, end_us BIGINT NOT NULL,
                                 services TEXT COLLATE "C" NOT NULL, announced_us BIGINT NOT NULL,
                                 author TEXT NOT NULL, description TEXT NOT NULL,
                                 source TEXT NOT NULL);
CREATE INDEX maintenance_windows_by_start ON maintenance_windows(start_us);
CREATE TABLE reclassifications(id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                               incident_id TEXT COLLATE "C" NOT NULL, field TEXT NOT NULL,
                               value TEXT NOT NULL, author TEXT NOT NULL, reason TEXT NOT NULL,
                               at_us BIGINT NOT NULL);
CREATE INDEX reclassifications_by_incident ON reclassifications(incident_id, id);
CREATE TABLE manual_exclusions(id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                               start_us BIGINT NOT NULL, end_us BIGINT NOT NULL,
                               services TEXT COLLATE "C" NOT NULL, reason TEXT NOT NULL,
                               author TEXT NOT NULL, at_us BIGINT NOT NULL);
CREATE INDEX manual_exclusions_by_start ON manual_exclusions(start_us);
)sql",
    R"sql(
CREATE TABLE frozen_reports(contract_id TEXT COLLATE "C" NOT NULL, month TEXT NOT NULL,
                            revision INTEGER NOT NULL, inputs_sha256 TEXT NOT NULL,
                            inputs TEXT NOT NULL, frozen_us BIGINT NOT NULL, json TEXT NOT NULL,
                            markdown TEXT NOT NULL, html TEXT NOT NULL, csv TEXT NOT NULL,
                            PRIMARY KEY(contract_id, month, revision));
)sql",
};

// Rows of `table` of `$1`'s service (a whole item of the services column) that overlap
// [$3, $2), oldest start first, at most $4.
std::string overlapping(const char* columns, const char* table) {
  return std::string("SELECT ") + columns + " FROM " + table +
         " WHERE ($1::TEXT IS NULL OR strpos(',' || services || ',', ',' || $1 || ',') > 0) AND "
         "start_us < $2 AND end_us > $3 ORDER BY start_us, id LIMIT $4";
}

constexpr const char* kWindowColumns =
    "id, start_us, end_us, services, announced_us, author, description, source";

MaintenanceWindow read_window(const pqxx::row& r) {
  return {r[0].as<std::int64_t>(),
          r[1].as<std::int64_t>(),
          r[2].as<std::int64_t>(),
          split_services(r[3].as<std::string>()),
          r[4].as<std::int64_t>(),
          r[5].as<std::string>(),
          r[6].as<std::string>(),
          r[7].as<std::string>() == "config" ? MaintenanceWindow::Source::kConfig
                                             : MaintenanceWindow::Source::kApi};
}

std::int64_t insert(pqxx::work& txn, const MaintenanceWindow& w) {
  return txn
      .exec_params1(
          "INSERT INTO maintenance_windows(start_us, end_us, services, announced_us, author, "
          "description, source) VALUES($1, $2, $3, $4, $5, $6, $7) RETURNING id",
          w.start_us, w.end_us, join_services(w.services), w.announced_us, w.author, w.description,
          std::string(to_string(w.source)))[0]
      .as<std::int64_t>();
}

class PostgresSlaStore final : public SlaStore {
 public:
  explicit PostgresSlaStore(Target target) : session_(std::move(target)) {}

  // Creates or migrates the tables.
  Status init() {
    return session_.run("migrating", [&](pqxx::connection& conn) -> Status {
      pqxx::work txn(conn);
      if (Status s = migrate(txn, session_.target(), "sla_schema", "SLA tables", kMigrations); !s)
        return s;
      txn.commit();
      return {};
    });
  }

  std::string describe() const override { return session_.target().display; }

  Result<MaintenanceWindow> add_window(MaintenanceWindow window) override {
    if (Status s = validate(window); !s) return s.error();
    return session_.run("writing a maintenance window to", [&](pqxx::connection& conn) {
      pqxx::work txn(conn);
      window.id = insert(txn, window);
      txn.commit();
      return window;
    });
  }

  Status sync_config_windows(std::span<const MaintenanceWindow> windows) override {
    for (const auto& w : windows)
      if (Status s = validate(w); !s) return s;
    return session_.run("writing maintenance windows to", [&](pqxx::connection& conn) -> Status {
      pqxx::work txn(conn);
      // Nodes reloading together sync one at a time.
      txn.exec("LOCK TABLE maintenance_windows IN SHARE ROW EXCLUSIVE MODE");
      std::vector<MaintenanceWindow> stored;
      for (const auto& row : txn.exec(std::string("SELECT ") + kWindowColumns +
                                      " FROM maintenance_windows WHERE source = 'config' "
                                      "ORDER BY id"))
        stored.push_back(read_window(row));
      const WindowSync sync = plan_sync(stored, windows);
      for (std::int64_t id : sync.remove)
        txn.exec_params("DELETE FROM maintenance_windows WHERE id = $1", id);
      for (MaintenanceWindow w : sync.add) {
        w.source = MaintenanceWindow::Source::kConfig;
        insert(txn, w);
      }
      txn.commit();
      return {};
    });
  }

  Result<std::vector<MaintenanceWindow>> windows(const RangeQuery& q) override {
    return session_.run("reading maintenance windows from", [&](pqxx::connection& conn) {
      pqxx::nontransaction txn(conn);
      std::vector<MaintenanceWindow> out;
      for (const auto& row : txn.exec_params(overlapping(kWindowColumns, "maintenance_windows"),
                                             q.service, q.to_us, q.from_us, limit_of(q.limit)))
        out.push_back(read_window(row));
      return out;
    });
  }

  Result<Reclassification> reclassify(Reclassification r) override {
    if (Status s = validate(r); !s) return s.error();
    return session_.run("writing a reclassification to", [&](pqxx::connection& conn) {
      pqxx::work txn(conn);
      r.id = txn.exec_params1(
                    "INSERT INTO reclassifications(incident_id, field, value, author, reason, "
                    "at_us) VALUES($1, $2, $3, $4, $5, $6) RETURNING id",
                    r.incident_id, r.field, r.value, r.author, r.reason, r.at_us)[0]
                 .as<std::int64_t>();
      txn.commit();
      return r;
    });
  }

  Status move_reclassifications(std::string_view from_id, std::string_view to_id) override {
    return session_.run("moving reclassifications in", [&](pqxx::connection& conn) -> Status {
      pqxx::work txn(conn);
      txn.exec_params("UPDATE reclassifications SET incident_id = $1 WHERE incident_id = $2",
                      std::string(to_id), std::string(from_id));
      txn.commit();
      return {};
    });
  }

  Result<std::vector<Reclassification>> reclassifications(std::string_view incident_id) override {
    return session_.run("reading reclassifications from", [&](pqxx::connection& conn) {
      pqxx::nontransaction txn(conn);
      std::vector<Reclassification> out;
      for (const auto& r :
           txn.exec_params("SELECT id, incident_id, field, value, author, reason, at_us FROM "
                           "reclassifications WHERE incident_id = $1 ORDER BY id",
                           std::string(incident_id))) {
        out.push_back({r[0].as<std::int64_t>(), r[1].as<std::string>(), r[2].as<std::string>(),
                       r[3].as<std::string>(), r[4].as<std::string>(), r[5].as<std::string>(),
                       r[6].as<std::int64_t>()});
      }
      return out;
    });
  }

  Result<ManualExclusion> add_exclusion(ManualExclusion e) override {
    if (Status s = validate(e); !s) return s.error();
    return session_.run("writing an exclusion to", [&](pqxx::connection& conn) {
      pqxx::work txn(conn);
      e.id = txn.exec_params1(
                    "INSERT INTO manual_exclusions(start_us, end_us, services, reason, author, "
                    "at_us) VALUES($1, $2, $3, $4, $5, $6) RETURNING id",
                    e.start_us, e.end_us, join_services(e.services), e.reason, e.author, e.at_us)[0]
                 .as<std::int64_t>();
      txn.commit();
      return e;
    });
  }

  Result<std::vector<ManualExclusion>> exclusions(const RangeQuery& q) override {
    return session_.run("reading exclusions from", [&](pqxx::connection& conn) {
      pqxx::nontransaction txn(conn);
      std::vector<ManualExclusion> out;
      for (const auto& r :
           txn.exec_params(overlapping("id, start_us, end_us, services, reason, author, at_us",
                                       "manual_exclusions"),
                           q.service, q.to_us, q.from_us, limit_of(q.limit))) {
        out.push_back({r[0].as<std::int64_t>(), r[1].as<std::int64_t>(), r[2].as<std::int64_t>(),
                       split_services(r[3].as<std::string>()), r[4].as<std::string>(),
                       r[5].as<std::string>(), r[6].as<std::int64_t>()});
      }
      return out;
    });
  }

  Result<bool> add_frozen_report(const FrozenReport& r) override {
    return session_.run("writing a frozen report to", [&](pqxx::connection& conn) {
      pqxx::work txn(conn);
      const pqxx::result done = txn.exec_params(
          "INSERT INTO frozen_reports(contract_id, month, revision, inputs_sha256, inputs, "
          "frozen_us, json, markdown, html, csv) VALUES($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) "
          "ON CONFLICT DO NOTHING",
          r.contract_id, r.month, r.revision, r.inputs_sha256, r.inputs, r.frozen_us, r.json,
          r.markdown, r.html, r.csv);
      txn.commit();
      return done.affected_rows() > 0;
    });
  }

  Result<std::optional<FrozenReport>> frozen_report(std::string_view contract_id,
                                                    std::string_view month,
                                                    std::optional<int> revision) override {
    return session_.run("reading a frozen report from", [&](pqxx::connection& conn) {
      pqxx::nontransaction txn(conn);
      std::optional<FrozenReport> out;
      for (const auto& r : txn.exec_params(
               "SELECT contract_id, month, revision, inputs_sha256, inputs, frozen_us, json, "
               "markdown, html, csv FROM frozen_reports WHERE contract_id = $1 AND month = $2 "
               "AND ($3::INTEGER IS NULL OR revision = $3) ORDER BY revision DESC LIMIT 1",
               std::string(contract_id), std::string(month), revision))
        out = FrozenReport{r[0].as<std::string>(), r[1].as<std::string>(), r[2].as<int>(),
                           r[3].as<std::string>(), r[4].as<std::string>(), r[5].as<std::int64_t>(),
                           r[6].as<std::string>(), r[7].as<std::string>(), r[8].as<std::string>(),
                           r[9].as<std::string>()};
      return out;
    });
  }

 private:
  // An insert that committed and lost only its answer is stored twice: a window or an exclusion
  // listed twice counts once, since overlaps count once.
  Session session_;
};

}  // namespace

Result<std::unique_ptr<SlaStore>> open_postgres_sla(const std::string& uri) {
  auto target = parse_target(uri);
  if (!target) return target.error();
  auto store = std::make_unique<PostgresSlaStore>(std::move(*target));
  if (auto s = store->init(); !s) return s.error();
  return std::unique_ptr<SlaStore>(std::move(store));
}

}  // namespace leeway::store::detail
