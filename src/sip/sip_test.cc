#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>

#include "sip/binding_writer.h"
#include "sip/call_control.h"
#include "sip/digest_header.h"
#include "sip/recording_recovery.h"
#include "sip/registrar.h"
#include "sip/replaces.h"
#include "sip/sdp.h"

namespace parley::sip {
namespace {

constexpr char kOffer[] =
    "v=0\r\n"
    "o=- 1 1 IN IP4 192.0.2.1\r\n"
    "s=-\r\n"
    "c=IN IP4 192.0.2.1\r\n"
    "t=0 0\r\n"
    "m=video 5000 RTP/AVP 96\r\n"
    "c=IN IP4 192.0.2.99\r\n"
    "m=audio 4000 RTP/AVP 18 8 0 101\r\n"
    "a=rtpmap:18 G729/8000\r\n"
    "a=rtpmap:101 telephone-event/8000\r\n"
    "a=ptime:30\r\n"
    "a=sendrecv\r\n";

TEST(Sdp, ParsesTheAudioStreamAndIgnoresOtherMedia) {
  auto sdp = ParseSdp(kOffer);
  ASSERT_TRUE(sdp.ok()) << sdp.status().message();
  EXPECT_EQ(sdp->address, "192.0.2.1");  // the video section's c= is not session-level
  EXPECT_EQ(sdp->port, 4000);
  ASSERT_EQ(sdp->payloads.size(), 4u);
  EXPECT_EQ(sdp->payloads[0].encoding, "g729");
  EXPECT_EQ(sdp->payloads[1].encoding, "pcma");
  EXPECT_EQ(sdp->ptime_ms, 30);
}

TEST(Sdp, NegotiatesTheFirstSupportedCodecAndTelephoneEvent) {
  auto sdp = ParseSdp(kOffer);
  ASSERT_TRUE(sdp.ok());
  auto n = Negotiate(*sdp);
  ASSERT_TRUE(n.ok()) << n.status().message();
  EXPECT_EQ(n->format.codec, ports::AudioCodec::kPcma);
  EXPECT_EQ(n->format.payload_type, 8);
  EXPECT_EQ(n->format.dtmf_payload_type, 101);
  EXPECT_EQ(n->remote, (ports::RtpEndpoint{"192.0.2.1", 4000}));
}

TEST(Sdp, MediaLevelConnectionWins) {
  auto sdp = ParseSdp("v=0\r\nc=IN IP4 10.0.0.1\r\nm=audio 9 RTP/AVP 0\r\nc=IN IP4 10.0.0.2\r\n");
  ASSERT_TRUE(sdp.ok());
  EXPECT_EQ(sdp->address, "10.0.0.2");
}

TEST(Sdp, RefusesWhatItCannotUse) {
  EXPECT_FALSE(ParseSdp("").ok());
  EXPECT_FALSE(ParseSdp("hello").ok());
  EXPECT_FALSE(ParseSdp("v=0\r\nm=audio 4000 RTP/AVP 0\r\n").ok());                       // no c=
  EXPECT_FALSE(ParseSdp("v=0\r\nc=IN IP4 1.2.3.4\r\nm=audio 99999 RTP/AVP 0\r\n").ok());  // port
  EXPECT_FALSE(ParseSdp("v=0\r\nc=IN IP4 1.2.3.4\r\nm=audio 4000 RTP/AVP 300\r\n").ok());
  EXPECT_FALSE(ParseSdp("v=0\r\nc=IN IP4 1.2.3.4\r\nm=audio 4000 RTP/SAVP 0\r\n").ok());
  EXPECT_FALSE(ParseSdp("v=0\r\nc=IN IP4 1.2.3.4;rm -rf\r\nm=audio 4000 RTP/AVP 0\r\n").ok());
  EXPECT_FALSE(
      ParseSdp("v=0\r\nc=IN IP4 1.2.3.4\r\nm=audio 4000 RTP/AVP 0\r\na=rtpmap:0\r\n").ok());
  EXPECT_FALSE(ParseSdp(std::string(20000, 'a')).ok());
  auto g729 = ParseSdp("v=0\r\nc=IN IP4 1.2.3.4\r\nm=audio 4000 RTP/AVP 18\r\n");
  ASSERT_TRUE(g729.ok());
  EXPECT_FALSE(Negotiate(*g729).ok());
  auto refused = ParseSdp("v=0\r\nc=IN IP4 1.2.3.4\r\nm=audio 0 RTP/AVP 0\r\n");
  ASSERT_TRUE(refused.ok());
  EXPECT_FALSE(Negotiate(*refused).ok());
}

TEST(Sdp, BuiltAnswerParsesBackToTheSameFormat) {
  ports::MediaFormat f;
  f.codec = ports::AudioCodec::kPcma;
  f.payload_type = 8;
  f.dtmf_payload_type = 101;
  const std::string text = BuildSdp({"127.0.0.1", 20000}, f, 7, 1);
  auto back = ParseSdp(text);
  ASSERT_TRUE(back.ok()) << text;
  auto n = Negotiate(*back);
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(n->format, f);
  EXPECT_EQ(n->remote, (ports::RtpEndpoint{"127.0.0.1", 20000}));
  // An offer lists every codec we handle, ours first.
  auto offer = ParseSdp(BuildSdp({"::1", 20002}, DefaultOfferFormat(), 7, 1, true));
  ASSERT_TRUE(offer.ok());
  EXPECT_EQ(offer->payloads.size(), 4u);
  EXPECT_EQ(offer->address, "::1");
}

// Call control: a phone's hold offer (sendonly or inactive) gets the matching answer.
TEST(SdpCallControl, HoldOffersGetTheMatchingDirectionInTheAnswer) {
  EXPECT_EQ(AnswerDirection("sendonly"), "recvonly");
  EXPECT_EQ(AnswerDirection("inactive"), "inactive");
  EXPECT_EQ(AnswerDirection("recvonly"), "sendonly");
  EXPECT_EQ(AnswerDirection("sendrecv"), "sendrecv");
  EXPECT_TRUE(IsHoldDirection("sendonly"));
  EXPECT_TRUE(IsHoldDirection("inactive"));
  EXPECT_FALSE(IsHoldDirection("sendrecv"));
  const std::string sdp = BuildSdp({"127.0.0.1", 4000}, DefaultOfferFormat(), 1, 1);
  auto held = ParseSdp(WithDirection(sdp, "recvonly"));
  ASSERT_TRUE(held.ok()) << held.status().ToString();
  EXPECT_EQ(held->direction, "recvonly");
  EXPECT_EQ(WithDirection(sdp, "sendrecv"), sdp);
}

TEST(DigestHeader, ReadsQuotedParameters) {
  auto c =
      ParseDigestParams("Digest", {"username=\"alice\"", "realm=\"parley\"", "nonce=\"abc\"",
                                   "uri=\"sip:parley\"", "response=\"0123\"", "algorithm=SHA-256",
                                   "qop=auth", "cnonce=\"x\\\"y\"", "nc=00000001"});
  ASSERT_TRUE(c.has_value());
  EXPECT_EQ(c->username, "alice");
  EXPECT_EQ(c->algorithm, auth::DigestAlgorithm::kSha256);
  EXPECT_EQ(c->cnonce, "x\"y");
  EXPECT_EQ(c->nc, "00000001");
}

TEST(DigestHeader, RefusesIncompleteOrForeignCredentials) {
  const std::vector<std::string> base = {"username=\"a\"", "realm=\"r\"", "nonce=\"n\"",
                                         "uri=\"sip:x\"", "response=\"1\""};
  EXPECT_TRUE(ParseDigestParams("Digest", base).has_value());
  EXPECT_FALSE(ParseDigestParams("Basic", base).has_value());
  for (size_t skip = 0; skip < base.size(); ++skip) {
    auto fewer = base;
    fewer.erase(fewer.begin() + static_cast<long>(skip));
    EXPECT_FALSE(ParseDigestParams("Digest", fewer).has_value()) << base[skip];
  }
  auto bad_algorithm = base;
  bad_algorithm.push_back("algorithm=SHA-512-256");
  EXPECT_FALSE(ParseDigestParams("Digest", bad_algorithm).has_value());
  auto unterminated = base;
  unterminated.push_back("cnonce=\"abc");
  EXPECT_FALSE(ParseDigestParams("Digest", unterminated).has_value());
  auto qop_alone = base;
  qop_alone.push_back("qop=auth");
  EXPECT_FALSE(ParseDigestParams("Digest", qop_alone).has_value());
}

TEST(DigestHeader, ChallengeNamesTheAlgorithm) {
  EXPECT_EQ(DigestChallenge(auth::DigestAlgorithm::kSha256, "parley", "n1", true),
            "Digest realm=\"parley\", nonce=\"n1\", algorithm=SHA-256, qop=\"auth\", stale=true");
}

TimePoint At(double s) { return TimePoint{} + Seconds(s); }

TEST(Registrar, SeveralPhonesPerUserEachExpiringOnItsOwn) {
  Registrar r;
  ASSERT_TRUE(
      r.Apply("alice", "a1", {{"sip:alice@10.0.0.1", Seconds(60)}}, "c1", 1, "10.0.0.1", At(0))
          .ok());
  ASSERT_TRUE(
      r.Apply("alice", "a1", {{"sip:alice@10.0.0.2", Seconds(120)}}, "c2", 1, "10.0.0.2", At(10))
          .ok());
  EXPECT_EQ(r.BindingsOfAgent("a1", At(20)).size(), 2u);
  EXPECT_EQ(r.BindingsOfAgent("a2", At(20)).size(), 0u);
  // The metrics gauge counts what has not expired, without a REGISTER to prune the rest.
  const std::vector<TimePoint> expiries = r.Expiries();
  EXPECT_EQ(expiries, (std::vector<TimePoint>{At(60), At(130)}));
  EXPECT_EQ(CountUnexpired(expiries, At(59)), 2u);
  EXPECT_EQ(CountUnexpired(expiries, At(60)), 1u);
  EXPECT_EQ(CountUnexpired(expiries, At(130)), 0u);
  auto left = r.BindingsOf("alice", At(61));
  ASSERT_EQ(left.size(), 1u);
  EXPECT_EQ(left[0].contact, "sip:alice@10.0.0.2");
  EXPECT_TRUE(r.BindingsOfAgent("a1", At(131)).empty());
  EXPECT_EQ(r.size(), 0u);
}

TEST(Registrar, RefreshUnregisterAndWildcard) {
  Registrar r;
  ASSERT_TRUE(r.Apply("bob", "b", {{"sip:bob@h", Seconds(60)}}, "c", 1, "", At(0)).ok());
  ASSERT_TRUE(r.Apply("bob", "b", {{"sip:bob@h", Seconds(60)}}, "c", 2, "", At(50)).ok());
  EXPECT_EQ(r.BindingsOf("bob", At(100)).size(), 1u);  // refreshed at 50
  // Same Call-ID, old CSeq: out of order.
  EXPECT_EQ(r.Apply("bob", "b", {{"sip:bob@h", Seconds(60)}}, "c", 2, "", At(60)).code(),
            StatusCode::kConflict);
  ASSERT_TRUE(r.Apply("bob", "b", {{"sip:bob@h", Duration::zero()}}, "c", 3, "", At(60)).ok());
  EXPECT_TRUE(r.BindingsOf("bob", At(60)).empty());
  ASSERT_TRUE(r.Apply("bob", "b", {{"sip:bob@h", Seconds(60)}, {"sip:bob@i", Seconds(60)}}, "d", 1,
                      "", At(70))
                  .ok());
  r.RemoveAll("bob");
  EXPECT_TRUE(r.BindingsOfAgent("b", At(70)).empty());
}

TEST(Registrar, RestoredBindingsRingAgainButNotExpiredOrDuplicateOnes) {
  Registrar r({.max_contacts_per_user = 2});
  r.Restore("alice", "a1", {.contact = "sip:alice@10.0.0.1", .expires = At(100)}, At(10));
  r.Restore("alice", "a1", {.contact = "sip:alice@10.0.0.1", .expires = At(100)}, At(10));
  r.Restore("alice", "a1", {.contact = "sip:alice@10.0.0.2", .expires = At(5)}, At(10));
  r.Restore("alice", "a1", {.contact = "sip:alice@10.0.0.3", .expires = At(200)}, At(10));
  r.Restore("alice", "a1", {.contact = "sip:alice@10.0.0.4", .expires = At(200)}, At(10));
  const auto phones = r.BindingsOfAgent("a1", At(20));
  ASSERT_EQ(phones.size(), 2u);  // the expired one dropped, the limit kept
  EXPECT_EQ(phones[0].contact, "sip:alice@10.0.0.1");
  EXPECT_EQ(phones[1].contact, "sip:alice@10.0.0.3");
  r.Restore("bob", "b1", {.contact = "sip:bob@h", .expires = At(5)}, At(10));
  EXPECT_EQ(r.size(), 2u);  // nothing kept for bob
  // A restored binding takes part in the next REGISTER like any other (refresh, remove).
  ASSERT_TRUE(
      r.Apply("alice", "a1", {{"sip:alice@10.0.0.3", Duration::zero()}}, "c", 1, "", At(30)).ok());
  EXPECT_EQ(r.BindingsOf("alice", At(30)).size(), 1u);
}

// A store of SIP bindings in memory for BindingWriter's tests.
class FakeBindingStore final : public ports::SipRegistrations {
 public:
  Status ReplaceSipBindings(const std::vector<std::string>& logins,
                            const std::vector<ports::SipBindingRecord>& bindings) override {
    std::lock_guard lock(mu);
    ++transactions;
    if (fail) return Internal("disk full");
    for (const auto& l : logins) stored.erase(l);
    for (const auto& b : bindings) stored[b.login].push_back(b.contact);
    return Status::Ok();
  }
  Result<std::vector<ports::SipBindingRecord>> LoadSipBindings(TimePoint) override {
    return std::vector<ports::SipBindingRecord>{};
  }
  std::mutex mu;
  std::map<std::string, std::vector<std::string>> stored;
  int transactions = 0;
  bool fail = false;
};

TEST(BindingWriter, WritesEachLoginsLatestBindingsAndCountsFailures) {
  FakeBindingStore store;
  {
    BindingWriter writer(store);
    writer.Save("alice", {{.login = "alice", .contact = "sip:alice@a"}});
    writer.Save("alice", {{.login = "alice", .contact = "sip:alice@b"},
                          {.login = "alice", .contact = "sip:alice@c"}});
    writer.Save("bob", {{.login = "bob", .contact = "sip:bob@a"}});
    writer.Flush();
    {
      std::lock_guard lock(store.mu);
      EXPECT_EQ(store.stored["alice"], (std::vector<std::string>{"sip:alice@b", "sip:alice@c"}));
      EXPECT_EQ(store.stored["bob"], (std::vector<std::string>{"sip:bob@a"}));
      EXPECT_LE(store.transactions, 3);
      store.fail = true;
    }
    writer.Save("bob", {});
    writer.Flush();
    EXPECT_EQ(writer.failures(), 1u);
    {
      std::lock_guard lock(store.mu);
      store.fail = false;
    }
    writer.Save("bob", {});
  }  // the destructor writes what is still pending
  std::lock_guard lock(store.mu);
  EXPECT_EQ(store.stored.count("bob"), 0u);
}

TEST(Registrar, PolicyLimits) {
  Registrar r({.min_expires = Seconds(60),
               .max_expires = Seconds(600),
               .default_expires = Seconds(300),
               .max_contacts_per_user = 2});
  EXPECT_EQ(r.Apply("c", "", {{"sip:c@h", Seconds(10)}}, "x", 1, "", At(0)).code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(r.Clamp(Seconds(-1)), Seconds(300));
  EXPECT_EQ(r.Clamp(Seconds(9999)), Seconds(600));
  ASSERT_TRUE(
      r.Apply("c", "", {{"sip:c@1", Seconds(60)}, {"sip:c@2", Seconds(60)}}, "x", 1, "", At(0))
          .ok());
  EXPECT_EQ(r.Apply("c", "", {{"sip:c@3", Seconds(60)}}, "y", 1, "", At(0)).code(),
            StatusCode::kUnavailable);
  EXPECT_EQ(r.BindingsOf("c", At(1)).size(), 2u);  // nothing changed
}

}  // namespace
}  // namespace parley::sip

namespace parley::sip {
namespace {

// A stereo 8 kHz 16-bit WAV header followed by `data` bytes; `declared` is what the header says
// (a crash may leave it behind the data, as libsndfile updates it after each write).
std::string Wav(uint32_t data, uint32_t declared) {
  std::string w = "RIFF";
  auto le = [&](uint32_t v, int n) {
    for (int i = 0; i < n; ++i) w.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
  };
  le(36 + declared, 4);
  w += "WAVEfmt ";
  le(16, 4);
  le(1, 2);      // PCM
  le(2, 2);      // channels
  le(8000, 4);   // rate
  le(32000, 4);  // bytes per second
  le(4, 2);      // block align
  le(16, 2);     // bits
  w += "data";
  le(declared, 4);
  w.append(data, '\x11');
  return w;
}

// Issue 6: a crash leaves `<path>.part` behind; the next start renames it and reports it.
TEST(RecordingRecovery, LeftoverPartFilesAreRenamedMeasuredAndReported) {
  namespace fs = std::filesystem;
  const fs::path dir = fs::temp_directory_path() / ("parley_recovery_" + std::to_string(getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir / "2026" / "01" / "02");
  const std::string wav = Wav(64000, 32000);  // two seconds written, the header says one
  std::ofstream(dir / "2026" / "01" / "02" / "17.wav.part", std::ios::binary) << wav;
  std::ofstream(dir / "2026" / "01" / "02" / "notes.wav.part") << "x";
  std::ofstream(dir / "2026" / "01" / "02" / "18.wav.part") << "not a wav";
  std::ofstream(dir / "2026" / "01" / "02" / "19.wav", std::ios::binary) << wav;  // finished

  std::vector<std::string> problems;
  const auto found = FinaliseLeftoverRecordings(dir.string(), &problems);
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0].contact.value(), 17u);
  EXPECT_EQ(found[0].info.path, (dir / "2026" / "01" / "02" / "17.wav").string());
  EXPECT_EQ(found[0].info.bytes, wav.size());
  EXPECT_EQ(found[0].info.sha256.size(), 64u);
  EXPECT_EQ(found[0].info.duration, Seconds(1));  // as far as the header is sure
  EXPECT_EQ(found[0].channels, 2);
  EXPECT_TRUE(fs::exists(dir / "2026" / "01" / "02" / "17.wav"));
  EXPECT_FALSE(fs::exists(dir / "2026" / "01" / "02" / "17.wav.part"));
  EXPECT_EQ(problems.size(), 2u);  // notes (no contact) and 18 (not a WAV), left in place
  EXPECT_TRUE(fs::exists(dir / "2026" / "01" / "02" / "18.wav.part"));
  // Nothing is left to finalise the second time.
  EXPECT_TRUE(FinaliseLeftoverRecordings(dir.string(), nullptr).empty());
  EXPECT_TRUE(FinaliseLeftoverRecordings((dir / "missing").string(), nullptr).empty());
  fs::remove_all(dir);
}

TEST(RecordingRecovery, WavHeaderOfOtherFilesIsEmpty) {
  EXPECT_EQ(ReadWavHeader("").channels, 0);
  EXPECT_EQ(ReadWavHeader("RIFF1234WAVE").channels, 0);
  EXPECT_EQ(ReadWavHeader(Wav(10, 10)).rate, 8000u);
  EXPECT_EQ(ReadWavHeader(Wav(10, 1000)).data_bytes, 10u);  // capped at what the file holds
}

// ---- Attended transfer from a phone: Replaces in a REFER's Refer-To (sip/replaces.h) ----

TEST(Replaces, ReadsTheEscapedHeaderOfAReferToUri) {
  auto r = ReplacesOfReferTo("Replaces=a2-77%40192.0.2.1%3Bto-tag%3DParley9%3Bfrom-tag%3Dphone3");
  ASSERT_TRUE(r.ok()) << r.status().message();
  ASSERT_TRUE(r->has_value());
  EXPECT_EQ((*r)->call_id, "a2-77@192.0.2.1");
  EXPECT_EQ((*r)->to_tag, "Parley9");
  EXPECT_EQ((*r)->from_tag, "phone3");
  EXPECT_FALSE((*r)->early_only);
}

TEST(Replaces, TakesAnyCaseAnyOrderOfTagsAndOtherHeadersBeside) {
  auto r = ReplacesOfReferTo(
      "Require=replaces&replaces=x%3Bfrom-tag%3D2%3Bto-tag%3D1%3Bearly-only&Foo=bar");
  ASSERT_TRUE(r.ok()) << r.status().message();
  ASSERT_TRUE(r->has_value());
  EXPECT_EQ((*r)->call_id, "x");
  EXPECT_EQ((*r)->to_tag, "1");
  EXPECT_EQ((*r)->from_tag, "2");
  EXPECT_TRUE((*r)->early_only);
}

TEST(Replaces, NoReplacesIsABlindTransfer) {
  auto none = ReplacesOfReferTo("");
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->has_value());
  auto other = ReplacesOfReferTo("Require=replaces");
  ASSERT_TRUE(other.ok());
  EXPECT_FALSE(other->has_value());
}

TEST(Replaces, RefusesAValueWithoutBothTagsOrCallId) {
  for (const char* bad :
       {"Replaces=", "Replaces=%3B%3B", "Replaces=abc%3Bto-tag%3D1", "Replaces=abc%3Bfrom-tag%3D2",
        "Replaces=abc%3Bto-tag%3D%3Bfrom-tag%3D2", "Replaces=a%20b%3Bto-tag%3D1%3Bfrom-tag%3D2",
        "Replaces=a%3Bto-tag%3D1%3Bfrom-tag%3D2&Replaces=b%3Bto-tag%3D1%3Bfrom-tag%3D2"}) {
    auto r = ReplacesOfReferTo(bad);
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << bad;
    EXPECT_NE(r.status().message().find("Replaces"), std::string::npos) << bad;
  }
}

TEST(Replaces, NamesADialogByCallIdWithToTagOursAndFromTagThePhones) {
  const DialogId a2{.call_id = "a2@phone", .local_tag = "parleyTag", .remote_tag = "phoneTag"};
  EXPECT_TRUE(Names({.call_id = "a2@phone", .to_tag = "parleyTag", .from_tag = "phoneTag"}, a2));
  EXPECT_TRUE(Names({.call_id = "a2@phone", .to_tag = "PARLEYTAG", .from_tag = "phonetag"}, a2));
  // The tags the wrong way round, another Call-ID (case-sensitive), or one tag off: not it.
  EXPECT_FALSE(Names({.call_id = "a2@phone", .to_tag = "phoneTag", .from_tag = "parleyTag"}, a2));
  EXPECT_FALSE(Names({.call_id = "A2@phone", .to_tag = "parleyTag", .from_tag = "phoneTag"}, a2));
  EXPECT_FALSE(Names({.call_id = "a2@phone", .to_tag = "parleyTag", .from_tag = "other"}, a2));
  EXPECT_FALSE(Names({.call_id = "", .to_tag = "", .from_tag = ""}, DialogId{}));
}

TEST(Replaces, MatchTellsTheConsultationFromAnotherCallAndFromNoDialog) {
  const DialogId a2{.call_id = "a2", .local_tag = "p", .remote_tag = "alice"};
  const DialogId bobs{.call_id = "b1", .local_tag = "p2", .remote_tag = "bob"};
  const ReplacesTarget to_a2{.call_id = "a2", .to_tag = "p", .from_tag = "alice"};
  const ReplacesTarget to_bobs{.call_id = "b1", .to_tag = "p2", .from_tag = "bob"};
  const ReplacesTarget unknown{.call_id = "zz", .to_tag = "p", .from_tag = "alice"};
  EXPECT_EQ(MatchReplaces(to_a2, a2, {bobs}), ReplacesMatch::kExpected);
  EXPECT_EQ(MatchReplaces(to_bobs, a2, {bobs}), ReplacesMatch::kAnotherCall);
  EXPECT_EQ(MatchReplaces(unknown, a2, {bobs}), ReplacesMatch::kNoDialog);
  // No consultation dialog (none started, or not answered yet): nothing is the expected one.
  EXPECT_EQ(MatchReplaces(to_a2, std::nullopt, {}), ReplacesMatch::kNoDialog);
}

}  // namespace
}  // namespace parley::sip
