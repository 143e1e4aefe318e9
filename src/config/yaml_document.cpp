// The one-document YAML read that the config loader and the scenario loader share.
#include "config/yaml_document.h"

#include "yaml/documents.h"

namespace leeway::config {

std::optional<YamlError> load_document(const std::string& text, YAML::Node& document) {
  try {
    // A file holds one document: more is a mistake, and include: is the way to split a config.
    yaml::DocumentScan scan = yaml::scan_documents(text);
    if (scan.stuck)
      return YamlError{scan.stuck->line + 1, scan.stuck->column + 1,
                       "invalid YAML: unexpected text"};
    if (scan.starts.size() > 1)
      return YamlError{scan.starts[1].line + 1, scan.starts[1].column + 1,
                       "expected one YAML document per file; use include: for more"};
    document = YAML::Load(text);
  } catch (const YAML::Exception& e) {
    return YamlError{e.mark.is_null() ? 0 : e.mark.line + 1, e.mark.column + 1,
                     "invalid YAML: " + e.msg};
  }
  return std::nullopt;
}

}  // namespace leeway::config
