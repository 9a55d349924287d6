#include "media/rtp.h"

#include <gtest/gtest.h>

#include <array>
#include <vector>

#include "media/receive_stats.h"

namespace parley::media {
namespace {

TEST(Rtp, WriteThenParseRoundTrips) {
  RtpHeader h{true, 96, 65535, 0xdeadbeef, 0x01020304};
  const std::array<uint8_t, 5> payload{1, 2, 3, 4, 5};
  std::array<uint8_t, 64> buf{};
  const size_t n = WriteRtp(h, payload, buf);
  ASSERT_EQ(n, kRtpHeaderSize + payload.size());
  auto p = ParseRtp(std::span<const uint8_t>(buf.data(), n));
  ASSERT_TRUE(p);
  EXPECT_TRUE(p->header.marker);
  EXPECT_EQ(p->header.payload_type, 96);
  EXPECT_EQ(p->header.sequence, 65535);
  EXPECT_EQ(p->header.timestamp, 0xdeadbeefu);
  EXPECT_EQ(p->header.ssrc, 0x01020304u);
  ASSERT_EQ(p->payload.size(), payload.size());
  EXPECT_EQ(p->payload[4], 5);
}

TEST(Rtp, WriteRefusesSmallBuffer) {
  std::array<uint8_t, 12> buf{};
  const std::array<uint8_t, 1> payload{7};
  EXPECT_EQ(WriteRtp({}, payload, buf), 0u);
}

TEST(Rtp, SkipsCsrcExtensionAndPadding) {
  // V=2 P=1 X=1 CC=1, PT 0; one CSRC; extension of one word; 2 payload bytes; 3 padding bytes.
  std::vector<uint8_t> b = {0xb1,
                            0x00,
                            0,
                            1,
                            0,
                            0,
                            0,
                            2,
                            0,
                            0,
                            0,
                            3,
                            /*csrc*/ 9,
                            9,
                            9,
                            9,
                            /*ext*/ 0xbe,
                            0xde,
                            0,
                            1,
                            1,
                            2,
                            3,
                            4,
                            /*payload*/ 0xaa,
                            0xbb,
                            /*padding*/ 0,
                            0,
                            3};
  auto p = ParseRtp(b);
  ASSERT_TRUE(p);
  ASSERT_EQ(p->payload.size(), 2u);
  EXPECT_EQ(p->payload[0], 0xaa);
  EXPECT_EQ(p->payload[1], 0xbb);
}

TEST(Rtp, RejectsMalformedPackets) {
  std::vector<uint8_t> good = {0x80, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3, 0xff};
  ASSERT_TRUE(ParseRtp(good));
  EXPECT_FALSE(ParseRtp(std::span<const uint8_t>(good.data(), 11)));  // short header
  auto v1 = good;
  v1[0] = 0x40;
  EXPECT_FALSE(ParseRtp(v1));  // version 1
  auto csrc = good;
  csrc[0] = 0x8f;  // 15 CSRCs announced, none present
  EXPECT_FALSE(ParseRtp(csrc));
  auto ext = good;
  ext[0] = 0x90;  // extension announced, header missing
  EXPECT_FALSE(ParseRtp(ext));
  auto pad = good;
  pad[0] = 0xa0;
  pad.back() = 200;  // padding longer than the packet
  EXPECT_FALSE(ParseRtp(pad));
  pad.back() = 0;  // zero padding count is invalid
  EXPECT_FALSE(ParseRtp(pad));
  auto rtcp = good;
  rtcp[1] = 200;  // an SR sent to the RTP port
  EXPECT_FALSE(ParseRtp(rtcp));
}

TEST(TelephoneEvent, RoundTripsAndMapsDigits) {
  TelephoneEvent e{11, true, 10, 800};
  std::array<uint8_t, 4> buf{};
  ASSERT_EQ(WriteTelephoneEvent(e, buf), 4u);
  auto p = ParseTelephoneEvent(buf);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->event, 11);
  EXPECT_TRUE(p->end);
  EXPECT_EQ(p->volume, 10);
  EXPECT_EQ(p->duration, 800);
  EXPECT_FALSE(ParseTelephoneEvent(std::span<const uint8_t>(buf.data(), 3)));
  EXPECT_EQ(EventToDigit(11), '#');
  EXPECT_EQ(EventToDigit(10), '*');
  EXPECT_EQ(EventToDigit(15), 'D');
  EXPECT_EQ(EventToDigit(16), 0);
  for (char d : std::string("0123456789*#ABCD")) {
    EXPECT_EQ(EventToDigit(static_cast<uint8_t>(DigitToEvent(d))), d);
  }
  EXPECT_EQ(DigitToEvent('x'), -1);
}

TEST(Rtcp, SenderReportRoundTrips) {
  SenderInfo s{0x0102030405060708ull, 1234, 50, 8000};
  ReportBlock b{0xabcdef01, 25, -3, 70000, 99, 0x11223344, 655};
  std::array<uint8_t, 64> buf{};
  const size_t n = WriteRtcpReport(42, s, b, buf);
  ASSERT_EQ(n, 52u);
  auto r = ParseRtcp(std::span<const uint8_t>(buf.data(), n));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->ssrc, 42u);
  ASSERT_TRUE(r->sender);
  EXPECT_EQ(r->sender->ntp_timestamp, s.ntp_timestamp);
  EXPECT_EQ(r->sender->packet_count, 50u);
  ASSERT_TRUE(r->block);
  EXPECT_EQ(r->block->cumulative_lost, -3);
  EXPECT_EQ(r->block->highest_sequence, 70000u);
  EXPECT_EQ(r->block->jitter, 99u);
  EXPECT_EQ(r->block->delay_since_last_sr, 655u);
}

TEST(Rtcp, ReceiverReportWithoutBlocksAndMalformedCompounds) {
  std::array<uint8_t, 64> buf{};
  const size_t n = WriteRtcpReport(7, std::nullopt, std::nullopt, buf);
  ASSERT_EQ(n, 8u);
  auto r = ParseRtcp(std::span<const uint8_t>(buf.data(), n));
  ASSERT_TRUE(r);
  EXPECT_FALSE(r->sender);
  EXPECT_FALSE(r->block);
  auto bad = std::vector<uint8_t>(buf.begin(), buf.begin() + 8);
  bad[3] = 5;  // length beyond the datagram
  EXPECT_FALSE(ParseRtcp(bad));
  bad[3] = 1;
  bad[0] = 0x81;  // one block announced, none present
  bad.resize(8);
  EXPECT_FALSE(ParseRtcp(bad));
  EXPECT_FALSE(ParseRtcp(std::span<const uint8_t>(buf.data(), 4)));
}

TEST(ReceiveStats, LossAndJitterFromCraftedSequence) {
  ReceiveStats s(8000);
  // 20 ms packets, constant transit except packet 8, which is 10 ms (80 units) late; 5 and 6 are
  // lost; 3 arrives twice.
  const int64_t t0 = 1'000'000;
  auto send = [&](uint16_t seq, int64_t late_us) {
    s.OnPacket(seq, seq * 160u, t0 + seq * 20'000 + late_us);
  };
  for (uint16_t seq : {1, 2, 3, 3, 4, 7}) send(seq, 0);
  EXPECT_NEAR(s.jitter_ms(), 0.0, 1e-9);
  send(8, 10'000);
  send(9, 0);
  send(10, 0);
  EXPECT_EQ(s.received(), 9u);
  // Expected 10 (1..10), received 9 including one duplicate: 1 by RFC 3550 A.3.
  EXPECT_EQ(s.lost(), 1u);
  // J += (|D| - J) / 16: D = 80, then 80, then 0.
  double j = 80.0 / 16;
  j += (80.0 - j) / 16;
  j -= j / 16;
  EXPECT_NEAR(s.jitter_ms(), j / 8.0, 1e-9);
  EXPECT_EQ(s.extended_highest(), 10u);
}

TEST(ReceiveStats, LossWithoutDuplicates) {
  ReceiveStats s(8000);
  for (uint16_t seq : {100, 101, 104, 105}) s.OnPacket(seq, seq * 160u, seq * 20'000);
  EXPECT_EQ(s.lost(), 2u);
  EXPECT_EQ(s.TakeFractionLost(), 2 * 256 / 6);
  EXPECT_EQ(s.TakeFractionLost(), 0);
}

TEST(ReceiveStats, SequenceWrapKeepsCounting) {
  ReceiveStats s(8000);
  uint16_t seq = 65530;
  for (int i = 0; i < 12; ++i, ++seq) {
    if (i == 8) continue;  // one loss after the wrap
    s.OnPacket(seq, static_cast<uint32_t>(i * 160), i * 20'000);
  }
  EXPECT_EQ(s.lost(), 1u);
  EXPECT_EQ(s.extended_highest(), 65536u + 5);
  EXPECT_NEAR(s.jitter_ms(), 0.0, 1e-9);
}

}  // namespace
}  // namespace parley::media
