#pragma once
// Loss and interarrival jitter of one received RTP stream (RFC 3550 appendix A.1, A.3 and A.8).
// Plain data, one owner thread; arrival times are given by the caller, so a test can craft them.

#include <cstdint>

namespace parley::media {

class ReceiveStats {
 public:
  explicit ReceiveStats(uint32_t clock_rate) : clock_rate_(clock_rate) {}

  // One accepted packet: its sequence number and RTP timestamp, and when it arrived.
  void OnPacket(uint16_t sequence, uint32_t rtp_timestamp, int64_t arrival_us);
  // Starts over (a new source after re-INVITE or source learning).
  void Reset();

  uint64_t received() const { return received_; }
  // Expected minus received, never negative (duplicates can exceed the expected count).
  uint64_t lost() const;
  uint32_t extended_highest() const { return cycles_ + max_seq_; }
  double jitter_ms() const { return jitter_ / clock_rate_ * 1000.0; }
  uint32_t jitter_units() const { return static_cast<uint32_t>(jitter_); }
  // For RTCP report blocks: the fraction lost since the previous call, in 1/256.
  uint8_t TakeFractionLost();

 private:
  uint32_t clock_rate_;
  bool started_ = false;
  uint16_t max_seq_ = 0;
  uint32_t cycles_ = 0;
  uint32_t base_seq_ = 0;
  uint64_t received_ = 0;
  uint64_t expected_prior_ = 0;
  uint64_t received_prior_ = 0;
  int64_t last_transit_ = 0;
  double jitter_ = 0;
};

}  // namespace parley::media
