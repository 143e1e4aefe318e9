// What the Markdown and HTML reports show, built once: a title, summary lines and tables of
// text cells. The two renderers only differ in markup.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "sla/report.h"

namespace leeway::sla::detail {

struct Table {
  std::string title;
  std::vector<std::string> headers;
  std::vector<std::vector<std::string>> rows;
};

struct Document {
  std::string title;
  std::string subtitle;                                      // the period and the zone
  std::vector<std::pair<std::string, std::string>> summary;  // label, value
  std::vector<Table> tables;                                 // only those with rows
  std::vector<std::string> notes;
};

Document build_document(const Report& report);

}  // namespace leeway::sla::detail
