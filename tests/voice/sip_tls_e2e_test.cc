// SIP over TLS (`parley serve --sip-tls-port`): requests over a real TLS connection (OpenSSL as
// the client) get the same answers as over UDP, and a server asked for TLS without a certificate
// refuses to start.

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
#include <string>

#include "tests/voice/voice_fixture.h"

namespace parley::testing {
namespace {

// Sends `request` over TLS to 127.0.0.1:`port` and returns what came back up to the end of the
// first response's headers ("" on any failure, with the reason in `error`). The server's
// certificate is not verified: the test's own self-signed one.
std::string TlsExchange(int port, const std::string& request, std::string* error) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(static_cast<uint16_t>(port));
  if (connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    *error = "cannot connect";
    close(fd);
    return "";
  }
  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  SSL* ssl = SSL_new(ctx);
  SSL_set_fd(ssl, fd);
  std::string reply;
  if (SSL_connect(ssl) != 1) {
    *error = "TLS handshake failed: " + std::to_string(ERR_get_error());
  } else if (SSL_write(ssl, request.data(), static_cast<int>(request.size())) <= 0) {
    *error = "TLS write failed";
  } else {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    char buffer[4096];
    while (reply.find("\r\n\r\n") == std::string::npos &&
           std::chrono::steady_clock::now() < deadline) {
      pollfd p{fd, POLLIN, 0};
      if (SSL_pending(ssl) == 0 && poll(&p, 1, 200) <= 0) continue;
      const int n = SSL_read(ssl, buffer, sizeof buffer);
      if (n <= 0) break;
      reply.append(buffer, static_cast<size_t>(n));
    }
    if (reply.empty()) *error = "no answer within 10 s";
  }
  SSL_free(ssl);
  SSL_CTX_free(ctx);
  close(fd);
  return reply;
}

std::string Request(const std::string& method, int port, const std::string& call_id) {
  return method + " sip:" + (method == "REGISTER" ? "" : "parley@") +
         "127.0.0.1:" + std::to_string(port) +
         " SIP/2.0\r\n"
         "Via: SIP/2.0/TLS 127.0.0.1:5999;branch=z9hG4bK-" +
         call_id +
         ";rport\r\n"
         "From: <sip:alice@127.0.0.1>;tag=" +
         call_id +
         "\r\n"
         "To: <sip:alice@127.0.0.1>\r\n"
         "Call-ID: " +
         call_id + "\r\nCSeq: 1 " + method +
         "\r\n"
         "Contact: <sip:alice@127.0.0.1:5999;transport=tls>\r\n"
         "Max-Forwards: 70\r\nContent-Length: 0\r\n\r\n";
}

TEST(SipTlsE2eTest, OptionsAndAChallengedRegisterOverTls) {
  const int tls_port = FreePort();
  VoiceServer server(kData + "/voice.yaml", {"alice"},
                     {"--sip-tls-port", std::to_string(tls_port), "--sip-tls-cert",
                      kData + "/tls/test_cert.pem", "--sip-tls-key", kData + "/tls/test_key.pem"});
  ASSERT_TRUE(server.started());
  std::string error;
  const std::string options = TlsExchange(tls_port, Request("OPTIONS", tls_port, "tls1"), &error);
  EXPECT_THAT(options, ::testing::StartsWith("SIP/2.0 200 OK\r\n")) << error;
  // The same digest challenge as over UDP: TLS encrypts, it does not authenticate.
  const std::string reg = TlsExchange(tls_port, Request("REGISTER", tls_port, "tls2"), &error);
  EXPECT_THAT(reg, ::testing::StartsWith("SIP/2.0 401 Unauthorized\r\n")) << error;
  EXPECT_THAT(reg, ::testing::HasSubstr("WWW-Authenticate: Digest"));
  // Plain SIP keeps working beside it.
  const auto udp = server.Sipp("options.xml");
  EXPECT_EQ(udp.exit_code, 0) << udp.err;
  EXPECT_THAT(server.process().output(),
              ::testing::HasSubstr("SIP over TLS on 127.0.0.1:" + std::to_string(tls_port)));
  EXPECT_EQ(server.process().Terminate(), 0);
}

TEST(SipTlsE2eTest, TlsWithoutACertificateRefusesToStart) {
  TempDir dir;
  const auto r = RunProgram(
      PARLEY_BINARY,
      {"serve", "--data", dir.path() + "/data", "--http", "127.0.0.1:0", "--sip",
       "127.0.0.1:" + std::to_string(FreePort()), "--sip-tls-port", std::to_string(FreePort())},
      std::chrono::seconds(30));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, ::testing::HasSubstr("SIP over TLS needs a certificate and key"));
}

}  // namespace
}  // namespace parley::testing
