// Phones and RTP ports on raw UDP for the voice end-to-end tests (call control, monitoring,
// consultation): every SIP message and RTP packet goes out when the test says, and what Parley
// sends is read back with a bounded deadline. Header-only; one test binary may include it from
// several files (everything is inline).
#pragma once

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "tests/voice/voice_fixture.h"

namespace parley::testing {

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
             std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
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
  // Discards every packet already received.
  void Drain() {
    while (!peer_.Receive(std::chrono::milliseconds(0)).empty()) {
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
inline constexpr uint8_t kVoice = 0x10;
inline bool IsVoice(int pt, const std::vector<uint8_t>& p) {
  return pt == 0 && !p.empty() &&
         std::all_of(p.begin(), p.end(), [](uint8_t b) { return b == kVoice; });
}
inline bool IsSilence(int pt, const std::vector<uint8_t>& p) {
  return pt == 0 && !p.empty() &&
         std::all_of(p.begin(), p.end(), [](uint8_t b) { return b == 0xFF; });
}

// A user's phone on raw UDP (alice's unless told): answers Parley's INVITE with SDP, or calls
// Parley itself (Dial), sends in-dialog requests (re-INVITE, REFER, BYE) and answers Parley's
// (NOTIFY, BYE). One object is one dialog at a time; a phone's second line is a second object.
// Messages that arrive while the test waits for another are kept for later. Its RTP port is
// `media()`; its SIP socket is on `host` (127.0.0.2 to call Parley from outside the trunk).
class AgentPhone {
 public:
  explicit AgentPhone(int sip_port, std::string user = "alice", std::string host = "127.0.0.1")
      : sip_port_(sip_port), user_(std::move(user)), host_(std::move(host)), peer_(host_) {}
  int port() const { return peer_.port(); }
  RtpSink& media() { return media_; }
  // Parley's RTP port for this phone (from the answered INVITE's SDP), 0 before.
  int parley_media_port() const {
    const size_t m = invite_sdp_.find("m=audio ");
    return m == std::string::npos ? 0 : std::stoi(invite_sdp_.substr(m + 8));
  }

  // The next request `method` from Parley, answered `status` unless it is empty; "" if none.
  std::string Request(const std::string& method, const std::string& status = "200 OK",
                      std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
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
    invite_.clear();  // the next Answer or Ringing waits for a new INVITE
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
  // Calls `target`@Parley (a new dialog, as a phone's second line calls a colleague during an
  // attended transfer): the INVITE, answering the digest challenge as `user_` with `password`.
  // "" once the authenticated INVITE is out (its answer comes with DialAnswer), else the
  // response that came instead of the challenge.
  std::string Dial(const std::string& target, const std::string& password = kSipPassword) {
    call_id_ = "dial-" + std::to_string(port()) + "@" + host_;
    local_ = "<sip:" + user_ + "@" + host_ + ">;tag=line" + std::to_string(port());
    remote_ = "<sip:" + target + "@127.0.0.1>";
    target_ = "sip:" + target + "@127.0.0.1:" + std::to_string(sip_port_);
    const std::string sdp = Sdp("sendrecv");
    const std::string challenge =
        FinalTo(SendInDialog("INVITE", "Content-Type: application/sdp\r\n", sdp), "INVITE");
    if (challenge.rfind("SIP/2.0 401", 0) != 0) return challenge.empty() ? "no answer" : challenge;
    AckFailure(challenge);
    const std::string authorization =
        DigestAuthorization(challenge, user_, "INVITE", target_, password);
    if (authorization.empty()) return challenge;
    SendInDialog("INVITE", authorization + "Content-Type: application/sdp\r\n", sdp);
    return "";
  }
  // The ringing response (18x) to Dial's INVITE (whole message), "" when none came in time.
  std::string DialRinging() {
    const std::string cseq_line = std::to_string(cseq_) + " INVITE";
    return Next(
        [&](const std::string& m) {
          return m.rfind("SIP/2.0 18", 0) == 0 && HeaderOf(m, "CSeq") == cseq_line;
        },
        std::chrono::seconds(10));
  }
  // Whether a final response to Dial's INVITE has arrived by now. Waits for nothing: it reads
  // what the socket already holds, which is kept for DialAnswer.
  bool DialAnsweredYet() {
    for (std::string m = peer_.Receive(std::chrono::milliseconds(0)); !m.empty();
         m = peer_.Receive(std::chrono::milliseconds(0))) {
      backlog_.push_back(std::move(m));
    }
    const std::string cseq_line = std::to_string(cseq_) + " INVITE";
    return std::any_of(backlog_.begin(), backlog_.end(), [&](const std::string& m) {
      return m.rfind("SIP/2.0 ", 0) == 0 && m.rfind("SIP/2.0 1", 0) != 0 &&
             HeaderOf(m, "CSeq") == cseq_line;
    });
  }
  // The final response to Dial's INVITE (whole message, "" when none came in time), ACKed.
  std::string DialAnswer() {
    const std::string answer = FinalTo(cseq_, "INVITE");
    if (answer.rfind("SIP/2.0 2", 0) != 0) {
      if (!answer.empty()) AckFailure(answer);
      return answer;
    }
    remote_ = HeaderOf(answer, "To");
    invite_sdp_ = answer.substr(answer.find("\r\n\r\n") + 4);
    const std::string contact = HeaderOf(answer, "Contact");
    target_ = contact.substr(contact.find('<') + 1, contact.find('>') - contact.find('<') - 1);
    peer_.Send(sip_port_, Head("ACK", cseq_) + "Content-Length: 0\r\n\r\n");
    return answer;
  }
  // Cancels Dial's INVITE while it rings; the INVITE's final response (whole message), ACKed.
  std::string CancelDial() {
    const std::string cseq = std::to_string(cseq_);
    peer_.Send(sip_port_, "CANCEL " + target_ + " SIP/2.0\r\nVia: SIP/2.0/UDP " + host_ + ":" +
                              std::to_string(port()) + ";branch=z9hG4bK-INVITE" + cseq +
                              "\r\nFrom: " + local_ + "\r\nTo: " + remote_ +
                              "\r\nCall-ID: " + call_id_ + "\r\nCSeq: " + cseq +
                              " CANCEL\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n");
    return DialAnswer();
  }
  // The dialog as a Replaces header names it: its Call-ID, this phone's tag and Parley's.
  const std::string& call_id() const { return call_id_; }
  std::string local_tag() const { return TagOf(local_); }
  std::string remote_tag() const { return TagOf(remote_); }
  // A REFER to `user`@Parley whose Refer-To carries Replaces naming `dialog` (another dialog of
  // this phone's user with Parley), as a phone completes an attended transfer (RFC 5589 section
  // 7); the final response (whole message).
  std::string ReferReplacing(const std::string& user, const AgentPhone& dialog) {
    return ReferReplacing(user, dialog.call_id(), dialog.remote_tag(), dialog.local_tag());
  }
  // The same with the Replaces' fields given: Call-ID, to-tag (Parley's), from-tag (the phone's).
  std::string ReferReplacing(const std::string& user, const std::string& call_id,
                             const std::string& to_tag, const std::string& from_tag) {
    return InDialog("REFER",
                    "Refer-To: <sip:" + user + "@127.0.0.1?Replaces=" + Escape(call_id) +
                        "%3Bto-tag%3D" + Escape(to_tag) + "%3Bfrom-tag%3D" + Escape(from_tag) +
                        ">\r\nReferred-By: " + Contact() + "\r\n",
                    "");
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
  void Speak(uint8_t level = kVoice) {
    if (const int to = parley_media_port(); to != 0) media_.SendPcmu(to, level);
  }

 private:
  std::string Contact() const {
    return "<sip:" + user_ + "@" + host_ + ":" + std::to_string(port()) + ">";
  }
  static std::string TagOf(const std::string& header) {
    const size_t at = header.find(";tag=");
    return at == std::string::npos ? "" : header.substr(at + 5, header.find(';', at + 5) - at - 5);
  }
  // Percent-encoding for a URI's header value (RFC 3261 section 25.1: hvalue).
  static std::string Escape(const std::string& text) {
    static constexpr char kHex[] = "0123456789ABCDEF";
    std::string out;
    for (const char ch : text) {
      const auto u = static_cast<unsigned char>(ch);
      if (std::isalnum(u) != 0 || std::string_view("-_.!~*'()").find(ch) != std::string::npos) {
        out += ch;
      } else {
        out += '%';
        out += kHex[u >> 4];
        out += kHex[u & 15];
      }
    }
    return out;
  }
  // The ACK of a non-2xx final response to the INVITE: same transaction, so the INVITE's branch.
  void AckFailure(const std::string& response) {
    const std::string cseq = std::to_string(cseq_);
    peer_.Send(sip_port_, "ACK " + target_ + " SIP/2.0\r\nVia: SIP/2.0/UDP " + host_ + ":" +
                              std::to_string(port()) + ";branch=z9hG4bK-INVITE" + cseq +
                              "\r\nFrom: " + local_ + "\r\nTo: " + HeaderOf(response, "To") +
                              "\r\nCall-ID: " + call_id_ + "\r\nCSeq: " + cseq +
                              " ACK\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n");
  }
  std::string Sdp(const std::string& direction) {
    return "v=0\r\no=- 2 " + std::to_string(++sdp_version_) +
           " IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio " +
           std::to_string(media_port_) +
           " RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:101 telephone-event/8000\r\na=" +
           direction + "\r\n";
  }
  std::string Head(const std::string& method, int cseq) {
    return method + " " + target_ + " SIP/2.0\r\nVia: SIP/2.0/UDP " + host_ + ":" +
           std::to_string(port()) + ";branch=z9hG4bK-" + method + std::to_string(cseq) +
           (method == "ACK" ? "a" : "") + "\r\nFrom: " + local_ + "\r\nTo: " + remote_ +
           "\r\nCall-ID: " + call_id_ + "\r\nCSeq: " + std::to_string(cseq) + " " + method +
           "\r\nContact: " + Contact() + "\r\nMax-Forwards: 70\r\n";
  }
  std::string InDialog(const std::string& method, const std::string& headers,
                       const std::string& body) {
    return FinalTo(SendInDialog(method, headers, body), method);
  }
  // Sends a request in the dialog; its CSeq number.
  int SendInDialog(const std::string& method, const std::string& headers, const std::string& body) {
    const int cseq = ++cseq_;
    peer_.Send(sip_port_, Head(method, cseq) + headers +
                              "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body);
    return cseq;
  }
  // The final response to this phone's request `cseq` `method`, or "" after 10 s.
  std::string FinalTo(int cseq, const std::string& method) {
    const std::string cseq_line = std::to_string(cseq) + " " + method;
    return Next(
        [&](const std::string& m) {
          return m.rfind("SIP/2.0 ", 0) == 0 && m.rfind("SIP/2.0 1", 0) != 0 &&
                 HeaderOf(m, "CSeq") == cseq_line;
        },
        std::chrono::seconds(10));
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
  std::string user_;
  std::string host_;
  UdpPeer peer_;
  RtpSink media_;
  int media_port_ = media_.port();
  std::deque<std::string> backlog_;
  std::string invite_, invite_sdp_, local_, remote_, call_id_, target_;
  int cseq_ = 0;
  int sdp_version_ = 0;
};

// G.711 mu-law (ITU-T G.711), to make and read the levels.
inline int UlawToLinear(uint8_t u) {
  u = static_cast<uint8_t>(~u);
  int t = ((u & 0x0F) << 3) + 0x84;
  t <<= (u & 0x70) >> 4;
  return (u & 0x80) != 0 ? 0x84 - t : t - 0x84;
}
inline uint8_t LinearToUlaw(int pcm) {
  const int sign = pcm < 0 ? 0x80 : 0;
  int mag = std::min((pcm < 0 ? -pcm : pcm) + 0x84, 32635 + 0x84);
  int exponent = 7;
  for (int mask = 0x4000; (mag & mask) == 0 && exponent > 0; mask >>= 1) --exponent;
  const int mantissa = (mag >> (exponent + 3)) & 0x0F;
  return static_cast<uint8_t>(~(sign | (exponent << 4) | mantissa));
}

// Who is in a frame: bits of the parties whose levels add up to what it decodes to. Each party
// streams its own constant level (caller 1000, agent 2000, the third party 4000 in linear
// terms), so a frame mixed from several decodes to the sum of theirs.
enum Party : int { kCaller = 1, kAgent = 2, kSupervisor = 4, kThird = 4 };
inline const uint8_t kCallerLevel = LinearToUlaw(1000);
inline const uint8_t kAgentLevel = LinearToUlaw(2000);
inline const uint8_t kSupervisorLevel = LinearToUlaw(4000);

// The parties heard in a PCMU packet whose samples are all one level; -1 for anything else
// (telephone events, prompts).
inline int PartiesIn(int pt, const std::vector<uint8_t>& p) {
  if (pt != 0 || p.empty()) return -1;
  if (std::any_of(p.begin(), p.end(), [&](uint8_t b) { return b != p[0]; })) return -1;
  const int v = UlawToLinear(p[0]);
  const int n = (v + 500) / 1000;
  if (n < 0 || n > 7 || std::abs(v - n * 1000) > 300) return -1;
  return n;
}

// Streams each registered party's level to Parley every 20 ms from its own RTP port (a phone's
// microphone), on a thread of its own, until destroyed.
class Talkers {
 public:
  Talkers()
      : thread_([this](const std::stop_token& stop) {
          auto next = std::chrono::steady_clock::now();
          while (!stop.stop_requested()) {
            {
              std::lock_guard lock(mu_);
              for (const auto& t : talkers_) t.from->SendPcmu(t.to, t.level);
            }
            next += std::chrono::milliseconds(20);
            std::this_thread::sleep_until(next);  // the microphone's clock, not a wait
          }
        }) {}
  // `from` streams `level` to port `to` (replacing where it streamed before).
  void Add(RtpSink& from, int to, uint8_t level) {
    std::lock_guard lock(mu_);
    for (auto& t : talkers_) {
      if (t.from == &from) {
        t = {&from, to, level};
        return;
      }
    }
    talkers_.push_back({&from, to, level});
  }

 private:
  struct Talker {
    RtpSink* from;
    int to;
    uint8_t level;
  };
  std::mutex mu_;
  std::vector<Talker> talkers_;
  std::jthread thread_;
};

// Parley's RTP port in an SDP body (its m=audio line), 0 when none.
inline int MediaPortOf(const std::string& sdp) {
  const size_t m = sdp.find("m=audio ");
  return m == std::string::npos ? 0 : std::stoi(sdp.substr(m + 8));
}

// The start of the consultation and transfer tests: a caller on raw UDP talks with alice, whose
// phone is registered and Available, and bob's phone is registered and bob Available; the caller
// and alice stream their levels through `talkers`. The admin's session, the event stream (opened
// before the call) and the contact's id.
struct CallWithAlice {
  std::string cookie;
  std::unique_ptr<EventsClient> events;
  std::string id;
};
// "" when so (`out` filled), else what failed.
inline std::string StartCallWithAlice(VoiceServer& server, AgentPhone& alice, AgentPhone& bob,
                                      RawCaller& caller, RtpSink& caller_rtp, Talkers& talkers,
                                      CallWithAlice* out) {
  if (!server.started()) return "the server did not start";
  const int http = server.process().port();
  out->cookie = Login(http, "admin");
  if (out->cookie.empty()) return "no admin session";
  out->events = std::make_unique<EventsClient>(http, "/api/v1/events", out->cookie);
  if (!out->events->connected()) return "no event stream";
  if (std::string s = AliceAvailableOnPhone(server, alice.port(), out->cookie); !s.empty()) {
    return s;
  }
  const std::string bob_registered =
      RegisterUser(server.sip_port(), "bob", "sip:bob@127.0.0.1:" + std::to_string(bob.port()));
  if (bob_registered != "SIP/2.0 200 OK") return "bob's REGISTER: " + bob_registered;
  if (std::string r = caller.Call("5000", caller_rtp.port()); r != "SIP/2.0 200 OK") {
    return "the call: " + r;
  }
  if (!alice.Answer()) return "alice's phone did not answer";
  if (!WaitForEvent(*out->events, "handling.started", "\"agent\":\"alice\"")) {
    return "no handling.started for alice";
  }
  talkers.Add(caller_rtp, MediaPortOf(caller.first_answer()), kCallerLevel);
  talkers.Add(alice.media(), alice.parley_media_port(), kAgentLevel);
  const auto contacts = nlohmann::json::parse(
      Http(http, "GET", "/api/v1/contacts", "", out->cookie).body, nullptr, false);
  if (contacts.is_discarded() || contacts["contacts"].empty()) return "no contact";
  out->id = contacts["contacts"][0]["id"].get<std::string>();
  const auto presence =
      Http(http, "PUT", "/api/v1/agents/bob/presence", R"({"presence":"available"})", out->cookie);
  if (presence.status != 200) return "bob's presence: " + presence.body;
  return "";
}

// Whether `sink` hears a frame with every party of `want`, within 10 s.
inline bool HearsAll(RtpSink& sink, int want) {
  return sink.Hears([&](int pt, const std::vector<uint8_t>& p) {
    const int in = PartiesIn(pt, p);
    return in >= 0 && (in & want) == want;
  });
}

// Audio already received is dropped; once `sink` hears a frame with `want` and without `never`,
// the next second of frames (50) has none of `never` either (the parties of `never` stream all
// the while). "" when so, else what it heard.
inline std::string SettlesWithout(RtpSink& sink, int want, int never) {
  sink.Drain();
  if (!sink.Hears([&](int pt, const std::vector<uint8_t>& p) {
        const int in = PartiesIn(pt, p);
        return in >= 0 && (in & want) == want && (in & never) == 0;
      })) {
    return "never heard " + std::to_string(want) + " without " + std::to_string(never);
  }
  std::string heard;
  for (int frames = 0; frames < 50;) {
    bool bad = false;
    if (!sink.Hears([&](int pt, const std::vector<uint8_t>& p) {
          const int in = PartiesIn(pt, p);
          if (in < 0) return false;
          bad = (in & never) != 0;
          if (bad) heard = "frame " + std::to_string(frames) + " had " + std::to_string(in);
          return true;
        })) {
      return "no audio after " + std::to_string(frames) + " frames";
    }
    if (bad) return heard;
    ++frames;
  }
  return "";
}

// Audio already received is dropped; then `packets` packets (20 ms each) have none of `never`.
// "" when so, else what was heard.
inline std::string NeverHears(RtpSink& sink, int never, int packets = 50) {
  sink.Drain();
  for (int n = 0; n < packets; ++n) {
    std::string heard;
    if (!sink.Hears([&](int pt, const std::vector<uint8_t>& p) {
          const int in = PartiesIn(pt, p);
          if (in >= 0 && (in & never) != 0)
            heard = "packet " + std::to_string(n) + " had " + std::to_string(in);
          return true;
        })) {
      return "no audio after " + std::to_string(n) + " packets";
    }
    if (!heard.empty()) return heard;
  }
  return "";
}

// The samples of one channel (0 left: customer, 1 right: agent) of a 16-bit stereo WAV.
inline std::vector<int16_t> WavChannel(const std::string& wav, int channel) {
  std::vector<int16_t> out;
  auto u32 = [&](size_t at) {
    uint32_t v = 0;
    for (int b = 3; b >= 0; --b)
      v = v << 8 | static_cast<uint8_t>(wav[at + static_cast<size_t>(b)]);
    return v;
  };
  for (size_t at = 12; at + 8 <= wav.size();) {
    const size_t size = u32(at + 4);
    if (wav.compare(at, 4, "data") == 0) {
      for (size_t i = at + 8 + 2 * static_cast<size_t>(channel);
           i + 1 < wav.size() && i < at + 8 + size; i += 4) {
        out.push_back(static_cast<int16_t>(static_cast<uint8_t>(wav[i]) |
                                           static_cast<uint8_t>(wav[i + 1]) << 8));
      }
      return out;
    }
    at += 8 + size + (size % 2);
  }
  return out;
}

// How many samples are within 300 of `level` (a party's constant PCMU level, decoded).
inline size_t SamplesAt(const std::vector<int16_t>& samples, uint8_t level) {
  const int want = UlawToLinear(level);
  return static_cast<size_t>(std::count_if(samples.begin(), samples.end(),
                                           [&](int16_t v) { return std::abs(v - want) <= 300; }));
}

}  // namespace parley::testing
