// Carriers reached over TLS (docs/voice.md, "TLS"): the real `parley serve --sip --sip-tls-port`
// dials out through a trunk with `transport: tls` to the test's own TLS SIP server (OpenSSL,
// certificates made by the openssl command for this run). Parley checks the carrier's
// certificate against --sip-tls-ca and the trunk's host: a carrier whose certificate a trusted
// CA signed for 127.0.0.1 gets the INVITE; an impostor with a self-signed certificate for the
// same address, or a certificate the CA signed for another host, gets none. Every wait is
// bounded.

#include <arpa/inet.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "tests/voice/raw_phone.h"
#include "tests/voice/voice_fixture.h"

namespace parley::testing {
namespace {

using Json = nlohmann::json;
using ::testing::HasSubstr;

// Writes into `dir` a test CA (ca.pem) and three carrier certificates, each NAME.pem with
// NAME_key.pem: `carrier`, which the CA signs for 127.0.0.1; `impostor`, self-signed for
// 127.0.0.1; `elsewhere`, which the CA signs for another host. "" when done, else what failed.
// The host is the certificate's CN without a subjectAltName: sofia-sip 1.12 matches the host
// against DNS subjectAltNames, and against the CN only when there are none.
std::string MakeCertificates(const std::string& dir) {
  const std::vector<std::string> ec = {"-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                                       "-nodes"};
  auto with = [&](std::vector<std::string> head, const std::vector<std::string>& tail) {
    head.insert(head.end(), tail.begin(), tail.end());
    return head;
  };
  auto signed_for = [&](const std::string& name, const std::string& host) {
    return std::vector<std::vector<std::string>>{
        with(with({"req"}, ec), {"-keyout", dir + "/" + name + "_key.pem", "-out",
                                 dir + "/" + name + ".csr", "-subj", "/CN=" + host}),
        {"x509", "-req", "-in", dir + "/" + name + ".csr", "-CA", dir + "/ca.pem", "-CAkey",
         dir + "/ca_key.pem", "-CAcreateserial", "-out", dir + "/" + name + ".pem", "-days", "2"}};
  };
  std::vector<std::vector<std::string>> steps = {
      with(with({"req", "-x509"}, ec), {"-keyout", dir + "/ca_key.pem", "-out", dir + "/ca.pem",
                                        "-days", "2", "-subj", "/CN=Parley Test CA"}),
      with(with({"req", "-x509"}, ec),
           {"-keyout", dir + "/impostor_key.pem", "-out", dir + "/impostor.pem", "-days", "2",
            "-subj", "/CN=127.0.0.1", "-addext", "basicConstraints=CA:FALSE"}),
  };
  for (auto& step : signed_for("carrier", "127.0.0.1")) steps.push_back(std::move(step));
  for (auto& step : signed_for("elsewhere", "carrier.example")) steps.push_back(std::move(step));
  for (const auto& step : steps) {
    const auto r = RunProgram("openssl", step, std::chrono::seconds(30));
    if (r.exit_code != 0) return "openssl " + step[0] + ": " + r.err;
  }
  return "";
}

// The carrier's SIP server over TLS on 127.0.0.1: one connection, accepted when the test says,
// SIP messages read off it and written to it.
class TlsCarrier {
 public:
  TlsCarrier(const std::string& cert, const std::string& key) {
    // Parley closing the connection mid-handshake must fail the write, not kill the test.
    signal(SIGPIPE, SIG_IGN);
    ctx_ = SSL_CTX_new(TLS_server_method());
    if (SSL_CTX_use_certificate_chain_file(ctx_, cert.c_str()) != 1 ||
        SSL_CTX_use_PrivateKey_file(ctx_, key.c_str(), SSL_FILETYPE_PEM) != 1) {
      error_ = "cannot load " + cert;
    }
    listen_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    if (bind(listen_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || listen(listen_, 4) != 0 ||
        getsockname(listen_, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
      error_ = "cannot listen";
    }
    port_ = ntohs(a.sin_port);
  }
  ~TlsCarrier() {
    if (ssl_ != nullptr) SSL_free(ssl_);
    if (fd_ >= 0) close(fd_);
    close(listen_);
    SSL_CTX_free(ctx_);
  }
  int port() const { return port_; }
  const std::string& error() const { return error_; }

  // Waits (10 s at most) for Parley to connect and runs the TLS handshake: "" once it
  // completed, else what happened instead.
  std::string Accept() {
    pollfd p{listen_, POLLIN, 0};
    if (poll(&p, 1, 10000) <= 0) return "Parley never connected";
    fd_ = accept(listen_, nullptr, nullptr);
    if (fd_ < 0) return "accept failed";
    timeval limit{10, 0};
    setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof limit);
    ssl_ = SSL_new(ctx_);
    SSL_set_fd(ssl_, fd_);
    if (SSL_accept(ssl_) != 1) {
      char text[256];
      ERR_error_string_n(ERR_get_error(), text, sizeof text);
      return std::string("handshake failed: ") + text;
    }
    return "";
  }
  // The next request `method` on the connection (others skipped); "" when none came within 10 s
  // or the connection ended.
  std::string Request(const std::string& method) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (std::chrono::steady_clock::now() < deadline) {
      const std::string m = NextMessage();
      if (m.empty()) return "";
      if (m.rfind(method + " ", 0) == 0) return m;
    }
    return "";
  }
  // Answers `request` with `status`, with our tag, a Contact over TLS and `sdp` when given.
  void Respond(const std::string& request, const std::string& status, const std::string& sdp = "") {
    std::string to = HeaderOf(request, "To");
    if (to.find(";tag=") == std::string::npos) to += ";tag=carrier";
    const std::string text =
        "SIP/2.0 " + status + "\r\nVia: " + HeaderOf(request, "Via") +
        "\r\nFrom: " + HeaderOf(request, "From") + "\r\nTo: " + to +
        "\r\nCall-ID: " + HeaderOf(request, "Call-ID") + "\r\nCSeq: " + HeaderOf(request, "CSeq") +
        "\r\nContact: <sip:carrier@127.0.0.1:" + std::to_string(port_) + ";transport=tls>\r\n" +
        (sdp.empty() ? "" : "Content-Type: application/sdp\r\n") +
        "Content-Length: " + std::to_string(sdp.size()) + "\r\n\r\n" + sdp;
    SSL_write(ssl_, text.data(), static_cast<int>(text.size()));
  }

 private:
  // One whole SIP message (headers and Content-Length's body); "" at the end of the stream.
  std::string NextMessage() {
    while (true) {
      const size_t end = buffer_.find("\r\n\r\n");
      if (end != std::string::npos) {
        const std::string length = HeaderOf(buffer_.substr(0, end + 2), "Content-Length");
        const size_t size = end + 4 + (length.empty() ? 0 : std::stoul(length));
        if (buffer_.size() >= size) {
          std::string m = buffer_.substr(0, size);
          buffer_.erase(0, size);
          return m;
        }
      }
      char chunk[4096];
      const int n = SSL_read(ssl_, chunk, sizeof chunk);
      if (n <= 0) return "";
      buffer_.append(chunk, static_cast<size_t>(n));
    }
  }

  SSL_CTX* ctx_ = nullptr;
  SSL* ssl_ = nullptr;
  int listen_ = -1;
  int fd_ = -1;
  int port_ = 0;
  std::string buffer_;
  std::string error_;
};

// A server whose outbound trunk reaches `carrier` over TLS, trusting `ca` for carriers, with
// alice Available on a raw phone.
class TlsCarrierTest : public ::testing::Test {
 protected:
  void Start(const std::string& carrier_cert) {
    ASSERT_EQ(MakeCertificates(dir_.path()), "");
    carrier_ = std::make_unique<TlsCarrier>(dir_.path() + "/" + carrier_cert + ".pem",
                                            dir_.path() + "/" + carrier_cert + "_key.pem");
    ASSERT_EQ(carrier_->error(), "");
    const int sip_port = FreePort();
    alice_ = std::make_unique<AgentPhone>(sip_port);
    server_ = std::make_unique<VoiceServer>(
        SiteWith(kData + "/voice_outbound_tls.yaml", "CARRIER_PORT",
                 std::to_string(carrier_->port()), dir_.path()),
        std::vector<std::string>{"alice"},
        std::vector<std::string>{"--sip-tls-port", std::to_string(FreePort()), "--sip-tls-cert",
                                 kData + "/tls/test_cert.pem", "--sip-tls-key",
                                 kData + "/tls/test_key.pem", "--sip-tls-ca",
                                 dir_.path() + "/ca.pem"},
        sip_port);
    ASSERT_TRUE(server_->started());
    cookie_ = Login(http(), "admin");
    events_ = std::make_unique<EventsClient>(http(), "/api/v1/events", cookie_);
    ASSERT_TRUE(events_->connected());
    ASSERT_EQ(AliceAvailableOnPhone(*server_, alice_->port(), cookie_), "");
    alice_cookie_ = Login(http(), "alice");
  }
  int http() { return server_->process().port(); }
  // Alice dials `number`; her phone rings and answers, and Parley turns to the carrier.
  void DialAndAnswer(const std::string& number) {
    const HttpResponse placed =
        Http(http(), "POST", "/api/v1/calls", Json{{"number", number}, {"queue", "sales"}}.dump(),
             alice_cookie_);
    ASSERT_EQ(placed.status, 201) << placed.body;
    ASSERT_TRUE(alice_->Answer());
  }

  TempDir dir_;
  std::unique_ptr<TlsCarrier> carrier_;
  std::unique_ptr<AgentPhone> alice_;
  std::unique_ptr<VoiceServer> server_;
  std::string cookie_, alice_cookie_;
  std::unique_ptr<EventsClient> events_;
};

TEST_F(TlsCarrierTest, ACarrierWhoseCertificateATrustedCaSignedGetsTheCallOverTls) {
  Start("carrier");
  DialAndAnswer("+442079460123");
  ASSERT_EQ(carrier_->Accept(), "");
  const std::string invite = carrier_->Request("INVITE");
  ASSERT_FALSE(invite.empty());
  EXPECT_EQ(invite.substr(0, invite.find("\r\n")),
            "INVITE sips:+442079460123@127.0.0.1:" + std::to_string(carrier_->port()) +
                ";transport=tls SIP/2.0");
  EXPECT_THAT(HeaderOf(invite, "Via"), ::testing::StartsWith("SIP/2.0/TLS "));
  carrier_->Respond(invite, "200 OK",
                    "v=0\r\no=- 7 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
                    "m=audio " +
                        std::to_string(FreePort()) + " RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n");
  EXPECT_FALSE(carrier_->Request("ACK").empty());
  EXPECT_TRUE(WaitForEvent(*events_, "outbound.answered", "+442079460123"));
  // Alice hangs up: the carrier gets the BYE over the same TLS connection.
  EXPECT_EQ(alice_->HangUp().substr(0, 14), "SIP/2.0 200 OK");
  const std::string bye = carrier_->Request("BYE");
  ASSERT_FALSE(bye.empty());
  carrier_->Respond(bye, "200 OK");
  EXPECT_EQ(AgentSettled(http(), cookie_, "alice"), "available wrap-up");
}

// Parley closes the connection once it has the peer's certificate: no INVITE reaches a server
// whose certificate does not chain to --sip-tls-ca (an impostor on the carrier's address), nor
// one that a trusted CA signed for another host. Alice, who hears nothing, hangs up and wraps
// up. (Left alone, the INVITE's transaction ends after 32 s and the call fails.)
TEST_F(TlsCarrierTest, AnImpostorWithASelfSignedCertificateGetsNoInvite) {
  Start("impostor");
  DialAndAnswer("+442079460124");
  (void)carrier_->Accept();  // the handshake may complete: the check comes after it
  EXPECT_EQ(carrier_->Request("INVITE"), "");
  EXPECT_EQ(alice_->HangUp().substr(0, 14), "SIP/2.0 200 OK");
  EXPECT_EQ(AgentSettled(http(), cookie_, "alice"), "available wrap-up");
}

TEST_F(TlsCarrierTest, ACertificateForAnotherHostGetsNoInvite) {
  Start("elsewhere");
  DialAndAnswer("+442079460125");
  (void)carrier_->Accept();
  EXPECT_EQ(carrier_->Request("INVITE"), "");
  EXPECT_EQ(alice_->HangUp().substr(0, 14), "SIP/2.0 200 OK");
  EXPECT_EQ(AgentSettled(http(), cookie_, "alice"), "available wrap-up");
}

// A trunk reached over TLS needs SIP over TLS: without --sip-tls-port the server refuses to
// start and says why, rather than failing every outbound call.
TEST(TlsCarrierStartTest, ATlsTrunkWithoutSipOverTlsRefusesToStart) {
  TempDir dir;
  const std::string site =
      SiteWith(kData + "/voice_outbound_tls.yaml", "CARRIER_PORT", "5061", dir.path());
  const auto r = RunProgram(PARLEY_BINARY,
                            {"serve", "--config", site, "--data", dir.path() + "/data", "--http",
                             "127.0.0.1:0", "--sip", "127.0.0.1:" + std::to_string(FreePort())},
                            std::chrono::seconds(30));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("voice trunk 'carrier' reaches its carrier over TLS"));
}

}  // namespace
}  // namespace parley::testing
