// The voice end-to-end tests' shared set-up: a real `parley serve --sip` on free loopback ports
// with alice's SIP password set, raw UDP SIP peers for messages a test must time itself, sipp
// runs, and alice's phone registration. Every wait has a bounded deadline.
#pragma once

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <future>
#include <memory>
#include <string>
#include <vector>

#include "tests/server/server_process.h"

namespace parley::testing {

inline const std::string kData = std::string(PARLEY_SOURCE_DIR) + "/tests/data";
inline constexpr const char* kSipPassword = "alice-sip-secret-1";

// A port free for both UDP and TCP on 127.0.0.1 right now.
int FreePort();

// Waits (bounded, 10 s) until a socket is bound to UDP `port` on 127.0.0.1, as a peer
// started in the background binds it; false when none did.
bool WaitUntilUdpBound(int port);
// The same until a socket listens on TCP `port` (any address).
bool WaitUntilTcpListening(int port);

// A UDP socket on 127.0.0.1 (or another loopback `address`, such as 127.0.0.2, which is not
// the tests' trusted trunk) that sends one request and waits for an answer.
class UdpPeer {
 public:
  explicit UdpPeer(const std::string& address = "127.0.0.1") {
    fd_ = socket(AF_INET, SOCK_DGRAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    (void)inet_pton(AF_INET, address.c_str(), &a.sin_addr);
    socklen_t len = sizeof a;
    (void)bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a);
    (void)getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
  }
  ~UdpPeer() { close(fd_); }
  int port() const { return port_; }
  void Send(int to_port, const std::string& message) {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(static_cast<uint16_t>(to_port));
    (void)sendto(fd_, message.data(), message.size(), 0, reinterpret_cast<sockaddr*>(&a), sizeof a);
  }
  // The next datagram's text, or "" after `timeout`.
  std::string Receive(std::chrono::milliseconds timeout) {
    pollfd p{fd_, POLLIN, 0};
    if (poll(&p, 1, static_cast<int>(timeout.count())) <= 0) return "";
    char buf[65536];
    const ssize_t n = recv(fd_, buf, sizeof buf, 0);
    return n > 0 ? std::string(buf, static_cast<size_t>(n)) : "";
  }
  // The next request whose method is `method` (responses and other requests are skipped), or ""
  // after `timeout`.
  std::string ReceiveRequest(const std::string& method,
                             std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (true) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) return "";
      const std::string r = Receive(left);
      if (r.empty()) return "";
      if (r.rfind(method + " ", 0) == 0) return r;
    }
  }
  // Answers `request` with `status` ("180 Ringing"), copying its Via, From, To (adding our
  // tag), Call-ID and CSeq; `cseq` replaces the CSeq value when given; an `sdp` body comes with
  // a Contact header (a phone answering with media).
  void Respond(int to_port, const std::string& request, const std::string& status,
               const std::string& cseq = "", const std::string& sdp = "") {
    const auto header = [&](const std::string& name) {
      const size_t at = request.find("\r\n" + name + ":");
      const size_t start = request.find_first_not_of(' ', at + name.size() + 3);
      return request.substr(start, request.find("\r\n", start) - start);
    };
    std::string to = header("To");
    if (to.find(";tag=") == std::string::npos) to += ";tag=phone";
    const std::string body = sdp.empty()
                                 ? "Content-Length: 0\r\n\r\n"
                                 : "Contact: <sip:phone@127.0.0.1:" + std::to_string(port_) +
                                       ">\r\nContent-Type: application/sdp\r\nContent-Length: " +
                                       std::to_string(sdp.size()) + "\r\n\r\n" + sdp;
    Send(to_port, "SIP/2.0 " + status + "\r\nVia: " + header("Via") + "\r\nFrom: " +
                      header("From") + "\r\nTo: " + to + "\r\nCall-ID: " + header("Call-ID") +
                      "\r\nCSeq: " + (cseq.empty() ? header("CSeq") : cseq) + "\r\n" + body);
  }

  // The first final (>= 200) response's status line, or "" when none came in time; the whole
  // message in `message` when given.
  std::string FinalResponse(std::chrono::milliseconds timeout = std::chrono::seconds(5),
                            std::string* message = nullptr) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (true) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) return "";
      const std::string r = Receive(left);
      if (r.empty()) return "";
      const std::string line = r.substr(0, r.find("\r\n"));
      // Requests crossing the answer are not it: the stack may, for one, end the implicit
      // subscription of a REFER it refused with a NOTIFY sent before the 403 is.
      if (line.rfind("SIP/2.0 ", 0) != 0) continue;
      if (line.rfind("SIP/2.0 1", 0) != 0) {
        if (message != nullptr) *message = r;
        return line;
      }
    }
  }

 private:
  int fd_ = -1;
  int port_ = 0;
};

std::string ReadText(const std::string& path);

void ReplaceAll(std::string* s, const std::string& from, const std::string& to);

// The site file `config` with `placeholder` replaced by `value` (a peer's port the test learns
// only at run time), written into `dir`; the new file's path.
std::string SiteWith(const std::string& config, const std::string& placeholder,
                     const std::string& value, const std::string& dir);

std::string Md5Hex(const std::string& text, bool sha256 = false);

// The Authorization header (with its CRLF) answering the MD5 (or SHA-256) digest challenge of
// `challenge` (a 401's whole text) for `login`'s `method` request to `uri`; "" when the 401
// offers no such challenge.
std::string DigestAuthorization(const std::string& challenge, const std::string& login,
                                const std::string& method, const std::string& uri,
                                const std::string& password = kSipPassword, bool sha256 = false);

// Registers `contact` for alice over UDP, answering the MD5 (or SHA-256) challenge as a phone
// would; returns the final status line.
std::string RegisterAlice(int sip_port, const std::string& contact, bool sha256 = false,
                          const std::string& password = kSipPassword);
// The same for user `login`.
std::string RegisterUser(int sip_port, const std::string& login, const std::string& contact,
                         bool sha256 = false, const std::string& password = kSipPassword);

// Reads events until one of type `type` mentions `text` (true), or the timeout.
bool WaitForEvent(EventsClient& events, const std::string& type, const std::string& text);
// The same, returning that event's JSON text ("" when none came).
std::string EventMessage(EventsClient& events, const std::string& type, const std::string& text);

// The value of header `name` ("To") in a SIP message, "" when absent.
std::string HeaderOf(const std::string& message, const std::string& name);

// A caller on raw UDP, for tests that must hang up at a moment of their choosing: INVITEs the
// entry number with a PCMU offer, ACKs the 200, and sends BYE on demand.
class RawCaller {
 public:
  explicit RawCaller(int sip_port) : sip_port_(sip_port) {}
  // The final response's status line to the INVITE (ACKed when 2xx). With `media_port` the
  // offer names that RTP port (the test listens there) and RFC 4733 telephone-event too.
  std::string Call(const std::string& number, int media_port = 0) {
    const std::string via = "127.0.0.1:" + std::to_string(peer_.port());
    const std::string sdp =
        "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio " +
        (media_port == 0 ? std::to_string(FreePort()) + " RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n"
                         : std::to_string(media_port) +
                               " RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:101 "
                               "telephone-event/8000\r\na=fmtp:101 0-15\r\n");
    from_ = "<sip:+447700900789@127.0.0.1>;tag=raw" + std::to_string(peer_.port());
    call_id_ = "raw-" + std::to_string(peer_.port());
    peer_.Send(sip_port_, "INVITE sip:" + number + "@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP " + via +
                              ";branch=z9hG4bK-inv\r\nFrom: " + from_ + "\r\nTo: <sip:" + number +
                              "@127.0.0.1>\r\nCall-ID: " + call_id_ +
                              "\r\nCSeq: 1 INVITE\r\nContact: <sip:caller@" + via +
                              ">\r\nMax-Forwards: 70\r\nContent-Type: "
                              "application/sdp\r\nContent-Length: " +
                              std::to_string(sdp.size()) + "\r\n\r\n" + sdp);
    std::string answer;
    const std::string status = peer_.FinalResponse(std::chrono::seconds(10), &answer);
    if (status.rfind("SIP/2.0 2", 0) != 0) return status;
    first_answer_ = answer.substr(answer.find("\r\n\r\n") + 4);
    to_ = HeaderOf(answer, "To");
    std::string contact = HeaderOf(answer, "Contact");
    target_ = contact.substr(contact.find('<') + 1, contact.find('>') - contact.find('<') - 1);
    peer_.Send(sip_port_, "ACK " + target_ + " SIP/2.0\r\nVia: SIP/2.0/UDP " + via +
                              ";branch=z9hG4bK-ack\r\nFrom: " + from_ + "\r\nTo: " + to_ +
                              "\r\nCall-ID: " + call_id_ +
                              "\r\nCSeq: 1 ACK\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n");
    return status;
  }
  // Sends a re-INVITE with the same offer; the final status line, and the answer's body in
  // `sdp`.
  std::string Reinvite(std::string* sdp) {
    const std::string via = "127.0.0.1:" + std::to_string(peer_.port());
    const std::string offer =
        "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio " +
        std::to_string(FreePort()) + " RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n";
    peer_.Send(sip_port_, "INVITE " + target_ + " SIP/2.0\r\nVia: SIP/2.0/UDP " + via +
                              ";branch=z9hG4bK-reinv\r\nFrom: " + from_ + "\r\nTo: " + to_ +
                              "\r\nCall-ID: " + call_id_ + "\r\nCSeq: " + std::to_string(++cseq_) +
                              " INVITE\r\nContact: <sip:caller@" + via +
                              ">\r\nMax-Forwards: 70\r\nContent-Type: "
                              "application/sdp\r\nContent-Length: " +
                              std::to_string(offer.size()) + "\r\n\r\n" + offer);
    std::string answer;
    const std::string status = peer_.FinalResponse(std::chrono::seconds(5), &answer);
    *sdp = answer.substr(answer.find("\r\n\r\n") + 4);
    if (status.rfind("SIP/2.0 2", 0) != 0) *sdp = answer;  // the whole refusal, for the test log
    if (status.rfind("SIP/2.0 2", 0) == 0) {
      peer_.Send(sip_port_, "ACK " + target_ + " SIP/2.0\r\nVia: SIP/2.0/UDP " + via +
                                ";branch=z9hG4bK-reack\r\nFrom: " + from_ + "\r\nTo: " + to_ +
                                "\r\nCall-ID: " + call_id_ + "\r\nCSeq: " + std::to_string(cseq_) +
                                " ACK\r\nMax-Forwards: 70\r\nContent-Length: "
                                "0\r\n\r\n");
    }
    return status;
  }
  const std::string& first_answer() const { return first_answer_; }

  // An in-dialog REFER to `user`@Parley from the caller; the final response's status line.
  std::string Refer(const std::string& user) {
    const std::string via = "127.0.0.1:" + std::to_string(peer_.port());
    const std::string cseq = std::to_string(++cseq_);
    peer_.Send(sip_port_, "REFER " + target_ + " SIP/2.0\r\nVia: SIP/2.0/UDP " + via +
                              ";branch=z9hG4bK-refer" + cseq + "\r\nFrom: " + from_ +
                              "\r\nTo: " + to_ + "\r\nCall-ID: " + call_id_ + "\r\nCSeq: " + cseq +
                              " REFER\r\nContact: <sip:caller@" + via +
                              ">\r\nRefer-To: <sip:" + user +
                              "@127.0.0.1>\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n");
    return peer_.FinalResponse();
  }

  // The final response's status line to the BYE.
  std::string HangUp() {
    const std::string via = "127.0.0.1:" + std::to_string(peer_.port());
    peer_.Send(sip_port_, "BYE " + target_ + " SIP/2.0\r\nVia: SIP/2.0/UDP " + via +
                              ";branch=z9hG4bK-bye\r\nFrom: " + from_ + "\r\nTo: " + to_ +
                              "\r\nCall-ID: " + call_id_ + "\r\nCSeq: " + std::to_string(++cseq_) +
                              " BYE\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n");
    return peer_.FinalResponse();
  }

 private:
  int sip_port_;
  UdpPeer peer_;
  std::string from_, to_, call_id_, target_, first_answer_;
  int cseq_ = 1;  // of the last request in the dialog (the INVITE was 1)
};

// A server on a seeded data directory where alice (and every user of `sip_users`) has the SIP
// password kSipPassword, listening for SIP on `sip_port`.
class VoiceServer {
 public:
  // `extra`: more `parley serve` arguments for the second start (the one with SIP); `sip_port`
  // (0: a free one) when the test must know it before the server starts.
  explicit VoiceServer(const std::string& config = kData + "/voice.yaml",
                       const std::vector<std::string>& sip_users = {"alice"},
                       std::vector<std::string> extra = {}, int sip_port = 0) {
    sip_port_ = sip_port != 0 ? sip_port : FreePort();
    {
      // First start seeds the data directory and creates the users.
      ServerProcess seed(dir_.path() + "/data", {"--config", config});
      if (!seed.started() || seed.Terminate() != 0) return;
    }
    for (const auto& login : sip_users) {
      auto set = RunProgram(PARLEY_BINARY,
                            {"user", "sip-password", login, "--data", dir_.path() + "/data"},
                            std::chrono::seconds(30), std::string(kSipPassword) + "\n");
      if (set.exit_code != 0) {
        ADD_FAILURE() << set.out << set.err;
        return;
      }
    }
    std::vector<std::string> args = {"--sip", "127.0.0.1:" + std::to_string(sip_port_)};
    args.insert(args.end(), extra.begin(), extra.end());
    server_ = std::make_unique<ServerProcess>(dir_.path() + "/data", std::move(args));
  }
  bool started() const { return server_ && server_->started(); }
  int sip_port() const { return sip_port_; }
  ServerProcess& process() { return *server_; }
  // The server's data directory (prompts the flows play go in its prompts/ folder).
  std::string data_dir() const { return dir_.path() + "/data"; }

  // Runs a sipp scenario of tests/data/sipp once against the server; true when it passed.
  ProcessResult Sipp(const std::string& scenario, std::vector<std::string> extra = {},
                     int calls = 1, int local_port = 0,
                     std::chrono::seconds timeout = std::chrono::seconds(20)) {
    const std::string errors = dir_.path() + "/sipp_errors_" + scenario + ".log";
    std::vector<std::string> args = {"127.0.0.1:" + std::to_string(sip_port_),
                                     "-sf",
                                     kData + "/sipp/" + scenario,
                                     "-m",
                                     std::to_string(calls),
                                     "-i",
                                     "127.0.0.1",
                                     "-p",
                                     std::to_string(local_port ? local_port : FreePort()),
                                     "-timeout",
                                     std::to_string(timeout.count()) + "s",
                                     "-timeout_error",
                                     "-nostdin",
                                     "-trace_err",
                                     "-error_file",
                                     errors};
    for (auto& e : extra) args.push_back(std::move(e));
    auto r = RunProgram("sipp", args, timeout + std::chrono::seconds(20));
    r.err += ReadText(errors);
    return r;
  }

 private:
  TempDir dir_;
  int sip_port_ = 0;
  std::unique_ptr<ServerProcess> server_;
};

// The value in column `column` ("hold") of the first contact `parley export contacts` writes
// for the (stopped) server's data directory `data_dir`; "" when there is none.
std::string FirstContactExported(const std::string& data_dir, const std::string& column);

// `agent`'s presence and the states of the contacts it holds ("available wrap-up"), once nothing
// of its is being handled or offered (bounded, 10 s); "" when that never happened.
std::string AgentSettled(int http_port, const std::string& cookie, const std::string& agent);

// Registers alice's phone at 127.0.0.1:`phone_port` and makes her Available (as the admin whose
// session is `cookie`); "" on success, else what failed.
std::string AliceAvailableOnPhone(VoiceServer& server, int phone_port, const std::string& cookie);

// alice Available on a sipp phone playing `phone_scenario`, and a trunk caller (sipp) that
// dials the support queue (5000) playing `caller_scenario`, by default one that waits for
// Parley's BYE; both run from Ring() on. `caller_extra` adds arguments to the caller's sipp.
class AliceRung {
 public:
  explicit AliceRung(VoiceServer& server)
      : server_(server),
        http_(server.process().port()),
        cookie_(Login(http_, "admin")),
        events_(http_, "/api/v1/events", cookie_) {
    ready_ = events_.connected() ? AliceAvailableOnPhone(server, phone_port_, cookie_)
                                 : "the event stream did not connect";
  }
  const std::string& ready() const { return ready_; }  // "" when alice waits on her phone
  EventsClient& events() { return events_; }
  int http() const { return http_; }
  const std::string& cookie() const { return cookie_; }
  HttpResponse Contacts() { return Http(http_, "GET", "/api/v1/contacts", "", cookie_); }

  void Ring(const std::string& phone_scenario, std::vector<std::string> phone_extra = {},
            const std::string& caller_scenario = "caller_until_bye.xml",
            std::vector<std::string> caller_extra = {},
            std::chrono::seconds phone_timeout = std::chrono::seconds(20)) {
    phone_ = std::async(std::launch::async, [this, phone_scenario, phone_extra, phone_timeout] {
      return server_.Sipp(phone_scenario, phone_extra, 1, phone_port_, phone_timeout);
    });
    // The caller only once the phone listens: an INVITE to a port nobody holds yet fails at
    // once (ICMP unreachable, 503), the offer with it, and the phone then waits in vain.
    (void)WaitUntilUdpBound(phone_port_);
    // The caller's scenario ends only on Parley's BYE; its bound is generous (a loaded machine
    // stretches the ring, the re-offers and the shutdown) but still fails a BYE that never comes.
    std::vector<std::string> args = {"-s",        "5000", "-mi",
                                     "127.0.0.1", "-mp",  std::to_string(FreePort())};
    args.insert(args.end(), caller_extra.begin(), caller_extra.end());
    caller_ = std::async(std::launch::async, [this, caller_scenario, args] {
      return server_.Sipp(caller_scenario, args, 1, 0, std::chrono::seconds(60));
    });
  }
  ProcessResult Phone() { return phone_.get(); }
  ProcessResult Caller() { return caller_.get(); }

 private:
  VoiceServer& server_;
  const int phone_port_ = FreePort();
  const int http_;
  const std::string cookie_;
  EventsClient events_;
  std::string ready_;
  std::future<ProcessResult> phone_, caller_;
};

}  // namespace parley::testing
