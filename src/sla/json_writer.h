// JSON written straight into a string, in the layout nlohmann::json's dump(2) gives a tree
// (two-space indents, "key": value, [] and {} when empty): the JSON report is large (1.7 MiB
// for 1,000 incidents), and building a tree of maps for it cost ten times the writing.
// Callers write an object's keys in sorted order, as the tree's maps did; debug builds check it.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace leeway::sla::detail {

class JsonWriter {
 public:
  void begin_object();
  void end_object();
  void begin_array();
  void end_array();
  // The next member's key. REQUIRES: in an object, after the previous key in byte order.
  JsonWriter& key(std::string_view name);
  void value(std::string_view text);  // escaped as nlohmann escapes valid UTF-8
  void value(const char* text) { value(std::string_view(text)); }
  void value(const std::string& text) { value(std::string_view(text)); }
  void value(std::int64_t n);
  void value(int n) { value(static_cast<std::int64_t>(n)); }
  void value(std::uint64_t n);
  void value(bool b);
  void null();

  // The text, with a final newline. REQUIRES: every object and array ended.
  std::string finish();

 private:
  struct Level {
    bool object = false;
    bool empty = true;
    std::string last_key;  // checked in debug builds only
  };
  void before_value();  // the separator and indent of an array's item
  void separate(Level& level);
  void close(char bracket);
  void escaped(std::string_view text);  // quoted

  std::string out_;
  std::vector<Level> levels_;
};

}  // namespace leeway::sla::detail
