// End-to-end tests of call control driven from the agent's phone (docs/voice.md, "Call
// control"), with sipp as the phone and the caller: the real `parley serve --sip` on the
// call-control site, alice's phone playing a scenario of tests/data/sipp (hold and resume by
// re-INVITE, blind transfer by REFER), the outcome read over the REST API, the event stream and
// the contact export. The raw-UDP versions, which time each step from the test, are in
// call_control_e2e_test.cc. Every wait has a bounded deadline.

#include <gtest/gtest.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "tests/voice/voice_fixture.h"

namespace parley::testing {
namespace {

using namespace std::chrono_literals;
using Json = nlohmann::json;

const std::string kCallControlSite = kData + "/voice_callctl.yaml";

// The call's only contact (bounded wait until `ok` holds for it); the last one seen.
Json OnlyContactWhen(AliceRung& call, bool (*ok)(const Json&)) {
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  Json c = Json::object();
  do {
    Json all = Json::parse(call.Contacts().body, nullptr, false);
    if (all.is_discarded() || all["contacts"].size() != 1) continue;
    c = all["contacts"][0];
    if (ok(c)) return c;
  } while (std::chrono::steady_clock::now() < deadline);
  return c;
}

// alice's sipp phone answers, holds the call with a=sendonly (Parley answers a=recvonly, the
// scenario checks it), resumes with a=sendrecv a second later (answered a=sendrecv), and hangs
// up: the hold is journaled, counted in the contact's hold time, and alice wraps up.
TEST(CallControlSippTest, PhoneHoldsWithASendonlyReinviteAndResumesWithSendrecv) {
  VoiceServer server(kCallControlSite);
  ASSERT_TRUE(server.started());
  AliceRung call(server);
  ASSERT_EQ(call.ready(), "");
  call.Ring("agent_phone_holds.xml", {"-mi", "127.0.0.1", "-mp", std::to_string(FreePort())});
  const ProcessResult phone = call.Phone();
  EXPECT_EQ(phone.exit_code, 0) << phone.err;
  const ProcessResult caller = call.Caller();  // ends on the BYE alice's hang-up gives it
  EXPECT_EQ(caller.exit_code, 0) << caller.err;
  EXPECT_TRUE(WaitForEvent(call.events(), "handling.started", "\"agent\":\"alice\""));
  EXPECT_TRUE(WaitForEvent(call.events(), "hold.started", "\"agent\":\"alice\""));
  EXPECT_TRUE(WaitForEvent(call.events(), "hold.ended", "\"agent\":\"alice\""));
  EXPECT_TRUE(WaitForEvent(call.events(), "wrap_up.started", "\"agent\":\"alice\""));
  const Json ended = OnlyContactWhen(call, [](const Json& c) { return c["state"] == "wrap-up"; });
  EXPECT_EQ(ended["state"], "wrap-up") << ended.dump();
  EXPECT_EQ(ended["on_hold"], false) << ended.dump();
  EXPECT_EQ(AgentSettled(call.http(), call.cookie(), "alice"), "available wrap-up");
  ASSERT_EQ(server.process().Terminate(), 0);
  const std::string hold = FirstContactExported(server.data_dir(), "hold");
  EXPECT_FALSE(hold.empty());
  EXPECT_NE(hold, "0.000");  // the second on hold is the contact's hold time
}

// alice's sipp phone transfers the call with a REFER to the support queue's number: it gets
// 202 and a NOTIFY whose sipfrag is 200, then Parley's BYE; the caller runs the number's flow
// again and waits in support, bob (Available on his own sipp phone) is offered the call and
// answers, and alice wraps up.
TEST(CallControlSippTest, PhoneReferToAQueueNumberTransfersTheCallToTheNextAgent) {
  VoiceServer server(kCallControlSite, {"alice", "bob"});
  ASSERT_TRUE(server.started());
  AliceRung call(server);
  ASSERT_EQ(call.ready(), "");
  const std::string log = server.data_dir() + "/alice_phone_sipp.log";
  call.Ring("agent_phone_refers.xml",
            {"-s", "5000", "-mi", "127.0.0.1", "-mp", std::to_string(FreePort()), "-trace_logs",
             "-log_file", log});
  ASSERT_TRUE(WaitForEvent(call.events(), "handling.started", "\"agent\":\"alice\""));
  // bob comes on line only now, so the first offer was alice's; his phone answers and hangs up.
  const int bob_port = FreePort();
  auto bob_phone = std::async(std::launch::async, [&] {
    return server.Sipp("agent_phone.xml", {"-mi", "127.0.0.1", "-mp", std::to_string(FreePort())},
                       1, bob_port, 30s);
  });
  ASSERT_EQ(RegisterUser(server.sip_port(), "bob", "sip:bob@127.0.0.1:" + std::to_string(bob_port)),
            "SIP/2.0 200 OK");
  ASSERT_TRUE(WaitUntilUdpBound(bob_port));  // rung before his phone listens, he would miss it
  auto available = Http(call.http(), "PUT", "/api/v1/agents/bob/presence",
                        R"({"presence":"available"})", call.cookie());
  ASSERT_EQ(available.status, 200) << available.body;

  const ProcessResult alice_phone = call.Phone();
  EXPECT_EQ(alice_phone.exit_code, 0) << alice_phone.err;
  EXPECT_NE(ReadText(log).find("NOTIFY SIP/2.0 200 OK"), std::string::npos) << ReadText(log);
  // The number's flow queued the caller again, and the next agent was offered the call.
  EXPECT_TRUE(WaitForEvent(call.events(), "contact.queued", "\"queue\":\"support\""));
  EXPECT_TRUE(WaitForEvent(call.events(), "contact.offered", "\"agent\":\"bob\""));
  EXPECT_TRUE(WaitForEvent(call.events(), "handling.started", "\"agent\":\"bob\""));
  const ProcessResult bob = bob_phone.get();
  EXPECT_EQ(bob.exit_code, 0) << bob.err;
  const ProcessResult caller = call.Caller();  // bob's hang-up ends the call
  EXPECT_EQ(caller.exit_code, 0) << caller.err;
  const Json ended = OnlyContactWhen(call, [](const Json& c) { return c["agent"] == "bob"; });
  EXPECT_EQ(ended["agent"], "bob") << ended.dump();
  EXPECT_EQ(ended["state"], "wrap-up") << ended.dump();
  EXPECT_EQ(AgentSettled(call.http(), call.cookie(), "alice"), "available wrap-up");
}

}  // namespace
}  // namespace parley::testing
