// Connecting to PostgreSQL, for both PostgreSQL stores (see postgres_connection.h).
#include "store/postgres_connection.h"

#include <libpq-fe.h>
#include <poll.h>

namespace leeway::store::detail {

std::string clean_message(std::string message, const std::string& password) {
  if (!password.empty()) {
    for (auto at = message.find(password); at != std::string::npos; at = message.find(password)) {
      message.replace(at, password.size(), "***");
    }
  }
  std::string out;
  bool space = false;
  for (char c : message) {
    if (c == '\n' || c == '\t' || c == '\r' || c == ' ') {
      space = !out.empty();
      continue;
    }
    if (space) out += ' ';
    space = false;
    out += c;
  }
  return out;
}

namespace {

std::string conninfo_quote(const std::string& value) {
  std::string out = "'";
  for (char c : value) {
    if (c == '\'' || c == '\\') out += '\\';
    out += c;
  }
  return out + "'";
}

// The URI with any password (user:password@ or password=...) replaced, for messages about a URI
// that may not even parse.
std::string redact_uri(std::string uri) {
  auto scheme_end = uri.find("://");
  std::size_t start = scheme_end == std::string::npos ? 0 : scheme_end + 3;
  auto at = uri.find('@', start);
  auto slash = uri.find('/', start);
  if (at != std::string::npos && (slash == std::string::npos || at < slash)) {
    auto colon = uri.find(':', start);
    if (colon != std::string::npos && colon < at) uri.replace(colon + 1, at - colon - 1, "***");
  }
  for (auto p = uri.find("password="); p != std::string::npos; p = uri.find("password=", p + 1)) {
    auto end = uri.find('&', p);
    uri.replace(p + 9, (end == std::string::npos ? uri.size() : end) - p - 9, "***");
  }
  return uri;
}

}  // namespace

Result<Target> parse_target(const std::string& uri) {
  Target t;
  t.display = redact_uri(uri);
  char* error = nullptr;
  PQconninfoOption* options = PQconninfoParse(uri.c_str(), &error);
  if (!options) {
    std::string why = error ? clean_message(error, "") : "out of memory";
    PQfreemem(error);
    return fail("store: bad PostgreSQL URI \"", t.display, "\": ", why);
  }
  std::string host, port, hostaddr;
  bool has_timeout = false, has_name = false, has_options = false;
  // Keeps NOTICEs ("relation already exists, skipping") off the daemon's stderr, also on a
  // connection libpqxx restores by itself.
  const std::string quiet = "-c client_min_messages=warning";
  for (PQconninfoOption* o = options; o->keyword; ++o) {
    if (!o->val) continue;
    std::string key = o->keyword, val = o->val;
    if (key == "host") host = val;
    if (key == "hostaddr") hostaddr = val;
    if (key == "port") port = val;
    if (key == "password") t.password = val;
    if (key == "connect_timeout") has_timeout = true;
    if (key == "application_name") has_name = true;
    if (key == "options") {
      has_options = true;
      val += " " + quiet;
    }
    t.conninfo += key + "=" + conninfo_quote(val) + " ";
  }
  PQconninfoFree(options);
  // A server that drops packets must not hang the daemon's start forever.
  if (!has_timeout) t.conninfo += "connect_timeout=10 ";
  if (!has_name) t.conninfo += "application_name=leeway ";
  if (!has_options) t.conninfo += "options=" + conninfo_quote(quiet);
  if (host.empty()) host = hostaddr.empty() ? "the local socket" : hostaddr;
  t.endpoint = host + ":" + (port.empty() ? "5432" : port);
  return t;
}

Result<Connection> connect(const Target& t) {
  try {
    return std::make_unique<pqxx::connection>(t.conninfo);
  } catch (const std::exception& e) {
    std::string why = clean_message(e.what(), t.password);
    // libpq repeats the endpoint we already name.
    if (why.starts_with("connection to server") && why.find(" failed: ") != std::string::npos) {
      why = why.substr(why.find(" failed: ") + 9);
    }
    return fail("store: postgres: cannot connect to ", t.endpoint, ": ", why);
  }
}

bool idle_and_open(const pqxx::connection& conn) {
  pollfd p{conn.sock(), POLLIN, 0};
  return p.fd >= 0 && ::poll(&p, 1, 0) == 0;
}

Status migrate(pqxx::work& txn, const Target& target, const char* schema_table, const char* tables,
               std::span<const char* const> migrations) {
  // Any constant works; it only has to be the same for every leeway node.
  txn.exec("SELECT pg_advisory_xact_lock(7461208)");
  const std::string table(schema_table);
  txn.exec("CREATE TABLE IF NOT EXISTS " + table + "(version INTEGER NOT NULL)");
  const pqxx::row r = txn.exec1("SELECT max(version) FROM " + table);
  const int version = r[0].is_null() ? 0 : r[0].as<int>();
  const int latest = int(migrations.size());
  if (version > latest) {
    return fail("store: ", target.display, ": ", tables, " have schema version ",
                std::to_string(version), ", newer than this leeway supports (",
                std::to_string(latest), "); upgrade leeway");
  }
  for (int v = version; v < latest; ++v) txn.exec(migrations[std::size_t(v)]);
  if (version < latest) {
    txn.exec("DELETE FROM " + table);
    txn.exec_params("INSERT INTO " + table + " VALUES($1)", latest);
  }
  return {};
}

}  // namespace leeway::store::detail
