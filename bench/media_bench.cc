// Media bench: packets per second forwarded between bridged G.711 legs by media::MediaEngine,
// against a minimal batched UDP relay (epoll + recvmmsg + sendmmsg, no RTP at all) in the same
// run with the same load generator and sink. Prints one JSON object.
//
//   media_bench [--pairs N] [--seconds S] [--threads T]
//   media_bench --search [--quick] [--seconds S] [--threads T] [--only KIND [--calls N]]
//
// --only relay|forward|recorded|gaps runs that search alone, or with --calls N one step of it
// (KEEP=1 in the environment keeps that run's recordings and prints where).
//
// --search (used by bench/voice_bench) paces real calls instead: each call is two bridged legs
// with 50 packets per second each way (100 forwarded per call), and a step search on the number
// of calls finds the most packets per second forwarded with no loss, for MediaEngine and for the
// minimal relay, then the most calls with both legs recorded (StartRecording) that run with no
// loss and whose every WAV has the call's length and no gap (media_search.cc).

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "loopback_udp.h"
#include "media/media_engine.h"
#include "media/rtp.h"
#include "media_search.h"

namespace {

using namespace std::chrono_literals;
using parley::bench::Bind;
using parley::bench::Relay;
using parley::bench::To;
using Clock = std::chrono::steady_clock;

// Sends 172-byte PCMU packets round-robin from `senders[i]` to `targets[i]` until `stop`, in
// batches of 32 per socket; counts what the sink sockets receive.
struct Load {
  std::vector<int> senders, sinks;
  std::vector<uint16_t> targets;

  uint64_t Run(std::chrono::seconds length) {
    std::atomic<bool> stop{false};
    std::atomic<uint64_t> received{0};
    std::thread sink([&] {
      const int ep = ::epoll_create1(EPOLL_CLOEXEC);
      for (int fd : sinks) {
        epoll_event ev{};
        ev.events = EPOLLIN;
        ev.data.fd = fd;
        ::epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
      }
      std::array<epoll_event, 64> events;
      std::vector<std::array<uint8_t, 1500>> bufs(64);
      std::array<iovec, 64> iov;
      std::array<mmsghdr, 64> msgs;
      while (!stop.load()) {
        const int n = ::epoll_wait(ep, events.data(), 64, 50);
        for (int i = 0; i < n; ++i) {
          for (size_t k = 0; k < 64; ++k) {
            iov[k] = {bufs[k].data(), 1500};
            msgs[k] = {};
            msgs[k].msg_hdr.msg_iov = &iov[k];
            msgs[k].msg_hdr.msg_iovlen = 1;
          }
          const int got = ::recvmmsg(events[static_cast<size_t>(i)].data.fd, msgs.data(), 64,
                                     MSG_DONTWAIT, nullptr);
          if (got > 0) received += static_cast<uint64_t>(got);
        }
      }
      ::close(ep);
    });
    std::array<uint8_t, 172> packet{};
    std::array<mmsghdr, 32> msgs;
    std::array<iovec, 32> iov;
    std::vector<std::array<uint8_t, 172>> bufs(32);
    uint16_t seq = 0;
    const auto until = Clock::now() + length;
    while (Clock::now() < until) {
      for (size_t i = 0; i < senders.size(); ++i) {
        sockaddr_in to = To(targets[i]);
        for (size_t k = 0; k < msgs.size(); ++k) {
          parley::media::RtpHeader h{false, 0, seq++, static_cast<uint32_t>(seq) * 160, 7};
          parley::media::WriteRtp(h, std::span<const uint8_t>(packet.data(), 160), bufs[k]);
          iov[k] = {bufs[k].data(), bufs[k].size()};
          msgs[k] = {};
          msgs[k].msg_hdr.msg_iov = &iov[k];
          msgs[k].msg_hdr.msg_iovlen = 1;
          msgs[k].msg_hdr.msg_name = &to;
          msgs[k].msg_hdr.msg_namelen = sizeof(to);
        }
        ::sendmmsg(senders[i], msgs.data(), static_cast<unsigned>(msgs.size()), 0);
      }
      std::this_thread::yield();
    }
    std::this_thread::sleep_for(100ms);  // let the last packets drain into the sink
    stop = true;
    sink.join();
    return received.load();
  }
};

}  // namespace

int main(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    if (std::string(argv[i]) == "--search") return parley::bench::RunSearch(argc, argv);
  }
  int pairs = 50;
  int seconds = 2;
  int threads = 1;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    const int value = std::atoi(argv[i + 1]);
    if (flag == "--pairs") pairs = value;
    if (flag == "--seconds") seconds = value;
    if (flag == "--threads") threads = value;
  }
  nlohmann::json out;
  out["pairs"] = pairs;
  out["seconds"] = seconds;
  out["threads"] = threads;

  // MediaEngine: leg 2i <- sender i, bridged to leg 2i+1 -> sink i.
  {
    parley::media::MediaConfig config;
    config.port_min = static_cast<uint16_t>(40000 + (::getpid() % 100) * 40);
    config.port_max = static_cast<uint16_t>(config.port_min + 4 * pairs + 8);
    config.threads = threads;
    config.inactivity_timeout = parley::Seconds(3600);
    auto engine = parley::media::MediaEngine::Create(config);
    if (!engine.ok()) {
      std::fprintf(stderr, "%s\n", engine.status().ToString().c_str());
      return 1;
    }
    Load load;
    const parley::ports::MediaFormat pcmu{parley::ports::AudioCodec::kPcmu, 0, 101, 20};
    for (int i = 0; i < pairs; ++i) {
      uint16_t sp = 0, kp = 0;
      const int sender = Bind(0, &sp), sink = Bind(0, &kp);
      auto a = (*engine)->OpenLeg(2 * i + 1);
      auto b = (*engine)->OpenLeg(2 * i + 2);
      if (!a.ok() || !b.ok()) return 1;
      (void)(*engine)->ConnectLeg(2 * i + 1, {"127.0.0.1", sp}, pcmu);
      (void)(*engine)->ConnectLeg(2 * i + 2, {"127.0.0.1", kp}, pcmu);
      (void)(*engine)->Bridge(2 * i + 1, 2 * i + 2);
      load.senders.push_back(sender);
      load.sinks.push_back(sink);
      load.targets.push_back(a->port);
    }
    std::this_thread::sleep_for(100ms);  // bridges in place before the load starts
    const uint64_t got = load.Run(std::chrono::seconds(seconds));
    out["media_engine_pps"] = static_cast<double>(got) / seconds;
    out["media_engine_dropped"] = (*engine)->Counters().packets_dropped;
    for (int fd : load.senders) ::close(fd);
    for (int fd : load.sinks) ::close(fd);
  }
  // Baseline relay with the same topology.
  {
    Load load;
    Relay relay;
    for (int i = 0; i < pairs; ++i) {
      uint16_t sp = 0, kp = 0, ip = 0;
      const int sender = Bind(0, &sp), sink = Bind(0, &kp);
      const int in = Bind(0, &ip), outfd = Bind(0, nullptr);
      relay.in.push_back(in);
      relay.out.push_back(outfd);
      relay.to.push_back(To(kp));
      load.senders.push_back(sender);
      load.sinks.push_back(sink);
      load.targets.push_back(ip);
    }
    relay.Start();
    const uint64_t got = load.Run(std::chrono::seconds(seconds));
    relay.Stop();
    out["baseline_relay_pps"] = static_cast<double>(got) / seconds;
    for (auto* v : {&load.senders, &load.sinks, &relay.in, &relay.out}) {
      for (int fd : *v) ::close(fd);
    }
  }
  out["ratio"] = out["media_engine_pps"].get<double>() /
                 std::max(1.0, out["baseline_relay_pps"].get<double>());
  std::printf("%s\n", out.dump().c_str());
  return 0;
}
