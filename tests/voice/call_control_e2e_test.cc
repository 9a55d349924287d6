// End-to-end tests of call control (docs/voice.md, "Call control"): the real `parley serve
// --sip`, a caller on raw UDP whose RTP port the test listens on, and alice's phone scripted on
// raw UDP so that every hold, transfer and hang-up happens at a moment the test chooses. States
// are checked over the REST API and the event stream; every wait has a bounded deadline.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <deque>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "tests/voice/voice_fixture.h"

namespace parley::testing {
namespace {

using namespace std::chrono_literals;
using Json = nlohmann::json;

const std::string kCallControlSite = kData + "/voice_callctl.yaml";

// An RTP port of the test (the caller's, or a phone's): what Parley sends there, and packets
// sent from it.
class RtpSink {
 public:
  int port() const { return peer_.port(); }
  // One PCMU packet from this port to 127.0.0.1:`to`, every payload byte `level`.
  void SendPcmu(int to, uint8_t level) {
    std::string packet(12 + 160, static_cast<char>(level));
    const uint32_t ts = seq_ * 160u;
    const uint8_t header[12] = {0x80,
                                0,
                                static_cast<uint8_t>(seq_ >> 8),
                                static_cast<uint8_t>(seq_),
                                static_cast<uint8_t>(ts >> 24),
                                static_cast<uint8_t>(ts >> 16),
                                static_cast<uint8_t>(ts >> 8),
                                static_cast<uint8_t>(ts),
                                0x5E,
                                0xED,
                                0,
                                0};
    packet.replace(0, 12, reinterpret_cast<const char*>(header), 12);
    ++seq_;
    peer_.Send(to, packet);
  }
  // Whether an RTP packet satisfying `want(payload_type, payload)` arrives within `timeout`.
  bool Hears(const std::function<bool(int, const std::vector<uint8_t>&)>& want,
             std::chrono::milliseconds timeout = 10s) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (true) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) return false;
      const std::string d = peer_.Receive(left);
      if (d.empty()) return false;
      if (d.size() < 12) continue;
      const size_t header = 12 + 4 * (static_cast<uint8_t>(d[0]) & 0x0F);
      if (d.size() < header) continue;
      if (want(static_cast<uint8_t>(d[1]) & 0x7F,
               std::vector<uint8_t>(d.begin() + static_cast<std::ptrdiff_t>(header), d.end()))) {
        return true;
      }
    }
  }
  // Music: PCMU audio that is not silence.
  bool HearsMusic() {
    return Hears([](int pt, const std::vector<uint8_t>& p) {
      return pt == 0 && std::any_of(p.begin(), p.end(), [](uint8_t b) { return b < 0x70; });
    });
  }

 private:
  UdpPeer peer_;
  uint16_t seq_ = 1;
};

// What a phone sends as its user's voice in these tests: a loud constant PCMU level.
constexpr uint8_t kVoice = 0x10;
bool IsVoice(int pt, const std::vector<uint8_t>& p) {
  return pt == 0 && !p.empty() &&
         std::all_of(p.begin(), p.end(), [](uint8_t b) { return b == kVoice; });
}
bool IsSilence(int pt, const std::vector<uint8_t>& p) {
  return pt == 0 && !p.empty() &&
         std::all_of(p.begin(), p.end(), [](uint8_t b) { return b == 0xFF; });
}

// Alice's phone on raw UDP: answers Parley's INVITE with SDP, sends in-dialog requests
// (re-INVITE, REFER, BYE) and answers Parley's (NOTIFY, BYE). Messages that arrive while the
// test waits for another are kept for later.
class AgentPhone {
 public:
  explicit AgentPhone(int sip_port) : sip_port_(sip_port) {}
  int port() const { return peer_.port(); }

  // The next request `method` from Parley, answered `status` unless it is empty; "" if none.
  std::string Request(const std::string& method, const std::string& status = "200 OK",
                      std::chrono::milliseconds timeout = 10s) {
    std::string r =
        Next([&](const std::string& m) { return m.rfind(method + " ", 0) == 0; }, timeout);
    if (!r.empty() && !status.empty()) peer_.Respond(sip_port_, r, status);
    return r;
  }
  // Waits for the INVITE and answers 180 (so Parley may CANCEL it); "" when none came.
  std::string Ringing() {
    invite_ = Request("INVITE", "180 Ringing");
    return invite_;
  }
  // Answers the INVITE with 200 and an SDP answer; true when Parley ACKs.
  bool Answer() {
    if (invite_.empty() && Ringing().empty()) return false;
    std::string to = HeaderOf(invite_, "To");
    if (to.find(";tag=") == std::string::npos) to += ";tag=phone";
    const std::string sdp = Sdp("sendrecv");
    peer_.Send(sip_port_, "SIP/2.0 200 OK\r\nVia: " + HeaderOf(invite_, "Via") +
                              "\r\nFrom: " + HeaderOf(invite_, "From") + "\r\nTo: " + to +
                              "\r\nCall-ID: " + HeaderOf(invite_, "Call-ID") + "\r\nCSeq: " +
                              HeaderOf(invite_, "CSeq") + "\r\nContact: " + Contact() +
                              "\r\nContent-Type: application/sdp\r\nContent-Length: " +
                              std::to_string(sdp.size()) + "\r\n\r\n" + sdp);
    local_ = to;
    invite_sdp_ = invite_.substr(invite_.find("\r\n\r\n") + 4);
    remote_ = HeaderOf(invite_, "From");
    call_id_ = HeaderOf(invite_, "Call-ID");
    const std::string contact = HeaderOf(invite_, "Contact");
    target_ = contact.substr(contact.find('<') + 1, contact.find('>') - contact.find('<') - 1);
    return !Request("ACK", "").empty();
  }
  // Declines the ringing INVITE with `status` ("486 Busy Here"); true when Parley ACKs.
  bool Decline(const std::string& status) {
    if (invite_.empty() && Ringing().empty()) return false;
    peer_.Respond(sip_port_, invite_, status);
    invite_.clear();
    return !Request("ACK", "").empty();
  }
  // Parley CANCELs the ringing INVITE: 200 to the CANCEL, 487 to the INVITE; true when it came
  // and Parley ACKed the 487.
  bool Cancelled() {
    if (Request("CANCEL").empty()) return false;
    peer_.Respond(sip_port_, invite_, "487 Request Terminated");
    invite_.clear();
    return !Request("ACK", "").empty();
  }
  // A re-INVITE offering `direction`; the final response (whole message), ACKed when 2xx.
  std::string Reinvite(const std::string& direction) {
    const std::string sdp = Sdp(direction);
    std::string answer = InDialog("INVITE", "Content-Type: application/sdp\r\n", sdp);
    if (answer.rfind("SIP/2.0 2", 0) == 0) {
      peer_.Send(sip_port_, Head("ACK", cseq_) + "Content-Length: 0\r\n\r\n");
    }
    return answer;
  }
  // A REFER to `user`@Parley; the final response (whole message).
  std::string Refer(const std::string& user) {
    return InDialog("REFER",
                    "Refer-To: <sip:" + user + "@127.0.0.1>\r\nReferred-By: " + Contact() + "\r\n",
                    "");
  }
  // NOTIFYs (each answered 200) until one whose sipfrag is final (not 1xx); its body, or "".
  std::string FinalNotify() {
    while (true) {
      const std::string n = Request("NOTIFY");
      if (n.empty()) return "";
      const std::string body = n.substr(n.find("\r\n\r\n") + 4);
      if (body.rfind("SIP/2.0 1", 0) != 0) return body;
    }
  }
  std::string HangUp() { return InDialog("BYE", "", ""); }
  // One packet of the user's voice to Parley's media port for this phone (from its INVITE).
  void Speak() {
    const size_t m = invite_sdp_.find("m=audio ");
    if (m != std::string::npos) media_.SendPcmu(std::stoi(invite_sdp_.substr(m + 8)), kVoice);
  }

 private:
  std::string Contact() const { return "<sip:alice@127.0.0.1:" + std::to_string(port()) + ">"; }
  std::string Sdp(const std::string& direction) {
    return "v=0\r\no=- 2 " + std::to_string(++sdp_version_) +
           " IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio " +
           std::to_string(media_port_) +
           " RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:101 telephone-event/8000\r\na=" +
           direction + "\r\n";
  }
  std::string Head(const std::string& method, int cseq) {
    return method + " " + target_ +
           " SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:" + std::to_string(port()) + ";branch=z9hG4bK-" +
           method + std::to_string(cseq) + (method == "ACK" ? "a" : "") + "\r\nFrom: " + local_ +
           "\r\nTo: " + remote_ + "\r\nCall-ID: " + call_id_ + "\r\nCSeq: " + std::to_string(cseq) +
           " " + method + "\r\nContact: " + Contact() + "\r\nMax-Forwards: 70\r\n";
  }
  std::string InDialog(const std::string& method, const std::string& headers,
                       const std::string& body) {
    const int cseq = ++cseq_;
    peer_.Send(sip_port_, Head(method, cseq) + headers +
                              "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body);
    const std::string cseq_line = std::to_string(cseq) + " " + method;
    return Next(
        [&](const std::string& m) {
          return m.rfind("SIP/2.0 ", 0) == 0 && m.rfind("SIP/2.0 1", 0) != 0 &&
                 HeaderOf(m, "CSeq") == cseq_line;
        },
        10s);
  }
  std::string Next(const std::function<bool(const std::string&)>& want,
                   std::chrono::milliseconds timeout) {
    for (auto it = backlog_.begin(); it != backlog_.end(); ++it) {
      if (want(*it)) {
        std::string m = std::move(*it);
        backlog_.erase(it);
        return m;
      }
    }
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (true) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) return "";
      std::string m = peer_.Receive(left);
      if (m.empty()) return "";
      if (want(m)) return m;
      backlog_.push_back(std::move(m));
    }
  }

  int sip_port_;
  UdpPeer peer_;
  RtpSink media_;
  int media_port_ = media_.port();
  std::deque<std::string> backlog_;
  std::string invite_, invite_sdp_, local_, remote_, call_id_, target_;
  int cseq_ = 0;
  int sdp_version_ = 0;
};

// A server on the call-control site, the admin's session and event stream, alice's phone
// registered with alice Available.
class CallControlTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(server_.started());
    cookie_ = Login(http(), "admin");
    ASSERT_FALSE(cookie_.empty());
    events_ = std::make_unique<EventsClient>(http(), "/api/v1/events", cookie_);
    ASSERT_TRUE(events_->connected());
    ASSERT_EQ(AliceAvailableOnPhone(server_, phone_.port(), cookie_), "");
  }
  int http() { return server_.process().port(); }

  // Calls `number` and lets alice's phone answer; the contact's id, or "" on failure.
  std::string TalkingToAlice(const std::string& number = "5000") {
    if (caller_.Call(number, rtp_.port()) != "SIP/2.0 200 OK") return "";
    if (!phone_.Answer()) return "";
    if (!WaitForEvent(*events_, "handling.started", "\"agent\":\"alice\"")) return "";
    return OnlyContact()["id"].get<std::string>();
  }
  Json OnlyContact() {
    auto r = Http(http(), "GET", "/api/v1/contacts", "", cookie_);
    Json j = Json::parse(r.body, nullptr, false);
    if (j.is_discarded() || j["contacts"].empty()) return Json::object({{"id", ""}});
    return j["contacts"][0];
  }
  HttpResponse Post(const std::string& id, const std::string& action,
                    const std::string& body = "") {
    return Http(http(), "POST", "/api/v1/contacts/" + id + "/" + action, body, cookie_);
  }
  // Polls the contact until `ok(contact)` holds (bounded); the last contact seen.
  Json ContactUntil(const std::string& id, const std::function<bool(const Json&)>& ok) {
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    Json c;
    do {
      c = Json::parse(Http(http(), "GET", "/api/v1/contacts/" + id, "", cookie_).body, nullptr,
                      false);
      if (!c.is_discarded() && ok(c)) return c;
    } while (std::chrono::steady_clock::now() < deadline);
    return c;
  }
  // Alice's presence and the states of the contacts she holds, once nothing of hers is being
  // handled or offered (bounded); "" when that never happened.
  std::string AliceSettled() {
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    do {
      Json a = Json::parse(Http(http(), "GET", "/api/v1/agents/alice", "", cookie_).body, nullptr,
                           false);
      if (a.is_discarded()) continue;
      std::string states;
      bool busy = false;
      for (const auto& c : a["contacts"]) {
        const std::string s = c["state"].get<std::string>();
        busy = busy || s == "handling" || s == "offered";
        states += " " + s;
      }
      if (!busy) return a["presence"].get<std::string>() + states;
    } while (std::chrono::steady_clock::now() < deadline);
    return "";
  }
  // No contact is open in the handling or offered state.
  bool NoneHandled() {
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    do {
      Json j =
          Json::parse(Http(http(), "GET", "/api/v1/contacts", "", cookie_).body, nullptr, false);
      if (j.is_discarded()) continue;
      bool any = false;
      for (const auto& c : j["contacts"]) {
        const std::string s = c["state"].get<std::string>();
        any = any || s == "handling" || s == "offered";
      }
      if (!any) return true;
    } while (std::chrono::steady_clock::now() < deadline);
    return false;
  }

  VoiceServer server_{kCallControlSite};
  std::string cookie_;
  std::unique_ptr<EventsClient> events_;
  AgentPhone phone_{server_.sip_port()};
  RtpSink rtp_;
  RawCaller caller_{server_.sip_port()};
};

TEST_F(CallControlTest, HoldFromTheApiPlaysMusicToTheCallerAndIsJournaled) {
  const std::string id = TalkingToAlice();
  ASSERT_FALSE(id.empty());
  auto held = Post(id, "hold");
  ASSERT_EQ(held.status, 200) << held.body;
  EXPECT_TRUE(Json::parse(held.body)["on_hold"].get<bool>());
  EXPECT_TRUE(WaitForEvent(*events_, "hold.started", "\"agent\":\"alice\""));
  EXPECT_TRUE(rtp_.HearsMusic());  // the caller hears music on hold
  auto twice = Post(id, "hold");
  EXPECT_EQ(twice.status, 409);
  EXPECT_THAT(twice.body, ::testing::HasSubstr("is already on hold"));

  auto resumed = Post(id, "resume");
  ASSERT_EQ(resumed.status, 200) << resumed.body;
  EXPECT_FALSE(Json::parse(resumed.body)["on_hold"].get<bool>());
  EXPECT_TRUE(WaitForEvent(*events_, "hold.ended", "\"agent\":\"alice\""));
  auto again = Post(id, "resume");
  EXPECT_EQ(again.status, 409);
  EXPECT_THAT(again.body, ::testing::HasSubstr("is not on hold"));

  EXPECT_EQ(caller_.HangUp(), "SIP/2.0 200 OK");
  EXPECT_FALSE(phone_.Request("BYE").empty());
  EXPECT_EQ(AliceSettled(), "available wrap-up");
  // The hold is in the contact record export (hold column).
  ASSERT_EQ(server_.process().Terminate(), 0);
  auto exported = RunProgram(PARLEY_BINARY, {"export", "contacts", "--data", server_.data_dir()},
                             std::chrono::seconds(30));
  ASSERT_EQ(exported.exit_code, 0) << exported.err;
  const std::string& csv = exported.out;
  const size_t header_end = csv.find("\r\n");
  ASSERT_NE(header_end, std::string::npos) << csv;
  std::vector<std::string> columns;
  for (size_t at = 0; at <= header_end;) {
    const size_t comma = std::min(csv.find(',', at), header_end);
    columns.push_back(csv.substr(at, comma - at));
    at = comma + 1;
  }
  const auto hold_col = std::find(columns.begin(), columns.end(), "hold") - columns.begin();
  std::string row = csv.substr(header_end + 2);
  row = row.substr(0, row.find("\r\n"));
  std::vector<std::string> cells;
  for (size_t at = 0; at <= row.size();) {
    size_t comma = row.find(',', at);
    if (comma == std::string::npos) comma = row.size();
    cells.push_back(row.substr(at, comma - at));
    at = comma + 1;
  }
  ASSERT_LT(static_cast<size_t>(hold_col), cells.size()) << csv;
  EXPECT_NE(cells[static_cast<size_t>(hold_col)], "0.000") << csv;
}

TEST_F(CallControlTest, PhoneHoldWithSendonlyReinviteHoldsAndSendrecvResumes) {
  const std::string id = TalkingToAlice();
  ASSERT_FALSE(id.empty());
  const std::string hold = phone_.Reinvite("sendonly");
  ASSERT_EQ(hold.substr(0, hold.find("\r\n")), "SIP/2.0 200 OK") << hold;
  EXPECT_THAT(hold, ::testing::HasSubstr("a=recvonly"));
  EXPECT_TRUE(WaitForEvent(*events_, "hold.started", "\"agent\":\"alice\""));
  EXPECT_EQ(ContactUntil(id, [](const Json& c) { return c["on_hold"] == true; })["on_hold"], true);
  EXPECT_TRUE(rtp_.HearsMusic());

  const std::string inactive = phone_.Reinvite("inactive");  // still on hold: no second event
  EXPECT_THAT(inactive, ::testing::HasSubstr("a=inactive"));
  const std::string resume = phone_.Reinvite("sendrecv");
  ASSERT_EQ(resume.substr(0, resume.find("\r\n")), "SIP/2.0 200 OK") << resume;
  EXPECT_THAT(resume, ::testing::HasSubstr("a=sendrecv"));
  EXPECT_TRUE(WaitForEvent(*events_, "hold.ended", "\"agent\":\"alice\""));
  EXPECT_EQ(ContactUntil(id, [](const Json& c) { return c["on_hold"] == false; })["on_hold"],
            false);
  EXPECT_EQ(phone_.HangUp().substr(0, 14), "SIP/2.0 200 OK");
  EXPECT_EQ(AliceSettled(), "available wrap-up");
}

TEST_F(CallControlTest, HangupFromTheApiByesBothLegsAndAliceWrapsUp) {
  const std::string id = TalkingToAlice();
  ASSERT_FALSE(id.empty());
  auto hung = Post(id, "hangup");
  ASSERT_EQ(hung.status, 200) << hung.body;
  EXPECT_EQ(Json::parse(hung.body)["state"], "wrap-up");
  EXPECT_FALSE(phone_.Request("BYE").empty());
  EXPECT_EQ(AliceSettled(), "available wrap-up");
  auto twice = Post(id, "hangup");
  EXPECT_EQ(twice.status, 409);
  EXPECT_THAT(twice.body, ::testing::HasSubstr("no call left to hang up"));
}

TEST_F(CallControlTest, BlindTransferFromTheApiRequeuesTheCallerWithMusic) {
  const std::string id = TalkingToAlice();
  ASSERT_FALSE(id.empty());
  auto moved = Post(id, "transfer", R"({"queue":"support"})");
  ASSERT_EQ(moved.status, 200) << moved.body;
  EXPECT_FALSE(phone_.Request("BYE").empty());  // alice's leg is released
  EXPECT_TRUE(WaitForEvent(*events_, "contact.transferred", "\"agent\":\"alice\""));
  EXPECT_TRUE(rtp_.HearsMusic());  // the caller waits with music
  const Json waiting = ContactUntil(id, [](const Json& c) { return c["state"] == "queued"; });
  EXPECT_EQ(waiting["state"], "queued");
  EXPECT_EQ(waiting["attributes"]["sip.call_id"].is_string(), true);  // it kept its attributes
  EXPECT_EQ(AliceSettled(), "available wrap-up");
  EXPECT_EQ(caller_.HangUp(), "SIP/2.0 200 OK");
  EXPECT_TRUE(NoneHandled());
  // The transfer is in the queue_log export.
  ASSERT_EQ(server_.process().Terminate(), 0);
  auto log = RunProgram(PARLEY_BINARY, {"export", "queue-log", "--data", server_.data_dir()},
                        std::chrono::seconds(30));
  ASSERT_EQ(log.exit_code, 0) << log.err;
  EXPECT_THAT(log.out, ::testing::HasSubstr("|support|alice|BLINDTRANSFER|support|"));
}

TEST_F(CallControlTest, ReferFromThePhoneTransfersToAQueueWithAFinalNotify) {
  const std::string id = TalkingToAlice();
  ASSERT_FALSE(id.empty());
  const std::string accepted = phone_.Refer("support");
  EXPECT_EQ(accepted.substr(0, accepted.find("\r\n")), "SIP/2.0 202 Accepted") << accepted;
  EXPECT_THAT(phone_.FinalNotify(), ::testing::HasSubstr("SIP/2.0 200 OK"));
  EXPECT_FALSE(phone_.Request("BYE").empty());
  EXPECT_TRUE(WaitForEvent(*events_, "contact.transferred", "\"agent\":\"alice\""));
  EXPECT_TRUE(rtp_.HearsMusic());
  EXPECT_EQ(AliceSettled(), "available wrap-up");
  EXPECT_EQ(caller_.HangUp(), "SIP/2.0 200 OK");
}

TEST_F(CallControlTest, ReferToAnEntryPointRunsItsFlowAgain) {
  const std::string id = TalkingToAlice();
  ASSERT_FALSE(id.empty());
  const std::string accepted = phone_.Refer("5001");  // the hotline's number: flow "hot"
  EXPECT_EQ(accepted.substr(0, accepted.find("\r\n")), "SIP/2.0 202 Accepted") << accepted;
  EXPECT_THAT(phone_.FinalNotify(), ::testing::HasSubstr("SIP/2.0 200 OK"));
  EXPECT_FALSE(phone_.Request("BYE").empty());
  EXPECT_TRUE(WaitForEvent(*events_, "flow.step_entered", "\"flow\":\"hot\""));
  const Json queued = ContactUntil(id, [](const Json& c) { return c["queue"] == "hotline"; });
  EXPECT_EQ(queued["queue"], "hotline");  // alice wraps up support's call: it waits
  EXPECT_EQ(AliceSettled(), "available wrap-up");
  EXPECT_EQ(caller_.HangUp(), "SIP/2.0 200 OK");
  EXPECT_TRUE(NoneHandled());
}

TEST_F(CallControlTest, ReferToAnUnknownTargetGetsAnErrorNotifyAndTheCallStays) {
  const std::string id = TalkingToAlice();
  ASSERT_FALSE(id.empty());
  const std::string accepted = phone_.Refer("nowhere");
  EXPECT_EQ(accepted.substr(0, accepted.find("\r\n")), "SIP/2.0 202 Accepted") << accepted;
  EXPECT_THAT(phone_.FinalNotify(), ::testing::HasSubstr("SIP/2.0 404 Not Found"));
  EXPECT_EQ(OnlyContact()["state"], "handling");
  EXPECT_EQ(phone_.HangUp().substr(0, 14), "SIP/2.0 200 OK");
  EXPECT_EQ(AliceSettled(), "available wrap-up");
}

TEST_F(CallControlTest, MuteSendsSilenceAndDigitsGoToTheCallerAsRfc4733) {
  const std::string id = TalkingToAlice();
  ASSERT_FALSE(id.empty());
  // Alice speaks until `want` reaches the caller; false at the deadline.
  const auto until_caller_hears = [&](bool (*want)(int, const std::vector<uint8_t>&)) {
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    while (std::chrono::steady_clock::now() < deadline) {
      phone_.Speak();
      if (rtp_.Hears(want, 20ms)) return true;
    }
    return false;
  };
  ASSERT_TRUE(until_caller_hears(IsVoice));
  auto muted = Post(id, "mute", R"({"muted":true})");
  ASSERT_EQ(muted.status, 200) << muted.body;
  EXPECT_TRUE(Json::parse(muted.body)["muted"].get<bool>());
  ASSERT_TRUE(until_caller_hears(IsSilence));
  // Packets leave in the order the media thread made them: after the first silence, alice's
  // voice no longer reaches the caller.
  for (int i = 0; i < 10; ++i) phone_.Speak();
  int silent = 0;
  while (silent < 10) {
    bool voice = false;
    ASSERT_TRUE(rtp_.Hears([&](int pt, const std::vector<uint8_t>& p) {
      voice = IsVoice(pt, p);
      return pt == 0;
    }));
    EXPECT_FALSE(voice);
    ++silent;
  }
  EXPECT_EQ(Post(id, "mute", R"({"muted":"yes"})").status, 400);
  ASSERT_EQ(Post(id, "mute", R"({"muted":false})").status, 200);
  EXPECT_TRUE(until_caller_hears(IsVoice));

  auto digits = Post(id, "dtmf", R"({"digits":"12#"})");
  ASSERT_EQ(digits.status, 200) << digits.body;
  EXPECT_TRUE(rtp_.Hears([](int pt, const std::vector<uint8_t>& p) {
    return pt == 101 && p.size() == 4 && p[0] == 1;  // event 1 (digit "1")
  }));
  auto bad = Post(id, "dtmf", R"({"digits":"12x"})");
  EXPECT_EQ(bad.status, 400);
  EXPECT_THAT(bad.body, ::testing::HasSubstr("'x' is not a DTMF digit"));
  EXPECT_EQ(caller_.HangUp(), "SIP/2.0 200 OK");
}

// Whatever hangs up, at whatever stage, nobody is left handling and alice ends in wrap-up or
// Available (table-driven over every hang-up order; each call lasts a second or two).
enum class Who { kCaller, kPhone, kApi };
enum class Stage { kTalking, kOnHold, kTransferRinging };
struct HangupCase {
  Who who;
  Stage stage;
};

std::string CaseName(const ::testing::TestParamInfo<HangupCase>& info) {
  const char* who[] = {"Caller", "Phone", "Api"};
  const char* stage[] = {"Talking", "OnHold", "TransferRinging"};
  return std::string(who[static_cast<int>(info.param.who)]) + "HangsUp" +
         stage[static_cast<int>(info.param.stage)];
}

class HangupOrderTest : public CallControlTest, public ::testing::WithParamInterface<HangupCase> {};

TEST_P(HangupOrderTest, LeavesNoAgentInAWrongState) {
  const HangupCase hc = GetParam();
  // The transfer case starts on the hotline (no wrap-up), so the transfer rings alice again.
  const std::string id = TalkingToAlice(hc.stage == Stage::kTransferRinging ? "5001" : "5000");
  ASSERT_FALSE(id.empty());
  if (hc.stage == Stage::kOnHold) {
    ASSERT_EQ(Post(id, "hold").status, 200);
  }
  if (hc.stage == Stage::kTransferRinging) {
    ASSERT_EQ(Post(id, "transfer", R"({"queue":"support"})").status, 200);
    ASSERT_FALSE(phone_.Request("BYE").empty());
    ASSERT_FALSE(phone_.Ringing().empty());  // alice is offered it again
  }
  switch (hc.who) {
    case Who::kCaller:
      EXPECT_EQ(caller_.HangUp(), "SIP/2.0 200 OK");
      if (hc.stage == Stage::kTransferRinging) {
        EXPECT_TRUE(phone_.Cancelled());
      } else {
        EXPECT_FALSE(phone_.Request("BYE").empty());
      }
      break;
    case Who::kPhone:
      if (hc.stage == Stage::kTransferRinging) {
        // The ringing phone refuses; the caller then gives up waiting.
        EXPECT_TRUE(phone_.Decline("486 Busy Here"));
        EXPECT_EQ(caller_.HangUp(), "SIP/2.0 200 OK");
      } else {
        EXPECT_EQ(phone_.HangUp().substr(0, 14), "SIP/2.0 200 OK");
      }
      break;
    case Who::kApi: {
      auto r = Post(id, "hangup");
      EXPECT_EQ(r.status, 200) << r.body;
      if (hc.stage == Stage::kTransferRinging) {
        EXPECT_TRUE(phone_.Cancelled());
      } else {
        EXPECT_FALSE(phone_.Request("BYE").empty());
      }
      break;
    }
  }
  EXPECT_TRUE(NoneHandled());
  const std::string alice = AliceSettled();
  EXPECT_THAT(
      alice, ::testing::AnyOf(::testing::StartsWith("available"), ::testing::StartsWith("wrap-up")))
      << alice;
  EXPECT_THAT(alice, ::testing::Not(::testing::HasSubstr("handling")));
}

INSTANTIATE_TEST_SUITE_P(EveryOrder, HangupOrderTest,
                         ::testing::Values(HangupCase{Who::kCaller, Stage::kTalking},
                                           HangupCase{Who::kCaller, Stage::kOnHold},
                                           HangupCase{Who::kCaller, Stage::kTransferRinging},
                                           HangupCase{Who::kPhone, Stage::kTalking},
                                           HangupCase{Who::kPhone, Stage::kOnHold},
                                           HangupCase{Who::kPhone, Stage::kTransferRinging},
                                           HangupCase{Who::kApi, Stage::kTalking},
                                           HangupCase{Who::kApi, Stage::kOnHold},
                                           HangupCase{Who::kApi, Stage::kTransferRinging}),
                         CaseName);

}  // namespace
}  // namespace parley::testing
