#pragma once
// Recordings a crash left under their temporary name (`<path>.part`, docs/media.md): the media
// plane keeps a WAV's header current on every write, so each is a playable file up to its last
// write. When the SIP adapter starts, it finalises them (fsync, rename to the final name, fsync
// the directory) and reports each like a finished recording. Blocking file I/O: call it before
// serving calls (SipServer::Start does).

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/time.h"
#include "domain/ids.h"
#include "ports/media_plane.h"

namespace parley::sip {

struct RecoveredRecording {
  ContactId contact;          // from the file name, <contact>[-N].wav
  ports::RecordingInfo info;  // the final path, size, duration from the header, SHA-256
  TimePoint started{};        // last write minus the duration
  uint16_t channels = 0;
};

// Channels, sample rate and data bytes of a WAV file's header (zeros when it is not one).
struct WavHeader {
  uint16_t channels = 0;
  uint32_t rate = 0;
  uint16_t bits = 0;
  uint64_t data_bytes = 0;  // as the header says, capped at what the file holds
};
WavHeader ReadWavHeader(std::string_view file);

// Finalises every `*.wav.part` under `dir` (recursively). A file whose name does not start with a
// contact id, or that is not a WAV, is left alone and named in `problems`.
std::vector<RecoveredRecording> FinaliseLeftoverRecordings(const std::string& dir,
                                                           std::vector<std::string>* problems);

}  // namespace parley::sip
