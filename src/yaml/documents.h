// Where each document of a YAML stream starts, read with a guard that yaml-cpp needs: on some
// malformed input (",x" alone, found by fuzzing) yaml-cpp 0.7 stops making progress, and
// YAML::Load and YAML::LoadAll then loop forever. The config loader, the scenario loader and the
// OpenSLO import scan a text with this before they load it.
#pragma once

#include <yaml-cpp/yaml.h>

#include <optional>
#include <string>
#include <vector>

namespace leeway::yaml {

struct DocumentScan {
  std::vector<YAML::Mark> starts;   // where each document starts, in order
  std::optional<YAML::Mark> stuck;  // where the parser stopped making progress, if it did
};

// Throws YAML::Exception on a syntax error, as yaml-cpp's loaders do.
DocumentScan scan_documents(const std::string& text);

}  // namespace leeway::yaml
