// The streaming JSON writer: separators, indents and nlohmann's escapes (\" \\ \b \f \n \r \t,
// other control characters as \u00xx; everything else, UTF-8 included, as it is).
#include "sla/json_writer.h"

#include <cassert>
#include <charconv>
#include <utility>

namespace leeway::sla::detail {

namespace {

bool needs_escape(unsigned char c) {
  return c < 0x20 || c == '"' || c == '\\';
}

}  // namespace

void JsonWriter::separate(Level& level) {
  out_ += level.empty ? "\n" : ",\n";
  level.empty = false;
  out_.append(2 * levels_.size(), ' ');
}

void JsonWriter::before_value() {
  if (!levels_.empty() && !levels_.back().object) separate(levels_.back());
}

void JsonWriter::begin_object() {
  before_value();
  out_ += '{';
  levels_.push_back({true});
}

void JsonWriter::begin_array() {
  before_value();
  out_ += '[';
  levels_.push_back({false});
}

void JsonWriter::close(char bracket) {
  const bool empty = levels_.back().empty;
  levels_.pop_back();
  if (!empty) {
    out_ += '\n';
    out_.append(2 * levels_.size(), ' ');
  }
  out_ += bracket;
}

void JsonWriter::end_object() {
  assert(!levels_.empty() && levels_.back().object);
  close('}');
}

void JsonWriter::end_array() {
  assert(!levels_.empty() && !levels_.back().object);
  close(']');
}

JsonWriter& JsonWriter::key(std::string_view name) {
  assert(!levels_.empty() && levels_.back().object);
  Level& level = levels_.back();
#ifndef NDEBUG
  assert(level.empty || level.last_key < name);
  level.last_key = name;
#endif
  separate(level);
  escaped(name);
  out_ += ": ";
  return *this;
}

void JsonWriter::value(std::string_view text) {
  before_value();
  escaped(text);
}

void JsonWriter::escaped(std::string_view text) {
  out_ += '"';
  std::size_t run = 0;  // start of the bytes not written yet
  for (std::size_t i = 0; i < text.size(); ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (!needs_escape(c)) continue;
    out_.append(text, run, i - run);
    run = i + 1;
    switch (c) {
      case '"':
        out_ += "\\\"";
        break;
      case '\\':
        out_ += "\\\\";
        break;
      case '\b':
        out_ += "\\b";
        break;
      case '\f':
        out_ += "\\f";
        break;
      case '\n':
        out_ += "\\n";
        break;
      case '\r':
        out_ += "\\r";
        break;
      case '\t':
        out_ += "\\t";
        break;
      default: {
        static constexpr char kHex[] = "0123456789abcdef";
        out_ += "\\u00";
        out_ += kHex[c >> 4];
        out_ += kHex[c & 0xf];
      }
    }
  }
  out_.append(text, run, text.size() - run);
  out_ += '"';
}

void JsonWriter::value(std::int64_t n) {
  before_value();
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, n);
  out_.append(buf, end);
}

void JsonWriter::value(std::uint64_t n) {
  before_value();
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, n);
  out_.append(buf, end);
}

void JsonWriter::value(bool b) {
  before_value();
  out_ += b ? "true" : "false";
}

void JsonWriter::null() {
  before_value();
  out_ += "null";
}

std::string JsonWriter::finish() {
  assert(levels_.empty());
  out_ += '\n';
  return std::move(out_);
}

}  // namespace leeway::sla::detail
