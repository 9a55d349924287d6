#include "media/rtp.h"

#include <cstring>

namespace parley::media {
namespace {

uint16_t Get16(const uint8_t* p) { return static_cast<uint16_t>((p[0] << 8) | p[1]); }
uint32_t Get32(const uint8_t* p) {
  return (static_cast<uint32_t>(p[0]) << 24) | (static_cast<uint32_t>(p[1]) << 16) |
         (static_cast<uint32_t>(p[2]) << 8) | p[3];
}
void Put16(uint8_t* p, uint16_t v) {
  p[0] = static_cast<uint8_t>(v >> 8);
  p[1] = static_cast<uint8_t>(v);
}
void Put32(uint8_t* p, uint32_t v) {
  p[0] = static_cast<uint8_t>(v >> 24);
  p[1] = static_cast<uint8_t>(v >> 16);
  p[2] = static_cast<uint8_t>(v >> 8);
  p[3] = static_cast<uint8_t>(v);
}

}  // namespace

std::optional<RtpPacket> ParseRtp(std::span<const uint8_t> data) {
  if (data.size() < kRtpHeaderSize) return std::nullopt;
  const uint8_t* p = data.data();
  if ((p[0] >> 6) != 2) return std::nullopt;
  const bool padding = (p[0] & 0x20) != 0;
  const bool extension = (p[0] & 0x10) != 0;
  const size_t csrc_count = p[0] & 0x0f;
  // Payload types 72..76 with the marker bit are RTCP SR/RR/SDES/BYE/APP (RFC 5761).
  if (p[1] >= 200 && p[1] <= 204) return std::nullopt;
  RtpPacket packet;
  packet.header.marker = (p[1] & 0x80) != 0;
  packet.header.payload_type = p[1] & 0x7f;
  packet.header.sequence = Get16(p + 2);
  packet.header.timestamp = Get32(p + 4);
  packet.header.ssrc = Get32(p + 8);
  size_t offset = kRtpHeaderSize + 4 * csrc_count;
  if (offset > data.size()) return std::nullopt;
  if (extension) {
    if (offset + 4 > data.size()) return std::nullopt;
    const size_t words = Get16(p + offset + 2);
    offset += 4 + 4 * words;
    if (offset > data.size()) return std::nullopt;
  }
  size_t end = data.size();
  if (padding) {
    const size_t pad = p[end - 1];
    if (pad == 0 || pad > end - offset) return std::nullopt;
    end -= pad;
  }
  packet.payload = data.subspan(offset, end - offset);
  return packet;
}

size_t WriteRtp(const RtpHeader& header, std::span<const uint8_t> payload, std::span<uint8_t> out) {
  const size_t size = kRtpHeaderSize + payload.size();
  if (out.size() < size) return 0;
  uint8_t* p = out.data();
  p[0] = 0x80;
  p[1] = static_cast<uint8_t>((header.marker ? 0x80 : 0) | (header.payload_type & 0x7f));
  Put16(p + 2, header.sequence);
  Put32(p + 4, header.timestamp);
  Put32(p + 8, header.ssrc);
  if (!payload.empty()) std::memcpy(p + kRtpHeaderSize, payload.data(), payload.size());
  return size;
}

std::optional<TelephoneEvent> ParseTelephoneEvent(std::span<const uint8_t> payload) {
  if (payload.size() < 4) return std::nullopt;
  TelephoneEvent e;
  e.event = payload[0];
  e.end = (payload[1] & 0x80) != 0;
  e.volume = payload[1] & 0x3f;
  e.duration = Get16(payload.data() + 2);
  return e;
}

size_t WriteTelephoneEvent(const TelephoneEvent& event, std::span<uint8_t> out) {
  if (out.size() < 4) return 0;
  out[0] = event.event;
  out[1] = static_cast<uint8_t>((event.end ? 0x80 : 0) | (event.volume & 0x3f));
  Put16(out.data() + 2, event.duration);
  return 4;
}

char EventToDigit(uint8_t event) {
  static constexpr char kDigits[] = "0123456789*#ABCD";
  return event < 16 ? kDigits[event] : 0;
}

int DigitToEvent(char digit) {
  if (digit >= '0' && digit <= '9') return digit - '0';
  if (digit == '*') return 10;
  if (digit == '#') return 11;
  if (digit >= 'A' && digit <= 'D') return 12 + (digit - 'A');
  if (digit >= 'a' && digit <= 'd') return 12 + (digit - 'a');
  return -1;
}

std::optional<RtcpReport> ParseRtcp(std::span<const uint8_t> data) {
  std::optional<RtcpReport> first;
  size_t offset = 0;
  if (data.size() < 8) return std::nullopt;
  while (offset < data.size()) {
    if (data.size() - offset < 4) return std::nullopt;
    const uint8_t* p = data.data() + offset;
    if ((p[0] >> 6) != 2) return std::nullopt;
    const size_t count = p[0] & 0x1f;
    const uint8_t type = p[1];
    const size_t length = (static_cast<size_t>(Get16(p + 2)) + 1) * 4;
    if (length > data.size() - offset) return std::nullopt;
    if (!first && (type == 200 || type == 201)) {
      RtcpReport report;
      size_t need = 8;
      if (type == 200) need += 20;
      if (count > 0) need += 24;
      if (length < need) return std::nullopt;
      report.ssrc = Get32(p + 4);
      size_t at = 8;
      if (type == 200) {
        SenderInfo s;
        s.ntp_timestamp = (static_cast<uint64_t>(Get32(p + 8)) << 32) | Get32(p + 12);
        s.rtp_timestamp = Get32(p + 16);
        s.packet_count = Get32(p + 20);
        s.octet_count = Get32(p + 24);
        report.sender = s;
        at = 28;
      }
      if (count > 0) {
        const uint8_t* b = p + at;
        ReportBlock block;
        block.ssrc = Get32(b);
        block.fraction_lost = b[4];
        uint32_t lost = (static_cast<uint32_t>(b[5]) << 16) | (b[6] << 8) | b[7];
        if (lost & 0x800000) lost |= 0xff000000u;
        block.cumulative_lost = static_cast<int32_t>(lost);
        block.highest_sequence = Get32(b + 8);
        block.jitter = Get32(b + 12);
        block.last_sr = Get32(b + 16);
        block.delay_since_last_sr = Get32(b + 20);
        report.block = block;
      }
      first = report;
    }
    offset += length;
  }
  return first;
}

size_t WriteRtcpReport(uint32_t ssrc, const std::optional<SenderInfo>& sender,
                       const std::optional<ReportBlock>& block, std::span<uint8_t> out) {
  const size_t size = 8 + (sender ? 20 : 0) + (block ? 24 : 0);
  if (out.size() < size) return 0;
  uint8_t* p = out.data();
  p[0] = static_cast<uint8_t>(0x80 | (block ? 1 : 0));
  p[1] = sender ? 200 : 201;
  Put16(p + 2, static_cast<uint16_t>(size / 4 - 1));
  Put32(p + 4, ssrc);
  size_t at = 8;
  if (sender) {
    Put32(p + 8, static_cast<uint32_t>(sender->ntp_timestamp >> 32));
    Put32(p + 12, static_cast<uint32_t>(sender->ntp_timestamp));
    Put32(p + 16, sender->rtp_timestamp);
    Put32(p + 20, sender->packet_count);
    Put32(p + 24, sender->octet_count);
    at = 28;
  }
  if (block) {
    uint8_t* b = p + at;
    Put32(b, block->ssrc);
    b[4] = block->fraction_lost;
    int32_t lost = block->cumulative_lost;
    if (lost > 0x7fffff) lost = 0x7fffff;
    if (lost < -0x800000) lost = -0x800000;
    const auto bits = static_cast<uint32_t>(lost) & 0xffffff;
    b[5] = static_cast<uint8_t>(bits >> 16);
    b[6] = static_cast<uint8_t>(bits >> 8);
    b[7] = static_cast<uint8_t>(bits);
    Put32(b + 8, block->highest_sequence);
    Put32(b + 12, block->jitter);
    Put32(b + 16, block->last_sr);
    Put32(b + 20, block->delay_since_last_sr);
  }
  return size;
}

}  // namespace parley::media
