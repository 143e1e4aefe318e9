// The one-document YAML read that the config loader and the scenario loader share.
#include "config/yaml_document.h"

#include <yaml-cpp/eventhandler.h>

#include <sstream>

namespace leeway::config {

namespace {

// Notes where each document starts; ignores the rest.
class DocumentStarts final : public YAML::EventHandler {
 public:
  std::vector<YAML::Mark> starts;

  void OnDocumentStart(const YAML::Mark& mark) override { starts.push_back(mark); }
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark&, YAML::anchor_t) override {}
  void OnAlias(const YAML::Mark&, YAML::anchor_t) override {}
  void OnScalar(const YAML::Mark&, const std::string&, YAML::anchor_t,
                const std::string&) override {}
  void OnSequenceStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                       YAML::EmitterStyle::value) override {}
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                  YAML::EmitterStyle::value) override {}
  void OnMapEnd() override {}
};

// A file must hold one YAML document. The documents are counted with a bounded number of parser
// passes because yaml-cpp 0.7 stops making progress on some malformed input (",x" alone), where
// YAML::LoadAll loops forever (found by fuzzing). Throws YAML::Exception on a syntax error.
std::optional<std::pair<YAML::Mark, std::string>> check_documents(const std::string& text) {
  std::istringstream in(text);
  YAML::Parser parser(in);
  DocumentStarts documents;
  for (int pass = 0; pass < 3 && parser.HandleNextDocument(documents); ++pass) {
    const auto& starts = documents.starts;
    if (starts.size() >= 2 && starts[starts.size() - 1].pos == starts[starts.size() - 2].pos)
      return std::pair{starts.back(), std::string("invalid YAML: unexpected text")};
  }
  if (documents.starts.size() > 1)
    return std::pair{documents.starts[1],
                     std::string("expected one YAML document per file; use include: for more")};
  return std::nullopt;
}

}  // namespace

std::optional<YamlError> load_document(const std::string& text, YAML::Node& document) {
  try {
    if (auto problem = check_documents(text))
      return YamlError{problem->first.line + 1, problem->first.column + 1, problem->second};
    document = YAML::Load(text);
  } catch (const YAML::Exception& e) {
    return YamlError{e.mark.is_null() ? 0 : e.mark.line + 1, e.mark.column + 1,
                     "invalid YAML: " + e.msg};
  }
  return std::nullopt;
}

}  // namespace leeway::config
