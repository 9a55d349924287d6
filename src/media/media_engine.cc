#include "media/media_engine.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <unistd.h>

// spandsp's sub-headers are not self-contained: <cmath> first (docs: platform-facts.md).
#include <spandsp.h>

#include <array>
#include <atomic>
#include <cerrno>
#include <cmath>
#include <condition_variable>
#include <cstring>
#include <ctime>
#include <future>
#include <random>
#include <thread>

#include "base/thread_name.h"
#include "media/codec.h"
#include "media/prompt_source.h"
#include "media/receive_stats.h"
#include "media/recording_writer.h"
#include "media/rtp.h"
#include "runtime/event_loop.h"
#include "runtime/system_clock.h"

namespace parley::media {

using ports::AudioCodec;
using ports::LegId;

namespace {

constexpr int kTickMs = 20;
// Recording frames go to the writer in chunks of this length (a crash loses at most this much
// more of a recording than what the writer had not written yet).
constexpr size_t kRecordingChunkMs = 1000;
constexpr size_t kMaxPacket = 1500;
constexpr size_t kRecvBatch = 32;
constexpr size_t kSendBatch = 256;
constexpr int kMixQueueMs = 100;  // received audio kept for the monitoring mix, at most
// A recording places each packet by its RTP timestamp this long after "now", so packets that
// come late (up to this much), in clumps or out of order still land where they belong. Late
// means late for the network or for a media thread behind its sockets: a thread that serves
// thousands of them and is busy reads a socket again only after a round of all the others (up
// to 150 ms seen when 1,400 recorded calls start at once, docs/voice.md). A file is written
// this much behind the call (the stop writes the rest); each channel holds that much in memory.
constexpr int kRecordingDelayMs = 300;
// A packet placed further ahead of the delay than this (a timestamp jump, a fast sender clock) or
// already behind what was written re-anchors its channel at the delay.
constexpr int kRecordingAheadMs = 1000;
constexpr int kMaxCatchUpTicks = 50;  // ticks a stalled worker makes up for, at most (1 s)

int16_t Saturate(int32_t v) {
  return static_cast<int16_t>(std::clamp<int32_t>(v, INT16_MIN, INT16_MAX));
}

int64_t NowMicros() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

bool ParseAddress(const std::string& address, uint16_t port, sockaddr_storage& out,
                  socklen_t& len) {
  std::memset(&out, 0, sizeof(out));
  auto* v4 = reinterpret_cast<sockaddr_in*>(&out);
  if (inet_pton(AF_INET, address.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(port);
    len = sizeof(sockaddr_in);
    return true;
  }
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&out);
  if (inet_pton(AF_INET6, address.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(port);
    len = sizeof(sockaddr_in6);
    return true;
  }
  return false;
}

uint16_t PortOf(const sockaddr_storage& a) {
  if (a.ss_family == AF_INET) return ntohs(reinterpret_cast<const sockaddr_in&>(a).sin_port);
  return ntohs(reinterpret_cast<const sockaddr_in6&>(a).sin6_port);
}

void SetPort(sockaddr_storage& a, uint16_t port) {
  if (a.ss_family == AF_INET) {
    reinterpret_cast<sockaddr_in&>(a).sin_port = htons(port);
  } else {
    reinterpret_cast<sockaddr_in6&>(a).sin6_port = htons(port);
  }
}

bool SameAddress(const sockaddr_storage& a, const sockaddr_storage& b) {
  if (a.ss_family != b.ss_family) return false;
  if (a.ss_family == AF_INET) {
    const auto& x = reinterpret_cast<const sockaddr_in&>(a);
    const auto& y = reinterpret_cast<const sockaddr_in&>(b);
    return x.sin_port == y.sin_port && x.sin_addr.s_addr == y.sin_addr.s_addr;
  }
  if (a.ss_family == AF_INET6) {
    const auto& x = reinterpret_cast<const sockaddr_in6&>(a);
    const auto& y = reinterpret_cast<const sockaddr_in6&>(b);
    return x.sin6_port == y.sin6_port &&
           std::memcmp(&x.sin6_addr, &y.sin6_addr, sizeof(x.sin6_addr)) == 0;
  }
  return false;
}

int BindUdp(const std::string& address, uint16_t port) {
  sockaddr_storage addr;
  socklen_t len = 0;
  if (!ParseAddress(address, port, addr, len)) return -1;
  const int fd = ::socket(addr.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  if (::bind(fd, reinterpret_cast<const sockaddr*>(&addr), len) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

uint32_t RandomU32() {
  static std::atomic<uint64_t> counter{0};
  // Not a secret (SSRC and initial sequence/timestamp per RFC 3550 section 8); the OS seed makes
  // them differ between legs and processes.
  thread_local std::mt19937 gen(std::random_device{}() ^
                                static_cast<uint32_t>(counter.fetch_add(1)));
  return static_cast<uint32_t>(gen());
}

// NTP timestamp (RFC 3550 section 4) from the system clock, for sender reports.
uint64_t NtpNow() {
  const auto now = std::chrono::system_clock::now().time_since_epoch();
  const auto us = std::chrono::duration_cast<std::chrono::microseconds>(now).count();
  const uint64_t secs = static_cast<uint64_t>(us / 1'000'000) + 2208988800ull;
  const uint64_t frac = (static_cast<uint64_t>(us % 1'000'000) << 32) / 1'000'000;
  return (secs << 32) | frac;
}

}  // namespace

// Prompt loading and speech rendering, off the media threads.
class PromptLoader {
 public:
  PromptLoader() : loop_(clock_, "prompts") {}
  void Post(std::function<void()> work) { loop_.Post(std::move(work)); }

 private:
  runtime::SystemClock clock_;
  runtime::EventLoop loop_;
};

struct Leg;

struct SocketTag {
  Leg* leg;
  bool rtcp;
};

struct Leg {
  LegId id = 0;
  int rtp_fd = -1;
  int rtcp_fd = -1;
  SocketTag rtp_tag{this, false};
  SocketTag rtcp_tag{this, true};

  bool connected = false;
  ports::MediaFormat format;
  sockaddr_storage remote{};
  sockaddr_storage remote_rtcp{};
  socklen_t remote_len = 0;
  // Strict RTP.
  bool locked = false;
  int64_t connect_us = 0;
  sockaddr_storage candidate{};
  uint16_t candidate_seq = 0;
  int candidate_count = 0;

  ReceiveStats rx{8000};
  uint64_t received = 0;
  uint64_t dropped = 0;
  int64_t last_rx_us = 0;
  bool inactive_reported = false;
  std::unique_ptr<Decoder> decoder;
  std::unique_ptr<Encoder> encoder;
  std::unique_ptr<Resampler> down8k;  // for in-band DTMF on 16 kHz legs
  std::unique_ptr<Resampler> to_rec;  // to the recording's rate
  std::unique_ptr<Resampler> to_peer;
  dtmf_rx_state_t* inband = nullptr;
  std::string inband_digits;
  bool have_event = false;
  uint32_t event_ts = 0;
  uint32_t forward_event_ts = 0;  // the current event's timestamp on the bridged peer's stream
  uint32_t remote_ssrc = 0;

  uint32_t ssrc = RandomU32();
  uint16_t seq = static_cast<uint16_t>(RandomU32());
  uint32_t ts = RandomU32();
  uint64_t sent = 0;
  uint64_t octets = 0;
  uint32_t last_sent_ts = 0;
  int64_t next_rtcp_us = 0;
  uint32_t lsr = 0;  // middle 32 bits of the peer's last SR
  int64_t lsr_arrival_us = 0;

  // Playback.
  uint64_t pending_seq = 0;  // the Play being loaded; 0 for none
  bool playing = false;
  bool loop = false;
  uint64_t play_id = 0;
  std::vector<Samples> parts;
  size_t part = 0;
  size_t pos = 0;

  // RFC 4733 sending.
  std::string digits_out;
  bool sending_event = false;
  uint32_t send_event_ts = 0;
  uint16_t send_event_elapsed = 0;
  int send_event_ends = 0;
  int send_event_gap = 0;

  LegId peer = 0;
  bool has_peer = false;
  bool muted = false;   // nothing received here goes to the peer, which gets silence
  LegId rec_owner = 0;  // the customer leg of the recording this leg is part of
  bool in_recording = false;
  bool rec_right = false;

  // Monitoring: the mix this leg is part of (keyed by its customer leg).
  bool in_mix = false;
  LegId mix_owner = 0;
  std::unique_ptr<Resampler> to_mix;    // leg rate -> mix rate (null when equal)
  std::unique_ptr<Resampler> from_mix;  // mix rate -> leg rate
  std::vector<int16_t> mix_in;          // received audio at the mix rate, taken per tick

  std::vector<int16_t> pcm;      // scratch
  std::vector<int16_t> rec_pcm;  // scratch: a packet at the recording's rate
  std::vector<int16_t> pcm2;

  ~Leg() {
    if (inband != nullptr) dtmf_rx_free(inband);
    if (rtp_fd >= 0) ::close(rtp_fd);
    if (rtcp_fd >= 0) ::close(rtcp_fd);
  }

  int rate() const { return AudioRate(format.codec); }
};

// One channel of a recording: its samples from the first one not yet handed to the writer
// onward, each packet placed by its RTP timestamp relative to an anchor (the first packet of a
// source, at the playout delay). The clock only counts the samples it passes; a chunk's worth
// is cut off the front at once (zeros where nothing was placed), so a tick costs nothing per
// channel and the samples are copied once, into the writer's chunk.
struct RecordingChannel {
  std::vector<int16_t> buf;  // buf[0] is the recording's sample `written - unflushed`
  bool anchored = false;
  uint32_t ssrc = 0;
  uint32_t anchor_ts = 0;
  int64_t anchor_pos = 0;

  // Samples placed at or after the clock (not yet passed by it).
  size_t Ahead(size_t unflushed) const {
    return buf.size() > unflushed ? buf.size() - unflushed : 0;
  }
  // Writes `samples` at the recording's sample `pos` (>= written), zero-filling any gap.
  void Place(size_t unflushed, int64_t written, int64_t pos, std::span<const int16_t> samples) {
    const size_t offset = unflushed + static_cast<size_t>(pos - written);
    if (offset >= buf.size()) {  // the usual case, the packet after the last: zeros only for a gap
      buf.resize(offset, 0);
      buf.insert(buf.end(), samples.begin(), samples.end());
      return;
    }
    if (buf.size() < offset + samples.size()) buf.resize(offset + samples.size(), 0);
    std::copy(samples.begin(), samples.end(), buf.begin() + static_cast<ptrdiff_t>(offset));
  }
  // Cuts the first n samples off into `out` (zeros past what was placed).
  void Cut(size_t n, std::vector<int16_t>& out) {
    const size_t have = std::min(n, buf.size());
    out.assign(buf.begin(), buf.begin() + static_cast<ptrdiff_t>(have));
    out.resize(n, 0);
    Drop(have);
  }
  void Drop(size_t n) {
    buf.erase(buf.begin(), buf.begin() + static_cast<ptrdiff_t>(std::min(n, buf.size())));
  }
};

struct Recording {
  uint64_t id = 0;
  LegId customer = 0;
  LegId agent = 0;  // == customer for a one-leg (mono, voicemail) recording
  int channels = 2;
  bool paused = false;
  int64_t written = 0;   // samples per channel the clock has passed (negative: before the start)
  size_t unflushed = 0;  // of those, in the file but not yet handed to the writer
  int64_t clock_us = 0;  // the worker's clock time that `written` stands for
  bool flushed_once = false;
  int64_t max_samples = 0;  // a voicemail's limit; 0: none
  RecordingChannel left;
  RecordingChannel right;
  RecordingChannel barge;  // a barging supervisor, mixed into the right (agent) channel

  bool Full() const { return max_samples > 0 && written >= max_samples; }
};

// A supervisor's leg joined to a customer-agent call (ports::MediaPlane::Monitor).
struct Mix {
  LegId customer = 0;
  LegId agent = 0;
  LegId supervisor = 0;
  ports::MonitorMode mode = ports::MonitorMode::kListen;
  int rate = 8000;                    // 16000 when a leg is wideband
  std::unique_ptr<Resampler> to_rec;  // mix rate -> recording rate, when they differ
  std::vector<int16_t> c, a, s;       // this tick's frames (scratch)
  std::vector<int16_t> out;           // scratch
};

// One media thread: its legs, its 20 ms clock, its batches.
class MediaWorker {
 public:
  MediaWorker(MediaEngine& engine, RecordingWriter& writer);
  ~MediaWorker();

  struct Task {
    std::array<LegId, 3> legs{};
    int nlegs = 0;  // the task waits until these legs are on this worker
    std::function<void(MediaWorker&)> fn;
  };
  void Post(Task task);
  bool InThread() const { return std::this_thread::get_id() == thread_.get_id(); }

  // On the worker thread.
  Leg* Find(LegId id) {
    auto it = legs_.find(id);
    return it == legs_.end() ? nullptr : it->second.get();
  }
  void Adopt(std::shared_ptr<Leg> leg);
  std::shared_ptr<Leg> Extract(LegId id);
  void Connect(Leg& leg, const sockaddr_storage& remote, socklen_t len,
               const ports::MediaFormat& format);
  ports::LegStats Close(LegId id);
  void StopPlay(Leg& leg);
  void StartPlay(Leg& leg, uint64_t seq, uint64_t play_id, bool loop,
                 Result<std::vector<Samples>> parts);
  void BridgeLegs(Leg& a, Leg& b);
  void UnbridgeLeg(Leg& a);
  void StartRecording(uint64_t id, Leg& customer, Leg& agent, const std::string& path);
  void RecordLeg(uint64_t id, Leg& leg, const std::string& path, int64_t max_samples);
  void PauseRecording(LegId customer, bool paused);
  void FinishRecording(LegId customer);
  void MoveRecording(LegId customer, Leg& agent);
  void StartMix(Leg& customer, Leg& agent, Leg& supervisor, ports::MonitorMode mode);
  void EndMix(LegId customer);
  void StopMonitor(LegId supervisor);

  std::atomic<uint64_t> received{0}, sent{0}, dropped{0}, rtcp_received{0}, rtcp_sent{0};
  std::atomic<uint64_t> ticks_late{0}, most_ticks_at_once{0};

 private:
  void Run();
  void RunTasks();
  bool Ready(const Task& t) const;
  void OnReadable(SocketTag& tag);
  void OnRtp(Leg& leg, std::span<const uint8_t> data, const sockaddr_storage& from, int64_t now);
  void OnRtcp(Leg& leg, std::span<const uint8_t> data, int64_t now);
  void OnEvent(Leg& leg, const RtpPacket& packet);
  void OnAudio(Leg& leg, const RtpPacket& packet);
  void Tick(int64_t now, uint64_t expirations);
  // A recording of `customer` (and `agent`, null for a mono one) under a new writer file.
  Recording& OpenRecording(uint64_t id, Leg& customer, Leg* agent, const std::string& path);
  // `leg` records into its channel (right: agent) of the recording owned by `owner`.
  void JoinRecording(Leg& leg, LegId owner, bool right);
  void LeaveRecording(Leg& leg);
  static void SetArrivalStamps(Leg& leg, bool on);
  void RecordingTick(Recording& rec, size_t frame);
  // Queues the unflushed samples (and with `finish`, the end of the file) for the writer.
  void FlushRecording(Recording& rec, bool finish = false);
  void SendToWriter();  // hands what FlushRecording queued to the writer
  void SendAudioFrame(Leg& leg);
  void SendEventTick(Leg& leg);
  void SendRtcp(Leg& leg, int64_t now);
  // Queues an RTP packet on `leg`'s socket to its remote (flushed with sendmmsg).
  void SendRtp(Leg& leg, const RtpHeader& header, std::span<const uint8_t> payload);
  void Queue(int fd, const sockaddr_storage& to, socklen_t len, const uint8_t* data, size_t n);
  void Flush();
  void ResetPeerResamplers(Leg& a, Leg& b);
  void Record(Leg& leg, const RtpHeader& header, std::span<const int16_t> pcm);
  void FireDigit(Leg& leg, char digit);
  void SetMixResamplers(Leg& leg, int mix_rate);
  void QueueForMix(Leg& leg);
  // Whether the mix, not the leg's own tick, sends this leg's audio.
  bool MixFeeds(const Leg& leg) const;
  void MixTick(Mix& mix);
  void SendMixed(Leg& leg, std::initializer_list<const std::vector<int16_t>*> inputs, Mix& mix);

  MediaEngine& engine_;
  RecordingWriter& writer_;
  int epoll_fd_ = -1;
  int wake_fd_ = -1;
  int timer_fd_ = -1;

  std::mutex mu_;
  std::vector<Task> tasks_;  // GUARDED_BY(mu_)
  bool stop_ = false;        // GUARDED_BY(mu_)

  std::unordered_map<LegId, std::shared_ptr<Leg>> legs_;
  uint64_t legs_removed_ = 0;  // legs closed or moved away, to spot stale socket events
  std::vector<Task> waiting_;  // tasks for legs on their way here
  std::unordered_map<LegId, Recording> recordings_;  // by customer leg
  std::unordered_map<LegId, Mix> mixes_;             // by customer leg
  std::vector<RecordingWriter::Chunk> to_writer_;    // this round's, sent at its end

  struct OutPacket {
    int fd;
    socklen_t len;
    sockaddr_storage to;
    size_t size;
    std::array<uint8_t, kMaxPacket> data;
  };
  std::vector<OutPacket> out_;
  size_t out_n_ = 0;
  std::vector<std::array<uint8_t, kMaxPacket>> in_bufs_;
  std::vector<sockaddr_storage> in_addrs_;
  std::vector<iovec> iov_;
  std::vector<mmsghdr> msgs_;
  static constexpr size_t kControlBytes = CMSG_SPACE(sizeof(timespec));
  std::vector<std::array<char, kControlBytes>> controls_;  // each message's arrival time
  int64_t clock_us_ = 0;           // the time of the timer's latest expiration (NowMicros)
  int64_t packet_arrival_us_ = 0;  // the packet being handled: when it came (NowMicros)
  std::vector<uint8_t> scratch_;

  std::thread thread_;
};

MediaWorker::MediaWorker(MediaEngine& engine, RecordingWriter& writer)
    : engine_(engine), writer_(writer) {
  epoll_fd_ = ::epoll_create1(EPOLL_CLOEXEC);
  wake_fd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  timer_fd_ = ::timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
  PARLEY_CHECK(epoll_fd_ >= 0 && wake_fd_ >= 0 && timer_fd_ >= 0);
  itimerspec spec{};
  spec.it_interval.tv_nsec = kTickMs * 1'000'000L;
  spec.it_value.tv_nsec = kTickMs * 1'000'000L;
  ::timerfd_settime(timer_fd_, 0, &spec, nullptr);
  clock_us_ = NowMicros();
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.ptr = nullptr;
  ::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, wake_fd_, &ev);
  ev.data.ptr = &timer_fd_;
  ::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, timer_fd_, &ev);
  out_.resize(kSendBatch);
  in_bufs_.resize(kRecvBatch);
  in_addrs_.resize(kRecvBatch);
  iov_.resize(kRecvBatch);
  msgs_.resize(kRecvBatch);
  controls_.resize(kRecvBatch);
  scratch_.resize(kMaxPacket);
  thread_ = std::thread([this] {
    NameThisThread("media");
    ScheduleThisThreadAsBatch();
    Run();
  });
}

MediaWorker::~MediaWorker() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  const uint64_t one = 1;
  (void)!::write(wake_fd_, &one, sizeof(one));
  thread_.join();
  // Recordings still open keep what their ticks placed (the writer finishes them after us).
  for (auto& [customer, rec] : recordings_) FlushRecording(rec);
  SendToWriter();
  legs_.clear();
  ::close(epoll_fd_);
  ::close(wake_fd_);
  ::close(timer_fd_);
}

void MediaWorker::Post(Task task) {
  bool first = false;
  {
    std::lock_guard lock(mu_);
    first = tasks_.empty();
    tasks_.push_back(std::move(task));
  }
  // The worker takes every queued task at once after each wake-up, so only the first task since
  // it last took them needs one: a call's set-up posts several (open, connect, bridge, play).
  if (!first) return;
  const uint64_t one = 1;
  (void)!::write(wake_fd_, &one, sizeof(one));
}

void MediaWorker::Run() {
  std::array<epoll_event, 64> events;
  for (;;) {
    const int n = ::epoll_wait(epoll_fd_, events.data(), static_cast<int>(events.size()), 100);
    uint64_t tick = 0;  // timer expirations since the last tick (more than one after a stall)
    bool ran_tasks = false;
    uint64_t removed = legs_removed_;
    // In the order they became ready, so packets and commands keep their order when the worker
    // wakes late: a peer's first packets follow the connect, a recording's last ones precede
    // its stop.
    for (int i = 0; i < n; ++i) {
      void* p = events[i].data.ptr;
      if (p == nullptr) {
        uint64_t v;
        (void)!::read(wake_fd_, &v, sizeof(v));
        {
          std::lock_guard lock(mu_);
          if (stop_) return;
        }
        RunTasks();
        ran_tasks = true;
      } else if (p == &timer_fd_) {
        uint64_t v;
        if (::read(timer_fd_, &v, sizeof(v)) == sizeof(v)) {
          tick = v;
          clock_us_ += static_cast<int64_t>(v) * kTickMs * 1000;
          if (v > 1) ticks_late.fetch_add(v - 1, std::memory_order_relaxed);
          if (v > most_ticks_at_once.load(std::memory_order_relaxed)) {
            most_ticks_at_once.store(v, std::memory_order_relaxed);
          }
        }
      } else if (legs_removed_ == removed) {
        OnReadable(*static_cast<SocketTag*>(p));
      }
      // else: a command closed or moved a leg, so this batch's socket events may name it; the
      // sockets are level-triggered, and what is still waiting is reported again next round.
    }
    Flush();
    {
      std::lock_guard lock(mu_);
      if (stop_) break;
    }
    if (!ran_tasks) RunTasks();
    if (tick > 0) Tick(NowMicros(), tick);
    Flush();
    SendToWriter();  // this round's recording chunks and finishes, in one hand-off
  }
}

bool MediaWorker::Ready(const Task& t) const {
  for (int i = 0; i < t.nlegs; ++i) {
    const LegId id = t.legs[static_cast<size_t>(i)];
    if (!legs_.contains(id)) return false;
    // Commands for one leg keep their order: none overtakes one that waits.
    for (const Task& w : waiting_) {
      for (int j = 0; j < w.nlegs; ++j) {
        if (w.legs[static_cast<size_t>(j)] == id) return false;
      }
    }
  }
  return true;
}

void MediaWorker::RunTasks() {
  std::vector<Task> tasks;
  {
    std::lock_guard lock(mu_);
    tasks.swap(tasks_);
  }
  for (Task& t : tasks) {
    if (!Ready(t)) {
      waiting_.push_back(std::move(t));
      continue;
    }
    t.fn(*this);
  }
}

void MediaWorker::Adopt(std::shared_ptr<Leg> leg) {
  leg->rtp_tag = {leg.get(), false};
  leg->rtcp_tag = {leg.get(), true};
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.ptr = &leg->rtp_tag;
  ::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, leg->rtp_fd, &ev);
  ev.data.ptr = &leg->rtcp_tag;
  ::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, leg->rtcp_fd, &ev);
  legs_[leg->id] = std::move(leg);
  // Replay, in order, what waited for legs that are now here.
  std::vector<Task> waiting;
  waiting.swap(waiting_);
  for (Task& t : waiting) {
    if (!Ready(t)) {
      waiting_.push_back(std::move(t));
      continue;
    }
    t.fn(*this);
  }
}

std::shared_ptr<Leg> MediaWorker::Extract(LegId id) {
  auto it = legs_.find(id);
  if (it == legs_.end()) return nullptr;
  Leg& leg = *it->second;
  if (leg.in_mix) EndMix(leg.mix_owner);
  UnbridgeLeg(leg);
  if (leg.in_recording) FinishRecording(leg.rec_owner);
  ::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, leg.rtp_fd, nullptr);
  ::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, leg.rtcp_fd, nullptr);
  std::shared_ptr<Leg> out = std::move(it->second);
  legs_.erase(it);
  ++legs_removed_;
  return out;
}

void MediaWorker::Connect(Leg& leg, const sockaddr_storage& remote, socklen_t len,
                          const ports::MediaFormat& format) {
  const bool codec_changed = !leg.decoder || leg.format.codec != format.codec;
  // A re-INVITE to the same peer keeps the figures (and the source it already locked to).
  const bool same_remote = leg.connected && SameAddress(remote, leg.remote);
  leg.remote = remote;
  leg.remote_len = len;
  leg.remote_rtcp = remote;
  SetPort(leg.remote_rtcp, static_cast<uint16_t>(PortOf(remote) + 1));
  leg.format = format;
  leg.connected = true;
  leg.locked = false;
  leg.candidate_count = 0;
  leg.connect_us = NowMicros();
  leg.last_rx_us = leg.connect_us;
  leg.inactive_reported = false;
  if (!same_remote) {
    leg.rx.Reset();
    leg.have_event = false;
  }
  if (codec_changed) {
    leg.decoder = std::make_unique<Decoder>(format.codec);
    leg.encoder = std::make_unique<Encoder>(format.codec);
    leg.down8k = leg.rate() == 8000 ? nullptr : std::make_unique<Resampler>(leg.rate(), 8000);
    if (leg.in_recording) {
      leg.to_rec = std::make_unique<Resampler>(leg.rate(), engine_.config().recording_rate);
    }
    if (leg.has_peer) {
      if (Leg* p = Find(leg.peer)) ResetPeerResamplers(leg, *p);
    }
    if (leg.in_mix) SetMixResamplers(leg, mixes_.at(leg.mix_owner).rate);
  }
  // In-band detection only when the peer did not offer telephone-event (RFC 4733).
  if (format.dtmf_payload_type < 0 && leg.inband == nullptr) {
    leg.inband = dtmf_rx_init(
        nullptr,
        [](void* user, const char* digits, int len) {
          static_cast<Leg*>(user)->inband_digits.append(digits, static_cast<size_t>(len));
        },
        &leg);
  } else if (format.dtmf_payload_type >= 0 && leg.inband != nullptr) {
    dtmf_rx_free(leg.inband);
    leg.inband = nullptr;
  }
}

ports::LegStats MediaWorker::Close(LegId id) {
  auto it = legs_.find(id);
  if (it == legs_.end()) return {};
  Leg& leg = *it->second;
  if (leg.in_mix) EndMix(leg.mix_owner);
  UnbridgeLeg(leg);
  if (leg.in_recording) FinishRecording(leg.rec_owner);
  ports::LegStats stats;
  stats.packets_received = leg.received;
  stats.packets_sent = leg.sent;
  stats.packets_lost = leg.rx.lost();
  stats.packets_dropped = leg.dropped;
  stats.jitter_ms = leg.rx.jitter_ms();
  ::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, leg.rtp_fd, nullptr);
  ::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, leg.rtcp_fd, nullptr);
  legs_.erase(it);
  ++legs_removed_;
  return stats;
}

void MediaWorker::StopPlay(Leg& leg) {
  leg.pending_seq = 0;
  leg.playing = false;
  leg.parts.clear();
}

void MediaWorker::StartPlay(Leg& leg, uint64_t seq, uint64_t play_id, bool loop,
                            Result<std::vector<Samples>> parts) {
  if (leg.pending_seq != seq) return;  // replaced or stopped while loading
  leg.pending_seq = 0;
  if (!parts.ok() || parts->empty()) {
    // Nothing to play: the flow still hears that the prompt ended.
    if (!loop) {
      if (auto ev = engine_.events(); ev && ev->on_play_finished) {
        ev->on_play_finished(leg.id, play_id);
      }
    }
    return;
  }
  leg.parts = std::move(parts).value();
  leg.part = 0;
  leg.pos = 0;
  leg.loop = loop;
  leg.play_id = play_id;
  leg.playing = true;
}

void MediaWorker::ResetPeerResamplers(Leg& a, Leg& b) {
  a.to_peer = std::make_unique<Resampler>(a.rate(), b.rate());
  b.to_peer = std::make_unique<Resampler>(b.rate(), a.rate());
}

void MediaWorker::UnbridgeLeg(Leg& a) {
  if (!a.has_peer) return;
  if (Leg* b = Find(a.peer); b != nullptr && b->has_peer && b->peer == a.id) {
    b->has_peer = false;
    b->to_peer.reset();
  }
  a.has_peer = false;
  a.to_peer.reset();
}

void MediaWorker::BridgeLegs(Leg& a, Leg& b) {
  UnbridgeLeg(a);
  UnbridgeLeg(b);
  StopPlay(a);
  StopPlay(b);
  a.peer = b.id;
  b.peer = a.id;
  a.has_peer = b.has_peer = true;
  ResetPeerResamplers(a, b);
}

void MediaWorker::StartRecording(uint64_t id, Leg& customer, Leg& agent, const std::string& path) {
  (void)OpenRecording(id, customer, &agent, path);
}

void MediaWorker::RecordLeg(uint64_t id, Leg& leg, const std::string& path, int64_t max_samples) {
  OpenRecording(id, leg, nullptr, path).max_samples = max_samples;
}

Recording& MediaWorker::OpenRecording(uint64_t id, Leg& customer, Leg* agent,
                                      const std::string& path) {
  if (customer.in_recording) FinishRecording(customer.rec_owner);
  if (agent != nullptr && agent->in_recording) FinishRecording(agent->rec_owner);
  Recording& rec = recordings_[customer.id];
  rec.id = id;
  rec.customer = customer.id;
  rec.agent = agent != nullptr ? agent->id : customer.id;
  rec.channels = agent != nullptr ? 2 : 1;
  // The file's first sample is this moment: packets are placed the playout delay after what the
  // clock has written, so the clock starts that far before the file and writes nothing until it
  // reaches sample 0 (the file is as long as the recording, not a delay longer).
  rec.written = -int64_t{engine_.config().recording_rate} * kRecordingDelayMs / 1000;
  rec.clock_us = clock_us_;
  JoinRecording(customer, customer.id, /*right=*/false);
  if (agent != nullptr) JoinRecording(*agent, customer.id, /*right=*/true);
  const LegId customer_id = customer.id;
  MediaEngine* engine = &engine_;
  writer_.Open(id, path, engine_.config().recording_rate, rec.channels,
               [engine, customer_id](ports::RecordingInfo info) {
                 if (auto ev = engine->events(); ev && ev->on_recording_done) {
                   ev->on_recording_done(customer_id, std::move(info));
                 }
               });
  return rec;
}

void MediaWorker::JoinRecording(Leg& leg, LegId owner, bool right) {
  leg.in_recording = true;
  leg.rec_owner = owner;
  leg.rec_right = right;
  leg.to_rec = std::make_unique<Resampler>(leg.rate(), engine_.config().recording_rate);
  SetArrivalStamps(leg, true);
}

void MediaWorker::LeaveRecording(Leg& leg) {
  leg.in_recording = false;
  leg.to_rec.reset();
  SetArrivalStamps(leg, false);
}

// While its leg is recorded, the kernel stamps each packet's arrival (SCM_TIMESTAMPNS): a
// recording places a source's first packet by when it came, not by when a busy media thread got
// to it. Off otherwise: the stamp is a control message per packet that forwarding has no use for.
void MediaWorker::SetArrivalStamps(Leg& leg, bool on) {
  const int v = on ? 1 : 0;
  (void)::setsockopt(leg.rtp_fd, SOL_SOCKET, SO_TIMESTAMPNS, &v, sizeof(v));
}

void MediaWorker::PauseRecording(LegId customer, bool paused) {
  auto it = recordings_.find(customer);
  if (it != recordings_.end()) it->second.paused = paused;
}

void MediaWorker::FinishRecording(LegId customer) {
  auto it = recordings_.find(customer);
  if (it == recordings_.end()) return;
  for (LegId id : {it->second.customer, it->second.agent}) {
    if (Leg* l = Find(id); l != nullptr && l->rec_owner == customer) LeaveRecording(*l);
  }
  // The clock runs the playout delay behind the call, so the file ends with that delay's
  // samples: what was placed in it (silence where nothing came, or the pause's silence) and
  // anything placed beyond it. The file is as long as the recording was on, not a delay short.
  Recording& rec = it->second;
  const auto delay =
      static_cast<size_t>(engine_.config().recording_rate * kRecordingDelayMs / 1000);
  size_t rest = std::max({delay, rec.left.Ahead(rec.unflushed), rec.right.Ahead(rec.unflushed),
                          rec.barge.Ahead(rec.unflushed)});
  if (rec.max_samples > 0) {
    rest =
        static_cast<size_t>(std::clamp<int64_t>(rec.max_samples - rec.written, 0, int64_t(rest)));
  }
  if (rest > 0) RecordingTick(rec, rest);
  FlushRecording(rec, /*finish=*/true);
  recordings_.erase(it);
}

void MediaWorker::MoveRecording(LegId customer, Leg& agent) {
  auto it = recordings_.find(customer);
  if (it == recordings_.end() || it->second.channels == 1 || it->second.agent == agent.id ||
      agent.id == customer) {
    return;
  }
  Recording& rec = it->second;
  if (agent.in_recording) FinishRecording(agent.rec_owner);
  if (Leg* old = Find(rec.agent); old != nullptr && old->rec_owner == customer) {
    LeaveRecording(*old);
  }
  rec.agent = agent.id;
  // What the old agent said last (placed, not yet written) stays; the new agent's first packet
  // anchors the channel anew.
  rec.right.anchored = false;
  JoinRecording(agent, customer, /*right=*/true);
}

void MediaWorker::SetMixResamplers(Leg& leg, int mix_rate) {
  leg.to_mix = leg.rate() == mix_rate ? nullptr : std::make_unique<Resampler>(leg.rate(), mix_rate);
  leg.from_mix =
      leg.rate() == mix_rate ? nullptr : std::make_unique<Resampler>(mix_rate, leg.rate());
  leg.mix_in.clear();
}

void MediaWorker::StartMix(Leg& customer, Leg& agent, Leg& supervisor, ports::MonitorMode mode) {
  if (auto it = mixes_.find(customer.id); it != mixes_.end() && it->second.agent == agent.id &&
                                          it->second.supervisor == supervisor.id) {
    it->second.mode = mode;  // the next tick mixes the new way
    return;
  }
  for (Leg* l : {&customer, &agent, &supervisor}) {
    if (l->in_mix) EndMix(l->mix_owner);
  }
  StopPlay(supervisor);
  Mix& mix = mixes_[customer.id];
  mix.customer = customer.id;
  mix.agent = agent.id;
  mix.supervisor = supervisor.id;
  mix.mode = mode;
  mix.rate = std::max({customer.rate(), agent.rate(), supervisor.rate()});
  for (Leg* l : {&customer, &agent, &supervisor}) {
    l->in_mix = true;
    l->mix_owner = customer.id;
    SetMixResamplers(*l, mix.rate);
  }
}

void MediaWorker::EndMix(LegId customer) {
  auto it = mixes_.find(customer);
  if (it == mixes_.end()) return;
  for (LegId id : {it->second.customer, it->second.agent, it->second.supervisor}) {
    if (Leg* l = Find(id); l != nullptr && l->in_mix && l->mix_owner == customer) {
      l->in_mix = false;
      l->to_mix.reset();
      l->from_mix.reset();
      l->mix_in.clear();
    }
  }
  mixes_.erase(it);
}

void MediaWorker::StopMonitor(LegId supervisor) {
  Leg* s = Find(supervisor);
  if (s == nullptr || !s->in_mix) return;
  auto it = mixes_.find(s->mix_owner);
  if (it != mixes_.end() && it->second.supervisor == supervisor) EndMix(s->mix_owner);
}

void MediaWorker::QueueForMix(Leg& leg) {
  if (leg.to_mix) {
    leg.to_mix->Process(leg.pcm, leg.mix_in);
  } else {
    leg.mix_in.insert(leg.mix_in.end(), leg.pcm.begin(), leg.pcm.end());
  }
  // A peer that sends too fast must not grow memory or delay.
  const auto& mix = mixes_.at(leg.mix_owner);
  const auto cap = static_cast<size_t>(mix.rate * kMixQueueMs / 1000);
  if (leg.mix_in.size() > cap) {
    leg.mix_in.erase(leg.mix_in.begin(), leg.mix_in.end() - static_cast<ptrdiff_t>(cap));
  }
}

bool MediaWorker::MixFeeds(const Leg& leg) const {
  if (!leg.in_mix) return false;
  auto it = mixes_.find(leg.mix_owner);
  if (it == mixes_.end()) return false;
  if (leg.id != it->second.customer) return true;
  // The customer is in the mix only while bridged to the agent (not on hold).
  return leg.has_peer && leg.peer == it->second.agent;
}

void MediaWorker::SendMixed(Leg& leg, std::initializer_list<const std::vector<int16_t>*> inputs,
                            Mix& mix) {
  if (!leg.connected || leg.playing || !leg.digits_out.empty()) return;
  const size_t n = static_cast<size_t>(mix.rate * kTickMs / 1000);
  mix.out.assign(n, 0);
  for (const std::vector<int16_t>* in : inputs) {
    if (in == nullptr) continue;
    for (size_t i = 0; i < n; ++i) mix.out[i] = Saturate(int32_t{mix.out[i]} + (*in)[i]);
  }
  std::span<const int16_t> pcm = mix.out;
  if (leg.from_mix) {
    leg.pcm.clear();
    leg.from_mix->Process(mix.out, leg.pcm);
    pcm = leg.pcm;
  }
  std::array<uint8_t, kMaxPacket> encoded;
  const size_t bytes = leg.encoder->Encode(pcm, encoded);
  RtpHeader h;
  h.payload_type = leg.format.payload_type;
  SendRtp(leg, h, std::span<const uint8_t>(encoded.data(), bytes));
}

void MediaWorker::MixTick(Mix& mix) {
  Leg* c = Find(mix.customer);
  Leg* a = Find(mix.agent);
  Leg* s = Find(mix.supervisor);
  if (c == nullptr || a == nullptr || s == nullptr) return;
  const size_t n = static_cast<size_t>(mix.rate * kTickMs / 1000);
  const auto take = [n](Leg& leg, std::vector<int16_t>& frame) {
    frame.assign(n, 0);
    const size_t k = std::min(n, leg.mix_in.size());
    std::copy_n(leg.mix_in.begin(), k, frame.begin());
    leg.mix_in.erase(leg.mix_in.begin(), leg.mix_in.begin() + static_cast<ptrdiff_t>(k));
  };
  take(*c, mix.c);
  take(*a, mix.a);
  take(*s, mix.s);
  const bool customer_in = MixFeeds(*c);
  if (!customer_in) std::fill(mix.c.begin(), mix.c.end(), 0);
  const bool agent_hears_supervisor = mix.mode != ports::MonitorMode::kListen;
  const bool customer_hears_supervisor = mix.mode == ports::MonitorMode::kBarge;
  if (customer_in) {
    SendMixed(*c, {a->muted ? nullptr : &mix.a, customer_hears_supervisor ? &mix.s : nullptr}, mix);
  }
  SendMixed(*a, {c->muted ? nullptr : &mix.c, agent_hears_supervisor ? &mix.s : nullptr}, mix);
  SendMixed(*s, {&mix.c, &mix.a}, mix);
  // The recording keeps customer left, agent right; a barging supervisor, whom the customer
  // hears, goes into the agent's channel.
  if (!customer_hears_supervisor || !c->in_recording) return;
  auto rec = recordings_.find(c->rec_owner);
  if (rec == recordings_.end() || rec->second.agent != a->id || rec->second.paused) return;
  const int rec_rate = engine_.config().recording_rate;
  std::span<const int16_t> supervisor = mix.s;
  if (rec_rate != mix.rate) {
    if (!mix.to_rec || mix.to_rec->in_rate() != mix.rate) {
      mix.to_rec = std::make_unique<Resampler>(mix.rate, rec_rate);
    }
    mix.out.clear();
    mix.to_rec->Process(mix.s, mix.out);
    supervisor = mix.out;
  }
  // This tick's mix, at the playout delay like the packets heard now.
  Recording& r = rec->second;
  const int64_t pos = r.written + int64_t{rec_rate} * kRecordingDelayMs / 1000;
  const auto end = r.written + static_cast<int64_t>(r.barge.Ahead(r.unflushed));
  r.barge.Place(r.unflushed, r.written, std::max(pos, end), supervisor);
}

void MediaWorker::OnReadable(SocketTag& tag) {
  Leg& leg = *tag.leg;
  const int fd = tag.rtcp ? leg.rtcp_fd : leg.rtp_fd;
  for (int round = 0; round < 8; ++round) {
    for (size_t i = 0; i < kRecvBatch; ++i) {
      iov_[i] = {in_bufs_[i].data(), kMaxPacket};
      msgs_[i] = {};
      msgs_[i].msg_hdr.msg_iov = &iov_[i];
      msgs_[i].msg_hdr.msg_iovlen = 1;
      msgs_[i].msg_hdr.msg_name = &in_addrs_[i];
      msgs_[i].msg_hdr.msg_namelen = sizeof(sockaddr_storage);
      msgs_[i].msg_hdr.msg_control = controls_[i].data();
      msgs_[i].msg_hdr.msg_controllen = kControlBytes;
    }
    const int n = ::recvmmsg(fd, msgs_.data(), kRecvBatch, MSG_DONTWAIT, nullptr);
    if (n <= 0) return;
    const int64_t now = NowMicros();
    int64_t wall_us = -1;  // the kernel's stamps are wall-clock time: read once a stamp comes
    for (int i = 0; i < n; ++i) {
      const auto k = static_cast<size_t>(i);
      if (msgs_[k].msg_hdr.msg_flags & MSG_TRUNC) {  // larger than any packet we accept
        ++leg.dropped;
        ++dropped;
        continue;
      }
      const std::span<const uint8_t> data(in_bufs_[k].data(), msgs_[k].msg_len);
      packet_arrival_us_ = now;
      for (cmsghdr* c = CMSG_FIRSTHDR(&msgs_[k].msg_hdr); c != nullptr;
           c = CMSG_NXTHDR(&msgs_[k].msg_hdr, c)) {
        if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPNS) {
          timespec ts;
          std::memcpy(&ts, CMSG_DATA(c), sizeof(ts));
          if (wall_us < 0) {
            timespec wall{};
            ::clock_gettime(CLOCK_REALTIME, &wall);
            wall_us = int64_t{wall.tv_sec} * 1'000'000 + wall.tv_nsec / 1000;
          }
          const int64_t waited = wall_us - (int64_t{ts.tv_sec} * 1'000'000 + ts.tv_nsec / 1000);
          // A wall clock stepped meanwhile gives nonsense: then the packet counts as just come.
          if (waited > 0 && waited < 10'000'000) packet_arrival_us_ = now - waited;
        }
      }
      if (tag.rtcp) {
        OnRtcp(leg, data, now);
      } else {
        OnRtp(leg, data, in_addrs_[k], now);
      }
    }
    if (static_cast<size_t>(n) < kRecvBatch) return;
  }
}

void MediaWorker::OnRtcp(Leg& leg, std::span<const uint8_t> data, int64_t now) {
  if (!leg.connected) return;
  auto report = ParseRtcp(data);
  if (!report) return;
  ++rtcp_received;
  if (report->sender) {
    leg.lsr = static_cast<uint32_t>(report->sender->ntp_timestamp >> 16);
    leg.lsr_arrival_us = now;
  }
}

void MediaWorker::OnRtp(Leg& leg, std::span<const uint8_t> data, const sockaddr_storage& from,
                        int64_t now) {
  auto packet = ParseRtp(data);
  if (!packet || !leg.connected) {
    ++leg.dropped;
    ++dropped;
    return;
  }
  if (!SameAddress(from, leg.remote)) {
    // Source learning (NAT): a burst of consecutive packets from one new source, early on.
    const bool learning =
        !leg.locked && now - leg.connect_us <= engine_.config().learn_window.count();
    bool learnt = false;
    if (learning) {
      if (leg.candidate_count > 0 && SameAddress(from, leg.candidate) &&
          packet->header.sequence == static_cast<uint16_t>(leg.candidate_seq + 1)) {
        ++leg.candidate_count;
      } else {
        leg.candidate = from;
        leg.candidate_count = 1;
      }
      leg.candidate_seq = packet->header.sequence;
      if (leg.candidate_count >= engine_.config().learn_packets) {
        leg.remote = from;
        leg.remote_len = from.ss_family == AF_INET ? sizeof(sockaddr_in) : sizeof(sockaddr_in6);
        leg.remote_rtcp = from;
        SetPort(leg.remote_rtcp, static_cast<uint16_t>(PortOf(from) + 1));
        leg.rx.Reset();
        learnt = true;
      }
    }
    if (!learnt) {
      ++leg.dropped;
      ++dropped;
      return;
    }
  }
  leg.locked = true;
  const uint8_t pt = packet->header.payload_type;
  const bool is_event = leg.format.dtmf_payload_type >= 0 && pt == leg.format.dtmf_payload_type;
  if (pt != leg.format.payload_type && !is_event) {
    ++leg.dropped;
    ++dropped;
    return;
  }
  ++leg.received;
  ++received;
  leg.remote_ssrc = packet->header.ssrc;
  leg.rx.OnPacket(packet->header.sequence, packet->header.timestamp, now);
  leg.last_rx_us = now;
  leg.inactive_reported = false;
  if (is_event) {
    OnEvent(leg, *packet);
  } else {
    OnAudio(leg, *packet);
  }
}

void MediaWorker::FireDigit(Leg& leg, char digit) {
  if (auto ev = engine_.events(); ev && ev->on_digit) ev->on_digit(leg.id, digit);
}

void MediaWorker::OnEvent(Leg& leg, const RtpPacket& packet) {
  auto event = ParseTelephoneEvent(packet.payload);
  if (!event) return;
  // One event = one RTP timestamp (RFC 4733 section 2.5.1.2); its updates, end packets and
  // their retransmissions repeat it, so each event is reported once, on its first packet, and a
  // late packet of an earlier event (an older timestamp) is not a new one.
  const auto age = static_cast<int32_t>(packet.header.timestamp - leg.event_ts);
  if (!leg.have_event || age > 0) {
    leg.have_event = true;
    leg.event_ts = packet.header.timestamp;
    if (leg.has_peer) {
      if (Leg* peer = Find(leg.peer)) leg.forward_event_ts = peer->ts;
    }
    if (const char d = EventToDigit(event->event); d != 0) FireDigit(leg, d);
  }
  // Pass the event on to a bridged peer that negotiated telephone-event.
  if (leg.has_peer && !leg.muted) {
    Leg* peer = Find(leg.peer);
    if (peer != nullptr && peer->connected && peer->format.dtmf_payload_type >= 0 &&
        !peer->sending_event) {
      RtpHeader h = packet.header;
      h.payload_type = static_cast<uint8_t>(peer->format.dtmf_payload_type);
      h.timestamp = leg.forward_event_ts + (packet.header.timestamp - leg.event_ts);
      SendRtp(*peer, h, packet.payload);
    }
  }
}

void MediaWorker::OnAudio(Leg& leg, const RtpPacket& packet) {
  Leg* peer = leg.has_peer ? Find(leg.peer) : nullptr;
  if (peer != nullptr && !peer->connected) peer = nullptr;
  // A leg in a monitoring mix is heard through the mix only.
  const bool to_peer =
      !leg.in_mix && peer != nullptr && !peer->playing && !peer->sending_event && !leg.muted;
  const bool same_codec = to_peer && peer->format.codec == leg.format.codec;
  const bool need_pcm =
      leg.in_mix || leg.inband != nullptr || leg.in_recording || (to_peer && !same_codec);
  if (need_pcm) {
    leg.decoder->Decode(packet.payload, leg.pcm);
    if (leg.inband != nullptr) {
      std::span<const int16_t> in8k = leg.pcm;
      if (leg.down8k) {
        leg.pcm2.clear();
        leg.down8k->Process(leg.pcm, leg.pcm2);
        in8k = leg.pcm2;
      }
      dtmf_rx(leg.inband, in8k.data(), static_cast<int>(in8k.size()));
      if (!leg.inband_digits.empty()) {
        std::string digits;
        digits.swap(leg.inband_digits);
        for (char d : digits) FireDigit(leg, d);
      }
    }
    if (leg.in_recording) Record(leg, packet.header, leg.pcm);
    if (leg.in_mix) QueueForMix(leg);
  }
  if (!to_peer) return;
  RtpHeader h;
  h.marker = packet.header.marker;
  h.payload_type = peer->format.payload_type;
  if (same_codec) {
    // Same codec both sides: forward the payload untouched under the peer's own header.
    SendRtp(*peer, h, packet.payload);
    return;
  }
  leg.pcm2.clear();
  leg.to_peer->Process(leg.pcm, leg.pcm2);
  std::array<uint8_t, kMaxPacket> encoded;
  const size_t n = peer->encoder->Encode(leg.pcm2, encoded);
  SendRtp(*peer, h, std::span<const uint8_t>(encoded.data(), n));
}

void MediaWorker::Record(Leg& leg, const RtpHeader& header, std::span<const int16_t> pcm) {
  auto it = recordings_.find(leg.rec_owner);
  // Paused: what comes now is not kept (what came before the pause is; the ticks write silence).
  if (it == recordings_.end() || !leg.to_rec || it->second.paused) return;
  Recording& rec = it->second;
  RecordingChannel& ch = leg.rec_right ? rec.right : rec.left;
  const int64_t rate = engine_.config().recording_rate;
  std::span<const int16_t> samples = pcm;
  if (leg.to_rec->in_rate() != leg.to_rec->out_rate()) {
    leg.rec_pcm.clear();
    leg.to_rec->Process(pcm, leg.rec_pcm);
    samples = leg.rec_pcm;
  }
  // Where this packet belongs: its timestamp's distance from the channel's anchor. A new source,
  // a packet later than the delay absorbs or one too far ahead re-anchors at the delay.
  const int64_t delay = rate * kRecordingDelayMs / 1000;
  const int64_t ahead = rate * kRecordingAheadMs / 1000;
  int64_t pos = 0;
  if (ch.anchored && ch.ssrc == header.ssrc) {
    const auto units = static_cast<int32_t>(header.timestamp - ch.anchor_ts);
    pos = ch.anchor_pos + int64_t{units} * rate / RtpClockRate(leg.format.codec);
  }
  if (!ch.anchored || ch.ssrc != header.ssrc || pos < rec.written ||
      pos > rec.written + delay + ahead) {
    ch.anchored = true;
    ch.ssrc = header.ssrc;
    ch.anchor_ts = header.timestamp;
    // At the delay after when it came: a packet a busy thread read late goes where it belongs
    // (the clock has since passed that time), not later, which shifted the whole side and made
    // the file longer than the call.
    const int64_t since_clock = (packet_arrival_us_ - rec.clock_us) * rate / 1'000'000;
    ch.anchor_pos = pos = std::max(rec.written, rec.written + delay + since_clock);
  }
  ch.Place(rec.unflushed, rec.written, pos, samples);
}

void MediaWorker::SendRtp(Leg& leg, const RtpHeader& header, std::span<const uint8_t> payload) {
  RtpHeader h = header;
  h.ssrc = leg.ssrc;
  h.sequence = leg.seq++;
  const bool is_event =
      leg.format.dtmf_payload_type >= 0 && h.payload_type == leg.format.dtmf_payload_type;
  if (!is_event) {
    h.timestamp = leg.ts;
    // G.711 and G.722 at 64 kbit/s: one RTP timestamp unit per payload byte.
    leg.ts += static_cast<uint32_t>(payload.size());
  }
  const size_t n = WriteRtp(h, payload, scratch_);
  if (n == 0) return;
  leg.last_sent_ts = h.timestamp;
  ++leg.sent;
  leg.octets += payload.size();
  ++sent;
  Queue(leg.rtp_fd, leg.remote, leg.remote_len, scratch_.data(), n);
}

void MediaWorker::Queue(int fd, const sockaddr_storage& to, socklen_t len, const uint8_t* data,
                        size_t n) {
  if (out_n_ == out_.size()) Flush();
  OutPacket& p = out_[out_n_++];
  p.fd = fd;
  p.to = to;
  p.len = len;
  p.size = n;
  std::memcpy(p.data.data(), data, n);
}

void MediaWorker::Flush() {
  std::array<mmsghdr, 64> msgs;
  std::array<iovec, 64> iov;
  size_t i = 0;
  while (i < out_n_) {
    // One sendmmsg per run of packets on the same socket.
    const int fd = out_[i].fd;
    size_t k = 0;
    while (i + k < out_n_ && k < msgs.size() && out_[i + k].fd == fd) {
      OutPacket& p = out_[i + k];
      iov[k] = {p.data.data(), p.size};
      msgs[k] = {};
      msgs[k].msg_hdr.msg_iov = &iov[k];
      msgs[k].msg_hdr.msg_iovlen = 1;
      msgs[k].msg_hdr.msg_name = &p.to;
      msgs[k].msg_hdr.msg_namelen = p.len;
      ++k;
    }
    (void)::sendmmsg(fd, msgs.data(), static_cast<unsigned>(k), MSG_DONTWAIT);
    i += k;
  }
  out_n_ = 0;
}

void MediaWorker::SendAudioFrame(Leg& leg) {
  const size_t frame = static_cast<size_t>(leg.rate() * kTickMs / 1000);
  leg.pcm.assign(frame, 0);
  if (leg.playing) {
    size_t filled = 0;
    while (filled < frame && leg.playing) {
      const std::vector<int16_t>& part = *leg.parts[leg.part];
      const size_t take = std::min(frame - filled, part.size() - leg.pos);
      std::copy_n(part.begin() + static_cast<ptrdiff_t>(leg.pos), take,
                  leg.pcm.begin() + static_cast<ptrdiff_t>(filled));
      filled += take;
      leg.pos += take;
      if (leg.pos >= part.size()) {
        leg.pos = 0;
        if (++leg.part >= leg.parts.size()) {
          leg.part = 0;
          if (!leg.loop) {
            leg.playing = false;
            leg.parts.clear();
            if (auto ev = engine_.events(); ev && ev->on_play_finished) {
              ev->on_play_finished(leg.id, leg.play_id);
            }
          }
        }
      }
    }
  }
  std::array<uint8_t, kMaxPacket> encoded;
  const size_t n = leg.encoder->Encode(leg.pcm, encoded);
  RtpHeader h;
  h.payload_type = leg.format.payload_type;
  SendRtp(leg, h, std::span<const uint8_t>(encoded.data(), n));
}

void MediaWorker::SendEventTick(Leg& leg) {
  constexpr uint16_t kEventUnits = 800;  // 100 ms at 8000 Hz
  if (leg.send_event_gap > 0) {
    --leg.send_event_gap;
    if (leg.send_event_gap == 0) {
      leg.sending_event = false;
      leg.digits_out.erase(0, 1);
    }
    return;
  }
  TelephoneEvent e;
  e.event = static_cast<uint8_t>(DigitToEvent(leg.digits_out.front()));
  e.volume = 10;
  RtpHeader h;
  h.payload_type = static_cast<uint8_t>(leg.format.dtmf_payload_type);
  h.timestamp = leg.send_event_ts;
  h.marker = leg.send_event_elapsed == 0;
  if (leg.send_event_elapsed < kEventUnits) {
    leg.send_event_elapsed = static_cast<uint16_t>(leg.send_event_elapsed + 160);
    e.duration = leg.send_event_elapsed;
  } else {
    e.end = true;
    e.duration = kEventUnits;
    // The end packet goes out three times (RFC 4733 section 2.5.1.4).
    if (++leg.send_event_ends >= 3) leg.send_event_gap = 3;
  }
  leg.ts += 160;  // audio time keeps running under the event
  std::array<uint8_t, 4> payload;
  WriteTelephoneEvent(e, payload);
  SendRtp(leg, h, payload);
}

void MediaWorker::SendRtcp(Leg& leg, int64_t now) {
  std::optional<SenderInfo> sender;
  if (leg.sent > 0) {
    sender = SenderInfo{NtpNow(), leg.last_sent_ts, static_cast<uint32_t>(leg.sent),
                        static_cast<uint32_t>(leg.octets)};
  }
  std::optional<ReportBlock> block;
  if (leg.received > 0) {
    ReportBlock b;
    b.ssrc = leg.remote_ssrc;
    b.fraction_lost = leg.rx.TakeFractionLost();
    b.cumulative_lost = static_cast<int32_t>(std::min<uint64_t>(leg.rx.lost(), 0x7fffff));
    b.highest_sequence = leg.rx.extended_highest();
    b.jitter = leg.rx.jitter_units();
    b.last_sr = leg.lsr;
    if (leg.lsr != 0) {
      b.delay_since_last_sr = static_cast<uint32_t>((now - leg.lsr_arrival_us) * 65536 / 1'000'000);
    }
    block = b;
  }
  std::array<uint8_t, 64> buf;
  const size_t n = WriteRtcpReport(leg.ssrc, sender, block, buf);
  if (n == 0) return;
  ++rtcp_sent;
  Queue(leg.rtcp_fd, leg.remote_rtcp, leg.remote_len, buf.data(), n);
}

void MediaWorker::Tick(int64_t now, uint64_t expirations) {
  const auto& config = engine_.config();
  std::vector<LegId> inactive;
  for (auto& [id, owned] : legs_) {
    Leg& leg = *owned;
    if (!leg.connected) continue;
    if (!leg.digits_out.empty()) {
      if (!leg.sending_event) {
        leg.sending_event = true;
        leg.send_event_ts = leg.ts;
        leg.send_event_elapsed = 0;
        leg.send_event_ends = 0;
        leg.send_event_gap = 0;
      }
      SendEventTick(leg);
    } else if (!leg.playing && MixFeeds(leg)) {
      // MixTick sends this leg's audio.
    } else {
      const Leg* peer = leg.has_peer ? Find(leg.peer) : nullptr;
      // Silence (or the prompt) unless a bridged, unmuted peer's packets feed this leg.
      if (leg.playing || peer == nullptr || peer->muted) SendAudioFrame(leg);
    }
    if (now >= leg.next_rtcp_us) {
      if (leg.next_rtcp_us != 0) SendRtcp(leg, now);
      leg.next_rtcp_us = now + config.rtcp_interval.count();
    }
    if (!leg.inactive_reported && now - leg.last_rx_us > config.inactivity_timeout.count()) {
      leg.inactive_reported = true;
      inactive.push_back(id);
    }
  }
  for (LegId id : inactive) {
    if (auto ev = engine_.events(); ev && ev->on_inactive) ev->on_inactive(id);
  }
  for (auto& [customer, mix] : mixes_) MixTick(mix);
  // Recordings keep wall-clock time: a worker that stalled writes the ticks it missed (the
  // packets that came meanwhile, read before this, are in place).
  const size_t frame = static_cast<size_t>(config.recording_rate * kTickMs / 1000);
  const uint64_t ticks = std::min<uint64_t>(expirations, kMaxCatchUpTicks);
  std::vector<LegId> full;  // voicemails at their maximum length
  for (auto& [customer, rec] : recordings_) {
    for (uint64_t k = 0; k < ticks && !rec.Full(); ++k) RecordingTick(rec, frame);
    rec.clock_us = clock_us_;  // ticks beyond the catch-up are lost time, not a shift
    if (rec.Full()) full.push_back(customer);
  }
  for (LegId customer : full) {
    Recording& rec = recordings_.at(customer);
    rec.left.buf.resize(std::min(rec.left.buf.size(), rec.unflushed));  // nothing beyond the limit
    FinishRecording(customer);
  }
}

void MediaWorker::RecordingTick(Recording& rec, size_t frame) {
  // Samples before the recording's start (the first playout delay of the clock) are not in it.
  const auto before = static_cast<size_t>(std::clamp<int64_t>(-rec.written, 0, int64_t(frame)));
  rec.written += static_cast<int64_t>(frame);
  if (before > 0) {
    rec.left.Drop(before);
    rec.right.Drop(before);
    rec.barge.Drop(before);
  }
  rec.unflushed += frame - before;
  const auto chunk =
      static_cast<size_t>(engine_.config().recording_rate) * kRecordingChunkMs / 1000;
  // The first chunk is between half a chunk and one and a half, by the recording's id, so
  // recordings that started together (a thousand calls at once) do not all cut, allocate and
  // hand over their chunks in the same tick every second after.
  const size_t first = chunk / 2 + (rec.id * 7919 % 50) * chunk / 50;
  if (rec.unflushed >= (rec.flushed_once ? chunk : first)) FlushRecording(rec);
}

void MediaWorker::FlushRecording(Recording& rec, bool finish) {
  RecordingWriter::Chunk c{rec.id, {}, {}, finish};
  if (rec.unflushed > 0) {
    rec.left.Cut(rec.unflushed, c.left);
    if (rec.channels == 2) {
      rec.right.Cut(rec.unflushed, c.right);
      if (!rec.barge.buf.empty()) {  // the barging supervisor, into the agent's channel
        std::vector<int16_t> b;
        rec.barge.Cut(rec.unflushed, b);
        for (size_t i = 0; i < b.size(); ++i) {
          c.right[i] = Saturate(int32_t{c.right[i]} + b[i]);
        }
      }
    }
    rec.unflushed = 0;
    rec.flushed_once = true;
  }
  if (c.left.empty() && !finish) return;
  to_writer_.push_back(std::move(c));
}

void MediaWorker::SendToWriter() {
  if (to_writer_.empty()) return;
  writer_.Write(std::move(to_writer_));
  to_writer_ = {};
}

// ---------------------------------------------------------------------------------------------

MediaEngine::MediaEngine(MediaConfig config) : config_(std::move(config)) {
  writer_ = std::make_unique<RecordingWriter>();
  loader_ = std::make_unique<PromptLoader>();
  for (int i = 0; i < config_.threads; ++i) {
    workers_.push_back(std::make_unique<MediaWorker>(*this, *writer_));
  }
  port_used_.assign((config_.port_max - config_.port_min + 1u) / 2, false);
  events_ = std::make_shared<const ports::MediaEvents>();
}

MediaEngine::~MediaEngine() {
  loader_.reset();   // drains prompt loads first: they post to the workers
  workers_.clear();  // joins the media threads; their legs close
  writer_.reset();   // finishes open recordings
}

Result<std::unique_ptr<MediaEngine>> MediaEngine::Create(MediaConfig config) {
  sockaddr_storage addr;
  socklen_t len = 0;
  if (!ParseAddress(config.address, 0, addr, len)) {
    return InvalidArgument("media address '" + config.address + "' is not a numeric IP address");
  }
  if (config.port_min % 2 != 0) ++config.port_min;
  if (config.port_min == 0 || config.port_max <= config.port_min) {
    return InvalidArgument("media port range must hold at least one even/odd pair");
  }
  if (config.threads < 1 || config.threads > 64) {
    return InvalidArgument("media threads must be between 1 and 64");
  }
  if (config.recording_rate != 8000 && config.recording_rate != 16000) {
    return InvalidArgument("recording rate must be 8000 or 16000");
  }
  return std::unique_ptr<MediaEngine>(new MediaEngine(std::move(config)));
}

Result<std::unique_ptr<ports::MediaPlane>> MakeMediaPlane(MediaConfig config) {
  auto engine = MediaEngine::Create(std::move(config));
  if (!engine.ok()) return engine.status();
  return std::unique_ptr<ports::MediaPlane>(std::move(engine).value());
}

std::shared_ptr<const ports::MediaEvents> MediaEngine::events() const {
  std::lock_guard lock(mu_);
  return events_;
}

void MediaEngine::SetEvents(ports::MediaEvents events) {
  auto p = std::make_shared<const ports::MediaEvents>(std::move(events));
  std::lock_guard lock(mu_);
  events_ = std::move(p);
}

MediaWorker* MediaEngine::WorkerLocked(LegId leg) {
  auto it = legs_.find(leg);
  if (it == legs_.end()) return nullptr;
  return workers_[static_cast<size_t>(it->second.worker)].get();
}

void MediaEngine::PostToLeg(LegId leg, std::function<void(MediaWorker&)> task) {
  std::lock_guard lock(mu_);
  MediaWorker* w = WorkerLocked(leg);
  if (w == nullptr) return;
  w->Post({{leg, 0}, 1, std::move(task)});
}

void MediaEngine::MoveLocked(LegId leg, int to) {
  LegEntry& entry = legs_.at(leg);
  if (entry.worker == to) return;
  MediaWorker* from = workers_[static_cast<size_t>(entry.worker)].get();
  MediaWorker* dest = workers_[static_cast<size_t>(to)].get();
  entry.worker = to;
  from->Post({{leg, 0}, 1, [leg, dest](MediaWorker& w) {
                std::shared_ptr<Leg> l = w.Extract(leg);
                if (l == nullptr) return;
                dest->Post({{}, 0, [l = std::move(l)](MediaWorker& d) { d.Adopt(l); }});
              }});
}

Result<ports::RtpEndpoint> MediaEngine::OpenLeg(LegId leg) {
  std::lock_guard lock(mu_);
  if (legs_.contains(leg)) return Conflict("leg " + std::to_string(leg) + " is already open");
  const size_t pairs = port_used_.size();
  for (size_t tried = 0; tried < pairs; ++tried) {
    const size_t slot = port_cursor_;
    port_cursor_ = (port_cursor_ + 1) % pairs;
    if (port_used_[slot]) continue;
    const auto port = static_cast<uint16_t>(config_.port_min + 2 * slot);
    const int rtp = BindUdp(config_.address, port);
    if (rtp < 0) continue;
    const int rtcp = BindUdp(config_.address, static_cast<uint16_t>(port + 1));
    if (rtcp < 0) {
      ::close(rtp);
      continue;
    }
    port_used_[slot] = true;
    auto l = std::make_shared<Leg>();
    l->id = leg;
    l->rtp_fd = rtp;
    l->rtcp_fd = rtcp;
    const int w = static_cast<int>(leg % workers_.size());
    legs_[leg] = LegEntry{w, port, 0, 8000, -1};
    workers_[static_cast<size_t>(w)]->Post(
        {{}, 0, [l = std::move(l)](MediaWorker& w) { w.Adopt(l); }});
    return ports::RtpEndpoint{config_.address, port};
  }
  return Unavailable("no free RTP port pair in " + std::to_string(config_.port_min) + "-" +
                     std::to_string(config_.port_max));
}

Status MediaEngine::ConnectLeg(LegId leg, ports::RtpEndpoint remote, ports::MediaFormat format) {
  sockaddr_storage addr;
  socklen_t len = 0;
  if (!ParseAddress(remote.address, remote.port, addr, len) || remote.port == 0) {
    return InvalidArgument("remote RTP endpoint '" + remote.address + ":" +
                           std::to_string(remote.port) + "' is not a numeric address and port");
  }
  if (format.payload_type > 127 || format.dtmf_payload_type > 127 ||
      format.dtmf_payload_type == format.payload_type) {
    return InvalidArgument("payload types must be distinct and 0..127");
  }
  if (format.ptime_ms != kTickMs) {
    // TODO(#6): other packet times; every leg is paced by the 20 ms clock for now.
    format.ptime_ms = kTickMs;
  }
  std::lock_guard lock(mu_);
  auto it = legs_.find(leg);
  if (it == legs_.end()) return NotFound("leg " + std::to_string(leg) + " is not open");
  it->second.rate = AudioRate(format.codec);
  it->second.dtmf_pt = format.dtmf_payload_type;
  workers_[static_cast<size_t>(it->second.worker)]->Post(
      {{leg, 0}, 1, [leg, addr, len, format](MediaWorker& w) {
         w.Connect(*w.Find(leg), addr, len, format);
       }});
  return Status::Ok();
}

ports::LegStats MediaEngine::CloseLeg(LegId leg) {
  {
    std::lock_guard lock(mu_);
    MediaWorker* w = WorkerLocked(leg);
    if (w == nullptr) return {};
    PARLEY_CHECK(!w->InThread());  // see the class comment: never from a MediaEvents callback
  }
  std::promise<ports::LegStats> done;
  std::future<ports::LegStats> result = done.get_future();
  CloseLeg(leg, [&done](ports::LegStats stats) { done.set_value(stats); });
  return result.get();
}

void MediaEngine::CloseLeg(LegId leg, std::function<void(ports::LegStats)> done) {
  {
    std::lock_guard lock(mu_);
    auto it = legs_.find(leg);
    if (it != legs_.end()) {
      MediaWorker* w = workers_[static_cast<size_t>(it->second.worker)].get();
      const auto slot = static_cast<size_t>((it->second.port - config_.port_min) / 2);
      legs_.erase(it);
      w->Post({{leg, 0}, 1, [this, leg, slot, done = std::move(done)](MediaWorker& worker) {
                 const ports::LegStats stats = worker.Close(leg);
                 {
                   std::lock_guard lock(mu_);
                   port_used_[slot] = false;  // the sockets are closed now
                 }
                 if (done) done(stats);
               }});
      return;
    }
  }
  if (done) done({});
}

void MediaEngine::Play(LegId leg, uint64_t play_id, const ports::Prompt& prompt, bool loop) {
  uint64_t seq = 0;
  int rate = 8000;
  {
    std::lock_guard lock(mu_);
    auto it = legs_.find(leg);
    if (it == legs_.end()) return;
    seq = ++it->second.play_seq;
    rate = it->second.rate;
    workers_[static_cast<size_t>(it->second.worker)]->Post(
        {{leg, 0}, 1, [leg, seq](MediaWorker& w) {
           Leg& l = *w.Find(leg);
           w.StopPlay(l);
           l.pending_seq = seq;
         }});
  }
  PromptDirs dirs{config_.prompt_dir, config_.tts_cache_dir, config_.moh_dir};
  loader_->Post([this, leg, seq, play_id, prompt, loop, rate, dirs] {
    auto parts =
        std::make_shared<Result<std::vector<Samples>>>(LoadPrompt(prompt, loop, dirs, rate));
    PostToLeg(leg, [leg, seq, play_id, loop, parts](MediaWorker& w) {
      w.StartPlay(*w.Find(leg), seq, play_id, loop, std::move(*parts));
    });
  });
}

void MediaEngine::StopPlayback(LegId leg) {
  PostToLeg(leg, [leg](MediaWorker& w) { w.StopPlay(*w.Find(leg)); });
}

Status MediaEngine::Bridge(LegId a, LegId b) {
  if (a == b) return InvalidArgument("a leg cannot be bridged to itself");
  std::lock_guard lock(mu_);
  if (!legs_.contains(a) || !legs_.contains(b)) {
    return NotFound("both legs must be open to bridge them");
  }
  const int w = legs_[a].worker;
  MoveLocked(b, w);
  workers_[static_cast<size_t>(w)]->Post({{a, b}, 2, [a, b](MediaWorker& worker) {
                                            worker.BridgeLegs(*worker.Find(a), *worker.Find(b));
                                          }});
  return Status::Ok();
}

void MediaEngine::Unbridge(LegId a) {
  PostToLeg(a, [a](MediaWorker& w) { w.UnbridgeLeg(*w.Find(a)); });
}

Status MediaEngine::StartRecording(LegId customer, LegId agent, std::string path) {
  if (customer == agent) return InvalidArgument("customer and agent must be different legs");
  if (path.empty()) return InvalidArgument("recording path is empty");
  std::lock_guard lock(mu_);
  if (!legs_.contains(customer) || !legs_.contains(agent)) {
    return NotFound("both legs must be open to record them");
  }
  const int w = legs_[customer].worker;
  MoveLocked(agent, w);
  const uint64_t id = next_recording_++;
  workers_[static_cast<size_t>(w)]->Post(
      {{customer, agent}, 2, [id, customer, agent, path = std::move(path)](MediaWorker& worker) {
         worker.StartRecording(id, *worker.Find(customer), *worker.Find(agent), path);
       }});
  return Status::Ok();
}

Status MediaEngine::MoveRecording(LegId customer, LegId agent) {
  if (customer == agent) return InvalidArgument("customer and agent must be different legs");
  std::lock_guard lock(mu_);
  if (!legs_.contains(customer) || !legs_.contains(agent)) {
    return NotFound("both legs must be open to move a recording");
  }
  const int w = legs_[customer].worker;
  MoveLocked(agent, w);
  workers_[static_cast<size_t>(w)]->Post(
      {{customer, agent}, 2, [customer, agent](MediaWorker& worker) {
         worker.MoveRecording(customer, *worker.Find(agent));
       }});
  return Status::Ok();
}

Status MediaEngine::RecordLeg(LegId leg, std::string path, Duration max_length) {
  if (path.empty()) return InvalidArgument("recording path is empty");
  if (max_length < Duration::zero()) return InvalidArgument("maximum length is negative");
  const int64_t max_samples = max_length.count() * config_.recording_rate / 1'000'000;
  std::lock_guard lock(mu_);
  if (!legs_.contains(leg)) return NotFound("the leg must be open to record it");
  const uint64_t id = next_recording_++;
  workers_[static_cast<size_t>(legs_[leg].worker)]->Post(
      {{leg}, 1, [id, leg, max_samples, path = std::move(path)](MediaWorker& worker) {
         worker.RecordLeg(id, *worker.Find(leg), path, max_samples);
       }});
  return Status::Ok();
}

void MediaEngine::PauseRecording(LegId customer, bool paused) {
  PostToLeg(customer, [customer, paused](MediaWorker& w) { w.PauseRecording(customer, paused); });
}

void MediaEngine::StopRecording(LegId customer) {
  PostToLeg(customer, [customer](MediaWorker& w) { w.FinishRecording(customer); });
}

Status MediaEngine::SendDigits(LegId leg, const std::string& digits) {
  for (char d : digits) {
    if (DigitToEvent(d) < 0) return InvalidArgument(std::string("'") + d + "' is not a DTMF digit");
  }
  std::lock_guard lock(mu_);
  auto it = legs_.find(leg);
  if (it == legs_.end()) return NotFound("leg " + std::to_string(leg) + " is not open");
  if (it->second.dtmf_pt < 0) return InvalidArgument("the leg did not negotiate telephone-event");
  workers_[static_cast<size_t>(it->second.worker)]->Post(
      {{leg, 0}, 1, [leg, digits](MediaWorker& w) { w.Find(leg)->digits_out += digits; }});
  return Status::Ok();
}

void MediaEngine::SetMuted(LegId leg, bool muted) {
  PostToLeg(leg, [leg, muted](MediaWorker& w) {
    if (Leg* l = w.Find(leg)) l->muted = muted;
  });
}

Status MediaEngine::Monitor(LegId customer, LegId agent, LegId supervisor,
                            ports::MonitorMode mode) {
  if (customer == agent || customer == supervisor || agent == supervisor) {
    return InvalidArgument("customer, agent and supervisor must be three different legs");
  }
  std::lock_guard lock(mu_);
  if (!legs_.contains(customer) || !legs_.contains(agent) || !legs_.contains(supervisor)) {
    return NotFound("customer, agent and supervisor legs must be open to monitor");
  }
  const int w = legs_[customer].worker;
  MoveLocked(agent, w);
  MoveLocked(supervisor, w);
  workers_[static_cast<size_t>(w)]->Post(
      {{customer, agent, supervisor}, 3, [customer, agent, supervisor, mode](MediaWorker& worker) {
         worker.StartMix(*worker.Find(customer), *worker.Find(agent), *worker.Find(supervisor),
                         mode);
       }});
  return Status::Ok();
}

void MediaEngine::StopMonitor(LegId supervisor) {
  PostToLeg(supervisor, [supervisor](MediaWorker& w) { w.StopMonitor(supervisor); });
}

MediaCounters MediaEngine::Counters() const {
  MediaCounters c;
  for (const auto& w : workers_) {
    c.packets_received += w->received.load(std::memory_order_relaxed);
    c.packets_sent += w->sent.load(std::memory_order_relaxed);
    c.packets_dropped += w->dropped.load(std::memory_order_relaxed);
    c.rtcp_received += w->rtcp_received.load(std::memory_order_relaxed);
    c.rtcp_sent += w->rtcp_sent.load(std::memory_order_relaxed);
    c.ticks_late += w->ticks_late.load(std::memory_order_relaxed);
    c.most_ticks_at_once =
        std::max(c.most_ticks_at_once, w->most_ticks_at_once.load(std::memory_order_relaxed));
  }
  return c;
}

}  // namespace parley::media
