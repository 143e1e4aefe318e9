// One YAML document from a file's text, as the config loader reads it: guarded against the
// malformed input on which yaml-cpp never returns, and with the error's position when it is not
// one document. The scenarios of `leeway simulate` are read the same way.
#pragma once

#include <yaml-cpp/yaml.h>

#include <optional>
#include <string>

namespace leeway::config {

// Why a text is not one YAML document, and where: 1-based line and column (line 0: nowhere).
struct YamlError {
  int line = 0;
  int column = 0;
  std::string message;  // "invalid YAML: ...", or "expected one YAML document per file; ..."
};

// Parses `text` into `document`; on failure returns the error and leaves `document` alone.
std::optional<YamlError> load_document(const std::string& text, YAML::Node& document);

}  // namespace leeway::config
