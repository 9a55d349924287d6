// End-to-end tests of the attended transfer driven from an agent's phone (docs/voice.md,
// "Consultation transfer", "From the phone"): the real `parley serve --sip`, a caller on raw UDP,
// and alice's and bob's phones scripted on raw UDP (tests/voice/raw_phone.h), each streaming its
// own PCMU level so that who hears whom is read off every frame. Alice's phone holds the call
// (dialog A1), calls bob from its second line (dialog A2, from 127.0.0.2: outside the trusted
// trunk, so Parley authenticates it as alice), and completes with REFER with Replaces (RFC 5589
// section 7). States are checked over the REST API and the event stream; every wait is bounded.
// PhoneTransferSippTest plays alice's phone with two sipp instances instead, one per dialog,
// joined by sipp's 3PCC channel.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <future>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "tests/voice/raw_phone.h"
#include "tests/voice/voice_fixture.h"

namespace parley::testing {
namespace {

using Json = nlohmann::json;

// The caller talks with alice; bob is Available with his phone registered.
class PhoneTransferTest : public ::testing::Test {
 protected:
  void SetUp() override {
    CallWithAlice call;
    ASSERT_EQ(StartCallWithAlice(server_, alice_, bob_, caller_, caller_rtp_, talkers_, &call), "");
    cookie_ = call.cookie;
    events_ = std::move(call.events);
    id_ = call.id;
  }
  int http() { return server_.process().port(); }
  int SetPresence(const std::string& agent, const std::string& presence) {
    return Http(http(), "PUT", "/api/v1/agents/" + agent + "/presence",
                R"({"presence":")" + presence + "\"}", cookie_)
        .status;
  }
  Json Contact() {
    return Json::parse(Http(http(), "GET", "/api/v1/contacts/" + id_, "", cookie_).body, nullptr,
                       false);
  }

  // Alice's phone holds the call and calls `target` on its second line, which rings bob; bob's
  // phone answers and the two talk (BobAnswersAlicesSecondLine). "" when so, else what failed.
  std::string AliceConsultsFromHerPhone(const std::string& target) {
    const std::string held = alice_.Reinvite("sendonly");
    if (held.rfind("SIP/2.0 200", 0) != 0) return "hold: " + held;
    if (std::string d = line2_.Dial(target); !d.empty()) return "dial: " + d;
    if (!WaitForEvent(*events_, "consult.started", "\"target\":\"bob\""))
      return "no consult.started";
    return BobAnswersAlicesSecondLine();
  }

  // Bob's phone answers the consultation alice's second line asked for: the line gets 200 OK,
  // `consult.answered`, and the two talk (each streaming its level) while the caller hears
  // neither. "" when so, else what failed.
  std::string BobAnswersAlicesSecondLine() {
    if (!bob_.Answer()) return "bob's phone never rang";
    const std::string answered = line2_.DialAnswer();
    if (answered.rfind("SIP/2.0 200", 0) != 0) return "line 2: " + answered;
    if (!WaitForEvent(*events_, "consult.answered", "\"target\":\"bob\""))
      return "no consult.answered";
    talkers_.Add(bob_.media(), bob_.parley_media_port(), kThirdLevel);
    talkers_.Add(line2_.media(), line2_.parley_media_port(), kAgentLevel);
    if (!HearsAll(bob_.media(), kAgent)) return "bob never heard alice";
    if (!HearsAll(line2_.media(), kThird)) return "alice never heard bob";
    if (std::string s = NeverHears(caller_rtp_, kAgent | kThird); !s.empty()) {
      return "the caller heard the agents: " + s;
    }
    return "";
  }

  // The transfer completed: both of alice's dialogs got BYE, the caller and bob talk, bob has
  // the call and alice wraps up; then the caller hangs up and bob wraps up.
  void ExpectBobTookTheCall() {
    EXPECT_FALSE(alice_.Request("BYE").empty());
    EXPECT_FALSE(line2_.Request("BYE").empty());
    EXPECT_TRUE(WaitForEvent(*events_, "contact.transferred", "attended"));
    EXPECT_TRUE(WaitForEvent(*events_, "consult.ended", "\"reason\":\"completed\""));
    EXPECT_TRUE(HearsAll(caller_rtp_, kThird));
    EXPECT_EQ(SettlesWithout(bob_.media(), kCaller, kAgent), "");
    const Json now = Contact();
    EXPECT_EQ(now["agent"], "bob") << now.dump();
    EXPECT_TRUE(now["consult"].is_null()) << now.dump();
    EXPECT_FALSE(now["on_hold"].get<bool>()) << now.dump();
    EXPECT_EQ(AgentSettled(http(), cookie_, "alice"), "available wrap-up");
    EXPECT_EQ(caller_.HangUp(), "SIP/2.0 200 OK");
    EXPECT_FALSE(bob_.Request("BYE").empty());
    EXPECT_EQ(AgentSettled(http(), cookie_, "bob"), "available wrap-up");
  }

  // The consultation was cancelled from the phone: once alice's phone resumes the call, the
  // caller hears alice (not bob), the contact is alice's and off hold, bob is free; then the
  // caller hangs up and alice wraps up.
  void ExpectTheCallerBackWithAlice() {
    EXPECT_TRUE(WaitForEvent(*events_, "consult.ended", "\"reason\":\"cancelled\""));
    EXPECT_EQ(alice_.Reinvite("sendrecv").substr(0, 11), "SIP/2.0 200");
    EXPECT_EQ(SettlesWithout(caller_rtp_, kAgent, kThird), "");
    const Json back = Contact();
    EXPECT_EQ(back["agent"], "alice") << back.dump();
    EXPECT_TRUE(back["consult"].is_null()) << back.dump();
    EXPECT_FALSE(back["on_hold"].get<bool>()) << back.dump();
    EXPECT_EQ(AgentSettled(http(), cookie_, "bob"), "available");
    EXPECT_EQ(caller_.HangUp(), "SIP/2.0 200 OK");
    EXPECT_FALSE(alice_.Request("BYE").empty());
    EXPECT_EQ(AgentSettled(http(), cookie_, "alice"), "available wrap-up");
  }

  const uint8_t kThirdLevel = kSupervisorLevel;  // bob's
  VoiceServer server_{kData + "/voice_monitor.yaml", {"alice", "bob"}};
  std::string cookie_, id_;
  std::unique_ptr<EventsClient> events_;
  AgentPhone alice_{server_.sip_port()};                        // dialog A1: the call
  AgentPhone line2_{server_.sip_port(), "alice", "127.0.0.2"};  // dialog A2: alice calls bob
  AgentPhone bob_{server_.sip_port(), "bob"};
  RtpSink caller_rtp_;
  RawCaller caller_{server_.sip_port()};
  Talkers talkers_;  // last: its thread stops before the ports it sends from close
};

TEST_F(PhoneTransferTest, ReferInTheCallReplacingTheConsultationHandsTheCallerToBob) {
  ASSERT_EQ(AliceConsultsFromHerPhone("bob"), "");
  const std::string accepted = alice_.ReferReplacing("bob", line2_);
  EXPECT_EQ(accepted.substr(0, 20), "SIP/2.0 202 Accepted") << accepted;
  EXPECT_EQ(alice_.FinalNotify(), "SIP/2.0 200 OK\r\n");
  ExpectBobTookTheCall();
  // Journaled as the API's completion: the queue_log export has the attended transfer.
  ASSERT_EQ(server_.process().Terminate(), 0);
  auto log = RunProgram(PARLEY_BINARY, {"export", "queue-log", "--data", server_.data_dir()},
                        std::chrono::seconds(30));
  ASSERT_EQ(log.exit_code, 0) << log.err;
  EXPECT_THAT(log.out, ::testing::HasSubstr("|support|alice|ATTENDEDTRANSFER|"));
  EXPECT_THAT(log.out, ::testing::HasSubstr("|support|bob|COMPLETECALLER|"));
}

// Some phones send the REFER in the consultation's dialog, naming the call's. Dialling the
// queue's name consults its free member (bob).
TEST_F(PhoneTransferTest, ReferInTheConsultationReplacingTheCallHandsTheCallerToBob) {
  ASSERT_EQ(AliceConsultsFromHerPhone("support"), "");
  const std::string accepted = line2_.ReferReplacing("bob", alice_);
  EXPECT_EQ(accepted.substr(0, 20), "SIP/2.0 202 Accepted") << accepted;
  EXPECT_EQ(line2_.FinalNotify(), "SIP/2.0 200 OK\r\n");
  ExpectBobTookTheCall();
}

// Issue 8: dialling a queue whose members are all busy waits as the API's consultation does
// (A2 hears 180 Ringing, `consult.waiting`, no answer yet); the member who becomes free is rung,
// his answer answers A2, and the REFER with Replaces completes the transfer to him.
TEST_F(PhoneTransferTest, PhoneConsultingAQueueWithNobodyFreeWaitsThenBobAnswersAndReferCompletes) {
  ASSERT_EQ(SetPresence("bob", "not-ready"), 200);
  ASSERT_EQ(alice_.Reinvite("sendonly").substr(0, 11), "SIP/2.0 200");
  ASSERT_EQ(line2_.Dial("support"), "");
  const std::string ringing = line2_.DialRinging();
  EXPECT_EQ(ringing.substr(0, 19), "SIP/2.0 180 Ringing") << ringing;
  EXPECT_TRUE(WaitForEvent(*events_, "consult.waiting", "\"consulted_queue\":\"support\""));
  const Json waiting = Contact();
  EXPECT_EQ(waiting["consult"]["state"], "waiting") << waiting.dump();
  EXPECT_EQ(waiting["consult"]["queue"], "support") << waiting.dump();
  EXPECT_TRUE(waiting["on_hold"].get<bool>()) << waiting.dump();
  EXPECT_TRUE(caller_rtp_.HearsMusic());
  EXPECT_FALSE(line2_.DialAnsweredYet());  // nobody was rung, so nobody answered

  ASSERT_EQ(SetPresence("bob", "available"), 200);
  EXPECT_TRUE(WaitForEvent(*events_, "consult.started", "\"target\":\"bob\""));
  ASSERT_EQ(BobAnswersAlicesSecondLine(), "");
  EXPECT_EQ(Contact()["consult"]["state"], "talking");
  const std::string accepted = alice_.ReferReplacing("bob", line2_);
  EXPECT_EQ(accepted.substr(0, 20), "SIP/2.0 202 Accepted") << accepted;
  EXPECT_EQ(alice_.FinalNotify(), "SIP/2.0 200 OK\r\n");
  ExpectBobTookTheCall();
}

TEST_F(PhoneTransferTest, ReplacesNamingNoDialogIsRefusedAndHangingUpReturnsTheCallerToAlice) {
  // No agent or queue by that name: 404 with the reason; the call goes on with alice.
  ASSERT_EQ(line2_.Dial("nobody"), "");
  const std::string unknown = line2_.DialAnswer();
  EXPECT_EQ(unknown.substr(0, 20), "SIP/2.0 404 Not Foun") << unknown;
  EXPECT_THAT(HeaderOf(unknown, "Warning"), ::testing::HasSubstr("nobody"));
  EXPECT_EQ(Contact()["agent"], "alice");

  ASSERT_EQ(AliceConsultsFromHerPhone("bob"), "");
  // A dialog that does not exist, and the consultation's with a wrong tag: 481, nothing moves.
  const std::string none = alice_.ReferReplacing("bob", "no-such-call@127.0.0.2", "x", "y");
  EXPECT_EQ(none.substr(0, 11), "SIP/2.0 481") << none;
  EXPECT_THAT(HeaderOf(none, "Warning"), ::testing::HasSubstr("Replaces"));
  const std::string wrong_tag =
      alice_.ReferReplacing("bob", line2_.call_id(), "not-parleys", line2_.local_tag());
  EXPECT_EQ(wrong_tag.substr(0, 11), "SIP/2.0 481") << wrong_tag;
  // An undecodable Replaces: 400.
  const std::string bad = alice_.ReferReplacing("bob", line2_.call_id(), "", "");
  EXPECT_EQ(bad.substr(0, 11), "SIP/2.0 400") << bad;
  const auto metrics = Http(http(), "GET", "/metrics", "", cookie_);
  EXPECT_THAT(metrics.body,
              ::testing::HasSubstr("parley_sip_rejected_total{reason=\"refer_refused\"} 2\n"));
  EXPECT_TRUE(HearsAll(bob_.media(), kAgent));  // the consultation goes on
  EXPECT_EQ(Contact()["consult"]["target"], "bob");

  // Alice hangs up her second line: the consultation ends, bob's phone is released, and her
  // phone resumes the call with the caller.
  EXPECT_EQ(line2_.HangUp().substr(0, 14), "SIP/2.0 200 OK");
  EXPECT_FALSE(bob_.Request("BYE").empty());
  ExpectTheCallerBackWithAlice();
}

// Alice's phone gives up while bob's still rings: his phone is cancelled, the consultation ends
// as the API's cancel, and the caller is back with alice once her phone resumes.
TEST_F(PhoneTransferTest, CancellingTheSecondLineWhileBobRingsEndsTheConsultation) {
  ASSERT_EQ(alice_.Reinvite("sendonly").substr(0, 11), "SIP/2.0 200");
  ASSERT_EQ(line2_.Dial("bob"), "");
  ASSERT_FALSE(bob_.Ringing().empty());
  EXPECT_TRUE(WaitForEvent(*events_, "consult.started", "\"target\":\"bob\""));
  const std::string cancelled = line2_.CancelDial();
  EXPECT_EQ(cancelled.substr(0, 11), "SIP/2.0 487") << cancelled;
  EXPECT_TRUE(bob_.Cancelled());
  ExpectTheCallerBackWithAlice();
}

// alice's phone is sipp (issue 8): sipp plays one dialog per instance, so line 1
// (agent_phone_line1_3pcc.xml) answers the call (A1) and hands A1's Call-ID and tags over sipp's
// 3PCC channel to line 2 (agent_phone_line2_3pcc.xml), which calls the queue support (A2),
// answers Parley's challenge with alice's SIP login and password, and once bob answers sends
// REFER in A2 with Replaces naming A1. The caller and bob are raw phones streaming their
// levels. bob is Not Ready when the call comes, so the call is alice's and line 2's INVITE,
// sent as soon as line 1 has the call, waits for him (the test makes him Available).
class PhoneTransferSippTest : public ::testing::Test {
 protected:
  int http() { return server_.process().port(); }

  VoiceServer server_{kData + "/voice_monitor.yaml", {"alice", "bob"}};
  AgentPhone bob_{server_.sip_port(), "bob"};
  RtpSink caller_rtp_;
  RawCaller caller_{server_.sip_port()};
  Talkers talkers_;  // last: its thread stops before the ports it sends from close
};

TEST_F(PhoneTransferSippTest, SippPhoneReferInTheConsultationReplacingTheCallHandsTheCallerToBob) {
  using namespace std::chrono_literals;
  ASSERT_TRUE(server_.started());
  const std::string cookie = Login(http(), "admin");
  EventsClient events(http(), "/api/v1/events", cookie);
  ASSERT_TRUE(events.connected());
  ASSERT_EQ(
      RegisterUser(server_.sip_port(), "bob", "sip:bob@127.0.0.1:" + std::to_string(bob_.port())),
      "SIP/2.0 200 OK");

  // Line 2 listens on the 3PCC port before line 1 starts, since line 1 connects at its start.
  // It calls from 127.0.0.2, outside the site's trusted trunk, so Parley authenticates it.
  const int line1_port = FreePort(), twin_port = FreePort();
  const std::string twin = "127.0.0.1:" + std::to_string(twin_port);
  const std::string line2_log = server_.data_dir() + "/alice_line2_sipp.log";
  auto line2 = std::async(std::launch::async, [&] {
    return server_.Sipp(
        "agent_phone_line2_3pcc.xml",
        {"-i",          "127.0.0.2", "-3pcc",     twin,    "-s",
         "support",     "-key",      "login",     "alice", "-key",
         "transfer_to", "bob",       "-au",       "alice", "-ap",
         kSipPassword,  "-mi",       "127.0.0.2", "-mp",   std::to_string(FreePort()),
         "-trace_logs", "-log_file", line2_log},
        1, 0, 30s);
  });
  ASSERT_TRUE(WaitUntilTcpListening(twin_port));
  auto line1 = std::async(std::launch::async, [&] {
    return server_.Sipp("agent_phone_line1_3pcc.xml",
                        {"-3pcc", twin, "-mi", "127.0.0.1", "-mp", std::to_string(FreePort())}, 1,
                        line1_port, 30s);
  });
  ASSERT_TRUE(WaitUntilUdpBound(line1_port));
  ASSERT_EQ(AliceAvailableOnPhone(server_, line1_port, cookie), "");
  ASSERT_EQ(caller_.Call("5000", caller_rtp_.port()), "SIP/2.0 200 OK");
  talkers_.Add(caller_rtp_, MediaPortOf(caller_.first_answer()), kCallerLevel);
  ASSERT_TRUE(WaitForEvent(events, "handling.started", "\"agent\":\"alice\""));
  const Json contacts =
      Json::parse(Http(http(), "GET", "/api/v1/contacts", "", cookie).body, nullptr, false);
  ASSERT_EQ(contacts["contacts"].size(), 1U) << contacts.dump();
  const std::string id = contacts["contacts"][0]["id"];

  // Line 2's consultation of the queue waits until bob is free, then rings him.
  EXPECT_TRUE(WaitForEvent(events, "consult.waiting", "\"consulted_queue\":\"support\""));
  ASSERT_EQ(
      Http(http(), "PUT", "/api/v1/agents/bob/presence", R"({"presence":"available"})", cookie)
          .status,
      200);
  EXPECT_TRUE(WaitForEvent(events, "consult.started", "\"target\":\"bob\""));
  ASSERT_TRUE(bob_.Answer());
  talkers_.Add(bob_.media(), bob_.parley_media_port(), kSupervisorLevel);
  EXPECT_TRUE(WaitForEvent(events, "consult.answered", "\"target\":\"bob\""));

  // Line 2's REFER got 202, a NOTIFY with sipfrag 200 and A2's BYE (its scenario checks the
  // order); line 1 got A1's BYE.
  const ProcessResult line2_run = line2.get();
  EXPECT_EQ(line2_run.exit_code, 0) << line2_run.err << ReadText(line2_log);
  const ProcessResult line1_run = line1.get();
  EXPECT_EQ(line1_run.exit_code, 0) << line1_run.err;
  EXPECT_NE(ReadText(line2_log).find("NOTIFY SIP/2.0 200 OK"), std::string::npos)
      << ReadText(line2_log);
  EXPECT_TRUE(WaitForEvent(events, "contact.transferred", "attended"));
  EXPECT_TRUE(WaitForEvent(events, "consult.ended", "\"reason\":\"completed\""));
  EXPECT_TRUE(HearsAll(caller_rtp_, kThird));
  EXPECT_TRUE(HearsAll(bob_.media(), kCaller));
  const Json now =
      Json::parse(Http(http(), "GET", "/api/v1/contacts/" + id, "", cookie).body, nullptr, false);
  EXPECT_EQ(now["agent"], "bob") << now.dump();
  EXPECT_TRUE(now["consult"].is_null()) << now.dump();
  EXPECT_FALSE(now["on_hold"].get<bool>()) << now.dump();
  EXPECT_EQ(AgentSettled(http(), cookie, "alice"), "available wrap-up");
  EXPECT_EQ(caller_.HangUp(), "SIP/2.0 200 OK");
  EXPECT_FALSE(bob_.Request("BYE").empty());
  EXPECT_EQ(AgentSettled(http(), cookie, "bob"), "available wrap-up");
}

}  // namespace
}  // namespace parley::testing
