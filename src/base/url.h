#pragma once
// http:// and https:// URLs as Parley's outgoing HTTP uses them (webhooks, flow lookups): one
// parser, so the configuration refuses exactly what the client could not send. Pure; thread-safe.

#include <string>
#include <string_view>

#include "base/status.h"

namespace parley {

struct HttpUrl {
  bool tls = false;  // https://
  std::string host;
  std::string port;    // "80" (http) or "443" (https) by default
  std::string target;  // "/" by default; path and query (a "#fragment" is dropped)
};

// Parses an http:// or https:// URL (lower-case scheme). kInvalidArgument saying what is wrong,
// without repeating the URL (its query may hold a key): another scheme, no host, credentials
// ("user:password@host" is refused: a lookup or webhook sends none), a bad port (1-65535), an
// unclosed "[" of an IPv6 host, or a space or control character anywhere.
[[nodiscard]] Result<HttpUrl> ParseHttpUrl(std::string_view url);

}  // namespace parley
