// Unit tests of the audio check used by the voice end-to-end tests: a reference is found (with
// the right lag) after a G.711 round trip, is not found in unrelated noise, and WAV files,
// including one still being written, read back as written.

#include "tests/voice/audio_check.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sndfile.h>
#include <spandsp.h>

#include <cmath>  // before spandsp (platform-facts.md)

#include "tests/server/server_process.h"

namespace parley::testing {
namespace {

Audio ThroughMuLaw(const Audio& in) {
  Audio out(in.size());
  for (size_t i = 0; i < in.size(); ++i) out[i] = ulaw_to_linear(linear_to_ulaw(in[i]));
  return out;
}

// Low background noise with `burst` added at `at`.
Audio Embedded(const Audio& burst, size_t at, size_t total) {
  Audio out = NoiseBurst(99, total, 300);
  for (size_t i = 0; i < burst.size() && at + i < total; ++i) {
    out[at + i] = static_cast<int16_t>(out[at + i] + burst[i]);
  }
  return out;
}

TEST(AudioCheckTest, SameSeedSameBurstOtherSeedOtherBurst) {
  EXPECT_EQ(NoiseBurst(1, 100), NoiseBurst(1, 100));
  EXPECT_NE(NoiseBurst(1, 100), NoiseBurst(2, 100));
  const Audio b = NoiseBurst(1, 1000, 8000);
  EXPECT_LE(*std::max_element(b.begin(), b.end()), 8000);
  EXPECT_GE(*std::min_element(b.begin(), b.end()), -8000);
  EXPECT_GT(Rms(b, 0, b.size()), 3000);  // uniform noise: amplitude / sqrt(3)
}

TEST(AudioCheckTest, FindsTheReferenceAtItsLagAfterAG711RoundTrip) {
  const Audio burst = NoiseBurst(1, 1600);
  const Audio signal = ThroughMuLaw(Embedded(burst, 12345, 40000));
  const Match m = FindSignal(signal, burst);
  EXPECT_GT(m.peak, 0.95);
  EXPECT_EQ(m.lag, 12345u);
}

TEST(AudioCheckTest, DoesNotFindAReferenceThatIsNotThere) {
  const Audio signal = ThroughMuLaw(Embedded(NoiseBurst(2, 1600), 5000, 40000));
  const Match m = FindSignal(signal, NoiseBurst(1, 1600));
  EXPECT_LT(m.peak, 0.3);
  EXPECT_EQ(FirstMatch(signal, NoiseBurst(1, 1600), 0.5), std::nullopt);
  // Silence and a signal shorter than the reference match nothing.
  EXPECT_EQ(FindSignal(Audio(40000, 0), NoiseBurst(1, 1600)).peak, 0);
  EXPECT_TRUE(Correlation(Audio(100, 1), NoiseBurst(1, 1600)).empty());
}

TEST(AudioCheckTest, FirstMatchOfARepeatedBurstIsItsFirstOccurrence) {
  const Audio burst = NoiseBurst(3, 800);
  Audio signal(1234, 0);
  const Audio repeated = Repeated(burst, 4000, 20000);
  signal.insert(signal.end(), repeated.begin(), repeated.end());
  EXPECT_EQ(FirstMatch(ThroughMuLaw(signal), burst, 0.9), 1234u);
  EXPECT_EQ(Repeated(burst, 4000, 20000).size(), 20000u);
  EXPECT_EQ(Rms(repeated, 800, 4000), 0);  // silence between the bursts
}

TEST(AudioCheckTest, WavRoundTripAndAFileStillBeingWritten) {
  TempDir dir;
  const Audio burst = NoiseBurst(4, 4000);
  ASSERT_EQ(WriteWav(dir.path() + "/a.wav", burst), "");
  const WavAudio a = ReadWav(dir.path() + "/a.wav");
  ASSERT_EQ(a.error, "");
  EXPECT_EQ(a.rate, kTestRate);
  ASSERT_EQ(a.channels.size(), 1u);
  EXPECT_EQ(a.channels[0], burst);
  EXPECT_DOUBLE_EQ(a.seconds(), 0.5);

  // A writer that has not closed its file yet (as baresip's during a call).
  SF_INFO info{};
  info.samplerate = kTestRate;
  info.channels = 1;
  info.format = SF_FORMAT_WAV | SF_FORMAT_PCM_16;
  SNDFILE* open = sf_open((dir.path() + "/growing.wav").c_str(), SFM_WRITE, &info);
  ASSERT_NE(open, nullptr);
  ASSERT_EQ(sf_write_short(open, burst.data(), static_cast<sf_count_t>(burst.size())),
            static_cast<sf_count_t>(burst.size()));
  const WavAudio growing = ReadWav(dir.path() + "/growing.wav");
  sf_close(open);
  ASSERT_EQ(growing.error, "");
  ASSERT_EQ(growing.channels.size(), 1u);
  EXPECT_EQ(growing.channels[0], burst);

  EXPECT_THAT(ReadWav(dir.path() + "/missing.wav").error, ::testing::HasSubstr("missing.wav"));
}

}  // namespace
}  // namespace parley::testing
