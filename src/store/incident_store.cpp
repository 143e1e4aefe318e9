// What both incident stores share: opening by URI and the names of note kinds.
#include "store/incident_store.h"

#include "store/detail.h"

namespace leeway::store {

std::string_view to_string(IncidentNote::Kind kind) {
  return kind == IncidentNote::Kind::kAck ? "ack" : "note";
}

Result<std::unique_ptr<IncidentStore>> open_incident_store(std::string_view uri) {
  auto parsed = detail::parse_store_uri(uri);
  if (!parsed) return parsed.error();
  if (parsed->postgres) return detail::open_postgres_incidents(parsed->target);
  return detail::open_sqlite_incidents(parsed->target);
}

namespace detail {

IncidentNote::Kind note_kind(std::string_view text) {
  return text == "ack" ? IncidentNote::Kind::kAck : IncidentNote::Kind::kNote;
}

}  // namespace detail

}  // namespace leeway::store
