// End-to-end tests of `parley serve`: the real binary on a free loopback port with a temporary
// data directory, driven over HTTP and WebSocket like the web UI and integrations drive it.

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <cstdlib>
#include <ctime>
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

json Body(const HttpResponse& r) {
  auto j = json::parse(r.body, nullptr, false);
  return j.is_discarded() ? json() : j;
}

class ServerTest : public ::testing::Test {
 protected:
  std::string DataDir() const { return tmp_.path() + "/data"; }
  std::unique_ptr<ServerProcess> Start(std::vector<std::string> extra = {}) {
    extra.push_back("--config");
    extra.push_back(kConfig);
    auto server = std::make_unique<ServerProcess>(DataDir(), extra);
    EXPECT_TRUE(server->started()) << server->output();
    return server;
  }
  // POST/PUT helpers that assert the status.
  json Call(int port, const std::string& method, const std::string& target,
            const std::string& cookie, const std::string& body, int expected) {
    auto r = Http(port, method, target, body, cookie);
    EXPECT_EQ(r.status, expected) << method << " " << target << ": " << r.body;
    return Body(r);
  }
  std::string NewTask(int port, const std::string& cookie, const std::string& subject) {
    auto c = Call(
        port, "POST", "/api/v1/contacts", cookie,
        R"({"queue":"support","channel":"task","attributes":{"subject":")" + subject + R"("}})",
        201);
    return c.value("id", "");
  }
  TempDir tmp_;
};

TEST_F(ServerTest, HealthzAnswersWithoutLoginAndApiNeedsOne) {
  auto server = Start();
  ASSERT_TRUE(server->started());
  EXPECT_EQ(Http(server->port(), "GET", "/healthz").status, 200);
  const auto r = Http(server->port(), "GET", "/api/v1/queues");
  EXPECT_EQ(r.status, 401);
  EXPECT_THAT(r.body, HasSubstr("\"error\""));
  // The same answer for an unknown user and a wrong password.
  const auto unknown = Http(server->port(), "POST", "/api/v1/auth/login",
                            R"({"login":"nobody","password":"whatever-it-is"})");
  const auto wrong = Http(server->port(), "POST", "/api/v1/auth/login",
                          R"({"login":"admin","password":"whatever-it-is"})");
  EXPECT_EQ(unknown.status, 401);
  EXPECT_EQ(unknown.status, wrong.status);
  EXPECT_EQ(unknown.body, wrong.body);
  EXPECT_FALSE(Login(server->port(), "admin").empty());
}

TEST_F(ServerTest, LifeOfAContactFromCreationToWrapUp) {
  auto server = Start();
  ASSERT_TRUE(server->started());
  const int port = server->port();
  const std::string admin = Login(port, "admin");
  const std::string alice = Login(port, "alice");
  ASSERT_FALSE(admin.empty());
  ASSERT_FALSE(alice.empty());

  auto events_client = std::make_unique<EventsClient>(port, "/api/v1/events", alice);
  EventsClient& events = *events_client;
  ASSERT_TRUE(events.connected());

  // Not Ready needs a configured reason code.
  auto bad = Http(port, "PUT", "/api/v1/agents/alice/presence",
                  R"({"presence":"not-ready","reason":"nap"})", alice);
  EXPECT_GE(bad.status, 400);
  EXPECT_LT(bad.status, 500);
  EXPECT_THAT(bad.body, HasSubstr("lunch"));
  Call(port, "PUT", "/api/v1/agents/alice/presence", alice, R"({"presence":"available"})", 200);

  const std::string id = NewTask(port, admin, "refund 42");
  ASSERT_FALSE(id.empty());

  // Alice's event stream carries the offer.
  bool offered = false;
  for (int i = 0; i < 20 && !offered; ++i) {
    auto msg = events.Next();
    ASSERT_TRUE(msg) << "no offer event";
    auto j = json::parse(*msg, nullptr, false);
    offered = j.value("type", "") == "contact.offered" && j.value("agent", "") == "alice";
  }
  EXPECT_TRUE(offered);

  auto c = Call(port, "GET", "/api/v1/contacts/" + id, alice, "", 200);
  EXPECT_EQ(c.value("state", ""), "offered");
  EXPECT_EQ(c["attributes"].value("subject", ""), "refund 42");
  auto why = Http(port, "GET", "/api/v1/contacts/" + id + "/explanation", "", admin);
  why = Http(port, "GET", "/api/v1/contacts/" + id + "/explanation", "", admin);
  EXPECT_EQ(why.status, 200) << why.body;
  EXPECT_THAT(why.body, HasSubstr("alice"));

  Call(port, "POST", "/api/v1/contacts/" + id + "/accept", alice, "{}", 200);
  Call(port, "POST", "/api/v1/contacts/" + id + "/end", alice, "{}", 200);
  auto refused =
      Http(port, "POST", "/api/v1/contacts/" + id + "/wrap-up", R"({"disposition":"sold"})", alice);
  EXPECT_GE(refused.status, 400);
  EXPECT_THAT(refused.body, HasSubstr("resolved"));
  auto done = Call(port, "POST", "/api/v1/contacts/" + id + "/wrap-up", alice,
                   R"({"disposition":"resolved","notes":"refunded"})", 200);
  EXPECT_EQ(done.value("state", ""), "closed");
  EXPECT_EQ(done.value("disposition", ""), "resolved");

  auto queue = Call(port, "GET", "/api/v1/queues/support", admin, "", 200);
  EXPECT_EQ(queue.value("answered", -1), 1);
  EXPECT_EQ(queue.value("waiting", -1), 0);
  EXPECT_DOUBLE_EQ(queue.value("sl_target", 0.0), 0.8);  // service_level.target, for colours
  EXPECT_DOUBLE_EQ(queue.value("sl_target_seconds", 0.0), 20.0);

  EXPECT_EQ(Http(port, "GET", "/metrics").status, 401);  // not open unless configured
  auto metrics = Http(port, "GET", "/metrics", "", admin);
  EXPECT_EQ(metrics.status, 200);
  EXPECT_THAT(metrics.body, HasSubstr("parley_contacts_answered_total{queue=\"support\"} 1"));
  events_client.reset();  // a browser answers the server's close frame; this client cannot
  EXPECT_EQ(server->Terminate(), 0) << server->output();
  EXPECT_THAT(server->output(), HasSubstr("stopped cleanly"));

  // The journal exports as contact records, an Asterisk queue_log and an interval report.
  auto cdr = RunParley({"export", "contacts", "--data", DataDir()});
  ASSERT_EQ(cdr.exit_code, 0) << cdr.err;
  EXPECT_THAT(cdr.out, HasSubstr("support"));
  EXPECT_THAT(cdr.out, HasSubstr("alice"));
  auto qlog = RunParley({"export", "queue-log", "--data", DataDir()});
  ASSERT_EQ(qlog.exit_code, 0) << qlog.err;
  EXPECT_THAT(qlog.out, HasSubstr("|" + id + "|support|NONE|ENTERQUEUE|"));
  EXPECT_THAT(qlog.out, HasSubstr("|" + id + "|support|alice|CONNECT|"));
  auto intervals = RunParley({"export", "intervals", "--data", DataDir(), "--interval", "15"});
  ASSERT_EQ(intervals.exit_code, 0) << intervals.err;
  EXPECT_THAT(intervals.out, HasSubstr("support"));
  EXPECT_EQ(
      RunParley({"export", "intervals", "--data", DataDir(), "--from", "yesterday"}).exit_code, 1);
}

TEST_F(ServerTest, ATaskCreatedAtAnEntryPointRunsItsFlowIntoAQueueAndIsOfferedOnTheStream) {
  auto server = Start();
  ASSERT_TRUE(server->started());
  const int port = server->port();
  const std::string admin = Login(port, "admin");
  const std::string bob = Login(port, "bob");
  ASSERT_FALSE(admin.empty());
  ASSERT_FALSE(bob.empty());
  auto events_client = std::make_unique<EventsClient>(port, "/api/v1/events", bob);
  ASSERT_TRUE(events_client->connected());
  Call(port, "PUT", "/api/v1/agents/bob/presence", bob, R"({"presence":"available"})", 200);

  auto unknown =
      Http(port, "POST", "/api/v1/contacts", R"({"channel":"task","entry":"fax-form"})", admin);
  EXPECT_EQ(unknown.status, 404) << unknown.body;
  EXPECT_THAT(unknown.body, HasSubstr("no entry point for task 'fax-form'"));

  auto created = Call(port, "POST", "/api/v1/contacts", admin,
                      R"({"channel":"task","entry":"web-form","attributes":{"order":"42"}})", 201);
  const std::string id = created.value("id", "");
  ASSERT_FALSE(id.empty()) << created.dump();
  EXPECT_EQ(created.value("state", ""), "in-flow");  // the reply precedes the flow

  // The flow queues it in support; Bob's stream carries the offer.
  bool offered = false;
  for (int i = 0; i < 20 && !offered; ++i) {
    auto msg = events_client->Next();
    ASSERT_TRUE(msg) << "no offer event";
    auto j = json::parse(*msg, nullptr, false);
    offered = j.value("type", "") == "contact.offered" && j.value("agent", "") == "bob" &&
              j.value("contact", "") == id;
  }
  EXPECT_TRUE(offered);
  auto c = Call(port, "GET", "/api/v1/contacts/" + id, admin, "", 200);
  EXPECT_EQ(c.value("state", ""), "offered");
  EXPECT_EQ(c.value("queue", ""), "support");
  EXPECT_EQ(c.value("priority", 0), 3);
  EXPECT_EQ(c["attributes"].value("source", ""), "web-form");
  EXPECT_EQ(c["attributes"].value("order", ""), "42");

  // Accepting connects it: the flow ends there. Its steps went into the journal and out on the
  // admin's stream.
  Call(port, "POST", "/api/v1/contacts/" + id + "/accept", bob, "{}", 200);
  auto all = std::make_unique<EventsClient>(port, "/api/v1/events?after=1", admin);
  ASSERT_TRUE(all->connected());
  std::vector<std::string> flow;
  for (int i = 0; i < 40 && (flow.empty() || flow.back().rfind("flow.ended", 0) != 0); ++i) {
    auto msg = all->Next();
    ASSERT_TRUE(msg) << "flow events missing; so far: " << ::testing::PrintToString(flow);
    auto j = json::parse(*msg, nullptr, false);
    const std::string type = j.value("type", "");
    if (j.value("contact", "") != id || type.rfind("flow.", 0) != 0) continue;
    flow.push_back(type + " " + j.value("step", "") +
                   (type == "flow.ended" ? " " + j.value("outcome", "") : ""));
  }
  EXPECT_EQ(flow, (std::vector<std::string>{"flow.step_entered tag", "flow.step_exited tag",
                                            "flow.step_entered wait", "flow.step_exited wait",
                                            "flow.ended wait connected"}));
  all.reset();
  events_client.reset();
  EXPECT_EQ(server->Terminate(), 0) << server->output();
}

TEST_F(ServerTest, ContactsFromOneNumberShareACustomerWhoCanBeExportedAndErased) {
  auto server = Start();
  ASSERT_TRUE(server->started());
  const int port = server->port();
  const std::string admin = Login(port, "admin");
  ASSERT_FALSE(admin.empty());
  auto first = Call(port, "POST", "/api/v1/contacts", admin,
                    R"({"queue":"support","channel":"task","attributes":{"order":"A-1"},
                        "from":{"channel":"voice","address":"+1 (555) 0100"}})",
                    201);
  auto second = Call(port, "POST", "/api/v1/contacts", admin,
                     R"({"queue":"support","channel":"task",
                         "from":{"channel":"sms","address":"+15550100"}})",
                     201);
  ASSERT_TRUE(first["customer"].is_string()) << first.dump();
  const std::string customer = first["customer"];
  EXPECT_EQ(second["customer"], customer);
  const std::string path = "/api/v1/customers/" + customer;

  auto got = Call(port, "GET", path, admin, "", 200);
  EXPECT_EQ(got["identities"][0]["address"], "+15550100");
  EXPECT_EQ(Call(port, "GET", "/api/v1/customers?q=%2B1555", admin, "", 200)["customers"][0]["id"],
            customer);
  auto timeline = Call(port, "GET", path + "/timeline", admin, "", 200);
  ASSERT_EQ(timeline["contacts"].size(), 2u) << timeline.dump();
  EXPECT_EQ(timeline["contacts"][0]["id"], second["id"]);  // newest first
  EXPECT_EQ(timeline["contacts"][1]["id"], first["id"]);
  Call(port, "POST", path + "/notes", admin, R"({"text":"asked for a refund"})", 201);
  auto exported = Call(port, "GET", path + "/export", admin, "", 200);
  EXPECT_EQ(exported["contacts"].size(), 2u);
  EXPECT_EQ(exported["notes"][0]["text"], "asked for a refund");

  Call(port, "DELETE", path, admin, "", 204);
  EXPECT_EQ(Http(port, "GET", path, "", admin).status, 404);
  const std::string first_id = first["id"];
  auto after = Call(port, "GET", "/api/v1/contacts/" + first_id, admin, "", 200);
  EXPECT_TRUE(after["customer"].is_null()) << after.dump();
  EXPECT_TRUE(after["attributes"].empty()) << after.dump();
  // A new contact from the erased number starts a new customer, with nothing of the old one
  // and a new id (an erased customer's id is never given out again).
  auto again = Call(port, "POST", "/api/v1/contacts", admin,
                    R"({"queue":"support","channel":"task",
                        "from":{"channel":"voice","address":"+15550100"}})",
                    201);
  ASSERT_TRUE(again["customer"].is_string());
  EXPECT_NE(again["customer"].get<std::string>(), customer);
  const std::string fresh = "/api/v1/customers/" + again["customer"].get<std::string>();
  EXPECT_TRUE(Call(port, "GET", fresh, admin, "", 200)["notes"].empty());
  EXPECT_EQ(Call(port, "GET", fresh + "/timeline", admin, "", 200)["contacts"].size(), 1u);
}

// First-contact resolution through the real server and SQLite store: contacts linked to customers
// by their `from`, handled by alice; one customer comes back on another channel.
TEST_F(ServerTest, ReportsJudgeFirstContactResolutionByTheCustomersRepeatContacts) {
  auto server = Start();
  ASSERT_TRUE(server->started());
  const int port = server->port();
  const std::string admin = Login(port, "admin");
  const std::string alice = Login(port, "alice");
  ASSERT_FALSE(admin.empty());
  ASSERT_FALSE(alice.empty());
  EventsClient events(port, "/api/v1/events", alice);
  ASSERT_TRUE(events.connected());
  Call(port, "PUT", "/api/v1/agents/alice/presence", alice, R"({"presence":"available"})", 200);

  auto create = [&](const std::string& from) {
    const std::string body = R"({"queue":"support","channel":"task")" +
                             (from.empty() ? std::string() : R"(,"from":)" + from) + "}";
    return Call(port, "POST", "/api/v1/contacts", admin, body, 201).value("id", "");
  };
  auto handle = [&](const std::string& from) {
    const std::string id = create(from);
    ASSERT_FALSE(id.empty());
    bool offered = false;  // wait on alice's stream for the offer
    while (!offered) {
      auto msg = events.Next();
      ASSERT_TRUE(msg) << "no offer of contact " << id;
      auto j = json::parse(*msg, nullptr, false);
      offered = j.value("type", "") == "contact.offered" && j.value("contact", "") == id;
    }
    Call(port, "POST", "/api/v1/contacts/" + id + "/accept", alice, "{}", 200);
    Call(port, "POST", "/api/v1/contacts/" + id + "/end", alice, "{}", 200);
    Call(port, "POST", "/api/v1/contacts/" + id + "/wrap-up", alice,
         R"({"disposition":"resolved"})", 200);
  };
  handle(R"({"channel":"voice","address":"+15550100"})");  // comes back by SMS below
  handle(R"({"channel":"email","address":"bo@example.com"})");
  handle("");  // no customer: not judged
  ASSERT_FALSE(create(R"({"channel":"sms","address":"+1 555 0100"})").empty());

  // Yesterday to tomorrow by days (UTC, the site's zone): the sums hold whatever day it is.
  auto day = [](int offset) {
    const std::time_t t = std::time(nullptr) + offset * 86400;
    std::tm tm{};
    gmtime_r(&t, &tm);
    char text[32];
    std::strftime(text, sizeof text, "%Y-%m-%dT00:00:00Z", &tm);
    return std::string(text);
  };
  const std::string range = "from=" + day(-1) + "&to=" + day(1) + "&interval=1d";
  for (const std::string subject : {"queues?queue=support&", "agents?agent=alice&"}) {
    auto report = Call(port, "GET", "/api/v1/reports/" + subject + range, admin, "", 200);
    int64_t judged = 0, open = 0;
    double resolved = 0;
    for (const auto& row : report["rows"]) {
      judged += row.value("fcr_contacts", int64_t{0});
      open += row.value("fcr_open", int64_t{0});
      if (row["fcr"].is_number())
        resolved += row["fcr"].get<double>() * row["fcr_contacts"].get<double>();
    }
    EXPECT_EQ(judged, 2) << report.dump();
    EXPECT_DOUBLE_EQ(resolved, 1.0) << report.dump();  // bo, not the customer who came back
    EXPECT_EQ(open, 1) << report.dump();               // bo's week has not ended
  }
  auto csv =
      Http(port, "GET", "/api/v1/reports/queues?queue=support&format=csv&" + range, "", admin);
  EXPECT_EQ(csv.status, 200) << csv.body;
  EXPECT_THAT(csv.body, HasSubstr(",fcr_contacts,fcr,fcr_open,"));
}

TEST_F(ServerTest, RolesAndScopesOnTheRealRoutes) {
  auto server = Start();
  ASSERT_TRUE(server->started());
  const int port = server->port();
  const std::string wall = Login(port, "wall");
  const std::string bob = Login(port, "bob");
  const std::string alice = Login(port, "alice");  // agent and lead of north
  const std::string qa = Login(port, "qa");
  ASSERT_FALSE(wall.empty());
  // The wallboard reads queues and changes nothing.
  EXPECT_EQ(Http(port, "GET", "/api/v1/queues", "", wall).status, 200);
  EXPECT_EQ(Http(port, "POST", "/api/v1/contacts", R"({"queue":"support"})", wall).status, 403);
  EXPECT_EQ(
      Http(port, "PUT", "/api/v1/agents/bob/presence", R"({"presence":"available"})", wall).status,
      403);
  // An agent changes only itself and does not learn who else exists.
  EXPECT_EQ(
      Http(port, "PUT", "/api/v1/agents/bob/presence", R"({"presence":"available"})", bob).status,
      200);
  EXPECT_EQ(
      Http(port, "PUT", "/api/v1/agents/carol/presence", R"({"presence":"available"})", bob).status,
      404);
  EXPECT_EQ(Http(port, "GET", "/api/v1/agents/carol", "", bob).status, 404);
  auto mine = Body(Http(port, "GET", "/api/v1/agents", "", bob));
  ASSERT_EQ(mine["agents"].size(), 1u);
  EXPECT_EQ(mine["agents"][0].value("id", ""), "bob");
  // A team lead manages its own team (bob) but not carol's.
  EXPECT_EQ(Http(port, "PUT", "/api/v1/agents/bob/presence",
                 R"({"presence":"not-ready","reason":"break"})", alice)
                .status,
            200);
  EXPECT_EQ(Http(port, "PUT", "/api/v1/agents/carol/presence", R"({"presence":"available"})", alice)
                .status,
            404);
  // QA reads contacts but changes no state.
  EXPECT_EQ(Http(port, "GET", "/api/v1/contacts", "", qa).status, 200);
  EXPECT_EQ(
      Http(port, "PUT", "/api/v1/agents/bob/presence", R"({"presence":"available"})", qa).status,
      403);
  // Logging out ends the session at once.
  EXPECT_EQ(Http(port, "POST", "/api/v1/auth/logout", "", bob).status / 100, 2);
  EXPECT_EQ(Http(port, "GET", "/api/v1/agents", "", bob).status, 401);
}

TEST_F(ServerTest, BadInputGetsAClearErrorAndTheServerStaysUp) {
  auto server = Start();
  ASSERT_TRUE(server->started());
  const int port = server->port();
  const std::string admin = Login(port, "admin");
  auto r = Http(port, "POST", "/api/v1/contacts", R"({"queue": "support",)", admin);
  EXPECT_EQ(r.status, 400);
  EXPECT_THAT(r.body, HasSubstr("\"error\""));
  r = Http(port, "POST", "/api/v1/contacts", R"({"queue": 7})", admin);
  EXPECT_EQ(r.status, 400);
  EXPECT_THAT(r.body, HasSubstr("queue"));
  r = Http(port, "POST", "/api/v1/contacts", R"({"queue": "support", "colour": "red"})", admin);
  EXPECT_EQ(r.status, 400);
  EXPECT_THAT(r.body, HasSubstr("colour"));
  r = Http(port, "POST", "/api/v1/contacts", R"({"queue": "nowhere"})", admin);
  EXPECT_GE(r.status, 400);
  EXPECT_LT(r.status, 500);
  r = Http(port, "GET", "/api/v1/contacts/not-a-number", "", admin);
  EXPECT_EQ(r.status, 400);
  r = Http(port, "POST", "/api/v1/contacts", "{\"queue\": \"" + std::string(2 << 20, 'x') + "\"}",
           admin);
  EXPECT_EQ(r.status, 413);
  EXPECT_EQ(Http(port, "GET", "/healthz").status, 200);
  // Nothing accepted before was lost: a valid contact still goes in and is listed.
  const std::string id = NewTask(port, admin, "after the noise");
  auto list = Body(Http(port, "GET", "/api/v1/contacts", "", admin));
  ASSERT_EQ(list["contacts"].size(), 1u);
  EXPECT_EQ(list["contacts"][0].value("id", ""), id);
}

TEST_F(ServerTest, KillNineLosesNothingAcknowledged) {
  std::vector<std::string> ids;
  std::vector<std::string> queued_times;
  {
    auto server = Start();
    ASSERT_TRUE(server->started());
    const int port = server->port();
    const std::string admin = Login(port, "admin");
    for (int i = 0; i < 3; ++i) ids.push_back(NewTask(port, admin, "task " + std::to_string(i)));
    for (const auto& id : ids) {
      auto c = Body(Http(port, "GET", "/api/v1/contacts/" + id, "", admin));
      queued_times.push_back(c["times"].value("queued", ""));
    }
    server->Kill();  // SIGKILL: no shutdown at all
  }
  auto server = Start();
  ASSERT_TRUE(server->started());
  const int port = server->port();
  const std::string admin = Login(port, "admin");
  auto list = Body(Http(port, "GET", "/api/v1/contacts?state=queued", "", admin));
  ASSERT_EQ(list["contacts"].size(), 3u) << list.dump();
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(list["contacts"][i].value("id", ""), ids[i]);
    EXPECT_EQ(list["contacts"][i]["times"].value("queued", ""), queued_times[i]);
  }
  // They keep their order: the first agent to become available gets the oldest.
  const std::string bob = Login(port, "bob");
  Call(port, "PUT", "/api/v1/agents/bob/presence", bob, R"({"presence":"available"})", 200);
  auto first = Body(Http(port, "GET", "/api/v1/contacts/" + ids[0], "", admin));
  EXPECT_EQ(first.value("state", ""), "offered");
  // New contacts get new ids.
  const std::string next = NewTask(port, admin, "after restart");
  EXPECT_GT(std::stoull(next), std::stoull(ids.back()));
}

TEST_F(ServerTest, ConfigApplyRefusesABadFileAndAppliesAGoodOneToTheRunningServer) {
  auto server = Start();
  ASSERT_TRUE(server->started());
  const int port = server->port();
  const std::string admin = Login(port, "admin");
  auto before = RunParley({"config", "export", "--data", DataDir()});
  ASSERT_EQ(before.exit_code, 0) << before.err;

  auto bad =
      RunParley({"config", "apply", std::string(PARLEY_SOURCE_DIR) + "/tests/data/server_bad.yaml",
                 "--data", DataDir()});
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_THAT(bad.err, HasSubstr("server_bad.yaml:4:49: unknown strategy 'fastest-first'"));
  EXPECT_EQ(RunParley({"config", "export", "--data", DataDir()}).out, before.out);

  const std::string v2 = std::string(PARLEY_SOURCE_DIR) + "/tests/data/server_v2.yaml";
  auto dry = RunParley({"config", "apply", v2, "--data", DataDir(), "--dry-run"});
  EXPECT_EQ(dry.exit_code, 0) << dry.err;
  EXPECT_THAT(dry.out, HasSubstr("+ queues billing"));
  EXPECT_EQ(RunParley({"config", "export", "--data", DataDir()}).out, before.out);

  auto good = RunParley({"config", "apply", v2, "--data", DataDir()});
  EXPECT_EQ(good.exit_code, 0) << good.err;
  EXPECT_THAT(good.out, HasSubstr("applied: configuration version 2"));
  ASSERT_TRUE(server->WaitForOutput("now running version 2")) << server->output();
  EXPECT_EQ(Http(port, "GET", "/api/v1/queues/billing", "", admin).status, 200);
  EXPECT_THAT(RunParley({"config", "export", "--data", DataDir()}).out, HasSubstr("billing"));
}

TEST_F(ServerTest, BackupOfARunningServerRestores) {
  std::string id;
  const std::string copy = tmp_.path() + "/copy";
  {
    auto server = Start();
    ASSERT_TRUE(server->started());
    const std::string admin = Login(server->port(), "admin");
    id = NewTask(server->port(), admin, "kept in the backup");
    auto backup = RunParley({"backup", copy, "--data", DataDir()});
    ASSERT_EQ(backup.exit_code, 0) << backup.err;
    // A second backup into the same place is refused rather than overwriting.
    EXPECT_EQ(RunParley({"backup", copy, "--data", DataDir()}).exit_code, 1);
    EXPECT_EQ(server->Terminate(), 0);
  }
  ServerProcess restored(copy, {"--config", kConfig});
  ASSERT_TRUE(restored.started()) << restored.output();
  const std::string admin = Login(restored.port(), "admin");
  auto c = Http(restored.port(), "GET", "/api/v1/contacts/" + id, "", admin);
  EXPECT_EQ(c.status, 200);
  EXPECT_EQ(Body(c).value("state", ""), "queued");
}

// HMAC-SHA256 of `body` under `key`, lower-case hex (what X-Parley-Signature carries).
std::string HmacHex(const std::string& key, const std::string& body) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(body.data()), body.size(), mac, &len);
  static const char* kHex = "0123456789abcdef";
  std::string out;
  for (unsigned int i = 0; i < len; ++i) {
    out += kHex[mac[i] >> 4];
    out += kHex[mac[i] & 15];
  }
  return out;
}

TEST_F(ServerTest, WebhooksDeliverSignedEventsOfTheSubscribedTypes) {
  HttpReceiver receiver;
  const std::string config = tmp_.path() + "/with_webhook.yaml";
  std::ofstream(config) << "include: " << kConfig << "\n"
                        << "webhooks:\n  - {name: crm, url: \"http://127.0.0.1:" << receiver.port()
                        << "/hook\", events: [contact.queued], secret_env: "
                           "PARLEY_E2E_WEBHOOK_SECRET}\n";
  ::setenv("PARLEY_E2E_WEBHOOK_SECRET", "s3cret-for-tests", 1);
  ServerProcess server(DataDir(), {"--config", config});
  ASSERT_TRUE(server.started()) << server.output();
  const std::string admin = Login(server.port(), "admin");
  const std::string id = NewTask(server.port(), admin, "hooked");
  const auto got = receiver.WaitFor(1);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].target, "/hook");
  const json body = json::parse(got[0].body, nullptr, false);
  EXPECT_EQ(body.value("type", ""), "contact.queued");
  EXPECT_EQ(body["event"].value("contact", ""), id);
  EXPECT_EQ(got[0].headers.at("x-parley-signature"),
            "sha256=" + HmacHex("s3cret-for-tests", got[0].body));
}

TEST_F(ServerTest, AWebhookWithoutItsSecretStopsTheStart) {
  const std::string config = tmp_.path() + "/with_webhook.yaml";
  std::ofstream(config) << "include: " << kConfig << "\n"
                        << "webhooks: [{name: crm, url: \"http://127.0.0.1:9/\", "
                           "secret_env: PARLEY_E2E_UNSET_SECRET}]\n";
  ::unsetenv("PARLEY_E2E_UNSET_SECRET");
  auto r = RunParley({"serve", "--http", "127.0.0.1:0", "--data", DataDir(), "--config", config});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("PARLEY_E2E_UNSET_SECRET"));
}

TEST_F(ServerTest, AnInvalidSeedConfigurationIsRefusedWithItsPosition) {
  auto r = RunParley({"serve", "--http", "127.0.0.1:0", "--data", DataDir(), "--config",
                      std::string(PARLEY_SOURCE_DIR) + "/tests/data/server_bad.yaml"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("server_bad.yaml:4:49:"));
}

}  // namespace
}  // namespace parley::testing
