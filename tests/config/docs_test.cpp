// The schema table itself, and docs/config.md against what `leeway config docs` prints, so the
// reference cannot drift from the parser.
#include "config/schema.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <set>

#include <fmt/format.h>

#include "config/config.h"
#include "probe/options.h"

namespace leeway::config {
namespace {

namespace fs = std::filesystem;

const fs::path kRepoDir = fs::path(LEEWAY_SOURCE_DIR);

TEST(ConfigDocs, CheckedInReferenceMatchesTheSchema) {
  auto checked_in = read_file((kRepoDir / "docs" / "config.md").string());
  ASSERT_TRUE(checked_in) << checked_in.error().message;
  EXPECT_EQ(*checked_in, reference_docs())
      << "docs/config.md is stale: run `leeway config docs > docs/config.md`";
}

TEST(ConfigDocs, EveryKeyAndCheckOptionIsDocumented) {
  std::string docs = reference_docs();
  for (const auto& key : config_schema())
    EXPECT_NE(docs.find(fmt::format("| `{}` |", key.key)), std::string::npos) << key.key;
  for (const auto& option : probe::check_options())
    EXPECT_NE(docs.find(fmt::format("| `{}` |", option.key)), std::string::npos) << option.key;
}

TEST(ConfigSchema, SectionsAreOpenedAndKeysAreUniqueSnakeCase) {
  std::set<std::string> sections = {""};
  std::set<std::pair<std::string, std::string>> keys;
  for (const auto& key : config_schema()) {
    EXPECT_TRUE(sections.count(std::string(key.section)))
        << key.key << ": section " << key.section << " has no row opening it above";
    if (key.type == ValueType::kMap || key.type == ValueType::kMapList)
      sections.insert(section_path(key));
    EXPECT_TRUE(keys.emplace(key.section, key.key).second) << key.section << "." << key.key;
    EXPECT_EQ(key.key.find_first_not_of("abcdefghijklmnopqrstuvwxyz_"), std::string_view::npos);
    EXPECT_FALSE(key.doc.empty()) << key.key;
    if (key.type == ValueType::kInt || key.type == ValueType::kChoice) {
      EXPECT_FALSE(key.allowed.empty()) << key.key;
    }
  }
  EXPECT_TRUE(sections.count(std::string(kCheckSection)));
  EXPECT_TRUE(sections.count(std::string(kDefaultsSection)));
}

// A check key in the schema would hide a check option of the same name.
TEST(ConfigSchema, CheckKeysAndCheckOptionsDoNotCollide) {
  for (const auto& key : config_schema()) {
    if (key.section == kCheckSection) {
      EXPECT_EQ(probe::find_check_option(key.key), nullptr) << key.key;
    }
  }
}

// Whatever `defaults` sets, a check can set for itself.
TEST(ConfigSchema, EveryDefaultIsACheckKey) {
  for (const auto& key : config_schema()) {
    if (key.section != kDefaultsSection) continue;
    bool in_check = find_schema_key(kCheckSection, key.key) != nullptr ||
                    probe::find_check_option(key.key) != nullptr;
    EXPECT_TRUE(in_check) << key.key;
  }
}

TEST(ConfigSchema, DescribesValuesForMessages) {
  EXPECT_EQ(describe(*find_schema_key(kDefaultsSection, "interval")), "a duration of at least 1s");
  EXPECT_EQ(describe(*find_schema_key("server.retention", "raw")), "a duration like 30s");
  EXPECT_EQ(describe(*find_schema_key("services", "tier")), "a whole number from 1 to 4");
  EXPECT_EQ(describe(*find_schema_key("locations", "kind")), "local or agent");
}

}  // namespace
}  // namespace leeway::config
