#include "webhook/http_client.h"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

namespace parley::webhook {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;

Result<HttpUrl> ParseHttpUrl(const std::string& url) {
  constexpr std::string_view kScheme = "http://";
  if (url.rfind("https://", 0) == 0) {
    return InvalidArgument("url " + url + ": https is not supported yet; use http://");
  }
  if (url.rfind(kScheme, 0) != 0) {
    return InvalidArgument("url " + url + ": must start with http://");
  }
  const std::string rest = url.substr(kScheme.size());
  const size_t slash = rest.find_first_of("/?");
  HttpUrl out;
  const std::string authority = rest.substr(0, slash);
  out.target = slash == std::string::npos ? "/" : rest.substr(slash);
  if (out.target.front() == '?') out.target.insert(0, "/");
  if (authority.empty() || authority.find('@') != std::string::npos) {
    return InvalidArgument("url " + url + ": needs a host (and no user info)");
  }
  // [v6]:port or host:port
  size_t colon = std::string::npos;
  if (authority.front() == '[') {
    const size_t close = authority.find(']');
    if (close == std::string::npos) return InvalidArgument("url " + url + ": unclosed '['");
    out.host = authority.substr(1, close - 1);
    if (close + 1 < authority.size()) {
      if (authority[close + 1] != ':') return InvalidArgument("url " + url + ": bad port");
      colon = close + 1;
    }
  } else {
    colon = authority.rfind(':');
    out.host = authority.substr(0, colon);
  }
  out.port = colon == std::string::npos ? "80" : authority.substr(colon + 1);
  if (out.host.empty() || out.port.empty() || out.port.size() > 5 ||
      out.port.find_first_not_of("0123456789") != std::string::npos || std::stoi(out.port) == 0 ||
      std::stoi(out.port) > 65535) {
    return InvalidArgument("url " + url + ": bad host or port");
  }
  return out;
}

Result<int> BeastHttpPoster::Post(const HttpRequest& request, Duration timeout) {
  auto url = ParseHttpUrl(request.url);
  if (!url.ok()) return url.status();

  http::request<http::string_body> req{http::verb::post, url->target, 11};
  req.set(http::field::host, url->port == "80" ? url->host : url->host + ":" + url->port);
  req.set(http::field::user_agent, "Parley/" PARLEY_VERSION);
  req.set(http::field::connection, "close");
  for (const auto& [name, value] : request.headers) req.set(name, value);
  req.body() = request.body;
  req.prepare_payload();

  net::io_context ioc;
  tcp::resolver resolver(ioc);
  beast::tcp_stream stream(ioc);
  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.body_limit(1 << 20);
  beast::error_code failure;
  const char* stage = "resolve";
  const auto expiry = std::chrono::steady_clock::now() + timeout;

  // The resolver has no deadline of its own: a timer cancels it.
  net::steady_timer resolve_timer(ioc, expiry);
  resolve_timer.async_wait([&](beast::error_code ec) {
    if (!ec) resolver.cancel();
  });
  resolver.async_resolve(
      url->host, url->port, [&](beast::error_code ec, tcp::resolver::results_type results) {
        resolve_timer.cancel();
        if (ec) {
          failure = ec;
          return;
        }
        stage = "connect";
        stream.expires_at(expiry);
        stream.async_connect(results, [&](beast::error_code ec, const tcp::endpoint&) {
          if (ec) {
            failure = ec;
            return;
          }
          stage = "write";
          http::async_write(stream, req, [&](beast::error_code ec, size_t) {
            if (ec) {
              failure = ec;
              return;
            }
            stage = "read";
            http::async_read(stream, buffer, parser,
                             [&](beast::error_code ec, size_t) { failure = ec; });
          });
        });
      });
  ioc.run();
  if (failure) {
    const bool timed_out =
        failure == beast::error::timeout || failure == net::error::operation_aborted;
    return Unavailable(std::string(stage) + " " + request.url + ": " +
                       (timed_out ? std::string("timed out") : failure.message()));
  }
  beast::error_code ignored;
  stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
  return static_cast<int>(parser.get().result_int());
}

}  // namespace parley::webhook
