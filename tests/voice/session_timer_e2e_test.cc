// End-to-end tests of RFC 4028 session timers (docs/voice.md, "Session timers"): the real
// `parley serve --sip` with a short `voice.session_timer` (tests/data/voice_session_timer.yaml:
// 10 s, and a media timeout of an hour, so only the session timer can end a call the peers leave
// up), a sipp caller and a sipp agent phone. A dialog nobody refreshes is hung up by Parley
// itself, so a lost BYE cannot leave alice in a call; a dialog that is refreshed stays up past
// the interval. Every wait has a bounded deadline.

#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <nlohmann/json.hpp>
#include <regex>
#include <string>
#include <vector>

#include "tests/voice/voice_fixture.h"

namespace parley::testing {
namespace {

using namespace std::chrono_literals;
using Json = nlohmann::json;

// A server on the session-timer site with alice Available on a sipp phone (AliceRung); Call()
// runs a sipp caller of 5000 and alice's phone scenario to their ends (each bounded).
class SessionTimerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(server_.started());
    call_ = std::make_unique<AliceRung>(server_);
    ASSERT_EQ(call_->ready(), "");
  }
  int http() { return call_->http(); }

  // The caller's log lines (its <log> actions) in `caller_log`.
  void Call(const std::string& caller_scenario, const std::string& phone_scenario,
            std::string* caller_log = nullptr) {
    const std::string log = server_.data_dir() + "/caller_sipp.log";
    call_->Ring(phone_scenario, {"-mi", "127.0.0.1", "-mp", std::to_string(FreePort())},
                caller_scenario, {"-trace_logs", "-log_file", log}, 60s);
    const ProcessResult caller = call_->Caller();
    EXPECT_EQ(caller.exit_code, 0) << caller.err;
    const ProcessResult answered = call_->Phone();
    EXPECT_EQ(answered.exit_code, 0) << answered.err;
    if (caller_log != nullptr) *caller_log = ReadText(log);
  }

  // The call's one contact once its legs are closed (bounded); the last seen otherwise.
  Json EndedContact() {
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    Json c;
    do {
      Json all = Json::parse(call_->Contacts().body, nullptr, false);
      if (all.is_discarded() || all["contacts"].size() != 1) continue;
      c = all["contacts"][0];
      if (c["legs"].size() == 2) return c;
    } while (std::chrono::steady_clock::now() < deadline);
    return c;
  }

  // The end every test checks: the engine ended alice's handling and she wraps up, both legs
  // closed, and the SIP adapter holds no call any more. `read_events`: false when the event
  // stream went unread longer than the server's WebSocket ping timeout (40 s), which closes it.
  void ExpectAliceWrapsUp(bool read_events = true) {
    if (read_events) {
      EXPECT_TRUE(WaitForEvent(call_->events(), "handling.ended", "\"agent\":\"alice\""));
      EXPECT_TRUE(WaitForEvent(call_->events(), "wrap_up.started", "\"agent\":\"alice\""));
    }
    const Json c = EndedContact();
    EXPECT_EQ(c.value("state", ""), "wrap-up") << c.dump();
    ASSERT_EQ(c["legs"].size(), 2u) << c.dump();
    for (const auto& leg : c["legs"]) EXPECT_TRUE(leg["closed_at"].is_string()) << c.dump();
    EXPECT_EQ(AgentSettled(http(), call_->cookie(), "alice"), "available wrap-up");
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    std::string metrics;
    do {
      metrics = Http(http(), "GET", "/metrics", "", call_->cookie()).body;
    } while (metrics.find("\nparley_sip_calls_active 0\n") == std::string::npos &&
             std::chrono::steady_clock::now() < deadline);
    EXPECT_NE(metrics.find("\nparley_sip_calls_active 0\n"), std::string::npos) << metrics;
  }

  // The ACKs of Parley's two refreshes answered the caller's offers (the scenarios log each
  // ACK's m= line): PCMU with telephone-event, then PCMA alone.
  static void ExpectAnswersInTheAcks(const std::string& caller_log) {
    EXPECT_TRUE(
        std::regex_search(caller_log, std::regex("refresh ACK m=audio [0-9]+ RTP/AVP 0 101\\n")))
        << caller_log;
    EXPECT_TRUE(
        std::regex_search(caller_log, std::regex("refresh ACK m=audio [0-9]+ RTP/AVP 8\\n")))
        << caller_log;
  }

  VoiceServer server_{kData + "/voice_session_timer.yaml"};
  std::unique_ptr<AliceRung> call_;
};

// The caller takes the refresher's part (refresher=uac) and then neither refreshes nor hangs up,
// as a caller whose BYE was lost: when the interval runs out, Parley BYEs it with the session
// timeout's Reason, BYEs alice's phone and alice wraps up.
TEST_F(SessionTimerTest, CallerWhoseByeWasLostIsHungUpWhenItsSessionExpires) {
  std::string caller_log;
  Call("caller_session_timer.xml", "agent_phone_answers_refreshes.xml", &caller_log);
  // Parley granted the configured interval (the caller asked for 1800 s) and left the refreshes
  // to the caller; its BYE says why it came.
  EXPECT_NE(caller_log.find("granted Session-Expires: 10;refresher=uac"), std::string::npos)
      << caller_log;
  EXPECT_NE(caller_log.find("BYE Reason: SIP;cause=408;text=\"Session timeout\""),
            std::string::npos)
      << caller_log;
  ExpectAliceWrapsUp();
}

// Regression: the phone answers without session-timer headers, so Parley refreshes the agent's
// leg itself (a re-INVITE at half the interval); the phone's 200 to it was taken for a second
// answer and Parley hung the agent up, in production 15 minutes into every such call. Here the
// caller refreshes its own leg (re-INVITE, then UPDATE) and hangs up 12 s in, past the 10 s
// interval: its scenario fails on any BYE of Parley's before that, and on a 481 to its BYE.
TEST_F(SessionTimerTest, RefreshedSessionOutlivesTheInterval) {
  Call("caller_refreshes_session.xml", "agent_phone_answers_refreshes.xml");
  ExpectAliceWrapsUp();
}

// A caller without timer support leaves the refreshes to Parley: its 200 says refresher=uas,
// and Parley re-INVITEs the caller at half the interval; the caller answers two refreshes (the
// second when the first interval is over) and hangs up, and the call was up throughout (200 to
// its BYE). Parley's refresh carries no SDP, so each of the caller's 200s holds a new offer,
// which Parley's ACK answers (RFC 3264): the first offer's PCMU with telephone-event, then the
// second's PCMA (the scenario fails on an ACK without an answer; before the fix the ACK had none).
TEST_F(SessionTimerTest, CallerWithoutTimerSupportIsRefreshedByParley) {
  std::string caller_log;
  Call("caller_refreshed_by_parley.xml", "agent_phone_answers_refreshes.xml", &caller_log);
  EXPECT_NE(caller_log.find("granted Session-Expires: 10;refresher=uas"), std::string::npos)
      << caller_log;
  EXPECT_NE(caller_log.find("refresh Session-Expires: 10;refresher=uac"), std::string::npos)
      << caller_log;
  ExpectAnswersInTheAcks(caller_log);
  ExpectAliceWrapsUp();
}

// A caller that supports timers but asks for refresher=uas is refreshed by Parley the same way,
// each ACK with Parley's answer to the caller's offer.
TEST_F(SessionTimerTest, CallerAskingParleyToRefreshIsRefreshedWithAnswersInTheAcks) {
  std::string caller_log;
  Call("caller_asks_parley_to_refresh.xml", "agent_phone_answers_refreshes.xml", &caller_log);
  EXPECT_NE(caller_log.find("granted Session-Expires: 10;refresher=uas"), std::string::npos)
      << caller_log;
  ExpectAnswersInTheAcks(caller_log);
  ExpectAliceWrapsUp();
}

// The caller's 200 to Parley's refresh offers only G.729: Parley ACKs it (without an answer, as
// the scenario checks) and hangs the caller up with a BYE whose Reason says 488, counted in
// parley_sip_rejected_total; alice's phone is hung up too and she wraps up.
TEST_F(SessionTimerTest, CallerOfferingNothingWeTakeInItsRefreshAnswerIsHungUp) {
  std::string caller_log;
  Call("caller_refresh_offer_refused.xml", "agent_phone_answers_refreshes.xml", &caller_log);
  EXPECT_NE(caller_log.find("BYE Reason: SIP;cause=488;text=\"Not Acceptable Here\""),
            std::string::npos)
      << caller_log;
  ExpectAliceWrapsUp();
  EXPECT_NE(Http(http(), "GET", "/metrics", "", call_->cookie())
                .body.find("parley_sip_rejected_total{reason=\"refresh_offer_refused\"} 1\n"),
            std::string::npos);
}

// The same caller, but it allows UPDATE: Parley refreshes it with UPDATEs, which need no SDP
// (one transaction without an offer/answer round). The scenario fails on a re-INVITE; the
// refreshes keep the call up past the interval.
TEST_F(SessionTimerTest, CallerWithoutTimerSupportThatAllowsUpdateIsRefreshedWithUpdate) {
  std::string caller_log;
  Call("caller_refreshed_by_update.xml", "agent_phone_answers_refreshes.xml", &caller_log);
  EXPECT_NE(caller_log.find("granted Session-Expires: 10;refresher=uas"), std::string::npos)
      << caller_log;
  EXPECT_NE(caller_log.find("refresh UPDATE Session-Expires: 10;refresher=uac Content-Length: 0"),
            std::string::npos)
      << caller_log;
  ExpectAliceWrapsUp();
}

// Alice's phone forgets the call (its hang-up was lost on the way): Parley's next refresh of
// her leg gets 481, which ends that dialog, and with it the call: the caller is hung up long
// before its own session would expire, and alice wraps up.
TEST_F(SessionTimerTest, AgentPhoneWhoseByeWasLostEndsTheCallAtTheNextRefresh) {
  std::string caller_log;
  Call("caller_session_timer.xml", "agent_phone_lost_dialog.xml", &caller_log);
  EXPECT_NE(caller_log.find("BYE Reason:"), std::string::npos) << caller_log;
  EXPECT_EQ(caller_log.find("Session timeout"), std::string::npos) << caller_log;
  ExpectAliceWrapsUp();
}

// Alice's phone goes silent (unplugged, its network gone): Parley's refresh gets no answer, the
// stack ends her dialog when the re-INVITE's transaction times out (32 s), and with it the call:
// the caller, who answers Parley's refreshes of its own leg, is hung up and alice wraps up.
TEST_F(SessionTimerTest, SilentAgentPhoneEndsTheCallWhenItsRefreshTimesOut) {
  Call("caller_answers_refreshes.xml", "agent_phone_goes_silent.xml");
  ExpectAliceWrapsUp(false);  // the REST API shows the end; the event stream was idle too long
}

}  // namespace
}  // namespace parley::testing
