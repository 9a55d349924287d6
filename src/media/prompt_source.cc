#include "media/prompt_source.h"

#include <espeak-ng/speak_lib.h>
#include <openssl/evp.h>
#include <sndfile.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <mutex>
#include <numbers>
#include <utility>

#include "media/codec.h"
#include "ports/media_plane.h"

namespace parley::media {
namespace fs = std::filesystem;

namespace {

std::string Hex(const unsigned char* p, unsigned n) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string s;
  s.reserve(n * 2);
  for (unsigned i = 0; i < n; ++i) {
    s.push_back(kHex[p[i] >> 4]);
    s.push_back(kHex[p[i] & 15]);
  }
  return s;
}

// espeak-ng keeps one global synthesizer per process.
std::mutex& SpeechMutex() {
  static std::mutex mu;
  return mu;
}
int g_speech_rate = 0;  // guarded by SpeechMutex(); 0 until espeak_Initialize succeeded

int SpeechCallback(short* wav, int count, espeak_EVENT* events) {
  if (wav != nullptr && count > 0 && events != nullptr && events->user_data != nullptr) {
    auto* out = static_cast<std::vector<int16_t>*>(events->user_data);
    out->insert(out->end(), wav, wav + count);
  }
  return 0;  // continue
}

Status WriteMonoWav(const std::string& path, const std::vector<int16_t>& samples, int rate) {
  SF_INFO info{};
  info.samplerate = rate;
  info.channels = 1;
  info.format = SF_FORMAT_WAV | SF_FORMAT_PCM_16;
  SNDFILE* f = sf_open(path.c_str(), SFM_WRITE, &info);
  if (f == nullptr) return Internal("cannot write " + path + ": " + sf_strerror(nullptr));
  const sf_count_t n = sf_write_short(f, samples.data(), static_cast<sf_count_t>(samples.size()));
  sf_close(f);
  if (n != static_cast<sf_count_t>(samples.size())) return Internal("short write to " + path);
  return Status::Ok();
}

Result<std::vector<Samples>> LoadFolder(const fs::path& dir, int rate) {
  std::vector<fs::path> files;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    std::string ext = e.path().extension().string();
    std::transform(ext.begin(), ext.end(), ext.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    if (e.is_regular_file() && ext == ".wav") files.push_back(e.path());
  }
  if (ec) return NotFound("cannot list " + dir.string() + ": " + ec.message());
  std::sort(files.begin(), files.end());
  std::vector<Samples> parts;
  for (const auto& f : files) {
    auto s = ReadWav(f.string(), rate);
    if (s.ok() && !s->empty()) {
      parts.push_back(std::make_shared<const std::vector<int16_t>>(std::move(s).value()));
    }
  }
  if (parts.empty()) return NotFound("no playable .wav file in " + dir.string());
  return parts;
}

}  // namespace

std::string Sha256Hex(const void* data, size_t size) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned len = 0;
  EVP_Digest(data, size, md, &len, EVP_sha256(), nullptr);
  return Hex(md, len);
}

std::string Sha256File(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return {};
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  EVP_DigestInit_ex(ctx, EVP_sha256(), nullptr);
  std::vector<char> buf(1 << 16);
  while (in) {
    in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
    if (in.gcount() > 0) EVP_DigestUpdate(ctx, buf.data(), static_cast<size_t>(in.gcount()));
  }
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned len = 0;
  EVP_DigestFinal_ex(ctx, md, &len);
  EVP_MD_CTX_free(ctx);
  return Hex(md, len);
}

Result<std::vector<int16_t>> ReadWav(const std::string& path, int rate) {
  SF_INFO info{};
  SNDFILE* f = sf_open(path.c_str(), SFM_READ, &info);
  if (f == nullptr) return NotFound("cannot read " + path + ": " + sf_strerror(nullptr));
  if (info.channels < 1 || info.samplerate < 1000 || info.samplerate > 192000 ||
      info.frames > static_cast<sf_count_t>(info.samplerate) * 3600) {
    sf_close(f);
    return InvalidArgument(path + ": unsupported WAV (channels, rate or over an hour long)");
  }
  std::vector<int16_t> frames(static_cast<size_t>(info.frames * info.channels));
  const sf_count_t got = sf_readf_short(f, frames.data(), info.frames);
  sf_close(f);
  std::vector<int16_t> mono(static_cast<size_t>(std::max<sf_count_t>(got, 0)));
  for (size_t i = 0; i < mono.size(); ++i) {
    int sum = 0;
    for (int c = 0; c < info.channels; ++c) sum += frames[i * info.channels + c];
    mono[i] = static_cast<int16_t>(sum / info.channels);
  }
  return ResampleAll(mono, info.samplerate, rate);
}

Result<std::string> RenderSpeech(const std::string& text, const std::string& voice,
                                 const std::string& language, const std::string& cache_dir) {
  const std::string key = Sha256Hex((voice + '\n' + language + '\n' + text).data(),
                                    voice.size() + language.size() + text.size() + 2);
  const fs::path path = fs::path(cache_dir) / (key + ".wav");
  std::error_code ec;
  if (fs::exists(path, ec)) return path.string();
  fs::create_directories(cache_dir, ec);

  std::vector<int16_t> samples;
  int rate = 0;
  {
    std::lock_guard lock(SpeechMutex());
    if (g_speech_rate == 0) {
      const int r = espeak_Initialize(AUDIO_OUTPUT_SYNCHRONOUS, 0, nullptr, 0);
      if (r <= 0) return Unavailable("espeak-ng failed to initialise");
      espeak_SetSynthCallback(SpeechCallback);
      g_speech_rate = r;
    }
    rate = g_speech_rate;
    const std::string name = !voice.empty() ? voice : (!language.empty() ? language : "en");
    if (espeak_SetVoiceByName(name.c_str()) != EE_OK) {
      // A BCP 47 tag such as en-GB may be unknown while its language is known.
      const std::string base = name.substr(0, name.find('-'));
      if (espeak_SetVoiceByName(base.c_str()) != EE_OK) {
        return NotFound("espeak-ng has no voice '" + name + "'");
      }
    }
    const espeak_ERROR err = espeak_Synth(text.c_str(), text.size() + 1, 0, POS_CHARACTER, 0,
                                          espeakCHARS_UTF8, nullptr, &samples);
    if (err != EE_OK) return Internal("espeak-ng could not synthesize the text");
  }
  if (samples.empty()) return Internal("espeak-ng produced no audio");
  // Written under a temporary name and renamed, so a reader never sees half a file.
  const fs::path tmp = path.string() + ".tmp" + std::to_string(::getpid());
  if (Status s = WriteMonoWav(tmp.string(), samples, rate); !s.ok()) return s;
  fs::rename(tmp, path, ec);
  if (ec) return Internal("cannot rename " + tmp.string() + ": " + ec.message());
  return path.string();
}

namespace {

// Sine tones (frequency 0: quiet) of the given lengths in seconds, each with 20 ms soft edges.
Samples Tones(std::initializer_list<std::pair<double, double>> notes, int rate) {
  auto samples = std::make_shared<std::vector<int16_t>>();
  for (const auto& [hz, seconds] : notes) {
    const size_t n = static_cast<size_t>(seconds * rate);
    const size_t fade = static_cast<size_t>(rate / 50);  // 20 ms
    for (size_t i = 0; i < n; ++i) {
      double gain = 1.0;
      if (i < fade) gain = static_cast<double>(i) / static_cast<double>(fade);
      if (n - i < fade) gain = static_cast<double>(n - i) / static_cast<double>(fade);
      const double v =
          hz == 0
              ? 0
              : 4000.0 * gain * std::sin(2 * std::numbers::pi * hz * static_cast<double>(i) / rate);
      samples->push_back(static_cast<int16_t>(v));
    }
  }
  return samples;
}

}  // namespace

std::vector<Samples> BuiltInHoldMusic(int rate) {
  // A rising three-note chime (C5, E5, G5) with soft edges, then two seconds of quiet.
  return {Tones({{523.25, 0.4}, {659.25, 0.4}, {783.99, 0.8}, {0, 2.0}}, rate)};
}

std::vector<Samples> BuiltInBeep(int rate) { return {Tones({{1000, 0.5}}, rate)}; }

Result<std::vector<Samples>> LoadPrompt(const ports::Prompt& prompt, bool loop,
                                        const PromptDirs& dirs, int rate) {
  std::string file;
  if (!prompt.recording.empty()) {
    if (prompt.recording == "moh") {
      return dirs.moh_dir.empty() ? BuiltInHoldMusic(rate) : LoadFolder(dirs.moh_dir, rate);
    }
    if (prompt.recording == ports::kBeepPrompt) return BuiltInBeep(rate);
    fs::path p(prompt.recording);
    if (p.is_relative()) p = fs::path(dirs.prompt_dir) / p;
    std::error_code ec;
    if (fs::is_directory(p, ec)) return LoadFolder(p, rate);
    file = p.string();
  } else if (!prompt.text.empty()) {
    auto rendered = RenderSpeech(prompt.text, prompt.voice, prompt.language, dirs.tts_cache_dir);
    if (!rendered.ok()) return rendered.status();
    file = *rendered;
  } else if (loop && !dirs.moh_dir.empty()) {
    return LoadFolder(dirs.moh_dir, rate);
  } else {
    return InvalidArgument("empty prompt");
  }
  auto samples = ReadWav(file, rate);
  if (!samples.ok()) return samples.status();
  std::vector<Samples> parts;
  parts.push_back(std::make_shared<const std::vector<int16_t>>(std::move(samples).value()));
  return parts;
}

}  // namespace parley::media
