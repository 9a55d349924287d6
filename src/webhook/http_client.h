#pragma once
// The server's outgoing HTTP client: an interface for the webhook dispatcher's posts (so tests
// and other transports can stand in), and a Boost.Beast implementation for http:// and https://
// URLs that also sends the contact flows' lookups (lookup_client.h): any method, a response body
// read up to a limit, a deadline, and cancellation from another thread.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "base/status.h"
#include "base/time.h"
#include "base/url.h"

namespace parley::webhook {

struct HttpRequest {
  std::string method = "POST";  // "GET" or "POST"; HttpPoster::Post always posts
  std::string url;              // http[s]://host[:port][/path][?query]
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;  // sent with POST only
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

// URLs: HttpUrl and ParseHttpUrl (base/url.h), shared with the configuration's checks.

struct TlsOptions {
  // PEM certificates trusted in addition to the system's (tests, private CAs).
  std::string extra_ca_pem;
};

// Stops one exchange (HttpExchange below) from another thread. Shared between the thread that
// runs the exchange and the one that may cancel it; thread-safe.
class HttpCancel {
 public:
  // Idempotent. The exchange, if running, stops at once (its io_context is stopped) and reports
  // HttpFailure::kCancelled; one not yet started reports it without connecting.
  void Cancel();
  bool cancelled() const;

 private:
  friend class BeastHttpPoster;
  // Registers how to stop the running exchange; false when already cancelled.
  bool Attach(std::function<void()> stop);
  void Detach();  // after it returns, `stop` is never called again

  mutable std::mutex mu_;
  bool cancelled_ = false;      // GUARDED_BY(mu_)
  std::function<void()> stop_;  // GUARDED_BY(mu_)
};

// Why an exchange got no usable response.
enum class HttpFailure : uint8_t {
  kNone,       // a response: `status` and `body` hold it (any status code)
  kBadUrl,     // not an http:// or https:// URL, or a method other than GET and POST
  kResolve,    // the host name did not resolve
  kConnect,    // refused or unreachable
  kTls,        // handshake or certificate verification failed, or no TLS context
  kTransfer,   // the connection broke while writing or reading, or the response was malformed
  kTimeout,    // the deadline passed (at any stage)
  kTooLarge,   // the response body was over the limit
  kCancelled,  // HttpCancel::Cancel
};
const char* HttpFailureName(HttpFailure failure);  // "none", "bad_url", ..., "cancelled"

struct HttpExchange {
  HttpFailure failure = HttpFailure::kNone;
  // Where it stopped ("url", "resolve", "connect", "TLS handshake", "write", "read") and what
  // failed there, for people, without the URL (which may carry credentials): "Connection
  // refused", "timed out", "response body over 262144 bytes".
  std::string stage;
  std::string error;
  int status = 0;
  std::string body;
  bool ok() const { return failure == HttpFailure::kNone; }
  std::string Describe() const { return stage + ": " + error; }  // "connect: Connection refused"
};

struct ExchangeOptions {
  size_t max_body_bytes = 1 << 20;  // a longer response body fails with kTooLarge
  HttpCancel* cancel = nullptr;     // optional; must outlive the call
};

// HTTP/1.1 over a new connection per request (Boost.Beast, async operations on a private
// io_context run on the calling thread, so `timeout` bounds resolve, connect, TLS handshake,
// write and read together). https:// verifies the server's certificate chain against the
// system's trust store (plus `extra_ca_pem`) and its name against the URL's host, and sends SNI.
// Thread-safe: the TLS context is built once and only read afterwards. A host name that the
// system resolver hangs on holds the calling thread until the resolver gives up, even past
// `timeout` (getaddrinfo cannot be interrupted); the result is still kTimeout.
class BeastHttpPoster final : public HttpPoster {
 public:
  BeastHttpPoster();
  explicit BeastHttpPoster(const TlsOptions& tls);
  ~BeastHttpPoster() override;
  BeastHttpPoster(const BeastHttpPoster&) = delete;
  BeastHttpPoster& operator=(const BeastHttpPoster&) = delete;

  // kInternal if `tls.extra_ca_pem` did not parse (checked once; every https:// request then
  // fails with it).
  Status tls_status() const { return tls_status_; }

  // A POST whose response body is read up to 1 MiB and discarded.
  Result<int> Post(const HttpRequest& request, Duration timeout) override;

  // One request with `request.method`; blocks the calling thread until the response, a failure,
  // `timeout` or a cancellation.
  HttpExchange Exchange(const HttpRequest& request, Duration timeout,
                        const ExchangeOptions& options = {});

 private:
  struct Tls;
  std::unique_ptr<Tls> tls_;
  Status tls_status_;
};

}  // namespace parley::webhook
