// Tests of the contact flows' HTTP client (lookup_client.h) against a Beast HTTP server on
// 127.0.0.1 that this file runs: query and JSON encoding, non-2xx, timeouts, the body cap,
// cancellation, the bound on concurrent requests, and stopping. Every wait is on an event with a
// bound; the only real time that must pass is the short timeouts under test.

#include "webhook/lookup_client.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace parley::webhook {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;
using std::chrono::milliseconds;
using ::testing::HasSubstr;

constexpr milliseconds kWait(10'000);  // bound on every wait for an event

struct SeenRequest {
  std::string method;
  std::string target;
  std::string content_type;
  std::string accept;
  std::string body;
};

// What the server answers: a status and body, or (hang) nothing, holding the connection open
// until the client closes it.
struct Reply {
  int status = 200;
  std::string body = R"({"tier":"gold"})";
  bool hang = false;
  bool chunked = false;  // Transfer-Encoding: chunked instead of Content-Length
};

// A one-thread asynchronous HTTP server on 127.0.0.1 (a port the system picks) that answers every
// request with the current Reply, records the requests, and counts the connections that the
// client closed while the server held them.
class LookupServer {
 public:
  LookupServer() : acceptor_(ioc_, {net::ip::make_address("127.0.0.1"), 0}) {
    port_ = acceptor_.local_endpoint().port();
    Accept();
    thread_ = std::thread([this] { ioc_.run(); });
  }
  ~LookupServer() {
    ioc_.stop();
    thread_.join();
  }
  std::string Url(const std::string& path = "/crm") const {
    return "http://127.0.0.1:" + std::to_string(port_) + path;
  }
  void Answer(Reply reply) {
    std::lock_guard lock(mu_);
    reply_ = std::move(reply);
  }
  std::vector<SeenRequest> seen() const {
    std::lock_guard lock(mu_);
    return seen_;
  }
  // Waits until `n` requests arrived; false after kWait.
  bool WaitForRequests(size_t n) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, kWait, [&] { return seen_.size() >= n; });
  }
  // Waits until the client closed `n` held connections; false after kWait.
  bool WaitForClosed(int n) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, kWait, [&] { return closed_ >= n; });
  }

 private:
  struct Connection {
    explicit Connection(tcp::socket s) : stream(std::move(s)) {}
    beast::tcp_stream stream;
    beast::flat_buffer buffer;
    http::request<http::string_body> request;
    http::response<http::string_body> response;
    char byte = 0;
  };

  void Accept() {
    acceptor_.async_accept([this](beast::error_code ec, tcp::socket socket) {
      if (ec) return;
      auto c = std::make_shared<Connection>(std::move(socket));
      http::async_read(c->stream, c->buffer, c->request,
                       [this, c](beast::error_code ec2, size_t) { OnRequest(c, ec2); });
      Accept();
    });
  }

  void OnRequest(const std::shared_ptr<Connection>& c, beast::error_code ec) {
    if (ec) return;
    Reply reply;
    {
      std::lock_guard lock(mu_);
      seen_.push_back({std::string(c->request.method_string()), std::string(c->request.target()),
                       std::string(c->request[http::field::content_type]),
                       std::string(c->request[http::field::accept]), c->request.body()});
      reply = reply_;
    }
    cv_.notify_all();
    if (reply.hang) {
      // Never answers; the read ends when the client closes the connection.
      c->stream.socket().async_read_some(net::buffer(&c->byte, 1),
                                         [this, c](beast::error_code, size_t) {
                                           {
                                             std::lock_guard lock(mu_);
                                             ++closed_;
                                           }
                                           cv_.notify_all();
                                         });
      return;
    }
    c->response.result(static_cast<unsigned>(reply.status));
    c->response.version(11);
    c->response.set(http::field::content_type, "application/json");
    c->response.body() = reply.body;
    if (reply.chunked) {
      c->response.chunked(true);
    } else {
      c->response.prepare_payload();
    }
    http::async_write(c->stream, c->response, [c](beast::error_code, size_t) {
      beast::error_code ignored;
      c->stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
    });
  }

  net::io_context ioc_;
  tcp::acceptor acceptor_;
  unsigned short port_ = 0;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  Reply reply_;                    // GUARDED_BY(mu_)
  std::vector<SeenRequest> seen_;  // GUARDED_BY(mu_)
  int closed_ = 0;                 // GUARDED_BY(mu_)
  std::thread thread_;
};

// Collects what the client's sink receives.
class Answers {
 public:
  LookupSink Sink() {
    return [this](ContactId contact, LookupResult result) {
      {
        std::lock_guard lock(mu_);
        got_.emplace_back(contact, std::move(result));
      }
      cv_.notify_all();
    };
  }
  bool WaitFor(size_t n) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, kWait, [&] { return got_.size() >= n; });
  }
  std::vector<std::pair<ContactId, LookupResult>> got() const {
    std::lock_guard lock(mu_);
    return got_;
  }

 private:
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::pair<ContactId, LookupResult>> got_;  // GUARDED_BY(mu_)
};

ports::HttpRequest Lookup(uint64_t id, std::string method, std::string url, Attributes fields = {},
                          Duration timeout = Seconds(5)) {
  return ports::HttpRequest{.request_id = id,
                            .method = std::move(method),
                            .url = std::move(url),
                            .fields = std::move(fields),
                            .timeout = timeout};
}

// A port on 127.0.0.1 where nothing listens (bound, then closed).
unsigned short ClosedPort() {
  net::io_context ioc;
  tcp::acceptor acceptor(ioc, {net::ip::make_address("127.0.0.1"), 0});
  return acceptor.local_endpoint().port();
}

// ---------------------------------------------------------------------------------------------
// Encoding

TEST(LookupEncoding, QueryIsPercentEncodedAndAppendedToTheUrl) {
  EXPECT_EQ(EncodeQuery({}), "");
  EXPECT_EQ(EncodeQuery({{"order", "42"}, {"name", "Zoë & co/+=?"}, {"a.b-c_d~", ""}}),
            "order=42&name=Zo%C3%AB%20%26%20co%2F%2B%3D%3F&a.b-c_d~=");
  auto get = LookupHttpRequest(Lookup(1, "GET", "http://crm/x", {{"a", "1"}}));
  EXPECT_EQ(get.method, "GET");
  EXPECT_EQ(get.url, "http://crm/x?a=1");
  EXPECT_TRUE(get.body.empty());
  EXPECT_EQ(LookupHttpRequest(Lookup(1, "GET", "http://crm/x?k=v", {{"a", "1"}})).url,
            "http://crm/x?k=v&a=1");
  EXPECT_EQ(LookupHttpRequest(Lookup(1, "GET", "http://crm/x?", {{"a", "1"}})).url,
            "http://crm/x?a=1");
  EXPECT_EQ(LookupHttpRequest(Lookup(1, "GET", "http://crm/x#frag", {{"a", "1"}})).url,
            "http://crm/x?a=1");
  EXPECT_EQ(LookupHttpRequest(Lookup(1, "GET", "http://crm/x", {})).url, "http://crm/x");
}

TEST(LookupEncoding, PostBodyIsAJsonObjectOfStrings) {
  auto post =
      LookupHttpRequest(Lookup(1, "POST", "http://crm/x", {{"order", "42"}, {"q", "\"é\""}}));
  EXPECT_EQ(post.method, "POST");
  EXPECT_EQ(post.url, "http://crm/x");
  EXPECT_EQ(post.body, R"({"order":"42","q":"\"é\""})");
  EXPECT_EQ(EncodeJsonObject({}), "{}");
  // Invalid UTF-8 does not throw; it is replaced.
  EXPECT_EQ(EncodeJsonObject({{"x", std::string("a\xff")}}), "{\"x\":\"a\xEF\xBF\xBD\"}");
}

// ---------------------------------------------------------------------------------------------
// Against a server

TEST(HttpLookupClient, GetSendsTheFieldsAsAQueryAndDeliversTheJson) {
  LookupServer server;
  Answers answers;
  HttpLookupClient client(answers.Sink());
  client.Send(ContactId(7), Lookup(3, "GET", server.Url("/crm/customer?source=ivr"),
                                   {{"caller", "+33 6 12"}, {"name", "Zoë"}}));
  ASSERT_TRUE(answers.WaitFor(1));
  const auto [contact, result] = answers.got()[0];
  EXPECT_EQ(contact, ContactId(7));
  EXPECT_EQ(result.request_id, 3u);
  EXPECT_TRUE(result.answered) << result.reason;
  EXPECT_EQ(result.http_status, 200);
  EXPECT_EQ(result.body, R"({"tier":"gold"})");
  const auto seen = server.seen();
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].method, "GET");
  EXPECT_EQ(seen[0].target, "/crm/customer?source=ivr&caller=%2B33%206%2012&name=Zo%C3%AB");
  EXPECT_EQ(seen[0].accept, "application/json");
  EXPECT_EQ(seen[0].body, "");
  EXPECT_EQ(client.counters().ok, 1u);
}

TEST(HttpLookupClient, PostSendsTheFieldsAsAJsonObject) {
  LookupServer server;
  Answers answers;
  HttpLookupClient client(answers.Sink());
  client.Send(ContactId(8), Lookup(1, "POST", server.Url(), {{"order", "42"}, {"vip", "true"}}));
  ASSERT_TRUE(answers.WaitFor(1));
  EXPECT_TRUE(answers.got()[0].second.answered);
  const auto seen = server.seen();
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].method, "POST");
  EXPECT_EQ(seen[0].target, "/crm");
  EXPECT_EQ(seen[0].content_type, "application/json");
  EXPECT_EQ(nlohmann::json::parse(seen[0].body),
            (nlohmann::json{{"order", "42"}, {"vip", "true"}}));
}

TEST(HttpLookupClient, ANon2xxAnswerIsAFailureNamingTheStatus) {
  LookupServer server;
  server.Answer({.status = 503, .body = "busy"});
  Answers answers;
  HttpLookupClient client(answers.Sink());
  client.Send(ContactId(1), Lookup(1, "GET", server.Url()));
  ASSERT_TRUE(answers.WaitFor(1));
  const LookupResult r = answers.got()[0].second;
  EXPECT_FALSE(r.answered);
  EXPECT_EQ(r.http_status, 503);
  EXPECT_EQ(r.reason, "HTTP 503");
  EXPECT_EQ(client.counters().http_error, 1u);
}

TEST(HttpLookupClient, AServerThatNeverAnswersTimesOutAtTheRequestsTimeout) {
  LookupServer server;
  server.Answer({.hang = true});
  Answers answers;
  HttpLookupClient client(answers.Sink());
  const auto start = std::chrono::steady_clock::now();
  client.Send(ContactId(1), Lookup(1, "GET", server.Url(), {}, Seconds(0.3)));
  ASSERT_TRUE(answers.WaitFor(1));
  const auto took = std::chrono::steady_clock::now() - start;
  EXPECT_GE(took, milliseconds(290));
  EXPECT_LT(took, milliseconds(5000));
  const LookupResult r = answers.got()[0].second;
  EXPECT_FALSE(r.answered);
  EXPECT_EQ(r.reason, "timed out after 300ms (read)");
  EXPECT_TRUE(server.WaitForClosed(1));  // the connection was closed, not left behind
  const LookupCounters c = client.counters();
  EXPECT_EQ(c.timeout, 1u);
  EXPECT_EQ(c.failed, 0u);
}

TEST(HttpLookupClient, AnOversizedBodyFailsAndOneWithinTheCapPasses) {
  LookupServer server;
  LookupOptions options;
  options.max_response_bytes = 1024;
  Answers answers;
  HttpLookupClient client(answers.Sink(), options);
  server.Answer({.body = "\"" + std::string(1022, 'x') + "\""});  // exactly 1024 bytes
  client.Send(ContactId(1), Lookup(1, "GET", server.Url()));
  ASSERT_TRUE(answers.WaitFor(1));
  EXPECT_TRUE(answers.got()[0].second.answered) << answers.got()[0].second.reason;
  server.Answer({.body = "\"" + std::string(1023, 'x') + "\""});
  client.Send(ContactId(2), Lookup(1, "GET", server.Url()));
  ASSERT_TRUE(answers.WaitFor(2));
  const LookupResult r = answers.got()[1].second;
  EXPECT_FALSE(r.answered);
  EXPECT_EQ(r.reason, "response too large (over 1024 bytes)");
  const LookupCounters c = client.counters();
  EXPECT_EQ(c.failed, 1u);
  EXPECT_EQ(c.too_large, 1u);
}

TEST(HttpLookupClient, AnOversizedChunkedBodyFailsToo) {
  LookupServer server;
  LookupOptions options;
  options.max_response_bytes = 1024;
  Answers answers;
  HttpLookupClient client(answers.Sink(), options);
  server.Answer({.body = "\"" + std::string(1022, 'x') + "\"", .chunked = true});
  client.Send(ContactId(1), Lookup(1, "GET", server.Url()));
  ASSERT_TRUE(answers.WaitFor(1));
  EXPECT_TRUE(answers.got()[0].second.answered) << answers.got()[0].second.reason;
  EXPECT_EQ(answers.got()[0].second.body.size(), 1024u);
  server.Answer({.body = std::string(4096, 'x'), .chunked = true});
  client.Send(ContactId(2), Lookup(1, "GET", server.Url()));
  ASSERT_TRUE(answers.WaitFor(2));
  EXPECT_EQ(answers.got()[1].second.reason, "response too large (over 1024 bytes)");
}

TEST(HttpLookupClient, TheDefaultCapIs256KiB) {
  LookupServer server;
  server.Answer({.body = std::string(256 * 1024 + 1, ' ')});
  Answers answers;
  HttpLookupClient client(answers.Sink());
  client.Send(ContactId(1), Lookup(1, "GET", server.Url()));
  ASSERT_TRUE(answers.WaitFor(1));
  EXPECT_THAT(answers.got()[0].second.reason, HasSubstr("response too large"));
}

TEST(HttpLookupClient, ARefusedConnectionAndABadUrlFailWithTheirReason) {
  Answers answers;
  HttpLookupClient client(answers.Sink());
  client.Send(ContactId(1),
              Lookup(1, "GET", "http://127.0.0.1:" + std::to_string(ClosedPort()) + "/x"));
  ASSERT_TRUE(answers.WaitFor(1));
  EXPECT_THAT(answers.got()[0].second.reason, HasSubstr("connect: "));
  EXPECT_THAT(answers.got()[0].second.reason, HasSubstr("refused"));
  client.Send(ContactId(2), Lookup(1, "GET", "ftp://crm.example/x"));
  ASSERT_TRUE(answers.WaitFor(2));  // at once, on this thread
  EXPECT_THAT(answers.got()[1].second.reason, HasSubstr("must start with http:// or https://"));
  const LookupCounters c = client.counters();
  EXPECT_EQ(c.failed, 2u);
  EXPECT_EQ(c.connect, 1u);
  EXPECT_EQ(c.bad_url, 1u);
}

TEST(HttpLookupClient, CancelClosesTheConnectionAndNoAnswerFollows) {
  LookupServer server;
  server.Answer({.hang = true});
  Answers answers;
  HttpLookupClient client(answers.Sink());
  client.Send(ContactId(5), Lookup(9, "GET", server.Url(), {}, Seconds(30)));
  ASSERT_TRUE(server.WaitForRequests(1));
  client.Cancel(ContactId(6), 9);  // another contact's request 9: nothing happens
  EXPECT_EQ(client.counters().in_flight, 1u);
  client.Cancel(ContactId(5), 9);
  EXPECT_TRUE(server.WaitForClosed(1));
  client.Stop();  // joins the workers: any answer would have been delivered by now
  EXPECT_TRUE(answers.got().empty());
  const LookupCounters c = client.counters();
  EXPECT_EQ(c.cancelled, 1u);
  EXPECT_EQ(c.timeout, 0u);
  EXPECT_EQ(c.in_flight, 0u);
}

TEST(HttpLookupClient, BeyondTheWorkersRequestsWaitAndBeyondTheQueueTheyFailAtOnce) {
  LookupServer server;
  server.Answer({.hang = true});
  LookupOptions options;
  options.workers = 1;
  options.max_queued = 1;
  Answers answers;
  HttpLookupClient client(answers.Sink(), options);
  client.Send(ContactId(1), Lookup(1, "GET", server.Url(), {}, Seconds(30)));
  ASSERT_TRUE(server.WaitForRequests(1));
  client.Send(ContactId(2), Lookup(1, "GET", server.Url(), {}, Seconds(30)));  // waits
  client.Send(ContactId(3), Lookup(1, "GET", server.Url(), {}, Seconds(30)));  // refused
  ASSERT_EQ(answers.got().size(), 1u);  // delivered on this thread, before Send returned
  EXPECT_EQ(answers.got()[0].first, ContactId(3));
  EXPECT_THAT(answers.got()[0].second.reason, HasSubstr("too many lookups in progress"));
  LookupCounters c = client.counters();
  EXPECT_EQ(c.in_flight, 1u);
  EXPECT_EQ(c.queued, 1u);
  EXPECT_EQ(c.overloaded, 1u);

  // Cancelling the waiting one takes it out of the queue; the first one's slot then goes to the
  // next request, which the server answers.
  client.Cancel(ContactId(2), 1);
  EXPECT_EQ(client.counters().queued, 0u);
  server.Answer({});
  client.Send(ContactId(4), Lookup(1, "GET", server.Url()));
  client.Cancel(ContactId(1), 1);
  ASSERT_TRUE(answers.WaitFor(2));
  EXPECT_EQ(answers.got()[1].first, ContactId(4));
  EXPECT_TRUE(answers.got()[1].second.answered);
  client.Stop();
  c = client.counters();
  EXPECT_EQ(answers.got().size(), 2u);
  EXPECT_EQ(c.cancelled, 2u);
  EXPECT_EQ(c.ok, 1u);
}

TEST(HttpLookupClient, ARequestThatWaitedPastItsTimeoutIsNotSent) {
  LookupServer server;
  server.Answer({.hang = true});
  LookupOptions options;
  options.workers = 1;
  Answers answers;
  HttpLookupClient client(answers.Sink(), options);
  client.Send(ContactId(1), Lookup(1, "GET", server.Url(), {}, Seconds(0.3)));
  client.Send(ContactId(2), Lookup(1, "GET", server.Url(), {}, Seconds(0.1)));
  ASSERT_TRUE(answers.WaitFor(2));
  EXPECT_EQ(answers.got()[1].first, ContactId(2));
  EXPECT_EQ(answers.got()[1].second.reason, "timed out after 100ms (waiting for a free worker)");
  EXPECT_EQ(server.seen().size(), 1u);
  EXPECT_EQ(client.counters().timeout, 2u);
}

TEST(HttpLookupClient, StopAbandonsRequestsInFlightAndLaterSendsFailAtOnce) {
  LookupServer server;
  server.Answer({.hang = true});
  Answers answers;
  HttpLookupClient client(answers.Sink());
  client.Send(ContactId(1), Lookup(1, "GET", server.Url(), {}, Seconds(30)));
  ASSERT_TRUE(server.WaitForRequests(1));
  const auto start = std::chrono::steady_clock::now();
  client.Stop();
  EXPECT_LT(std::chrono::steady_clock::now() - start, milliseconds(5000));
  EXPECT_TRUE(answers.got().empty());
  client.Send(ContactId(2), Lookup(1, "GET", server.Url()));
  ASSERT_EQ(answers.got().size(), 1u);
  EXPECT_EQ(answers.got()[0].second.reason, "lookups stopped");
  client.Stop();  // idempotent
}

TEST(HttpLookupClient, CountersBecomeMetricFamilies) {
  LookupServer server;
  Answers answers;
  HttpLookupClient client(answers.Sink());
  client.Send(ContactId(1), Lookup(1, "GET", server.Url()));
  ASSERT_TRUE(answers.WaitFor(1));
  const auto families = client.MetricFamilies();
  ASSERT_EQ(families.size(), 4u);
  EXPECT_EQ(families[0].name, "parley_lookups_total");
  EXPECT_EQ(families[0].type, "counter");
  EXPECT_THAT(families[0].samples,
              ::testing::Contains(std::pair<std::string, uint64_t>("outcome=\"ok\"", 1)));
  EXPECT_THAT(families[0].samples,
              ::testing::Contains(std::pair<std::string, uint64_t>("outcome=\"timeout\"", 0)));
  EXPECT_EQ(families[1].name, "parley_lookup_failures_total");
  EXPECT_EQ(families[2].name, "parley_lookups_in_flight");
  EXPECT_EQ(families[3].name, "parley_lookups_queued");
}

}  // namespace
}  // namespace parley::webhook
