// End-to-end tests of administration over the API against the real `parley serve`: the
// configuration is edited through /api/v1/config (the path `parley config apply` takes, into the
// data directory's store) and the running engine picks the new version up.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "tests/server/server_process.h"

namespace parley::testing {
namespace {

using ::testing::HasSubstr;
using json = nlohmann::json;

const std::string kConfig = std::string(PARLEY_SOURCE_DIR) + "/tests/data/server.yaml";

class AdminTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_ = std::make_unique<ServerProcess>(tmp_.path() + "/data",
                                              std::vector<std::string>{"--config", kConfig});
    ASSERT_TRUE(server_->started()) << server_->output();
    port_ = server_->port();
    admin_ = Login(port_, "admin");
    ASSERT_FALSE(admin_.empty());
  }
  json Call(const std::string& method, const std::string& target, const std::string& body,
            int expected, const std::string& cookie = "") {
    auto r = Http(port_, method, target, body, cookie.empty() ? admin_ : cookie);
    EXPECT_EQ(r.status, expected) << method << " " << target << ": " << r.body;
    auto j = json::parse(r.body, nullptr, false);
    return j.is_discarded() ? json() : j;
  }
  json Queue(const std::string& name) {
    const json queues = Call("GET", "/api/v1/queues", "", 200);
    for (const auto& q : queues["queues"]) {
      if (q["name"] == name) return q;
    }
    return json();
  }
  TempDir tmp_;
  std::unique_ptr<ServerProcess> server_;
  int port_ = 0;
  std::string admin_;
};

TEST_F(AdminTest, QueueEditedOverTheApiRunsAtOnceAndIsTheStoredConfiguration) {
  const json current = Call("GET", "/api/v1/config", "", 200);
  ASSERT_EQ(current["version"], 1);
  EXPECT_THAT(current["yaml"].get<std::string>(), HasSubstr("support"));
  EXPECT_EQ(Queue("support")["sl_target"], 0.8);

  const json edited =
      Call("PUT", "/api/v1/config/queues/support",
           R"({"version":1,"service_level":{"target":0.9,"seconds":"30s"},"priority":3,)"
           R"("escalation":[{"after":"1m","priority_boost":5}]})",
           200);
  EXPECT_EQ(edited["version"], 2);
  EXPECT_EQ(edited["applied"], true);
  EXPECT_EQ(edited["changes"], json::parse(R"([{"section":"queues","item":"support",
                                               "change":"changed"}])"));
  ASSERT_TRUE(server_->WaitForOutput("configuration: now running version 2"));
  const json queue = Queue("support");
  EXPECT_EQ(queue["sl_target"], 0.9);
  EXPECT_EQ(queue["sl_target_seconds"], 30);
  EXPECT_EQ(queue["priority"], 3);
  const json settings = Call("GET", "/api/v1/config/queues/support", "", 200);
  EXPECT_EQ(settings["version"], 2);
  EXPECT_EQ(settings["service_level"]["seconds"], 30);
  EXPECT_EQ(settings["escalation"][0]["after"], 60);
  EXPECT_EQ(settings["escalation"][0]["priority_boost"], 5);
  EXPECT_EQ(settings["wrap_up"], 300);  // untouched fields keep their values

  // The same store `parley config export` reads, with who applied it.
  const ProcessResult exported = RunParley({"config", "export", "--data", tmp_.path() + "/data"});
  EXPECT_EQ(exported.exit_code, 0) << exported.err;
  EXPECT_THAT(exported.out, HasSubstr("version 2, applied by admin"));
  const json history = Call("GET", "/api/v1/config/history", "", 200);
  ASSERT_EQ(history["versions"].size(), 2u);
  EXPECT_EQ(history["versions"][0]["version"], 2);
  EXPECT_EQ(history["versions"][0]["applied_by"], "admin");
}

TEST_F(AdminTest, InvalidConfigurationIsRefusedWithLineNumbersAndChangesNothing) {
  const json current = Call("GET", "/api/v1/config", "", 200);
  std::string yaml = current["yaml"];
  const std::string good = "strategy: longest-idle";
  const size_t at = yaml.find(good);
  ASSERT_NE(at, std::string::npos) << yaml;
  const int line = 1 + static_cast<int>(std::count(yaml.begin(), yaml.begin() + at, '\n'));
  yaml.replace(at, good.size(), "strategy: fastest");
  const json refused =
      Call("PUT", "/api/v1/config", json{{"yaml", yaml}, {"version", 1}}.dump(), 422);
  ASSERT_EQ(refused["error"]["code"], "invalid_configuration");
  const json problem = refused["error"]["problems"][0];
  EXPECT_EQ(problem["line"], line);
  EXPECT_GT(problem["column"].get<int>(), 0);
  EXPECT_THAT(problem["message"].get<std::string>(), HasSubstr("fastest"));
  EXPECT_EQ(Call("GET", "/api/v1/config", "", 200)["version"], 1);

  // The structured edit names the field that is wrong.
  const json field = Call("PUT", "/api/v1/config/queues/support",
                          R"({"version":1,"service_level":{"target":1.5}})", 422);
  EXPECT_EQ(field["error"]["problems"][0]["field"], "service_level");
  EXPECT_EQ(Call("GET", "/api/v1/config", "", 200)["version"], 1);
  EXPECT_EQ(Queue("support")["sl_target"], 0.8);
  Call("PUT", "/api/v1/config/queues/nowhere", R"({"version":1,"priority":1})", 404);
}

TEST_F(AdminTest, AStaleVersionIsAConflictAndADryRunChangesNothing) {
  std::string yaml = Call("GET", "/api/v1/config", "", 200)["yaml"];
  yaml += "voice: {realm: admin-test}\n";
  const json dry = Call("PUT", "/api/v1/config",
                        json{{"yaml", yaml}, {"version", 1}, {"dry_run", true}}.dump(), 200);
  EXPECT_EQ(dry["applied"], false);
  EXPECT_EQ(dry["changes"][0]["section"], "voice");
  EXPECT_EQ(Call("GET", "/api/v1/config", "", 200)["version"], 1);
  EXPECT_EQ(
      Call("PUT", "/api/v1/config", json{{"yaml", yaml}, {"version", 1}}.dump(), 200)["version"],
      2);
  // A second administrator who read version 1 does not overwrite version 2 unseen.
  const json stale =
      Call("PUT", "/api/v1/config/queues/support", R"({"version":1,"priority":2})", 409);
  EXPECT_THAT(stale["error"]["message"].get<std::string>(), HasSubstr("version 2 is current"));
  EXPECT_EQ(Call("GET", "/api/v1/config", "", 200)["version"], 2);
  // Only administrators edit the configuration.
  const std::string sup = Login(port_, "sup");
  Call("PUT", "/api/v1/config/queues/support", R"({"version":2,"priority":2})", 403, sup);
}

}  // namespace
}  // namespace parley::testing
