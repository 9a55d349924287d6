// End-to-end tests of call recording (issue 6; docs/voice.md, "Recording"): the real
// `parley serve --sip`, a raw UDP caller and phone that both send RTP, and the recordings API.
// Every wait is on a reply or an event with a bounded deadline; RTP is sent at its own 20 ms
// media rate.

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <openssl/evp.h>

#include <array>
#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <cctype>
#include <chrono>
#include <filesystem>
#include <future>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <thread>
#include <utility>

#include "tests/voice/audit_rows.h"
#include "tests/voice/voice_fixture.h"

namespace parley::testing {
namespace {

using Json = nlohmann::json;

const std::string kConfig = kData + "/voice_recording.yaml";

// A bound UDP socket that sends PCMU RTP at the real 20 ms rate.
class RtpPeer {
 public:
  int port() const { return udp_.port(); }
  // `frames` packets of a loud square wave, paced at 20 ms (the media clock, not a wait).
  void Stream(int to_port, int frames) {
    auto next = std::chrono::steady_clock::now();
    for (int i = 0; i < frames; ++i) {
      std::string p(12 + 160, '\0');
      p[0] = static_cast<char>(0x80);  // version 2; payload type 0 (PCMU)
      p[2] = static_cast<char>(seq_ >> 8);
      p[3] = static_cast<char>(seq_);
      const uint32_t ts = seq_ * 160u;
      for (int b = 0; b < 4; ++b) p[4 + b] = static_cast<char>(ts >> (24 - 8 * b));
      p[8] = 0x12;
      p[9] = 0x34;
      p[10] = static_cast<char>(port() >> 8);
      p[11] = static_cast<char>(port());
      for (size_t s = 0; s < 160; ++s) p[12 + s] = static_cast<char>((s / 10) % 2 ? 0x8F : 0x0F);
      ++seq_;
      udp_.Send(to_port, p);
      next += std::chrono::milliseconds(20);
      std::this_thread::sleep_until(next);
    }
  }

 private:
  UdpPeer udp_;
  uint16_t seq_ = 1;
};

int MediaPort(const std::string& sdp) {
  const size_t at = sdp.find("m=audio ");
  return at == std::string::npos ? 0 : std::atoi(sdp.c_str() + at + 8);
}

std::string Sha256Hex(const std::string& data) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> md{};
  unsigned int n = 0;
  EVP_Digest(data.data(), data.size(), md.data(), &n, EVP_sha256(), nullptr);
  std::string out;
  char hex[3];
  for (unsigned i = 0; i < n; ++i) {
    std::snprintf(hex, sizeof hex, "%02x", md[i]);
    out += hex;
  }
  return out;
}

// The next event of `type` (and containing `text`) as JSON, or null after the timeout.
Json NextEvent(EventsClient& events, const std::string& type, const std::string& text = "",
               std::chrono::seconds timeout = std::chrono::seconds(20)) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    auto m = events.Next(std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now()));
    if (!m) break;
    Json j = Json::parse(*m, nullptr, false);
    if (!j.is_discarded() && j.value("type", "") == type && m->find(text) != std::string::npos) {
      return j;
    }
  }
  return Json();
}

// GET with a Range header (the shared Http helper sends none).
HttpResponse GetRange(int port, const std::string& target, const std::string& cookie,
                      const std::string& range) {
  namespace beast = boost::beast;
  namespace http = beast::http;
  boost::asio::io_context ioc;
  boost::asio::ip::tcp::resolver resolver(ioc);
  beast::tcp_stream stream(ioc);
  stream.expires_after(std::chrono::seconds(10));
  stream.connect(resolver.resolve("127.0.0.1", std::to_string(port)));
  http::request<http::empty_body> req{http::verb::get, target, 11};
  req.set(http::field::host, "127.0.0.1");
  req.set(http::field::cookie, cookie);
  req.set(http::field::range, range);
  http::write(stream, req);
  beast::flat_buffer buffer;
  http::response<http::string_body> res;
  http::read(stream, buffer, res);
  HttpResponse out;
  out.status = static_cast<int>(res.result_int());
  out.body = res.body();
  for (const auto& f : res) {
    std::string name(f.name_string());
    for (char& ch : name) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    out.headers[name] = std::string(f.value());
  }
  return out;
}

// The fields of a WAV file's "fmt " chunk: channels, sample rate, bits per sample.
struct WavFormat {
  int channels = 0;
  int rate = 0;
  int bits = 0;
};
WavFormat ReadWavFormat(const std::string& wav) {
  WavFormat f;
  if (wav.size() < 12 || wav.compare(0, 4, "RIFF") != 0 || wav.compare(8, 4, "WAVE") != 0) {
    return f;
  }
  auto u16 = [&](size_t at) {
    return static_cast<int>(static_cast<uint8_t>(wav[at]) | static_cast<uint8_t>(wav[at + 1]) << 8);
  };
  auto u32 = [&](size_t at) { return u16(at) | u16(at + 2) << 16; };
  for (size_t at = 12; at + 8 <= wav.size();) {
    const std::string id = wav.substr(at, 4);
    const size_t size = static_cast<size_t>(u32(at + 4));
    if (id == "fmt " && at + 24 <= wav.size()) {
      f.channels = u16(at + 10);
      f.rate = u32(at + 12);
      f.bits = u16(at + 22);
      return f;
    }
    at += 8 + size + (size % 2);
  }
  return f;
}

// A customer call to `number` answered by alice's phone (a raw UDP peer that answers with its
// own RTP port), both sides sending RTP to Parley's media ports.
class AnsweredCall {
 public:
  AnsweredCall(VoiceServer& server, UdpPeer& phone) : server_(server), phone_(phone) {}

  // "" when the call is up (200 to the caller, alice's phone answered and was ACKed).
  std::string Connect(const std::string& number) {
    caller_ = std::make_unique<RawCaller>(server_.sip_port());
    const std::string status = caller_->Call(number, caller_rtp_.port());
    if (status != "SIP/2.0 200 OK") return "caller: " + status;
    customer_port_ = MediaPort(caller_->first_answer());
    invite_ = phone_.ReceiveRequest("INVITE");
    if (invite_.empty()) return "the phone was never rung";
    agent_port_ = MediaPort(invite_.substr(invite_.find("\r\n\r\n") + 4));
    const std::string sdp =
        "v=0\r\no=- 2 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio " +
        std::to_string(phone_rtp_.port()) + " RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n";
    phone_.Respond(server_.sip_port(), invite_, "200 OK", "", sdp);
    if (phone_.ReceiveRequest("ACK").empty()) return "the phone's 200 was not ACKed";
    if (customer_port_ == 0 || agent_port_ == 0) return "no media port in Parley's SDP";
    return "";
  }
  // Both parties talk for `frames` x 20 ms.
  void Talk(int frames) {
    auto agent = std::async(std::launch::async, [&] { phone_rtp_.Stream(agent_port_, frames); });
    caller_rtp_.Stream(customer_port_, frames);
    agent.get();
  }
  // The caller hangs up; Parley's BYE to the phone is answered. "" when both went through.
  std::string HangUp() {
    const std::string bye = caller_->HangUp();
    if (bye != "SIP/2.0 200 OK") return "caller's BYE: " + bye;
    const std::string to_phone = phone_.ReceiveRequest("BYE");
    if (to_phone.empty()) return "no BYE to the phone";
    phone_.Respond(server_.sip_port(), to_phone, "200 OK");
    return "";
  }

 private:
  VoiceServer& server_;
  UdpPeer& phone_;
  std::unique_ptr<RawCaller> caller_;
  RtpPeer caller_rtp_;
  RtpPeer phone_rtp_;
  std::string invite_;
  int customer_port_ = 0;
  int agent_port_ = 0;
};

std::string ContactOf(const Json& event) {
  return event.is_object() ? event.value("contact", "") : "";
}

TEST(RecordingE2eTest, AlwaysQueueRecordsBothPartiesToAStereoWavServedOnlyToAuthorisedRoles) {
  VoiceServer server(kConfig);
  ASSERT_TRUE(server.started());
  const int http = server.process().port();
  const std::string admin = Login(http, "admin");
  const std::string alice = Login(http, "alice");
  const std::string bob = Login(http, "bob");
  const std::string quinn = Login(http, "quinn");
  const std::string lead_south = Login(http, "lead_south");
  const std::string wall = Login(http, "wall");
  EventsClient events(http, "/api/v1/events", admin);
  ASSERT_TRUE(events.connected());
  UdpPeer phone;
  ASSERT_EQ(AliceAvailableOnPhone(server, phone.port(), admin), "");

  AnsweredCall call(server, phone);
  ASSERT_EQ(call.Connect("5000"), "");
  const Json started = NextEvent(events, "recording.started", "\"by\":\"policy\"");
  ASSERT_TRUE(started.is_object()) << "no recording.started event";
  const std::string contact = ContactOf(started);
  call.Talk(25);

  // Card payment: alice masks her own call's recording and resumes it; each is an event.
  const std::string control = "/api/v1/contacts/" + contact + "/recording";
  auto paused = Http(http, "POST", control, R"({"action":"pause"})", alice);
  EXPECT_EQ(paused.status, 200) << paused.body;
  EXPECT_THAT(paused.body, ::testing::HasSubstr("\"recording_state\":\"paused\""));
  EXPECT_TRUE(NextEvent(events, "recording.masked", "\"by\":\"alice\"").is_object());
  EXPECT_EQ(Http(http, "POST", control, R"({"action":"pause"})", alice).status, 409);
  call.Talk(10);
  auto resumed = Http(http, "POST", control, R"({"action":"resume"})", alice);
  EXPECT_EQ(resumed.status, 200) << resumed.body;
  EXPECT_TRUE(NextEvent(events, "recording.unmasked", "\"by\":\"alice\"").is_object());
  // An always-recorded call cannot be stopped; another agent cannot reach it; bad input is 400.
  auto stop = Http(http, "POST", control, R"({"action":"stop"})", admin);
  EXPECT_EQ(stop.status, 409) << stop.body;
  EXPECT_THAT(stop.body, ::testing::HasSubstr("pause it instead"));
  EXPECT_EQ(Http(http, "POST", control, R"({"action":"pause"})", bob).status, 404);
  auto bad = Http(http, "POST", control, R"({"action":"rewind"})", admin);
  EXPECT_EQ(bad.status, 400);
  EXPECT_THAT(bad.body, ::testing::HasSubstr("expected one of start, stop, pause"));
  call.Talk(15);
  ASSERT_EQ(call.HangUp(), "");

  // The finished recording and both legs' quality are journaled.
  std::set<std::string> legs;
  Json completed;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while ((legs.size() < 2 || !completed.is_object()) &&
         std::chrono::steady_clock::now() < deadline) {
    auto m = events.Next(std::chrono::seconds(20));
    if (!m) break;
    Json j = Json::parse(*m, nullptr, false);
    if (j.is_discarded() || ContactOf(j) != contact) continue;
    if (j["type"] == "media.stats") legs.insert(j.value("leg", ""));
    if (j["type"] == "recording.completed") completed = j;
  }
  EXPECT_EQ(legs, (std::set<std::string>{"agent", "customer"}));
  ASSERT_TRUE(completed.is_object()) << "no recording.completed event";
  EXPECT_THAT(completed["path"].get<std::string>(), ::testing::EndsWith("/" + contact + ".wav"));

  // The media plane's counters on /metrics: the configured threads, and every packet the two
  // parties sent (50 each), none dropped.
  const std::string metrics = Http(http, "GET", "/metrics", "", admin).body;
  EXPECT_THAT(metrics, ::testing::HasSubstr("\nparley_media_threads 3\n"));
  const std::string received = "parley_media_packets_total{direction=\"received\"} ";
  const size_t at = metrics.find(received);
  ASSERT_NE(at, std::string::npos) << metrics;
  EXPECT_EQ(std::stoull(metrics.substr(at + received.size())), 100u) << metrics;
  EXPECT_THAT(metrics,
              ::testing::HasSubstr("\nparley_media_packets_total{direction=\"dropped\"} 0\n"));

  // Listed for the administrator and the QA analyst.
  auto list = Http(http, "GET", "/api/v1/recordings", "", admin);
  ASSERT_EQ(list.status, 200) << list.body;
  const Json listed = Json::parse(list.body)["recordings"];
  ASSERT_EQ(listed.size(), 1u) << list.body;
  const Json r = listed[0];
  EXPECT_EQ(r["contact"], contact);
  EXPECT_EQ(r["agent"], "alice");
  EXPECT_EQ(r["queue"], "recorded");
  EXPECT_EQ(r["bytes"], completed["bytes"]);
  EXPECT_EQ(r["sha256"], completed["sha256"]);
  EXPECT_FALSE(r.contains("path"));
  const std::string id = r["id"];
  auto by_qa = Http(http, "GET", "/api/v1/recordings?queue=recorded&agent=alice", "", quinn);
  EXPECT_EQ(by_qa.status, 200);
  EXPECT_EQ(Json::parse(by_qa.body)["recordings"].size(), 1u);
  EXPECT_EQ(
      Json::parse(
          Http(http, "GET", "/api/v1/recordings?queue=unrecorded", "", admin).body)["recordings"]
          .size(),
      0u);
  EXPECT_EQ(Http(http, "GET", "/api/v1/recordings?from=yesterday", "", admin).status, 400);

  // The contact carries its recording and its legs' loss and jitter.
  auto c = Http(http, "GET", "/api/v1/contacts/" + contact, "", admin);
  ASSERT_EQ(c.status, 200);
  const Json cj = Json::parse(c.body);
  EXPECT_EQ(cj["recording"]["id"], id);
  EXPECT_EQ(cj["recording"]["sha256"], r["sha256"]);
  EXPECT_GT(cj["recording"]["duration_ms"].get<int64_t>(), 0);
  ASSERT_EQ(cj["legs"].size(), 2u);
  for (const auto& leg : cj["legs"]) {
    EXPECT_GT(leg["packets_received"].get<int64_t>(), 0) << leg.dump();
    EXPECT_TRUE(leg.contains("jitter_ms"));
    EXPECT_TRUE(leg.contains("packets_lost"));
  }

  // The audio: a stereo 8 kHz 16-bit WAV whose size and SHA-256 are the stored ones.
  auto audio = Http(http, "GET", "/api/v1/recordings/" + id + "/audio", "", quinn);
  ASSERT_EQ(audio.status, 200) << audio.body;
  EXPECT_EQ(audio.headers["content-type"], "audio/wav");
  EXPECT_EQ(audio.body.size(), r["bytes"].get<uint64_t>());
  EXPECT_EQ(Sha256Hex(audio.body), r["sha256"].get<std::string>());
  const WavFormat format = ReadWavFormat(audio.body);
  EXPECT_EQ(format.channels, 2);
  EXPECT_EQ(format.rate, 8000);
  EXPECT_EQ(format.bits, 16);
  // A byte range is answered 206 with exactly those bytes.
  auto part = GetRange(http, "/api/v1/recordings/" + id + "/audio", admin, "bytes=4-11");
  EXPECT_EQ(part.status, 206);
  EXPECT_EQ(part.body, audio.body.substr(4, 8));
  EXPECT_EQ(part.headers["content-range"], "bytes 4-11/" + std::to_string(audio.body.size()));
  EXPECT_EQ(GetRange(http, "/api/v1/recordings/" + id + "/audio", admin, "bytes=999999999-").status,
            416);

  // Never for agents or wallboards; a team lead reaches only recordings of its own team.
  EXPECT_EQ(Http(http, "GET", "/api/v1/recordings", "", alice).status, 403);
  EXPECT_EQ(Http(http, "GET", "/api/v1/recordings/" + id + "/audio", "", alice).status, 403);
  EXPECT_EQ(Http(http, "GET", "/api/v1/recordings/" + id, "", wall).status, 403);
  EXPECT_EQ(Http(http, "GET", "/api/v1/recordings/" + id + "/audio", "", lead_south).status, 404);
  EXPECT_EQ(Json::parse(Http(http, "GET", "/api/v1/recordings", "", lead_south).body)["recordings"]
                .size(),
            0u);
  EXPECT_EQ(Http(http, "GET", "/api/v1/recordings/..%2Fparley.db/audio", "", admin).status, 400);

  // Every playback is audited: who, which recording, and the refusal too.
  const std::string database = server.process().data_dir() + "/parley.db";
  ASSERT_EQ(server.process().Terminate(), 0);
  const auto rows = AuditRows(database);
  auto has = [&](const std::string& actor, const std::string& outcome) {
    for (const auto& row : rows) {
      if (row[0] == actor && row[1] == "recording.play" && row[2] == "recording:" + id &&
          row[3] == outcome) {
        return true;
      }
    }
    return false;
  };
  EXPECT_TRUE(has("quinn", "ok"));
  EXPECT_TRUE(has("admin", "ok"));
  EXPECT_TRUE(has("lead_south", "denied"));
}

TEST(RecordingE2eTest, NeverQueueHasNoRecordingAndRefusesToStartOne) {
  VoiceServer server(kConfig);
  ASSERT_TRUE(server.started());
  const int http = server.process().port();
  const std::string admin = Login(http, "admin");
  EventsClient events(http, "/api/v1/events", admin);
  ASSERT_TRUE(events.connected());
  UdpPeer phone;
  ASSERT_EQ(AliceAvailableOnPhone(server, phone.port(), admin), "");
  AnsweredCall call(server, phone);
  ASSERT_EQ(call.Connect("5001"), "");
  const Json accepted = NextEvent(events, "offer.accepted", "\"agent\":\"alice\"");
  ASSERT_TRUE(accepted.is_object());
  const std::string contact = ContactOf(accepted);
  call.Talk(10);
  auto start = Http(http, "POST", "/api/v1/contacts/" + contact + "/recording",
                    R"({"action":"start"})", admin);
  EXPECT_EQ(start.status, 409) << start.body;
  EXPECT_THAT(start.body, ::testing::HasSubstr("never records"));
  ASSERT_EQ(call.HangUp(), "");
  // The legs' quality still arrives; no recording does.
  EXPECT_TRUE(NextEvent(events, "media.stats", "\"leg\":\"customer\"").is_object());
  auto list = Http(http, "GET", "/api/v1/recordings", "", admin);
  ASSERT_EQ(list.status, 200);
  EXPECT_EQ(Json::parse(list.body)["recordings"].size(), 0u);
  auto c = Json::parse(Http(http, "GET", "/api/v1/contacts/" + contact, "", admin).body);
  EXPECT_TRUE(c["recording"].is_null());
  EXPECT_EQ(c["recording_state"], "off");
}

TEST(RecordingE2eTest, KillDashNineMidCallLeavesAPlayableRecordingListedAfterRestart) {
  VoiceServer server(kConfig);
  ASSERT_TRUE(server.started());
  const int http = server.process().port();
  const std::string admin = Login(http, "admin");
  EventsClient events(http, "/api/v1/events", admin);
  ASSERT_TRUE(events.connected());
  UdpPeer phone;
  ASSERT_EQ(AliceAvailableOnPhone(server, phone.port(), admin), "");
  AnsweredCall call(server, phone);
  ASSERT_EQ(call.Connect("5000"), "");
  const Json started = NextEvent(events, "recording.started", "\"by\":\"policy\"");
  ASSERT_TRUE(started.is_object()) << "no recording.started event";
  const std::string contact = ContactOf(started);
  const std::string data = server.process().data_dir();
  auto parts_now = [&] {
    std::vector<std::string> parts;
    for (const auto& f : std::filesystem::recursive_directory_iterator(data + "/recordings")) {
      if (f.path().string().ends_with(".wav.part")) parts.push_back(f.path().string());
    }
    return parts;
  };
  // Both parties talk until some of it is in the file (the media thread hands the writer about
  // a second at a time, behind its playout delay), for 20 s at most.
  for (int i = 0; i < 40; ++i) {
    call.Talk(25);
    const auto parts = parts_now();
    if (parts.size() == 1 && std::filesystem::file_size(parts[0]) > 4000) break;
  }

  // The process dies mid-call: the recording is still under its temporary name.
  server.process().Kill();
  const std::vector<std::string> parts = parts_now();
  ASSERT_EQ(parts.size(), 1u) << "expected the call's recording in progress";

  // The next start finalises it: listed, and its audio a stereo WAV of the talk so far.
  ServerProcess again(data, {"--sip", "127.0.0.1:" + std::to_string(FreePort())});
  ASSERT_TRUE(again.started());
  EXPECT_FALSE(std::filesystem::exists(parts[0]));
  const std::string admin2 = Login(again.port(), "admin");
  auto list = Http(again.port(), "GET", "/api/v1/recordings", "", admin2);
  ASSERT_EQ(list.status, 200) << list.body;
  const Json listed = Json::parse(list.body)["recordings"];
  ASSERT_EQ(listed.size(), 1u) << list.body;
  EXPECT_EQ(listed[0]["contact"], contact);
  EXPECT_GT(listed[0]["duration_ms"].get<int64_t>(), 0) << list.body;
  auto audio =
      Http(again.port(), "GET",
           "/api/v1/recordings/" + listed[0]["id"].get<std::string>() + "/audio", "", admin2);
  ASSERT_EQ(audio.status, 200) << audio.body;
  EXPECT_EQ(audio.body.size(), listed[0]["bytes"].get<uint64_t>());
  EXPECT_EQ(Sha256Hex(audio.body), listed[0]["sha256"].get<std::string>());
  const WavFormat format = ReadWavFormat(audio.body);
  EXPECT_EQ(format.channels, 2);
  EXPECT_EQ(format.rate, 8000);
  EXPECT_EQ(again.Terminate(), 0);
}

// The process dies while a caller leaves a message: the next start recovers the message's file
// and makes it the mailbox's contact (callback channel, queue `messages`) carrying it, as if the
// caller had finished; before, the file stayed with the closed call and nobody was offered it.
TEST(RecordingE2eTest, KillDashNineWhileACallerLeavesAMessageStillMakesTheMessageContact) {
  VoiceServer server(kConfig);
  ASSERT_TRUE(server.started());
  const std::string data = server.process().data_dir();
  RawCaller caller(server.sip_port());
  RtpPeer rtp;
  ASSERT_EQ(caller.Call("5003", rtp.port()), "SIP/2.0 200 OK");
  const int parley_port = MediaPort(caller.first_answer());
  ASSERT_NE(parley_port, 0) << caller.first_answer();
  // The caller speaks through the prompt and the beep until over a second and a half of the
  // message is in its file (16 kB a second), for 30 s at most.
  std::string part;
  for (int i = 0; i < 60; ++i) {
    rtp.Stream(parley_port, 25);
    part.clear();
    std::error_code none_yet;  // the directory is made with the first recording
    for (const auto& f :
         std::filesystem::recursive_directory_iterator(data + "/recordings", none_yet)) {
      if (f.path().string().ends_with(".wav.part")) part = f.path().string();
    }
    if (!part.empty() && std::filesystem::file_size(part) > 24044) break;
  }
  ASSERT_FALSE(part.empty()) << "no message being recorded";
  server.process().Kill();
  ASSERT_TRUE(std::filesystem::exists(part));

  ServerProcess again(data, {"--sip", "127.0.0.1:" + std::to_string(FreePort())});
  ASSERT_TRUE(again.started());
  const std::string admin = Login(again.port(), "admin");
  Json message;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  do {
    const Json all =
        Json::parse(Http(again.port(), "GET", "/api/v1/contacts", "", admin).body, nullptr, false);
    if (all.is_discarded()) continue;
    for (const auto& c : all["contacts"]) {
      if (c["channel"] == "callback") message = c;
    }
  } while (message.is_null() && std::chrono::steady_clock::now() < deadline);
  ASSERT_TRUE(message.is_object()) << "no message contact after the restart";
  const Json full = Json::parse(
      Http(again.port(), "GET", "/api/v1/contacts/" + message["id"].get<std::string>(), "", admin)
          .body);
  EXPECT_EQ(full["queue"], "messages") << full.dump();
  EXPECT_EQ(full["state"], "queued") << full.dump();
  EXPECT_EQ(full["attributes"].value("voicemail.mailbox", ""), "messages") << full.dump();
  ASSERT_TRUE(full["recording"].is_object()) << full.dump();
  EXPECT_EQ(full["recording"]["kind"], "voicemail");
  EXPECT_GE(full["recording"]["duration_ms"].get<int64_t>(), 1500) << full.dump();
  // The call it came from is closed, without the recording.
  const Json call = Json::parse(
      Http(again.port(), "GET",
           "/api/v1/contacts/" + full["attributes"].value("origin.contact", "?"), "", admin)
          .body);
  EXPECT_EQ(call["state"], "closed") << call.dump();
  EXPECT_TRUE(call["recording"].is_null()) << call.dump();
  auto audio = Http(again.port(), "GET",
                    "/api/v1/recordings/" + full["recording"]["id"].get<std::string>() + "/audio",
                    "", admin);
  ASSERT_EQ(audio.status, 200);
  EXPECT_EQ(ReadWavFormat(audio.body).channels, 1);
  EXPECT_EQ(again.Terminate(), 0);
}

}  // namespace
}  // namespace parley::testing
