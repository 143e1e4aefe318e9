// Where a vantage point sits: the network (ISP or ASN) and region it reaches the internet through.
#pragma once

#include <string>

namespace leeway::incident {

// A location's labels, as its config gives them. Either may be empty.
struct Labels {
  std::string isp;
  std::string region;
};

// The network a location counts in: its `isp` label, or, without one, the location's own id, so
// an unlabelled location is a network of its own and is never merged with another.
inline const std::string& network_of(const std::string& location, const Labels& labels) {
  return labels.isp.empty() ? location : labels.isp;
}

}  // namespace leeway::incident
