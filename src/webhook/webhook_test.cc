// Tests of src/webhook: signatures against known vectors, URL parsing, backoff, the delivery
// body, and the dispatcher end to end against a Beast HTTP server on 127.0.0.1 with a virtual
// clock (retries are driven by moving the clock and calling Wake, never by sleeping).

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdlib.h>

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "store/forwarding_store.h"
#include "store/memory_store.h"
#include "store/sqlite_store.h"
#include "webhook/dispatcher.h"
#include "webhook/http_client.h"
#include "webhook/signature.h"

namespace parley::webhook {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
namespace ssl = net::ssl;
using tcp = net::ip::tcp;
using std::chrono::milliseconds;

constexpr milliseconds kWait(10'000);  // bound on every wait for the worker

// A temp directory for the test's lifetime (store_conformance.h has one, but including it would
// register the Store suite here without backends).
class TempDir {
 public:
  TempDir() {
    std::string pattern =
        (std::filesystem::temp_directory_path() / "parley-webhook-XXXXXX").string();
    const char* made = mkdtemp(pattern.data());
    if (made != nullptr) path_ = made;
  }
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

// ---------------------------------------------------------------------------------------------
// Signing

TEST(WebhookSignature, MatchesRfc4231AndOpensslVectors) {
  // RFC 4231 test case 2.
  EXPECT_EQ(HmacSha256Hex("Jefe", "what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  // printf '%s' '{"seq":1,"type":"contact.queued"}' | openssl dgst -sha256 -hmac 'It is a secret'
  const std::string body = R"({"seq":1,"type":"contact.queued"})";
  EXPECT_EQ(SignatureHeaderValue("It is a secret", body),
            "sha256=e24f5a9c49b9d6b81ab34d3859969666ec5b1b6198d01649c030a9709091dd9f");
}

TEST(WebhookSignature, VerifiesOnlyTheExactBodyAndSecret) {
  const std::string body = R"({"seq":1,"type":"contact.queued"})";
  const std::string header = SignatureHeaderValue("It is a secret", body);
  EXPECT_TRUE(VerifySignature("It is a secret", body, header));
  EXPECT_TRUE(
      VerifySignature("It is a secret", body,
                      "sha256=E24F5A9C49B9D6B81AB34D3859969666EC5B1B6198D01649C030A9709091DD9F"));
  EXPECT_FALSE(VerifySignature("It is a secret", body + " ", header));
  EXPECT_FALSE(VerifySignature("another secret", body, header));
  EXPECT_FALSE(VerifySignature("It is a secret", body, header.substr(7)));  // no "sha256="
  EXPECT_FALSE(VerifySignature("It is a secret", body, header.substr(0, header.size() - 1)));
  EXPECT_FALSE(VerifySignature("It is a secret", body, ""));
}

// ---------------------------------------------------------------------------------------------
// URLs, backoff, body

TEST(HttpUrl, ParsesHostPortAndTarget) {
  auto u = ParseHttpUrl("http://example.com:8080/hooks/parley?x=1");
  ASSERT_TRUE(u.ok()) << u.status().ToString();
  EXPECT_EQ(u->host, "example.com");
  EXPECT_EQ(u->port, "8080");
  EXPECT_EQ(u->target, "/hooks/parley?x=1");
  auto bare = ParseHttpUrl("http://127.0.0.1");
  ASSERT_TRUE(bare.ok());
  EXPECT_EQ(bare->port, "80");
  EXPECT_EQ(bare->target, "/");
  auto v6 = ParseHttpUrl("http://[::1]:9/x");
  ASSERT_TRUE(v6.ok());
  EXPECT_EQ(v6->host, "::1");
  EXPECT_EQ(v6->port, "9");
  auto secure = ParseHttpUrl("https://example.com");
  ASSERT_TRUE(secure.ok());
  EXPECT_TRUE(secure->tls);
  EXPECT_EQ(secure->port, "443");
  EXPECT_EQ(secure->target, "/");
  EXPECT_EQ(ParseHttpUrl("ftp://example.com/").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseHttpUrl("http://:80/").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseHttpUrl("http://h:99999/").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseHttpUrl("http://u@h/").status().code(), StatusCode::kInvalidArgument);
}

TEST(RetryDelay, DoublesUpToTheCapWithBoundedJitter) {
  DispatcherOptions options;
  options.initial_backoff = Seconds(1);
  options.max_backoff = Seconds(10);
  options.jitter = 0;
  Random random(7);
  EXPECT_EQ(RetryDelay(options, 1, random), Seconds(1));
  EXPECT_EQ(RetryDelay(options, 2, random), Seconds(2));
  EXPECT_EQ(RetryDelay(options, 4, random), Seconds(8));
  EXPECT_EQ(RetryDelay(options, 5, random), Seconds(10));
  EXPECT_EQ(RetryDelay(options, 60, random), Seconds(10));
  options.jitter = 0.2;
  Random a(7), b(7);
  for (int attempt = 1; attempt <= 6; ++attempt) {
    const Duration d = RetryDelay(options, attempt, a);
    const double base = std::min(10.0, std::pow(2.0, attempt - 1));
    EXPECT_GE(d, Seconds(0.8 * base));
    EXPECT_LE(d, Seconds(1.2 * base));
    EXPECT_EQ(d, RetryDelay(options, attempt, b));  // the same seed gives the same delays
  }
}

TEST(DeliveryBody, WrapsTheEventWithItsSequenceAndType) {
  auto body = DeliveryBody(R"({"contact":7,"queue":"sales"})", "contact.queued", 42, "crm");
  ASSERT_TRUE(body.ok());
  EXPECT_EQ(
      *body,
      R"({"seq":42,"type":"contact.queued","webhook":"crm","event":{"contact":7,"queue":"sales"}})");
  EXPECT_EQ(DeliveryBody("{nope", "contact.queued", 1, "crm").status().code(),
            StatusCode::kInvalidArgument);
}

// ---------------------------------------------------------------------------------------------
// End to end

// A clock the test moves; read by the dispatcher's worker thread.
class TestClock final : public Clock {
 public:
  explicit TestClock(TimePoint start) : us_(ToMicros(start)) {}
  TimePoint Now() const override { return FromMicros(us_.load()); }
  void Advance(Duration d) { us_ += d.count(); }

 private:
  std::atomic<int64_t> us_;
};

struct Received {
  std::string target;
  std::string signature;
  std::string timestamp;
  std::string delivery;
  std::string content_type;
  std::string body;
};

// A one-thread HTTP server on 127.0.0.1 (port chosen by the system) answering 503 to the first
// `fail_first` requests and 200 afterwards; or, with `hang`, accepting and never answering.
class TestServer {
 public:
  explicit TestServer(int fail_first, bool hang = false)
      : fail_first_(fail_first),
        hang_(hang),
        acceptor_(ioc_, {net::ip::make_address("127.0.0.1"), 0}) {
    port_ = acceptor_.local_endpoint().port();
    Accept();
    thread_ = std::thread([this] { ioc_.run(); });
  }
  ~TestServer() {
    ioc_.stop();
    thread_.join();
  }
  std::string Url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/hooks/parley"; }
  std::vector<Received> received() const {
    std::lock_guard lock(mu_);
    return received_;
  }

 private:
  void Accept() {
    acceptor_.async_accept([this](beast::error_code ec, tcp::socket socket) {
      if (ec) return;
      if (hang_) {
        held_.push_back(std::move(socket));  // never read, never answer
      } else {
        Serve(std::move(socket));
      }
      Accept();
    });
  }
  void Serve(tcp::socket socket) {
    beast::flat_buffer buffer;
    http::request<http::string_body> req;
    beast::error_code ec;
    http::read(socket, buffer, req, ec);
    if (ec) return;
    int count = 0;
    {
      std::lock_guard lock(mu_);
      received_.push_back({std::string(req.target()), std::string(req["X-Parley-Signature"]),
                           std::string(req["X-Parley-Timestamp"]),
                           std::string(req["X-Parley-Delivery"]),
                           std::string(req[http::field::content_type]), req.body()});
      count = static_cast<int>(received_.size());
    }
    http::response<http::string_body> res{
        count <= fail_first_ ? http::status::service_unavailable : http::status::ok, 11};
    res.body() = count <= fail_first_ ? "try later" : "ok";
    res.prepare_payload();
    http::write(socket, res, ec);
    socket.shutdown(tcp::socket::shutdown_both, ec);
  }

  const int fail_first_;
  const bool hang_;
  net::io_context ioc_;
  tcp::acceptor acceptor_;
  unsigned short port_ = 0;
  std::vector<tcp::socket> held_;
  mutable std::mutex mu_;
  std::vector<Received> received_;  // GUARDED_BY(mu_)
  std::thread thread_;
};

constexpr char kSecret[] = "s3cret";
const TimePoint kStart = FromMicros(1'700'000'000'000'000);

DispatcherOptions TestOptions() {
  DispatcherOptions options;
  options.max_attempts = 4;
  options.initial_backoff = Seconds(10);
  options.max_backoff = Seconds(60);
  options.jitter = 0.2;
  options.request_timeout = Seconds(5);
  options.lease = Seconds(600);
  options.idle_poll = Seconds(1);
  return options;
}

std::vector<WebhookSubscription> Subscriptions(const std::string& url) {
  return {{.name = "crm",
           .url = url,
           .events = {"contact.queued", "contact.closed"},
           .secret = kSecret}};
}

TEST(WebhookDispatcher, RetriesWithBackoffUntilTheReceiverAcceptsAndSignsEveryAttempt) {
  TestServer server(/*fail_first=*/2);
  store::MemoryStore outbox;
  BeastHttpPoster poster;
  TestClock clock(kStart);
  WebhookDispatcher dispatcher(Subscriptions(server.Url()), outbox, poster, clock, Random(3),
                               TestOptions());
  dispatcher.Start();
  dispatcher.Offer(R"({"contact":7})", "agent.presence_changed", 1);  // not subscribed
  dispatcher.Offer(R"({"contact":7})", "contact.queued", 2);

  ASSERT_TRUE(dispatcher.WaitFor([](const auto& c) { return c.failed == 1; }, kWait));
  auto first = outbox.GetDelivery(1);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_EQ(first->attempts, 1);
  EXPECT_EQ(first->last_error, "HTTP 503");
  EXPECT_GE(first->next_attempt, kStart + Seconds(8));
  EXPECT_LE(first->next_attempt, kStart + Seconds(12));

  // A wake-up before the delivery is due finds nothing to send; at the due time it retries.
  clock.Advance(Seconds(7));
  dispatcher.Wake();
  clock.Advance(first->next_attempt - clock.Now());
  dispatcher.Wake();
  ASSERT_TRUE(dispatcher.WaitFor([](const auto& c) { return c.failed == 2; }, kWait));
  auto second = outbox.GetDelivery(1);
  EXPECT_EQ(second->attempts, 2);
  const Duration backoff = second->next_attempt - clock.Now();
  EXPECT_GE(backoff, Seconds(16));
  EXPECT_LE(backoff, Seconds(24));

  clock.Advance(backoff);
  dispatcher.Wake();
  ASSERT_TRUE(dispatcher.WaitFor([](const auto& c) { return c.delivered == 1; }, kWait));
  dispatcher.Stop();

  const DispatcherCounters c = dispatcher.counters();
  EXPECT_EQ(c.offered, 2u);
  EXPECT_EQ(c.enqueued, 1u);
  EXPECT_EQ(c.delivered, 1u);
  EXPECT_EQ(c.failed, 2u);
  EXPECT_EQ(c.retried, 2u);
  EXPECT_EQ(c.dead, 0u);
  EXPECT_EQ(c.dropped, 0u);
  EXPECT_EQ(c.outbox_errors, 0u);
  auto done = outbox.GetDelivery(1);
  EXPECT_EQ(done->state, ports::DeliveryState::kDelivered);
  EXPECT_EQ(done->attempts, 3);

  const auto received = server.received();
  ASSERT_EQ(received.size(), 3u);
  const std::string body =
      R"({"seq":2,"type":"contact.queued","webhook":"crm","event":{"contact":7}})";
  const int64_t start_s = ToMicros(kStart) / 1'000'000;
  for (const Received& r : received) {
    EXPECT_EQ(r.target, "/hooks/parley");
    EXPECT_EQ(r.body, body);
    EXPECT_EQ(r.content_type, "application/json");
    EXPECT_TRUE(VerifySignature(kSecret, r.body, r.signature)) << r.signature;
    EXPECT_EQ(r.delivery, "1");  // the same id on every retry
  }
  EXPECT_EQ(received[0].timestamp, std::to_string(start_s));
  EXPECT_EQ(received[2].timestamp,
            std::to_string(
                std::chrono::floor<std::chrono::seconds>(clock.Now()).time_since_epoch().count()));
}

TEST(WebhookDispatcher, GivesUpAfterMaxAttemptsAndKeepsTheDeadLetter) {
  TestServer server(/*fail_first=*/1000);
  TempDir dir;
  auto store = store::SqliteStore::Open((dir.path() / "parley.db").string());
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  BeastHttpPoster poster;
  TestClock clock(kStart);
  DispatcherOptions options = TestOptions();
  options.max_attempts = 2;
  WebhookDispatcher dispatcher(Subscriptions(server.Url()), **store, poster, clock, Random(5),
                               options);
  dispatcher.Start();
  dispatcher.Offer(R"({"contact":8})", "contact.closed", 9);
  ASSERT_TRUE(dispatcher.WaitFor([](const auto& c) { return c.failed == 1; }, kWait));
  clock.Advance(Seconds(60));
  dispatcher.Wake();
  ASSERT_TRUE(dispatcher.WaitFor([](const auto& c) { return c.dead == 1; }, kWait));
  dispatcher.Stop();
  EXPECT_EQ(dispatcher.counters().failed, 2u);
  EXPECT_EQ(dispatcher.counters().retried, 1u);

  auto dead = (*store)->DeadDeliveries(10);
  ASSERT_TRUE(dead.ok());
  ASSERT_EQ(dead->size(), 1u);
  EXPECT_EQ(dead->at(0).webhook, "crm");
  EXPECT_EQ(dead->at(0).event_seq, 9u);
  EXPECT_EQ(dead->at(0).attempts, 2);
  EXPECT_EQ(dead->at(0).last_error, "HTTP 503");
  EXPECT_EQ(server.received().size(), 2u);
}

TEST(WebhookDispatcher, ReofferedEventIsSentOnce) {
  TestServer server(/*fail_first=*/0);
  store::MemoryStore outbox;
  BeastHttpPoster poster;
  TestClock clock(kStart);
  WebhookDispatcher dispatcher(Subscriptions(server.Url()), outbox, poster, clock, Random(1),
                               TestOptions());
  dispatcher.Start();
  dispatcher.Offer(R"({"a":1})", "contact.queued", 5);
  ASSERT_TRUE(dispatcher.WaitFor([](const auto& c) { return c.delivered == 1; }, kWait));
  dispatcher.Offer(R"({"a":1})", "contact.queued", 5);  // e.g. replay after a restart
  dispatcher.Offer("not json", "contact.queued", 6);
  dispatcher.Stop();  // writes the queued offers before it returns
  const DispatcherCounters c = dispatcher.counters();
  EXPECT_EQ(c.enqueued, 1u);
  EXPECT_EQ(c.dropped, 1u);
  EXPECT_EQ(server.received().size(), 1u);
}

// Counts the dispatcher's reads of the outbox.
class CountingOutbox final : public store::ForwardingStore {
 public:
  using ForwardingStore::ForwardingStore;
  Result<std::vector<ports::WebhookDelivery>> ClaimDueDeliveries(TimePoint now, TimePoint lease,
                                                                 size_t limit) override {
    ++claims;
    return ForwardingStore::ClaimDueDeliveries(now, lease, limit);
  }
  std::atomic<int> claims{0};
};

TEST(WebhookDispatcher, EventsNoWebhookWantsDoNotReadTheOutbox) {
  TestServer server(/*fail_first=*/0);
  store::MemoryStore memory;
  CountingOutbox outbox(memory);
  BeastHttpPoster poster;
  TestClock clock(kStart);
  DispatcherOptions options = TestOptions();
  options.idle_poll = Seconds(3600);  // no poll during the test
  WebhookDispatcher dispatcher(Subscriptions(server.Url()), outbox, poster, clock, Random(1),
                               options);
  dispatcher.Start();
  // One at a time, so each is a turn of the worker of its own.
  for (uint64_t seq = 1; seq <= 50; ++seq) {
    dispatcher.Offer(R"({"a":1})", "agent.state", seq);
    ASSERT_TRUE(dispatcher.WaitFor([&](const auto& c) { return c.considered == seq; }, kWait));
  }
  dispatcher.Offer(R"({"a":1})", "contact.queued", 51);  // the one "crm" subscribes to
  ASSERT_TRUE(dispatcher.WaitFor([](const auto& c) { return c.delivered == 1; }, kWait));
  dispatcher.Stop();
  EXPECT_EQ(dispatcher.counters().offered, 51u);
  // The first turn's read, then only for the turn whose offer became a delivery (a read that
  // claims it, one that finds nothing more); the 50 others read nothing (each read the outbox
  // before).
  EXPECT_LE(outbox.claims.load(), 4);
  EXPECT_EQ(server.received().size(), 1u);
}

TEST(WebhookDispatcher, WithoutWebhooksEventsAreNeitherQueuedNorDropped) {
  store::MemoryStore memory;
  CountingOutbox outbox(memory);
  BeastHttpPoster poster;
  TestClock clock(kStart);
  DispatcherOptions options = TestOptions();
  options.idle_poll = Seconds(3600);
  options.max_queued_offers = 2;  // a queue would overflow at once
  WebhookDispatcher dispatcher({}, outbox, poster, clock, Random(1), options);
  dispatcher.Start();
  for (uint64_t seq = 1; seq <= 100; ++seq) dispatcher.Offer(R"({"a":1})", "agent.state", seq);
  const DispatcherCounters c = dispatcher.counters();
  EXPECT_EQ(c.offered, 100u);
  EXPECT_EQ(c.considered, 100u);
  EXPECT_EQ(c.dropped, 0u);
  dispatcher.Stop();
  EXPECT_LE(outbox.claims.load(), 1);  // at most the first turn's (none when Stop came first)
}

// The engine asks before it renders an event for the dispatcher.
TEST(WebhookDispatcher, WantsTheTypesSomeSubscriptionTakes) {
  store::MemoryStore outbox;
  BeastHttpPoster poster;
  TestClock clock(kStart);
  WebhookDispatcher dispatcher({}, outbox, poster, clock, Random(1), TestOptions());
  EXPECT_FALSE(dispatcher.Wants("contact.queued"));
  dispatcher.SetSubscriptions(Subscriptions("http://127.0.0.1:9/hook"));
  EXPECT_TRUE(dispatcher.Wants("contact.queued"));
  EXPECT_TRUE(dispatcher.Wants("contact.closed"));
  EXPECT_FALSE(dispatcher.Wants("agent.state"));
  auto all = Subscriptions("http://127.0.0.1:9/all");
  all[0].name = "everything";
  all[0].events.clear();
  dispatcher.SetSubscriptions(all);
  EXPECT_TRUE(dispatcher.Wants("agent.state"));
}

TEST(WebhookDispatcher, AReceiverThatNeverAnswersTimesOut) {
  TestServer server(/*fail_first=*/0, /*hang=*/true);
  store::MemoryStore outbox;
  BeastHttpPoster poster;
  TestClock clock(kStart);
  DispatcherOptions options = TestOptions();
  options.request_timeout = Seconds(0.2);  // real time: the one bounded wait in this file
  WebhookDispatcher dispatcher(Subscriptions(server.Url()), outbox, poster, clock, Random(1),
                               options);
  dispatcher.Start();
  dispatcher.Offer("{}", "contact.queued", 1);
  ASSERT_TRUE(dispatcher.WaitFor([](const auto& c) { return c.failed == 1; }, kWait));
  dispatcher.Stop();
  auto d = outbox.GetDelivery(1);
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->state, ports::DeliveryState::kPending);
  EXPECT_NE(d->last_error.find("timed out"), std::string::npos) << d->last_error;
}

TEST(BeastHttpPoster, RefusedConnectionIsUnavailable) {
  unsigned short port = 0;
  {
    net::io_context ioc;
    tcp::acceptor acceptor(ioc, {net::ip::make_address("127.0.0.1"), 0});
    port = acceptor.local_endpoint().port();
  }  // closed: nothing listens there now
  BeastHttpPoster poster;
  auto r = poster.Post({.url = "http://127.0.0.1:" + std::to_string(port) + "/", .body = "{}"},
                       Seconds(2));
  EXPECT_EQ(r.status().code(), StatusCode::kUnavailable);
}

// A self-signed certificate for IP 127.0.0.1 (no DNS name; a CN that is no host name) valid from an
// hour ago to an hour from now, made at run time so that no key sits in the repository and no date
// can expire.
struct TestCertificate {
  std::string cert_pem;
  std::string key_pem;
};

TestCertificate MakeTestCertificate() {
  TestCertificate out;
  EVP_PKEY* key = EVP_EC_gen("P-256");
  X509* cert = X509_new();
  ASN1_INTEGER_set(X509_get_serialNumber(cert), 1);
  X509_gmtime_adj(X509_getm_notBefore(cert), -3600);
  X509_gmtime_adj(X509_getm_notAfter(cert), 3600);
  X509_set_pubkey(cert, key);
  X509_NAME* name = X509_get_subject_name(cert);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("parley test"), -1, -1, 0);
  X509_set_issuer_name(cert, name);
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, cert, cert, nullptr, nullptr, 0);
  for (auto [nid, value] : {std::pair{NID_subject_alt_name, "IP:127.0.0.1"},
                            std::pair{NID_basic_constraints, "critical,CA:TRUE"}}) {
    X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
    X509_add_ext(cert, ext, -1);
    X509_EXTENSION_free(ext);
  }
  X509_sign(cert, key, EVP_sha256());
  auto pem = [](auto write) {
    BIO* bio = BIO_new(BIO_s_mem());
    write(bio);
    char* data = nullptr;
    const long n = BIO_get_mem_data(bio, &data);
    std::string text(data, static_cast<size_t>(n));
    BIO_free(bio);
    return text;
  };
  out.cert_pem = pem([&](BIO* b) { PEM_write_bio_X509(b, cert); });
  out.key_pem =
      pem([&](BIO* b) { PEM_write_bio_PrivateKey(b, key, nullptr, nullptr, 0, nullptr, nullptr); });
  X509_free(cert);
  EVP_PKEY_free(key);
  return out;
}

// An HTTPS server on 127.0.0.1 that answers 200 and records the requests.
class TestTlsServer {
 public:
  explicit TestTlsServer(const TestCertificate& certificate)
      : acceptor_(ioc_, {net::ip::make_address("127.0.0.1"), 0}) {
    context_.use_certificate_chain(net::buffer(certificate.cert_pem));
    context_.use_private_key(net::buffer(certificate.key_pem), ssl::context::pem);
    port_ = acceptor_.local_endpoint().port();
    Accept();
    thread_ = std::thread([this] { ioc_.run(); });
  }
  ~TestTlsServer() {
    ioc_.stop();
    thread_.join();
  }
  std::string Url(const std::string& host) const {
    return "https://" + host + ":" + std::to_string(port_) + "/secure";
  }
  std::vector<Received> received() const {
    std::lock_guard lock(mu_);
    return received_;
  }
  int handshakes_failed() const { return handshakes_failed_.load(); }

 private:
  void Accept() {
    acceptor_.async_accept([this](beast::error_code ec, tcp::socket socket) {
      if (ec) return;
      Serve(std::move(socket));
      Accept();
    });
  }
  void Serve(tcp::socket socket) {
    beast::ssl_stream<tcp::socket> stream(std::move(socket), context_);
    beast::error_code ec;
    stream.handshake(ssl::stream_base::server, ec);
    if (ec) {
      ++handshakes_failed_;
      return;
    }
    beast::flat_buffer buffer;
    http::request<http::string_body> req;
    http::read(stream, buffer, req, ec);
    if (ec) return;
    {
      std::lock_guard lock(mu_);
      received_.push_back({std::string(req.target()), std::string(req["X-Parley-Signature"]),
                           std::string(req["X-Parley-Timestamp"]),
                           std::string(req["X-Parley-Delivery"]),
                           std::string(req[http::field::content_type]), req.body()});
    }
    http::response<http::string_body> res{http::status::no_content, 11};
    res.prepare_payload();
    http::write(stream, res, ec);
    stream.shutdown(ec);
  }

  net::io_context ioc_;
  ssl::context context_{ssl::context::tls_server};
  tcp::acceptor acceptor_;
  unsigned short port_ = 0;
  std::atomic<int> handshakes_failed_{0};
  mutable std::mutex mu_;
  std::vector<Received> received_;  // GUARDED_BY(mu_)
  std::thread thread_;
};

TEST(BeastHttpPoster, PostsOverHttpsToATrustedCertificateOnly) {
  const TestCertificate certificate = MakeTestCertificate();
  TestTlsServer server(certificate);
  const HttpRequest request{.url = server.Url("127.0.0.1"),
                            .headers = {{"Content-Type", "application/json"}},
                            .body = R"({"seq":1})"};

  BeastHttpPoster trusting(TlsOptions{.extra_ca_pem = certificate.cert_pem});
  ASSERT_TRUE(trusting.tls_status().ok()) << trusting.tls_status().ToString();
  auto ok = trusting.Post(request, Seconds(5));
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_EQ(*ok, 204);
  ASSERT_EQ(server.received().size(), 1u);
  EXPECT_EQ(server.received()[0].body, R"({"seq":1})");
  EXPECT_EQ(server.received()[0].target, "/secure");

  // The system's trust store does not know the test certificate.
  BeastHttpPoster system_only;
  auto refused = system_only.Post(request, Seconds(5));
  EXPECT_EQ(refused.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(refused.status().message().find("TLS handshake"), std::string::npos)
      << refused.status().message();

  // Trusted, but the certificate names 127.0.0.1, not "localhost" (the same server).
  HttpRequest wrong_name = request;
  wrong_name.url = server.Url("localhost");
  auto mismatch = trusting.Post(wrong_name, Seconds(5));
  EXPECT_EQ(mismatch.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(mismatch.status().message().find("TLS handshake"), std::string::npos)
      << mismatch.status().message();
  EXPECT_EQ(server.received().size(), 1u);

  BeastHttpPoster bad_ca(TlsOptions{.extra_ca_pem = "not a certificate"});
  EXPECT_EQ(bad_ca.tls_status().code(), StatusCode::kInternal);
}

}  // namespace
}  // namespace parley::webhook
