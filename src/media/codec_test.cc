#include "media/codec.h"

#include <gtest/gtest.h>
#include <sndfile.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <numbers>

#include "media/prompt_source.h"

namespace parley::media {
namespace {

using ports::AudioCodec;

std::vector<int16_t> Tone(double hz, int rate, size_t n) {
  std::vector<int16_t> s(n);
  for (size_t i = 0; i < n; ++i) {
    s[i] = static_cast<int16_t>(8000 * std::sin(2 * std::numbers::pi * hz * i / rate));
  }
  return s;
}

double Correlation(std::span<const int16_t> x, std::span<const int16_t> y, size_t lag) {
  double xy = 0, xx = 0, yy = 0;
  for (size_t i = 0; i + lag < x.size() && i < y.size(); ++i) {
    xy += static_cast<double>(x[i + lag]) * y[i];
    xx += static_cast<double>(x[i + lag]) * x[i + lag];
    yy += static_cast<double>(y[i]) * y[i];
  }
  return xy / std::sqrt(xx * yy);
}

double BestCorrelation(std::span<const int16_t> x, std::span<const int16_t> y) {
  double best = 0;
  for (size_t lag = 0; lag < 64; ++lag) best = std::max(best, Correlation(x, y, lag));
  return best;
}

std::vector<int16_t> RoundTrip(AudioCodec codec, const std::vector<int16_t>& pcm) {
  Encoder enc(codec);
  Decoder dec(codec);
  const size_t frame = static_cast<size_t>(AudioRate(codec) / 50);
  std::vector<int16_t> out, part;
  std::array<uint8_t, 400> payload{};
  for (size_t at = 0; at + frame <= pcm.size(); at += frame) {
    const size_t n = enc.Encode(std::span(pcm).subspan(at, frame), payload);
    EXPECT_EQ(n, 160u);  // 64 kbit/s, 20 ms
    dec.Decode(std::span<const uint8_t>(payload.data(), n), part);
    out.insert(out.end(), part.begin(), part.end());
  }
  return out;
}

TEST(Codec, G711AndG722RoundTripKeepTheSignal) {
  for (AudioCodec codec : {AudioCodec::kPcmu, AudioCodec::kPcma, AudioCodec::kG722}) {
    const int rate = AudioRate(codec);
    const auto tone = Tone(700, rate, static_cast<size_t>(rate));
    const auto back = RoundTrip(codec, tone);
    ASSERT_EQ(back.size(), tone.size());
    EXPECT_GT(BestCorrelation(back, tone), 0.99) << static_cast<int>(codec);
  }
}

// The G.711 decoder looks samples up in a table made from spandsp: the standard's values at the
// ends of each law, and every code comes back from the encoder as itself (mu-law's two zeros,
// 0x7F and 0xFF, both encode as 0xFF).
TEST(Codec, G711DecodesEveryCodeToTheStandardsSample) {
  std::vector<uint8_t> codes(256);
  for (size_t i = 0; i < codes.size(); ++i) codes[i] = static_cast<uint8_t>(i);
  for (AudioCodec codec : {AudioCodec::kPcmu, AudioCodec::kPcma}) {
    Decoder dec(codec);
    std::vector<int16_t> pcm;
    dec.Decode(codes, pcm);
    ASSERT_EQ(pcm.size(), 256u);
    Encoder enc(codec);
    std::vector<uint8_t> again(256);
    ASSERT_EQ(enc.Encode(pcm, again), 256u);
    for (size_t i = 0; i < 256; ++i) {
      const uint8_t want = codec == AudioCodec::kPcmu && i == 0x7F ? 0xFF : codes[i];
      EXPECT_EQ(again[i], want) << static_cast<int>(codec) << " code " << i;
    }
  }
  std::vector<int16_t> pcm;
  Decoder(AudioCodec::kPcmu).Decode(std::vector<uint8_t>{0x00, 0x80, 0xFF}, pcm);
  EXPECT_EQ(pcm, (std::vector<int16_t>{-32124, 32124, 0}));
  Decoder(AudioCodec::kPcma).Decode(std::vector<uint8_t>{0x2A, 0xAA, 0x55, 0xD5}, pcm);
  EXPECT_EQ(pcm, (std::vector<int16_t>{-32256, 32256, -8, 8}));
}

TEST(Codec, ResamplerKeepsToneAndLength) {
  const auto tone = Tone(500, 8000, 8000);
  const auto up = ResampleAll(tone, 8000, 16000);
  EXPECT_NEAR(static_cast<double>(up.size()), 16000, 200);
  EXPECT_GT(BestCorrelation(up, Tone(500, 16000, 15000)), 0.98);
}

TEST(Codec, ReadWavMixesDownAndResamples) {
  const auto path = std::filesystem::temp_directory_path() /
                    ("parley_codec_" + std::to_string(::getpid()) + ".wav");
  SF_INFO info{};
  info.samplerate = 22050;
  info.channels = 2;
  info.format = SF_FORMAT_WAV | SF_FORMAT_PCM_16;
  SNDFILE* f = sf_open(path.c_str(), SFM_WRITE, &info);
  ASSERT_NE(f, nullptr);
  const auto tone = Tone(440, 22050, 22050);
  std::vector<int16_t> frames;
  for (int16_t s : tone) {
    frames.push_back(s);
    frames.push_back(s);
  }
  sf_writef_short(f, frames.data(), static_cast<sf_count_t>(tone.size()));
  sf_close(f);
  auto read = ReadWav(path.string(), 8000);
  std::filesystem::remove(path);
  ASSERT_TRUE(read.ok());
  EXPECT_NEAR(static_cast<double>(read->size()), 8000, 100);
  EXPECT_GT(BestCorrelation(*read, Tone(440, 8000, 7000)), 0.98);
  EXPECT_FALSE(ReadWav("/nonexistent.wav", 8000).ok());
}

TEST(Codec, Sha256MatchesKnownVector) {
  EXPECT_EQ(Sha256Hex("abc", 3),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

}  // namespace
}  // namespace parley::media
