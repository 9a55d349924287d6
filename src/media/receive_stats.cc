#include "media/receive_stats.h"

#include <cstdlib>

namespace parley::media {

void ReceiveStats::Reset() {
  const uint32_t rate = clock_rate_;
  *this = ReceiveStats(rate);
}

void ReceiveStats::OnPacket(uint16_t sequence, uint32_t rtp_timestamp, int64_t arrival_us) {
  // Arrival in RTP units; transit differences cancel the unknown offset between the clocks.
  const int64_t arrival = arrival_us * clock_rate_ / 1'000'000;
  const int64_t transit = arrival - static_cast<int64_t>(rtp_timestamp);
  if (!started_) {
    started_ = true;
    max_seq_ = sequence;
    base_seq_ = sequence;
    received_ = 1;
    last_transit_ = transit;
    return;
  }
  const auto delta = static_cast<uint16_t>(sequence - max_seq_);
  if (delta < 0x8000) {  // in order, possibly with a gap
    if (sequence < max_seq_) cycles_ += 65536;
    max_seq_ = sequence;
  }  // else: late or duplicate; counted as received, does not move the highest
  ++received_;
  // Jitter uses the (wrapping) RTP timestamp difference as a signed 32-bit quantity.
  const auto d32 = static_cast<int32_t>(static_cast<uint32_t>(transit - last_transit_));
  last_transit_ = transit;
  const double d = std::abs(static_cast<double>(d32));
  jitter_ += (d - jitter_) / 16.0;
}

uint64_t ReceiveStats::lost() const {
  if (!started_) return 0;
  const uint64_t expected = static_cast<uint64_t>(extended_highest()) - base_seq_ + 1;
  return expected > received_ ? expected - received_ : 0;
}

uint8_t ReceiveStats::TakeFractionLost() {
  if (!started_) return 0;
  const uint64_t expected = static_cast<uint64_t>(extended_highest()) - base_seq_ + 1;
  const uint64_t expected_interval = expected - expected_prior_;
  const uint64_t received_interval = received_ - received_prior_;
  expected_prior_ = expected;
  received_prior_ = received_;
  if (expected_interval == 0 || received_interval >= expected_interval) return 0;
  return static_cast<uint8_t>(((expected_interval - received_interval) << 8) / expected_interval);
}

}  // namespace parley::media
