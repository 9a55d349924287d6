// End-to-end tests of the agent's call control (docs/voice.md, "Call control", "Consultation
// transfer", "Conference") with real audio: the real `parley serve --sip`, baresip
// (tests/voice/baresip_peer.h) as the caller, as alice's phone and as bob's, each playing its own
// noise burst, and the test checking who hears whom by cross-correlation of what each phone
// received (tests/voice/audio_check.h). Marks taken from the received audio's length before an
// operation let a check look only at what came after it. States and records are read over the
// REST API and the event stream; every wait is bounded.
//
// From the phone, baresip 1.0.0 offers `hold`, `resume` and `transfer URI` (a blind REFER); it
// has no attended transfer (no REFER with Replaces), so the consultation and the conference are
// driven through the API here, and the phone-driven attended transfer stays with the scripted
// phones of tests/voice/replaces_e2e_test.cc. Its sndfile module stops writing what a phone
// receives at the first re-INVITE of the call (measured: RTP and RTCP go on), so after a hold from
// alice's phone only what the caller hears is read. Music on hold is the media plane's built-in
// chime (the server has no music folder configured), which the test generates the same way.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <ctime>
#include <filesystem>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "media/prompt_source.h"
#include "tests/voice/audio_check.h"
#include "tests/voice/baresip_peer.h"
#include "tests/voice/baresip_site.h"
#include "tests/voice/voice_fixture.h"

namespace parley::testing {
namespace {

using nlohmann::json;
using ::testing::HasSubstr;

// Bob's voice, beside the caller's and alice's (baresip_site.h), each repeated every 0.5 s.
const Audio kBobBurst = NoiseBurst(404, kBurst);

// Two equally loud signals mixed (the conference) halve each one's share of the energy where
// their bursts overlap: a burst then correlates at about 1/sqrt(2), still far above the 0.3 an
// absent signal stays below.
constexpr double kInMix = 0.6;
// An absent signal.
constexpr double kAbsent = 0.5;

// The music on hold: one loop of the media plane's built-in chime. (Its samples are owned by the
// shared pointer the call returns: keep that, not a reference into a temporary.)
const media::Samples kHoldMusic = media::BuiltInHoldMusic(kTestRate)[0];

// 0.2 s of the music on hold across its first change of note: what a caller on hold hears.
Audio HoldMusicExcerpt() {
  return Audio(kHoldMusic->begin() + kTestRate * 3 / 10, kHoldMusic->begin() + kTestRate / 2);
}
// One whole loop of the music on hold, in samples.
size_t HoldMusicLoop() { return kHoldMusic->size(); }
// How well any 0.2 s of the music's notes (its first 1.6 s) matches inside `signal`. Music mixed
// with a voice's bursts would hide one excerpt that a burst overlaps, never all of them.
double HoldMusicPeak(const Audio& signal) {
  const std::vector<int16_t>& chime = *kHoldMusic;
  double peak = 0;
  for (size_t at = 0; at + kBurst <= kTestRate * 8 / 5; at += kBurst) {
    const Audio excerpt(chime.begin() + static_cast<std::ptrdiff_t>(at),
                        chime.begin() + static_cast<std::ptrdiff_t>(at + kBurst));
    peak = std::max(peak, FindSignal(signal, excerpt).peak);
  }
  return peak;
}

// Where `listener` first heard `speaker` (correlation >= threshold) after its mark `from`, as a
// position in its whole call; nullopt when it did not within 15 s.
std::optional<size_t> HeardAt(const BaresipPeer& listener, const Audio& speaker, size_t from,
                              double threshold = 0.9) {
  const auto m = listener.WaitToHearAfter(speaker, from, std::chrono::seconds(15), threshold);
  if (!m) return std::nullopt;
  return from + m->lag;
}

// Samples [from, from + length) of what `peer` received (fewer when it has not received them).
Audio ReceivedBetween(const BaresipPeer& peer, size_t from, size_t length) {
  const WavAudio heard = peer.Received();
  if (!heard.error.empty() || heard.channels.empty() || heard.channels[0].size() <= from) return {};
  const Audio& all = heard.channels[0];
  const size_t end = length < all.size() - from ? from + length : all.size();
  return Audio(all.begin() + static_cast<std::ptrdiff_t>(from),
               all.begin() + static_cast<std::ptrdiff_t>(end));
}

// A server on tests/data/voice_baresip.yaml with alice's and bob's baresip phones registered
// (both answer by themselves), alice Available, and a baresip caller on number 5001 (the support
// queue) talking with alice: each hears the other.
class BaresipCallControlTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(site_.ready());
    // The flow of 5001 plays prompts/music.wav while the call waits to be answered.
    std::filesystem::create_directories(site_.server.data_dir() + "/prompts");
    ASSERT_EQ(WriteWav(site_.server.data_dir() + "/prompts/music.wav",
                       Repeated(kMusicBurst, kPeriod, 4 * kPeriod)),
              "");
    ASSERT_TRUE(alice_.started()) << alice_.error();
    ASSERT_TRUE(bob_.started()) << bob_.error();
    ASSERT_TRUE(caller_.started()) << caller_.error();
    // baresip_peer.h says why the test registers the phones itself.
    ASSERT_EQ(RegisterAlice(site_.server.sip_port(), alice_.contact()), "SIP/2.0 200 OK");
    ASSERT_EQ(RegisterUser(site_.server.sip_port(), "bob", bob_.contact()), "SIP/2.0 200 OK");
    ASSERT_EQ(Presence("alice", "available"), 200);
    ASSERT_EQ(caller_.Dial(site_.entry("5001")), "");
    const auto accepted = site_.log->Find("offer.accepted", {"\"agent\":\"alice\""});
    ASSERT_TRUE(accepted);
    id_ = (*accepted)["contact"];
    ASSERT_TRUE(alice_.WaitForEvent("CALL_ESTABLISHED")) << alice_.log();
    ASSERT_TRUE(caller_.WaitToHear(kAgentBurst)) << "the caller never heard alice";
    ASSERT_TRUE(alice_.WaitToHear(kCallerBurst)) << "alice never heard the caller";
  }

  int Presence(const std::string& agent, const std::string& presence) {
    const auto r = Http(site_.http(), "PUT", "/api/v1/agents/" + agent + "/presence",
                        R"({"presence":")" + presence + R"("})", site_.cookie);
    EXPECT_EQ(r.status, 200) << r.body;
    return r.status;
  }
  HttpResponse Post(const std::string& action, const std::string& body = "{}") {
    return Http(site_.http(), "POST", "/api/v1/contacts/" + id_ + "/" + action, body, site_.cookie);
  }
  json Contact() { return GetJson(site_.http(), "/api/v1/contacts/" + id_, site_.cookie); }
  // Parley's address for `user` (a REFER's target).
  std::string AtParley(const std::string& user) {
    return "sip:" + user + "@127.0.0.1:" + std::to_string(site_.server.sip_port());
  }

  // `listener` hears `speaker` after its mark `from`, then nothing of `absent` in the next
  // second (`absent` would come in every half second); the position of the first match.
  std::optional<size_t> HearsOnly(BaresipPeer& listener, const Audio& speaker, size_t from,
                                  const Audio& absent, const std::string& what) {
    const auto at = HeardAt(listener, speaker, from);
    EXPECT_TRUE(at) << what << ": never heard after sample " << from << "\n" << listener.log();
    if (!at) return std::nullopt;
    EXPECT_TRUE(listener.WaitToReceive(*at + kTestRate)) << what;
    EXPECT_LT(FindSignal(ReceivedBetween(listener, *at, kTestRate), absent).peak, kAbsent)
        << what << ": heard something it should not any more";
    return at;
  }

  // Holds the call with `hold` and resumes it with `resume` (from the phone or the API): while
  // held, the caller hears the music on hold and not alice, and alice does not hear the caller;
  // once resumed, the caller hears alice and no more music, alice the caller. Then the caller
  // hangs up and alice's wrap-up is ended, and the hold shows in the journal and in alice's
  // report. `phone_reinvited`: baresip 1.0.0's sndfile stops keeping what the phone receives at
  // the first re-INVITE of its call (measured: its RTP and RTCP go on, the WAV no longer grows),
  // so after a hold from alice's phone what she hears cannot be read any more.
  void HoldAndResume(const std::function<void()>& hold, const std::function<void()>& resume,
                     bool phone_reinvited) {
    const Audio music = HoldMusicExcerpt();
    const size_t caller_mark = caller_.ReceivedSamples();
    hold();
    const auto started = site_.log->Find("hold.started", {OfContact(id_), "\"agent\":\"alice\""});
    ASSERT_TRUE(started);
    EXPECT_TRUE(Contact()["on_hold"].get<bool>());
    const auto held = HearsOnly(caller_, music, caller_mark, kAgentBurst, "music at the caller");
    ASSERT_TRUE(held);
    // Once the caller hears the music, alice's phone gets nothing of the caller any more.
    const size_t alice_held = alice_.ReceivedSamples();
    ASSERT_TRUE(caller_.WaitToReceive(caller_.ReceivedSamples() + kTestRate));

    const size_t caller_resume = caller_.ReceivedSamples();
    const size_t alice_resume = alice_.ReceivedSamples();
    resume();
    const auto ended = site_.log->Find("hold.ended", {OfContact(id_), "\"agent\":\"alice\""});
    ASSERT_TRUE(ended);
    EXPECT_FALSE(Contact()["on_hold"].get<bool>());
    EXPECT_LT(
        FindSignal(ReceivedBetween(alice_, alice_held, alice_resume - alice_held), kCallerBurst)
            .peak,
        kAbsent)
        << "alice heard the caller while the call was held";
    EXPECT_LT(HoldMusicPeak(alice_.Received().channels[0]), kAbsent)
        << "alice heard the music on hold";
    // One whole loop of the music after alice is heard again: none of it.
    const auto back = HeardAt(caller_, kAgentBurst, caller_resume);
    ASSERT_TRUE(back) << "the caller did not hear alice after the resume\n" << caller_.log();
    ASSERT_TRUE(caller_.WaitToReceive(*back + HoldMusicLoop()));
    EXPECT_LT(HoldMusicPeak(ReceivedBetween(caller_, *back, HoldMusicLoop())), kAbsent)
        << "the music went on after the resume";
    if (!phone_reinvited) {
      EXPECT_TRUE(alice_.WaitToHearAfter(kCallerBurst, alice_resume))
          << "alice did not hear the caller after the resume";
    }

    ASSERT_EQ(caller_.HangUp(), "");
    ASSERT_TRUE(alice_.WaitForEvent("CALL_CLOSED")) << alice_.log();
    ASSERT_TRUE(site_.log->Find("wrap_up.started", {OfContact(id_)}));
    ASSERT_EQ(Post("wrap-up").status, 200);
    ASSERT_TRUE(site_.log->Find("wrap_up.ended", {OfContact(id_)}));
    EXPECT_EQ(site_.log->Count("hold.started", {OfContact(id_)}), 1u);
    const double hold_seconds = ParseUtc((*ended)["time"]) - ParseUtc((*started)["time"]);
    EXPECT_GT(hold_seconds, 0);
    // The contact's hold time counts in alice's handling: her daily report has one handled
    // contact, with that hold (two days, in case the call ended after midnight).
    const json report = AgentReportFromTheDayOf((*started)["time"]);
    std::vector<json> handled;
    for (const auto& row : report["rows"]) {
      if (row["handled"] != 0) handled.push_back(row);
    }
    ASSERT_EQ(handled.size(), 1u) << report.dump();
    EXPECT_EQ(handled[0]["handled"], 1) << report.dump();
    EXPECT_NEAR(handled[0]["hold"].get<double>(), hold_seconds, 0.002) << report.dump();
  }

  // After alice left the call (marks taken before): the caller and bob hear each other and
  // nothing of alice any more, alice wraps up, and the contact is bob's.
  void CallerAndBobTalkWithoutAlice(size_t caller_mark, size_t bob_mark) {
    EXPECT_TRUE(HearsOnly(caller_, kBobBurst, caller_mark, kAgentBurst, "bob at the caller"));
    EXPECT_TRUE(HearsOnly(bob_, kCallerBurst, bob_mark, kAgentBurst, "the caller at bob"));
    EXPECT_EQ(AgentSettled(site_.http(), site_.cookie, "alice"), "available wrap-up");
    const json moved = Contact();
    EXPECT_EQ(moved["id"], id_);
    EXPECT_EQ(moved["agent"], "bob") << moved.dump();
    EXPECT_EQ(moved["state"], "handling") << moved.dump();
    EXPECT_FALSE(moved["on_hold"].get<bool>()) << moved.dump();
    EXPECT_TRUE(moved["consult"].is_null()) << moved.dump();
  }
  // The caller hangs up: bob's phone gets the BYE and bob wraps up.
  void CallerHangsUpOnBob() {
    ASSERT_EQ(caller_.HangUp(), "");
    ASSERT_TRUE(bob_.WaitForEvent("CALL_CLOSED")) << bob_.log();
    EXPECT_EQ(AgentSettled(site_.http(), site_.cookie, "bob"), "available wrap-up");
  }

  // The queue_log export of the journal, read once the server stopped (the test's last step).
  std::string QueueLog() {
    // The event stream goes first: a client that does not answer the server's close would hold
    // its shutdown for the whole grace period.
    site_.log.reset();
    site_.events.reset();
    EXPECT_EQ(site_.server.process().Terminate(), 0);
    const auto log =
        RunProgram(PARLEY_BINARY, {"export", "queue-log", "--data", site_.server.data_dir()},
                   std::chrono::seconds(30));
    EXPECT_EQ(log.exit_code, 0) << log.err;
    return log.out;
  }

  // alice's daily report of the (UTC) day of `time` and the next.
  json AgentReportFromTheDayOf(const std::string& time) {
    const std::string day = time.substr(0, 10);
    const std::time_t next = static_cast<std::time_t>(ParseUtc(day + "T00:00:00Z")) + 2 * 86400;
    std::tm tm{};
    gmtime_r(&next, &tm);
    char to[32];
    std::strftime(to, sizeof to, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return GetJson(
        site_.http(),
        "/api/v1/reports/agents?interval=1d&agent=alice&from=" + day + "T00:00:00Z&to=" + to,
        site_.cookie);
  }

  // Bob becomes Available and the consultation of him starts: his phone answers and alice and
  // bob hear each other while the caller hears the music on hold and neither of them.
  void ConsultBob() {
    ASSERT_EQ(Presence("bob", "available"), 200);
    const size_t caller_mark = caller_.ReceivedSamples();
    const size_t alice_mark = alice_.ReceivedSamples();
    const auto started = Post("consult", R"({"agent":"bob"})");
    ASSERT_EQ(started.status, 200) << started.body;
    ASSERT_TRUE(bob_.WaitForEvent("CALL_ESTABLISHED")) << bob_.log();
    ASSERT_TRUE(site_.log->Find("consult.answered", {OfContact(id_), "\"target\":\"bob\""}));
    EXPECT_TRUE(HearsOnly(caller_, HoldMusicExcerpt(), caller_mark, kAgentBurst,
                          "music at the caller (not alice)"));
    EXPECT_LT(FindSignal(ReceivedBetween(caller_, caller_mark, SIZE_MAX), kBobBurst).peak, kAbsent)
        << "the caller heard bob during the consultation";
    EXPECT_TRUE(HearsOnly(alice_, kBobBurst, alice_mark, kCallerBurst, "bob at alice"));
    EXPECT_TRUE(bob_.WaitToHear(kAgentBurst)) << "bob never heard alice";
    EXPECT_LT(FindSignal(bob_.Received().channels[0], kCallerBurst).peak, kAbsent)
        << "bob heard the caller during the consultation";
  }

  BaresipSite site_{kData + "/voice_baresip.yaml", {"alice", "bob"}};
  TempDir audio_;
  BaresipPeer alice_{{.user = "alice",
                      .microphone = Microphone(audio_, "alice", kAgentBurst),
                      .auto_answer = true}};
  BaresipPeer bob_{
      {.user = "bob", .microphone = Microphone(audio_, "bob", kBobBurst), .auto_answer = true}};
  BaresipPeer caller_{
      {.user = kCallerNumber, .microphone = Microphone(audio_, "caller", kCallerBurst)}};
  std::string id_;
};

TEST_F(BaresipCallControlTest, HoldAndResumeFromAlicesPhonePlayMusicToTheCallerThenBringHerBack) {
  HoldAndResume([&] { ASSERT_EQ(alice_.Hold(), ""); }, [&] { ASSERT_EQ(alice_.Resume(), ""); },
                /*phone_reinvited=*/true);
}

TEST_F(BaresipCallControlTest, HoldAndResumeFromTheApiPlayMusicToTheCallerThenBringAliceBack) {
  HoldAndResume(
      [&] {
        const auto r = Post("hold");
        ASSERT_EQ(r.status, 200) << r.body;
      },
      [&] {
        const auto r = Post("resume");
        ASSERT_EQ(r.status, 200) << r.body;
      },
      /*phone_reinvited=*/false);
}

TEST_F(BaresipCallControlTest, TransferFromAlicesPhoneToBobConnectsTheCallerWithBob) {
  ASSERT_EQ(Presence("bob", "available"), 200);
  const size_t caller_mark = caller_.ReceivedSamples();
  ASSERT_EQ(alice_.Transfer(AtParley("bob")), "");
  ASSERT_TRUE(site_.log->Find("contact.transferred", {OfContact(id_), "\"agent\":\"alice\""}));
  ASSERT_TRUE(alice_.WaitForEvent("CALL_CLOSED")) << "alice's phone was not released\n"
                                                  << alice_.log();
  ASSERT_TRUE(bob_.WaitForEvent("CALL_ESTABLISHED")) << bob_.log();
  ASSERT_TRUE(site_.log->Find("handling.started", {OfContact(id_), "\"agent\":\"bob\""}));
  CallerAndBobTalkWithoutAlice(caller_mark, 0);
  // Bob's call is new: he never heard alice.
  EXPECT_LT(FindSignal(bob_.Received().channels[0], kAgentBurst).peak, kAbsent);
  const json bob = GetJson(site_.http(), "/api/v1/agents/bob", site_.cookie);
  ASSERT_EQ(bob["contacts"].size(), 1u) << bob.dump();
  EXPECT_EQ(bob["contacts"][0]["contact"], id_) << bob.dump();
  CallerHangsUpOnBob();
  EXPECT_THAT(QueueLog(), HasSubstr("|support|alice|BLINDTRANSFER|bob|agent|"));
}

// To the support queue by its name: alice, a member, is in wrap-up, so the caller waits until bob
// is Available and his phone answers. A queue named in a transfer has no flow step, so what the
// caller hears meanwhile is the music on hold, not the flow's queue music.
TEST_F(BaresipCallControlTest, TransferFromAlicesPhoneToTheQueueWaitsWithMusicThenReachesBob) {
  const size_t caller_mark = caller_.ReceivedSamples();
  ASSERT_EQ(alice_.Transfer(AtParley("support")), "");
  ASSERT_TRUE(site_.log->Find("contact.transferred", {OfContact(id_), "\"agent\":\"alice\""}));
  ASSERT_TRUE(alice_.WaitForEvent("CALL_CLOSED")) << "alice's phone was not released\n"
                                                  << alice_.log();
  ASSERT_TRUE(site_.log->Find("contact.queued", {OfContact(id_), "\"queue\":\"support\""}));
  EXPECT_EQ(AgentSettled(site_.http(), site_.cookie, "alice"), "available wrap-up");
  const auto music =
      HearsOnly(caller_, HoldMusicExcerpt(), caller_mark, kAgentBurst, "music on hold");
  ASSERT_TRUE(music);
  EXPECT_EQ(Contact()["state"], "queued");

  const size_t waiting_mark = caller_.ReceivedSamples();
  ASSERT_EQ(Presence("bob", "available"), 200);
  ASSERT_TRUE(bob_.WaitForEvent("CALL_ESTABLISHED")) << bob_.log();
  ASSERT_TRUE(site_.log->Find("handling.started", {OfContact(id_), "\"agent\":\"bob\""}));
  CallerAndBobTalkWithoutAlice(waiting_mark, 0);
  const auto bob_first = HeardAt(caller_, kBobBurst, waiting_mark);
  ASSERT_TRUE(bob_first);
  ASSERT_TRUE(caller_.WaitToReceive(*bob_first + HoldMusicLoop()));
  EXPECT_LT(HoldMusicPeak(ReceivedBetween(caller_, *bob_first, HoldMusicLoop())), kAbsent)
      << "the music went on once bob answered";
  CallerHangsUpOnBob();
  EXPECT_THAT(QueueLog(), HasSubstr("|support|alice|BLINDTRANSFER|support|"));
}

TEST_F(BaresipCallControlTest, ConsultationThenCompleteConnectsTheCallerWithBobAndReleasesAlice) {
  ConsultBob();
  if (HasFatalFailure()) return;
  const size_t caller_mark = caller_.ReceivedSamples();
  const size_t bob_mark = bob_.ReceivedSamples();
  const auto done = Post("consult/complete");
  ASSERT_EQ(done.status, 200) << done.body;
  EXPECT_EQ(json::parse(done.body)["agent"], "bob") << done.body;
  ASSERT_TRUE(alice_.WaitForEvent("CALL_CLOSED")) << "alice's phone was not released\n"
                                                  << alice_.log();
  ASSERT_TRUE(site_.log->Find("consult.ended", {OfContact(id_), "\"reason\":\"completed\""}));
  ASSERT_TRUE(site_.log->Find("contact.transferred", {OfContact(id_), "attended"}));
  CallerAndBobTalkWithoutAlice(caller_mark, bob_mark);
  CallerHangsUpOnBob();
  EXPECT_THAT(QueueLog(), HasSubstr("|support|alice|ATTENDEDTRANSFER|"));
}

TEST_F(BaresipCallControlTest, ConferenceLetsEachHearBothOthersAndAliceLeavingLeavesCallerAndBob) {
  ConsultBob();
  if (HasFatalFailure()) return;
  size_t caller_mark = caller_.ReceivedSamples();
  const size_t alice_mark = alice_.ReceivedSamples();
  size_t bob_mark = bob_.ReceivedSamples();
  const auto conf = Post("consult/conference");
  ASSERT_EQ(conf.status, 200) << conf.body;
  ASSERT_TRUE(site_.log->Find("conference.started", {OfContact(id_), "\"target\":\"bob\""}));
  EXPECT_TRUE(json::parse(conf.body)["consult"]["conference"].get<bool>()) << conf.body;
  // Each hears the two others, mixed.
  const struct {
    BaresipPeer& listener;
    size_t mark;
    const Audio& speaker;
    const char* what;
  } heard[] = {{caller_, caller_mark, kAgentBurst, "alice at the caller"},
               {caller_, caller_mark, kBobBurst, "bob at the caller"},
               {alice_, alice_mark, kCallerBurst, "the caller at alice"},
               {alice_, alice_mark, kBobBurst, "bob at alice"},
               {bob_, bob_mark, kCallerBurst, "the caller at bob"},
               {bob_, bob_mark, kAgentBurst, "alice at bob"}};
  for (const auto& h : heard) {
    EXPECT_TRUE(h.listener.WaitToHearAfter(h.speaker, h.mark, std::chrono::seconds(15), kInMix))
        << h.what << ": not heard in the conference";
  }

  // Alice leaves: the caller and bob go on talking, bob has the call.
  caller_mark = caller_.ReceivedSamples();
  bob_mark = bob_.ReceivedSamples();
  ASSERT_EQ(alice_.HangUp(), "");
  ASSERT_TRUE(site_.log->Find("conference.ended", {OfContact(id_), "\"reason\":\"agent_left\""}));
  CallerAndBobTalkWithoutAlice(caller_mark, bob_mark);
  CallerHangsUpOnBob();
}

}  // namespace
}  // namespace parley::testing
