// The config loader: yaml-cpp parses, this file walks the tree against the schema (schema.h) and
// the check option table, collecting every error with its file:line:column before giving up.
#include "config/config.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <map>
#include <set>
#include <sstream>

#include <fmt/format.h>

#include "config/schema.h"
#include "config/yaml_document.h"
#include "core/text.h"
#include "probe/options.h"

namespace leeway::config {

std::size_t Config::check_count() const {
  std::size_t n = 0;
  for (const auto& service : services) n += service.checks.size();
  return n;
}

const Location* Config::find_location(std::string_view id) const {
  for (const auto& location : locations)
    if (location.id == id) return &location;
  return nullptr;
}

const sla::Contract* Config::find_contract(std::string_view id) const {
  for (const auto& contract : contracts)
    if (contract.id == id) return &contract;
  return nullptr;
}

std::vector<slo::SloSpec> Config::slos() const {
  std::vector<slo::SloSpec> out;
  for (const auto& service : services)
    out.insert(out.end(), service.slos.begin(), service.slos.end());
  return out;
}

std::string ConfigError::to_string() const {
  if (line <= 0) return fmt::format("{}: {}", file, message);
  return fmt::format("{}:{}:{}: {}", file, line, column, message);
}

Result<std::string> read_file(const std::string& path) {
  // O_NONBLOCK: opening a FIFO must not wait for a writer; only regular files are read.
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
  if (fd < 0) return fail(std::strerror(errno));
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};
  struct stat st {};
  if (::fstat(fd, &st) != 0) return fail(std::strerror(errno));
  if (S_ISDIR(st.st_mode)) return fail("is a directory, not a file");
  if (!S_ISREG(st.st_mode)) return fail("not a regular file");
  if (static_cast<std::size_t>(st.st_size) > kMaxConfigFileBytes)
    return fail(fmt::format("{} bytes, over the limit of {} MiB for one file", st.st_size,
                            kMaxConfigFileBytes >> 20));
  std::string text;
  char buffer[64 * 1024];
  while (true) {
    ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return fail(std::strerror(errno));
    if (n == 0) return text;
    text.append(buffer, static_cast<std::size_t>(n));
    // The file may have grown since fstat.
    if (text.size() > kMaxConfigFileBytes)
      return fail(fmt::format("over the limit of {} MiB for one file", kMaxConfigFileBytes >> 20));
  }
}

namespace {

// Enough to fix a file in one go without drowning the reader (or a fuzzer) in repeats.
constexpr std::size_t kMaxErrors = 100;
// Cycles are caught by path; this also stops a chain of distinct paths that never ends.
constexpr std::size_t kMaxIncludeDepth = 32;

// A key and its value in a YAML map, or an item of a list (key is then the list's key).
struct Entry {
  YAML::Node key;
  YAML::Node value;
  int file = 0;
};

// The fields of one map that passed the schema's checks, by key.
using Fields = std::map<std::string, Entry, std::less<>>;

struct Position {
  int file = 0;
  int line = 0;  // 1-based; 0: none
  int column = 0;
};

// Hand-written because no Debian-packaged C++ library offers edit distance; it is a dozen lines.
std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      std::size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] != b[j - 1] ? 1 : 0)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

// The candidate closest to `word`, when close enough to be a likely typo; "" otherwise.
std::string closest(std::string_view word, const std::vector<std::string_view>& candidates) {
  std::string_view best;
  std::size_t best_distance = std::max<std::size_t>(2, word.size() / 3) + 1;
  for (auto candidate : candidates) {
    std::size_t d = edit_distance(word, candidate);
    if (d < best_distance) {
      best = candidate;
      best_distance = d;
    }
  }
  return std::string(best);
}

// A value quoted in a message, escaped: messages go to terminals and into JSON.
std::string in_quotes(std::string_view text) {
  constexpr std::size_t kMaxShown = 60;
  if (text.size() > kMaxShown)
    return fmt::format("\"{}...\"", terminal_safe(text.substr(0, kMaxShown)));
  return fmt::format("\"{}\"", terminal_safe(text));
}

// What no value in a config may hold: bytes that are not UTF-8 (they break JSON and the API),
// and NUL (the API would show one string while the probe used the text before the NUL).
std::string bad_text(std::string_view text) {
  if (!utf8_valid(text)) return "UTF-8 text";
  if (text.find('\0') != std::string_view::npos) return "text without NUL characters";
  return "";
}

// What a node is, for "expected X, got Y".
std::string got(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Scalar:
      return in_quotes(node.Scalar());
    case YAML::NodeType::Sequence:
      return "a list";
    case YAML::NodeType::Map:
      return "a map";
    default:
      return "nothing";
  }
}

// "sha256:" and 64 hex digits, into `out`. False for anything else.
bool parse_token_hash(std::string_view text, std::array<unsigned char, 32>& out) {
  constexpr std::string_view kPrefix = "sha256:";
  bool ok = text.size() == kPrefix.size() + 2 * out.size() && text.starts_with(kPrefix);
  for (std::size_t i = 0; ok && i < out.size(); ++i) {
    auto digits = text.substr(kPrefix.size() + 2 * i, 2);
    auto [end, ec] = std::from_chars(digits.data(), digits.data() + 2, out[i], 16);
    ok = ec == std::errc() && end == digits.data() + 2;
  }
  return ok;
}

// A token hash is never quoted back in a message: it may be a token pasted by mistake.
constexpr std::string_view kTokenHashText =
    "expected `sha256:` and 64 hex digits: the token's SHA-256, as `printf %s TOKEN | sha256sum` "
    "prints it";

constexpr std::string_view kIdText = "an id of letters, digits, '-', '_' or '.'";

bool is_id(std::string_view text) {
  if (text.empty()) return false;
  auto ok = [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_' || c == '.';
  };
  return std::all_of(text.begin(), text.end(), ok);
}

bool parse_int(std::string_view text, int& out) {
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && p == text.data() + text.size();
}

bool in_range(std::string_view allowed, std::string_view text) {
  int value = 0, lo = 0, hi = 0;
  auto dots = allowed.find("..");
  return parse_int(text, value) && parse_int(allowed.substr(0, dots), lo) &&
         parse_int(allowed.substr(dots + 2), hi) && value >= lo && value <= hi;
}

bool is_choice(std::string_view allowed, std::string_view text) {
  while (true) {
    auto comma = allowed.find(',');
    if (allowed.substr(0, comma) == text) return true;
    if (comma == std::string_view::npos) return false;
    allowed.remove_prefix(comma + 1);
  }
}

// "host:port" or "[v6]:port" with a port from 1 to 65535.
bool is_address(std::string_view text) {
  auto colon = text.rfind(':');
  if (colon == std::string_view::npos || colon == 0) return false;
  std::string_view host = text.substr(0, colon);
  if (host.find(':') != std::string_view::npos && (host.front() != '[' || host.back() != ']'))
    return false;
  int port = 0;
  return parse_int(text.substr(colon + 1), port) && port >= 1 && port <= 65535;
}

// Above zero and, when the key has one, at least its least value ("1s"). parse_duration
// refuses what does not fit in 64 bits, as `leeway check` does with the same text.
bool is_duration_for(std::string_view least, std::string_view text) {
  auto d = parse_duration(text);
  if (!d || *d <= 0) return false;
  return least.empty() || *d >= parse_duration(least).value();
}

bool is_positive_duration(std::string_view text) {
  return is_duration_for("", text);
}

// A count of networks ("2") or a share of them ("50%", "0.5"), strictly between 0 and 1.
bool parse_down_when(std::string_view text, DownWhen& out) {
  int networks = 0;
  if (parse_int(text, networks)) {
    out = {true, networks, 0.5};
    return networks >= 1;
  }
  const bool percent = text.ends_with('%');
  if (percent) text.remove_suffix(1);
  double share = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), share);
  if (ec != std::errc() || p != text.data() + text.size() || text.empty()) return false;
  if (percent) share /= 100;
  out = {false, 1, share};
  return share > 0 && share < 1;
}

// Ids, names and labels: what people read in lists, URLs and alerts, never a megabyte.
bool is_label(const SchemaKey& key) {
  return key.type == ValueType::kId || (key.type == ValueType::kString && key.section != "server");
}

// The items of a list value; a lone scalar is a list of one.
std::vector<YAML::Node> items(const YAML::Node& value) {
  std::vector<YAML::Node> out;
  if (value.IsSequence()) {
    for (const auto& item : value) out.push_back(item);
  } else if (!value.IsNull()) {
    out.push_back(value);
  }
  return out;
}

class Loader {
 public:
  explicit Loader(const FileReader& read) : read_(read) {}

  // The top-level sections, one row each, built in this order (later rows read earlier ones: the
  // defaults name locations). A map section may be set by one file only; a list section gathers
  // its items from every file. A new section (slos, contracts, notify) is a row here, its keys
  // in schema.cpp, and a builder.
  struct SectionRow {
    std::string_view name;
    bool list;
    void (Loader::*build)(Config&);
  };
  static const SectionRow kSections[8];

  LoadResult load(std::string_view text, const std::string& file_name) {
    read_root(text, file_name);
    return result(build());
  }

  // A file of contracts for `base`'s services: its contracts: (and its includes'), in place of
  // base's; any other section is an error.
  LoadResult load_contracts(std::string_view text, const std::string& file_name,
                            const Config& base) {
    read_root(text, file_name);
    for (const auto& [name, entries] : sections_)
      if (name != "contracts" && !entries.empty())
        error(where_key(entries[0]),
              fmt::format("{}: a contracts file holds contracts: (and include:) only; this "
                          "section belongs in the config",
                          name));
    Config config = base;
    config.contracts.clear();
    build_contracts(config);
    if (config.contracts.empty() && errors_.empty())
      error(Position{0, 0, 0}, "contracts: none in this file");
    return result(std::move(config));
  }

 private:
  void read_root(std::string_view text, const std::string& file_name) {
    stack_.push_back({file_name, file_key(file_name)});
    read_keys_.insert(stack_.back().key);
    total_bytes_ = text.size();
    read_one(text, file_name);
    stack_.pop_back();
  }

  // `config` when no error was found, else the errors in file and line order.
  LoadResult result(Config config) {
    LoadResult result;
    std::stable_sort(errors_.begin(), errors_.end(), [](const auto& a, const auto& b) {
      return std::tie(a.first.file, a.first.line, a.first.column) <
             std::tie(b.first.file, b.first.line, b.first.column);
    });
    for (auto& [at, message] : errors_)
      result.errors.push_back(ConfigError{files_[at.file], at.line, at.column, std::move(message)});
    if (full())
      result.errors.push_back(ConfigError{
          files_[0], 0, 0, fmt::format("too many errors; stopped after {}", kMaxErrors)});
    if (result.errors.empty()) result.config = std::move(config);
    return result;
  }

  struct OpenFile {
    std::string name;  // as shown in errors
    std::string key;   // absolute and normalised, to recognise a cycle
  };

  // Resolves symbolic links where the file exists, so a link back up the tree is a cycle too.
  static std::string file_key(const std::string& name) {
    std::error_code ec;
    auto canonical = std::filesystem::weakly_canonical(name, ec);
    return (ec ? std::filesystem::path(name) : canonical).lexically_normal().string();
  }

  bool full() const { return errors_.size() >= kMaxErrors; }

  void error(Position at, std::string message) {
    if (!full()) errors_.emplace_back(at, std::move(message));
  }

  // Where a node is. A null value has no useful mark of its own: its key's is used.
  static Position where(const Entry& entry, const YAML::Node& node) {
    YAML::Mark mark = node.Mark();
    if ((node.IsNull() || mark.is_null()) && entry.key.IsDefined()) mark = entry.key.Mark();
    if (mark.is_null()) return Position{entry.file, 0, 0};
    return Position{entry.file, mark.line + 1, mark.column + 1};
  }
  static Position where(const Entry& entry) { return where(entry, entry.value); }
  static Position where_key(const Entry& entry) { return where(entry, entry.key); }

  std::string place(const Position& at) const {
    if (at.line <= 0) return files_[at.file];
    return fmt::format("{}:{}:{}", files_[at.file], at.line, at.column);
  }

  // ---- Phase 1: read the files and gather their sections.

  void read_one(std::string_view text, const std::string& name) {
    int file = static_cast<int>(files_.size());
    files_.push_back(name);
    YAML::Node document;
    if (auto problem = load_document(std::string(text), document)) {
      error(Position{file, problem->line, problem->column}, problem->message);
      return;
    }
    if (document.IsNull()) return;
    Entry root{YAML::Node(), document, file};
    if (!root.value.IsMap()) {
      std::string names = "include";
      for (const auto& section : kSections) names += fmt::format(", {}", section.name);
      error(where(root),
            fmt::format("expected a map of sections ({}), got {}", names, got(root.value)));
      return;
    }
    Fields fields = check_map(root, "");
    for (const auto& section : kSections) {
      auto it = fields.find(section.name);
      if (it == fields.end()) continue;
      std::vector<Entry>& gathered = sections_[section.name];
      if (section.list) {
        for (const auto& item : items(it->second.value))
          gathered.push_back(Entry{it->second.key, item, file});
      } else if (!gathered.empty()) {
        error(where_key(it->second), fmt::format("{}: already set at {}; only one file may set it",
                                                 section.name, place(where_key(gathered[0]))));
      } else {
        gathered.push_back(it->second);
      }
    }
    if (auto it = fields.find("include"); it != fields.end()) {
      for (const auto& item : items(it->second.value)) include(Entry{it->second.key, item, file});
    }
  }

  void include(const Entry& item) {
    std::filesystem::path path(item.value.Scalar());
    if (path.is_relative()) path = std::filesystem::path(files_[item.file]).parent_path() / path;
    std::string name = path.lexically_normal().string();
    std::string key = file_key(name);
    for (std::size_t i = 0; i < stack_.size(); ++i) {
      if (stack_[i].key != key) continue;
      std::string chain;
      for (std::size_t j = i; j < stack_.size(); ++j) chain += stack_[j].name + " -> ";
      error(where(item), fmt::format("include: cycle: {}{}", chain, name));
      return;
    }
    if (stack_.size() > kMaxIncludeDepth) {
      error(where(item), fmt::format("include: nested more than {} deep", kMaxIncludeDepth));
      return;
    }
    // Read once: a file that several others include is still one set of sections, and files
    // that each include the next twice must not cost 2^N reads.
    if (!read_keys_.insert(key).second) return;
    auto text = read_(name);
    if (!text) {
      error(where(item),
            fmt::format("include: cannot read {}: {}", in_quotes(name), text.error().message));
      return;
    }
    total_bytes_ += text->size();
    if (total_bytes_ > kMaxConfigBytes) {
      error(where(item), fmt::format("include: {} takes the config over {} MiB in all",
                                     in_quotes(name), kMaxConfigBytes >> 20));
      return;
    }
    stack_.push_back({name, key});
    read_one(*text, name);
    stack_.pop_back();
  }

  // ---- Validation of one map against its section's rows.

  // Checks a value's shape (and a scalar's form) against a schema key. False when it is wrong
  // (and reported), so the caller uses the default instead.
  bool check_value(const SchemaKey& key, const Entry& entry) {
    const YAML::Node& value = entry.value;
    auto expected = [&](const YAML::Node& node) {
      error(where(entry, node),
            fmt::format("{}: expected {}, got {}", key.key, describe(key), got(node)));
      return false;
    };
    if (!check_text(key.key, entry)) return false;
    if (value.IsScalar() && is_label(key) && value.Scalar().size() > kMaxLabelBytes) {
      error(where(entry), fmt::format("{}: {} bytes long; at most {}", key.key,
                                      value.Scalar().size(), kMaxLabelBytes));
      return false;
    }
    switch (key.type) {
      case ValueType::kMap:
        return value.IsMap() || value.IsNull() || expected(value);
      case ValueType::kMapList:
        return value.IsSequence() || value.IsNull() || expected(value);
      case ValueType::kIdList:
      case ValueType::kPathList:
      case ValueType::kTextList: {
        if (!value.IsSequence() && !value.IsScalar()) return expected(value);
        bool ids = key.type == ValueType::kIdList;
        bool ok = true;
        for (const auto& item : items(value)) {
          if (item.IsScalar() && (ids ? is_id(item.Scalar()) : !item.Scalar().empty())) continue;
          error(where(entry, item), fmt::format("{}: expected {} in the list, got {}", key.key,
                                                ids                                ? kIdText
                                                : key.type == ValueType::kPathList ? "a file path"
                                                                                   : "text",
                                                got(item)));
          ok = false;
        }
        return ok;
      }
      default:
        break;
    }
    if (!value.IsScalar()) return expected(value);
    const std::string& text = value.Scalar();
    switch (key.type) {
      case ValueType::kId:
        return is_id(text) || expected(value);
      case ValueType::kInt:
        return in_range(key.allowed, text) || expected(value);
      case ValueType::kDuration:
        return is_duration_for(key.allowed, text) || expected(value);
      case ValueType::kChoice:
        return is_choice(key.allowed, text) || expected(value);
      case ValueType::kAddress:
        return is_address(text) || expected(value);
      case ValueType::kTime:
        return parse_rfc3339_offset(text).has_value() || expected(value);
      case ValueType::kTarget: {
        auto spec = probe::parse_target(text);
        if (!spec) error(where(entry), fmt::format("{}: {}", key.key, spec.error().message));
        return spec.has_value();
      }
      default:
        return true;
    }
  }

  // Checks a check option's shape: one scalar, or a list of them when it is repeatable. Values
  // are checked when applied, once the check's kind is known; durations here, so that their
  // message reads the same as the schema's.
  bool check_option(const probe::CheckOption& option, const Entry& entry) {
    bool list_ok = option.repeatable && entry.value.IsSequence();
    auto expected = [&](const YAML::Node& node) {
      error(where(entry, node),
            fmt::format("{}: expected {}{}, got {}", option.key, probe::describe(option.type),
                        option.repeatable ? " or a list of them" : "", got(node)));
      return false;
    };
    if (!entry.value.IsScalar() && !list_ok) return expected(entry.value);
    if (!check_text(option.key, entry)) return false;
    bool ok = true;
    for (const auto& item : items(entry.value)) {
      if (!item.IsScalar())
        ok = expected(item);
      else if (option.type == probe::OptionType::kDuration && !is_positive_duration(item.Scalar()))
        ok = expected(item);
    }
    return ok;
  }

  // Reports the scalars of a value that are not UTF-8 or hold a NUL. False when there is one.
  bool check_text(std::string_view key, const Entry& entry) {
    bool ok = true;
    for (const auto& item : items(entry.value)) {
      if (!item.IsScalar()) continue;
      if (std::string wanted = bad_text(item.Scalar()); !wanted.empty()) {
        error(where(entry, item), fmt::format("{}: expected {}, got {}", key, wanted, got(item)));
        ok = false;
      }
    }
    return ok;
  }

  // Validates the keys of a map against `section` (and, for checks, the check options).
  // Returns the fields that passed; reports unknown, repeated, ill-typed and missing keys.
  Fields check_map(const Entry& map, std::string_view section) {
    Fields fields;
    std::map<std::string, Position, std::less<>> seen;  // every key, even one with a bad value
    bool takes_options = section == kCheckSection || section == kReferenceSection;
    for (auto it = map.value.begin(); it != map.value.end() && !full(); ++it) {
      Entry entry{it->first, it->second, map.file};
      if (!entry.key.IsScalar()) {
        error(where_key(entry), fmt::format("expected a key name, got {}", got(entry.key)));
        continue;
      }
      const std::string& name = entry.key.Scalar();
      if (std::string wanted = bad_text(name); !wanted.empty()) {
        error(where_key(entry),
              fmt::format("expected a key name in {}, got {}", wanted, got(entry.key)));
        continue;
      }
      if (auto [first, added] = seen.emplace(name, where_key(entry)); !added) {
        error(where_key(entry),
              fmt::format("{}: set twice; first at line {}", name, first->second.line));
        continue;
      }
      bool ok = false;
      if (const SchemaKey* key = find_schema_key(section, name)) {
        ok = check_value(*key, entry);
      } else if (const probe::CheckOption* option = probe::find_check_option(name);
                 option != nullptr && takes_options) {
        ok = check_option(*option, entry);
      } else {
        unknown_key(entry, section, takes_options);
        continue;
      }
      if (ok) fields.emplace(name, entry);
    }
    for (const auto& key : config_schema()) {
      if (key.section == section && key.required && !seen.count(key.key))
        error(where(map), fmt::format("{}: required key is missing", key.key));
    }
    return fields;
  }

  void unknown_key(const Entry& entry, std::string_view section, bool takes_options) {
    std::vector<std::string_view> known;
    for (const auto& key : config_schema())
      if (key.section == section) known.push_back(key.key);
    if (takes_options)
      for (const auto& option : probe::check_options()) known.push_back(option.key);
    std::string where_in = section.empty() ? "at the top level" : fmt::format("in {}", section);
    std::string message = fmt::format("{}: unknown key {}", entry.key.Scalar(), where_in);
    if (std::string suggestion = closest(entry.key.Scalar(), known); !suggestion.empty())
      message += fmt::format("; did you mean `{}`?", suggestion);
    error(where_key(entry), std::move(message));
  }

  // ---- Phase 2: build the model from what passed, checking what spans sections.

  static const Entry* find(const Fields& fields, std::string_view key) {
    auto it = fields.find(key);
    return it == fields.end() ? nullptr : &it->second;
  }

  // A validated scalar, or the schema's default when it is not set.
  static std::string text(const Fields& fields, std::string_view section, std::string_view key) {
    if (const Entry* entry = find(fields, key)) return entry->value.Scalar();
    return std::string(find_schema_key(section, key)->default_text);
  }
  static DurationUs duration(const Fields& fields, std::string_view section, std::string_view key) {
    return parse_duration(text(fields, section, key)).value();
  }
  static int integer(const Fields& fields, std::string_view section, std::string_view key) {
    int value = 0;
    parse_int(text(fields, section, key), value);
    return value;
  }

  Fields section_fields(const std::optional<Entry>& entry, std::string_view section) {
    if (!entry || !entry->value.IsMap()) return {};
    return check_map(*entry, section);
  }

  Fields nested(const Fields& fields, std::string_view key, std::string_view section) {
    const Entry* entry = find(fields, key);
    return entry ? section_fields(*entry, section) : Fields{};
  }

  // Checks that every id in a list names a known location; returns the ids.
  std::vector<std::string> location_ids(const Entry& entry) {
    std::vector<std::string> ids;
    auto list = items(entry.value);
    if (list.empty())
      error(where(entry), fmt::format("{}: expected at least one location", entry.key.Scalar()));
    for (const auto& item : list) {
      const std::string& id = item.Scalar();
      if (!location_at_.count(id)) {
        std::vector<std::string_view> known;
        for (const auto& [name, at] : location_at_) known.push_back(name);
        std::string hint = closest(id, known);
        error(where(entry, item),
              fmt::format("{}: unknown location {}; {}", entry.key.Scalar(), in_quotes(id),
                          hint.empty() ? "define it under `locations`"
                                       : fmt::format("did you mean `{}`?", hint)));
      } else if (std::find(ids.begin(), ids.end(), id) != ids.end()) {
        error(where(entry, item),
              fmt::format("{}: {} listed twice", entry.key.Scalar(), in_quotes(id)));
      }
      ids.push_back(id);
    }
    return ids;
  }

  // Builds the model section by section, in the table's order, from what passed.
  Config build() {
    Config config;
    config.files = files_;
    for (const auto& section : kSections) (this->*section.build)(config);
    return config;
  }

  // The one entry of a map section, if a file set it.
  std::optional<Entry> map_section(std::string_view name) {
    auto it = sections_.find(name);
    if (it == sections_.end() || it->second.empty()) return std::nullopt;
    return it->second[0];
  }

  void build_server(Config& config) {
    Fields server = section_fields(map_section("server"), "server");
    config.server.listen = text(server, "server", "listen");
    config.server.store = text(server, "server", "store");
    config.server.location = text(server, "server", "location");
    config.server.max_concurrent_per_host = integer(server, "server", "max_concurrent_per_host");
    config.server.max_connections = integer(server, "server", "max_connections");
    if (const Entry* tokens = find(server, "api_tokens"))
      for (const auto& item : items(tokens->value))
        build_api_token(config, Entry{tokens->key, item, tokens->file});
    build_tls(config, server);
    Fields retention = nested(server, "retention", "server.retention");
    config.server.raw_retention_us = duration(retention, "server.retention", "raw");
    config.server.rollup_retention_us = duration(retention, "server.retention", "rollups");
  }

  // server.tls: the files are named relative to the file that names them, as includes are.
  void build_tls(Config& config, const Fields& server) {
    const Entry* tls = find(server, "tls");
    if (!tls) return;
    Fields fields = nested(server, "tls", "server.tls");
    auto path = [&](std::string_view key) -> std::string {
      const Entry* entry = find(fields, key);
      if (!entry) return "";
      std::filesystem::path p(entry->value.Scalar());
      if (p.is_relative()) p = std::filesystem::path(files_[entry->file]).parent_path() / p;
      return p.lexically_normal().string();
    };
    config.server.tls_cert_file = path("cert_file");
    config.server.tls_key_file = path("key_file");
  }

  // REQUIRES: build_locations has run (the defaults name locations).
  void build_defaults(Config& config) {
    Fields defaults = section_fields(map_section(kDefaultsSection), kDefaultsSection);
    config.defaults.interval_us = duration(defaults, kDefaultsSection, "interval");
    config.defaults.timeout_us = duration(defaults, kDefaultsSection, "timeout");
    if (const Entry* locations = find(defaults, "locations"))
      config.defaults.locations = location_ids(*locations);
    else
      config.defaults.locations = {config.server.location};
    if (config.defaults.interval_us < config.defaults.timeout_us) {
      const Entry* at = find(defaults, "interval");
      if (!at) at = find(defaults, "timeout");
      if (at)
        error(where(*at), fmt::format("interval: {} is shorter than the timeout {}",
                                      format_duration(config.defaults.interval_us),
                                      format_duration(config.defaults.timeout_us)));
    }
  }

  void build_services(Config& config) {
    std::map<std::string, Position, std::less<>> service_at;
    for (const auto& item : sections_["services"]) {
      if (full()) break;
      if (!item.value.IsMap()) {
        error(where(item),
              fmt::format("services: expected a map of keys, got {}", got(item.value)));
        continue;
      }
      Fields fields = check_map(item, "services");
      Service service;
      if (const Entry* id = find(fields, "id")) {
        service.id = id->value.Scalar();
        if (auto [it, added] = service_at.emplace(service.id, where(*id)); !added)
          error(where(*id), fmt::format("id: duplicate service id {}; first defined at {}",
                                        in_quotes(service.id), place(it->second)));
      }
      service.name = find(fields, "name") ? text(fields, "services", "name") : service.id;
      service.owner = text(fields, "services", "owner");
      service.tier = integer(fields, "services", "tier");
      std::map<std::string, Position, std::less<>> check_at;
      if (const Entry* checks = find(fields, "checks")) {
        for (const auto& check : items(checks->value)) {
          if (full()) break;
          build_check(config, &service, Entry{checks->key, check, checks->file}, check_at);
        }
      }
      if (const Entry* slos = find(fields, "slos")) {
        for (const auto& slo : items(slos->value)) {
          if (full()) break;
          build_slo(service, Entry{slos->key, slo, slos->file});
        }
      }
      build_gate(service, nested(fields, "gate", "services.gate"));
      config.services.push_back(std::move(service));
    }
  }

  // One of server.api_tokens. The hash is never quoted back: it may be a token pasted by mistake.
  void build_api_token(Config& config, const Entry& item) {
    if (!item.value.IsMap()) {
      error(where(item),
            fmt::format("api_tokens: expected a map of keys, got {}", got(item.value)));
      return;
    }
    Fields fields = check_map(item, "server.api_tokens");
    const Entry* name = find(fields, "name");
    const Entry* hash = find(fields, "hash");
    if (!name || !hash) return;
    ApiToken token{name->value.Scalar(), {}};
    if (!parse_token_hash(hash->value.Scalar(), token.sha256)) {
      error(where(*hash), fmt::format("hash: {}", kTokenHashText));
      return;
    }
    for (const auto& other : config.server.api_tokens) {
      if (other.name == token.name) {
        error(where(*name), fmt::format("name: token {} is defined twice", in_quotes(token.name)));
        return;
      }
    }
    config.server.api_tokens.push_back(std::move(token));
  }

  void build_locations(Config& config) {
    const std::string& own = config.server.location;
    for (const auto& item : sections_["locations"]) {
      if (full()) break;
      if (!item.value.IsMap()) {
        error(where(item),
              fmt::format("locations: expected a map of keys, got {}", got(item.value)));
        continue;
      }
      Fields fields = check_map(item, "locations");
      const Entry* id = find(fields, "id");
      if (!id) continue;
      Location location{id->value.Scalar(), text(fields, "locations", "region"),
                        text(fields, "locations", "isp"), ""};
      if (auto [it, added] = location_at_.emplace(location.id, where(*id)); !added) {
        error(where(*id), fmt::format("id: duplicate location id {}; first defined at {}",
                                      in_quotes(location.id), place(it->second)));
        continue;
      }
      location.kind = location.id == own ? "local" : "agent";
      if (const Entry* kind = find(fields, "kind")) {
        if (location.id == own && kind->value.Scalar() != "local")
          error(where(*kind), fmt::format("kind: {} is this daemon's own location "
                                          "(server.location), so its kind must be local",
                                          in_quotes(own)));
        location.kind = kind->value.Scalar();
      }
      build_location_token(location, fields);
      config.locations.push_back(std::move(location));
    }
    if (!location_at_.count(own)) {
      location_at_.emplace(own, Position{});
      config.locations.insert(config.locations.begin(), Location{own, "", "", "local"});
    }
  }

  void build_references(Config& config) {
    std::map<std::string, Position, std::less<>> reference_at;
    for (const auto& item : sections_["references"]) {
      if (full()) break;
      build_check(config, nullptr, item, reference_at);
    }
  }

  void build_incidents(Config& config) {
    constexpr std::string_view kSection = "incidents";
    Fields fields = section_fields(map_section(kSection), kSection);
    IncidentSettings& settings = config.incidents;
    settings.confirm = integer(fields, kSection, "confirm");
    settings.recover = integer(fields, kSection, "recover");
    settings.silent_after_intervals = integer(fields, kSection, "silent_after");
    settings.change_window_us = duration(fields, kSection, "change_window");
    settings.reopen_within_us = duration(fields, kSection, "reopen_within");
    const std::string down_when = text(fields, kSection, "down_when");
    if (!parse_down_when(down_when, settings.down_when)) {
      error(where(*find(fields, "down_when")),
            fmt::format("down_when: expected a number of networks like 2, or a share like 50% or "
                        "0.5 (above 0, below 1), got {}",
                        in_quotes(down_when)));
    }
  }

  // One of `maintenance:`. REQUIRES: build_services has run (a window names services).
  void build_maintenance(Config& config) {
    for (const auto& item : sections_["maintenance"]) {
      if (full()) break;
      if (!item.value.IsMap()) {
        error(where(item),
              fmt::format("maintenance: expected a map of keys, got {}", got(item.value)));
        continue;
      }
      Fields fields = check_map(item, "maintenance");
      // Each key is checked on its own, so that one wrong key does not hide another's error.
      auto time = [&](std::string_view key) -> std::optional<TimeUs> {
        const Entry* entry = find(fields, key);
        if (!entry) return std::nullopt;
        return parse_rfc3339_offset(entry->value.Scalar());
      };
      const auto start = time("start"), end = time("end"), announced = time("announced");
      Maintenance window{start.value_or(0),
                         end.value_or(0),
                         {},
                         announced.value_or(0),
                         text(fields, "maintenance", "description")};
      bool ok = start && end && announced && find(fields, "services");
      if (start && end && *end <= *start) {
        error(where(*find(fields, "end")),
              fmt::format("end: {} is not after start {}", find(fields, "end")->value.Scalar(),
                          find(fields, "start")->value.Scalar()));
        ok = false;
      }
      std::vector<std::string_view> known;
      for (const auto& service : config.services) known.push_back(service.id);
      const Entry* services = find(fields, "services");
      for (const auto& node : services ? items(services->value) : std::vector<YAML::Node>{}) {
        const std::string& id = node.Scalar();
        if (std::find(known.begin(), known.end(), id) == known.end()) {
          std::string hint = closest(id, known);
          error(where(*services, node),
                fmt::format("services: unknown service {}{}", in_quotes(id),
                            hint.empty() ? "" : fmt::format("; did you mean `{}`?", hint)));
          ok = false;
        } else if (std::find(window.services.begin(), window.services.end(), id) !=
                   window.services.end()) {
          error(where(*services, node), fmt::format("services: {} listed twice", in_quotes(id)));
          ok = false;
        }
        window.services.push_back(id);
      }
      if (services && window.services.empty()) {
        error(where(*services), "services: expected at least one service");
        ok = false;
      }
      if (ok) config.maintenance.push_back(std::move(window));
    }
  }

  // An agent location's `token` or `token_file` (a file holding the same text, read as includes
  // are, relative to the file that names it).
  void build_location_token(Location& location, const Fields& fields) {
    const Entry* token = find(fields, "token");
    const Entry* file = find(fields, "token_file");
    if (!token && !file) return;
    const Entry& at = token ? *token : *file;
    if (token && file) {
      error(where_key(*file), "token_file: set only one of token and token_file");
      return;
    }
    if (location.kind != "agent") {
      error(where_key(at), fmt::format("{}: only an agent location takes a token; {} is {}",
                                       at.key.Scalar(), in_quotes(location.id), location.kind));
      return;
    }
    std::string text = at.value.Scalar();
    if (file) {
      std::filesystem::path path(text);
      if (path.is_relative()) path = std::filesystem::path(files_[file->file]).parent_path() / path;
      auto content = read_(path.lexically_normal().string());
      if (!content) {
        error(where(*file), fmt::format("token_file: cannot read {}: {}", in_quotes(path.string()),
                                        content.error().message));
        return;
      }
      text = *content;
      while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back())))
        text.pop_back();
    }
    std::array<unsigned char, 32> hash{};
    if (!parse_token_hash(text, hash)) {
      error(where(at), fmt::format("{}: {}{}", at.key.Scalar(),
                                   file ? "the file holds no token hash; " : "", kTokenHashText));
      return;
    }
    location.token_sha256 = hash;
  }

  // One check of `service`, or with none, one of the reference targets.
  void build_check(Config& config, Service* service, const Entry& item,
                   std::map<std::string, Position, std::less<>>& check_at) {
    const std::string_view section = service ? kCheckSection : kReferenceSection;
    if (!item.value.IsMap()) {
      error(where(item), fmt::format("{}: expected a map of keys, got {}",
                                     service ? "checks" : "references", got(item.value)));
      return;
    }
    Fields fields = check_map(item, section);
    Check check;
    if (service) check.service_id = service->id;
    if (const Entry* name = find(fields, "name")) {
      check.name = name->value.Scalar();
      if (auto [it, added] = check_at.emplace(check.name, where(*name)); !added)
        error(where(*name), fmt::format("name: duplicate {} {}{}; first defined at {}",
                                        service ? "check" : "reference", in_quotes(check.name),
                                        service ? " in service " + in_quotes(service->id) : "",
                                        place(it->second)));
    }
    check.id = service ? fmt::format("{}/{}", service->id, check.name)
                       : fmt::format("reference:{}", check.name);

    bool have_target = false;
    if (const Entry* target = find(fields, "target")) {
      auto spec = probe::parse_target(target->value.Scalar());
      if (spec) {
        check.spec = std::move(*spec);
        have_target = true;
      }
    }
    check.spec.timeout_us = config.defaults.timeout_us;
    if (have_target) apply_options(check.spec, fields);

    const Entry* interval = find(fields, "interval");
    check.interval_us =
        interval ? duration(fields, section, "interval") : config.defaults.interval_us;
    const Entry* timeout = find(fields, "timeout");
    if (check.interval_us < check.spec.timeout_us && (interval || timeout)) {
      std::string interval_text = format_duration(check.interval_us);
      std::string timeout_text = format_duration(check.spec.timeout_us);
      if (interval)
        error(where(*interval), fmt::format("interval: {} is shorter than the timeout {}",
                                            interval_text, timeout_text));
      else
        error(where(*timeout), fmt::format("timeout: {} is longer than the interval {}",
                                           timeout_text, interval_text));
    }

    if (const Entry* locations = find(fields, "locations")) {
      check.locations = location_ids(*locations);
    } else if (service) {
      check.locations = config.defaults.locations;
    } else {
      for (const auto& location : config.locations) check.locations.push_back(location.id);
    }
    if (service)
      service->checks.push_back(std::move(check));
    else
      config.references.push_back(std::move(check));
  }

  // A service's gate policy; its keys' values were checked against the schema.
  void build_gate(Service& service, const Fields& fields) {
    constexpr std::string_view kSection = "services.gate";
    GatePolicy& gate = service.gate;
    gate.hold_on_page = text(fields, kSection, "hold_on_page") == "true";
    gate.hold_while_incident = text(fields, kSection, "hold_while_incident") == "true";
    const std::string share = text(fields, kSection, "min_budget_remaining");
    DownWhen parsed;
    if (parse_down_when(share, parsed) && !parsed.is_count) {
      gate.min_budget_remaining = parsed.fraction;
    } else if (share == "0" || share == "0%") {
      gate.min_budget_remaining = 0;
    } else {
      error(where(*find(fields, "min_budget_remaining")),
            fmt::format("min_budget_remaining: expected a share of the budget like 10% or 0.1 "
                        "(0 to below 100%), got {}",
                        in_quotes(share)));
    }
  }

  // ---- Contracts (contracts:; the vocabulary is src/sla/contract.h). REQUIRES: services built.

  void build_contracts(Config& config) {
    std::map<std::string, Position, std::less<>> contract_at;
    for (const auto& item : sections_["contracts"]) {
      if (full()) break;
      if (!item.value.IsMap()) {
        error(where(item),
              fmt::format("contracts: expected a map of keys, got {}", got(item.value)));
        continue;
      }
      if (auto contract = build_contract(config, item)) {
        if (auto [it, added] = contract_at.emplace(contract->id, where(item)); !added)
          error(where(item), fmt::format("id: duplicate contract id {}; first defined at {}",
                                         in_quotes(contract->id), place(it->second)));
        else
          config.contracts.push_back(std::move(*contract));
      }
    }
  }

  // Reads a percentage field; false (and reported) when it is not one.
  bool percentage(const Fields& fields, std::string_view key, std::optional<sla::Percentage>& out) {
    const Entry* entry = find(fields, key);
    if (entry == nullptr) return true;
    auto parsed = sla::parse_percentage(entry->value.Scalar());
    if (!parsed) {
      error(where(*entry), fmt::format("{}: {}", key, parsed.error().message));
      return false;
    }
    out = *parsed;
    return true;
  }

  // Reads an amount in major units of `currency`; false (and reported) when it is not one.
  bool amount(const Fields& fields, std::string_view key,
              const std::optional<sla::Currency>& currency, std::int64_t& out) {
    const Entry* entry = find(fields, key);
    if (entry == nullptr || !currency) return true;
    auto parsed = sla::parse_money(entry->value.Scalar(), *currency);
    if (!parsed) {
      error(where(*entry), fmt::format("{}: {}", key, parsed.error().message));
      return false;
    }
    out = parsed->minor_units;
    return true;
  }

  static std::vector<std::string> strings(const Fields& fields, std::string_view key) {
    std::vector<std::string> out;
    if (const Entry* entry = find(fields, key))
      for (const auto& item : items(entry->value)) out.push_back(item.Scalar());
    return out;
  }

  // "09:00" as minutes since midnight, 0 to 1440.
  static std::optional<int> clock_minutes(std::string_view text) {
    int h = 0, m = 0;
    if (text.size() != 5 || text[2] != ':') return std::nullopt;
    if (!parse_int(text.substr(0, 2), h) || !parse_int(text.substr(3, 2), m)) return std::nullopt;
    if (h < 0 || m < 0 || m > 59 || h > 24 || (h == 24 && m != 0)) return std::nullopt;
    return h * 60 + m;
  }

  std::optional<sla::Contract> build_contract(const Config& config, const Entry& item) {
    constexpr std::string_view kSection = "contracts";
    Fields fields = check_map(item, kSection);
    bool ok = find(fields, "id") && find(fields, "customer") && find(fields, "services") &&
              find(fields, "fee") && find(fields, "currency") && find(fields, "target");
    auto fault = [&](const Entry& at, std::string message) {
      error(where(at), std::move(message));
      ok = false;
    };
    sla::Contract c;
    c.id = text(fields, kSection, "id");
    c.customer = text(fields, kSection, "customer");
    if (const Entry* services = find(fields, "services")) {
      std::vector<std::string_view> known;
      for (const auto& s : config.services) known.push_back(s.id);
      for (const auto& node : items(services->value)) {
        const std::string& id = node.Scalar();
        Entry at{services->key, node, services->file};
        if (std::find(known.begin(), known.end(), id) == known.end()) {
          std::string hint = closest(id, known);
          fault(at, fmt::format("services: unknown service {}{}", in_quotes(id),
                                hint.empty() ? "" : fmt::format("; did you mean `{}`?", hint)));
        } else if (std::find(c.services.begin(), c.services.end(), id) != c.services.end()) {
          fault(at, fmt::format("services: {} listed twice", in_quotes(id)));
        }
        c.services.push_back(id);
      }
    }
    std::optional<sla::Currency> currency;
    if (const Entry* code = find(fields, "currency")) {
      auto found = sla::find_currency(code->value.Scalar());
      if (found)
        currency = *found;
      else
        fault(*code, fmt::format("currency: {}", found.error().message));
    }
    c.fee.currency = currency ? std::string(currency->code) : "";
    ok = amount(fields, "fee", currency, c.fee.minor_units) && ok;
    c.rounding = *sla::parse_rounding(text(fields, kSection, "rounding"));
    c.time_zone = text(fields, kSection, "time_zone");
    if (!known_time_zone(c.time_zone)) {
      if (const Entry* zone = find(fields, "time_zone"))
        fault(*zone, fmt::format("time_zone: unknown time zone {}; expected an IANA name like "
                                 "Asia/Seoul or UTC",
                                 in_quotes(c.time_zone)));
    }
    std::optional<sla::Percentage> target;
    ok = percentage(fields, "target", target) && ok;
    if (target) c.measurement.target = *target;
    std::optional<sla::Percentage> cap;
    ok = percentage(fields, "cap", cap) && ok;
    c.cap = cap;
    c.charge_in = text(fields, kSection, "charge_in") == "resolved_month"
                      ? sla::ChargeIn::kResolvedMonth
                      : sla::ChargeIn::kOpenedMonth;

    Fields measurement = nested(fields, "measurement", "contracts.measurement");
    auto m_text = [&](std::string_view key) {
      return text(measurement, "contracts.measurement", key);
    };
    c.measurement.degraded_counts = m_text("unavailable") == "down_or_degraded";
    c.measurement.partial_minutes_count = m_text("partial_minutes") == "count";
    c.measurement.only_existing_minutes = m_text("denominator") == "existing_minutes";
    ok = percentage(measurement, "min_locations", c.measurement.min_location_share) && ok;

    ok = build_business_hours(fields, c.business_hours) && ok;
    if (const Entry* grades = find(fields, "grades"))
      for (const auto& grade : items(grades->value))
        ok = build_grade(Entry{grades->key, grade, grades->file}, currency, c) && ok;
    if (const Entry* credits = find(fields, "credits"))
      for (const auto& tier : items(credits->value)) {
        Entry at{credits->key, tier, credits->file};
        if (!tier.IsMap()) {
          fault(at, fmt::format("credits: expected a map of keys, got {}", got(tier)));
          continue;
        }
        Fields t = check_map(at, "contracts.credits");
        std::optional<sla::Percentage> below, at_least, credit;
        bool tier_ok = percentage(t, "below", below) && percentage(t, "at_least", at_least) &&
                       percentage(t, "credit", credit) && below && credit;
        if (tier_ok)
          c.credits.push_back({*below, at_least.value_or(sla::Percentage{}), *credit});
        else
          ok = false;
      }

    Fields exclusions = nested(fields, "exclusions", "contracts.exclusions");
    c.exclusions.maintenance = text(exclusions, "contracts.exclusions", "maintenance") == "true";
    if (find(exclusions, "maintenance_notice"))
      c.exclusions.maintenance_notice_us =
          duration(exclusions, "contracts.exclusions", "maintenance_notice");
    c.exclusions.network = text(exclusions, "contracts.exclusions", "network") == "true";
    c.exclusions.customer_attributions = strings(exclusions, "customer");

    if (!ok) return std::nullopt;
    if (auto valid = sla::validate(c); !valid) {
      error(where(item), fmt::format("contract {}: {}", in_quotes(c.id), valid.error().message));
      return std::nullopt;
    }
    return c;
  }

  bool build_business_hours(const Fields& contract, sla::BusinessHours& hours) {
    constexpr std::string_view kSection = "contracts.business_hours";
    Fields fields = nested(contract, "business_hours", kSection);
    bool ok = true;
    static constexpr std::array<std::string_view, 7> kDays = {"sun", "mon", "tue", "wed",
                                                              "thu", "fri", "sat"};
    if (const Entry* days = find(fields, "days")) {
      hours.days.fill(false);
      for (const auto& node : items(days->value)) {
        auto day = std::find(kDays.begin(), kDays.end(), node.Scalar());
        if (day == kDays.end()) {
          error(where(*days, node), fmt::format("days: expected mon, tue, wed, thu, fri, sat or "
                                                "sun, got {}",
                                                got(node)));
          ok = false;
        } else {
          hours.days[static_cast<std::size_t>(day - kDays.begin())] = true;
        }
      }
    }
    bool times_ok = true;
    for (auto [key, out] : {std::pair{"start", &hours.start_minute}, {"end", &hours.end_minute}}) {
      std::string value = text(fields, kSection, key);
      if (auto minutes = clock_minutes(value)) {
        *out = *minutes;
      } else {
        error(where(*find(fields, key)),
              fmt::format("{}: expected a time of day like 09:00, got {}", key, in_quotes(value)));
        times_ok = ok = false;
      }
    }
    if (times_ok && hours.start_minute >= hours.end_minute) {
      const Entry* at = find(fields, "end") ? find(fields, "end") : find(fields, "start");
      error(where(*at), "end: expected a time after `start`");
      ok = false;
    }
    for (const auto& date : strings(fields, "holidays")) {
      if (date.size() != 10 || date[4] != '-' || date[7] != '-') {
        error(where(*find(fields, "holidays")),
              fmt::format("holidays: expected dates like 2026-10-09, got {}", in_quotes(date)));
        ok = false;
      }
      hours.holidays.push_back(date);
    }
    return ok;
  }

  bool build_grade(const Entry& item, const std::optional<sla::Currency>& currency,
                   sla::Contract& c) {
    constexpr std::string_view kSection = "contracts.grades";
    if (!item.value.IsMap()) {
      error(where(item), fmt::format("grades: expected a map of keys, got {}", got(item.value)));
      return false;
    }
    Fields fields = check_map(item, kSection);
    bool ok = find(fields, "name") != nullptr;
    sla::Grade g;
    g.name = text(fields, kSection, "name");
    ok = amount(fields, "penalty", currency, g.penalty_minor_units) && ok;
    ok = amount(fields, "missed_response", currency, g.missed_response_minor_units) && ok;
    ok = amount(fields, "missed_recovery", currency, g.missed_recovery_minor_units) && ok;
    if (find(fields, "respond_within"))
      g.respond_within_us = duration(fields, kSection, "respond_within");
    if (find(fields, "recover_within"))
      g.recover_within_us = duration(fields, kSection, "recover_within");
    if (const Entry* when = find(fields, "when")) {
      for (const auto& node : items(when->value)) {
        Entry at{when->key, node, when->file};
        if (!node.IsMap()) {
          error(where(at), fmt::format("when: expected a map of keys, got {}", got(node)));
          ok = false;
          continue;
        }
        constexpr std::string_view kRule = "contracts.grades.when";
        Fields r = check_map(at, kRule);
        sla::GradeRule rule;
        if (find(r, "min_duration")) rule.min_duration_us = duration(r, kRule, "min_duration");
        if (find(r, "max_duration")) rule.max_duration_us = duration(r, kRule, "max_duration");
        if (const Entry* outcome = find(r, "outcome"))
          rule.outcome =
              outcome->value.Scalar() == "down" ? sla::Outcome::kDown : sla::Outcome::kDegraded;
        ok = percentage(r, "min_locations", rule.min_location_share) && ok;
        ok = percentage(r, "min_checks", rule.min_check_share) && ok;
        rule.services = strings(r, "services");
        rule.checks = strings(r, "checks");
        rule.tags = strings(r, "tags");
        if (const Entry* hours = find(r, "business_hours"))
          rule.business_hours = hours->value.Scalar() == "true";
        g.rules.push_back(std::move(rule));
      }
    } else {
      g.rules.push_back(sla::GradeRule{});
    }
    if (ok) c.grades.push_back(std::move(g));
    return ok;
  }

  // ---- SLOs (slos: under a service; the vocabulary is src/slo/spec.h).

  // One of a service's slos. REQUIRES: the service's checks are built (an SLO names them).
  void build_slo(Service& service, const Entry& item) {
    constexpr std::string_view kSection = "services.slos";
    if (!item.value.IsMap()) {
      error(where(item), fmt::format("slos: expected a map of keys, got {}", got(item.value)));
      return;
    }
    Fields fields = check_map(item, kSection);
    bool ok = find(fields, "id") && find(fields, "sli") && find(fields, "objective");
    auto fault = [&](const Entry& at, std::string message) {
      error(where(at), std::move(message));
      ok = false;
    };
    slo::SloSpec spec;
    spec.service = service.id;
    if (const Entry* id = find(fields, "id")) {
      spec.id = id->value.Scalar();
      if (auto [it, added] = slo_at_.emplace(spec.id, where(*id)); !added)
        fault(*id, fmt::format("id: duplicate SLO id {}; first defined at {}", in_quotes(spec.id),
                               place(it->second)));
    }
    if (const Entry* sli = find(fields, "sli"))
      spec.sli = *slo::sli_from_string(sli->value.Scalar());
    if (const Entry* objective = find(fields, "objective")) {
      if (auto percent = slo::parse_percent(objective->value.Scalar()))
        spec.objective = *percent;
      else
        fault(*objective,
              fmt::format("objective: {}, got {}", percent.error().message, got(objective->value)));
    }

    const Entry* zone = find(fields, "time_zone");
    std::string window_text = text(fields, kSection, "window");
    if (auto window = slo::parse_window(window_text, text(fields, kSection, "time_zone"))) {
      spec.window = *window;
      if (zone && !window->calendar())
        fault(*zone, "time_zone: applies to `window: month` only; a rolling window has none");
    } else if (window_text == "month" && zone) {
      fault(*zone, fmt::format("time_zone: {}", window.error().message));
    } else if (const Entry* at = find(fields, "window")) {
      fault(*at, fmt::format("window: {}, got {}", window.error().message, got(at->value)));
    }

    spec.method = spec.sli == slo::Sli::kAvailabilityMinutes ? slo::Method::kTimeslices
                                                             : slo::Method::kOccurrences;
    if (const Entry* method = find(fields, "method")) {
      spec.method = *slo::method_from_string(method->value.Scalar());
      if (std::string wrong = slo::check_method(spec.sli, spec.method); !wrong.empty())
        fault(*method, fmt::format("method: {}", wrong));
    }
    bool sliced =
        spec.method == slo::Method::kTimeslices && spec.sli != slo::Sli::kAvailabilityMinutes;
    if (const Entry* target = find(fields, "slice_target")) {
      if (!sliced)
        fault(*target, "slice_target: applies to method timeslices over runs only");
      else if (auto percent = slo::parse_percent(target->value.Scalar(), true))
        spec.slice_target = *percent;
      else
        fault(*target,
              fmt::format("slice_target: {}, got {}", percent.error().message, got(target->value)));
    } else if (sliced) {
      fault(item,
            "slice_target: required for method timeslices over runs (the percentage of "
            "good runs that makes a minute good)");
    }
    if (const Entry* threshold = find(fields, "threshold")) {
      spec.threshold_us = duration(fields, kSection, "threshold");
      if (spec.sli != slo::Sli::kLatency)
        fault(*threshold, "threshold: applies to sli latency only");
      else if (std::string wrong = slo::check_threshold(spec.threshold_us); !wrong.empty())
        fault(*threshold, fmt::format("threshold: {}", wrong));
    } else if (spec.sli == slo::Sli::kLatency && find(fields, "sli")) {
      fault(item, "threshold: required for sli latency (a run this fast or faster is good)");
    }

    spec.network_spends_budget = text(fields, kSection, "network_spends_budget") == "true";
    if (const Entry* checks = find(fields, "checks")) {
      std::vector<std::string_view> names;
      for (const auto& check : service.checks) names.push_back(check.name);
      for (const auto& name_node : items(checks->value)) {
        const std::string& name = name_node.Scalar();
        std::string id = fmt::format("{}/{}", service.id, name);
        if (std::find(names.begin(), names.end(), name) == names.end()) {
          std::string hint = closest(name, names);
          fault(Entry{checks->key, name_node, checks->file},
                fmt::format("checks: service {} has no check {}{}", in_quotes(service.id),
                            in_quotes(name),
                            hint.empty() ? "" : fmt::format("; did you mean `{}`?", hint)));
        } else if (std::find(spec.checks.begin(), spec.checks.end(), id) != spec.checks.end()) {
          fault(Entry{checks->key, name_node, checks->file},
                fmt::format("checks: {} listed twice", in_quotes(name)));
        }
        spec.checks.push_back(id);
      }
    } else {
      for (const auto& check : service.checks) spec.checks.push_back(check.id);
      if (spec.checks.empty())
        fault(item, fmt::format("slos: service {} has no checks for the SLO to read",
                                in_quotes(service.id)));
    }

    spec.alerts = slo::default_burn_conditions();
    if (const Entry* alerts = find(fields, "alerts")) {
      spec.alerts.clear();
      for (const auto& condition : items(alerts->value))
        if (!build_burn_condition(spec, Entry{alerts->key, condition, alerts->file})) ok = false;
      if (spec.alerts.empty() && ok)
        fault(*alerts,
              "alerts: expected at least one condition; leave the key out for the "
              "defaults");
    }
    if (ok) service.slos.push_back(std::move(spec));
  }

  // One of an SLO's alerts; false when it is wrong (and reported).
  bool build_burn_condition(slo::SloSpec& spec, const Entry& item) {
    constexpr std::string_view kSection = "services.slos.alerts";
    if (!item.value.IsMap()) {
      error(where(item), fmt::format("alerts: expected a map of keys, got {}", got(item.value)));
      return false;
    }
    Fields fields = check_map(item, kSection);
    const Entry* severity = find(fields, "severity");
    const Entry* burn_rate = find(fields, "burn_rate");
    const Entry* long_window = find(fields, "long");
    const Entry* short_window = find(fields, "short");
    if (!severity || !burn_rate || !long_window || !short_window) return false;
    slo::BurnCondition condition{*slo::severity_from_string(severity->value.Scalar()), 0,
                                 duration(fields, kSection, "long"),
                                 duration(fields, kSection, "short")};
    const std::string& rate = burn_rate->value.Scalar();
    auto [end, ec] = std::from_chars(rate.data(), rate.data() + rate.size(), condition.burn_rate);
    if (ec != std::errc() || end != rate.data() + rate.size() || !(condition.burn_rate > 0) ||
        !std::isfinite(condition.burn_rate)) {
      error(where(*burn_rate),
            fmt::format("burn_rate: expected a number above 0, like 14.4, got {}",
                        got(burn_rate->value)));
      return false;
    }
    if (std::string wrong = slo::check_condition(condition); !wrong.empty()) {
      error(where(*long_window), fmt::format("alerts: {}", wrong));
      return false;
    }
    spec.alerts.push_back(condition);
    return true;
  }

  // Applies every check option set, in the table's order; reports options of another kind and
  // values the option rejects.
  void apply_options(probe::CheckSpec& spec, const Fields& fields) {
    for (const auto& option : probe::check_options()) {
      const Entry* entry = find(fields, option.key);
      if (!entry) continue;
      if (!probe::applies_to(option, spec.kind)) {
        error(where_key(*entry), fmt::format("{}: applies to {} checks, not {}", option.key,
                                             option.kinds, probe::to_string(spec.kind)));
        continue;
      }
      for (const auto& item : items(entry->value)) {
        if (Status status = probe::apply_option(spec, option, item.Scalar()); !status)
          error(where(*entry, item), status.error().message);
      }
    }
  }

  const FileReader& read_;
  std::vector<std::string> files_;
  std::vector<OpenFile> stack_;      // the chain of includes being read
  std::set<std::string> read_keys_;  // every file read, by key: each is read once
  std::size_t total_bytes_ = 0;      // of every file read
  std::vector<std::pair<Position, std::string>> errors_;
  // Each top-level section's entries, gathered from every file: a map section's one entry, or
  // a list section's items.
  std::map<std::string_view, std::vector<Entry>, std::less<>> sections_;
  std::map<std::string, Position, std::less<>> location_at_;  // where each location id is defined
  std::map<std::string, Position, std::less<>> slo_at_;       // where each SLO id is defined
};

const Loader::SectionRow Loader::kSections[8] = {
    {"server", false, &Loader::build_server},
    {"locations", true, &Loader::build_locations},
    {"defaults", false, &Loader::build_defaults},
    {"services", true, &Loader::build_services},
    {"references", true, &Loader::build_references},
    {"incidents", false, &Loader::build_incidents},
    {"contracts", true, &Loader::build_contracts},
    {"maintenance", true, &Loader::build_maintenance},
};

}  // namespace

LoadResult load_config_text(std::string_view text, const std::string& file_name,
                            const FileReader& read) {
  return Loader(read).load(text, file_name);
}

LoadResult load_config(const std::string& path, const FileReader& read) {
  auto text = read(path);
  if (!text) {
    LoadResult result;
    result.errors.push_back(ConfigError{path, 0, 0, "cannot read: " + text.error().message});
    return result;
  }
  return load_config_text(*text, path, read);
}

LoadResult load_contracts(const std::string& path, const Config& base, const FileReader& read) {
  auto text = read(path);
  if (!text) {
    LoadResult result;
    result.errors.push_back(ConfigError{path, 0, 0, "cannot read: " + text.error().message});
    return result;
  }
  return Loader(read).load_contracts(*text, path, base);
}

}  // namespace leeway::config
