// End-to-end tests of voice: the real `parley serve --sip` on free loopback ports, driven by real
// SIP peers (sipp from Debian's sip-tester) and by raw UDP for malformed messages. Every wait is
// on a process exit or a reply with a bounded deadline.

#include <arpa/inet.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cctype>
#include <filesystem>
#include <fstream>
#include <future>
#include <sstream>

#include "tests/server/server_process.h"

namespace parley::testing {
namespace {

const std::string kData = std::string(PARLEY_SOURCE_DIR) + "/tests/data";
constexpr const char* kSipPassword = "alice-sip-secret-1";

// A port free for both UDP and TCP on 127.0.0.1 right now.
int FreePort() {
  for (int attempt = 0; attempt < 50; ++attempt) {
    const int u = socket(AF_INET, SOCK_DGRAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    if (bind(u, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
        getsockname(u, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
      close(u);
      continue;
    }
    const int t = socket(AF_INET, SOCK_STREAM, 0);
    const bool tcp_free = bind(t, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
    close(t);
    close(u);
    if (tcp_free) return ntohs(a.sin_port);
  }
  return 0;
}

// A UDP socket on 127.0.0.1 that sends one request and waits for an answer.
class UdpPeer {
 public:
  UdpPeer() {
    fd_ = socket(AF_INET, SOCK_DGRAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
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
  // tag), Call-ID and CSeq; `cseq` replaces the CSeq value when given.
  void Respond(int to_port, const std::string& request, const std::string& status,
               const std::string& cseq = "") {
    const auto header = [&](const std::string& name) {
      const size_t at = request.find("\r\n" + name + ":");
      const size_t start = request.find_first_not_of(' ', at + name.size() + 3);
      return request.substr(start, request.find("\r\n", start) - start);
    };
    std::string to = header("To");
    if (to.find(";tag=") == std::string::npos) to += ";tag=phone";
    Send(to_port, "SIP/2.0 " + status + "\r\nVia: " + header("Via") + "\r\nFrom: " +
                      header("From") + "\r\nTo: " + to + "\r\nCall-ID: " + header("Call-ID") +
                      "\r\nCSeq: " + (cseq.empty() ? header("CSeq") : cseq) +
                      "\r\nContent-Length: 0\r\n\r\n");
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

std::string ReadText(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

void ReplaceAll(std::string* s, const std::string& from, const std::string& to) {
  for (size_t at = s->find(from); at != std::string::npos; at = s->find(from, at + to.size())) {
    s->replace(at, from.size(), to);
  }
}

std::string Md5Hex(const std::string& text, bool sha256 = false) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  EVP_Digest(text.data(), text.size(), digest, &size, sha256 ? EVP_sha256() : EVP_md5(), nullptr);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned int i = 0; i < size; ++i) {
    out += kHex[digest[i] >> 4];
    out += kHex[digest[i] & 15];
  }
  return out;
}

// Registers `contact` for alice over UDP, answering the MD5 (or SHA-256) challenge as a phone
// would; returns the final status line.
std::string RegisterAlice(int sip_port, const std::string& contact, bool sha256 = false,
                          const std::string& password = kSipPassword) {
  UdpPeer peer;
  const auto request = [&](int cseq, const std::string& authorization) {
    return "REGISTER sip:127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:" +
           std::to_string(peer.port()) + ";branch=z9hG4bK-reg" + std::to_string(cseq) +
           "\r\nFrom: <sip:alice@127.0.0.1>;tag=r1\r\nTo: <sip:alice@127.0.0.1>\r\nCall-ID: "
           "reg-alice-" +
           std::to_string(peer.port()) + "\r\nCSeq: " + std::to_string(cseq) +
           " REGISTER\r\nContact: <" + contact + ">\r\nExpires: 300\r\nMax-Forwards: 70\r\n" +
           authorization + "Content-Length: 0\r\n\r\n";
  };
  peer.Send(sip_port, request(1, ""));
  std::string challenge;
  if (peer.FinalResponse(std::chrono::seconds(5), &challenge) != "SIP/2.0 401 Unauthorized") {
    return "no challenge";
  }
  const std::string algorithm = sha256 ? "SHA-256" : "MD5";
  const size_t named = challenge.find("algorithm=" + algorithm);
  const size_t at = challenge.rfind("nonce=\"", named);
  if (named == std::string::npos || at == std::string::npos)
    return "no " + algorithm + " challenge";
  const std::string nonce = challenge.substr(at + 7, challenge.find('"', at + 7) - at - 7);
  const std::string ha1 = Md5Hex("alice:parley.test:" + password, sha256);
  const std::string ha2 = Md5Hex("REGISTER:sip:127.0.0.1", sha256);
  const std::string response = Md5Hex(ha1 + ":" + nonce + ":00000001:c0ffee:auth:" + ha2, sha256);
  peer.Send(sip_port, request(2,
                              "Authorization: Digest username=\"alice\", realm=\"parley.test\", "
                              "nonce=\"" +
                                  nonce + "\", uri=\"sip:127.0.0.1\", response=\"" + response +
                                  "\", algorithm=" + algorithm +
                                  ", qop=auth, nc=00000001, "
                                  "cnonce=\"c0ffee\"\r\n"));
  return peer.FinalResponse();
}

// Reads events until one of type `type` mentions `text` (true), or the timeout.
bool WaitForEvent(EventsClient& events, const std::string& type, const std::string& text) {
  while (auto message = events.Next(std::chrono::seconds(20))) {
    if (message->find("\"type\":\"" + type + "\"") != std::string::npos &&
        message->find(text) != std::string::npos) {
      return true;
    }
  }
  return false;
}

// The value of header `name` ("To") in a SIP message, "" when absent.
std::string HeaderOf(const std::string& message, const std::string& name) {
  const size_t at = message.find("\r\n" + name + ":");
  if (at == std::string::npos) return "";
  const size_t start = message.find_first_not_of(' ', at + name.size() + 3);
  return message.substr(start, message.find("\r\n", start) - start);
}

// A caller on raw UDP, for tests that must hang up at a moment of their choosing: INVITEs the
// entry number with a PCMU offer, ACKs the 200, and sends BYE on demand.
class RawCaller {
 public:
  explicit RawCaller(int sip_port) : sip_port_(sip_port) {}
  // The final response's status line to the INVITE (ACKed when 2xx).
  std::string Call(const std::string& number) {
    const std::string via = "127.0.0.1:" + std::to_string(peer_.port());
    const std::string sdp =
        "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio " +
        std::to_string(FreePort()) + " RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n";
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

// A server on a seeded data directory where alice has a SIP password, listening for SIP on
// `sip_port`.
class VoiceServer {
 public:
  explicit VoiceServer(const std::string& config = kData + "/voice.yaml") {
    sip_port_ = FreePort();
    {
      // First start seeds the data directory and creates the users.
      ServerProcess seed(dir_.path() + "/data", {"--config", config});
      if (!seed.started() || seed.Terminate() != 0) return;
    }
    auto set = RunProgram(PARLEY_BINARY,
                          {"user", "sip-password", "alice", "--data", dir_.path() + "/data"},
                          std::chrono::seconds(30), std::string(kSipPassword) + "\n");
    if (set.exit_code != 0) {
      ADD_FAILURE() << set.out << set.err;
      return;
    }
    server_ = std::make_unique<ServerProcess>(
        dir_.path() + "/data",
        std::vector<std::string>{"--sip", "127.0.0.1:" + std::to_string(sip_port_)});
  }
  bool started() const { return server_ && server_->started(); }
  int sip_port() const { return sip_port_; }
  ServerProcess& process() { return *server_; }

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

TEST(VoiceE2eTest, OptionsIsAnswered200) {
  VoiceServer server;
  ASSERT_TRUE(server.started());
  EXPECT_THAT(server.process().output(), ::testing::HasSubstr("SIP on udp and tcp 127.0.0.1:"));
  auto r = server.Sipp("options.xml");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  auto tcp = server.Sipp("options.xml", {"-t", "t1"});
  EXPECT_EQ(tcp.exit_code, 0) << tcp.err;
}

TEST(VoiceE2eTest, RegisterWithTheRightSipPasswordSucceeds) {
  VoiceServer server;
  ASSERT_TRUE(server.started());
  auto r = server.Sipp("register_ok.xml", {"-s", "alice", "-au", "alice", "-ap", kSipPassword});
  EXPECT_EQ(r.exit_code, 0) << r.err;
}

TEST(VoiceE2eTest, WrongPasswordAndUnknownUserGetTheSameAnswer) {
  VoiceServer server;
  ASSERT_TRUE(server.started());
  auto wrong = server.Sipp("register_refused.xml",
                           {"-s", "alice", "-au", "alice", "-ap", "not-the-password"});
  EXPECT_EQ(wrong.exit_code, 0) << wrong.err;
  auto unknown =
      server.Sipp("register_refused.xml", {"-s", "mallory", "-au", "mallory", "-ap", "x"});
  EXPECT_EQ(unknown.exit_code, 0) << unknown.err;
  // The web password is not a SIP password.
  auto web =
      server.Sipp("register_refused.xml", {"-s", "alice", "-au", "alice", "-ap", kTestPassword});
  EXPECT_EQ(web.exit_code, 0) << web.err;
}

TEST(VoiceE2eTest, RepeatedFailuresBanTheAddress) {
  VoiceServer server;
  ASSERT_TRUE(server.started());
  auto failures =
      server.Sipp("register_refused.xml", {"-s", "alice", "-au", "alice", "-ap", "guess"}, 10);
  EXPECT_EQ(failures.exit_code, 0) << failures.err;
  // Banned now: even the right password is refused, without a challenge.
  UdpPeer peer;
  peer.Send(server.sip_port(),
            "REGISTER sip:127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:" +
                std::to_string(peer.port()) +
                ";branch=z9hG4bK-ban\r\nFrom: <sip:alice@127.0.0.1>;tag=1\r\nTo: "
                "<sip:alice@127.0.0.1>\r\nCall-ID: ban-1\r\nCSeq: 1 REGISTER\r\nContact: "
                "<sip:alice@127.0.0.1:9>\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n");
  EXPECT_EQ(peer.FinalResponse(), "SIP/2.0 403 Forbidden");
  auto right = server.Sipp("register_ok.xml", {"-s", "alice", "-au", "alice", "-ap", kSipPassword});
  EXPECT_NE(right.exit_code, 0);
  // Counted: ten failures, one ban, the requests refused while banned.
  ASSERT_EQ(server.process().Terminate(), 0);
  EXPECT_THAT(server.process().output(), ::testing::HasSubstr("auth_failures=10 bans=1 "));
  EXPECT_THAT(server.process().output(),
              ::testing::Not(::testing::HasSubstr("banned_requests=0 ")));
}

TEST(VoiceE2eTest, MalformedMessagesGet400OrAreDroppedAndTheServerStaysUp) {
  VoiceServer server;
  ASSERT_TRUE(server.started());
  int n = 0;
  for (const auto& entry : std::filesystem::directory_iterator(kData + "/sip")) {
    if (entry.path().extension() != ".sip") continue;
    const std::string name = entry.path().filename().string();
    SCOPED_TRACE(name);
    UdpPeer peer;
    std::string text = ReadText(entry.path().string());
    ReplaceAll(&text, "\n", "\r\n");
    ReplaceAll(&text, "$LOCAL", "127.0.0.1:" + std::to_string(peer.port()));
    ReplaceAll(&text, "$PORT", std::to_string(server.sip_port()));
    ReplaceAll(&text, "$N", std::to_string(++n));
    const size_t body = text.find("\r\n\r\n");
    if (body != std::string::npos) {
      ReplaceAll(&text, "$LEN", std::to_string(text.size() - body - 4));
    }
    peer.Send(server.sip_port(), text);
    const std::string response = peer.FinalResponse(std::chrono::seconds(2));
    if (std::isdigit(static_cast<unsigned char>(name[0]))) {
      EXPECT_THAT(response, ::testing::StartsWith("SIP/2.0 " + name.substr(0, 3))) << text;
    } else {
      EXPECT_THAT(response, ::testing::AnyOf("", ::testing::StartsWith("SIP/2.0 4")));
    }
    // Still alive and answering.
    auto ping = server.Sipp("options.xml");
    ASSERT_EQ(ping.exit_code, 0) << ping.err;
  }
  EXPECT_GE(n, 8);
  // A datagram over the size limit.
  UdpPeer peer;
  std::string big =
      "OPTIONS sip:127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:" + std::to_string(peer.port()) +
      ";branch=z9hG4bK-big\r\nX-Filler: " + std::string(30000, 'x') +
      "\r\nCall-ID: big\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n";
  peer.Send(server.sip_port(), big);
  const std::string response = peer.FinalResponse(std::chrono::seconds(2));
  EXPECT_THAT(response, ::testing::AnyOf("", ::testing::StartsWith("SIP/2.0 4")));
  auto ping = server.Sipp("options.xml");
  EXPECT_EQ(ping.exit_code, 0) << ping.err;
  EXPECT_EQ(server.process().Terminate(), 0);
  // The SDP that src/sip itself refused is counted (the stack's own 400s are not).
  EXPECT_THAT(server.process().output(), ::testing::HasSubstr(" bad_requests="));
  EXPECT_THAT(server.process().output(), ::testing::Not(::testing::HasSubstr(" bad_requests=0 ")));
}

TEST(VoiceE2eTest, TrunkCallToTheEntryNumberIsAnsweredAndBecomesAContact) {
  VoiceServer server;
  ASSERT_TRUE(server.started());
  const std::string cookie = Login(server.process().port(), "admin");
  ASSERT_FALSE(cookie.empty());
  EventsClient events(server.process().port(), "/api/v1/events", cookie);
  ASSERT_TRUE(events.connected());
  auto r = server.Sipp("invite_trunk.xml",
                       {"-s", "5000", "-mi", "127.0.0.1", "-mp", std::to_string(FreePort())});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  // The call became a voice contact that ran its flow into the support queue, and the caller's
  // BYE abandoned it.
  bool queued = false, abandoned = false;
  while (auto message = events.Next(std::chrono::seconds(10))) {
    const bool voice = message->find("\"channel\":\"voice\"") != std::string::npos;
    if (voice && message->find("\"type\":\"contact.queued\"") != std::string::npos) {
      queued = true;
    }
    if (voice && message->find("\"type\":\"contact.abandoned\"") != std::string::npos) {
      abandoned = true;
    }
    if (queued && abandoned) break;
  }
  EXPECT_TRUE(queued);
  EXPECT_TRUE(abandoned);
}

TEST(VoiceE2eTest, UnknownNumberIs404) {
  VoiceServer server;
  ASSERT_TRUE(server.started());
  auto r = server.Sipp("invite_refused.xml",
                       {"-s", "9999", "-mi", "127.0.0.1", "-mp", std::to_string(FreePort())});
  EXPECT_EQ(r.exit_code, 0) << r.err;
}

// Registers alice's phone at 127.0.0.1:`phone_port` and makes her Available (as the admin whose
// session is `cookie`); "" on success, else what failed.
std::string AliceAvailableOnPhone(VoiceServer& server, int phone_port, const std::string& cookie) {
  const std::string registered =
      RegisterAlice(server.sip_port(), "sip:alice@127.0.0.1:" + std::to_string(phone_port));
  if (registered != "SIP/2.0 200 OK") return "REGISTER: " + registered;
  auto presence = Http(server.process().port(), "PUT", "/api/v1/agents/alice/presence",
                       R"({"presence":"available"})", cookie);
  if (presence.status != 200) return "presence: " + presence.body;
  return "";
}

TEST(VoiceE2eTest, CallRingsTheAgentsRegisteredPhoneWhichAnswersAndHangsUpIntoWrapUp) {
  VoiceServer server;
  ASSERT_TRUE(server.started());
  const int phone_port = FreePort();
  const int http = server.process().port();
  const std::string cookie = Login(http, "admin");
  EventsClient events(http, "/api/v1/events", cookie);
  ASSERT_TRUE(events.connected());
  ASSERT_EQ(AliceAvailableOnPhone(server, phone_port, cookie), "");
  auto phone = std::async(std::launch::async, [&] {
    return server.Sipp("agent_phone.xml", {"-mi", "127.0.0.1", "-mp", std::to_string(FreePort())},
                       1, phone_port);
  });
  auto caller = std::async(std::launch::async, [&] {
    return server.Sipp("caller_until_bye.xml",
                       {"-s", "5000", "-mi", "127.0.0.1", "-mp", std::to_string(FreePort())});
  });
  // The phone answered (the offer was accepted) and its BYE released the caller (the caller's
  // scenario ends only on Parley's BYE); the agent went into wrap-up.
  const ProcessResult phone_result = phone.get();
  EXPECT_EQ(phone_result.exit_code, 0) << phone_result.err;
  const ProcessResult caller_result = caller.get();
  EXPECT_EQ(caller_result.exit_code, 0) << caller_result.err;
  EXPECT_TRUE(WaitForEvent(events, "offer.accepted", "\"agent\":\"alice\""));
  EXPECT_TRUE(WaitForEvent(events, "wrap_up.started", "\"agent\":\"alice\""));
}

TEST(VoiceE2eTest, BusyPhoneRejectsTheOfferAndTheCallKeepsWaiting) {
  VoiceServer server;
  ASSERT_TRUE(server.started());
  const int phone_port = FreePort();
  const int http = server.process().port();
  const std::string cookie = Login(http, "admin");
  EventsClient events(http, "/api/v1/events", cookie);
  ASSERT_TRUE(events.connected());
  ASSERT_EQ(AliceAvailableOnPhone(server, phone_port, cookie), "");
  auto phone = std::async(std::launch::async,
                          [&] { return server.Sipp("agent_busy.xml", {}, 1, phone_port); });
  auto caller = std::async(std::launch::async, [&] {
    return server.Sipp("caller_until_bye.xml",
                       {"-s", "5000", "-mi", "127.0.0.1", "-mp", std::to_string(FreePort())});
  });
  EXPECT_EQ(phone.get().exit_code, 0);
  EXPECT_TRUE(WaitForEvent(events, "offer.rejected", "\"agent\":\"alice\""));
  // Stopping the server hangs the waiting caller up with a BYE.
  EXPECT_EQ(server.process().Terminate(), 0);
  const ProcessResult caller_result = caller.get();
  EXPECT_EQ(caller_result.exit_code, 0) << caller_result.err;
}

TEST(VoiceE2eTest, RingNoAnswerCancelsThePhoneAndTheCallKeepsItsPlace) {
  VoiceServer server(kData + "/voice_rona.yaml");  // offer_timeout: 3s
  ASSERT_TRUE(server.started());
  const int phone_port = FreePort();
  const int http = server.process().port();
  const std::string cookie = Login(http, "admin");
  EventsClient events(http, "/api/v1/events", cookie);
  ASSERT_TRUE(events.connected());
  ASSERT_EQ(AliceAvailableOnPhone(server, phone_port, cookie), "");
  auto phone = std::async(std::launch::async,
                          [&] { return server.Sipp("agent_no_answer.xml", {}, 1, phone_port); });
  auto caller = std::async(std::launch::async, [&] {
    return server.Sipp("caller_until_bye.xml",
                       {"-s", "5000", "-mi", "127.0.0.1", "-mp", std::to_string(FreePort())});
  });
  // The phone rang until the offer timed out, then was cancelled; the call still waits.
  const ProcessResult phone_result = phone.get();
  EXPECT_EQ(phone_result.exit_code, 0) << phone_result.err;
  EXPECT_TRUE(WaitForEvent(events, "offer.timed_out", "\"agent\":\"alice\""));
  auto contacts = Http(http, "GET", "/api/v1/contacts", "", cookie);
  EXPECT_THAT(contacts.body, ::testing::HasSubstr("\"voice\""));
  EXPECT_EQ(server.process().Terminate(), 0);
  const ProcessResult caller_result = caller.get();
  EXPECT_EQ(caller_result.exit_code, 0) << caller_result.err;
}

TEST(VoiceE2eTest, RegisterWithSha256Digest) {
  VoiceServer server;
  ASSERT_TRUE(server.started());
  EXPECT_EQ(RegisterAlice(server.sip_port(), "sip:alice@127.0.0.1:5999", /*sha256=*/true),
            "SIP/2.0 200 OK");
  EXPECT_EQ(RegisterAlice(server.sip_port(), "sip:alice@127.0.0.1:5999", /*sha256=*/true, "nope"),
            "SIP/2.0 403 Forbidden");
}

TEST(VoiceE2eTest, InviteFromAnUntrustedAddressIsChallenged) {
  VoiceServer server(kData + "/voice_no_trunk.yaml");
  ASSERT_TRUE(server.started());
  auto r = server.Sipp("invite_challenged.xml",
                       {"-s", "5000", "-mi", "127.0.0.1", "-mp", std::to_string(FreePort())});
  EXPECT_EQ(r.exit_code, 0) << r.err;
}

TEST(VoiceE2eTest, CallerHangingUpWhileThePhoneRingsCancelsThePhone) {
  VoiceServer server;
  ASSERT_TRUE(server.started());
  UdpPeer phone;  // alice's phone, on raw UDP so the test knows when it rings
  const int http = server.process().port();
  const std::string cookie = Login(http, "admin");
  EventsClient events(http, "/api/v1/events", cookie);
  ASSERT_TRUE(events.connected());
  ASSERT_EQ(AliceAvailableOnPhone(server, phone.port(), cookie), "");
  RawCaller caller(server.sip_port());
  ASSERT_EQ(caller.Call("5000"), "SIP/2.0 200 OK");
  const std::string invite = phone.ReceiveRequest("INVITE");
  ASSERT_FALSE(invite.empty());
  phone.Respond(server.sip_port(), invite, "180 Ringing");
  // The caller hangs up while the phone rings: Parley CANCELs it.
  EXPECT_EQ(caller.HangUp(), "SIP/2.0 200 OK");
  const std::string cancel = phone.ReceiveRequest("CANCEL");
  ASSERT_FALSE(cancel.empty());
  phone.Respond(server.sip_port(), cancel, "200 OK");
  phone.Respond(server.sip_port(), invite, "487 Request Terminated");
  EXPECT_FALSE(phone.ReceiveRequest("ACK").empty());
  EXPECT_TRUE(WaitForEvent(events, "contact.abandoned", "\"channel\":\"voice\""));
}

TEST(VoiceE2eTest, ReinviteIsAnsweredWithTheCurrentMedia) {
  VoiceServer server;
  ASSERT_TRUE(server.started());
  RawCaller caller(server.sip_port());
  ASSERT_EQ(caller.Call("5000"), "SIP/2.0 200 OK");
  const std::string first = caller.first_answer();
  ASSERT_THAT(first, ::testing::HasSubstr("m=audio "));
  std::string second;
  EXPECT_EQ(caller.Reinvite(&second), "SIP/2.0 200 OK") << second;
  // Same anchored endpoint (Parley's media port does not move).
  const auto media_line = [](const std::string& sdp) {
    const size_t at = sdp.find("m=audio ");
    return at == std::string::npos ? std::string() : sdp.substr(at, sdp.find("\r\n", at) - at);
  };
  EXPECT_EQ(media_line(second), media_line(first));
  EXPECT_EQ(caller.HangUp(), "SIP/2.0 200 OK");
}

// A caller whose BYE is lost (here: who never sends one, nor any RTP) is hung up by Parley when
// the media plane reports the leg inactive (30 s, media's default), so nothing stays stuck.
TEST(VoiceE2eTest, MediaInactivityEndsACallWhoseByeWasLost) {
  VoiceServer server;
  ASSERT_TRUE(server.started());
  auto r = server.Sipp("caller_until_bye.xml",
                       {"-s", "5000", "-mi", "127.0.0.1", "-mp", std::to_string(FreePort())}, 1, 0,
                       std::chrono::seconds(90));
  EXPECT_EQ(r.exit_code, 0) << r.err;  // Parley's BYE ended the scenario
  // The contact left with the call: none is open (checked until a bounded deadline, since the
  // engine hears of the hang-up on its own loop).
  const std::string cookie = Login(server.process().port(), "admin");
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  std::string body;
  do {
    body = Http(server.process().port(), "GET", "/api/v1/contacts", "", cookie).body;
  } while (body != R"({"contacts":[]})" && std::chrono::steady_clock::now() < deadline);
  EXPECT_EQ(body, R"({"contacts":[]})");
}

}  // namespace
}  // namespace parley::testing
