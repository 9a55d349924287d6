// End-to-end tests of the blind transfer to one agent and to an external number (docs/voice.md,
// "Call control") through SIP: the real `parley serve --sip`, a caller on raw UDP, alice's and
// bob's phones and the carrier's SIP server (the outbound trunk) scripted on raw UDP
// (tests/voice/raw_phone.h), each streaming its own PCMU level so that who hears whom is read
// off the frames. States are checked over the REST API and the event stream; every wait is
// bounded.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "tests/voice/raw_phone.h"
#include "tests/voice/voice_fixture.h"

namespace parley::testing {
namespace {

using namespace std::chrono_literals;
using Json = nlohmann::json;
using ::testing::HasSubstr;

// The caller talks with alice; bob's phone is registered and bob is Available.
class TransferTest : public ::testing::Test {
 protected:
  TransferTest()
      : sip_port_(FreePort()),
        carrier_(sip_port_, "carrier"),
        alice_(sip_port_),
        bob_(sip_port_, "bob"),
        caller_(sip_port_),
        server_(Site(), {"alice", "bob"}, {}, sip_port_) {}

  // tests/data/voice_transfer.yaml with the carrier's port, in the test's temporary directory.
  std::string Site() {
    return SiteWith(kData + "/voice_transfer.yaml", "CARRIER_PORT", std::to_string(carrier_.port()),
                    dir_.path());
  }

  void SetUp() override {
    CallWithAlice call;
    ASSERT_EQ(StartCallWithAlice(server_, alice_, bob_, caller_, caller_rtp_, talkers_, &call), "");
    cookie_ = call.cookie;
    events_ = std::move(call.events);
    id_ = call.id;
  }
  int http() { return server_.process().port(); }
  HttpResponse Transfer(const std::string& body) {
    return Http(http(), "POST", "/api/v1/contacts/" + id_ + "/transfer", body, cookie_);
  }
  Json ContactUntil(const std::function<bool(const Json&)>& ok) {
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    Json c;
    do {
      c = Json::parse(Http(http(), "GET", "/api/v1/contacts/" + id_, "", cookie_).body, nullptr,
                      false);
      if (!c.is_discarded() && ok(c)) return c;
    } while (std::chrono::steady_clock::now() < deadline);
    return c;
  }
  // The admin starts recording; a second of alice talking goes into it.
  void RecordASecondOfAlice() {
    const HttpResponse record = Http(http(), "POST", "/api/v1/contacts/" + id_ + "/recording",
                                     R"({"action":"start"})", cookie_);
    ASSERT_EQ(record.status, 200) << record.body;
    EXPECT_TRUE(WaitForEvent(*events_, "recording.started", "\"by\":\"admin\""));
    EXPECT_EQ(SettlesWithout(caller_rtp_, kAgent, kThird), "");
  }
  // After the call: one recording, the caller on the left, alice then the transfer's target (the
  // third party's level) on the right; listed under `agent` unless that is "".
  void ExpectOneRecordingOfAliceThenTheThirdParty(const std::string& agent) {
    EXPECT_FALSE(
        EventMessage(*events_, "recording.completed", "\"contact\":\"" + id_ + "\"").empty());
    const Json list =
        Json::parse(Http(http(), "GET", "/api/v1/recordings", "", cookie_).body, nullptr, false);
    ASSERT_FALSE(list.is_discarded());
    ASSERT_EQ(list["recordings"].size(), 1u) << list.dump();
    if (!agent.empty()) {
      EXPECT_EQ(list["recordings"][0]["agent"], agent);
    }
    const std::string rec_id = list["recordings"][0]["id"].get<std::string>();
    auto audio = Http(http(), "GET", "/api/v1/recordings/" + rec_id + "/audio", "", cookie_);
    ASSERT_EQ(audio.status, 200) << audio.body;
    const auto left = WavChannel(audio.body, 0);
    const auto right = WavChannel(audio.body, 1);
    EXPECT_GT(SamplesAt(left, kCallerLevel), 800u);
    EXPECT_GT(SamplesAt(right, kAgentLevel), 800u);
    EXPECT_GT(SamplesAt(right, kSupervisorLevel), 800u);
  }
  // Bob's phone answers and streams the third party's level; the caller and bob hear each other.
  void BobTalksWithTheCaller() {
    ASSERT_TRUE(bob_.Answer());
    talkers_.Add(bob_.media(), bob_.parley_media_port(), kSupervisorLevel);
    EXPECT_TRUE(HearsAll(caller_rtp_, kThird));
    EXPECT_TRUE(HearsAll(bob_.media(), kCaller));
    EXPECT_TRUE(WaitForEvent(*events_, "handling.started", "\"agent\":\"bob\""));
    const Json c = ContactUntil([](const Json& c) { return c["agent"] == "bob"; });
    EXPECT_EQ(c["agent"], "bob");
    EXPECT_EQ(c["state"], "handling");
    EXPECT_TRUE(c["transfer"].is_null()) << c.dump();
  }

  TempDir dir_;
  int sip_port_;
  AgentPhone carrier_;
  AgentPhone alice_;
  AgentPhone bob_;
  RtpSink caller_rtp_;
  RawCaller caller_;
  VoiceServer server_;
  std::string cookie_, id_;
  std::unique_ptr<EventsClient> events_;
  Talkers talkers_;  // last: its thread stops before the ports it sends from close
};

TEST_F(TransferTest, ApiTransferToBobReleasesAliceAndBobsAnswerConnectsHimToTheCaller) {
  const HttpResponse moved = Transfer(R"({"agent":"bob"})");
  ASSERT_EQ(moved.status, 200) << moved.body;
  EXPECT_EQ(Json::parse(moved.body)["transfer"]["target"], "bob") << moved.body;
  // Alice's phone goes at once and she wraps up; the caller hears music while bob's phone rings.
  EXPECT_FALSE(alice_.Request("BYE").empty());
  EXPECT_EQ(AgentSettled(http(), cookie_, "alice"), "available wrap-up");
  EXPECT_THAT(EventMessage(*events_, "contact.transferred", "\"agent\":\"alice\""),
              HasSubstr("\"target\":\"bob\""));
  EXPECT_TRUE(caller_rtp_.HearsMusic());
  BobTalksWithTheCaller();
  // The caller hangs up: bob wraps up like after any call.
  EXPECT_EQ(caller_.HangUp(), "SIP/2.0 200 OK");
  EXPECT_FALSE(bob_.Request("BYE").empty());
  EXPECT_EQ(AgentSettled(http(), cookie_, "bob"), "available wrap-up");
  // The transfer names bob in the queue_log export, and bob connects after it.
  ASSERT_EQ(server_.process().Terminate(), 0);
  auto log = RunProgram(PARLEY_BINARY, {"export", "queue-log", "--data", server_.data_dir()},
                        std::chrono::seconds(30));
  ASSERT_EQ(log.exit_code, 0) << log.err;
  EXPECT_THAT(log.out, HasSubstr("|support|alice|BLINDTRANSFER|bob|agent|"));
  EXPECT_THAT(log.out, HasSubstr("|support|bob|CONNECT|"));
}

TEST_F(TransferTest, BobNotAnsweringPutsTheCallerBackInTheQueueWhereItIsOfferedAgain) {
  ASSERT_EQ(Transfer(R"({"agent":"bob"})").status, 200);
  EXPECT_FALSE(alice_.Request("BYE").empty());
  ASSERT_FALSE(bob_.Ringing().empty());
  // voice.ring_timeout (2 s): Parley cancels bob's phone and queues the call again.
  EXPECT_TRUE(bob_.Cancelled());
  // Issue 8: the desktop learns why (before the call is queued again).
  EXPECT_TRUE(WaitForEvent(*events_, "transfer.failed", "\"reason\":\"no_answer\""));
  EXPECT_TRUE(WaitForEvent(*events_, "contact.queued", "\"contact\":\"" + id_ + "\""));
  EXPECT_TRUE(caller_rtp_.HearsMusic());
  // Offered from the queue: alice wraps up, so bob (free again) gets it as a normal offer.
  EXPECT_TRUE(WaitForEvent(*events_, "contact.offered", "\"agent\":\"bob\""));
  BobTalksWithTheCaller();
  EXPECT_EQ(caller_.HangUp(), "SIP/2.0 200 OK");
}

TEST_F(TransferTest, TheCallerHangingUpWhileBobRingsCancelsHisPhoneAndClosesTheContact) {
  ASSERT_EQ(Transfer(R"({"agent":"bob"})").status, 200);
  EXPECT_FALSE(alice_.Request("BYE").empty());
  ASSERT_FALSE(bob_.Ringing().empty());
  EXPECT_EQ(caller_.HangUp(), "SIP/2.0 200 OK");
  EXPECT_TRUE(bob_.Cancelled());
  EXPECT_EQ(ContactUntil([](const Json& c) { return c["state"] == "closed"; })["state"], "closed");
  EXPECT_EQ(AgentSettled(http(), cookie_, "bob"), "available");  // free, no wrap-up
}

TEST_F(TransferTest, BobsPhoneAnsweringAfterTheCallerLeftIsHungUp) {
  ASSERT_EQ(Transfer(R"({"agent":"bob"})").status, 200);
  EXPECT_FALSE(alice_.Request("BYE").empty());
  ASSERT_FALSE(bob_.Ringing().empty());
  EXPECT_EQ(caller_.HangUp(), "SIP/2.0 200 OK");
  // The phone's 200 crosses Parley's CANCEL: Parley takes the answer and hangs it up at once.
  EXPECT_FALSE(bob_.Request("CANCEL").empty());
  ASSERT_TRUE(bob_.Answer());
  EXPECT_FALSE(bob_.Request("BYE").empty());
  EXPECT_EQ(ContactUntil([](const Json& c) { return c["state"] == "closed"; })["state"], "closed");
  EXPECT_EQ(AgentSettled(http(), cookie_, "bob"), "available");
  EXPECT_FALSE(EventMessage(*events_, "contact.closed", "\"contact\":\"" + id_ + "\"").empty());
}

TEST_F(TransferTest, ReferToBobFromAlicesPhoneTransfersTheCallToHim) {
  const std::string accepted = alice_.Refer("bob");
  EXPECT_EQ(accepted.substr(0, accepted.find("\r\n")), "SIP/2.0 202 Accepted") << accepted;
  EXPECT_THAT(alice_.FinalNotify(), HasSubstr("SIP/2.0 200 OK"));
  EXPECT_FALSE(alice_.Request("BYE").empty());
  EXPECT_EQ(AgentSettled(http(), cookie_, "alice"), "available wrap-up");
  BobTalksWithTheCaller();
  EXPECT_EQ(caller_.HangUp(), "SIP/2.0 200 OK");
}

// A REFER naming no queue, entry point or agent is a number: dialled through the trunk as the
// API's transfer does.
TEST_F(TransferTest, ReferToANumberFromAlicesPhoneCallsItThroughTheTrunk) {
  const std::string accepted = alice_.Refer("+15551234567");
  EXPECT_EQ(accepted.substr(0, accepted.find("\r\n")), "SIP/2.0 202 Accepted") << accepted;
  const std::string invite = carrier_.Ringing();
  ASSERT_FALSE(invite.empty());
  EXPECT_EQ(invite.substr(0, invite.find("\r\n")),
            "INVITE sip:+15551234567@127.0.0.1:" + std::to_string(carrier_.port()) + " SIP/2.0");
  EXPECT_THAT(alice_.FinalNotify(), HasSubstr("SIP/2.0 200 OK"));
  EXPECT_FALSE(alice_.Request("BYE").empty());
  EXPECT_EQ(AgentSettled(http(), cookie_, "alice"), "available wrap-up");
  EXPECT_THAT(EventMessage(*events_, "contact.transferred", "external"),
              HasSubstr("\"number\":\"+15551234567\""));
  ASSERT_TRUE(carrier_.Answer());
  talkers_.Add(carrier_.media(), carrier_.parley_media_port(), kSupervisorLevel);
  EXPECT_TRUE(HearsAll(caller_rtp_, kThird));
  EXPECT_TRUE(HearsAll(carrier_.media(), kCaller));
  EXPECT_EQ(caller_.HangUp(), "SIP/2.0 200 OK");
  EXPECT_FALSE(carrier_.Request("BYE").empty());
  EXPECT_TRUE(WaitForEvent(*events_, "contact.closed", "\"contact\":\"" + id_ + "\""));
}

TEST_F(TransferTest, ApiTransferToANumberCallsItThroughTheTrunkUntilTheCarrierHangsUp) {
  const HttpResponse moved = Transfer(R"({"number":"+15551234567"})");
  ASSERT_EQ(moved.status, 200) << moved.body;
  // The carrier gets the INVITE for the number; alice is released and wraps up.
  const std::string invite = carrier_.Ringing();
  ASSERT_FALSE(invite.empty());
  EXPECT_EQ(invite.substr(0, invite.find("\r\n")),
            "INVITE sip:+15551234567@127.0.0.1:" + std::to_string(carrier_.port()) + " SIP/2.0");
  EXPECT_THAT(HeaderOf(invite, "From"), HasSubstr("sip:+15550000000@"));
  EXPECT_FALSE(alice_.Request("BYE").empty());
  EXPECT_EQ(AgentSettled(http(), cookie_, "alice"), "available wrap-up");
  const std::string transferred = EventMessage(*events_, "contact.transferred", "external");
  EXPECT_THAT(transferred, HasSubstr("\"number\":\"+15551234567\""));
  EXPECT_THAT(transferred, HasSubstr("\"agent\":\"alice\""));

  ASSERT_TRUE(carrier_.Answer());
  talkers_.Add(carrier_.media(), carrier_.parley_media_port(), kSupervisorLevel);
  EXPECT_TRUE(HearsAll(caller_rtp_, kThird));
  EXPECT_TRUE(HearsAll(carrier_.media(), kCaller));
  const Json talking = ContactUntil([](const Json& c) { return c["transfer"].is_object(); });
  EXPECT_EQ(talking["transfer"]["number"], "+15551234567") << talking.dump();

  // The carrier hangs up: the call and the contact end.
  EXPECT_EQ(carrier_.HangUp().substr(0, 14), "SIP/2.0 200 OK");
  EXPECT_TRUE(WaitForEvent(*events_, "contact.closed", "\"contact\":\"" + id_ + "\""));
  EXPECT_EQ(ContactUntil([](const Json& c) { return c["state"] == "closed"; })["state"], "closed");
}

// As after a consultation, the call's recording goes on in one file: the caller on the left,
// alice then bob on the right.
TEST_F(TransferTest, ARecordingGoesOnInTheSameFileWhenBobTakesTheTransfer) {
  ASSERT_NO_FATAL_FAILURE(RecordASecondOfAlice());
  ASSERT_EQ(Transfer(R"({"agent":"bob"})").status, 200);
  EXPECT_FALSE(alice_.Request("BYE").empty());
  BobTalksWithTheCaller();
  EXPECT_EQ(SettlesWithout(caller_rtp_, kThird, kAgent), "");  // a second of bob, recorded
  EXPECT_EQ(caller_.HangUp(), "SIP/2.0 200 OK");
  EXPECT_FALSE(bob_.Request("BYE").empty());
  ExpectOneRecordingOfAliceThenTheThirdParty("bob");
}

// A transfer to a number keeps the recording too: alice then the number's party on the right.
TEST_F(TransferTest, ARecordingGoesOnInTheSameFileWhenANumberTakesTheTransfer) {
  ASSERT_NO_FATAL_FAILURE(RecordASecondOfAlice());
  ASSERT_EQ(Transfer(R"({"number":"+15551234567"})").status, 200);
  ASSERT_FALSE(carrier_.Ringing().empty());
  EXPECT_FALSE(alice_.Request("BYE").empty());
  ASSERT_TRUE(carrier_.Answer());
  talkers_.Add(carrier_.media(), carrier_.parley_media_port(), kSupervisorLevel);
  EXPECT_TRUE(HearsAll(caller_rtp_, kThird));
  EXPECT_EQ(SettlesWithout(caller_rtp_, kThird, kAgent), "");  // a second of the number, recorded
  EXPECT_EQ(carrier_.HangUp().substr(0, 14), "SIP/2.0 200 OK");
  ExpectOneRecordingOfAliceThenTheThirdParty("");  // the number's party
}

TEST_F(TransferTest, ANumberOutsideTheAllowedDestinationsIsRefusedAndCounted) {
  const HttpResponse refused = Transfer(R"({"number":"+447700900123"})");
  EXPECT_EQ(refused.status, 422) << refused.body;
  EXPECT_THAT(refused.body, HasSubstr("is not an allowed destination"));
  EXPECT_THAT(Http(http(), "GET", "/metrics", "", cookie_).body,
              HasSubstr("parley_sip_outbound_calls_total{outcome=\"refused\"} 1"));
  // Nothing changed: alice still has the call, bob is free.
  const Json c = ContactUntil([](const Json& c) { return c["state"] == "handling"; });
  EXPECT_EQ(c["agent"], "alice");
  EXPECT_EQ(Transfer(R"({"queue":"support","number":"+15551234567"})").status, 400);
  EXPECT_EQ(alice_.HangUp().substr(0, 14), "SIP/2.0 200 OK");
  EXPECT_EQ(AgentSettled(http(), cookie_, "alice"), "available wrap-up");
}

}  // namespace
}  // namespace parley::testing
