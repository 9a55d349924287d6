#pragma once
// Audio codecs over spandsp (G.711 mu-law and A-law, G.722 at 64 kbit/s) and the speexdsp
// resampler. One object per direction of one leg (G.722 keeps state); one owner thread.

#include <array>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "ports/media_plane.h"

namespace parley::media {

// Sample rate of the decoded audio: 8000 for G.711, 16000 for G.722.
int AudioRate(ports::AudioCodec codec);
// RTP timestamp units per second (8000 for all three; RFC 3551 keeps G.722 at 8000).
constexpr int RtpClockRate(ports::AudioCodec) { return 8000; }

class Encoder {
 public:
  explicit Encoder(ports::AudioCodec codec);
  ~Encoder();
  Encoder(const Encoder&) = delete;
  Encoder& operator=(const Encoder&) = delete;
  // Encodes samples at AudioRate(codec) into `out`; returns the number of bytes written.
  size_t Encode(std::span<const int16_t> pcm, std::span<uint8_t> out);
  ports::AudioCodec codec() const { return codec_; }

 private:
  ports::AudioCodec codec_;
  struct State;
  std::unique_ptr<State> state_;
};

class Decoder {
 public:
  explicit Decoder(ports::AudioCodec codec);
  ~Decoder();
  Decoder(const Decoder&) = delete;
  Decoder& operator=(const Decoder&) = delete;
  // Decodes a payload into `out` (cleared first) at AudioRate(codec).
  void Decode(std::span<const uint8_t> payload, std::vector<int16_t>& out);
  ports::AudioCodec codec() const { return codec_; }

 private:
  ports::AudioCodec codec_;
  struct State;
  std::unique_ptr<State> state_;
};

// The 16-bit sample of each G.711 code (mu-law for kPcmu, A-law otherwise), as spandsp
// decodes it; what Decoder uses for G.711.
const std::array<int16_t, 256>& G711DecodeTable(ports::AudioCodec codec);

// Streaming mono resampler (speexdsp). A resampler with equal rates copies.
class Resampler {
 public:
  Resampler(int in_rate, int out_rate);
  ~Resampler();
  Resampler(const Resampler&) = delete;
  Resampler& operator=(const Resampler&) = delete;
  // Appends the resampled `in` to `out`.
  void Process(std::span<const int16_t> in, std::vector<int16_t>& out);
  int in_rate() const { return in_rate_; }
  int out_rate() const { return out_rate_; }

 private:
  friend std::vector<int16_t> ResampleAll(std::span<const int16_t>, int, int);
  int in_rate_;
  int out_rate_;
  void* state_ = nullptr;  // SpeexResamplerState
};

// Whole-buffer resampling (prompts): in_rate -> out_rate.
std::vector<int16_t> ResampleAll(std::span<const int16_t> in, int in_rate, int out_rate);

}  // namespace parley::media
