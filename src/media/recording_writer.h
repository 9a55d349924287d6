#pragma once
// Writes call recordings off the media threads: one 16-bit WAV per recording (stereo for calls,
// mono for voicemail) under a temporary name, its header kept valid as it grows (libsndfile's
// SFC_SET_UPDATE_HEADER_AUTO, so a crash leaves a playable file; the media threads append in
// chunks of about a second), then fsync, atomic rename and SHA-256 after its last chunk. Owns one
// thread (a runtime::EventLoop); every method may be called from any thread and returns at once.

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "ports/media_plane.h"
#include "runtime/event_loop.h"
#include "runtime/system_clock.h"

namespace parley::media {

class RecordingWriter {
 public:
  RecordingWriter();
  ~RecordingWriter();  // finishes open recordings without reporting them

  // The temporary name of a recording whose final name is `path`.
  static std::string TempPath(const std::string& path) { return path + ".part"; }

  // Starts a recording; `done` runs on the writer thread after its finishing chunk (bytes 0 and an
  // empty hash when the file could not be written).
  void Open(uint64_t id, std::string path, int rate, int channels,
            std::function<void(ports::RecordingInfo)> done);
  // Samples to append to a recording (`right` empty when it is mono; else as many as `left`,
  // and the writer interleaves them), and whether that is its end.
  struct Chunk {
    uint64_t id = 0;
    std::vector<int16_t> left;
    std::vector<int16_t> right;
    bool finish = false;
  };
  // Appends and finishes in order, in one hand-off to the writer thread (a media thread sends
  // all of a round's chunks at once: a hand-off per recording per chunk was a wake-up each).
  void Write(std::vector<Chunk> chunks);

 private:
  struct File;
  void AppendOnLoop(const Chunk& chunk);
  void FinishOnLoop(uint64_t id, bool report);

  runtime::SystemClock clock_;
  std::unordered_map<uint64_t, std::unique_ptr<File>> files_;  // writer thread only
  std::vector<int16_t> interleaved_;                           // writer thread only: scratch
  runtime::EventLoop loop_;  // last: stops (and drains) before the map goes away
};

}  // namespace parley::media
