// End-to-end tests of supervisor monitoring, click-to-dial and call control (mute, digits,
// hang-up) with real phones and real audio (issue 8): the real `parley serve --sip` on free
// loopback ports, and baresip (tests/voice/baresip_peer.h) as the caller, alice's phone, the
// supervisor sue's phone and the carrier behind the outbound trunk. Each party plays its own
// seeded noise burst (0.2 s) with a period of its own, so that in a mix of two voices every
// burst is heard alone now and then; who hears whom is read off the WAV files baresip keeps of
// what it received, by cross-correlation (tests/voice/audio_check.h). Contact records, events
// and the audit log are checked over the API and the stopped server's database. Every wait is on
// an event or a condition with a bounded deadline.
//
// What baresip 1.0.0 cannot do here: register itself (baresip_peer.h says why; the test sends
// the REGISTER for each phone) or challenge an INVITE, so the carrier answers click-to-dial's
// INVITE without a digest (OutboundTest in voice_e2e_test covers the challenge on raw UDP).

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstddef>
#include <cstdlib>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "tests/voice/audio_check.h"
#include "tests/voice/audit_rows.h"
#include "tests/voice/baresip_peer.h"
#include "tests/voice/baresip_site.h"
#include "tests/voice/voice_fixture.h"

namespace parley::testing {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

// The voices (baresip_site.h) and sue's, repeated every 0.5 s (the caller or customer), 0.7 s
// (alice) and 0.9 s (sue). Unrelated bursts do not correlate (below 0.3); one heard alone through
// G.711 peaks above 0.95, one overlapping another in a mix above 0.7, so a mix is checked at 0.8
// (the differing periods bring clean bursts soon).
const Audio kSupervisorBurst = NoiseBurst(404, kBurst);
constexpr size_t kCallerPeriod = kTestRate / 2;
constexpr size_t kAgentPeriod = kTestRate * 7 / 10;
constexpr size_t kSupervisorPeriod = kTestRate * 9 / 10;
constexpr double kInMix = 0.8;
constexpr double kAbsent = 0.5;

// What `peer` received from sample `from` on.
Audio ReceivedSince(const BaresipPeer& peer, size_t from) {
  const WavAudio heard = peer.Received();
  if (!heard.error.empty() || heard.channels.empty() || heard.channels[0].size() <= from) {
    return {};
  }
  return Audio(heard.channels[0].begin() + static_cast<std::ptrdiff_t>(from),
               heard.channels[0].end());
}

// Whether `rows` (the audit log) hold `action` by `actor` on `target` with `outcome`.
bool Audited(const std::vector<std::array<std::string, 4>>& rows, const std::string& actor,
             const std::string& action, const std::string& target, const std::string& outcome) {
  return std::any_of(rows.begin(), rows.end(), [&](const auto& row) {
    return row == std::array<std::string, 4>{actor, action, target, outcome};
  });
}

// The caller (a baresip peer playing its burst) dials 5000 and alice's phone (registered, alice
// Available) answers by itself; both hear each other. The caller, and the contact's id in `id`;
// nullptr with the failure reported.
std::unique_ptr<BaresipPeer> CallerTalkingWithAlice(BaresipSite& site, const TempDir& audio,
                                                    BaresipPeer& phone, std::string& id) {
  auto caller = std::make_unique<BaresipPeer>(
      BaresipPeer::Options{.user = kCallerNumber,
                           .microphone = Microphone(audio, "caller", kCallerBurst, kCallerPeriod)});
  const auto fail = [](const std::string& why) {
    ADD_FAILURE() << why;
    return nullptr;
  };
  if (!caller->started()) return fail(caller->error());
  if (const std::string e = caller->Dial(site.entry("5000")); !e.empty()) return fail(e);
  if (!caller->WaitForEvent("CALL_ESTABLISHED")) {
    return fail("the caller's call was not answered:\n" + caller->log());
  }
  const auto accepted = site.log->Find("offer.accepted", {"\"agent\":\"alice\""});
  if (!accepted) return fail("alice never accepted the call");
  if (!phone.WaitForEvent("CALL_ESTABLISHED")) {
    return fail("alice's phone did not answer:\n" + phone.log());
  }
  if (!phone.WaitToHear(kCallerBurst)) return fail("alice never heard the caller:\n" + phone.log());
  if (!caller->WaitToHear(kAgentBurst)) {
    return fail("the caller never heard alice:\n" + caller->log());
  }
  id = (*accepted)["contact"].get<std::string>();
  return caller;
}

// ---------------------------------------------------------------------------------------------
// Supervisor monitoring (docs/voice.md, "Supervisor monitoring"; tests/data/voice_monitor.yaml).

TEST(BaresipMonitorE2eTest, SueListensWhispersBargesThenHangsUpAndCallerAndAliceTalkOn) {
  BaresipSite site(kData + "/voice_monitor.yaml", {"alice", "sue"});
  ASSERT_TRUE(site.ready());
  const std::string sue_cookie = Login(site.http(), "sue");
  ASSERT_FALSE(sue_cookie.empty());
  TempDir audio;
  BaresipPeer phone({.user = "alice",
                     .microphone = Microphone(audio, "agent", kAgentBurst, kAgentPeriod),
                     .auto_answer = true});
  ASSERT_TRUE(phone.started()) << phone.error();
  BaresipPeer sue({.user = "sue",
                   .microphone = Microphone(audio, "sue", kSupervisorBurst, kSupervisorPeriod),
                   .auto_answer = true});
  ASSERT_TRUE(sue.started()) << sue.error();
  ASSERT_EQ(RegisterUser(site.server.sip_port(), "sue", sue.contact()), "SIP/2.0 200 OK");
  ASSERT_EQ(AliceAvailableOnPhone(site.server, phone.sip_port(), site.cookie), "");

  // The caller reaches alice; each hears the other.
  std::string id;
  const auto caller_peer = CallerTalkingWithAlice(site, audio, phone, id);
  ASSERT_TRUE(caller_peer);
  BaresipPeer& caller = *caller_peer;
  const auto monitor = [&](const std::string& mode) {
    return Http(site.http(), "POST", "/api/v1/contacts/" + id + "/monitor",
                R"({"mode":")" + mode + R"("})", sue_cookie);
  };

  // Listen: sue's phone rings showing the caller's number and answers; she hears both; neither
  // hears her while she speaks.
  const size_t caller_before_sue = caller.ReceivedSamples();
  const size_t alice_before_sue = phone.ReceivedSamples();
  const auto listen = monitor("listen");
  ASSERT_EQ(listen.status, 200) << listen.body;
  EXPECT_EQ(json::parse(listen.body)["monitor"]["mode"], "listen") << listen.body;
  const auto sue_call = sue.WaitForEvent("CALL_ESTABLISHED");
  ASSERT_TRUE(sue_call) << sue.log();
  EXPECT_THAT(sue_call->value("peeruri", ""), ::testing::HasSubstr(kCallerNumber))
      << sue_call->dump();
  ASSERT_TRUE(site.log->Find("monitor.started",
                             {OfContact(id), "\"supervisor\":\"sue\"", "\"mode\":\"listen\""}));
  EXPECT_TRUE(sue.WaitToHear(kCallerBurst, 15s, kInMix)) << "sue never heard the caller";
  EXPECT_TRUE(sue.WaitToHear(kAgentBurst, 15s, kInMix)) << "sue never heard alice";
  const auto sue_spoke = [&] {
    // She has sent a whole burst more of her voice (one period and a burst), and the others
    // received half a second beyond that moment (what was in flight and in the mix's queue).
    const double burst = static_cast<double>(kSupervisorPeriod + kBurst) / kTestRate;
    if (!sue.WaitToHaveSent(sue.Sent().seconds() + burst)) return false;
    return caller.WaitToReceive(caller.ReceivedSamples() + kTestRate / 2) &&
           phone.WaitToReceive(phone.ReceivedSamples() + kTestRate / 2);
  };
  ASSERT_TRUE(sue_spoke());
  EXPECT_LT(FindSignal(ReceivedSince(caller, caller_before_sue), kSupervisorBurst).peak, kAbsent)
      << "the caller heard sue listening";
  EXPECT_LT(FindSignal(ReceivedSince(phone, alice_before_sue), kSupervisorBurst).peak, kAbsent)
      << "alice heard sue listening";
  EXPECT_GT(FindSignal(ReceivedSince(caller, caller_before_sue), kAgentBurst).peak, 0.9);
  EXPECT_GT(FindSignal(ReceivedSince(phone, alice_before_sue), kCallerBurst).peak, 0.9);
  EXPECT_EQ(monitor("listen").status, 409);  // already in that mode: refused, and audited

  // Sue switches to `mode` (from the next 20 ms of audio); how much each phone had received
  // before.
  struct Marks {
    size_t caller, alice, sue;
  };
  const auto switch_to = [&](const std::string& mode) {
    const Marks before{caller.ReceivedSamples(), phone.ReceivedSamples(), sue.ReceivedSamples()};
    const auto switched = monitor(mode);
    EXPECT_EQ(switched.status, 200) << switched.body;
    EXPECT_TRUE(
        site.log->Find("monitor.mode_changed", {OfContact(id), "\"mode\":\"" + mode + "\""}));
    return before;
  };
  // Whether `peer` hears `voice` in its mix since `from`.
  const auto hears = [](const BaresipPeer& peer, const Audio& voice, size_t from) {
    return peer.WaitToHearAfter(voice, from, 15s, kInMix).has_value();
  };

  // Whisper: alice hears sue (beside the caller); the caller still does not.
  Marks from = switch_to("whisper");
  EXPECT_TRUE(hears(phone, kSupervisorBurst, from.alice)) << "alice never heard sue whispering";
  EXPECT_TRUE(hears(phone, kCallerBurst, from.alice));
  EXPECT_TRUE(hears(sue, kCallerBurst, from.sue));
  EXPECT_TRUE(hears(sue, kAgentBurst, from.sue));
  ASSERT_TRUE(sue_spoke());
  EXPECT_LT(FindSignal(ReceivedSince(caller, caller_before_sue), kSupervisorBurst).peak, kAbsent)
      << "the caller heard sue whispering";

  // Barge: the caller and alice both hear sue, and each other still.
  from = switch_to("barge");
  EXPECT_TRUE(hears(caller, kSupervisorBurst, from.caller))
      << "the caller never heard sue barging in";
  EXPECT_TRUE(hears(caller, kAgentBurst, from.caller));
  EXPECT_TRUE(hears(phone, kSupervisorBurst, from.alice)) << "alice never heard sue barging in";
  EXPECT_TRUE(hears(phone, kCallerBurst, from.alice));
  EXPECT_TRUE(hears(sue, kCallerBurst, from.sue));
  EXPECT_TRUE(hears(sue, kAgentBurst, from.sue));

  // Sue hangs up: monitoring ends, the call goes on, and caller and alice still hear each other
  // (alone again: clean bursts).
  ASSERT_EQ(sue.HangUp(), "");
  ASSERT_TRUE(sue.WaitForEvent("CALL_CLOSED")) << sue.log();
  ASSERT_TRUE(
      site.log->Find("monitor.ended", {OfContact(id), "\"reason\":\"supervisor_hung_up\""}));
  const json after = GetJson(site.http(), "/api/v1/contacts/" + id, site.cookie);
  EXPECT_EQ(after["state"], "handling") << after.dump();
  EXPECT_TRUE(!after.contains("monitor") || after["monitor"].is_null()) << after.dump();
  EXPECT_TRUE(caller.WaitToHearAfter(kAgentBurst, caller.ReceivedSamples()))
      << "the caller no longer hears alice";
  EXPECT_TRUE(phone.WaitToHearAfter(kCallerBurst, phone.ReceivedSamples()))
      << "alice no longer hears the caller";

  // The caller hangs up; alice wraps up.
  ASSERT_EQ(caller.HangUp(), "");
  ASSERT_TRUE(phone.WaitForEvent("CALL_CLOSED")) << phone.log();
  EXPECT_EQ(AgentSettled(site.http(), site.cookie, "alice"), "available wrap-up");
  EXPECT_EQ(site.log->Count("monitor.started", {OfContact(id)}), 1u);

  // Every monitoring request is in the audit log: who, which mode, which call, and the refusal.
  // The event stream closes first: the server would wait out its grace period for a WebSocket
  // nobody reads any more.
  site.log.reset();
  site.events.reset();
  const std::string database = site.server.data_dir() + "/parley.db";
  ASSERT_EQ(site.server.process().Terminate(), 0);
  const auto rows = AuditRows(database);
  const std::string target = "contact:" + id;
  EXPECT_TRUE(Audited(rows, "sue", "monitor.listen", target, "ok"));
  EXPECT_TRUE(Audited(rows, "sue", "monitor.listen", target, "failed"));
  EXPECT_TRUE(Audited(rows, "sue", "monitor.whisper", target, "ok"));
  EXPECT_TRUE(Audited(rows, "sue", "monitor.barge", target, "ok"));
}

// ---------------------------------------------------------------------------------------------
// Click-to-dial (docs/voice.md, "Outbound calls"; tests/data/voice_outbound.yaml).

constexpr const char* kCustomerNumber = "+442079460123";

TEST(BaresipMonitorE2eTest, ClickToDialRingsAlicesPhoneThenTheCustomerThroughTheTrunkAndTheyTalk) {
  TempDir audio;
  // The customer's phone stands for the carrier: the trunk's outbound address is its SIP port,
  // written into the site file before the server starts (as OutboundTest does for its raw
  // carrier). Parley calls sip:NUMBER@host:port, which baresip takes as a call to its account.
  BaresipPeer customer({.user = kCustomerNumber,
                        .microphone = Microphone(audio, "customer", kCallerBurst, kCallerPeriod),
                        .auto_answer = true});
  ASSERT_TRUE(customer.started()) << customer.error();
  setenv("PARLEY_TEST_TRUNK_PASSWORD", "trunk-secret-9", 1);
  BaresipSite site(SiteWith(kData + "/voice_outbound.yaml", "CARRIER_PORT",
                            std::to_string(customer.sip_port()), audio.path()));
  ASSERT_TRUE(site.ready());
  BaresipPeer phone({.user = "alice",
                     .microphone = Microphone(audio, "agent", kAgentBurst, kAgentPeriod),
                     .auto_answer = true});
  ASSERT_TRUE(phone.started()) << phone.error();
  ASSERT_EQ(AliceAvailableOnPhone(site.server, phone.sip_port(), site.cookie), "");
  const std::string alice_cookie = Login(site.http(), "alice");
  ASSERT_FALSE(alice_cookie.empty());

  // Alice dials from her desktop: her phone rings showing the customer's number and answers;
  // then the customer's phone rings showing the trunk's caller id and answers.
  const auto placed =
      Http(site.http(), "POST", "/api/v1/calls",
           json{{"number", kCustomerNumber}, {"queue", "sales"}}.dump(), alice_cookie);
  ASSERT_EQ(placed.status, 201) << placed.body;
  const json contact = json::parse(placed.body, nullptr, false);
  ASSERT_TRUE(contact.is_object()) << placed.body;
  const std::string id = contact["id"];
  EXPECT_EQ(contact["direction"], "outbound") << placed.body;
  const auto alice_call = phone.WaitForEvent("CALL_ESTABLISHED");
  ASSERT_TRUE(alice_call) << phone.log();
  EXPECT_THAT(alice_call->value("peeruri", ""), ::testing::HasSubstr(kCustomerNumber))
      << alice_call->dump();
  const auto customer_call = customer.WaitForEvent("CALL_ESTABLISHED");
  ASSERT_TRUE(customer_call) << customer.log();
  EXPECT_THAT(customer_call->value("peeruri", ""), ::testing::HasSubstr("+442070000000"))
      << customer_call->dump();
  ASSERT_TRUE(site.log->Find("outbound.answered", {OfContact(id)}));

  // They hear each other, each only the other.
  ASSERT_TRUE(customer.WaitToHear(kAgentBurst)) << "the customer never heard alice";
  ASSERT_TRUE(phone.WaitToHear(kCallerBurst)) << "alice never heard the customer";
  EXPECT_LT(FindSignal(customer.Received().channels[0], kCallerBurst).peak, kAbsent);
  EXPECT_LT(FindSignal(phone.Received().channels[0], kAgentBurst).peak, kAbsent);

  // The customer hangs up: alice's phone gets its BYE and alice wraps up.
  ASSERT_EQ(customer.HangUp(), "");
  ASSERT_TRUE(customer.WaitForEvent("CALL_CLOSED")) << customer.log();
  ASSERT_TRUE(phone.WaitForEvent("CALL_CLOSED")) << phone.log();
  ASSERT_TRUE(site.log->Find("wrap_up.started", {OfContact(id)}));
  EXPECT_EQ(AgentSettled(site.http(), site.cookie, "alice"), "available wrap-up");

  // The record: outbound, alice's, answered, in wrap-up; its recording (the queue records
  // always) holds the customer on the left and alice on the right.
  ASSERT_TRUE(site.log->Find("recording.completed", {OfContact(id)}));
  const json record = GetJson(site.http(), "/api/v1/contacts/" + id, site.cookie);
  EXPECT_EQ(record["direction"], "outbound") << record.dump();
  EXPECT_EQ(record["agent"], "alice");
  EXPECT_EQ(record["queue"], "sales");
  EXPECT_EQ(record["state"], "wrap-up");
  EXPECT_EQ(record["attributes"].value("outbound.result", ""), "answered") << record.dump();
  EXPECT_TRUE(record["times"]["answered"].is_string()) << record.dump();
  ASSERT_TRUE(record["recording"].is_object()) << record.dump();
  const WavAudio recording = RecordingAudio(site, audio, record["recording"]["id"]);
  ASSERT_EQ(recording.error, "");
  ASSERT_EQ(recording.channels.size(), 2u);
  EXPECT_GT(FindSignal(recording.channels[0], kCallerBurst).peak, 0.9);
  EXPECT_GT(FindSignal(recording.channels[1], kAgentBurst).peak, 0.9);
  EXPECT_LT(FindSignal(recording.channels[0], kAgentBurst).peak, kAbsent);
  EXPECT_LT(FindSignal(recording.channels[1], kCallerBurst).peak, kAbsent);
}

// ---------------------------------------------------------------------------------------------
// Call control from the API: mute, digits, hang-up (docs/voice.md, "Call control";
// tests/data/voice_callctl.yaml).

// Silence as a phone hears it: Parley's silent frames come out of baresip's G.711 decoder as
// +-2, and a voice burst is thousands.
constexpr double kQuiet = 50;

// Where the first 20 ms frame of silence starts in `audio`, if anywhere.
std::optional<size_t> FirstSilence(const Audio& audio) {
  constexpr size_t kFrame = kTestRate / 50;
  for (size_t at = 0; at + kFrame <= audio.size(); at += kFrame) {
    if (Rms(audio, at, at + kFrame) < kQuiet) return at;
  }
  return std::nullopt;
}

TEST(BaresipMonitorE2eTest, MutedAliceGoesUnheardDigitsReachTheCallerAndHangupEndsBothCalls) {
  BaresipSite site(kData + "/voice_callctl.yaml");
  ASSERT_TRUE(site.ready());
  TempDir audio;
  // alice never pauses (her burst over and over), so the silence the caller gets is the mute's.
  BaresipPeer phone({.user = "alice",
                     .microphone = Microphone(audio, "agent", kAgentBurst, kBurst),
                     .auto_answer = true});
  ASSERT_TRUE(phone.started()) << phone.error();
  ASSERT_EQ(AliceAvailableOnPhone(site.server, phone.sip_port(), site.cookie), "");
  std::string id;
  const auto caller_peer = CallerTalkingWithAlice(site, audio, phone, id);
  ASSERT_TRUE(caller_peer);
  BaresipPeer& caller = *caller_peer;
  const auto post = [&](const std::string& action, const std::string& body) {
    return Http(site.http(), "POST", "/api/v1/contacts/" + id + "/" + action, body, site.cookie);
  };

  // Muted: from the first silence the caller gets (the mute taking effect), nothing of alice
  // reaches the caller, for a second and until the unmute is asked; alice still hears the
  // caller.
  const size_t caller_before_mute = caller.ReceivedSamples();
  const size_t alice_before_mute = phone.ReceivedSamples();
  const auto muted = post("mute", R"({"muted":true})");
  ASSERT_EQ(muted.status, 200) << muted.body;
  EXPECT_EQ(json::parse(muted.body)["muted"], true) << muted.body;
  std::optional<size_t> silent;
  for (size_t heard = caller_before_mute; !silent;) {
    ASSERT_TRUE(caller.WaitToReceive(heard + kTestRate)) << "the caller's audio stopped";
    heard += kTestRate;
    silent = FirstSilence(ReceivedSince(caller, caller_before_mute));
    ASSERT_TRUE(silent || heard < caller_before_mute + 10 * kTestRate)
        << "the caller never got the mute's silence";
  }
  const size_t mute_at = caller_before_mute + *silent;
  EXPECT_TRUE(phone.WaitToHearAfter(kCallerBurst, alice_before_mute))
      << "muted, alice no longer hears the caller";
  ASSERT_TRUE(caller.WaitToReceive(mute_at + kTestRate));
  const size_t caller_before_unmute = caller.ReceivedSamples();
  const Audio while_muted = ReceivedSince(caller, mute_at);
  ASSERT_GE(while_muted.size(), caller_before_unmute - mute_at);
  EXPECT_LT(Rms(while_muted, 0, caller_before_unmute - mute_at), kQuiet)
      << "the caller heard something of muted alice";
  EXPECT_LT(FindSignal(while_muted, kAgentBurst).peak, kAbsent);
  EXPECT_EQ(GetJson(site.http(), "/api/v1/contacts/" + id, site.cookie)["muted"], true);

  // Unmuted: the caller hears alice again.
  const auto unmuted = post("mute", R"({"muted":false})");
  ASSERT_EQ(unmuted.status, 200) << unmuted.body;
  EXPECT_TRUE(caller.WaitToHearAfter(kAgentBurst, caller_before_unmute))
      << "unmuted, the caller still does not hear alice";

  // Digits from the API reach the caller's phone as RFC 4733 events, in order.
  const auto digits = post("dtmf", R"({"digits":"12#"})");
  ASSERT_EQ(digits.status, 200) << digits.body;
  for (const char* digit : {"1", "2", "#"}) {
    const auto pressed = caller.WaitForEvent("CALL_DTMF_START");
    ASSERT_TRUE(pressed) << "digit " << digit << " never reached the caller:\n" << caller.log();
    EXPECT_EQ(pressed->value("param", ""), digit) << pressed->dump();
  }

  // Hang-up from the API: both phones' calls end, alice wraps up.
  const auto hung = post("hangup", "");
  ASSERT_EQ(hung.status, 200) << hung.body;
  EXPECT_EQ(json::parse(hung.body)["state"], "wrap-up") << hung.body;
  EXPECT_TRUE(caller.WaitForEvent("CALL_CLOSED")) << caller.log();
  EXPECT_TRUE(phone.WaitForEvent("CALL_CLOSED")) << phone.log();
  ASSERT_TRUE(site.log->Find("wrap_up.started", {OfContact(id), "\"agent\":\"alice\""}));
  EXPECT_EQ(AgentSettled(site.http(), site.cookie, "alice"), "available wrap-up");
}

}  // namespace
}  // namespace parley::testing
