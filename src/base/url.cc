#include "base/url.h"

#include <algorithm>

namespace parley {

Result<HttpUrl> ParseHttpUrl(std::string_view url) {
  HttpUrl out;
  std::string_view rest;
  if (url.substr(0, 8) == "https://") {
    out.tls = true;
    rest = url.substr(8);
  } else if (url.substr(0, 7) == "http://") {
    rest = url.substr(7);
  } else {
    return InvalidArgument("must start with http:// or https://");
  }
  if (std::any_of(url.begin(), url.end(), [](char c) {
        const auto u = static_cast<unsigned char>(c);
        return u <= 0x20 || u == 0x7f;
      })) {
    return InvalidArgument("contains a space or control character (percent-encode it)");
  }
  const size_t slash = rest.find_first_of("/?#");
  const std::string_view authority = rest.substr(0, slash);
  std::string_view target = slash == std::string_view::npos ? "" : rest.substr(slash);
  target = target.substr(0, target.find('#'));
  if (target.empty() || target.front() != '/') out.target = "/";
  out.target.append(target);
  if (authority.find('@') != std::string_view::npos) {
    return InvalidArgument(
        "carries credentials (user info before '@'), which are not supported; send a key as a "
        "query parameter or with the request instead");
  }
  if (authority.empty()) return InvalidArgument("has no host");
  // [v6]:port or host:port
  size_t colon = std::string_view::npos;
  if (authority.front() == '[') {
    const size_t close = authority.find(']');
    if (close == std::string_view::npos) return InvalidArgument("has an unclosed '[' in its host");
    out.host = std::string(authority.substr(1, close - 1));
    if (close + 1 < authority.size()) {
      if (authority[close + 1] != ':') {
        return InvalidArgument("has something other than ':port' after its IPv6 host");
      }
      colon = close + 1;
    }
  } else {
    colon = authority.rfind(':');
    out.host = std::string(authority.substr(0, colon));
  }
  if (out.host.empty()) return InvalidArgument("has no host");
  out.port = colon == std::string_view::npos ? (out.tls ? "443" : "80")
                                             : std::string(authority.substr(colon + 1));
  const bool digits = !out.port.empty() && out.port.size() <= 5 &&
                      out.port.find_first_not_of("0123456789") == std::string::npos;
  if (!digits || std::stoi(out.port) == 0 || std::stoi(out.port) > 65535) {
    return InvalidArgument("has a bad port '" + out.port + "' (expected 1-65535)");
  }
  return out;
}

}  // namespace parley
