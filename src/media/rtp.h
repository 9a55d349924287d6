#pragma once
// RTP (RFC 3550), RTCP sender/receiver reports and RFC 4733 telephone events on the wire: small,
// bounds-checked parsers and writers over caller-owned buffers. Pure functions, no allocation;
// untrusted bytes give std::nullopt, never a read past the end.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

namespace parley::media {

constexpr size_t kRtpHeaderSize = 12;

struct RtpHeader {
  bool marker = false;
  uint8_t payload_type = 0;
  uint16_t sequence = 0;
  uint32_t timestamp = 0;
  uint32_t ssrc = 0;
};

struct RtpPacket {
  RtpHeader header;
  std::span<const uint8_t> payload;  // after CSRCs, extension and padding are removed
};

// Parses an RTP packet (version 2; CSRC list, header extension and padding handled). Returns
// nullopt for anything malformed, including RTCP packet types (200..204) sent to the RTP port.
std::optional<RtpPacket> ParseRtp(std::span<const uint8_t> data);

// Writes a 12-byte header (no CSRC, extension or padding) followed by the payload into `out`.
// Returns the packet size, or 0 when `out` is too small.
size_t WriteRtp(const RtpHeader& header, std::span<const uint8_t> payload, std::span<uint8_t> out);

// RFC 4733 section 2.3: one named event.
struct TelephoneEvent {
  uint8_t event = 0;  // 0-9 digits, 10 '*', 11 '#', 12-15 A-D
  bool end = false;
  uint8_t volume = 0;     // 0..63, -dBm0
  uint16_t duration = 0;  // in RTP timestamp units
};

std::optional<TelephoneEvent> ParseTelephoneEvent(std::span<const uint8_t> payload);
// Writes the 4-byte payload; returns 4, or 0 when `out` is too small.
size_t WriteTelephoneEvent(const TelephoneEvent& event, std::span<uint8_t> out);
// '0'..'9', '*', '#', 'A'..'D' for events 0..15; 0 for other events.
char EventToDigit(uint8_t event);
// The inverse; -1 for characters that are not DTMF digits.
int DigitToEvent(char digit);

// RTCP (RFC 3550 section 6.4): one report block.
struct ReportBlock {
  uint32_t ssrc = 0;
  uint8_t fraction_lost = 0;
  int32_t cumulative_lost = 0;  // 24-bit signed on the wire
  uint32_t highest_sequence = 0;
  uint32_t jitter = 0;
  uint32_t last_sr = 0;
  uint32_t delay_since_last_sr = 0;
};

struct SenderInfo {
  uint64_t ntp_timestamp = 0;
  uint32_t rtp_timestamp = 0;
  uint32_t packet_count = 0;
  uint32_t octet_count = 0;
};

// The first SR or RR of a compound packet (what we read from peers).
struct RtcpReport {
  uint32_t ssrc = 0;
  std::optional<SenderInfo> sender;  // present for SR
  std::optional<ReportBlock> block;  // the first report block, if any
};

// Walks a compound RTCP packet, checking every length, and returns its first SR/RR. nullopt when
// any part is malformed or there is no SR/RR.
std::optional<RtcpReport> ParseRtcp(std::span<const uint8_t> data);

// Writes an SR (when `sender` is set) or an RR with at most one report block. Returns the size,
// or 0 when `out` is too small.
size_t WriteRtcpReport(uint32_t ssrc, const std::optional<SenderInfo>& sender,
                       const std::optional<ReportBlock>& block, std::span<uint8_t> out);

}  // namespace parley::media
