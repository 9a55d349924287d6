#pragma once
// Turns a ports::Prompt into audio at a leg's rate: WAV files read with libsndfile (a folder
// plays its .wav files in name order), text rendered by espeak-ng into a WAV cache keyed by
// SHA-256 of voice, language and text, everything resampled with speexdsp. Blocking (disk, TTS):
// call it only off the media threads. Thread-safe; espeak-ng is global to the process, so every
// rendering holds one process-wide mutex.

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "base/status.h"
#include "ports/flow_ports.h"

namespace parley::media {

using Samples = std::shared_ptr<const std::vector<int16_t>>;

struct PromptDirs {
  std::string prompt_dir;     // relative recordings resolve here
  std::string tts_cache_dir;  // rendered speech, <sha256>.wav
  std::string moh_dir;        // "moh" or an empty recording with loop plays this folder
};

// Reads a WAV (any rate, mono or mixed down from more channels) as 16-bit samples at `rate`.
Result<std::vector<int16_t>> ReadWav(const std::string& path, int rate);

// Renders `text` with espeak-ng (or reuses the cached file) and returns the WAV's path.
Result<std::string> RenderSpeech(const std::string& text, const std::string& voice,
                                 const std::string& language, const std::string& cache_dir);

// The parts to play in turn. A recording wins over text when both are set.
Result<std::vector<Samples>> LoadPrompt(const ports::Prompt& prompt, bool loop,
                                        const PromptDirs& dirs, int rate);

// Music on hold when no folder is configured (Prompt{recording = "moh"} without moh_dir): a
// short chime, then quiet, about four seconds to loop.
std::vector<Samples> BuiltInHoldMusic(int rate);

// The voicemail beep, Prompt{recording = "beep"} (kBeepPrompt): 1 kHz for half a second.
std::vector<Samples> BuiltInBeep(int rate);

// Lower-case hex SHA-256 of bytes (OpenSSL).
std::string Sha256Hex(const void* data, size_t size);
// Lower-case hex SHA-256 of a file's content; empty on a read error.
std::string Sha256File(const std::string& path);

}  // namespace parley::media
