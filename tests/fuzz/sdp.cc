// Fuzz harness: SDP offers and answers as src/sip reads them from INVITEs and 200s.

#include "sip/sdp.h"

#include <cstdint>
#include <string_view>

#include "sip/digest_header.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto sdp = parley::sip::ParseSdp(text);
  if (!sdp.ok()) {
    if (sdp.status().message().empty()) __builtin_trap();
    return 0;
  }
  auto negotiated = parley::sip::Negotiate(*sdp);
  if (negotiated.ok()) {
    // Our answer to what we accepted must parse back to the same format.
    auto answer = parley::sip::ParseSdp(
        parley::sip::BuildSdp({"127.0.0.1", 20000}, negotiated->format, 1, 1));
    if (!answer.ok()) __builtin_trap();
    auto again = parley::sip::Negotiate(*answer);
    if (!again.ok() || !(again->format == negotiated->format)) __builtin_trap();
  }
  // The same bytes as Authorization parameters, split on commas.
  std::vector<std::string> params;
  size_t start = 0;
  for (size_t i = 0; i <= text.size() && params.size() < 64; ++i) {
    if (i == text.size() || text[i] == ',') {
      params.emplace_back(text.substr(start, i - start));
      start = i + 1;
    }
  }
  (void)parley::sip::ParseDigestParams("Digest", params);
  return 0;
}
