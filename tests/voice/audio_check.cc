#include "tests/voice/audio_check.h"

#include <sndfile.h>

#include <algorithm>
#include <cmath>
#include <random>

namespace parley::testing {

Audio NoiseBurst(uint32_t seed, size_t length, int16_t amplitude) {
  std::mt19937 generator(seed);
  const uint32_t span = 2u * static_cast<uint32_t>(amplitude) + 1u;
  Audio out(length);
  for (auto& s : out)
    s = static_cast<int16_t>(static_cast<int32_t>(generator() % span) - amplitude);
  return out;
}

Audio Repeated(const Audio& burst, size_t period, size_t total) {
  Audio out(total, 0);
  for (size_t at = 0; at < total; at += period) {
    std::copy_n(burst.begin(), std::min(burst.size(), total - at), out.begin() + at);
  }
  return out;
}

std::string WriteWav(const std::string& path, const Audio& samples, int rate) {
  SF_INFO info{};
  info.samplerate = rate;
  info.channels = 1;
  info.format = SF_FORMAT_WAV | SF_FORMAT_PCM_16;
  SNDFILE* f = sf_open(path.c_str(), SFM_WRITE, &info);
  if (f == nullptr) return "cannot write " + path + ": " + sf_strerror(nullptr);
  const sf_count_t n = static_cast<sf_count_t>(samples.size());
  const sf_count_t written = sf_write_short(f, samples.data(), n);
  sf_close(f);
  return written == n ? "" : "short write to " + path;
}

WavAudio ReadWav(const std::string& path) {
  WavAudio out;
  SF_INFO info{};
  // libsndfile sizes the data of a WAV whose header was never finished from the file's length.
  SNDFILE* f = sf_open(path.c_str(), SFM_READ, &info);
  if (f == nullptr) {
    out.error = "cannot read " + path + ": " + sf_strerror(nullptr);
    return out;
  }
  out.rate = info.samplerate;
  std::vector<int16_t> interleaved(static_cast<size_t>(info.frames * info.channels));
  const sf_count_t frames = sf_readf_short(f, interleaved.data(), info.frames);
  sf_close(f);
  out.channels.assign(static_cast<size_t>(info.channels), Audio(static_cast<size_t>(frames)));
  for (sf_count_t i = 0; i < frames; ++i) {
    for (int c = 0; c < info.channels; ++c) {
      out.channels[static_cast<size_t>(c)][static_cast<size_t>(i)] =
          interleaved[static_cast<size_t>(i * info.channels + c)];
    }
  }
  return out;
}

std::vector<float> Correlation(const Audio& signal, const Audio& reference) {
  const size_t m = reference.size();
  if (m == 0 || signal.size() < m) return {};
  const std::vector<float> s(signal.begin(), signal.end());
  const std::vector<float> r(reference.begin(), reference.end());
  double reference_energy = 0;
  for (float v : r) reference_energy += static_cast<double>(v) * v;
  if (reference_energy == 0) return {};
  std::vector<float> out(signal.size() - m + 1);
  double window_energy = 0;  // of s[lag, lag + m), kept as the window slides
  for (size_t i = 0; i < m; ++i) window_energy += static_cast<double>(s[i]) * s[i];
  for (size_t lag = 0; lag < out.size(); ++lag) {
    if (lag > 0) {
      window_energy += static_cast<double>(s[lag + m - 1]) * s[lag + m - 1] -
                       static_cast<double>(s[lag - 1]) * s[lag - 1];
    }
    // Four running sums let the compiler overlap the multiplications.
    float a0 = 0, a1 = 0, a2 = 0, a3 = 0;
    const float* w = s.data() + lag;
    size_t i = 0;
    for (; i + 4 <= m; i += 4) {
      a0 += w[i] * r[i];
      a1 += w[i + 1] * r[i + 1];
      a2 += w[i + 2] * r[i + 2];
      a3 += w[i + 3] * r[i + 3];
    }
    for (; i < m; ++i) a0 += w[i] * r[i];
    // Rounding in the running energy can leave a silent window slightly above zero.
    const double energy = window_energy < 1.0 ? 0.0 : window_energy;
    out[lag] = energy == 0 ? 0.0f
                           : static_cast<float>((static_cast<double>(a0) + a1 + a2 + a3) /
                                                std::sqrt(energy * reference_energy));
  }
  return out;
}

Match FindSignal(const Audio& signal, const Audio& reference) {
  const std::vector<float> c = Correlation(signal, reference);
  if (c.empty()) return {};
  const auto best = std::max_element(c.begin(), c.end());
  return {*best, static_cast<size_t>(best - c.begin())};
}

std::optional<size_t> FirstMatch(const Audio& signal, const Audio& reference, double threshold) {
  const std::vector<float> c = Correlation(signal, reference);
  for (size_t lag = 0; lag < c.size(); ++lag) {
    if (c[lag] >= threshold) return lag;
  }
  return std::nullopt;
}

double Rms(const Audio& samples, size_t begin, size_t end) {
  end = std::min(end, samples.size());
  if (begin >= end) return 0;
  double sum = 0;
  for (size_t i = begin; i < end; ++i) sum += static_cast<double>(samples[i]) * samples[i];
  return std::sqrt(sum / static_cast<double>(end - begin));
}

}  // namespace parley::testing
