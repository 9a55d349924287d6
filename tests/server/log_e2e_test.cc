// End-to-end test of the structured log of `parley serve` (docs/operations.md, "Logs").

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "tests/server/server_process.h"

namespace parley::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using json = nlohmann::json;

TEST(LogE2eTest, JsonLogIsOneObjectPerLineWithTimeLevelComponentMessageAndRequestIds) {
  TempDir tmp;
  const std::string log_file = tmp.path() + "/parley.log";
  ServerProcess server(tmp.path() + "/data",
                       {"--config", std::string(PARLEY_SOURCE_DIR) + "/tests/data/server.yaml",
                        "--log-format", "json", "--log-level", "debug", "--log-file", log_file});
  ASSERT_TRUE(server.started()) << server.output();
  const int port = server.port();
  const std::string admin = Login(port, "admin");
  ASSERT_FALSE(admin.empty());
  EXPECT_EQ(Http(port, "GET", "/api/v1/agents", "", admin).status, 200);
  EXPECT_EQ(Http(port, "GET", "/api/v1/contacts/999999", "", admin).status, 404);
  ASSERT_EQ(server.Terminate(), 0) << server.output();
  // The banner stays on stdout; the log went to the file only.
  EXPECT_THAT(server.output(), HasSubstr("listening on http://"));
  EXPECT_THAT(server.output(), Not(HasSubstr(R"({"time":)")));

  std::ifstream in(log_file);
  std::vector<json> lines;
  for (std::string line; std::getline(in, line);) {
    json j = json::parse(line, nullptr, false);
    ASSERT_TRUE(j.is_object()) << "not a JSON object: " << line;
    for (const char* key : {"time", "level", "component", "message"}) {
      ASSERT_TRUE(j.contains(key) && j[key].is_string()) << key << " missing in " << line;
    }
    EXPECT_THAT(line, Not(HasSubstr(kTestPassword)));  // no secrets
    EXPECT_THAT(line, Not(HasSubstr("parley_session=")));
    lines.push_back(std::move(j));
  }
  ASSERT_GE(lines.size(), 4u);
  const auto find = [&](const std::string& component, const std::string& message) -> const json* {
    for (const json& j : lines) {
      if (j["component"] == component && j["message"] == message) return &j;
    }
    return nullptr;
  };
  const json* listening = find("serve", "listening");
  ASSERT_NE(listening, nullptr);
  EXPECT_EQ(listening->value("url", ""), "http://127.0.0.1:" + std::to_string(port));
  EXPECT_EQ(listening->value("level", ""), "info");
  ASSERT_NE(find("serve", "stopped cleanly"), nullptr);
  const json* engine = find("engine", "started");
  ASSERT_NE(engine, nullptr);
  EXPECT_TRUE(engine->contains("last_seq"));
  // Every answered request at debug level, with its own id, route, status and user.
  std::vector<uint64_t> ids;
  bool saw_404 = false;
  for (const json& j : lines) {
    if (j["component"] != "api") continue;
    ASSERT_TRUE(j.contains("request") && j["request"].is_number_unsigned()) << j.dump();
    ids.push_back(j["request"].get<uint64_t>());
    if (j.value("status", 0) == 404) {
      saw_404 = true;
      EXPECT_EQ(j.value("route", ""), "GET /api/v1/contacts/{id}");
      EXPECT_EQ(j.value("user", ""), "admin");
    }
  }
  EXPECT_GE(ids.size(), 3u);  // login, agents, the unknown contact
  EXPECT_TRUE(saw_404);
  std::sort(ids.begin(), ids.end());
  EXPECT_EQ(std::adjacent_find(ids.begin(), ids.end()), ids.end()) << "request ids repeat";
}

TEST(LogE2eTest, TextLogByDefaultOnStandardErrorAndBadLogOptionsRefused) {
  {
    TempDir tmp;
    ServerProcess server(tmp.path() + "/data",
                         {"--config", std::string(PARLEY_SOURCE_DIR) + "/tests/data/server.yaml"});
    ASSERT_TRUE(server.started()) << server.output();
    ASSERT_EQ(server.Terminate(), 0);
    // ServerProcess reads standard error with standard output.
    EXPECT_THAT(server.output(), HasSubstr(" info serve: listening url=http://127.0.0.1:"));
    EXPECT_THAT(server.output(), HasSubstr(" info serve: stopped cleanly"));
  }
  auto bad = RunParley({"serve", "--log-level", "verbose"});
  EXPECT_NE(bad.exit_code, 0);
  EXPECT_THAT(bad.err + bad.out, HasSubstr("--log-level"));
  TempDir tmp;
  const std::string dir = tmp.path() + "/nested-file";
  std::ofstream(dir) << "a file where a directory should be\n";
  auto unwritable = RunParley({"serve", "--http", "127.0.0.1:0", "--data", tmp.path() + "/data",
                               "--log-file", dir + "/parley.log"});
  EXPECT_EQ(unwritable.exit_code, 1);
  EXPECT_THAT(unwritable.err, HasSubstr("not started: log file " + dir + "/parley.log"));
}

}  // namespace
}  // namespace parley::testing
