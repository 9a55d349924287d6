// Fuzz harness: RTP packets, RFC 4733 payloads and compound RTCP, as they arrive from the network.

#include "media/rtp.h"

#include <array>
#include <cstdint>
#include <span>

#include "media/receive_stats.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::span<const uint8_t> in(data, size);
  if (auto p = parley::media::ParseRtp(in)) {
    (void)parley::media::ParseTelephoneEvent(p->payload);
    parley::media::ReceiveStats stats(8000);
    stats.OnPacket(p->header.sequence, p->header.timestamp, 0);
    stats.OnPacket(static_cast<uint16_t>(p->header.sequence + p->payload.size()), p->header.ssrc,
                   static_cast<int64_t>(p->header.timestamp));
    (void)stats.lost();
    std::array<uint8_t, 1600> out{};
    (void)parley::media::WriteRtp(p->header, p->payload, out);
  }
  (void)parley::media::ParseRtcp(in);
  return 0;
}
