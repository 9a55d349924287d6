// End-to-end tests of the consultation (attended) transfer (docs/voice.md, "Consultation
// transfer") through SIP: the real `parley serve --sip`, a caller on raw UDP, alice's and bob's
// phones scripted on raw UDP, each streaming its own PCMU level (tests/voice/raw_phone.h), so
// that who hears whom is read off every frame. States are checked over the REST API and the
// event stream; every wait is bounded.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "tests/voice/raw_phone.h"
#include "tests/voice/voice_fixture.h"

namespace parley::testing {
namespace {

using namespace std::chrono_literals;
using Json = nlohmann::json;

const std::string kSite = kData + "/voice_monitor.yaml";

// A server with alice's and bob's phones registered; the caller talks with alice, bob is
// Available (after the call reached alice).
class ConsultTest : public ::testing::Test {
 protected:
  void SetUp() override {
    CallWithAlice call;
    ASSERT_EQ(StartCallWithAlice(server_, alice_, bob_, caller_, caller_rtp_, talkers_, &call), "");
    cookie_ = call.cookie;
    events_ = std::move(call.events);
    id_ = call.id;
  }
  int http() { return server_.process().port(); }
  HttpResponse Post(const std::string& action, const std::string& body = "") {
    return Http(http(), "POST", "/api/v1/contacts/" + id_ + "/" + action, body, cookie_);
  }
  // Bob's phone answers the consultation and streams his level; false if it never rang.
  bool BobAnswers() {
    if (!bob_.Answer()) return false;
    talkers_.Add(bob_.media(), bob_.parley_media_port(), kThirdLevel);
    return true;
  }
  // `agent`'s presence and the states of the contacts it holds, as "available handling".
  std::string AgentState(const std::string& agent) {
    Json a = Json::parse(Http(http(), "GET", "/api/v1/agents/" + agent, "", cookie_).body, nullptr,
                         false);
    if (a.is_discarded()) return "";
    std::string out = a["presence"].get<std::string>();
    for (const auto& c : a["contacts"]) out += " " + c["state"].get<std::string>();
    return out;
  }
  // Polls AgentState until it is `want` (bounded); the last one seen.
  std::string AgentStateBecomes(const std::string& agent, const std::string& want) {
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    std::string s;
    do {
      s = AgentState(agent);
      if (s == want) return s;
    } while (std::chrono::steady_clock::now() < deadline);
    return s;
  }

  // Bob's level: the third party's (4000).
  const uint8_t kThirdLevel = kSupervisorLevel;
  VoiceServer server_{kSite, {"alice", "bob"}};
  std::string cookie_, id_;
  std::unique_ptr<EventsClient> events_;
  AgentPhone alice_{server_.sip_port()};
  AgentPhone bob_{server_.sip_port(), "bob"};
  RtpSink caller_rtp_;
  RawCaller caller_{server_.sip_port()};
  Talkers talkers_;  // last: its thread stops before the ports it sends from close
};

TEST_F(ConsultTest, AliceConsultsBobWhileTheCallerHoldsThenCompletesTheTransfer) {
  auto started = Post("consult", R"({"agent":"bob"})");
  ASSERT_EQ(started.status, 200) << started.body;
  const Json c = Json::parse(started.body);
  EXPECT_EQ(c["consult"]["target"], "bob");
  EXPECT_TRUE(c["on_hold"].get<bool>());
  EXPECT_TRUE(WaitForEvent(*events_, "consult.started", "\"target\":\"bob\""));
  ASSERT_TRUE(BobAnswers());
  // Alice and bob talk; the caller hears music and neither of them.
  EXPECT_TRUE(HearsAll(alice_.media(), kThird));
  EXPECT_TRUE(HearsAll(bob_.media(), kAgent));
  EXPECT_EQ(NeverHears(bob_.media(), kCaller), "");
  EXPECT_TRUE(caller_rtp_.HearsMusic());
  EXPECT_EQ(NeverHears(caller_rtp_, kAgent | kThird), "");
  EXPECT_EQ(AgentState("bob"), "available handling");  // held for the call: no other offer

  auto done = Post("consult/complete");
  ASSERT_EQ(done.status, 200) << done.body;
  const Json after = Json::parse(done.body);
  EXPECT_EQ(after["agent"], "bob") << done.body;
  EXPECT_TRUE(after["consult"].is_null());
  EXPECT_FALSE(after["on_hold"].get<bool>());
  EXPECT_FALSE(alice_.Request("BYE").empty());  // alice's phone is released
  EXPECT_TRUE(WaitForEvent(*events_, "consult.ended", "\"reason\":\"completed\""));
  // The caller and bob hear each other; alice is gone from the call.
  EXPECT_TRUE(HearsAll(caller_rtp_, kThird));
  EXPECT_TRUE(HearsAll(bob_.media(), kCaller));
  EXPECT_EQ(SettlesWithout(bob_.media(), kCaller, kAgent), "");
  EXPECT_EQ(AgentStateBecomes("alice", "available wrap-up"), "available wrap-up");
  EXPECT_EQ(AgentState("bob"), "available handling");

  EXPECT_EQ(caller_.HangUp(), "SIP/2.0 200 OK");
  EXPECT_FALSE(bob_.Request("BYE").empty());
  EXPECT_EQ(AgentStateBecomes("bob", "available wrap-up"), "available wrap-up");
  // The contact kept its attributes, and the transfer is in the queue_log export.
  const Json kept =
      Json::parse(Http(http(), "GET", "/api/v1/contacts/" + id_, "", cookie_).body, nullptr, false);
  EXPECT_TRUE(kept["attributes"]["sip.call_id"].is_string()) << kept.dump();
  ASSERT_EQ(server_.process().Terminate(), 0);
  auto log = RunProgram(PARLEY_BINARY, {"export", "queue-log", "--data", server_.data_dir()},
                        std::chrono::seconds(30));
  ASSERT_EQ(log.exit_code, 0) << log.err;
  EXPECT_THAT(log.out, ::testing::HasSubstr("|support|alice|ATTENDEDTRANSFER|"));
  // ... then bob's own lines, as Asterisk writes them (issue 8).
  EXPECT_THAT(log.out, ::testing::HasSubstr("|support|bob|CONNECT|"));
  EXPECT_THAT(log.out, ::testing::HasSubstr("|support|bob|COMPLETECALLER|"));
}

TEST_F(ConsultTest, CancelTheTargetHangingUpOrNotAnsweringReturnsTheCallerToAlice) {
  // Cancelled by alice once bob answered.
  ASSERT_EQ(Post("consult", R"({"agent":"bob"})").status, 200);
  ASSERT_TRUE(BobAnswers());
  EXPECT_TRUE(HearsAll(alice_.media(), kThird));
  auto cancelled = Post("consult/cancel");
  ASSERT_EQ(cancelled.status, 200) << cancelled.body;
  EXPECT_FALSE(bob_.Request("BYE").empty());
  EXPECT_TRUE(WaitForEvent(*events_, "consult.ended", "\"reason\":\"cancelled\""));
  EXPECT_EQ(SettlesWithout(caller_rtp_, kAgent, kThird), "");
  EXPECT_EQ(SettlesWithout(alice_.media(), kCaller, kThird), "");
  EXPECT_EQ(AgentStateBecomes("bob", "available"), "available");
  EXPECT_EQ(Post("consult/complete").status, 409);

  // Bob hangs up on alice.
  ASSERT_EQ(Post("consult", R"({"agent":"bob"})").status, 200);
  ASSERT_TRUE(BobAnswers());
  EXPECT_TRUE(HearsAll(alice_.media(), kThird));
  EXPECT_EQ(bob_.HangUp().substr(0, 14), "SIP/2.0 200 OK");
  EXPECT_TRUE(WaitForEvent(*events_, "consult.ended", "\"reason\":\"target_hung_up\""));
  EXPECT_EQ(SettlesWithout(caller_rtp_, kAgent, kThird), "");
  EXPECT_EQ(AgentStateBecomes("bob", "available"), "available");

  // Bob's phone is busy.
  ASSERT_EQ(Post("consult", R"({"agent":"bob"})").status, 200);
  EXPECT_TRUE(bob_.Decline("486 Busy Here"));
  // Issue 8: the event says the phone refused, not that it rang out.
  EXPECT_TRUE(WaitForEvent(*events_, "consult.ended", "\"reason\":\"refused\""));
  EXPECT_TRUE(HearsAll(caller_rtp_, kAgent));
  const Json back =
      Json::parse(Http(http(), "GET", "/api/v1/contacts/" + id_, "", cookie_).body, nullptr, false);
  EXPECT_EQ(back["agent"], "alice");
  EXPECT_FALSE(back["on_hold"].get<bool>());
  EXPECT_EQ(AgentStateBecomes("bob", "available"), "available");

  EXPECT_EQ(caller_.HangUp(), "SIP/2.0 200 OK");
  EXPECT_FALSE(alice_.Request("BYE").empty());
  EXPECT_EQ(AgentStateBecomes("alice", "available wrap-up"), "available wrap-up");
}

// Issue 8: a consultation of a queue whose only other member is not free waits for him (the
// caller on hold with music); once he is Available his phone rings, answers, and the transfer
// completes to him.
TEST_F(ConsultTest, ConsultingAQueueWaitsForItsMemberThenRingsHimAndCompletes) {
  ASSERT_EQ(
      Http(http(), "PUT", "/api/v1/agents/bob/presence", R"({"presence":"not-ready"})", cookie_)
          .status,
      200);
  auto waiting = Post("consult", R"({"queue":"support"})");
  ASSERT_EQ(waiting.status, 200) << waiting.body;
  const Json w = Json::parse(waiting.body);
  EXPECT_EQ(w["consult"]["state"], "waiting") << waiting.body;
  EXPECT_EQ(w["consult"]["queue"], "support");
  EXPECT_TRUE(w["on_hold"].get<bool>());
  EXPECT_TRUE(WaitForEvent(*events_, "consult.waiting", "\"consulted_queue\":\"support\""));
  EXPECT_TRUE(caller_rtp_.HearsMusic());
  EXPECT_EQ(Post("consult/complete").status, 409);

  ASSERT_EQ(
      Http(http(), "PUT", "/api/v1/agents/bob/presence", R"({"presence":"available"})", cookie_)
          .status,
      200);
  EXPECT_TRUE(WaitForEvent(*events_, "consult.started", "\"target\":\"bob\""));
  ASSERT_TRUE(BobAnswers());
  EXPECT_TRUE(WaitForEvent(*events_, "consult.answered", "\"target\":\"bob\""));
  const Json talking =
      Json::parse(Http(http(), "GET", "/api/v1/contacts/" + id_, "", cookie_).body, nullptr, false);
  EXPECT_EQ(talking["consult"]["state"], "talking") << talking.dump();
  EXPECT_TRUE(HearsAll(alice_.media(), kThird));
  EXPECT_TRUE(HearsAll(bob_.media(), kAgent));

  auto done = Post("consult/complete");
  ASSERT_EQ(done.status, 200) << done.body;
  EXPECT_EQ(Json::parse(done.body)["agent"], "bob") << done.body;
  EXPECT_FALSE(alice_.Request("BYE").empty());
  EXPECT_TRUE(WaitForEvent(*events_, "consult.ended", "\"reason\":\"completed\""));
  EXPECT_TRUE(HearsAll(caller_rtp_, kThird));
  EXPECT_TRUE(HearsAll(bob_.media(), kCaller));
  EXPECT_EQ(caller_.HangUp(), "SIP/2.0 200 OK");
  EXPECT_FALSE(bob_.Request("BYE").empty());
  EXPECT_EQ(AgentStateBecomes("bob", "available wrap-up"), "available wrap-up");
}

TEST_F(ConsultTest, TheCallerHangingUpDuringTheConsultationReleasesBoth) {
  ASSERT_EQ(Post("consult", R"({"agent":"bob"})").status, 200);
  ASSERT_TRUE(BobAnswers());
  EXPECT_EQ(caller_.HangUp(), "SIP/2.0 200 OK");
  EXPECT_FALSE(alice_.Request("BYE").empty());
  EXPECT_FALSE(bob_.Request("BYE").empty());
  EXPECT_TRUE(WaitForEvent(*events_, "consult.ended", "\"reason\":\"call_ended\""));
  EXPECT_EQ(AgentStateBecomes("alice", "available wrap-up"), "available wrap-up");
  EXPECT_EQ(AgentStateBecomes("bob", "available"), "available");
}

// Issue 8: alice hanging up during the consultation ended the call for everyone. Once bob
// answered, it completes the transfer (as Asterisk's atxfer does).
TEST_F(ConsultTest, AliceHangingUpAfterBobAnsweredCompletesTheTransfer) {
  ASSERT_EQ(Post("consult", R"({"agent":"bob"})").status, 200);
  ASSERT_TRUE(BobAnswers());
  EXPECT_TRUE(HearsAll(alice_.media(), kThird));
  EXPECT_EQ(alice_.HangUp().substr(0, 14), "SIP/2.0 200 OK");
  EXPECT_TRUE(WaitForEvent(*events_, "contact.transferred", "attended"));
  EXPECT_TRUE(WaitForEvent(*events_, "consult.ended", "\"reason\":\"transferor_hung_up\""));
  // The caller and bob hear each other; the music stopped.
  EXPECT_TRUE(HearsAll(caller_rtp_, kThird));
  EXPECT_TRUE(HearsAll(bob_.media(), kCaller));
  EXPECT_EQ(SettlesWithout(caller_rtp_, kThird, kAgent), "");
  EXPECT_EQ(AgentStateBecomes("alice", "available wrap-up"), "available wrap-up");
  EXPECT_EQ(AgentState("bob"), "available handling");
  const Json now =
      Json::parse(Http(http(), "GET", "/api/v1/contacts/" + id_, "", cookie_).body, nullptr, false);
  EXPECT_EQ(now["agent"], "bob") << now.dump();
  EXPECT_FALSE(now["on_hold"].get<bool>());
  EXPECT_EQ(caller_.HangUp(), "SIP/2.0 200 OK");
  EXPECT_FALSE(bob_.Request("BYE").empty());
  EXPECT_EQ(AgentStateBecomes("bob", "available wrap-up"), "available wrap-up");
}

// Issue 8: alice hanging up while bob's phone still rings cancels it, and the caller goes back
// to the support queue (with music) instead of being dropped; bob, free again, gets the call.
TEST_F(ConsultTest, AliceHangingUpWhileBobRingsPutsTheCallerBackInTheQueue) {
  ASSERT_EQ(Post("consult", R"({"agent":"bob"})").status, 200);
  ASSERT_FALSE(bob_.Ringing().empty());
  EXPECT_EQ(alice_.HangUp().substr(0, 14), "SIP/2.0 200 OK");
  EXPECT_TRUE(bob_.Cancelled());
  EXPECT_TRUE(
      WaitForEvent(*events_, "consult.ended", "\"reason\":\"transferor_hung_up_before_answer\""));
  EXPECT_TRUE(caller_rtp_.HearsMusic());
  EXPECT_EQ(AgentStateBecomes("alice", "available wrap-up"), "available wrap-up");
  // Back in support: offered to bob, whose phone rings for the call itself now.
  ASSERT_TRUE(BobAnswers());
  EXPECT_TRUE(WaitForEvent(*events_, "handling.started", "\"agent\":\"bob\""));
  EXPECT_TRUE(HearsAll(caller_rtp_, kThird));
  EXPECT_TRUE(HearsAll(bob_.media(), kCaller));
  EXPECT_EQ(caller_.HangUp(), "SIP/2.0 200 OK");
  EXPECT_FALSE(bob_.Request("BYE").empty());
  EXPECT_EQ(AgentStateBecomes("bob", "available wrap-up"), "available wrap-up");
}

// Issue 8: a recording ended with the first agent's leg when the transfer completed; it goes on
// in the same file, bob's voice in the agent (right) channel.
TEST_F(ConsultTest, ARecordingFollowsTheCallToBobWhenTheTransferCompletes) {
  auto record = Post("recording", R"({"action":"start"})");
  ASSERT_EQ(record.status, 200) << record.body;
  EXPECT_TRUE(WaitForEvent(*events_, "recording.started", "\"by\":\"admin\""));
  EXPECT_EQ(SettlesWithout(caller_rtp_, kAgent, kThird), "");  // a second of alice, recorded
  ASSERT_EQ(Post("consult", R"({"agent":"bob"})").status, 200);
  ASSERT_TRUE(BobAnswers());
  EXPECT_TRUE(HearsAll(alice_.media(), kThird));
  auto done = Post("consult/complete");
  ASSERT_EQ(done.status, 200) << done.body;
  EXPECT_FALSE(alice_.Request("BYE").empty());
  EXPECT_TRUE(HearsAll(caller_rtp_, kThird));
  EXPECT_EQ(SettlesWithout(bob_.media(), kCaller, kAgent), "");
  EXPECT_EQ(Json::parse(Post("recording", R"({"action":"pause"})").body)["recording_state"],
            "paused");  // still running after the transfer: it can be paused
  ASSERT_EQ(Post("recording", R"({"action":"resume"})").status, 200);
  EXPECT_TRUE(HearsAll(caller_rtp_, kThird));
  EXPECT_EQ(caller_.HangUp(), "SIP/2.0 200 OK");
  EXPECT_FALSE(bob_.Request("BYE").empty());
  EXPECT_FALSE(
      EventMessage(*events_, "recording.completed", "\"contact\":\"" + id_ + "\"").empty());

  // One recording for the call, now bob's.
  const Json list =
      Json::parse(Http(http(), "GET", "/api/v1/recordings", "", cookie_).body, nullptr, false);
  ASSERT_FALSE(list.is_discarded());
  ASSERT_EQ(list["recordings"].size(), 1u) << list.dump();
  EXPECT_EQ(list["recordings"][0]["agent"], "bob");
  const std::string rec_id = list["recordings"][0]["id"].get<std::string>();
  auto audio = Http(http(), "GET", "/api/v1/recordings/" + rec_id + "/audio", "", cookie_);
  ASSERT_EQ(audio.status, 200) << audio.body;
  const auto left = WavChannel(audio.body, 0);
  const auto right = WavChannel(audio.body, 1);
  ASSERT_FALSE(right.empty());
  // At least 100 ms of each: the caller on the left, alice then bob on the right.
  EXPECT_GT(SamplesAt(left, kCallerLevel), 800u);
  EXPECT_GT(SamplesAt(right, kAgentLevel), 800u);
  EXPECT_GT(SamplesAt(right, kThirdLevel), 800u);
  EXPECT_EQ(SamplesAt(left, kThirdLevel), 0u);  // bob never reaches the customer's channel
}

// Three-way conference (docs/voice.md, "Conference").
TEST_F(ConsultTest, ConferenceLetsAllThreeTalkAndAliceLeavingLeavesTheCallerWithBob) {
  ASSERT_EQ(Post("consult", R"({"agent":"bob"})").status, 200);
  ASSERT_TRUE(BobAnswers());
  EXPECT_TRUE(HearsAll(alice_.media(), kThird));
  auto conf = Post("consult/conference");
  ASSERT_EQ(conf.status, 200) << conf.body;
  EXPECT_TRUE(Json::parse(conf.body)["consult"]["conference"].get<bool>());
  EXPECT_FALSE(Json::parse(conf.body)["on_hold"].get<bool>());
  EXPECT_TRUE(WaitForEvent(*events_, "conference.started", "\"target\":\"bob\""));
  EXPECT_TRUE(HearsAll(caller_rtp_, kAgent | kThird));
  EXPECT_TRUE(HearsAll(alice_.media(), kCaller | kThird));
  EXPECT_TRUE(HearsAll(bob_.media(), kCaller | kAgent));

  // Alice leaves: the caller and bob stay connected and bob has the call.
  EXPECT_EQ(alice_.HangUp().substr(0, 14), "SIP/2.0 200 OK");
  EXPECT_TRUE(WaitForEvent(*events_, "conference.ended", "\"reason\":\"agent_left\""));
  EXPECT_EQ(SettlesWithout(caller_rtp_, kThird, kAgent), "");
  EXPECT_EQ(SettlesWithout(bob_.media(), kCaller, kAgent), "");
  EXPECT_EQ(AgentStateBecomes("alice", "available wrap-up"), "available wrap-up");
  EXPECT_EQ(AgentState("bob"), "available handling");
  // Then the caller hangs up: bob's phone gets BYE and bob wraps up.
  EXPECT_EQ(caller_.HangUp(), "SIP/2.0 200 OK");
  EXPECT_FALSE(bob_.Request("BYE").empty());
  EXPECT_EQ(AgentStateBecomes("bob", "available wrap-up"), "available wrap-up");
}

TEST_F(ConsultTest, BobLeavingTheConferenceLeavesTheCallerWithAlice) {
  ASSERT_EQ(Post("consult", R"({"agent":"bob"})").status, 200);
  ASSERT_TRUE(BobAnswers());
  ASSERT_EQ(Post("consult/conference").status, 200);
  EXPECT_TRUE(HearsAll(caller_rtp_, kAgent | kThird));
  EXPECT_EQ(bob_.HangUp().substr(0, 14), "SIP/2.0 200 OK");
  EXPECT_TRUE(WaitForEvent(*events_, "conference.ended", "\"reason\":\"target_left\""));
  EXPECT_EQ(SettlesWithout(caller_rtp_, kAgent, kThird), "");
  EXPECT_EQ(SettlesWithout(alice_.media(), kCaller, kThird), "");
  EXPECT_EQ(AgentStateBecomes("bob", "available"), "available");
  EXPECT_EQ(AgentState("alice"), "available handling");
  EXPECT_EQ(caller_.HangUp(), "SIP/2.0 200 OK");
  EXPECT_FALSE(alice_.Request("BYE").empty());
  EXPECT_EQ(AgentStateBecomes("alice", "available wrap-up"), "available wrap-up");
}

}  // namespace
}  // namespace parley::testing
