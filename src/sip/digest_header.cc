#include "sip/digest_header.h"

#include <cctype>

#include "base/text.h"

namespace parley::sip {

namespace {

std::string_view Trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

// A quoted-string loses its quotes and backslash escapes; nullopt when unterminated.
std::optional<std::string> Unquote(std::string_view v) {
  v = Trim(v);
  if (v.empty() || v.front() != '"') return std::string(v);
  std::string out;
  for (size_t i = 1; i < v.size(); ++i) {
    if (v[i] == '\\' && i + 1 < v.size()) {
      out += v[++i];
    } else if (v[i] == '"') {
      if (i + 1 != v.size()) return std::nullopt;
      return out;
    } else {
      out += v[i];
    }
  }
  return std::nullopt;
}

}  // namespace

std::optional<auth::DigestCredentials> ParseDigestParams(std::string_view scheme,
                                                         const std::vector<std::string>& params) {
  if (!EqualsIgnoringCase(Trim(scheme), "Digest")) return std::nullopt;
  auth::DigestCredentials c;
  std::string algorithm;
  bool have_username = false;
  for (const std::string& item : params) {
    const size_t eq = item.find('=');
    if (eq == std::string::npos) continue;
    const std::string_view name = Trim(std::string_view(item).substr(0, eq));
    auto value = Unquote(std::string_view(item).substr(eq + 1));
    if (!value || value->size() > 1024) return std::nullopt;
    if (EqualsIgnoringCase(name, "username")) {
      c.username = *value;
      have_username = true;
    } else if (EqualsIgnoringCase(name, "realm")) {
      c.realm = *value;
    } else if (EqualsIgnoringCase(name, "nonce")) {
      c.nonce = *value;
    } else if (EqualsIgnoringCase(name, "uri")) {
      c.uri = *value;
    } else if (EqualsIgnoringCase(name, "response")) {
      c.response = *value;
    } else if (EqualsIgnoringCase(name, "algorithm")) {
      algorithm = *value;
    } else if (EqualsIgnoringCase(name, "qop")) {
      c.qop = *value;
    } else if (EqualsIgnoringCase(name, "cnonce")) {
      c.cnonce = *value;
    } else if (EqualsIgnoringCase(name, "nc")) {
      c.nc = *value;
    }
  }
  if (!have_username || c.username.empty() || c.realm.empty() || c.nonce.empty() || c.uri.empty() ||
      c.response.empty()) {
    return std::nullopt;
  }
  auto a = auth::ParseDigestAlgorithm(algorithm);
  if (!a) return std::nullopt;
  c.algorithm = *a;
  if (!c.qop.empty() && (c.cnonce.empty() || c.nc.empty())) return std::nullopt;
  return c;
}

std::string DigestChallenge(auth::DigestAlgorithm algorithm, std::string_view realm,
                            std::string_view nonce, bool stale) {
  std::string s = "Digest realm=\"" + std::string(realm) + "\", nonce=\"" + std::string(nonce) +
                  "\", algorithm=" + std::string(auth::DigestAlgorithmName(algorithm)) +
                  ", qop=\"auth\"";
  if (stale) s += ", stale=true";
  return s;
}

}  // namespace parley::sip
