// End to end: contact flows' HTTP lookups in the real `parley serve`. A flow at a task entry point
// looks the customer up in a stand-in CRM (an HttpReceiver on loopback that this test runs),
// stores the answer in the contact's attributes and routes by it; when the CRM is down, the flow
// takes the step's failure exit. Checked through the API, the event stream, /metrics and the log.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "tests/server/server_process.h"

namespace parley::testing {
namespace {

using ::testing::HasSubstr;
using json = nlohmann::json;

// Two task queues and a flow that sends the contact's `account` to the CRM and queues gold
// customers in `gold`, everyone else (and everyone when the lookup fails) in `support`.
std::string LookupConfig(int crm_port, const std::string& extra) {
  return R"(site: {name: Lookup Test, time_zone: UTC}
queues:
  - {name: support, channels: [task], offer_timeout: 5m, wrap_up: 5m}
  - {name: gold, channels: [task], offer_timeout: 5m, wrap_up: 5m}
flows:
  - name: crm
    steps:
      - id: customer
        type: lookup
        url: "http://127.0.0.1:)" +
         std::to_string(crm_port) + R"(/customers?source=parley"
        method: GET
        timeout: 3s
        send: [account]
        store: {tier: customer.tier}
        exits: {next: route, failure: fallback}
      - id: route
        type: branch
        cases:
          - {when: "attr.tier == 'gold'", next: vip}
        exits: {default: fallback}
      - {id: vip, type: queue, queue: gold, priority: 5}
      - {id: fallback, type: queue, queue: support}
entry_points:
  - {channel: task, address: web, flow: crm}
users:
  - {login: admin, roles: [administrator]}
)" + extra;
}

class LookupTest : public ::testing::Test {
 protected:
  std::unique_ptr<ServerProcess> Start(int crm_port, const std::string& extra = "") {
    const std::string config = tmp_.path() + "/lookup.yaml";
    std::ofstream(config) << LookupConfig(crm_port, extra);
    auto server = std::make_unique<ServerProcess>(tmp_.path() + "/data",
                                                  std::vector<std::string>{"--config", config});
    EXPECT_TRUE(server->started()) << server->output();
    return server;
  }

  // Creates a task at the `web` entry point and follows the event stream until the contact is
  // queued; returns the flow's lookup exit and the queue it reached ("exit queue").
  std::string RunFlow(int port, const std::string& admin, const std::string& account,
                      std::string* id) {
    auto events = std::make_unique<EventsClient>(port, "/api/v1/events", admin);
    EXPECT_TRUE(events->connected());
    EXPECT_TRUE(events->Next());  // the snapshot: subscribed from here on
    auto r = Http(
        port, "POST", "/api/v1/contacts",
        R"({"channel":"task","entry":"web","attributes":{"account":")" + account + R"("}})", admin);
    EXPECT_EQ(r.status, 201) << r.body;
    auto created = json::parse(r.body, nullptr, false);
    *id = created.is_object() ? created.value("id", "") : "";
    std::string exit;
    for (int i = 0; i < 40; ++i) {
      auto msg = events->Next();
      if (!msg) break;
      auto j = json::parse(*msg, nullptr, false);
      if (!j.is_object() || j.value("contact", "") != *id) continue;
      const std::string type = j.value("type", "");
      if (type == "flow.step_exited" && j.value("step", "") == "customer") {
        exit = j.value("exit", "");
      }
      if (type == "contact.queued") return exit + " " + j.value("queue", "");
    }
    return exit + " (not queued)";
  }

  TempDir tmp_;
};

TEST_F(LookupTest, TheCrmsAnswerIsStoredAndRoutesTheContact) {
  HttpReceiver crm;
  crm.Answer(200, R"({"customer":{"tier":"gold","name":"Zoë"}})");
  auto server = Start(crm.port());
  ASSERT_TRUE(server->started());
  const int port = server->port();
  const std::string admin = Login(port, "admin");
  ASSERT_FALSE(admin.empty());

  std::string id;
  EXPECT_EQ(RunFlow(port, admin, "A-17 & co", &id), "next gold");
  const auto seen = crm.WaitFor(1);
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].method, "GET");
  EXPECT_EQ(seen[0].target, "/customers?source=parley&account=A-17%20%26%20co");
  EXPECT_EQ(seen[0].headers.count("accept") ? seen[0].headers.at("accept") : "",
            "application/json");

  auto c = Http(port, "GET", "/api/v1/contacts/" + id, "", admin);
  ASSERT_EQ(c.status, 200) << c.body;
  const json contact = json::parse(c.body);
  EXPECT_EQ(contact.value("state", ""), "queued");
  EXPECT_EQ(contact.value("queue", ""), "gold");
  EXPECT_EQ(contact.value("priority", 0), 5);
  EXPECT_EQ(contact["attributes"].value("tier", ""), "gold");

  // A silver customer goes to support.
  crm.Answer(200, R"({"customer":{"tier":"silver"}})");
  EXPECT_EQ(RunFlow(port, admin, "B-2", &id), "next support");

  // A CRM error is the step's failure.
  crm.Answer(500, R"({"error":"down for maintenance"})");
  EXPECT_EQ(RunFlow(port, admin, "C-3", &id), "failure support");
  EXPECT_EQ(crm.WaitFor(3).size(), 3u);

  const auto metrics = Http(port, "GET", "/metrics", "", admin);
  ASSERT_EQ(metrics.status, 200);
  EXPECT_THAT(metrics.body, HasSubstr("parley_lookups_total{outcome=\"ok\"} 2\n"));
  EXPECT_THAT(metrics.body, HasSubstr("parley_lookups_total{outcome=\"http_error\"} 1\n"));
  EXPECT_THAT(metrics.body, HasSubstr("parley_lookups_in_flight 0\n"));
  EXPECT_TRUE(server->WaitForOutput("lookup failed: HTTP 500"));
  EXPECT_EQ(server->Terminate(), 0) << server->output();
  EXPECT_THAT(server->output(), HasSubstr("stopped cleanly"));
}

TEST_F(LookupTest, WhenTheCrmIsDownTheFlowTakesItsFailureExit) {
  int closed_port = 0;
  {
    HttpReceiver gone;  // bound, then closed: nothing listens there now
    closed_port = gone.port();
  }
  auto server = Start(closed_port);
  ASSERT_TRUE(server->started());
  const int port = server->port();
  const std::string admin = Login(port, "admin");
  ASSERT_FALSE(admin.empty());

  std::string id;
  EXPECT_EQ(RunFlow(port, admin, "A-17", &id), "failure support");
  auto c = Http(port, "GET", "/api/v1/contacts/" + id, "", admin);
  ASSERT_EQ(c.status, 200) << c.body;
  const json contact = json::parse(c.body);
  EXPECT_EQ(contact.value("queue", ""), "support");
  EXPECT_EQ(contact["attributes"].value("tier", ""), "");

  const auto metrics = Http(port, "GET", "/metrics", "", admin);
  EXPECT_THAT(metrics.body, HasSubstr("parley_lookups_total{outcome=\"failed\"} 1\n"));
  EXPECT_THAT(metrics.body, HasSubstr("parley_lookup_failures_total{reason=\"connect\"} 1\n"));
  // One log line names the contact and the CRM's host (not its path or query).
  EXPECT_TRUE(server->WaitForOutput("lookup failed: connect: "));
  EXPECT_THAT(server->output(), HasSubstr("contact=" + id + " host=127.0.0.1 outcome=failed"));
  EXPECT_EQ(server->Terminate(), 0) << server->output();
}

// The configuration's `lookups:` limits reach the server's lookup client: an answer over
// max_response_bytes takes the step's failure exit, one within it is used.
TEST_F(LookupTest, AnAnswerOverTheConfiguredSizeTakesTheFailureExit) {
  HttpReceiver crm;
  auto server = Start(crm.port(), "lookups: {max_response_bytes: 1024, workers: 2}\n");
  ASSERT_TRUE(server->started());
  const int port = server->port();
  const std::string admin = Login(port, "admin");
  ASSERT_FALSE(admin.empty());

  std::string id;
  crm.Answer(200, R"({"customer":{"tier":"gold","notes":")" + std::string(1100, 'x') + R"("}})");
  EXPECT_EQ(RunFlow(port, admin, "A-17", &id), "failure support");
  crm.Answer(200, R"({"customer":{"tier":"gold","notes":")" + std::string(900, 'x') + R"("}})");
  EXPECT_EQ(RunFlow(port, admin, "B-2", &id), "next gold");

  const auto metrics = Http(port, "GET", "/metrics", "", admin);
  EXPECT_THAT(metrics.body, HasSubstr("parley_lookup_failures_total{reason=\"too_large\"} 1\n"));
  EXPECT_TRUE(server->WaitForOutput("lookup failed: response too large (over 1024 bytes)"));
  EXPECT_EQ(server->Terminate(), 0) << server->output();
}

}  // namespace
}  // namespace parley::testing
