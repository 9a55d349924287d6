// End-to-end tests of voice with real audio: the real `parley serve --sip` on free loopback
// ports, baresip (tests/voice/baresip_peer.h) as the caller and as alice's phone, playing
// signals the test generates and keeping what they heard as WAV files, which the test checks by
// cross-correlation (tests/voice/audio_check.h). Raw UDP callers (voice_fixture.h) cover the
// scenarios that need no audio. Every wait is on an event or a condition with a bounded
// deadline; durations are checked against each other, never against the wall clock.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <optional>
#include <thread>

#include "media/codec.h"
#include "media/prompt_source.h"
#include "tests/voice/audio_check.h"
#include "tests/voice/baresip_peer.h"
#include "tests/voice/baresip_site.h"
#include "tests/voice/voice_fixture.h"

namespace parley::testing {
namespace {

using nlohmann::json;

// A server on tests/data/voice_baresip.yaml with the queue's music in place, an admin session
// and its event stream.
struct Site : BaresipSite {
  Site() : BaresipSite(kData + "/voice_baresip.yaml") {
    std::filesystem::create_directories(server.data_dir() + "/prompts");
    EXPECT_EQ(WriteWav(server.data_dir() + "/prompts/music.wav",
                       Repeated(kMusicBurst, kPeriod, 4 * kPeriod)),
              "");
  }
  // `caller` calls 5001, which queues at once; the id of its queued contact, "" on failure.
  std::string QueuedRawCall(RawCaller& caller) {
    if (caller.Call("5001") != "SIP/2.0 200 OK") return "";
    const auto queued = log->Find("contact.queued", {"\"channel\":\"voice\""});
    return queued ? (*queued)["contact"].get<std::string>() : "";
  }
};

TEST(BaresipE2eTest, CallerPicksFromTheMenuHearsMusicTalksWithAlicesPhoneAndHangsUp) {
  Site site;
  ASSERT_TRUE(site.ready());
  TempDir audio;

  // alice's phone: baresip answering by itself, registered at Parley with alice's SIP password
  // (baresip_peer.h says why the test sends the REGISTER for it).
  BaresipPeer phone({.user = "alice",
                     .microphone = Microphone(audio, "agent", kAgentBurst),
                     .auto_answer = true});
  ASSERT_TRUE(phone.started()) << phone.error();
  ASSERT_EQ(RegisterAlice(site.server.sip_port(), phone.contact()), "SIP/2.0 200 OK");

  // The caller dials the menu's number and presses 1 (RFC 4733) when the menu starts.
  BaresipPeer caller(
      {.user = kCallerNumber, .microphone = Microphone(audio, "caller", kCallerBurst)});
  ASSERT_TRUE(caller.started()) << caller.error();
  ASSERT_EQ(caller.Dial(site.entry("5000")), "");
  ASSERT_TRUE(caller.WaitForEvent("CALL_ESTABLISHED")) << caller.log();
  ASSERT_TRUE(site.log->Find("flow.step_entered", {"\"step\":\"menu\""}));
  ASSERT_EQ(caller.SendDigits("1"), "");
  const auto queued = site.log->Find("contact.queued", {"\"channel\":\"voice\""});
  ASSERT_TRUE(queued);
  const std::string id = (*queued)["contact"];

  // Queued, the caller hears the music, and nothing of alice yet.
  const auto music = caller.WaitToHear(kMusicBurst);
  ASSERT_TRUE(music) << "no music heard:\n" << caller.log();
  EXPECT_LT(FindSignal(caller.Received().channels[0], kAgentBurst).peak, 0.5);

  // alice becomes Available: the call is offered, her phone answers, both sides talk.
  auto presence = Http(site.http(), "PUT", "/api/v1/agents/alice/presence",
                       R"({"presence":"available"})", site.cookie);
  ASSERT_EQ(presence.status, 200) << presence.body;
  const auto offered = site.log->Find("contact.offered", {OfContact(id), "\"agent\":\"alice\""});
  ASSERT_TRUE(offered);
  const auto accepted = site.log->Find("offer.accepted", {OfContact(id), "\"agent\":\"alice\""});
  ASSERT_TRUE(accepted) << phone.log();
  ASSERT_TRUE(phone.WaitForEvent("CALL_ESTABLISHED")) << phone.log();
  const auto agent_heard = phone.WaitToHear(kCallerBurst);
  EXPECT_TRUE(agent_heard) << "alice's phone never heard the caller:\n" << phone.log();
  const auto caller_heard = caller.WaitToHear(kAgentBurst);
  EXPECT_TRUE(caller_heard) << "the caller never heard alice:\n" << caller.log();

  // The caller hangs up: alice's phone gets a BYE and alice goes into wrap-up.
  ASSERT_EQ(caller.HangUp(), "");
  ASSERT_TRUE(caller.WaitForEvent("CALL_CLOSED"));
  ASSERT_TRUE(phone.WaitForEvent("CALL_CLOSED")) << phone.log();
  const auto wrap_started = site.log->Find("wrap_up.started", {OfContact(id)});
  ASSERT_TRUE(wrap_started);
  auto wrap = Http(site.http(), "POST", "/api/v1/contacts/" + id + "/wrap-up", "{}", site.cookie);
  ASSERT_EQ(wrap.status, 200) << wrap.body;
  const auto wrap_ended = site.log->Find("wrap_up.ended", {OfContact(id)});
  ASSERT_TRUE(wrap_ended);

  // What each phone received, from baresip's files (closed now that the call ended): the other
  // side's signal, clearly, and not its own (no audio looped back).
  const WavAudio at_agent = phone.Received();
  const WavAudio at_caller = caller.Received();
  ASSERT_EQ(at_agent.error, "");
  ASSERT_EQ(at_caller.error, "");
  EXPECT_GT(FindSignal(at_agent.channels[0], kCallerBurst).peak, 0.9);
  EXPECT_LT(FindSignal(at_agent.channels[0], kAgentBurst).peak, 0.5);
  EXPECT_GT(FindSignal(at_caller.channels[0], kAgentBurst).peak, 0.9);
  EXPECT_LT(FindSignal(at_caller.channels[0], kCallerBurst).peak, 0.5);
  // The music came before alice: its last burst precedes her first one in what the caller heard.
  const auto alice_first = FirstMatch(at_caller.channels[0], kAgentBurst, 0.9);
  ASSERT_TRUE(alice_first);
  const Audio before_alice(
      at_caller.channels[0].begin(),
      at_caller.channels[0].begin() + static_cast<std::ptrdiff_t>(*alice_first));
  EXPECT_GT(FindSignal(before_alice, kMusicBurst).peak, 0.9);
  const Audio after_alice(at_caller.channels[0].begin() + static_cast<std::ptrdiff_t>(*alice_first),
                          at_caller.channels[0].end());
  EXPECT_LT(FindSignal(after_alice, kMusicBurst).peak, 0.5);

  // The recording (the support queue records always): stereo, the caller's voice on the left,
  // alice's on the right, each only on its own side.
  const auto completed = site.log->Find("recording.completed", {OfContact(id)});
  ASSERT_TRUE(completed) << "no recording.completed for contact " << id;
  const json with_recording = GetJson(site.http(), "/api/v1/contacts/" + id, site.cookie);
  ASSERT_TRUE(with_recording["recording"].is_object()) << with_recording.dump();
  const std::string recording_id = with_recording["recording"]["id"];
  auto audio_file =
      Http(site.http(), "GET", "/api/v1/recordings/" + recording_id + "/audio", "", site.cookie);
  ASSERT_EQ(audio_file.status, 200) << audio_file.body;
  const std::string recording_path = audio.path() + "/recording.wav";
  {
    std::ofstream out(recording_path, std::ios::binary);
    out << audio_file.body;
  }
  const WavAudio recording = ReadWav(recording_path);
  ASSERT_EQ(recording.error, "");
  ASSERT_EQ(recording.channels.size(), 2u);
  EXPECT_EQ(recording.rate, kTestRate);
  EXPECT_GT(FindSignal(recording.channels[0], kCallerBurst).peak, 0.9);
  EXPECT_GT(FindSignal(recording.channels[1], kAgentBurst).peak, 0.9);
  EXPECT_LT(FindSignal(recording.channels[0], kAgentBurst).peak, 0.5);
  EXPECT_LT(FindSignal(recording.channels[1], kCallerBurst).peak, 0.5);

  // The contact record: the menu choice, and ring, talk and wrap-up times that agree with the
  // events and with the audio alice's phone sent during the call.
  const json contact = GetJson(site.http(), "/api/v1/contacts/" + id, site.cookie);
  EXPECT_EQ(contact["attributes"].value("menu_choice", ""), "sales") << contact.dump();
  EXPECT_EQ(contact["state"], "closed");
  EXPECT_EQ(contact["agent"], "alice");
  const json& t = contact["times"];
  const double ring = ParseUtc(t["answered"]) - ParseUtc(t["offered"]);
  const double talk = ParseUtc(t["wrap_up"]) - ParseUtc(t["answered"]);
  const double wrap_up = ParseUtc(t["closed"]) - ParseUtc(t["wrap_up"]);
  const double kMs = 0.002;  // the record keeps milliseconds, events microseconds
  EXPECT_NEAR(ring, ParseUtc((*accepted)["time"]) - ParseUtc((*offered)["time"]), kMs);
  EXPECT_GT(ring, 0);
  EXPECT_NEAR(talk, ParseUtc((*wrap_started)["time"]) - ParseUtc((*accepted)["time"]), kMs);
  EXPECT_NEAR(wrap_up, ParseUtc((*wrap_ended)["time"]) - ParseUtc((*wrap_started)["time"]), kMs);
  EXPECT_LT(wrap_up, 30.0);  // ended through the API, before the queue's 30 s wrap-up timer
  // alice's phone sent audio from its answer until the BYE: as long as the talk, give or take
  // the signalling between Parley and the phone.
  const WavAudio agent_sent = phone.Sent();
  ASSERT_EQ(agent_sent.error, "");
  EXPECT_NEAR(agent_sent.seconds(), talk, 1.0);
  // And the caller's call lasted at least the talk.
  EXPECT_GT(caller.Sent().seconds(), talk);

  // alice is Available again with nothing in hand.
  const json alice = GetJson(site.http(), "/api/v1/agents/alice", site.cookie);
  EXPECT_EQ(alice["presence"], "available") << alice.dump();
  EXPECT_TRUE(alice["contacts"].empty()) << alice.dump();
}

// The one text-to-speech rendering Parley cached under `data_dir` (polled: no event says when it
// is written), at the test's rate as the media engine plays it; empty when none came in 20 s.
Audio CachedSpeech(const std::string& data_dir) {
  const std::filesystem::path cache = data_dir + "/tts-cache";
  std::string rendering;
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (rendering.empty() && std::chrono::steady_clock::now() < until) {
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator(cache, ec)) {
      if (entry.path().extension() == ".wav") rendering = entry.path().string();
    }
    if (rendering.empty()) std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  if (rendering.empty()) return {};
  const WavAudio spoken = ReadWav(rendering);
  if (!spoken.error.empty() || spoken.channels.size() != 1) return {};
  return media::ResampleAll(spoken.channels[0], spoken.rate, kTestRate);
}

// A second from the middle of `speech` (longer than a second): what a phone hears of it.
Audio MiddleSecond(const Audio& speech) {
  const size_t start = speech.size() / 2 - kTestRate / 2;
  return Audio(speech.begin() + static_cast<std::ptrdiff_t>(start),
               speech.begin() + static_cast<std::ptrdiff_t>(start + kTestRate));
}

// Issue 6: a caller waiting in a queue hears their position, spoken by espeak-ng, and hears it
// again after announce_every. The reference is the rendering Parley cached when it first spoke
// the text, taken to the call's rate as the media engine does.
TEST(BaresipE2eTest, QueuedCallerHearsTheirPositionAnnouncedAndRepeated) {
  Site site;
  ASSERT_TRUE(site.ready());
  TempDir audio;
  BaresipPeer caller(
      {.user = kCallerNumber, .microphone = Microphone(audio, "caller", kCallerBurst)});
  ASSERT_TRUE(caller.started()) << caller.error();
  ASSERT_EQ(caller.Dial(site.entry("5002")), "");
  ASSERT_TRUE(caller.WaitForEvent("CALL_ESTABLISHED")) << caller.log();
  const auto queued = site.log->Find("contact.queued", {"\"channel\":\"voice\""});
  ASSERT_TRUE(queued);

  // The announcement's rendering appears in the cache 3 s after queueing: the only speech of
  // this flow.
  const Audio speech = CachedSpeech(site.server.data_dir());
  ASSERT_GT(speech.size(), static_cast<size_t>(kTestRate));  // "You are number 1 in the queue."
  const Audio excerpt = MiddleSecond(speech);
  const auto first = caller.WaitToHear(excerpt, std::chrono::seconds(15), 0.8);
  ASSERT_TRUE(first) << "the caller never heard the announcement:\n" << caller.log();

  // Said again 3 s after it ended: a second match, later by the speech and the 3 s.
  const double seconds = static_cast<double>(speech.size()) / kTestRate;
  std::optional<size_t> second;
  const auto again_until = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (!second && std::chrono::steady_clock::now() < again_until) {
    const WavAudio heard = caller.Received();
    if (heard.error.empty() && !heard.channels.empty() &&
        heard.channels[0].size() > first->lag + excerpt.size()) {
      const Audio after(
          heard.channels[0].begin() + static_cast<std::ptrdiff_t>(first->lag + excerpt.size()),
          heard.channels[0].end());
      const Match m = FindSignal(after, excerpt);
      if (m.peak >= 0.8) second = first->lag + excerpt.size() + m.lag;
    }
    if (!second) std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  ASSERT_TRUE(second) << "the announcement was not repeated";
  const double gap = static_cast<double>(*second - first->lag) / kTestRate;
  EXPECT_NEAR(gap, seconds + 3.0, 1.0);
  // Between the two (the first one's end, the second one's start, 0.2 s inside each), the
  // queue's silence: the caller heard nothing else.
  const size_t before_excerpt = speech.size() / 2 - kTestRate / 2;
  const size_t first_end = first->lag - before_excerpt + speech.size() + kTestRate / 5;
  const size_t second_start = *second - before_excerpt - kTestRate / 5;
  ASSERT_LT(first_end, second_start);
  const WavAudio heard = caller.Received();
  ASSERT_GE(heard.channels[0].size(), second_start);
  EXPECT_LT(Rms(heard.channels[0], first_end, second_start), 50.0);
  ASSERT_EQ(caller.HangUp(), "");
  ASSERT_TRUE(site.log->Find("contact.abandoned", {OfContact((*queued)["contact"])}));
}

// Issue 6: on a recorded queue with an announcement, the caller hears "This call may be
// recorded." when alice's phone answers and before her voice; neither her phone nor the
// recording gets it.
TEST(BaresipE2eTest, RecordedQueueTellsTheCallerBeforeTheAgentIsConnected) {
  Site site;
  ASSERT_TRUE(site.ready());
  TempDir audio;
  BaresipPeer phone({.user = "alice",
                     .microphone = Microphone(audio, "agent", kAgentBurst),
                     .auto_answer = true});
  ASSERT_TRUE(phone.started()) << phone.error();
  ASSERT_EQ(RegisterAlice(site.server.sip_port(), phone.contact()), "SIP/2.0 200 OK");
  BaresipPeer caller(
      {.user = kCallerNumber, .microphone = Microphone(audio, "caller", kCallerBurst)});
  ASSERT_TRUE(caller.started()) << caller.error();
  ASSERT_EQ(caller.Dial(site.entry("5003")), "");
  ASSERT_TRUE(caller.WaitForEvent("CALL_ESTABLISHED")) << caller.log();
  const auto queued = site.log->Find("contact.queued", {"\"queue\":\"billing\""});
  ASSERT_TRUE(queued);
  const std::string id = (*queued)["contact"];
  auto presence = Http(site.http(), "PUT", "/api/v1/agents/alice/presence",
                       R"({"presence":"available"})", site.cookie);
  ASSERT_EQ(presence.status, 200) << presence.body;
  ASSERT_TRUE(site.log->Find("offer.accepted", {OfContact(id), "\"agent\":\"alice\""}));
  ASSERT_TRUE(phone.WaitForEvent("CALL_ESTABLISHED")) << phone.log();

  const Audio speech = CachedSpeech(site.server.data_dir());
  ASSERT_GT(speech.size(), static_cast<size_t>(kTestRate));  // "This call may be recorded."
  const Audio excerpt = MiddleSecond(speech);
  const auto notice = caller.WaitToHear(excerpt, std::chrono::seconds(15), 0.8);
  ASSERT_TRUE(notice) << "the caller never heard the notice:\n" << caller.log();
  ASSERT_TRUE(caller.WaitToHear(kAgentBurst)) << "the caller never heard alice";
  ASSERT_TRUE(phone.WaitToHear(kCallerBurst)) << "alice never heard the caller";
  ASSERT_EQ(caller.HangUp(), "");
  ASSERT_TRUE(phone.WaitForEvent("CALL_CLOSED")) << phone.log();
  ASSERT_TRUE(site.log->Find("recording.completed", {OfContact(id)}));

  // The notice, then alice: her first burst comes after it in what the caller heard.
  const WavAudio at_caller = caller.Received();
  ASSERT_EQ(at_caller.error, "");
  const auto alice_first = FirstMatch(at_caller.channels[0], kAgentBurst, 0.9);
  ASSERT_TRUE(alice_first);
  EXPECT_LT(notice->lag, *alice_first);
  // Alice's phone and the recording do not have it.
  const WavAudio at_agent = phone.Received();
  ASSERT_EQ(at_agent.error, "");
  EXPECT_LT(FindSignal(at_agent.channels[0], excerpt).peak, 0.5);
  const json contact = GetJson(site.http(), "/api/v1/contacts/" + id, site.cookie);
  ASSERT_TRUE(contact["recording"].is_object()) << contact.dump();
  auto file = Http(site.http(), "GET",
                   "/api/v1/recordings/" + contact["recording"]["id"].get<std::string>() + "/audio",
                   "", site.cookie);
  ASSERT_EQ(file.status, 200) << file.body;
  const std::string path = audio.path() + "/recording.wav";
  std::ofstream(path, std::ios::binary) << file.body;
  const WavAudio recording = ReadWav(path);
  ASSERT_EQ(recording.error, "");
  ASSERT_EQ(recording.channels.size(), 2u);
  EXPECT_GT(FindSignal(recording.channels[0], kCallerBurst).peak, 0.9);
  EXPECT_LT(FindSignal(recording.channels[0], excerpt).peak, 0.5);
  EXPECT_LT(FindSignal(recording.channels[1], excerpt).peak, 0.5);
}

TEST(BaresipE2eTest, CallerHangingUpWhileQueuedAbandonsTheContact) {
  Site site;
  ASSERT_TRUE(site.ready());
  RawCaller caller(site.server.sip_port());
  const std::string id = site.QueuedRawCall(caller);
  ASSERT_NE(id, "");
  EXPECT_EQ(GetJson(site.http(), "/api/v1/queues/support", site.cookie)["waiting"], 1);

  EXPECT_EQ(caller.HangUp(), "SIP/2.0 200 OK");
  ASSERT_TRUE(site.log->Find("contact.abandoned", {OfContact(id), "\"queue\":\"support\""}));
  ASSERT_TRUE(site.log->Find("contact.closed", {OfContact(id)}));
  const json contact = GetJson(site.http(), "/api/v1/contacts/" + id, site.cookie);
  EXPECT_EQ(contact["state"], "closed");
  EXPECT_TRUE(contact["times"]["answered"].is_null()) << contact.dump();
  const json queue = GetJson(site.http(), "/api/v1/queues/support", site.cookie);
  EXPECT_EQ(queue["abandoned"], 1) << queue.dump();
  EXPECT_EQ(queue["answered"], 0) << queue.dump();
  EXPECT_EQ(queue["waiting"], 0) << queue.dump();
}

TEST(BaresipE2eTest, AvailableAgentWithoutARegisteredPhoneIsMadeNotReadyAndTheCallKeepsItsPlace) {
  Site site;
  ASSERT_TRUE(site.ready());
  RawCaller caller(site.server.sip_port());
  const std::string id = site.QueuedRawCall(caller);
  ASSERT_NE(id, "");
  const std::string queued_at =
      GetJson(site.http(), "/api/v1/contacts/" + id, site.cookie)["times"]["queued"];

  // alice is Available but no phone of hers is registered: the offer fails at once and she is
  // made Not Ready, saying why, instead of staying Available where no call can reach her
  // (before the fix she did: one rejected offer, then nothing).
  auto presence = Http(site.http(), "PUT", "/api/v1/agents/alice/presence",
                       R"({"presence":"available"})", site.cookie);
  ASSERT_EQ(presence.status, 200) << presence.body;
  ASSERT_TRUE(site.log->Find("offer.rejected", {OfContact(id), "\"agent\":\"alice\""}));
  ASSERT_TRUE(site.log->Find("agent.presence_changed",
                             {"\"agent\":\"alice\"", "\"presence\":\"not-ready\""}));
  EXPECT_EQ(site.log->Count("offer.rejected", {OfContact(id)}), 1u);
  const json alice = GetJson(site.http(), "/api/v1/agents/alice", site.cookie);
  EXPECT_EQ(alice["presence"], "not-ready") << alice.dump();
  EXPECT_EQ(alice["reason"], "no_phone") << alice.dump();

  // The call keeps its place in the queue and its line.
  const json contact = GetJson(site.http(), "/api/v1/contacts/" + id, site.cookie);
  EXPECT_EQ(contact["state"], "queued") << contact.dump();
  EXPECT_EQ(contact["times"]["queued"], queued_at);
  EXPECT_EQ(caller.HangUp(), "SIP/2.0 200 OK");
  EXPECT_TRUE(site.log->Find("contact.abandoned", {OfContact(id)}));
}

TEST(BaresipE2eTest, CallbackKeyWhileQueuedEndsTheCallAndLeavesACallbackInItsPlace) {
  Site site;
  ASSERT_TRUE(site.ready());
  TempDir audio;
  BaresipPeer caller(
      {.user = kCallerNumber, .microphone = Microphone(audio, "caller", kCallerBurst)});
  ASSERT_TRUE(caller.started()) << caller.error();
  ASSERT_EQ(caller.Dial(site.entry("5000")), "");
  ASSERT_TRUE(site.log->Find("flow.step_entered", {"\"step\":\"menu\""}));
  ASSERT_EQ(caller.SendDigits("2"), "");
  const auto queued = site.log->Find("contact.queued", {"\"channel\":\"voice\""});
  ASSERT_TRUE(queued);
  const std::string id = (*queued)["contact"];
  ASSERT_TRUE(caller.WaitToHear(kMusicBurst)) << "no music heard:\n" << caller.log();

  // 9 during the music: the flow schedules a callback, thanks the caller and hangs up.
  ASSERT_EQ(caller.SendDigits("9"), "");
  const auto callback = site.log->Find("contact.queued", {"\"channel\":\"callback\""});
  ASSERT_TRUE(callback);
  const std::string callback_id = (*callback)["contact"];
  EXPECT_TRUE(caller.WaitForEvent("CALL_CLOSED")) << caller.log();
  EXPECT_TRUE(site.log->Find("flow.ended", {OfContact(id), "\"outcome\":\"callback\""}));

  const json voice = GetJson(site.http(), "/api/v1/contacts/" + id, site.cookie);
  EXPECT_EQ(voice["state"], "closed") << voice.dump();
  EXPECT_EQ(voice["attributes"].value("menu_choice", ""), "support");
  const json back = GetJson(site.http(), "/api/v1/contacts/" + callback_id, site.cookie);
  EXPECT_EQ(back["channel"], "callback");
  EXPECT_EQ(back["state"], "queued") << back.dump();
  EXPECT_EQ(back["queue"], "support");
  EXPECT_EQ(back["attributes"].value("callback.number", ""), kCallerNumber) << back.dump();
  EXPECT_EQ(back["attributes"].value("origin.contact", ""), id);
  // keep_position: it waits from the caller's own arrival in the queue.
  EXPECT_EQ(back["times"]["queued"], voice["times"]["queued"]) << back.dump() << voice.dump();
  const json queue = GetJson(site.http(), "/api/v1/queues/support", site.cookie);
  EXPECT_EQ(queue["waiting"], 1) << queue.dump();
}

// The middle 0.2 s of the beep before a voicemail (the media plane's built-in tone).
Audio BeepExcerpt() {
  // Keep the shared pointer: a reference into the temporary vector it came in would dangle.
  const media::Samples beep = media::BuiltInBeep(kTestRate)[0];
  return Audio(beep->begin() + kTestRate / 10, beep->begin() + kTestRate * 3 / 10);
}

// Issue 6: a voicemail step used to make its contact at once and record nothing. The caller
// now hears the prompt, then the beep, speaks, presses #; the message is recorded alone (mono),
// the call is hung up, and the message becomes a contact of the mailbox that carries it.
TEST(BaresipE2eTest, CallerLeavesAVoicemailAfterTheBeepEndsItWithHashAndCarolIsOfferedIt) {
  Site site;
  ASSERT_TRUE(site.ready());
  TempDir audio;
  BaresipPeer caller(
      {.user = kCallerNumber, .microphone = Microphone(audio, "caller", kCallerBurst)});
  ASSERT_TRUE(caller.started()) << caller.error();
  ASSERT_EQ(caller.Dial(site.entry("5004")), "");
  const auto ended = site.log->Find("flow.ended", {"\"outcome\":\"voicemail\""});
  ASSERT_TRUE(ended);
  const std::string id = (*ended)["contact"];

  // The prompt (the music), then the beep; then the caller speaks three seconds more and
  // presses # (RFC 4733), which ends the message.
  ASSERT_TRUE(caller.WaitToHear(kMusicBurst)) << "no prompt heard:\n" << caller.log();
  ASSERT_TRUE(caller.WaitToHear(BeepExcerpt())) << "no beep heard:\n" << caller.log();
  ASSERT_TRUE(caller.WaitToHaveSent(caller.Sent().seconds() + 3)) << caller.log();
  ASSERT_EQ(caller.SendDigits("#"), "");
  EXPECT_TRUE(caller.WaitForEvent("CALL_CLOSED")) << "not hung up:\n" << caller.log();

  // The message is a contact of the mailbox's queue, made from the call, carrying its recording.
  const auto queued = site.log->Find("contact.queued", {"\"channel\":\"callback\""});
  ASSERT_TRUE(queued);
  const std::string message_id = (*queued)["contact"];
  const auto completed =
      site.log->Find("recording.completed", {OfContact(message_id), "\"kind\":\"voicemail\""});
  ASSERT_TRUE(completed) << "no recording.completed for contact " << message_id;
  ASSERT_TRUE(site.log->Find("contact.closed", {OfContact(id)}));
  const json message = GetJson(site.http(), "/api/v1/contacts/" + message_id, site.cookie);
  EXPECT_EQ(message["queue"], "messages") << message.dump();
  EXPECT_EQ(message["attributes"].value("voicemail.mailbox", ""), "messages");
  EXPECT_EQ(message["attributes"].value("origin.contact", ""), id);
  ASSERT_TRUE(message["recording"].is_object()) << message.dump();
  EXPECT_EQ(message["recording"]["kind"], "voicemail");
  const std::string recording_id = message["recording"]["id"];
  EXPECT_EQ(message["attributes"].value("voicemail.recording", ""), recording_id);

  // Listed by the recordings API for the new contact; mono, the caller's voice, no beep, about
  // as long as the caller spoke after the beep.
  const json listed = GetJson(site.http(), "/api/v1/recordings", site.cookie);
  bool found = false;
  for (const auto& r : listed["recordings"]) {
    found |= r["id"] == recording_id && r["contact"] == message_id && r["kind"] == "voicemail";
  }
  EXPECT_TRUE(found) << listed.dump();
  const WavAudio recording = RecordingAudio(site, audio, recording_id);
  ASSERT_EQ(recording.error, "");
  ASSERT_EQ(recording.channels.size(), 1u);
  EXPECT_EQ(recording.rate, kTestRate);
  EXPECT_GT(FindSignal(recording.channels[0], kCallerBurst).peak, 0.9);
  EXPECT_LT(FindSignal(recording.channels[0], kMusicBurst).peak, 0.5);
  EXPECT_GT(recording.seconds(), 2.5);
  EXPECT_LT(recording.seconds(), caller.Sent().seconds());

  // Carol, who serves the mailbox, is offered the message.
  auto presence = Http(site.http(), "PUT", "/api/v1/agents/carol/presence",
                       R"({"presence":"available"})", site.cookie);
  ASSERT_EQ(presence.status, 200) << presence.body;
  EXPECT_TRUE(site.log->Find("contact.offered", {OfContact(message_id), "\"agent\":\"carol\""}));
}

// A caller who hangs up at once leaves no message: nobody is offered an empty voicemail.
TEST(BaresipE2eTest, CallerHangingUpBeforeSpeakingLeavesNoVoicemailContact) {
  Site site;
  ASSERT_TRUE(site.ready());
  RawCaller caller(site.server.sip_port());
  ASSERT_EQ(caller.Call("5004"), "SIP/2.0 200 OK");
  const auto ended = site.log->Find("flow.ended", {"\"outcome\":\"voicemail\""});
  ASSERT_TRUE(ended);
  const std::string id = (*ended)["contact"];
  EXPECT_EQ(caller.HangUp(), "SIP/2.0 200 OK");
  // The call closes only once its message is settled, so a message contact would come first.
  ASSERT_TRUE(site.log->Find("contact.closed", {OfContact(id)}));
  EXPECT_EQ(site.log->Count("contact.queued", {"\"channel\":\"callback\""}), 0u);
  const json queue = GetJson(site.http(), "/api/v1/queues/messages", site.cookie);
  EXPECT_EQ(queue["waiting"], 0) << queue.dump();
}

}  // namespace
}  // namespace parley::testing
