// End-to-end test of POST /api/v1/simulations against the real `parley serve`: the same document
// as `parley simulate --json` for the same scenario and what-ifs, errors with the scenario's
// positions, no file reads, and the staffing.plan permission.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "tests/server/server_process.h"

namespace parley::testing {
namespace {

using ::testing::HasSubstr;
using json = nlohmann::json;

const std::string kConfig = std::string(PARLEY_SOURCE_DIR) + "/tests/data/server.yaml";

// Eight agents on one queue for two hours of Poisson traffic (self-contained: no includes).
const std::string kScenario = R"(scenario: {name: what-if, seed: 3, duration: 2h, interval: 30m}
skills: [s]
queues:
  - {name: q, channels: [voice], skills: {s: 1}, service_level: {target: 0.8, seconds: 20}}
groups:
  - {name: a, agents: 8, skills: {s: 1}, queues: [q]}
traffic:
  - {queue: q, arrivals: {per_hour: 100}, handle_time: "exp:240", patience: "exp:120"}
)";

class SimulationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_ = std::make_unique<ServerProcess>(tmp_.path() + "/data",
                                              std::vector<std::string>{"--config", kConfig});
    ASSERT_TRUE(server_->started()) << server_->output();
    sup_ = Login(server_->port(), "sup");
    ASSERT_FALSE(sup_.empty());
  }
  HttpResponse Post(const json& body, const std::string& cookie) {
    return Http(server_->port(), "POST", "/api/v1/simulations", body.dump(), cookie);
  }
  json Cli(const std::vector<std::string>& extra) {
    const std::string file = tmp_.path() + "/what-if.yaml";
    std::ofstream(file) << kScenario;
    std::vector<std::string> args = {"simulate", "--json", file};
    args.insert(args.end(), extra.begin(), extra.end());
    ProcessResult r = RunParley(args);
    EXPECT_LE(r.exit_code, 1) << r.err;
    return json::parse(r.out, nullptr, false);
  }
  TempDir tmp_;
  std::unique_ptr<ServerProcess> server_;
  std::string sup_;
};

TEST_F(SimulationTest, AnswersAsParleySimulateJson) {
  HttpResponse r = Post({{"scenario", kScenario}, {"replications", 2}}, sup_);
  ASSERT_EQ(r.status, 200) << r.body;
  const json api = json::parse(r.body);
  EXPECT_EQ(api, Cli({"--replications", "2"}));
  EXPECT_EQ(api["scenario"], "what-if");
  EXPECT_GT(api["contacts"].get<int>(), 300);
  EXPECT_TRUE(api["overall"].contains("service_level")) << api.dump();
}

TEST_F(SimulationTest, WhatIfSetsAndSweepsAsTheCommandLine) {
  HttpResponse set = Post({{"scenario", kScenario}, {"set", {"groups.a.agents=10"}}}, sup_);
  ASSERT_EQ(set.status, 200) << set.body;
  EXPECT_EQ(json::parse(set.body), Cli({"--set", "groups.a.agents=10"}));
  HttpResponse sweep = Post({{"scenario", kScenario}, {"sweep", "groups.a.agents=6:10:2"}}, sup_);
  ASSERT_EQ(sweep.status, 200) << sweep.body;
  const json runs = json::parse(sweep.body)["runs"];
  ASSERT_EQ(runs.size(), 3u);
  EXPECT_EQ(json::parse(sweep.body), Cli({"--sweep", "groups.a.agents=6:10:2"}));
  // More agents, better service.
  EXPECT_LT(runs[0]["overall"]["service_level"].get<double>(),
            runs[2]["overall"]["service_level"].get<double>())
      << runs.dump();
  // A sweep is bounded.
  HttpResponse wide = Post({{"scenario", kScenario}, {"sweep", "groups.a.agents=1:100:1"}}, sup_);
  EXPECT_EQ(wide.status, 400);
  EXPECT_THAT(wide.body, HasSubstr("at most 20"));
}

TEST_F(SimulationTest, ScenarioErrorsHavePositionsAndFilesAreNotRead) {
  HttpResponse bad = Post({{"scenario",
                            "scenario: {name: x}\nqueues: [{name: q, strategy: "
                            "fastest}]\n"}},
                          sup_);
  EXPECT_EQ(bad.status, 400);
  EXPECT_THAT(bad.body, HasSubstr("scenario.yaml:2:"));
  HttpResponse include = Post({{"scenario", "include: /etc/passwd\n" + kScenario}}, sup_);
  EXPECT_EQ(include.status, 400);
  EXPECT_THAT(include.body, HasSubstr("scenario.yaml:1:10: include is not allowed here"));
  EXPECT_THAT(include.body, ::testing::Not(HasSubstr("root:")));
  HttpResponse reps = Post({{"scenario", kScenario}, {"replications", 50}}, sup_);
  EXPECT_EQ(reps.status, 400);
  EXPECT_THAT(reps.body, HasSubstr("replications must be between 1 and 10"));
}

TEST_F(SimulationTest, AgentsMayNotRunSimulations) {
  EXPECT_EQ(Post({{"scenario", kScenario}}, Login(server_->port(), "bob")).status, 403);
  EXPECT_EQ(Post({{"scenario", kScenario}}, "").status, 401);
}

}  // namespace
}  // namespace parley::testing
