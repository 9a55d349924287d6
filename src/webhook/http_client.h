#pragma once
// The HTTP client the webhook dispatcher posts with: an interface (so tests and other transports
// can stand in) and a Boost.Beast implementation for http:// URLs.

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "base/status.h"
#include "base/time.h"

namespace parley::webhook {

struct HttpRequest {
  std::string url;  // http://host[:port][/path]
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
};

// Posts one request and returns the response's status code. Implementations may block the
// calling thread for up to `timeout`; they must be usable from one thread at a time at least.
class HttpPoster {
 public:
  virtual ~HttpPoster() = default;
  // The status code (any, 2xx or not); kUnavailable when no response arrived (resolve, connect,
  // write or read failed, or `timeout` passed); kInvalidArgument for a URL it cannot post to.
  virtual Result<int> Post(const HttpRequest& request, Duration timeout) = 0;
};
using HttpPosterPtr = std::unique_ptr<HttpPoster>;

struct HttpUrl {
  bool tls = false;  // https://
  std::string host;
  std::string port;    // "80" (http) or "443" (https) by default
  std::string target;  // "/" by default; path and query
};
// Parses an http:// or https:// URL; kInvalidArgument naming what is wrong.
[[nodiscard]] Result<HttpUrl> ParseHttpUrl(const std::string& url);

struct TlsOptions {
  // PEM certificates trusted in addition to the system's (tests, private CAs).
  std::string extra_ca_pem;
};

// HTTP/1.1 POST over a new connection per request (Boost.Beast, async operations on a private
// io_context run on the calling thread, so `timeout` bounds connect, TLS handshake, write and read
// together). https:// verifies the server's certificate chain against the system's trust store
// (plus `extra_ca_pem`) and its name against the URL's host, and sends SNI. Thread-safe: the TLS
// context is built once and only read afterwards. Response bodies are read up to 1 MiB and
// discarded.
class BeastHttpPoster final : public HttpPoster {
 public:
  BeastHttpPoster();
  explicit BeastHttpPoster(const TlsOptions& tls);
  ~BeastHttpPoster() override;
  BeastHttpPoster(const BeastHttpPoster&) = delete;
  BeastHttpPoster& operator=(const BeastHttpPoster&) = delete;

  // kInternal if `tls.extra_ca_pem` did not parse (checked once; every Post then fails with it).
  Status tls_status() const { return tls_status_; }

  Result<int> Post(const HttpRequest& request, Duration timeout) override;

 private:
  struct Tls;
  std::unique_ptr<Tls> tls_;
  Status tls_status_;
};

}  // namespace parley::webhook
