// End-to-end tests of call control (docs/voice.md, "Call control"): the real `parley serve
// --sip`, a caller on raw UDP whose RTP port the test listens on, and alice's phone scripted on
// raw UDP so that every hold, transfer and hang-up happens at a moment the test chooses. States
// are checked over the REST API and the event stream; every wait has a bounded deadline.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <deque>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "tests/voice/raw_phone.h"
#include "tests/voice/voice_fixture.h"

namespace parley::testing {
namespace {

using namespace std::chrono_literals;
using Json = nlohmann::json;

const std::string kCallControlSite = kData + "/voice_callctl.yaml";

// A server on the call-control site, the admin's session and event stream, alice's phone
// registered with alice Available.
class CallControlTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(server_.started());
    cookie_ = Login(http(), "admin");
    ASSERT_FALSE(cookie_.empty());
    events_ = std::make_unique<EventsClient>(http(), "/api/v1/events", cookie_);
    ASSERT_TRUE(events_->connected());
    ASSERT_EQ(AliceAvailableOnPhone(server_, phone_.port(), cookie_), "");
  }
  int http() { return server_.process().port(); }

  // Calls `number` and lets alice's phone answer; the contact's id, or "" on failure.
  std::string TalkingToAlice(const std::string& number = "5000") {
    if (caller_.Call(number, rtp_.port()) != "SIP/2.0 200 OK") return "";
    if (!phone_.Answer()) return "";
    if (!WaitForEvent(*events_, "handling.started", "\"agent\":\"alice\"")) return "";
    return OnlyContact()["id"].get<std::string>();
  }
  Json OnlyContact() {
    auto r = Http(http(), "GET", "/api/v1/contacts", "", cookie_);
    Json j = Json::parse(r.body, nullptr, false);
    if (j.is_discarded() || j["contacts"].empty()) return Json::object({{"id", ""}});
    return j["contacts"][0];
  }
  HttpResponse Post(const std::string& id, const std::string& action,
                    const std::string& body = "") {
    return Http(http(), "POST", "/api/v1/contacts/" + id + "/" + action, body, cookie_);
  }
  // Polls the contact until `ok(contact)` holds (bounded); the last contact seen.
  Json ContactUntil(const std::string& id, const std::function<bool(const Json&)>& ok) {
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    Json c;
    do {
      c = Json::parse(Http(http(), "GET", "/api/v1/contacts/" + id, "", cookie_).body, nullptr,
                      false);
      if (!c.is_discarded() && ok(c)) return c;
    } while (std::chrono::steady_clock::now() < deadline);
    return c;
  }
  std::string AliceSettled() { return AgentSettled(http(), cookie_, "alice"); }
  // No contact is open in the handling or offered state.
  bool NoneHandled() {
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    do {
      Json j =
          Json::parse(Http(http(), "GET", "/api/v1/contacts", "", cookie_).body, nullptr, false);
      if (j.is_discarded()) continue;
      bool any = false;
      for (const auto& c : j["contacts"]) {
        const std::string s = c["state"].get<std::string>();
        any = any || s == "handling" || s == "offered";
      }
      if (!any) return true;
    } while (std::chrono::steady_clock::now() < deadline);
    return false;
  }

  VoiceServer server_{kCallControlSite};
  std::string cookie_;
  std::unique_ptr<EventsClient> events_;
  AgentPhone phone_{server_.sip_port()};
  RtpSink rtp_;
  RawCaller caller_{server_.sip_port()};
};

TEST_F(CallControlTest, HoldFromTheApiPlaysMusicToTheCallerAndIsJournaled) {
  const std::string id = TalkingToAlice();
  ASSERT_FALSE(id.empty());
  auto held = Post(id, "hold");
  ASSERT_EQ(held.status, 200) << held.body;
  EXPECT_TRUE(Json::parse(held.body)["on_hold"].get<bool>());
  EXPECT_TRUE(WaitForEvent(*events_, "hold.started", "\"agent\":\"alice\""));
  EXPECT_TRUE(rtp_.HearsMusic());  // the caller hears music on hold
  auto twice = Post(id, "hold");
  EXPECT_EQ(twice.status, 409);
  EXPECT_THAT(twice.body, ::testing::HasSubstr("is already on hold"));

  auto resumed = Post(id, "resume");
  ASSERT_EQ(resumed.status, 200) << resumed.body;
  EXPECT_FALSE(Json::parse(resumed.body)["on_hold"].get<bool>());
  EXPECT_TRUE(WaitForEvent(*events_, "hold.ended", "\"agent\":\"alice\""));
  auto again = Post(id, "resume");
  EXPECT_EQ(again.status, 409);
  EXPECT_THAT(again.body, ::testing::HasSubstr("is not on hold"));

  EXPECT_EQ(caller_.HangUp(), "SIP/2.0 200 OK");
  EXPECT_FALSE(phone_.Request("BYE").empty());
  EXPECT_EQ(AliceSettled(), "available wrap-up");
  // The hold is in the contact record export (hold column).
  ASSERT_EQ(server_.process().Terminate(), 0);
  const std::string hold = FirstContactExported(server_.data_dir(), "hold");
  EXPECT_FALSE(hold.empty());
  EXPECT_NE(hold, "0.000");
}

TEST_F(CallControlTest, PhoneHoldWithSendonlyReinviteHoldsAndSendrecvResumes) {
  const std::string id = TalkingToAlice();
  ASSERT_FALSE(id.empty());
  const std::string hold = phone_.Reinvite("sendonly");
  ASSERT_EQ(hold.substr(0, hold.find("\r\n")), "SIP/2.0 200 OK") << hold;
  EXPECT_THAT(hold, ::testing::HasSubstr("a=recvonly"));
  EXPECT_TRUE(WaitForEvent(*events_, "hold.started", "\"agent\":\"alice\""));
  EXPECT_EQ(ContactUntil(id, [](const Json& c) { return c["on_hold"] == true; })["on_hold"], true);
  EXPECT_TRUE(rtp_.HearsMusic());

  const std::string inactive = phone_.Reinvite("inactive");  // still on hold: no second event
  EXPECT_THAT(inactive, ::testing::HasSubstr("a=inactive"));
  const std::string resume = phone_.Reinvite("sendrecv");
  ASSERT_EQ(resume.substr(0, resume.find("\r\n")), "SIP/2.0 200 OK") << resume;
  EXPECT_THAT(resume, ::testing::HasSubstr("a=sendrecv"));
  EXPECT_TRUE(WaitForEvent(*events_, "hold.ended", "\"agent\":\"alice\""));
  EXPECT_EQ(ContactUntil(id, [](const Json& c) { return c["on_hold"] == false; })["on_hold"],
            false);
  EXPECT_EQ(phone_.HangUp().substr(0, 14), "SIP/2.0 200 OK");
  EXPECT_EQ(AliceSettled(), "available wrap-up");
}

TEST_F(CallControlTest, HangupFromTheApiByesBothLegsAndAliceWrapsUp) {
  const std::string id = TalkingToAlice();
  ASSERT_FALSE(id.empty());
  auto hung = Post(id, "hangup");
  ASSERT_EQ(hung.status, 200) << hung.body;
  EXPECT_EQ(Json::parse(hung.body)["state"], "wrap-up");
  EXPECT_FALSE(phone_.Request("BYE").empty());
  EXPECT_EQ(AliceSettled(), "available wrap-up");
  auto twice = Post(id, "hangup");
  EXPECT_EQ(twice.status, 409);
  EXPECT_THAT(twice.body, ::testing::HasSubstr("no call left to hang up"));
}

TEST_F(CallControlTest, BlindTransferFromTheApiRequeuesTheCallerWithMusic) {
  const std::string id = TalkingToAlice();
  ASSERT_FALSE(id.empty());
  auto moved = Post(id, "transfer", R"({"queue":"support"})");
  ASSERT_EQ(moved.status, 200) << moved.body;
  EXPECT_FALSE(phone_.Request("BYE").empty());  // alice's leg is released
  EXPECT_TRUE(WaitForEvent(*events_, "contact.transferred", "\"agent\":\"alice\""));
  EXPECT_TRUE(rtp_.HearsMusic());  // the caller waits with music
  const Json waiting = ContactUntil(id, [](const Json& c) { return c["state"] == "queued"; });
  EXPECT_EQ(waiting["state"], "queued");
  EXPECT_EQ(waiting["attributes"]["sip.call_id"].is_string(), true);  // it kept its attributes
  EXPECT_EQ(AliceSettled(), "available wrap-up");
  EXPECT_EQ(caller_.HangUp(), "SIP/2.0 200 OK");
  EXPECT_TRUE(NoneHandled());
  // The transfer is in the queue_log export.
  ASSERT_EQ(server_.process().Terminate(), 0);
  auto log = RunProgram(PARLEY_BINARY, {"export", "queue-log", "--data", server_.data_dir()},
                        std::chrono::seconds(30));
  ASSERT_EQ(log.exit_code, 0) << log.err;
  EXPECT_THAT(log.out, ::testing::HasSubstr("|support|alice|BLINDTRANSFER|support|"));
}

TEST_F(CallControlTest, ReferFromThePhoneTransfersToAQueueWithAFinalNotify) {
  const std::string id = TalkingToAlice();
  ASSERT_FALSE(id.empty());
  const std::string accepted = phone_.Refer("support");
  EXPECT_EQ(accepted.substr(0, accepted.find("\r\n")), "SIP/2.0 202 Accepted") << accepted;
  EXPECT_THAT(phone_.FinalNotify(), ::testing::HasSubstr("SIP/2.0 200 OK"));
  EXPECT_FALSE(phone_.Request("BYE").empty());
  EXPECT_TRUE(WaitForEvent(*events_, "contact.transferred", "\"agent\":\"alice\""));
  EXPECT_TRUE(rtp_.HearsMusic());
  EXPECT_EQ(AliceSettled(), "available wrap-up");
  EXPECT_EQ(caller_.HangUp(), "SIP/2.0 200 OK");
}

TEST_F(CallControlTest, ReferToAnEntryPointRunsItsFlowAgain) {
  const std::string id = TalkingToAlice();
  ASSERT_FALSE(id.empty());
  const std::string accepted = phone_.Refer("5001");  // the hotline's number: flow "hot"
  EXPECT_EQ(accepted.substr(0, accepted.find("\r\n")), "SIP/2.0 202 Accepted") << accepted;
  EXPECT_THAT(phone_.FinalNotify(), ::testing::HasSubstr("SIP/2.0 200 OK"));
  EXPECT_FALSE(phone_.Request("BYE").empty());
  EXPECT_TRUE(WaitForEvent(*events_, "flow.step_entered", "\"flow\":\"hot\""));
  const Json queued = ContactUntil(id, [](const Json& c) { return c["queue"] == "hotline"; });
  EXPECT_EQ(queued["queue"], "hotline");  // alice wraps up support's call: it waits
  EXPECT_EQ(AliceSettled(), "available wrap-up");
  EXPECT_EQ(caller_.HangUp(), "SIP/2.0 200 OK");
  EXPECT_TRUE(NoneHandled());
}

TEST_F(CallControlTest, ReferToAnUnknownTargetGetsAnErrorNotifyAndTheCallStays) {
  const std::string id = TalkingToAlice();
  ASSERT_FALSE(id.empty());
  const std::string accepted = phone_.Refer("nowhere");
  EXPECT_EQ(accepted.substr(0, accepted.find("\r\n")), "SIP/2.0 202 Accepted") << accepted;
  EXPECT_THAT(phone_.FinalNotify(), ::testing::HasSubstr("SIP/2.0 404 Not Found"));
  EXPECT_EQ(OnlyContact()["state"], "handling");
  EXPECT_EQ(phone_.HangUp().substr(0, 14), "SIP/2.0 200 OK");
  EXPECT_EQ(AliceSettled(), "available wrap-up");
}

// The counter of refused SIP requests (parley_sip_rejected_total, reason "malformed").
int64_t MalformedCount(int http, const std::string& cookie) {
  const std::string metrics = Http(http, "GET", "/metrics", "", cookie).body;
  const std::string key = "parley_sip_rejected_total{reason=\"malformed\"} ";
  const size_t at = metrics.find(key);
  return at == std::string::npos ? -1 : std::stoll(metrics.substr(at + key.size()));
}

// Issue 8: a REFER outside any dialog, or from a leg that is not an agent's, got 202 Accepted
// (and a NOTIFY 481 later) although nothing could be transferred. RFC 3515 lets the recipient
// refuse it outright: 403, counted as a bad request; the call goes on.
TEST_F(CallControlTest, ReferOutsideADialogOrFromTheCallerIsForbidden) {
  const std::string id = TalkingToAlice();
  ASSERT_FALSE(id.empty());
  const int64_t before = MalformedCount(http(), cookie_);
  ASSERT_GE(before, 0);
  UdpPeer stray;
  const std::string via = "127.0.0.1:" + std::to_string(stray.port());
  stray.Send(server_.sip_port(),
             "REFER sip:alice@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP " + via +
                 ";branch=z9hG4bK-stray\r\nFrom: <sip:mallory@127.0.0.1>;tag=stray\r\n"
                 "To: <sip:alice@127.0.0.1>\r\nCall-ID: stray-refer\r\nCSeq: 1 REFER\r\n"
                 "Contact: <sip:mallory@" +
                 via +
                 ">\r\nRefer-To: <sip:support@127.0.0.1>\r\nMax-Forwards: 70\r\n"
                 "Content-Length: 0\r\n\r\n");
  EXPECT_EQ(stray.FinalResponse(), "SIP/2.0 403 Forbidden");
  EXPECT_EQ(caller_.Refer("support"), "SIP/2.0 403 Forbidden");
  EXPECT_EQ(MalformedCount(http(), cookie_), before + 2);
  EXPECT_EQ(OnlyContact()["state"], "handling");
  EXPECT_EQ(OnlyContact()["agent"], "alice");
  EXPECT_EQ(caller_.HangUp(), "SIP/2.0 200 OK");
  EXPECT_FALSE(phone_.Request("BYE").empty());
  EXPECT_EQ(AliceSettled(), "available wrap-up");
}

TEST_F(CallControlTest, MuteSendsSilenceAndDigitsGoToTheCallerAsRfc4733) {
  const std::string id = TalkingToAlice();
  ASSERT_FALSE(id.empty());
  // Alice speaks until `want` reaches the caller; false at the deadline.
  const auto until_caller_hears = [&](bool (*want)(int, const std::vector<uint8_t>&)) {
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    while (std::chrono::steady_clock::now() < deadline) {
      phone_.Speak();
      if (rtp_.Hears(want, 20ms)) return true;
    }
    return false;
  };
  ASSERT_TRUE(until_caller_hears(IsVoice));
  auto muted = Post(id, "mute", R"({"muted":true})");
  ASSERT_EQ(muted.status, 200) << muted.body;
  EXPECT_TRUE(Json::parse(muted.body)["muted"].get<bool>());
  ASSERT_TRUE(until_caller_hears(IsSilence));
  // Packets leave in the order the media thread made them: after the first silence, alice's
  // voice no longer reaches the caller.
  for (int i = 0; i < 10; ++i) phone_.Speak();
  int silent = 0;
  while (silent < 10) {
    bool voice = false;
    ASSERT_TRUE(rtp_.Hears([&](int pt, const std::vector<uint8_t>& p) {
      voice = IsVoice(pt, p);
      return pt == 0;
    }));
    EXPECT_FALSE(voice);
    ++silent;
  }
  EXPECT_EQ(Post(id, "mute", R"({"muted":"yes"})").status, 400);
  ASSERT_EQ(Post(id, "mute", R"({"muted":false})").status, 200);
  EXPECT_TRUE(until_caller_hears(IsVoice));

  auto digits = Post(id, "dtmf", R"({"digits":"12#"})");
  ASSERT_EQ(digits.status, 200) << digits.body;
  EXPECT_TRUE(rtp_.Hears([](int pt, const std::vector<uint8_t>& p) {
    return pt == 101 && p.size() == 4 && p[0] == 1;  // event 1 (digit "1")
  }));
  auto bad = Post(id, "dtmf", R"({"digits":"12x"})");
  EXPECT_EQ(bad.status, 400);
  EXPECT_THAT(bad.body, ::testing::HasSubstr("'x' is not a DTMF digit"));
  EXPECT_EQ(caller_.HangUp(), "SIP/2.0 200 OK");
}

// Whatever hangs up, at whatever stage, nobody is left handling and alice ends in wrap-up or
// Available (table-driven over every hang-up order; each call lasts a second or two).
enum class Who { kCaller, kPhone, kApi };
enum class Stage { kTalking, kOnHold, kTransferRinging };
struct HangupCase {
  Who who;
  Stage stage;
};

std::string CaseName(const ::testing::TestParamInfo<HangupCase>& info) {
  const char* who[] = {"Caller", "Phone", "Api"};
  const char* stage[] = {"Talking", "OnHold", "TransferRinging"};
  return std::string(who[static_cast<int>(info.param.who)]) + "HangsUp" +
         stage[static_cast<int>(info.param.stage)];
}

class HangupOrderTest : public CallControlTest, public ::testing::WithParamInterface<HangupCase> {};

TEST_P(HangupOrderTest, LeavesNoAgentInAWrongState) {
  const HangupCase hc = GetParam();
  // The transfer case starts on the hotline (no wrap-up), so the transfer rings alice again.
  const std::string id = TalkingToAlice(hc.stage == Stage::kTransferRinging ? "5001" : "5000");
  ASSERT_FALSE(id.empty());
  if (hc.stage == Stage::kOnHold) {
    ASSERT_EQ(Post(id, "hold").status, 200);
  }
  if (hc.stage == Stage::kTransferRinging) {
    ASSERT_EQ(Post(id, "transfer", R"({"queue":"support"})").status, 200);
    ASSERT_FALSE(phone_.Request("BYE").empty());
    ASSERT_FALSE(phone_.Ringing().empty());  // alice is offered it again
  }
  switch (hc.who) {
    case Who::kCaller:
      EXPECT_EQ(caller_.HangUp(), "SIP/2.0 200 OK");
      if (hc.stage == Stage::kTransferRinging) {
        EXPECT_TRUE(phone_.Cancelled());
      } else {
        EXPECT_FALSE(phone_.Request("BYE").empty());
      }
      break;
    case Who::kPhone:
      if (hc.stage == Stage::kTransferRinging) {
        // The ringing phone refuses; the caller then gives up waiting.
        EXPECT_TRUE(phone_.Decline("486 Busy Here"));
        EXPECT_EQ(caller_.HangUp(), "SIP/2.0 200 OK");
      } else {
        EXPECT_EQ(phone_.HangUp().substr(0, 14), "SIP/2.0 200 OK");
      }
      break;
    case Who::kApi: {
      auto r = Post(id, "hangup");
      EXPECT_EQ(r.status, 200) << r.body;
      if (hc.stage == Stage::kTransferRinging) {
        EXPECT_TRUE(phone_.Cancelled());
      } else {
        EXPECT_FALSE(phone_.Request("BYE").empty());
      }
      break;
    }
  }
  EXPECT_TRUE(NoneHandled());
  const std::string alice = AliceSettled();
  EXPECT_THAT(
      alice, ::testing::AnyOf(::testing::StartsWith("available"), ::testing::StartsWith("wrap-up")))
      << alice;
  EXPECT_THAT(alice, ::testing::Not(::testing::HasSubstr("handling")));
}

INSTANTIATE_TEST_SUITE_P(EveryOrder, HangupOrderTest,
                         ::testing::Values(HangupCase{Who::kCaller, Stage::kTalking},
                                           HangupCase{Who::kCaller, Stage::kOnHold},
                                           HangupCase{Who::kCaller, Stage::kTransferRinging},
                                           HangupCase{Who::kPhone, Stage::kTalking},
                                           HangupCase{Who::kPhone, Stage::kOnHold},
                                           HangupCase{Who::kPhone, Stage::kTransferRinging},
                                           HangupCase{Who::kApi, Stage::kTalking},
                                           HangupCase{Who::kApi, Stage::kOnHold},
                                           HangupCase{Who::kApi, Stage::kTransferRinging}),
                         CaseName);

}  // namespace
}  // namespace parley::testing
