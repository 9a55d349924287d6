#include "media/codec.h"

#include <algorithm>
#include <array>

// spandsp's sub-headers are not self-contained: <cmath> first (docs: platform-facts.md).
#include <spandsp.h>
#include <speex/speex_resampler.h>

#include <cmath>

namespace parley::media {

using ports::AudioCodec;

int AudioRate(AudioCodec codec) { return codec == AudioCodec::kG722 ? 16000 : 8000; }

struct Encoder::State {
  g711_state_t* g711 = nullptr;
  g722_encode_state_t* g722 = nullptr;
};

Encoder::Encoder(AudioCodec codec) : codec_(codec), state_(std::make_unique<State>()) {
  if (codec == AudioCodec::kG722) {
    state_->g722 = g722_encode_init(nullptr, 64000, 0);
  } else {
    state_->g711 = g711_init(nullptr, codec == AudioCodec::kPcmu ? G711_ULAW : G711_ALAW);
  }
}

Encoder::~Encoder() {
  if (state_->g711 != nullptr) g711_free(state_->g711);
  if (state_->g722 != nullptr) g722_encode_free(state_->g722);
}

size_t Encoder::Encode(std::span<const int16_t> pcm, std::span<uint8_t> out) {
  if (codec_ == AudioCodec::kG722) {
    // 64 kbit/s: one byte per two samples.
    const size_t n = std::min(pcm.size(), out.size() * 2);
    return static_cast<size_t>(
        g722_encode(state_->g722, out.data(), pcm.data(), static_cast<int>(n)));
  }
  const size_t n = std::min(pcm.size(), out.size());
  return static_cast<size_t>(
      g711_encode(state_->g711, out.data(), pcm.data(), static_cast<int>(n)));
}

namespace {

// spandsp's G.711 decoding of each of the 256 codes, for one law: a G.711 decoder looks its
// samples up (the same values as spandsp's per-sample arithmetic, at a fraction of the cost: a
// recorded call decodes every packet).
std::array<int16_t, 256> G711Table(int law) {
  std::array<uint8_t, 256> codes;
  for (size_t i = 0; i < codes.size(); ++i) codes[i] = static_cast<uint8_t>(i);
  std::array<int16_t, 256> table{};
  g711_state_t* s = g711_init(nullptr, law);
  g711_decode(s, table.data(), codes.data(), static_cast<int>(codes.size()));
  g711_free(s);
  return table;
}

}  // namespace

const std::array<int16_t, 256>& G711DecodeTable(AudioCodec codec) {
  static const std::array<int16_t, 256> ulaw = G711Table(G711_ULAW);
  static const std::array<int16_t, 256> alaw = G711Table(G711_ALAW);
  return codec == AudioCodec::kPcmu ? ulaw : alaw;
}

struct Decoder::State {
  const std::array<int16_t, 256>* g711 = nullptr;
  g722_decode_state_t* g722 = nullptr;
};

Decoder::Decoder(AudioCodec codec) : codec_(codec), state_(std::make_unique<State>()) {
  if (codec == AudioCodec::kG722) {
    state_->g722 = g722_decode_init(nullptr, 64000, 0);
  } else {
    state_->g711 = &G711DecodeTable(codec);
  }
}

Decoder::~Decoder() {
  if (state_->g722 != nullptr) g722_decode_free(state_->g722);
}

void Decoder::Decode(std::span<const uint8_t> payload, std::vector<int16_t>& out) {
  if (codec_ == AudioCodec::kG722) {
    out.resize(payload.size() * 2);
    const int n =
        g722_decode(state_->g722, out.data(), payload.data(), static_cast<int>(payload.size()));
    out.resize(static_cast<size_t>(std::max(n, 0)));
    return;
  }
  out.resize(payload.size());
  const std::array<int16_t, 256>& table = *state_->g711;
  for (size_t i = 0; i < payload.size(); ++i) out[i] = table[payload[i]];
}

Resampler::Resampler(int in_rate, int out_rate) : in_rate_(in_rate), out_rate_(out_rate) {
  if (in_rate != out_rate) {
    int err = 0;
    state_ = speex_resampler_init(1, static_cast<spx_uint32_t>(in_rate),
                                  static_cast<spx_uint32_t>(out_rate), SPEEX_RESAMPLER_QUALITY_VOIP,
                                  &err);
  }
}

Resampler::~Resampler() {
  if (state_ != nullptr) speex_resampler_destroy(static_cast<SpeexResamplerState*>(state_));
}

void Resampler::Process(std::span<const int16_t> in, std::vector<int16_t>& out) {
  if (state_ == nullptr) {
    out.insert(out.end(), in.begin(), in.end());
    return;
  }
  const size_t start = out.size();
  const size_t room = in.size() * static_cast<size_t>(out_rate_) / in_rate_ + 16;
  out.resize(start + room);
  auto in_len = static_cast<spx_uint32_t>(in.size());
  auto out_len = static_cast<spx_uint32_t>(room);
  speex_resampler_process_int(static_cast<SpeexResamplerState*>(state_), 0, in.data(), &in_len,
                              out.data() + start, &out_len);
  out.resize(start + out_len);
}

std::vector<int16_t> ResampleAll(std::span<const int16_t> in, int in_rate, int out_rate) {
  std::vector<int16_t> out;
  if (in_rate == out_rate) return {in.begin(), in.end()};
  Resampler r(in_rate, out_rate);
  // A prompt starts at its first sample, not after the filter's delay.
  speex_resampler_skip_zeros(static_cast<SpeexResamplerState*>(r.state_));
  out.reserve(in.size() * static_cast<size_t>(out_rate) / in_rate + 64);
  r.Process(in, out);
  // Flush the filter's delay line with silence so the tail is not cut off, then keep exactly
  // the resampled length of the input.
  auto* st = static_cast<SpeexResamplerState*>(r.state_);
  const std::vector<int16_t> zeros(static_cast<size_t>(speex_resampler_get_input_latency(st)) + 1,
                                   0);
  r.Process(zeros, out);
  out.resize(in.size() * static_cast<size_t>(out_rate) / static_cast<size_t>(in_rate));
  return out;
}

}  // namespace parley::media
