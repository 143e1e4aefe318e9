// The config schema: one table of keys (where, type, default, one-line doc) that the loader
// validates against and the reference docs are generated from, so they cannot disagree. Check
// options are not restated here: they come from probe::check_options().
#pragma once

#include <span>
#include <string>
#include <string_view>

namespace leeway::config {

// What a value looks like.
enum class ValueType {
  kString,    // any text
  kId,        // letters, digits, '-', '_' or '.'; used in ids and URLs
  kInt,       // a whole number within SchemaKey::allowed ("lo..hi")
  kDuration,  // above zero (at least SchemaKey::allowed when set), with a unit: "30s", "14d"
  kChoice,    // one of SchemaKey::allowed ("a,b")
  kAddress,   // "host:port", "[v6]:port"
  kTarget,    // a check URL as for `leeway check` (probe::parse_target)
  kTime,      // RFC 3339 with Z or an offset: "2026-11-03T02:00:00+09:00"
  kIdList,    // a list of ids; a single id may be written alone
  kPathList,  // a list of file paths; a single path may be written alone
  kTextList,  // a list of non-empty text values; a single one may be written alone
  kMap,       // a section of keys: its keys are the rows whose section is this key's path
  kMapList,   // a list of such sections
};

// One key of the config file.
struct SchemaKey {
  // Where the key lives: "" for the top level, else the dotted path of the section's keys, e.g.
  // "server.retention" or "services.checks" (lists of sections are not marked).
  std::string_view section;
  std::string_view key;
  ValueType type;
  // As written in YAML; "" when there is none. A default computed from elsewhere is described in
  // parentheses, e.g. "(the id)".
  std::string_view default_text;
  std::string_view allowed;  // kInt: "lo..hi"; kChoice: "a,b"; kDuration: the least, "1s"; or ""
  bool required;
  std::string_view doc;  // one line
};

// The section whose entries also take every check option (probe::check_options()).
inline constexpr std::string_view kCheckSection = "services.checks";
// The section of reference targets, whose entries also take every check option.
inline constexpr std::string_view kReferenceSection = "references";
// The section whose keys checks inherit when they do not set them.
inline constexpr std::string_view kDefaultsSection = "defaults";

// Every key, sections in documentation order. A new section is new rows here plus its builder.
std::span<const SchemaKey> config_schema();

// The key `key` of `section`, or nullptr.
const SchemaKey* find_schema_key(std::string_view section, std::string_view key);

// The path of the section a kMap or kMapList key opens: "server", "server.retention".
std::string section_path(const SchemaKey& key);

// What a value of `type` looks like, for messages and docs, e.g. "a duration like 30s".
std::string describe(const SchemaKey& key);

// The reference for docs/config.md, in Markdown (what `leeway config docs` prints).
std::string reference_docs();

}  // namespace leeway::config
