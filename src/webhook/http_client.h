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
  std::string host;
  std::string port;    // "80" by default
  std::string target;  // "/" by default; path and query
};
// Parses an http:// URL; kInvalidArgument naming what is wrong (https:// is not supported yet).
[[nodiscard]] Result<HttpUrl> ParseHttpUrl(const std::string& url);

// HTTP/1.1 POST over a new TCP connection per request (Boost.Beast, async operations on a private
// io_context run on the calling thread, so `timeout` bounds connect, write and read together).
// Stateless and thread-safe. Response bodies are read up to 1 MiB and discarded.
class BeastHttpPoster final : public HttpPoster {
 public:
  Result<int> Post(const HttpRequest& request, Duration timeout) override;
};

}  // namespace parley::webhook
