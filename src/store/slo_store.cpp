// What both SLO stores share: opening by URI and a decision's reasons as one text.
#include "store/slo_store.h"

#include "store/detail.h"

namespace leeway::store {

Result<std::unique_ptr<SloStore>> open_slo_store(std::string_view uri) {
  auto parsed = detail::parse_store_uri(uri);
  if (!parsed) return parsed.error();
  if (parsed->postgres) return detail::open_postgres_slos(parsed->target);
  return detail::open_sqlite_slos(parsed->target);
}

namespace detail {

std::string join_reasons(const std::vector<std::string>& reasons) {
  std::string out;
  for (const auto& r : reasons) {
    if (!out.empty()) out += '\n';
    out += r;
  }
  return out;
}

std::vector<std::string> split_reasons(std::string_view text) {
  std::vector<std::string> out;
  while (!text.empty()) {
    auto end = text.find('\n');
    out.emplace_back(text.substr(0, end));
    if (end == std::string_view::npos) break;
    text.remove_prefix(end + 1);
  }
  return out;
}

}  // namespace detail

}  // namespace leeway::store
