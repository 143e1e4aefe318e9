// The PostgreSQL store (placeholder while it is written).
#include "store/detail.h"

namespace leeway::store::detail {

Result<std::unique_ptr<Store>> open_postgres(const std::string& uri, const StoreOptions&) {
  return fail("store: ", uri, ": PostgreSQL store not built yet");
}

Status force_postgres_schema_version(const std::string& uri, int) {
  return fail("store: ", uri, ": PostgreSQL store not built yet");
}

}  // namespace leeway::store::detail
