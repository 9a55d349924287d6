#include "webhook/signature.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <cctype>

namespace parley::webhook {

std::string HmacSha256Hex(std::string_view secret, std::string_view body) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  // HMAC() with a NULL key pointer is undefined for some OpenSSL versions: pass a valid one.
  static const unsigned char kEmpty = 0;
  HMAC(EVP_sha256(),
       secret.empty() ? &kEmpty : reinterpret_cast<const unsigned char*>(secret.data()),
       static_cast<int>(secret.size()), reinterpret_cast<const unsigned char*>(body.data()),
       body.size(), digest, &length);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(2 * length);
  for (unsigned int i = 0; i < length; ++i) {
    out.push_back(kHex[digest[i] >> 4]);
    out.push_back(kHex[digest[i] & 0xf]);
  }
  return out;
}

std::string SignatureHeaderValue(std::string_view secret, std::string_view body) {
  return "sha256=" + HmacSha256Hex(secret, body);
}

bool VerifySignature(std::string_view secret, std::string_view body,
                     std::string_view header_value) {
  constexpr std::string_view kPrefix = "sha256=";
  if (header_value.substr(0, kPrefix.size()) != kPrefix) return false;
  std::string given(header_value.substr(kPrefix.size()));
  for (char& c : given) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  const std::string expected = HmacSha256Hex(secret, body);
  if (given.size() != expected.size()) return false;
  return CRYPTO_memcmp(given.data(), expected.data(), expected.size()) == 0;
}

}  // namespace parley::webhook
