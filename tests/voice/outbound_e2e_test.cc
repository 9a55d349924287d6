// End-to-end tests of click-to-dial (docs/voice.md, "Outbound calls") through SIP: the real
// `parley serve --sip`, alice's phone and the carrier's SIP server both scripted on raw UDP
// (tests/voice/raw_phone.h), each streaming its own PCMU level so that who hears whom is read
// off the frames. The carrier challenges the INVITE with a digest (as carriers do), and the
// answer is checked against the trunk's credentials. States are checked over the REST API and
// the event stream; every wait is bounded.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "tests/voice/raw_phone.h"
#include "tests/voice/voice_fixture.h"

namespace parley::testing {
namespace {

using Json = nlohmann::json;
using ::testing::HasSubstr;

constexpr const char* kTrunkPassword = "trunk-secret-9";

// The value of `key` in a Digest header's parameters ("" when absent).
std::string DigestParam(const std::string& header, const std::string& key) {
  size_t at = header.find(key + "=");
  while (at != std::string::npos && at > 0 && header[at - 1] != ' ' && header[at - 1] != ',') {
    at = header.find(key + "=", at + 1);
  }
  if (at == std::string::npos) return "";
  size_t start = at + key.size() + 1;
  if (header[start] == '"') {
    ++start;
    return header.substr(start, header.find('"', start) - start);
  }
  return header.substr(start, header.find_first_of(", \r", start) - start);
}

class OutboundTest : public ::testing::Test {
 protected:
  OutboundTest()
      : sip_port_(FreePort()),
        carrier_(sip_port_, "carrier"),
        alice_(sip_port_),
        server_(Site(), {"alice"}, {}, sip_port_) {}

  // tests/data/voice_outbound.yaml with the carrier's port, in the test's temporary directory;
  // the trunk's password in the environment the server inherits.
  std::string Site() {
    setenv("PARLEY_TEST_TRUNK_PASSWORD", kTrunkPassword, 1);
    return SiteWith(kData + "/voice_outbound.yaml", "CARRIER_PORT", std::to_string(carrier_.port()),
                    dir_.path());
  }

  void SetUp() override {
    ASSERT_TRUE(server_.started());
    cookie_ = Login(http(), "admin");
    ASSERT_FALSE(cookie_.empty());
    events_ = std::make_unique<EventsClient>(http(), "/api/v1/events", cookie_);
    ASSERT_TRUE(events_->connected());
    ASSERT_EQ(AliceAvailableOnPhone(server_, alice_.port(), cookie_), "");
    alice_cookie_ = Login(http(), "alice");
    ASSERT_FALSE(alice_cookie_.empty());
  }

  int http() { return server_.process().port(); }

  HttpResponse Dial(const std::string& number) {
    return Http(http(), "POST", "/api/v1/calls",
                Json{{"number", number}, {"queue", "sales"}}.dump(), alice_cookie_);
  }

  // Answers the carrier's INVITE with 401 and a digest challenge (from another port: a UDP
  // response is matched by its Via branch); the INVITE.
  std::string Challenge() {
    const std::string invite = carrier_.Request("INVITE", "");
    if (invite.empty()) return "";
    std::string to = HeaderOf(invite, "To");
    to += ";tag=carrier";
    UdpPeer other;
    other.Send(sip_port_, "SIP/2.0 401 Unauthorized\r\nVia: " + HeaderOf(invite, "Via") +
                              "\r\nFrom: " + HeaderOf(invite, "From") + "\r\nTo: " + to +
                              "\r\nCall-ID: " + HeaderOf(invite, "Call-ID") +
                              "\r\nCSeq: " + HeaderOf(invite, "CSeq") +
                              "\r\nWWW-Authenticate: Digest realm=\"carrier.example\", "
                              "nonce=\"n0nce-42\", algorithm=MD5\r\nContent-Length: 0\r\n\r\n");
    return invite;
  }

  TempDir dir_;
  int sip_port_;
  AgentPhone carrier_;
  AgentPhone alice_;
  VoiceServer server_;
  std::string cookie_, alice_cookie_;
  std::unique_ptr<EventsClient> events_;
};

TEST_F(OutboundTest, ClickToDialRingsTheAgentThenCallsTheCustomerThroughTheTrunkAndBridgesThem) {
  const HttpResponse placed = Dial("+442079460123");
  ASSERT_EQ(placed.status, 201) << placed.body;
  const Json contact = Json::parse(placed.body, nullptr, false);
  ASSERT_FALSE(contact.is_discarded());
  const std::string id = contact["id"].get<std::string>();
  EXPECT_EQ(contact["direction"], "outbound") << placed.body;
  EXPECT_EQ(contact["agent"], "alice");

  // Alice's phone rings first, showing the customer's number; nothing reaches the carrier yet.
  const std::string ring = alice_.Ringing();
  ASSERT_FALSE(ring.empty());
  EXPECT_THAT(HeaderOf(ring, "From"), HasSubstr("+442079460123"));
  ASSERT_TRUE(alice_.Answer());

  // Then the carrier gets the INVITE for the number, challenges it, and gets it again with the
  // trunk's digest credentials.
  const std::string first = Challenge();
  ASSERT_FALSE(first.empty());
  EXPECT_EQ(first.substr(0, first.find("\r\n")),
            "INVITE sip:+442079460123@127.0.0.1:" + std::to_string(carrier_.port()) + " SIP/2.0");
  EXPECT_THAT(HeaderOf(first, "From"), HasSubstr("sip:+442070000000@"));
  const std::string second = carrier_.Ringing();
  ASSERT_FALSE(second.empty());
  const std::string auth = HeaderOf(second, "Authorization");
  ASSERT_FALSE(auth.empty()) << second;
  EXPECT_EQ(DigestParam(auth, "username"), "acct-7");
  EXPECT_EQ(DigestParam(auth, "realm"), "carrier.example");
  const std::string uri = DigestParam(auth, "uri");
  const std::string expected =
      Md5Hex(Md5Hex("acct-7:carrier.example:" + std::string(kTrunkPassword)) +
             ":n0nce-42:" + Md5Hex("INVITE:" + uri));
  EXPECT_EQ(DigestParam(auth, "response"), expected) << auth;
  EXPECT_EQ(auth.find(kTrunkPassword), std::string::npos);
  // Nor does the configuration the API returns, nor the log, hold the password.
  EXPECT_EQ(Http(http(), "GET", "/api/v1/config", "", cookie_).body.find(kTrunkPassword),
            std::string::npos);
  EXPECT_EQ(server_.process().output().find(kTrunkPassword), std::string::npos);
  ASSERT_TRUE(carrier_.Answer());

  // Connected: each hears the other.
  Talkers talkers;
  talkers.Add(alice_.media(), alice_.parley_media_port(), kAgentLevel);
  talkers.Add(carrier_.media(), carrier_.parley_media_port(), kCallerLevel);
  EXPECT_TRUE(HearsAll(carrier_.media(), kAgent));
  EXPECT_TRUE(HearsAll(alice_.media(), kCaller));
  EXPECT_TRUE(WaitForEvent(*events_, "outbound.answered", "+442079460123"));

  // The customer hangs up: alice wraps up, as after an inbound call, and the recording (the
  // queue records always) is stored with the contact.
  EXPECT_EQ(carrier_.HangUp().substr(0, 14), "SIP/2.0 200 OK");
  EXPECT_FALSE(alice_.Request("BYE").empty());
  EXPECT_EQ(AgentSettled(http(), cookie_, "alice"), "available wrap-up");
  EXPECT_TRUE(WaitForEvent(*events_, "recording.completed", "\"contact\":\"" + id + "\""));
  const Json record =
      Json::parse(Http(http(), "GET", "/api/v1/contacts/" + id, "", cookie_).body, nullptr, false);
  ASSERT_FALSE(record.is_discarded());
  EXPECT_EQ(record["direction"], "outbound") << record.dump();
  EXPECT_EQ(record["agent"], "alice");
  EXPECT_EQ(record["queue"], "sales");
  EXPECT_EQ(record["state"], "wrap-up");
  EXPECT_TRUE(record["times"]["answered"].is_string()) << record.dump();
  EXPECT_TRUE(record["times"]["wrap_up"].is_string()) << record.dump();
  EXPECT_FALSE(record["recordings"].empty()) << record.dump();
}

TEST_F(OutboundTest, ACustomerBusyEndsTheContactWithThatReason) {
  const HttpResponse placed = Dial("+442079460124");
  ASSERT_EQ(placed.status, 201) << placed.body;
  ASSERT_TRUE(alice_.Answer());
  ASSERT_FALSE(Challenge().empty());
  ASSERT_TRUE(carrier_.Decline("486 Busy Here"));
  const std::string failed = EventMessage(*events_, "outbound.failed", "+442079460124");
  EXPECT_THAT(failed, HasSubstr("\"reason\":\"busy\""));
  EXPECT_THAT(failed, HasSubstr("\"sip_status\":486"));
  // Alice's phone is released and she wraps up.
  EXPECT_FALSE(alice_.Request("BYE").empty());
  EXPECT_EQ(AgentSettled(http(), cookie_, "alice"), "available wrap-up");
}

TEST_F(OutboundTest, ACallbackOfferedToTheAgentIsDialledOnceItsPhoneAnswers) {
  const HttpResponse created = Http(http(), "POST", "/api/v1/contacts",
                                    Json{{"channel", "callback"},
                                         {"queue", "sales"},
                                         {"attributes", {{"callback.number", "+442079460125"}}}}
                                        .dump(),
                                    cookie_);
  ASSERT_EQ(created.status, 201) << created.body;
  const std::string id = Json::parse(created.body)["id"].get<std::string>();
  // The ACD offers it to alice: her phone rings; answering accepts the offer and calls the number.
  const std::string ring = alice_.Ringing();
  ASSERT_FALSE(ring.empty());
  EXPECT_THAT(HeaderOf(ring, "From"), HasSubstr("+442079460125"));
  ASSERT_TRUE(alice_.Answer());
  const std::string first = Challenge();
  ASSERT_FALSE(first.empty());
  EXPECT_EQ(first.substr(0, first.find("\r\n")),
            "INVITE sip:+442079460125@127.0.0.1:" + std::to_string(carrier_.port()) + " SIP/2.0");
  ASSERT_TRUE(carrier_.Answer());
  EXPECT_TRUE(WaitForEvent(*events_, "outbound.answered", "+442079460125"));
  Talkers talkers;
  talkers.Add(alice_.media(), alice_.parley_media_port(), kAgentLevel);
  EXPECT_TRUE(HearsAll(carrier_.media(), kAgent));
  // Alice hangs up: the customer gets BYE, alice wraps up.
  EXPECT_EQ(alice_.HangUp().substr(0, 14), "SIP/2.0 200 OK");
  EXPECT_FALSE(carrier_.Request("BYE").empty());
  EXPECT_EQ(AgentSettled(http(), cookie_, "alice"), "available wrap-up");
  const Json record =
      Json::parse(Http(http(), "GET", "/api/v1/contacts/" + id, "", cookie_).body, nullptr, false);
  EXPECT_EQ(record["channel"], "callback") << record.dump();
  EXPECT_EQ(record["state"], "wrap-up") << record.dump();
  EXPECT_EQ(record["attributes"].value("outbound.result", ""), "answered") << record.dump();
}

TEST_F(OutboundTest, TheAgentsPhoneRefusingEndsTheContactBeforeTheCarrierIsCalled) {
  ASSERT_EQ(Dial("+442079460126").status, 201);
  ASSERT_TRUE(alice_.Decline("486 Busy Here"));
  const std::string failed = EventMessage(*events_, "outbound.failed", "+442079460126");
  EXPECT_THAT(failed, HasSubstr("\"reason\":\"agent_no_answer\""));
  EXPECT_EQ(carrier_.Request("INVITE", "", std::chrono::milliseconds(500)), "");
  EXPECT_EQ(AgentSettled(http(), cookie_, "alice"), "available wrap-up");
}

TEST_F(OutboundTest, AnAgentWithoutARegisteredPhoneIsRefused) {
  ASSERT_EQ(
      Http(http(), "PUT", "/api/v1/agents/bob/presence", R"({"presence":"available"})", cookie_)
          .status,
      200);
  const HttpResponse refused =
      Http(http(), "POST", "/api/v1/calls",
           Json{{"number", "+442079460127"}, {"queue", "sales"}, {"agent", "bob"}}.dump(), cookie_);
  EXPECT_EQ(refused.status, 422) << refused.body;
  EXPECT_THAT(refused.body, HasSubstr("agent bob has no registered phone"));
  EXPECT_EQ(AgentSettled(http(), cookie_, "bob"), "available");
  // An agent dials only for itself.
  EXPECT_EQ(Http(http(), "POST", "/api/v1/calls",
                 Json{{"number", "+442079460127"}, {"queue", "sales"}, {"agent", "bob"}}.dump(),
                 alice_cookie_)
                .status,
            404);
}

TEST_F(OutboundTest, ANumberOutsideTheAllowedDestinationsIsRefusedAndCounted) {
  const HttpResponse refused = Dial("+33123456789");
  EXPECT_EQ(refused.status, 422) << refused.body;
  EXPECT_THAT(refused.body, HasSubstr("not an allowed destination"));
  EXPECT_THAT(refused.body, HasSubstr("voice.outbound_destinations: +44"));
  // Nobody was rung, nothing is held by alice.
  EXPECT_EQ(alice_.Request("INVITE", "", std::chrono::milliseconds(500)), "");
  EXPECT_EQ(AgentSettled(http(), cookie_, "alice"), "available");
  const std::string metrics = Http(http(), "GET", "/metrics", "", cookie_).body;
  EXPECT_THAT(metrics, HasSubstr("parley_sip_outbound_calls_total{outcome=\"refused\"} 1"));
}

}  // namespace
}  // namespace parley::testing
