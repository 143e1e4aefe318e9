// Reads the incident tests' case files: blocks that start with `case <name>`, one directive per
// line (words, or "quoted text"), `#` comments. Each test interprets its own directives.
#pragma once

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace leeway::incident::testing {

struct Line {
  std::string where;  // "file:line", for failure messages
  std::vector<std::string> words;
};

struct Case {
  std::string name;
  std::string where;
  std::vector<Line> lines;
};

inline std::vector<std::string> split_words(const std::string& text, const std::string& where) {
  std::vector<std::string> words;
  std::size_t i = 0;
  while (i < text.size()) {
    if (text[i] == ' ' || text[i] == '\t') {
      ++i;
    } else if (text[i] == '"') {
      // Quoted text, where \" is a quote and \\ a backslash.
      std::string word;
      for (++i; i < text.size() && text[i] != '"'; ++i) {
        if (text[i] == '\\' && i + 1 < text.size()) ++i;
        word += text[i];
      }
      if (i == text.size()) throw std::runtime_error(where + ": unterminated quote");
      words.push_back(word);
      ++i;
    } else {
      std::size_t end = text.find_first_of(" \t", i);
      if (end == std::string::npos) end = text.size();
      words.push_back(text.substr(i, end - i));
      i = end;
    }
  }
  return words;
}

// Every case of every `*.cases` file under `dir` whose name starts with `prefix`, in file order.
inline std::vector<Case> read_cases(const std::filesystem::path& dir, const std::string& prefix) {
  std::vector<std::filesystem::path> files;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    const std::string name = entry.path().filename().string();
    if (entry.path().extension() == ".cases" && name.rfind(prefix, 0) == 0) {
      files.push_back(entry.path());
    }
  }
  std::sort(files.begin(), files.end());
  std::vector<Case> cases;
  for (const auto& file : files) {
    std::ifstream in(file);
    std::string text;
    int number = 0;
    while (std::getline(in, text)) {
      ++number;
      const std::string where = file.filename().string() + ":" + std::to_string(number);
      const std::size_t start = text.find_first_not_of(" \t");
      if (start == std::string::npos || text[start] == '#') continue;
      if (text.rfind("case ", 0) == 0) {
        cases.push_back({text.substr(5), where, {}});
        continue;
      }
      if (cases.empty()) throw std::runtime_error(where + ": a directive before any `case`");
      cases.back().lines.push_back({where, split_words(text, where)});
    }
  }
  return cases;
}

}  // namespace leeway::incident::testing
