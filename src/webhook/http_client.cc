#include "webhook/http_client.h"

#include <openssl/ssl.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <optional>
#include <utility>

namespace parley::webhook {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
namespace ssl = net::ssl;
using tcp = net::ip::tcp;

struct BeastHttpPoster::Tls {
  ssl::context context{ssl::context::tls_client};
};

BeastHttpPoster::BeastHttpPoster() : BeastHttpPoster(TlsOptions{}) {}

BeastHttpPoster::BeastHttpPoster(const TlsOptions& tls) : tls_(std::make_unique<Tls>()) {
  beast::error_code ec;
  tls_->context.set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                                ssl::context::no_sslv3 | ssl::context::no_tlsv1 |
                                ssl::context::no_tlsv1_1,
                            ec);
  if (!ec) tls_->context.set_default_verify_paths(ec);
  if (!ec && !tls.extra_ca_pem.empty()) {
    tls_->context.add_certificate_authority(net::buffer(tls.extra_ca_pem), ec);
  }
  if (!ec) tls_->context.set_verify_mode(ssl::verify_peer, ec);
  if (ec) tls_status_ = Internal("TLS client context: " + ec.message());
}

BeastHttpPoster::~BeastHttpPoster() = default;

void HttpCancel::Cancel() {
  std::lock_guard lock(mu_);
  cancelled_ = true;
  if (stop_) stop_();
}

bool HttpCancel::cancelled() const {
  std::lock_guard lock(mu_);
  return cancelled_;
}

bool HttpCancel::Attach(std::function<void()> stop) {
  std::lock_guard lock(mu_);
  if (cancelled_) return false;
  stop_ = std::move(stop);
  return true;
}

void HttpCancel::Detach() {
  std::lock_guard lock(mu_);
  stop_ = nullptr;
}

const char* HttpFailureName(HttpFailure failure) {
  switch (failure) {
    case HttpFailure::kNone:
      return "none";
    case HttpFailure::kBadUrl:
      return "bad_url";
    case HttpFailure::kResolve:
      return "resolve";
    case HttpFailure::kConnect:
      return "connect";
    case HttpFailure::kTls:
      return "tls";
    case HttpFailure::kTransfer:
      return "transfer";
    case HttpFailure::kTimeout:
      return "timeout";
    case HttpFailure::kTooLarge:
      return "too_large";
    case HttpFailure::kCancelled:
      return "cancelled";
  }
  return "?";
}

namespace {

// One request's state; lives on Exchange's stack while its io_context runs.
struct Flight {
  http::request<http::string_body> request;
  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  beast::error_code failure;
  const char* stage = "resolve";
};

template <typename Stream>
void WriteThenRead(Stream& stream, Flight& x) {
  x.stage = "write";
  http::async_write(stream, x.request, [&stream, &x](beast::error_code ec, size_t) {
    if (ec) {
      x.failure = ec;
      return;
    }
    x.stage = "read";
    // The header first: Beast 1.74 checks a Content-Length against body_limit when the header
    // ends, but async_read parses eagerly on into the body bytes that came with the header and
    // loses that error. Read alone, the header reports it.
    http::async_read_header(
        stream, x.buffer, x.parser, [&stream, &x](beast::error_code ec, size_t) {
          if (ec) {
            x.failure = ec;
            return;
          }
          http::async_read(stream, x.buffer, x.parser,
                           [&x](beast::error_code ec, size_t) { x.failure = ec; });
        });
  });
}

HttpExchange Failed(HttpFailure failure, std::string stage, std::string error) {
  HttpExchange out;
  out.failure = failure;
  out.stage = std::move(stage);
  out.error = std::move(error);
  return out;
}

}  // namespace

Result<int> BeastHttpPoster::Post(const HttpRequest& request, Duration timeout) {
  if (request.url.rfind("https://", 0) == 0 && !tls_status_.ok()) return tls_status_;
  HttpRequest post = request;
  post.method = "POST";
  HttpExchange x = Exchange(post, timeout);
  switch (x.failure) {
    case HttpFailure::kNone:
      return x.status;
    case HttpFailure::kBadUrl:
      return InvalidArgument(x.error);
    default:
      return Unavailable(x.stage + " " + request.url + ": " + x.error);  // "read URL: timed out"
  }
}

HttpExchange BeastHttpPoster::Exchange(const HttpRequest& request, Duration timeout,
                                       const ExchangeOptions& options) {
  auto url = ParseHttpUrl(request.url);
  if (!url.ok()) return Failed(HttpFailure::kBadUrl, "url", url.status().message());
  if (request.method != "GET" && request.method != "POST") {
    return Failed(HttpFailure::kBadUrl, "url", "method must be GET or POST, got " + request.method);
  }
  if (url->tls && !tls_status_.ok()) {
    return Failed(HttpFailure::kTls, "TLS handshake", tls_status_.message());
  }

  Flight x;
  const bool post = request.method == "POST";
  x.request =
      http::request<http::string_body>{post ? http::verb::post : http::verb::get, url->target, 11};
  const bool default_port = url->port == (url->tls ? "443" : "80");
  const std::string host =
      url->host.find(':') != std::string::npos ? "[" + url->host + "]" : url->host;
  x.request.set(http::field::host, default_port ? host : host + ":" + url->port);
  x.request.set(http::field::user_agent, "Parley/" PARLEY_VERSION);
  x.request.set(http::field::connection, "close");
  for (const auto& [name, value] : request.headers) x.request.set(name, value);
  if (post) x.request.body() = request.body;
  x.request.prepare_payload();
  x.parser.body_limit(options.max_body_bytes);

  net::io_context ioc;
  tcp::resolver resolver(ioc);
  beast::tcp_stream plain(ioc);
  std::optional<beast::ssl_stream<beast::tcp_stream>> secure;
  if (url->tls) {
    secure.emplace(ioc, tls_->context);
    // SNI, and the name the certificate must carry.
    if (!SSL_set_tlsext_host_name(secure->native_handle(), url->host.c_str())) {
      return Failed(HttpFailure::kTls, "TLS handshake", "cannot set the server name " + url->host);
    }
    secure->set_verify_callback(ssl::host_name_verification(url->host));
  }
  beast::tcp_stream& lowest = secure ? beast::get_lowest_layer(*secure) : plain;
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
          x.failure = ec;
          return;
        }
        x.stage = "connect";
        lowest.expires_at(expiry);
        lowest.async_connect(results, [&](beast::error_code ec, const tcp::endpoint&) {
          if (ec) {
            x.failure = ec;
            return;
          }
          if (!secure) {
            WriteThenRead(plain, x);
            return;
          }
          x.stage = "TLS handshake";
          secure->async_handshake(ssl::stream_base::client, [&](beast::error_code ec) {
            if (ec) {
              x.failure = ec;
              return;
            }
            WriteThenRead(*secure, x);
          });
        });
      });
  // Cancel stops the io_context: run() returns with the operations pending, and they are
  // abandoned when the objects above are destroyed.
  if (options.cancel != nullptr && !options.cancel->Attach([&ioc] { ioc.stop(); })) {
    return Failed(HttpFailure::kCancelled, "resolve", "cancelled");
  }
  ioc.run();
  if (options.cancel != nullptr) {
    options.cancel->Detach();
    if (options.cancel->cancelled()) {
      return Failed(HttpFailure::kCancelled, x.stage, "cancelled");
    }
  }
  if (x.failure) {
    const std::string stage = x.stage;
    if (x.failure == beast::error::timeout || x.failure == net::error::operation_aborted) {
      return Failed(HttpFailure::kTimeout, stage, "timed out");
    }
    if (x.failure == http::error::body_limit) {
      return Failed(HttpFailure::kTooLarge, stage,
                    "response body over " + std::to_string(options.max_body_bytes) + " bytes");
    }
    const HttpFailure kind = stage == "resolve"         ? HttpFailure::kResolve
                             : stage == "connect"       ? HttpFailure::kConnect
                             : stage == "TLS handshake" ? HttpFailure::kTls
                                                        : HttpFailure::kTransfer;
    return Failed(kind, stage, x.failure.message());
  }
  beast::error_code ignored;
  lowest.socket().shutdown(tcp::socket::shutdown_both, ignored);
  HttpExchange out;
  out.stage = "read";
  out.status = static_cast<int>(x.parser.get().result_int());
  out.body = std::move(x.parser.get().body());
  return out;
}

}  // namespace parley::webhook
