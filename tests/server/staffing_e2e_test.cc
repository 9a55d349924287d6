// End-to-end test of POST /api/v1/staffing against the real `parley serve`: the same answer as
// `parley staff --json` for the same inputs, field-named errors, and the staffing.plan permission.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "tests/server/server_process.h"

namespace parley::testing {
namespace {

using ::testing::HasSubstr;
using json = nlohmann::json;

const std::string kConfig = std::string(PARLEY_SOURCE_DIR) + "/tests/data/server.yaml";

class StaffingTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_ = std::make_unique<ServerProcess>(tmp_.path() + "/data",
                                              std::vector<std::string>{"--config", kConfig});
    ASSERT_TRUE(server_->started()) << server_->output();
    sup_ = Login(server_->port(), "sup");
    ASSERT_FALSE(sup_.empty());
  }
  HttpResponse Post(const json& body, const std::string& cookie) {
    return Http(server_->port(), "POST", "/api/v1/staffing", body.dump(), cookie);
  }
  static json Cli(const std::vector<std::string>& args) {
    std::vector<std::string> all = {"staff", "--json"};
    all.insert(all.end(), args.begin(), args.end());
    ProcessResult r = RunParley(all);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return json::parse(r.out, nullptr, false);
  }
  TempDir tmp_;
  std::unique_ptr<ServerProcess> server_;
  std::string sup_;
};

TEST_F(StaffingTest, AnswersAsParleyStaffJsonWithTheNeighbourTable) {
  // Erlang C: 360 calls per half hour at 240 s, 80% in 20 s (docs/staffing.md): 54 agents.
  HttpResponse c = Post({{"calls", 360},
                         {"interval_seconds", 1800},
                         {"aht", 240},
                         {"target_sl", 0.8},
                         {"target_seconds", 20},
                         {"shrinkage", 0.3}},
                        sup_);
  ASSERT_EQ(c.status, 200) << c.body;
  json api = json::parse(c.body);
  const json table = api["table"];
  api.erase("table");
  EXPECT_EQ(api, Cli({"--calls", "360", "--interval-seconds", "1800", "--aht", "240", "--target-sl",
                      "0.8", "--target-seconds", "20", "--shrinkage", "0.3"}));
  EXPECT_EQ(api["agents"], 54);
  ASSERT_EQ(table.size(), 21u);  // 44 .. 64
  EXPECT_EQ(table.front()["agents"], 44);
  EXPECT_EQ(table[10]["agents"], 54);
  EXPECT_EQ(table[10]["service_level"], api["service_level"]);
  EXPECT_LT(table[9]["service_level"].get<double>(), 0.8);  // 53 agents miss the target

  // Erlang A with patience, Erlang B and a forecast give the CLI's documents too.
  HttpResponse a = Post({{"calls", 360},
                         {"interval_seconds", 1800},
                         {"aht", 240},
                         {"target_sl", 0.8},
                         {"patience", 120}},
                        sup_);
  ASSERT_EQ(a.status, 200) << a.body;
  api = json::parse(a.body);
  api.erase("table");
  EXPECT_EQ(api, Cli({"--calls", "360", "--interval-seconds", "1800", "--aht", "240", "--target-sl",
                      "0.8", "--patience", "120"}));
  EXPECT_EQ(api["model"], "erlang_a");

  HttpResponse b =
      Post({{"erlang_b", true}, {"calls", 100}, {"interval_seconds", 3600}, {"aht", 360}}, sup_);
  ASSERT_EQ(b.status, 200) << b.body;
  EXPECT_EQ(json::parse(b.body),
            Cli({"--erlang-b", "--calls", "100", "--interval-seconds", "3600", "--aht", "360"}));
  EXPECT_EQ(json::parse(b.body)["lines"], 18);

  const std::string csv = "interval_start,contacts,aht_seconds\n08:00,120,240\n08:30,360,240\n";
  HttpResponse f = Post({{"forecast", csv}, {"interval_seconds", 1800}, {"target_sl", 0.8}}, sup_);
  ASSERT_EQ(f.status, 200) << f.body;
  const json rows = json::parse(f.body);
  ASSERT_TRUE(rows.is_array());
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[1]["interval_start"], "08:30");
  EXPECT_EQ(rows[1]["agents"], 54);
}

TEST_F(StaffingTest, BadInputsAre400NamingTheField) {
  auto message = [&](const json& body) {
    HttpResponse r = Post(body, sup_);
    EXPECT_EQ(r.status, 400) << body.dump() << ": " << r.body;
    return json::parse(r.body, nullptr, false)["error"]["message"].get<std::string>();
  };
  const json ok = {{"calls", 360}, {"interval_seconds", 1800}, {"aht", 240}, {"target_sl", 0.8}};
  json b = ok;
  b["calls"] = 0;
  EXPECT_THAT(message(b), HasSubstr("calls must be > 0, got 0"));
  b = ok;
  b["calls"] = "many";
  EXPECT_THAT(message(b), HasSubstr("body.calls must be a number, got string"));
  b = ok;
  b["target_sl"] = 1.5;
  EXPECT_THAT(message(b), HasSubstr("target_sl must be a fraction in (0, 1], got 1.5"));
  b = ok;
  b.erase("interval_seconds");
  EXPECT_THAT(message(b), HasSubstr("interval_seconds is required"));
  b = ok;
  b["shrinkage"] = 1;
  EXPECT_THAT(message(b), HasSubstr("shrinkage must be a fraction in [0, 1), got 1"));
  b = ok;
  b["agents"] = 2.5;
  EXPECT_THAT(message(b), HasSubstr("body.agents must be an integer"));
  b = ok;
  b["agent_count"] = 3;
  EXPECT_THAT(message(b), HasSubstr("agent_count"));
  b = ok;
  b["calls"] = 1e9;  // far more than the API plans
  EXPECT_THAT(message(b), HasSubstr("Erlangs; at most 5000"));
  EXPECT_THAT(
      message({{"forecast", "08:00,ten,240\n"}, {"interval_seconds", 1800}, {"target_sl", 0.8}}),
      HasSubstr("forecast: line 1, field contacts: 'ten' is not a number"));
  EXPECT_THAT(message({{"forecast", "08:00,10,240\n"},
                       {"interval_seconds", 1800},
                       {"target_sl", 0.8},
                       {"calls", 3}}),
              HasSubstr("forecast takes contacts and AHT from the table; drop calls and aht"));
  // The server is still up and answers.
  EXPECT_EQ(Post(ok, sup_).status, 200);
}

TEST_F(StaffingTest, OnlyPlannersMayRunIt) {
  const json body = {{"calls", 10}, {"interval_seconds", 1800}, {"aht", 240}, {"agents", 2}};
  EXPECT_EQ(Post(body, Login(server_->port(), "admin")).status, 200);
  for (const char* login : {"bob", "alice", "qa", "wall"}) {
    HttpResponse r = Post(body, Login(server_->port(), login));
    EXPECT_EQ(r.status, 403) << login << ": " << r.body;
    EXPECT_THAT(r.body, HasSubstr("staffing.plan")) << login;
  }
  EXPECT_EQ(Post(body, "").status, 401);
}

}  // namespace
}  // namespace parley::testing
