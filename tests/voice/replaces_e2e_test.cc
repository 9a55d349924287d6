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

// The end of an attended transfer from alice's phone to bob, once both of her dialogs got BYE:
// `contact.transferred` `attended` and `consult.ended` `completed`, the caller hears bob and bob
// the caller without alice, the contact `id` is bob's and off hold, alice wraps up; then the
// caller hangs up and bob wraps up.
void ExpectTheCallerWithBob(int http, const std::string& cookie, EventsClient& events,
                            const std::string& id, RawCaller& caller, RtpSink& caller_rtp,
                            AgentPhone& bob) {
  EXPECT_TRUE(WaitForEvent(events, "contact.transferred", "attended"));
  EXPECT_TRUE(WaitForEvent(events, "consult.ended", "\"reason\":\"completed\""));
  EXPECT_TRUE(HearsAll(caller_rtp, kThird));
  EXPECT_EQ(SettlesWithout(bob.media(), kCaller, kAgent), "");
  const Json now =
      Json::parse(Http(http, "GET", "/api/v1/contacts/" + id, "", cookie).body, nullptr, false);
  EXPECT_EQ(now["agent"], "bob") << now.dump();
  EXPECT_TRUE(now["consult"].is_null()) << now.dump();
  EXPECT_FALSE(now["on_hold"].get<bool>()) << now.dump();
  EXPECT_EQ(AgentSettled(http, cookie, "alice"), "available wrap-up");
  EXPECT_EQ(caller.HangUp(), "SIP/2.0 200 OK");
  EXPECT_FALSE(bob.Request("BYE").empty());
  EXPECT_EQ(AgentSettled(http, cookie, "bob"), "available wrap-up");
}

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
    ExpectTheCallerWithBob(http(), cookie_, *events_, id_, caller_, caller_rtp_, bob_);
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

// alice's phone is sipp (issue 8). sipp plays one dialog per instance, so two instances joined
// by sipp's 3PCC channel play her lines: line 1 answers the call (A1), line 2 calls from
// 127.0.0.2 (A2), answering Parley's challenge with alice's SIP login and password, and the two
// pass each other a dialog's Call-ID and tags written as a Replaces value. The caller and bob
// are raw phones streaming their levels.
class PhoneTransferSippTest : public ::testing::Test {
 protected:
  int http() { return server_.process().port(); }

  // Registers bob's phone and starts alice's two lines, line 2 (`line2`, dialling `target`)
  // first: it listens on the 3PCC port, and line 1 (`line1`) connects there at its start. Each
  // line's sipp logs what its scenario logs (the NOTIFYs' sipfrags) to line1_log_ or
  // line2_log_. "" when both run, else what failed.
  std::string StartLines(const std::string& line1, const std::string& line2,
                         const std::string& target) {
    using namespace std::chrono_literals;
    if (!server_.started()) return "the server did not start";
    if (!events_.connected()) return "no event stream";
    const std::string bob =
        RegisterUser(server_.sip_port(), "bob", "sip:bob@127.0.0.1:" + std::to_string(bob_.port()));
    if (bob != "SIP/2.0 200 OK") return "bob's REGISTER: " + bob;
    const int twin_port = FreePort();
    const std::string twin = "127.0.0.1:" + std::to_string(twin_port);
    line2_ = std::async(std::launch::async, [this, line2, target, twin] {
      return server_.Sipp(
          line2, {"-i",          "127.0.0.2", "-3pcc",     twin,    "-s",
                  target,        "-key",      "login",     "alice", "-key",
                  "transfer_to", "bob",       "-au",       "alice", "-ap",
                  kSipPassword,  "-mi",       "127.0.0.2", "-mp",   std::to_string(FreePort()),
                  "-trace_logs", "-log_file", line2_log_},
          1, 0, 30s);
    });
    if (!WaitUntilTcpListening(twin_port)) {
      return "line 2 never listened for line 1: " + line2_.get().err;  // sipp exits on a bad file
    }
    line1_ = std::async(std::launch::async, [this, line1, twin] {
      return server_.Sipp(line1,
                          {"-3pcc", twin, "-key", "transfer_to", "bob", "-mi", "127.0.0.1", "-mp",
                           std::to_string(FreePort()), "-trace_logs", "-log_file", line1_log_},
                          1, line1_port_, 30s);
    });
    if (!WaitUntilUdpBound(line1_port_)) return "line 1 never listened";
    return "";
  }

  // The caller dials the support queue and alice's line 1 answers; "" when so, else what failed.
  std::string CallAlice() {
    if (std::string r = caller_.Call("5000", caller_rtp_.port()); r != "SIP/2.0 200 OK") {
      return "the call: " + r;
    }
    talkers_.Add(caller_rtp_, MediaPortOf(caller_.first_answer()), kCallerLevel);
    if (!WaitForEvent(events_, "handling.started", "\"agent\":\"alice\"")) {
      return "no handling.started for alice";
    }
    const Json contacts =
        Json::parse(Http(http(), "GET", "/api/v1/contacts", "", cookie_).body, nullptr, false);
    if (contacts.is_discarded() || contacts["contacts"].size() != 1) return "no single contact";
    id_ = contacts["contacts"][0]["id"];
    return "";
  }
  int SetPresence(const std::string& agent, const std::string& presence) {
    return Http(http(), "PUT", "/api/v1/agents/" + agent + "/presence",
                R"({"presence":")" + presence + "\"}", cookie_)
        .status;
  }

  // Bob answers the consultation and line 2's REFER (or line 1's, as their scenarios say)
  // completes the transfer: both lines' scenarios passed (the REFER's 202, the NOTIFYs until
  // Parley's BYE on its dialog, the BYE on the other), the NOTIFY's sipfrag in `refer_log` is
  // 200, caller and bob hear each other, bob has the call and alice wraps up; then the caller
  // hangs up and bob wraps up.
  void ExpectBobAnswersAndTakesTheCall(const std::string& refer_log) {
    EXPECT_TRUE(WaitForEvent(events_, "consult.started", "\"target\":\"bob\""));
    ASSERT_TRUE(bob_.Answer());
    talkers_.Add(bob_.media(), bob_.parley_media_port(), kSupervisorLevel);
    EXPECT_TRUE(WaitForEvent(events_, "consult.answered", "\"target\":\"bob\""));
    const ProcessResult line2 = line2_.get();
    EXPECT_EQ(line2.exit_code, 0) << line2.err << ReadText(line2_log_);
    const ProcessResult line1 = line1_.get();
    EXPECT_EQ(line1.exit_code, 0) << line1.err << ReadText(line1_log_);
    EXPECT_NE(ReadText(refer_log).find("NOTIFY SIP/2.0 200 OK"), std::string::npos)
        << ReadText(refer_log);
    ExpectTheCallerWithBob(http(), cookie_, events_, id_, caller_, caller_rtp_, bob_);
  }

  VoiceServer server_{kData + "/voice_monitor.yaml", {"alice", "bob"}};
  const std::string cookie_ = Login(http(), "admin");
  EventsClient events_{http(), "/api/v1/events", cookie_};  // opened before the call
  std::string id_;                                          // the call's contact
  const int line1_port_ = FreePort();
  const std::string line1_log_ = server_.data_dir() + "/alice_line1_sipp.log";
  const std::string line2_log_ = server_.data_dir() + "/alice_line2_sipp.log";
  std::future<ProcessResult> line1_, line2_;
  AgentPhone bob_{server_.sip_port(), "bob"};
  RtpSink caller_rtp_;
  RawCaller caller_{server_.sip_port()};
  Talkers talkers_;  // last: its thread stops before the ports it sends from close
};

// Line 1 (agent_phone_line1_3pcc.xml) sends A1 to line 2 (agent_phone_line2_3pcc.xml) as soon
// as it has the call, and line 2 dials the queue support at once: bob is Not Ready when the call
// comes (so the call is alice's), and the consultation waits until the test makes him
// Available. Line 2 REFERs in A2 naming A1.
TEST_F(PhoneTransferSippTest, SippPhoneReferInTheConsultationReplacingTheCallHandsTheCallerToBob) {
  ASSERT_EQ(StartLines("agent_phone_line1_3pcc.xml", "agent_phone_line2_3pcc.xml", "support"), "");
  ASSERT_EQ(AliceAvailableOnPhone(server_, line1_port_, cookie_), "");
  ASSERT_EQ(CallAlice(), "");
  EXPECT_TRUE(WaitForEvent(events_, "consult.waiting", "\"consulted_queue\":\"support\""));
  ASSERT_EQ(SetPresence("bob", "available"), 200);
  ExpectBobAnswersAndTakesTheCall(line2_log_);
}

// Line 2 (agent_phone_line2_calls_3pcc.xml) dials bob as soon as line 1
// (agent_phone_line1_refers_3pcc.xml) has the call, and once bob answers sends A2 back to line
// 1, which REFERs in A1 naming A2. bob is Available before the call but after alice, so the
// queue's longest-idle strategy offers the call to alice.
TEST_F(PhoneTransferSippTest, SippPhoneReferInTheCallReplacingTheConsultationHandsTheCallerToBob) {
  ASSERT_EQ(
      StartLines("agent_phone_line1_refers_3pcc.xml", "agent_phone_line2_calls_3pcc.xml", "bob"),
      "");
  ASSERT_EQ(AliceAvailableOnPhone(server_, line1_port_, cookie_), "");
  ASSERT_EQ(SetPresence("bob", "available"), 200);
  ASSERT_EQ(CallAlice(), "");
  ExpectBobAnswersAndTakesTheCall(line1_log_);
}

}  // namespace
}  // namespace parley::testing
