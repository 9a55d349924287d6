#pragma once
// A Boost.Beast body that sends a byte range of an open file with pread, 64 KiB at a time, so a
// recording is streamed, never held in memory. Only http_server.cc includes it (Beast is slow to
// compile). The body owns the file descriptor and closes it.

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/optional.hpp>
#include <cerrno>
#include <cstdint>
#include <memory>
#include <utility>

namespace parley::api {

struct RangeFileBody {
  struct value_type {
    int fd = -1;
    uint64_t first = 0;  // offset of the first byte sent
    uint64_t size = 0;   // bytes sent
    value_type() = default;
    value_type(value_type&& o) noexcept
        : fd(std::exchange(o.fd, -1)), first(o.first), size(o.size) {}
    value_type& operator=(value_type&& o) noexcept {
      if (this != &o) {
        if (fd >= 0) ::close(fd);
        fd = std::exchange(o.fd, -1);
        first = o.first;
        size = o.size;
      }
      return *this;
    }
    value_type(const value_type&) = delete;
    value_type& operator=(const value_type&) = delete;
    ~value_type() {
      if (fd >= 0) ::close(fd);
    }
  };

  static std::uint64_t size(const value_type& v) { return v.size; }

  class writer {
   public:
    using const_buffers_type = boost::asio::const_buffer;

    template <bool isRequest, class Fields>
    writer(const boost::beast::http::header<isRequest, Fields>&, const value_type& body)
        : body_(body), buffer_(std::make_unique<std::array<char, 65536>>()) {}

    void init(boost::beast::error_code& ec) { ec = {}; }

    boost::optional<std::pair<const_buffers_type, bool>> get(boost::beast::error_code& ec) {
      ec = {};
      const uint64_t left = body_.size - sent_;
      if (left == 0) return boost::none;
      const size_t want = static_cast<size_t>(std::min<uint64_t>(left, buffer_->size()));
      const ssize_t got =
          ::pread(body_.fd, buffer_->data(), want, static_cast<off_t>(body_.first + sent_));
      if (got <= 0) {
        // Shorter than when it was opened (truncated meanwhile) or unreadable: end the response.
        ec = boost::beast::error_code(got < 0 ? errno : EIO, boost::system::generic_category());
        return boost::none;
      }
      sent_ += static_cast<uint64_t>(got);
      return std::make_pair(const_buffers_type(buffer_->data(), static_cast<size_t>(got)),
                            sent_ < body_.size);
    }

   private:
    const value_type& body_;
    uint64_t sent_ = 0;
    std::unique_ptr<std::array<char, 65536>> buffer_;
  };
};

}  // namespace parley::api
