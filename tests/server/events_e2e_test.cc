// End-to-end test of the event stream's resume (docs/operations.md, "Monitoring"): a client that
// reconnects with ?after=SEQ gets exactly what it missed, across a restart of the server (the
// ring is then empty, so the missed events come from the journal).

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <functional>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "tests/server/server_process.h"

namespace parley::testing {
namespace {

using json = nlohmann::json;

const std::string kConfig = std::string(PARLEY_SOURCE_DIR) + "/tests/data/server.yaml";

// Reads messages until one for which `last` is true arrives; returns every message read (parsed),
// the last being that one, or fails at the timeout.
std::vector<json> ReadUntil(EventsClient& events, const std::function<bool(const json&)>& last) {
  std::vector<json> out;
  while (auto text = events.Next()) {
    out.push_back(json::parse(*text, nullptr, false));
    if (last(out.back())) return out;
  }
  ADD_FAILURE() << "the awaited event did not arrive; " << out.size() << " message(s) read";
  return out;
}

std::function<bool(const json&)> PresenceOf(const std::string& agent, const std::string& presence) {
  return [agent, presence](const json& e) {
    return e.value("type", "") == "agent.presence_changed" && e.value("agent", "") == agent &&
           e.value("presence", "") == presence;
  };
}

void SetPresence(int port, const std::string& cookie, const std::string& agent,
                 const std::string& presence) {
  auto r = Http(port, "PUT", "/api/v1/agents/" + agent + "/presence",
                R"({"presence":")" + presence + R"("})", cookie);
  ASSERT_EQ(r.status, 200) << r.body;
}

TEST(EventsE2eTest, ReconnectingWithAfterGetsExactlyTheMissedEventsAcrossARestart) {
  TempDir tmp;
  const std::string data = tmp.path() + "/data";
  uint64_t seen = 0;
  {
    ServerProcess server(data, {"--config", kConfig});
    ASSERT_TRUE(server.started()) << server.output();
    const std::string admin = Login(server.port(), "admin");
    ASSERT_FALSE(admin.empty());
    EventsClient events(server.port(), "/api/v1/events", admin);
    ASSERT_TRUE(events.connected());
    SetPresence(server.port(), admin, "alice", "available");
    auto got = ReadUntil(events, PresenceOf("alice", "available"));
    ASSERT_FALSE(got.empty());
    seen = got.back().value("seq", uint64_t{0});
    ASSERT_GT(seen, 0u);
  }  // the client disconnects; the server is killed (kill -9): the journal keeps what was acked
  {
    ServerProcess server(data, {"--config", kConfig});
    ASSERT_TRUE(server.started()) << server.output();
    const std::string admin = Login(server.port(), "admin");
    SetPresence(server.port(), admin, "alice", "offline");  // missed, in the journal
    SetPresence(server.port(), admin, "bob", "available");  // missed
    ASSERT_EQ(server.Terminate(), 0) << server.output();
  }
  ServerProcess server(data, {"--config", kConfig});  // a fresh ring: only the journal has them
  ASSERT_TRUE(server.started()) << server.output();
  const std::string admin = Login(server.port(), "admin");
  SetPresence(server.port(), admin, "bob", "offline");  // missed, in this run's ring

  EventsClient events(server.port(), "/api/v1/events?after=" + std::to_string(seen), admin);
  ASSERT_TRUE(events.connected());
  // Live, after the replay: the first contact of this data directory.
  auto created = Http(server.port(), "POST", "/api/v1/contacts",
                      R"({"queue":"support","channel":"task","attributes":{}})", admin);
  ASSERT_EQ(created.status, 201) << created.body;
  auto got =
      ReadUntil(events, [](const json& e) { return e.value("type", "") == "contact.queued"; });
  std::vector<uint64_t> seqs;
  std::vector<std::string> presence_changes;
  for (const json& e : got) {
    ASSERT_FALSE(e.is_discarded());
    const std::string type = e.value("type", "");
    ASSERT_NE(type, "reset") << e.dump();
    ASSERT_NE(type, "gap") << e.dump();
    if (type == "snapshot") continue;
    seqs.push_back(e.value("seq", uint64_t{0}));
    if (type == "agent.presence_changed") {
      presence_changes.push_back(e.value("agent", "") + " " + e.value("presence", ""));
    }
  }
  // Every event after `seen`, each once, in order, and nothing before it.
  ASSERT_FALSE(seqs.empty());
  for (size_t i = 0; i < seqs.size(); ++i) EXPECT_EQ(seqs[i], seen + 1 + i) << i;
  // The changes made while the client was away are among them, in order (a restart also
  // journals the presence it restores).
  const std::vector<std::string> ours = {"alice offline", "bob available", "bob offline"};
  size_t found = 0;
  for (const std::string& change : presence_changes) {
    if (found < ours.size() && change == ours[found]) ++found;
  }
  EXPECT_EQ(found, ours.size()) << ::testing::PrintToString(presence_changes);

  // A seq beyond the stream's end (another data directory) gets a reset, then live events.
  EventsClient ahead(server.port(), "/api/v1/events?after=999999", admin);
  ASSERT_TRUE(ahead.connected());
  std::optional<json> reset;
  while (auto text = ahead.Next()) {
    json e = json::parse(*text, nullptr, false);
    if (e.value("type", "") == "snapshot") continue;
    reset = std::move(e);
    break;
  }
  ASSERT_TRUE(reset.has_value());
  EXPECT_EQ(reset->value("type", ""), "reset");
  EXPECT_EQ(reset->value("after", uint64_t{0}), 999999u);
  EXPECT_EQ(reset->value("seq", uint64_t{0}), seqs.back());
}

TEST(EventsE2eTest, TodaysQueueStatisticsAreTheSameAfterARestart) {
  TempDir tmp;
  const std::string data = tmp.path() + "/data";
  json before;
  {
    ServerProcess server(data, {"--config", kConfig});
    ASSERT_TRUE(server.started()) << server.output();
    const int port = server.port();
    const std::string admin = Login(port, "admin");
    const std::string alice = Login(port, "alice");
    SetPresence(port, admin, "alice", "available");
    auto created = Http(port, "POST", "/api/v1/contacts",
                        R"({"queue":"support","channel":"task","attributes":{}})", admin);
    ASSERT_EQ(created.status, 201) << created.body;
    const std::string id = json::parse(created.body).value("id", "");
    for (const char* step : {"/accept", "/end"}) {
      auto r = Http(port, "POST", "/api/v1/contacts/" + id + step, "{}", alice);
      ASSERT_EQ(r.status, 200) << step << ": " << r.body;
    }
    auto wrapped = Http(port, "POST", "/api/v1/contacts/" + id + "/wrap-up",
                        R"({"disposition":"resolved"})", alice);
    ASSERT_EQ(wrapped.status, 200) << wrapped.body;
    auto q = Http(port, "GET", "/api/v1/queues/support", "", admin);
    ASSERT_EQ(q.status, 200);
    before = json::parse(q.body);
    ASSERT_EQ(before.value("answered", -1), 1);
    ASSERT_EQ(server.Terminate(), 0) << server.output();
  }
  ServerProcess server(data, {"--config", kConfig});
  ASSERT_TRUE(server.started()) << server.output();
  const std::string admin = Login(server.port(), "admin");
  auto q = Http(server.port(), "GET", "/api/v1/queues/support", "", admin);
  ASSERT_EQ(q.status, 200);
  const json after = json::parse(q.body);
  for (const char* key :
       {"offered", "answered", "abandoned", "service_level", "asa_seconds", "aht_seconds"}) {
    EXPECT_EQ(after[key], before[key]) << key;
  }
}

}  // namespace
}  // namespace parley::testing
