// End-to-end tests of supervisor monitoring (docs/voice.md, "Supervisor monitoring") through SIP:
// the real `parley serve --sip`, a caller on raw UDP, alice's phone and the supervisor sue's
// phone scripted on raw UDP. Each party streams its own constant PCMU level (caller 1000,
// alice 2000, sue 4000 in linear terms), so every 20 ms frame a party hears decodes to the sum
// of the levels mixed into it: who hears whom is read off each frame. Every wait is bounded.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <functional>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "tests/voice/raw_phone.h"
#include "tests/voice/voice_fixture.h"

namespace parley::testing {
namespace {

using namespace std::chrono_literals;
using Json = nlohmann::json;

const std::string kMonitorSite = kData + "/voice_monitor.yaml";

// A server on the monitoring site; the admin's and sue's sessions, the event stream; alice's and
// sue's phones registered, alice Available.
class MonitorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(server_.started());
    cookie_ = Login(http(), "admin");
    sue_cookie_ = Login(http(), "sue");
    ASSERT_FALSE(cookie_.empty());
    ASSERT_FALSE(sue_cookie_.empty());
    events_ = std::make_unique<EventsClient>(http(), "/api/v1/events", cookie_);
    ASSERT_TRUE(events_->connected());
    ASSERT_EQ(AliceAvailableOnPhone(server_, phone_.port(), cookie_), "");
    ASSERT_EQ(
        RegisterUser(server_.sip_port(), "sue", "sip:sue@127.0.0.1:" + std::to_string(sue_.port())),
        "SIP/2.0 200 OK");
  }
  int http() { return server_.process().port(); }

  // The caller talks with alice, both streaming their levels; the contact's id, or "".
  std::string TalkingToAlice() {
    if (caller_.Call("5000", caller_rtp_.port()) != "SIP/2.0 200 OK") return "";
    if (!phone_.Answer()) return "";
    if (!WaitForEvent(*events_, "handling.started", "\"agent\":\"alice\"")) return "";
    talkers_.Add(caller_rtp_, MediaPortOf(caller_.first_answer()), kCallerLevel);
    talkers_.Add(phone_.media(), phone_.parley_media_port(), kAgentLevel);
    auto r = Http(http(), "GET", "/api/v1/contacts", "", cookie_);
    Json j = Json::parse(r.body, nullptr, false);
    if (j.is_discarded() || j["contacts"].empty()) return "";
    return j["contacts"][0]["id"].get<std::string>();
  }
  HttpResponse Monitor(const std::string& id, const std::string& mode) {
    return Http(http(), "POST", "/api/v1/contacts/" + id + "/monitor",
                R"({"mode":")" + mode + R"("})", sue_cookie_);
  }
  // Sue's phone answers the monitoring call and streams her level.
  bool SueAnswers() {
    if (!sue_.Answer()) return false;
    talkers_.Add(sue_.media(), sue_.parley_media_port(), kSupervisorLevel);
    return true;
  }
  Json Contact(const std::string& id) {
    return Json::parse(Http(http(), "GET", "/api/v1/contacts/" + id, "", cookie_).body, nullptr,
                       false);
  }
  std::string AliceSettled() { return AgentSettled(http(), cookie_, "alice"); }

  VoiceServer server_{kMonitorSite, {"alice", "sue"}};
  std::string cookie_, sue_cookie_;
  std::unique_ptr<EventsClient> events_;
  AgentPhone phone_{server_.sip_port()};
  AgentPhone sue_{server_.sip_port(), "sue"};
  RtpSink caller_rtp_;
  RawCaller caller_{server_.sip_port()};
  Talkers talkers_;  // last: its thread stops before the ports it sends from close
};

TEST_F(MonitorTest, ListenWhisperBargeThenTheSupervisorHangsUpAndTheCallGoesOn) {
  const std::string id = TalkingToAlice();
  ASSERT_FALSE(id.empty());
  ASSERT_TRUE(HearsAll(caller_rtp_, kAgent));
  ASSERT_TRUE(HearsAll(phone_.media(), kCaller));

  // Listen: sue hears both; neither hears her.
  auto listen = Monitor(id, "listen");
  ASSERT_EQ(listen.status, 200) << listen.body;
  EXPECT_EQ(Json::parse(listen.body)["monitor"]["mode"], "listen") << listen.body;
  ASSERT_TRUE(SueAnswers());
  EXPECT_TRUE(WaitForEvent(*events_, "monitor.started", "\"supervisor\":\"sue\""));
  EXPECT_TRUE(HearsAll(sue_.media(), kCaller | kAgent));
  EXPECT_EQ(SettlesWithout(caller_rtp_, kAgent, kSupervisor), "");
  EXPECT_EQ(SettlesWithout(phone_.media(), kCaller, kSupervisor), "");
  EXPECT_EQ(Monitor(id, "listen").status, 409);  // already in that mode

  // Whisper: alice hears sue; the caller does not.
  auto whisper = Monitor(id, "whisper");
  ASSERT_EQ(whisper.status, 200) << whisper.body;
  EXPECT_TRUE(WaitForEvent(*events_, "monitor.mode_changed", "\"mode\":\"whisper\""));
  EXPECT_TRUE(HearsAll(phone_.media(), kCaller | kSupervisor));
  EXPECT_EQ(SettlesWithout(caller_rtp_, kAgent, kSupervisor), "");
  EXPECT_TRUE(HearsAll(sue_.media(), kCaller | kAgent));

  // Barge: everybody hears the two others.
  auto barge = Monitor(id, "barge");
  ASSERT_EQ(barge.status, 200) << barge.body;
  EXPECT_TRUE(WaitForEvent(*events_, "monitor.mode_changed", "\"mode\":\"barge\""));
  EXPECT_TRUE(HearsAll(caller_rtp_, kAgent | kSupervisor));
  EXPECT_TRUE(HearsAll(phone_.media(), kCaller | kSupervisor));
  EXPECT_TRUE(HearsAll(sue_.media(), kCaller | kAgent));

  // Sue hangs up (her phone keeps streaming): only monitoring ends.
  EXPECT_EQ(sue_.HangUp().substr(0, 14), "SIP/2.0 200 OK");
  EXPECT_TRUE(WaitForEvent(*events_, "monitor.ended", "\"reason\":\"supervisor_hung_up\""));
  EXPECT_EQ(SettlesWithout(caller_rtp_, kAgent, kSupervisor), "");
  EXPECT_EQ(SettlesWithout(phone_.media(), kCaller, kSupervisor), "");
  const Json after = Contact(id);
  EXPECT_EQ(after["state"], "handling") << after.dump();
  EXPECT_FALSE(after.contains("monitor") && !after["monitor"].is_null()) << after.dump();
  EXPECT_EQ(Monitor(id, "stop").status, 409);  // nobody monitors it any more

  // She monitors again; then the call ends, which hangs up her phone.
  ASSERT_EQ(Monitor(id, "listen").status, 200);
  ASSERT_TRUE(sue_.Answer());
  EXPECT_TRUE(WaitForEvent(*events_, "monitor.started", "\"supervisor\":\"sue\""));
  EXPECT_EQ(caller_.HangUp(), "SIP/2.0 200 OK");
  EXPECT_FALSE(sue_.Request("BYE").empty());
  EXPECT_FALSE(phone_.Request("BYE").empty());
  EXPECT_TRUE(WaitForEvent(*events_, "monitor.ended", "\"reason\":\"call_ended\""));
  EXPECT_EQ(AliceSettled(), "available wrap-up");
}

TEST_F(MonitorTest, StopFromTheApiByesTheSupervisorAndTheCallGoesOn) {
  const std::string id = TalkingToAlice();
  ASSERT_FALSE(id.empty());
  ASSERT_EQ(Monitor(id, "barge").status, 200);
  ASSERT_TRUE(SueAnswers());
  EXPECT_TRUE(HearsAll(caller_rtp_, kAgent | kSupervisor));
  auto stop = Http(http(), "DELETE", "/api/v1/contacts/" + id + "/monitor", "", sue_cookie_);
  ASSERT_EQ(stop.status, 200) << stop.body;
  EXPECT_FALSE(sue_.Request("BYE").empty());
  EXPECT_TRUE(WaitForEvent(*events_, "monitor.ended", "\"reason\":\"stopped\""));
  EXPECT_EQ(SettlesWithout(caller_rtp_, kAgent, kSupervisor), "");
  EXPECT_EQ(SettlesWithout(phone_.media(), kCaller, kSupervisor), "");
  EXPECT_EQ(Contact(id)["state"], "handling");
  EXPECT_EQ(phone_.HangUp().substr(0, 14), "SIP/2.0 200 OK");
  EXPECT_EQ(AliceSettled(), "available wrap-up");
}

TEST_F(MonitorTest, UnansweredSupervisorPhoneIsCancelledAfterTheRingTimeout) {
  const std::string id = TalkingToAlice();
  ASSERT_FALSE(id.empty());
  ASSERT_EQ(Monitor(id, "listen").status, 200);
  ASSERT_FALSE(sue_.Ringing().empty());
  // voice.ring_timeout is 2 s on this site: Parley gives up and CANCELs.
  EXPECT_TRUE(sue_.Cancelled());
  EXPECT_TRUE(WaitForEvent(*events_, "monitor.ended", "\"reason\":\"no_answer\""));
  const Json after = Contact(id);
  EXPECT_EQ(after["state"], "handling") << after.dump();
  EXPECT_FALSE(after.contains("monitor") && !after["monitor"].is_null()) << after.dump();
  // The call is untouched, and she may try again.
  EXPECT_TRUE(HearsAll(caller_rtp_, kAgent));
  ASSERT_EQ(Monitor(id, "listen").status, 200);
  ASSERT_TRUE(sue_.Answer());
  EXPECT_TRUE(WaitForEvent(*events_, "monitor.started", "\"supervisor\":\"sue\""));
  EXPECT_EQ(phone_.HangUp().substr(0, 14), "SIP/2.0 200 OK");
  EXPECT_FALSE(sue_.Request("BYE").empty());
  EXPECT_EQ(AliceSettled(), "available wrap-up");
}

}  // namespace
}  // namespace parley::testing
