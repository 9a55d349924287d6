// media_bench --search: paced G.711 calls through media::MediaEngine and through the minimal relay
// of loopback_udp.h, in one process, with the same load generator.
//
// A call is two legs bridged to each other. The generator owns a caller socket and an agent
// socket per call; each sends 50 RTP packets per second (160 bytes of non-silent PCMU, its own
// sequence numbers) to its leg, and receives what the other side sent, forwarded. Calls send in
// 20 staggered 1 ms slots (as independent phones do), not all at once. A step passes when every
// packet sent arrived (no sequence gap, nothing missing after a drain) and the generator kept its
// schedule. The search doubles the number of calls from a start until a step fails, then bisects.
//
// recorded_calls: the same with StartRecording on every call; after StopRecording, each WAV must
// have both channels, a length within 100 ms of the recording's wall time and, between the first
// and the last audio of each channel, no 20 ms block of silence (a gap).

#include "media_search.h"

#include <sndfile.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "loopback_udp.h"
#include "media/media_engine.h"
#include "media/receive_stats.h"
#include "media/rtp.h"

namespace parley::bench {
namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

constexpr int kPacketsPerCall = 100;  // 50 per second each way
constexpr int kSlots = 20;            // 1 ms slots in a 20 ms packet time
constexpr size_t kPayloadBytes = 160;

int64_t NowUs() {
  return std::chrono::duration_cast<std::chrono::microseconds>(Clock::now().time_since_epoch())
      .count();
}

// The generator's side of N calls. Calls share a few generator sockets (kGroups for callers,
// kGroups for agents; leg endpoints are per call as in production) so that each 1 ms slot is one
// sendmmsg per socket and the generator is not the bottleneck. Stream 2i is what call i's caller
// receives (from its first leg), 2i+1 what its agent receives; streams are told apart by the
// port they come from.
class CallLoad {
 public:
  static constexpr size_t kGroups = 4;

  CallLoad() : stream_of_port_(65536, -1) {
    for (size_t i = 0; i < 2 * kGroups; ++i) {
      uint16_t port = 0;
      const int fd = BindWithRtcpPort(&port);
      fds_.push_back(fd);
      ports_.push_back(port);
      const int size = 8 << 20;  // root may exceed rmem_max; harmless when refused
      ::setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size));
      ::setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &size, sizeof(size));
    }
  }
  ~CallLoad() {
    for (int fd : fds_) ::close(fd);
    for (int fd : rtcp_fds_) ::close(fd);
  }
  bool ok() const {
    return std::none_of(fds_.begin(), fds_.end(), [](int fd) { return fd < 0; });
  }
  // The generator's caller and agent ports for the next call.
  std::pair<uint16_t, uint16_t> NextEndpoints() const {
    const size_t g = GroupOf(targets_.size() / 2);
    return {ports_[2 * g], ports_[2 * g + 1]};
  }
  // Adds that call: its caller sends to port `a` and hears from it, its agent likewise with `b`.
  void AddCall(uint16_t a, uint16_t b) {
    stream_of_port_[a] = static_cast<int32_t>(targets_.size());
    stream_of_port_[b] = static_cast<int32_t>(targets_.size() + 1);
    targets_.push_back(To(a));
    targets_.push_back(To(b));
  }

  struct Outcome {
    uint64_t offered_pps = 0, sent = 0, received = 0, gaps = 0, send_errors = 0, late_ticks = 0;
    double seconds = 0;
    bool ok() const {
      return sent > 0 && received == sent && gaps == 0 && send_errors == 0 &&
             static_cast<double>(sent) / seconds >= 0.98 * static_cast<double>(offered_pps);
    }
    nlohmann::json Json() const {
      return {{"sent", sent},
              {"received", received},
              {"sequence_gaps", gaps},
              {"send_errors", send_errors},
              {"late_ticks", late_ticks},
              {"seconds", seconds},
              {"sent_pps", static_cast<double>(sent) / seconds},
              {"forwarded_pps", static_cast<double>(received) / seconds}};
    }
  };

  // Sends for `length`, then waits for the last packets (at most 2 s). What arrived before (a
  // leg's silence before it was bridged) is discarded.
  Outcome Run(std::chrono::milliseconds length) {
    std::this_thread::sleep_for(100ms);  // bridges and recordings in place on the media thread
    std::array<uint8_t, 2048> scratch;
    for (int fd : fds_) {
      while (::recv(fd, scratch.data(), scratch.size(), MSG_DONTWAIT) >= 0) {
      }
    }
    const size_t streams = targets_.size();
    std::atomic<bool> stop{false};
    std::atomic<uint64_t> received{0};
    std::vector<media::ReceiveStats> stats(streams, media::ReceiveStats(8000));
    std::thread sink([&] { Receive(stop, received, stats); });

    Outcome out;
    out.offered_pps = static_cast<uint64_t>(streams) * 50u;
    std::array<uint8_t, kPayloadBytes> payload;
    for (size_t i = 0; i < payload.size(); ++i) payload[i] = (i % 2) ? 0x90 : 0x10;  // audible
    const size_t calls = streams / 2;
    const size_t per_slot = calls / kSlots + 1;
    // Per generator socket, one slot's packets.
    std::vector<std::vector<std::array<uint8_t, kPayloadBytes + media::kRtpHeaderSize>>> bufs(
        fds_.size(), std::vector<std::array<uint8_t, kPayloadBytes + media::kRtpHeaderSize>>(
                         per_slot / kGroups + 2));
    std::vector<std::vector<mmsghdr>> msgs(fds_.size());
    std::vector<std::vector<iovec>> iovs(fds_.size());
    for (size_t f = 0; f < fds_.size(); ++f) {
      msgs[f].resize(bufs[f].size());
      iovs[f].resize(bufs[f].size());
    }
    std::vector<uint16_t> seq(streams, 0);
    const auto start = Clock::now();
    for (int64_t t = 0; t < length.count(); ++t) {  // 1 ms ticks
      const auto due = start + std::chrono::milliseconds(t);
      std::this_thread::sleep_until(due);
      if (Clock::now() - due > 20ms) ++out.late_ticks;
      std::vector<size_t> used(fds_.size(), 0);
      for (size_t c = static_cast<size_t>(t % kSlots); c < calls; c += kSlots) {
        for (size_t s = 2 * c; s < 2 * c + 2; ++s) {
          const size_t f = 2 * GroupOf(c) + (s % 2);
          size_t& k = used[f];
          if (k == bufs[f].size()) continue;  // cannot happen: sized for a slot
          const media::RtpHeader h{false, 0, seq[s], static_cast<uint32_t>(seq[s]) * 160u,
                                   static_cast<uint32_t>(s + 1)};
          ++seq[s];
          iovs[f][k] = {bufs[f][k].data(), media::WriteRtp(h, payload, bufs[f][k])};
          msgs[f][k] = {};
          msgs[f][k].msg_hdr.msg_iov = &iovs[f][k];
          msgs[f][k].msg_hdr.msg_iovlen = 1;
          msgs[f][k].msg_hdr.msg_name = &targets_[s];
          msgs[f][k].msg_hdr.msg_namelen = sizeof(sockaddr_in);
          ++k;
        }
      }
      for (size_t f = 0; f < fds_.size(); ++f) {
        size_t done = 0;
        while (done < used[f]) {
          const int n =
              ::sendmmsg(fds_[f], msgs[f].data() + done, static_cast<unsigned>(used[f] - done), 0);
          if (n <= 0) {
            out.send_errors += used[f] - done;
            break;
          }
          done += static_cast<size_t>(n);
        }
        out.sent += done;
      }
    }
    out.seconds = std::chrono::duration<double>(Clock::now() - start).count();
    // Drain: stop once everything arrived, or after 300 ms without progress (at most 2 s).
    const auto give_up = Clock::now() + 2s;
    uint64_t last = received.load();
    auto last_change = Clock::now();
    while (received.load() < out.sent && Clock::now() < give_up &&
           Clock::now() - last_change < 300ms) {
      std::this_thread::sleep_for(5ms);
      if (received.load() != last) {
        last = received.load();
        last_change = Clock::now();
      }
    }
    stop = true;
    sink.join();
    out.received = received.load();
    for (const auto& st : stats) out.gaps += st.lost();
    return out;
  }

 private:
  // The generator sockets of call c: the calls of one slot are spread over every group.
  static size_t GroupOf(size_t c) { return (c / kSlots) % kGroups; }

  // A socket on an even port whose odd neighbour we also hold, so that RTCP sent to RTP + 1
  // lands in a socket nobody reads instead of in another stream.
  int BindWithRtcpPort(uint16_t* port) {
    for (int attempt = 0; attempt < 100; ++attempt) {
      const int fd = Bind(0, port);
      if (fd < 0) return -1;
      if (*port % 2 == 0) {
        const int rtcp = Bind(static_cast<uint16_t>(*port + 1), nullptr);
        if (rtcp >= 0) {
          rtcp_fds_.push_back(rtcp);
          return fd;
        }
      }
      ::close(fd);
    }
    return -1;
  }

  // Counts the PCMU packets that come back, per stream (by source port), with RFC 3550 loss.
  void Receive(const std::atomic<bool>& stop, std::atomic<uint64_t>& received,
               std::vector<media::ReceiveStats>& stats) {
    const int ep = ::epoll_create1(EPOLL_CLOEXEC);
    for (size_t f = 0; f < fds_.size(); ++f) {
      epoll_event ev{};
      ev.events = EPOLLIN;
      ev.data.u64 = f;
      ::epoll_ctl(ep, EPOLL_CTL_ADD, fds_[f], &ev);
    }
    constexpr size_t kBatch = 64;
    std::array<epoll_event, 16> events;
    std::vector<std::array<uint8_t, 512>> bufs(kBatch);
    std::array<iovec, kBatch> iov;
    std::array<sockaddr_in, kBatch> from;
    std::array<mmsghdr, kBatch> msgs;
    while (!stop.load(std::memory_order_relaxed)) {
      const int n = ::epoll_wait(ep, events.data(), static_cast<int>(events.size()), 20);
      for (int e = 0; e < n; ++e) {
        const int fd = fds_[events[static_cast<size_t>(e)].data.u64];
        for (;;) {
          for (size_t k = 0; k < kBatch; ++k) {
            iov[k] = {bufs[k].data(), bufs[k].size()};
            msgs[k] = {};
            msgs[k].msg_hdr.msg_iov = &iov[k];
            msgs[k].msg_hdr.msg_iovlen = 1;
            msgs[k].msg_hdr.msg_name = &from[k];
            msgs[k].msg_hdr.msg_namelen = sizeof(sockaddr_in);
          }
          const int got = ::recvmmsg(fd, msgs.data(), kBatch, MSG_DONTWAIT, nullptr);
          if (got <= 0) break;
          const int64_t now = NowUs();
          uint64_t rtp = 0;
          for (size_t k = 0; k < static_cast<size_t>(got); ++k) {
            const int32_t s = stream_of_port_[ntohs(from[k].sin_port)];
            auto p = media::ParseRtp(std::span<const uint8_t>(bufs[k].data(), msgs[k].msg_len));
            if (s < 0 || !p || p->header.payload_type != 0) continue;  // not one of ours
            stats[static_cast<size_t>(s)].OnPacket(p->header.sequence, p->header.timestamp, now);
            ++rtp;
          }
          received.fetch_add(rtp, std::memory_order_relaxed);
          if (static_cast<size_t>(got) < kBatch) break;
        }
      }
    }
    ::close(ep);
  }

  std::vector<int> fds_, rtcp_fds_;
  std::vector<uint16_t> ports_;
  std::vector<int32_t> stream_of_port_;  // by source port: the stream receiving from it
  std::vector<sockaddr_in> targets_;     // by stream: where it sends
};

struct Options {
  bool quick = false;
  int seconds = 10;
  int threads = 1;
  std::string only;  // relay, forward, recorded or gaps: that search alone
  int calls = 0;     // with `only`: that one step instead of a search
};

// One recording's check against the wall time it was recorded for.
struct WavCheck {
  bool ok = false;
  bool gap = false;  // the only problem is a gap
  std::string problem;
  double seconds = 0;
};

WavCheck CheckWav(const std::string& path, double expected_s) {
  WavCheck r;
  SF_INFO info{};
  SNDFILE* f = sf_open(path.c_str(), SFM_READ, &info);
  if (f == nullptr) {
    r.problem = "cannot open " + path + ": " + sf_strerror(nullptr);
    return r;
  }
  std::vector<int16_t> frames(static_cast<size_t>(info.frames) * 2);
  const sf_count_t got = sf_readf_short(f, frames.data(), info.frames);
  sf_close(f);
  r.seconds = info.samplerate > 0 ? static_cast<double>(info.frames) / info.samplerate : 0;
  if (info.channels != 2 || got != info.frames) {
    r.problem = path + ": " + std::to_string(info.channels) + " channels, read " +
                std::to_string(got) + " of " + std::to_string(info.frames) + " frames";
    return r;
  }
  if (std::abs(r.seconds - expected_s) > 0.1) {
    r.problem = path + ": " + std::to_string(r.seconds) + " s recorded for " +
                std::to_string(expected_s) + " s";
    return r;
  }
  const size_t block = static_cast<size_t>(info.samplerate) / 50;  // 20 ms
  const size_t n = static_cast<size_t>(info.frames);
  for (size_t ch = 0; ch < 2; ++ch) {
    auto audible = [&](size_t i) { return frames[2 * i + ch] != 0; };
    size_t first = 0, last = n;
    while (first < n && !audible(first)) ++first;
    while (last > first && !audible(last - 1)) --last;
    if (first == n) {
      r.problem = path + ": channel " + std::to_string(ch) + " is silent";
      return r;
    }
    for (size_t b = first; b + block <= last; b += block) {
      bool silent = true;
      for (size_t i = b; i < b + block && silent; ++i) silent = !audible(i);
      if (silent) {
        r.gap = true;
        r.problem = path + ": channel " + std::to_string(ch) + " has a gap at " +
                    std::to_string(static_cast<double>(b) / info.samplerate) + " s";
        return r;
      }
    }
  }
  r.ok = true;
  return r;
}

std::string RecordingPath(const std::string& dir, int call) {
  return dir + "/call" + std::to_string(call) + ".wav";
}

// One step through MediaEngine: `calls` bridged calls (recorded into a new folder under
// `record_root` when set, removed after the step unless KEEP is set in the environment; a
// recording with a gap fails the step unless `allow_gaps`).
nlohmann::json EngineStep(int calls, const Options& o, const std::string& record_root,
                          bool allow_gaps = false) {
  std::string record_dir;
  if (!record_root.empty()) {
    static int step = 0;
    record_dir = record_root + "/step" + std::to_string(++step);
    std::error_code ec;
    std::filesystem::create_directory(record_dir, ec);
    if (ec) return {{"calls", calls}, {"passed", false}, {"error", ec.message()}};
  }
  media::MediaConfig config;
  config.port_min = 10000;  // below Linux's ephemeral ports, which the generator's sockets take
  config.port_max = 29999;
  config.threads = o.threads;
  config.inactivity_timeout = Seconds(3600);
  auto engine = media::MediaEngine::Create(config);
  if (!engine.ok())
    return {{"calls", calls}, {"passed", false}, {"error", engine.status().ToString()}};
  std::mutex mu;
  std::condition_variable cv;
  std::vector<ports::RecordingInfo> done;
  (*engine)->SetEvents({.on_recording_done = [&](ports::LegId, ports::RecordingInfo info) {
    std::lock_guard lock(mu);
    done.push_back(std::move(info));
    cv.notify_all();
  }});
  CallLoad load;
  std::vector<Clock::time_point> started(static_cast<size_t>(calls));
  const ports::MediaFormat pcmu{ports::AudioCodec::kPcmu, 0, 101, 20};
  if (!load.ok()) return {{"calls", calls}, {"passed", false}, {"error", "no generator socket"}};
  for (int i = 0; i < calls; ++i) {
    const auto [cp, ap] = load.NextEndpoints();
    const ports::LegId a = 2 * static_cast<ports::LegId>(i) + 1, b = a + 1;
    auto la = (*engine)->OpenLeg(a);
    auto lb = (*engine)->OpenLeg(b);
    if (!la.ok() || !lb.ok()) {
      return {
          {"calls", calls}, {"passed", false}, {"error", "cannot open call " + std::to_string(i)}};
    }
    Status s = (*engine)->ConnectLeg(a, {"127.0.0.1", cp}, pcmu);
    if (s.ok()) s = (*engine)->ConnectLeg(b, {"127.0.0.1", ap}, pcmu);
    if (s.ok()) s = (*engine)->Bridge(a, b);
    if (s.ok() && !record_dir.empty()) {
      s = (*engine)->StartRecording(a, b, RecordingPath(record_dir, i));
      started[static_cast<size_t>(i)] = Clock::now();
    }
    if (!s.ok()) return {{"calls", calls}, {"passed", false}, {"error", s.ToString()}};
    load.AddCall(la->port, lb->port);
  }
  const auto outcome = load.Run(std::chrono::seconds(o.seconds));
  nlohmann::json step = {{"calls", calls}, {"offered_pps", calls * kPacketsPerCall}};
  step.update(outcome.Json());
  step["engine_dropped"] = (*engine)->Counters().packets_dropped;
  step["engine_ticks_late"] = (*engine)->Counters().ticks_late;
  step["engine_most_ticks_at_once"] = (*engine)->Counters().most_ticks_at_once;
  bool passed = outcome.ok() && (*engine)->Counters().packets_dropped == 0;
  if (!record_dir.empty()) {
    std::vector<double> recorded_s(static_cast<size_t>(calls));
    for (int i = 0; i < calls; ++i) {
      (*engine)->StopRecording(2 * static_cast<ports::LegId>(i) + 1);
      recorded_s[static_cast<size_t>(i)] =
          std::chrono::duration<double>(Clock::now() - started[static_cast<size_t>(i)]).count();
    }
    std::unique_lock lock(mu);
    const bool all =
        cv.wait_for(lock, 120s, [&] { return done.size() == static_cast<size_t>(calls); });
    lock.unlock();
    int bad = 0, gaps = 0;
    std::string first_problem;
    for (int i = 0; i < calls; ++i) {
      const WavCheck c = CheckWav(RecordingPath(record_dir, i), recorded_s[static_cast<size_t>(i)]);
      if (c.ok) continue;
      if (first_problem.empty()) first_problem = c.problem;
      ++(c.gap ? gaps : bad);
    }
    step["recordings_finished"] = done.size();
    step["recordings_with_gaps"] = gaps;
    step["recordings_bad"] = bad;
    if (!first_problem.empty()) step["first_problem"] = first_problem;
    passed = passed && all && bad == 0 && (allow_gaps || gaps == 0);
    std::error_code ec;
    if (std::getenv("KEEP") == nullptr) std::filesystem::remove_all(record_dir, ec);
  }
  step["passed"] = passed;
  return step;
}

// One step through the minimal relay: each call's two relay sockets relay into each other.
nlohmann::json RelayStep(int calls, const Options& o) {
  CallLoad load;
  Relay relay;
  if (!load.ok()) return {{"calls", calls}, {"passed", false}, {"error", "no generator socket"}};
  for (int i = 0; i < calls; ++i) {
    const auto [cp, ap] = load.NextEndpoints();
    uint16_t a = 0, b = 0;
    const int fa = Bind(0, &a), fb = Bind(0, &b);
    if (fa < 0 || fb < 0) return {{"calls", calls}, {"passed", false}, {"error", "no socket"}};
    relay.in.insert(relay.in.end(), {fa, fb});
    relay.out.insert(relay.out.end(), {fb, fa});
    relay.to.insert(relay.to.end(), {To(ap), To(cp)});
    load.AddCall(a, b);
  }
  relay.Start();
  const auto outcome = load.Run(std::chrono::seconds(o.seconds));
  relay.Stop();
  for (int fd : relay.in) ::close(fd);
  nlohmann::json step = {{"calls", calls}, {"offered_pps", calls * kPacketsPerCall}};
  step.update(outcome.Json());
  step["passed"] = outcome.ok();
  return step;
}

// Doubles `calls` from `start` while steps pass, then bisects to within 5%. Returns the best
// passing step's calls (0 if none) and every step.
std::pair<int, nlohmann::json> Search(const std::function<nlohmann::json(int)>& step, int start,
                                      int limit, int bisections) {
  nlohmann::json steps = nlohmann::json::array();
  int best = 0, failed = 0;
  for (int calls = start; calls <= limit; calls *= 2) {
    auto s = step(calls);
    std::fprintf(stderr, "media_bench: %s\n", s.dump().c_str());
    steps.push_back(s);
    if (!s["passed"].get<bool>()) {
      failed = calls;
      break;
    }
    best = calls;
  }
  for (int i = 0; i < bisections && failed > 0; ++i) {
    const int mid = (best + failed) / 2;
    if (failed - best <= std::max(2, best / 20)) break;
    auto s = step(mid);
    std::fprintf(stderr, "media_bench: %s\n", s.dump().c_str());
    steps.push_back(s);
    if (s["passed"].get<bool>()) {
      best = mid;
    } else {
      failed = mid;
    }
  }
  return {best, steps};
}

}  // namespace

int RunSearch(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string flag = argv[i];
    if (flag == "--search") continue;
    if (flag == "--quick") {
      o.quick = true;
      o.seconds = 2;
    } else if (flag == "--only" && i + 1 < argc) {
      o.only = argv[++i];
      if (o.only != "relay" && o.only != "forward" && o.only != "recorded" && o.only != "gaps") {
        std::fprintf(stderr, "media_bench: --only takes relay, forward, recorded or gaps\n");
        return 2;
      }
    } else if ((flag == "--seconds" || flag == "--threads" || flag == "--calls") && i + 1 < argc) {
      const int v = std::atoi(argv[++i]);
      if (v < 1) {
        std::fprintf(stderr, "media_bench: %s must be a positive integer\n", flag.c_str());
        return 2;
      }
      (flag == "--seconds" ? o.seconds : flag == "--threads" ? o.threads : o.calls) = v;
    } else {
      std::fprintf(stderr, "media_bench --search: unknown argument %s\n", flag.c_str());
      return 2;
    }
  }
  const int bisections = o.quick ? 2 : 4;
  const int limit = 4000;  // calls: 400,000 packets per second, far above this class of machine
  char tmpl[] = "/tmp/parley-media-bench-XXXXXX";
  if (::mkdtemp(tmpl) == nullptr) {
    std::perror("media_bench: mkdtemp");
    return 1;
  }
  const std::string dir = tmpl;
  if (!o.only.empty()) {  // one search (or one step), for looking into a figure
    const std::function<nlohmann::json(int)> step = [&](int n) {
      if (o.only == "relay") return RelayStep(n, o);
      if (o.only == "forward") return EngineStep(n, o, "");
      return EngineStep(n, o, dir, o.only == "gaps");
    };
    nlohmann::json out;
    if (o.calls > 0) {
      out = step(o.calls);
    } else {
      auto [best, steps] =
          Search(step, o.only == "recorded" || o.only == "gaps" ? 25 : 50, limit, bisections);
      out = {{"calls", best}, {"steps", steps}};
    }
    if (std::getenv("KEEP") == nullptr) {
      std::filesystem::remove_all(dir);
    } else {
      std::fprintf(stderr, "media_bench: recordings kept in %s\n", dir.c_str());
    }
    std::printf("%s\n", out.dump().c_str());
    return 0;
  }

  auto [relay_calls, relay_steps] =
      Search([&](int n) { return RelayStep(n, o); }, 50, limit, bisections);
  auto [engine_calls, engine_steps] =
      Search([&](int n) { return EngineStep(n, o, ""); }, 50, limit, bisections);
  auto [recorded, recorded_steps] =
      Search([&](int n) { return EngineStep(n, o, dir); }, 25, limit, bisections);
  // Without the gap check: what the recording path sustains apart from arrival jitter.
  auto [recorded_gaps, recorded_gaps_steps] =
      Search([&](int n) { return EngineStep(n, o, dir, true); }, 25, limit, bisections);
  std::filesystem::remove_all(dir);

  nlohmann::json out;
  out["forward_pps"] = engine_calls * kPacketsPerCall;
  out["limit_pps"] = relay_calls * kPacketsPerCall;
  out["recorded_calls"] = recorded;
  out["recorded_calls_allowing_gaps"] = recorded_gaps;
  out["method"] = {
      {"forward_pps", "media::MediaEngine in-process (" + std::to_string(o.threads) +
                          " media thread(s)): the most paced G.711 calls (100 packets/s each, "
                          "two bridged legs) forwarded with no packet lost, times 100"},
      {"limit_pps",
       "minimal batched UDP relay (one thread, epoll + recvmmsg + sendmmsg) with "
       "the same calls and load generator, times 100"},
      {"recorded_calls",
       "MediaEngine with StartRecording on every call: the most calls with no "
       "packet lost and every WAV of the right length (within 100 ms) without "
       "a gap (a 20 ms all-zero block between a channel's first and last audio)"},
      {"recorded_calls_allowing_gaps", "the same without the gap check"},
      {"load",
       "one generator thread sends 50 packets/s per stream in 20 staggered 1 ms slots; "
       "one receiver thread checks sequence numbers (RFC 3550 loss)"}};
  out["seconds_per_step"] = o.seconds;
  out["media_threads"] = o.threads;
  out["steps"] = {{"relay", relay_steps},
                  {"forward", engine_steps},
                  {"recorded", recorded_steps},
                  {"recorded_allowing_gaps", recorded_gaps_steps}};
  std::printf("%s\n", out.dump().c_str());
  return 0;
}

}  // namespace parley::bench
