// End-to-end tests of demo mode: the real `parley serve --demo` on the bundled configuration
// (config/demo.yaml), watched through the event stream and the REST API as the wallboard and a
// person at the agent desktop see it.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "tests/server/server_process.h"

namespace parley::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using json = nlohmann::json;
using Clock = std::chrono::steady_clock;

// Fast enough that whole contacts (offer, handling, wrap-up) pass in seconds: the driver scales
// its people's times by 3/120 (docs/operations.md, "Demo mode").
const std::vector<std::string> kDemo = {"--demo", "--demo-rate", "120"};
constexpr auto kBound = std::chrono::seconds(60);

json Body(const HttpResponse& r) {
  auto j = json::parse(r.body, nullptr, false);
  return j.is_discarded() ? json() : j;
}

std::set<std::string> ConfiguredAgents() {
  return {"alice", "bob",   "carol", "dave", "erin",    "frank",
          "grace", "heidi", "ivan",  "judy", "mallory", "oscar"};
}

// Reads events until `done` says so or the bound passes; false on the bound.
template <class F>
bool ReadEventsUntil(EventsClient& events, F done) {
  const auto deadline = Clock::now() + kBound;
  while (Clock::now() < deadline) {
    auto message =
        events.Next(std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()));
    if (!message) return false;
    const json e = json::parse(*message, nullptr, false);
    if (e.is_discarded() || !e.is_object()) continue;
    if (done(e)) return true;
  }
  return false;
}

class DemoTest : public ::testing::Test {
 protected:
  std::string DataDir() const { return tmp_.path() + "/data"; }
  TempDir tmp_;
};

TEST_F(DemoTest, BotAgentsAcceptAndWrapUpSyntheticCustomersContacts) {
  ServerProcess server(DataDir(), kDemo);
  ASSERT_TRUE(server.started()) << server.output();
  EXPECT_THAT(server.output(), HasSubstr("demo: synthetic customers and bot agents are running"));
  const int port = server.port();
  const std::string admin = Login(port, "admin");
  ASSERT_FALSE(admin.empty());
  auto events_client = std::make_unique<EventsClient>(port, "/api/v1/events", admin);
  EventsClient& events = *events_client;
  ASSERT_TRUE(events.connected());

  // One contact's whole life, by a configured agent, with a configured disposition.
  std::map<std::string, std::string> accepted_by;  // contact → agent
  std::string done_contact, done_agent, disposition;
  const bool whole = ReadEventsUntil(events, [&](const json& e) {
    const std::string type = e.value("type", "");
    const std::string contact = e.value("contact", "");
    if (type == "offer.accepted") accepted_by[contact] = e.value("agent", "");
    if (type == "wrap_up.ended" && accepted_by.count(contact) && e.contains("disposition")) {
      done_contact = contact;
      done_agent = accepted_by[contact];
      disposition = e.value("disposition", "");
      return true;
    }
    return false;
  });
  ASSERT_TRUE(whole) << "no contact was offered, accepted and wrapped up within the bound";
  EXPECT_EQ(ConfiguredAgents().count(done_agent), 1u) << done_agent;
  EXPECT_THAT(
      (std::vector<std::string>{"resolved", "sale", "no-sale", "follow-up", "wrong-number"}),
      ::testing::Contains(disposition));

  // The wallboard's numbers show the same traffic.
  const json queues = Body(Http(port, "GET", "/api/v1/queues", "", admin));
  ASSERT_TRUE(queues.contains("queues")) << queues.dump();
  uint64_t offered = 0, answered = 0;
  for (const auto& q : queues["queues"]) {
    offered += q.value("offered", uint64_t{0});
    answered += q.value("answered", uint64_t{0});
  }
  EXPECT_GT(offered, 0u);
  EXPECT_GT(answered, 0u);

  // The customers are named people with a phone number, for screen-pop.
  const json found = Body(Http(port, "GET", "/api/v1/customers?q=%2B33", "", admin));
  ASSERT_TRUE(found.contains("customers")) << found.dump();
  ASSERT_FALSE(found["customers"].empty());
  for (const auto& c : found["customers"]) {
    const std::string name = c.value("name", "");
    EXPECT_THAT(name, HasSubstr(" "));
    EXPECT_THAT(name, Not(HasSubstr("+33")));
  }

  events_client.reset();  // closed first, so the server need not wait for it to stop
  EXPECT_EQ(server.Terminate(), 0);
  EXPECT_THAT(server.output(), HasSubstr("demo: bots stopped contacts="));
  EXPECT_THAT(server.output(), HasSubstr("handovers=0 "));  // no bot mistook its own doing
  EXPECT_THAT(server.output(), HasSubstr("stopped cleanly"));
}

TEST_F(DemoTest, AnAgentWhoLogsInAndSetsPresenceIsLeftToThePerson) {
  ServerProcess server(DataDir(), kDemo);
  ASSERT_TRUE(server.started()) << server.output();
  const int port = server.port();
  const std::string admin = Login(port, "admin");
  const std::string alice = Login(port, "alice");
  ASSERT_FALSE(admin.empty());
  ASSERT_FALSE(alice.empty());
  auto events_client = std::make_unique<EventsClient>(port, "/api/v1/events", admin);
  EventsClient& events = *events_client;
  ASSERT_TRUE(events.connected());
  // Wait until the bots are at work, so the person takes over a working agent.
  ASSERT_TRUE(ReadEventsUntil(
      events, [](const json& e) { return e.value("type", "") == "offer.accepted"; }));

  // Alice finishes whatever her bot is in the middle of and takes her own offers from now on.
  ASSERT_EQ(Http(port, "PUT", "/api/v1/agents/alice/presence",
                 R"({"presence":"not-ready","reason":"meeting"})", alice)
                .status,
            200);
  ASSERT_EQ(Http(port, "PUT", "/api/v1/agents/alice/presence", R"({"presence":"available"})", alice)
                .status,
            200);

  // A contact of our own marks the point after both changes in the stream: the engine applies
  // commands in order, so every offer after the marker's event comes after the handover.
  auto created =
      Http(port, "POST", "/api/v1/contacts", R"({"queue":"billing","channel":"email"})", admin);
  ASSERT_EQ(created.status, 201) << created.body;
  const std::string marker = Body(created).value("id", "");
  ASSERT_TRUE(ReadEventsUntil(events, [&](const json& e) {
    return e.value("type", "") == "contact.queued" && e.value("contact", "") == marker;
  }));
  // Her next offer waits for her: it is never accepted while the bots accept offers made to
  // the other agents after hers (twenty of them, each within a fraction of a second).
  std::string alice_offer;
  int later_accepts = 0;
  std::set<std::string> offered_after;
  bool alice_accept_seen = false;
  const bool observed = ReadEventsUntil(events, [&](const json& e) {
    const std::string type = e.value("type", "");
    const std::string agent = e.value("agent", "");
    const std::string contact = e.value("contact", "");
    if (type == "contact.offered" && agent == "alice" && alice_offer.empty()) {
      alice_offer = contact;
    } else if (type == "contact.offered" && !alice_offer.empty()) {
      offered_after.insert(contact);
    } else if (type == "offer.accepted" && !alice_offer.empty()) {
      if (contact == alice_offer) alice_accept_seen = true;
      if (offered_after.count(contact)) ++later_accepts;
    }
    return later_accepts >= 20;
  });
  ASSERT_TRUE(observed) << "alice's offer: '" << alice_offer << "', later accepts "
                        << later_accepts;
  EXPECT_FALSE(alice_accept_seen) << "a bot accepted contact " << alice_offer << " for alice";

  events_client.reset();  // closed first, so the server need not wait for it to stop
  EXPECT_EQ(server.Terminate(), 0);
  EXPECT_THAT(server.output(), HasSubstr("handovers=1 "));
}

TEST_F(DemoTest, WithoutTheFlagNothingIsCreated) {
  ServerProcess server(DataDir(), {});
  ASSERT_TRUE(server.started()) << server.output();
  EXPECT_THAT(server.output(), Not(HasSubstr("demo:")));
  const int port = server.port();
  const std::string admin = Login(port, "admin");
  auto events_client = std::make_unique<EventsClient>(port, "/api/v1/events", admin);
  EventsClient& events = *events_client;
  ASSERT_TRUE(events.connected());
  // A contact of our own marks a point in the stream: every event up to it is about it.
  auto created =
      Http(port, "POST", "/api/v1/contacts", R"({"queue":"billing","channel":"email"})", admin);
  ASSERT_EQ(created.status, 201) << created.body;
  const std::string marker = Body(created).value("id", "");
  std::vector<json> seen;
  ASSERT_TRUE(ReadEventsUntil(events, [&](const json& e) {
    if (e.value("type", "") == "snapshot") return false;  // the stream's opening state
    seen.push_back(e);
    return e.value("contact", "") == marker && e.value("type", "") == "contact.queued";
  }));
  for (const json& e : seen) EXPECT_EQ(e.value("contact", ""), marker) << e.dump();
  // Nothing at all was journaled before it.
  EXPECT_EQ(seen.front().value("seq", 0), 1) << seen.front().dump();
  // No agent was made Available, no customer was created.
  const json agents = Body(Http(port, "GET", "/api/v1/agents", "", admin));
  ASSERT_TRUE(agents.contains("agents")) << agents.dump();
  for (const auto& a : agents["agents"]) EXPECT_EQ(a.value("presence", ""), "offline");
  const json customers = Body(Http(port, "GET", "/api/v1/customers?q=%2B33", "", admin));
  EXPECT_TRUE(customers.value("customers", json::array()).empty()) << customers.dump();
  events_client.reset();  // closed first, so the server need not wait for it to stop
  EXPECT_EQ(server.Terminate(), 0);
}

TEST_F(DemoTest, ARateWithoutDemoOrBelowZeroIsRefused) {
  auto alone =
      RunParley({"serve", "--data", DataDir(), "--http", "127.0.0.1:0", "--demo-rate", "10"});
  EXPECT_NE(alone.exit_code, 0);
  EXPECT_THAT(alone.out + alone.err, HasSubstr("--demo"));
  auto negative = RunParley(
      {"serve", "--data", DataDir(), "--http", "127.0.0.1:0", "--demo", "--demo-rate", "-5"});
  EXPECT_NE(negative.exit_code, 0);
  EXPECT_THAT(negative.out + negative.err, HasSubstr("--demo-rate"));
}

}  // namespace
}  // namespace parley::testing
