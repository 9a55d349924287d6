#pragma once
// Loopback UDP helpers of the media benches: non-blocking sockets on 127.0.0.1 and the baseline
// relay (epoll + recvmmsg + sendmmsg, no RTP at all) that MediaEngine is compared with.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cstdint>
#include <thread>
#include <vector>

namespace parley::bench {

// A non-blocking UDP socket on 127.0.0.1:port (0: any) with a 2 MiB receive buffer; -1 on error.
inline int Bind(uint16_t port, uint16_t* bound) {
  const int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(port);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0) {
    ::close(fd);
    return -1;
  }
  const int size = 1 << 21;
  ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
  socklen_t len = sizeof(a);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  if (bound != nullptr) *bound = ntohs(a.sin_port);
  return fd;
}

inline sockaddr_in To(uint16_t port) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(port);
  return a;
}

// The baseline: one thread relaying in[i] -> out[i] -> to[i] with recvmmsg/sendmmsg. A socket may
// be both an `in` and an `out` (a call's two legs relay into each other).
struct Relay {
  std::vector<int> in, out;
  std::vector<sockaddr_in> to;
  std::atomic<bool> stop{false};
  std::thread thread;

  void Start() {
    thread = std::thread([this] {
      const int ep = ::epoll_create1(EPOLL_CLOEXEC);
      for (size_t i = 0; i < in.size(); ++i) {
        epoll_event ev{};
        ev.events = EPOLLIN;
        ev.data.u64 = i;
        ::epoll_ctl(ep, EPOLL_CTL_ADD, in[i], &ev);
      }
      std::array<epoll_event, 64> events;
      std::vector<std::array<uint8_t, 1500>> bufs(32);
      std::array<iovec, 32> iov;
      std::array<mmsghdr, 32> msgs;
      while (!stop.load()) {
        const int n = ::epoll_wait(ep, events.data(), 64, 50);
        for (int e = 0; e < n; ++e) {
          const size_t i = events[static_cast<size_t>(e)].data.u64;
          for (size_t k = 0; k < 32; ++k) {
            iov[k] = {bufs[k].data(), 1500};
            msgs[k] = {};
            msgs[k].msg_hdr.msg_iov = &iov[k];
            msgs[k].msg_hdr.msg_iovlen = 1;
          }
          const int got = ::recvmmsg(in[i], msgs.data(), 32, MSG_DONTWAIT, nullptr);
          if (got <= 0) continue;
          for (int k = 0; k < got; ++k) {
            const auto kk = static_cast<size_t>(k);
            iov[kk].iov_len = msgs[kk].msg_len;
            msgs[kk].msg_hdr.msg_name = &to[i];
            msgs[kk].msg_hdr.msg_namelen = sizeof(sockaddr_in);
          }
          ::sendmmsg(out[i], msgs.data(), static_cast<unsigned>(got), 0);
        }
      }
      ::close(ep);
    });
  }
  void Stop() {
    stop = true;
    thread.join();
  }
};

}  // namespace parley::bench
