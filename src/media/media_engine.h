#pragma once
// MediaEngine: the RTP media plane (ports::MediaPlane) over UDP sockets. It owns a few media
// threads; each leg (an RTP/RTCP socket pair) is owned by exactly one of them, chosen by leg id,
// and a bridge or a recording moves the second leg onto the first leg's thread, so the hot path
// takes no lock. Each media thread keeps one 20 ms clock for all its legs, reads with recvmmsg
// and writes with sendmmsg. Prompts are loaded and speech rendered on a loader thread, recordings
// written on a writer thread. Every public method may be called from any thread except that
// the waiting CloseLeg must not be called from a MediaEvents callback (it waits for the leg's
// thread).

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "base/status.h"
#include "base/time.h"
#include "ports/media_plane.h"

namespace parley::media {

struct MediaConfig {
  std::string address = "127.0.0.1";  // numeric IPv4 or IPv6; sockets bind here, SDP shows it
  uint16_t port_min = 20000;          // RTP ports are even, RTCP is RTP + 1
  uint16_t port_max = 29999;
  int threads = 1;
  std::string prompt_dir;     // relative Prompt::recording paths resolve here
  std::string tts_cache_dir;  // rendered speech (created when missing)
  std::string moh_dir;        // music on hold: Prompt{recording = "moh"} or an empty looped prompt
  Duration inactivity_timeout = Seconds(30);
  // Strict RTP: after ConnectLeg, this many consecutive packets from one other source within
  // learn_window move the leg to that source (NAT); the first accepted source is then locked.
  int learn_packets = 4;
  Duration learn_window = Seconds(2);
  Duration rtcp_interval = Seconds(5);
  int recording_rate = 8000;  // 8000 or 16000
};

// Counters over all legs, for /metrics and tests.
struct MediaCounters {
  uint64_t packets_received = 0;
  uint64_t packets_sent = 0;
  uint64_t packets_dropped = 0;
  uint64_t rtcp_received = 0;
  uint64_t rtcp_sent = 0;
  // 20 ms ticks a worker ran late (a timer read that found more than one expiration counts the
  // extra ones), and the most in one read: a worker that could not keep up.
  uint64_t ticks_late = 0;
  uint64_t most_ticks_at_once = 0;
};

class MediaWorker;
class PromptLoader;
class RecordingWriter;

class MediaEngine final : public ports::MediaPlane {
 public:
  ~MediaEngine() override;
  MediaEngine(const MediaEngine&) = delete;
  MediaEngine& operator=(const MediaEngine&) = delete;

  // Checks the configuration and starts the threads.
  static Result<std::unique_ptr<MediaEngine>> Create(MediaConfig config);

  Result<ports::RtpEndpoint> OpenLeg(ports::LegId leg) override;
  Status ConnectLeg(ports::LegId leg, ports::RtpEndpoint remote,
                    ports::MediaFormat format) override;
  ports::LegStats CloseLeg(ports::LegId leg) override;
  void CloseLeg(ports::LegId leg, std::function<void(ports::LegStats)> done) override;
  void Play(ports::LegId leg, uint64_t play_id, const ports::Prompt& prompt, bool loop) override;
  void StopPlayback(ports::LegId leg) override;
  Status Bridge(ports::LegId a, ports::LegId b) override;
  void Unbridge(ports::LegId a) override;
  Status StartRecording(ports::LegId customer, ports::LegId agent, std::string path) override;
  void PauseRecording(ports::LegId customer, bool paused) override;
  void StopRecording(ports::LegId customer) override;
  Status MoveRecording(ports::LegId customer, ports::LegId agent) override;
  Status RecordLeg(ports::LegId leg, std::string path, Duration max_length) override;
  void SetEvents(ports::MediaEvents events) override;

  // RFC 4733: sends each digit as a telephone event (100 ms, then a 60 ms pause) when the leg
  // negotiated telephone-event; kInvalidArgument for other characters or when it did not.
  Status SendDigits(ports::LegId leg, const std::string& digits) override;
  void SetMuted(ports::LegId leg, bool muted) override;
  Status Monitor(ports::LegId customer, ports::LegId agent, ports::LegId supervisor,
                 ports::MonitorMode mode) override;
  void StopMonitor(ports::LegId supervisor) override;

  MediaCounters Counters() const;
  const MediaConfig& config() const { return config_; }

  // For MediaWorker and PromptLoader.
  std::shared_ptr<const ports::MediaEvents> events() const;
  void PostToLeg(ports::LegId leg, std::function<void(MediaWorker&)> task);

 private:
  explicit MediaEngine(MediaConfig config);
  struct LegEntry {
    int worker = 0;
    uint16_t port = 0;
    uint64_t play_seq = 0;
    int rate = 8000;   // audio rate of the negotiated codec, for loading prompts
    int dtmf_pt = -1;  // negotiated telephone-event type, for SendDigits
  };
  // Moves `leg` onto worker `to` (no-op when already there). Requires mu_.
  void MoveLocked(ports::LegId leg, int to);
  MediaWorker* WorkerLocked(ports::LegId leg);

  const MediaConfig config_;
  std::vector<std::unique_ptr<MediaWorker>> workers_;
  std::unique_ptr<RecordingWriter> writer_;
  std::unique_ptr<PromptLoader> loader_;

  mutable std::mutex mu_;
  std::unordered_map<ports::LegId, LegEntry> legs_;   // GUARDED_BY(mu_)
  std::vector<bool> port_used_;                       // GUARDED_BY(mu_): by (port - min) / 2
  size_t port_cursor_ = 0;                            // GUARDED_BY(mu_)
  std::shared_ptr<const ports::MediaEvents> events_;  // GUARDED_BY(mu_)
  uint64_t next_recording_ = 1;                       // GUARDED_BY(mu_)
};

Result<std::unique_ptr<ports::MediaPlane>> MakeMediaPlane(MediaConfig config);

}  // namespace parley::media
