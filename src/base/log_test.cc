#include "base/log.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

namespace parley::log {
namespace {

class LogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = (std::filesystem::temp_directory_path() /
             ("parley_log_test_" + std::to_string(::getpid()) + ".log"))
                .string();
    std::filesystem::remove(path_);
  }
  void TearDown() override {
    ASSERT_TRUE(Configure(Options{}).ok());  // back to standard error for the other tests
    std::filesystem::remove(path_);
  }
  std::vector<std::string> Lines() {
    Flush();
    std::ifstream in(path_);
    std::vector<std::string> out;
    for (std::string line; std::getline(in, line);) out.push_back(line);
    return out;
  }
  std::string path_;
};

TEST_F(LogTest, JsonLinesCarryTimeLevelComponentMessageAndIdsEscaped) {
  ASSERT_TRUE(Configure({.format = Format::kJson, .level = Level::kInfo, .file = path_}).ok());
  Info("engine", "contact \"queued\"\n", {{"contact", uint64_t{42}}, {"agent", "ana b"}});
  Warn("api", std::string("bad \xff utf-8"), {{"request", 7}, {"secure", true}});
  const auto lines = Lines();
  ASSERT_EQ(lines.size(), 2u);
  const auto first = nlohmann::json::parse(lines[0], nullptr, false);
  ASSERT_FALSE(first.is_discarded()) << lines[0];
  EXPECT_EQ(first["level"], "info");
  EXPECT_EQ(first["component"], "engine");
  EXPECT_EQ(first["message"], "contact \"queued\"\n");
  EXPECT_EQ(first["contact"], 42);
  EXPECT_EQ(first["agent"], "ana b");
  // ISO 8601 in UTC with microseconds: 2026-12-03T10:00:00.123456Z.
  const std::string time = first["time"];
  ASSERT_EQ(time.size(), 27u) << time;
  EXPECT_EQ(time[10], 'T');
  EXPECT_EQ(time.back(), 'Z');
  const auto second = nlohmann::json::parse(lines[1], nullptr, false);
  ASSERT_FALSE(second.is_discarded()) << lines[1];
  EXPECT_EQ(second["level"], "warning");
  EXPECT_EQ(second["request"], 7);
  EXPECT_EQ(second["secure"], true);
}

TEST_F(LogTest, LevelFiltersLowerLevels) {
  ASSERT_TRUE(Configure({.format = Format::kText, .level = Level::kWarn, .file = path_}).ok());
  EXPECT_FALSE(Enabled(Level::kInfo));
  EXPECT_TRUE(Enabled(Level::kError));
  Info("serve", "not written");
  Debug("serve", "not written");
  Error("serve", "written", {{"contact", 3}, {"why", "two words"}});
  const auto lines = Lines();
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_NE(lines[0].find(" error serve: written contact=3 why=\"two words\""), std::string::npos)
      << lines[0];
}

TEST_F(LogTest, ParsesLevelsAndFormatsAndNamesTheChoices) {
  EXPECT_EQ(*ParseLevel("debug"), Level::kDebug);
  EXPECT_EQ(*ParseLevel("warn"), Level::kWarn);
  EXPECT_EQ(*ParseFormat("json"), Format::kJson);
  auto bad = ParseLevel("verbose");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message(), "log level 'verbose': expected debug, info, warn or error");
  EXPECT_FALSE(ParseFormat("xml").ok());
}

TEST_F(LogTest, AnUnwritableFileIsAnErrorAndKeepsTheLog) {
  std::ofstream(path_) << "a file, not a directory\n";
  const std::string below_a_file = path_ + "/parley.log";
  Status s = Configure({.file = below_a_file});
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.code(), StatusCode::kUnavailable);
  EXPECT_NE(s.message().find(below_a_file), std::string::npos);
}

}  // namespace
}  // namespace parley::log
