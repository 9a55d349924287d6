// <utility> first: Boost 1.74 Asio under C++20 with g++ 12 needs std::exchange declared.
#include "api/http_server.h"

#include <algorithm>
#include <array>
#include <atomic>
#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <charconv>
#include <condition_variable>
#include <cstdio>
#include <deque>
#include <filesystem>
#include <fstream>
#include <functional>
#include <future>
#include <map>
#include <mutex>
#include <optional>
#include <thread>
#include <utility>
#include <vector>

#include "api/admin.h"
#include "api/call_control.h"
#include "api/file_body.h"
#include "api/recordings.h"
#include "api/reports.h"
#include "api/request.h"
#include "api/simulation.h"
#include "api/staffing.h"
#include "api/views.h"
#include "auth/crypto.h"
#include "base/log.h"
#include "base/thread_name.h"

namespace parley::api {

namespace net = boost::asio;
namespace ssl = boost::asio::ssl;
namespace beast = boost::beast;
namespace http = boost::beast::http;
namespace websocket = boost::beast::websocket;
using tcp = boost::asio::ip::tcp;

using Request = http::request<http::string_body>;
using Response = http::response<http::string_body>;
using FileResponse = http::response<RangeFileBody>;  // recordings' audio, streamed
// Each connection runs on its own strand. Its streams name the strand's type rather than the
// type-erased any_io_executor of beast::tcp_stream, so no I/O step pays for the erasure.
using Strand = net::strand<net::io_context::executor_type>;
using Socket = net::basic_stream_socket<tcp, Strand>;
using PlainStream = beast::basic_stream<tcp, Strand>;
using TlsStream = beast::ssl_stream<PlainStream>;

namespace {

constexpr std::string_view kApiPrefix = "/api/v1";

bool StartsWith(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }

std::string_view MimeType(std::string_view path) {
  const auto dot = path.rfind('.');
  const std::string_view ext = dot == std::string_view::npos ? "" : path.substr(dot);
  static const std::pair<std::string_view, std::string_view> kTypes[] = {
      {".html", "text/html; charset=utf-8"},
      {".js", "text/javascript; charset=utf-8"},
      {".mjs", "text/javascript; charset=utf-8"},
      {".css", "text/css; charset=utf-8"},
      {".json", "application/json"},
      {".svg", "image/svg+xml"},
      {".png", "image/png"},
      {".ico", "image/x-icon"},
      {".woff2", "font/woff2"},
      {".txt", "text/plain; charset=utf-8"},
      {".map", "application/json"}};
  for (const auto& [e, t] : kTypes) {
    if (e == ext) return t;
  }
  return "application/octet-stream";
}

// The value of cookie `name` in a Cookie header, or "".
std::string CookieValue(std::string_view header, std::string_view name) {
  size_t i = 0;
  while (i < header.size()) {
    while (i < header.size() && (header[i] == ' ' || header[i] == ';')) ++i;
    size_t end = header.find(';', i);
    if (end == std::string_view::npos) end = header.size();
    const std::string_view pair = header.substr(i, end - i);
    const size_t eq = pair.find('=');
    if (eq != std::string_view::npos && pair.substr(0, eq) == name) {
      return std::string(pair.substr(eq + 1));
    }
    i = end;
  }
  return "";
}

ports::Caller CallerFor(const auth::Principal& p, std::optional<auth::Permission> perm) {
  ports::Caller c;
  c.user = p.login;
  c.agent = p.agent;
  c.team = p.team;
  const auth::Reach r = perm ? auth::PrincipalReach(p, *perm) : auth::Reach::kSelf;
  c.reach = r == auth::Reach::kAll    ? ports::Caller::Reach::kAll
            : r == auth::Reach::kTeam ? ports::Caller::Reach::kTeam
                                      : ports::Caller::Reach::kSelf;
  return c;
}

}  // namespace

// A live connection the server can ask to wind down (Stop).
class Connection {
 public:
  virtual ~Connection() = default;
  virtual void Shutdown() = 0;  // thread-safe: posts to the connection's strand
  virtual void Abort() = 0;     // closes the socket now (after the grace period)
};

struct ServerImpl;

// A connection's last session cookie and its hash: a keep-alive client sends the same cookie on
// every request, and hashing it was the costliest step of authentication. Only the hashing is
// saved; the session and its user are checked again each time.
struct SessionHashCache {
  std::string session_id;
  std::string id_hash;
};

// The connection an exchange answers on (HttpSession). Called on the connection's strand only.
class Responder {
 public:
  virtual ~Responder() = default;
  virtual void Write(Response res) = 0;
  virtual void WriteFile(std::shared_ptr<FileResponse> res) = 0;
};

// One request on its way through the server. Shared by the handler and the port's reply.
struct Exchange {
  std::shared_ptr<ServerImpl> server;
  Request req;
  std::string peer;
  std::string path;
  std::string query;
  // The matched route's "METHOD /pattern" (ServerImpl::route_keys), or "unmatched".
  std::string_view route_key = "unmatched";
  size_t route_index = SIZE_MAX;  // index into the registry's routes; SIZE_MAX: unmatched
  uint64_t request_id = 0;        // this process's count of requests: the logs' correlation id
  const auth::RouteSpec* route = nullptr;
  std::optional<auth::Principal> principal;
  std::string session_id;  // the cookie's value, when the request carried one
  ports::Caller caller;
  Json body;                        // null when the request had no body
  std::vector<std::string> params;  // the path's "{name}" segments, raw
  std::shared_ptr<Responder> responder;
  Strand strand;  // the connection's: answers are built and written there
  // The connection's; valid only while Dispatch runs (on the strand, inside the read handler).
  SessionHashCache* session_hash_cache = nullptr;

  // Writes the response on the connection's strand: at once when called there (a port's reply
  // is posted there, see ServerImpl::Then), else posted. From any thread, once.
  void send(Response res) {
    net::dispatch(strand,
                  [r = responder, res = std::move(res)]() mutable { r->Write(std::move(res)); });
  }
  // The same for a streamed file (recordings' audio); either this or `send`, once.
  void send_file(FileResponse res) {
    auto shared = std::make_shared<FileResponse>(std::move(res));
    net::dispatch(strand, [r = responder, shared] { r->WriteFile(shared); });
  }
  // Set only for a WebSocket upgrade request: hands the connection to the event stream.
  std::function<void(Request, ports::Caller, uint64_t after, bool snapshot, bool queues)> upgrade;
};

using Handler = void (ServerImpl::*)(const std::shared_ptr<Exchange>&);

struct RouteDef {
  auth::RouteSpec spec;
  Handler handler;
};

struct ServerImpl : std::enable_shared_from_this<ServerImpl> {
  ServerImpl(HttpServerOptions o, ports::ContactCenter& c, AuthParts a, const Clock& clk)
      : options(std::move(o)), center(c), auth(a), clock(clk) {}

  // Setup.
  Status DeclareRoutes();
  Status Start();
  void Stop();
  void DoAccept();
  void OnAccept(beast::error_code ec, Socket socket);

  // Requests.
  void Dispatch(const std::shared_ptr<Exchange>& x);
  void Reply(Exchange& x, http::status status, const Json& body);
  void ReplyText(Exchange& x, http::status status, std::string body, std::string_view type);
  void Fail(Exchange& x, const ApiError& e);
  // Counts an answer of `status` for the exchange's route (or "unmatched").
  void Count(const Exchange& x, unsigned status) { Count(x.route_index, status); }
  void Count(size_t route_index, unsigned status);
  // The answer's log line: debug for every request, error for a 5xx (with its message).
  void LogAnswer(const Exchange& x, unsigned status, std::string_view error = {});
  void CountBad(BadRequest b) { bad_requests[static_cast<size_t>(b)].fetch_add(1); }
  Response Make(const Request& req, http::status status, std::string body,
                std::string_view type) const;
  // An error answered before routing (parse errors, timeouts): no Exchange yet.
  Response EarlyError(unsigned version, const ApiError& e);
  template <class T, class F>
  ports::Reply<T> Then(const std::shared_ptr<Exchange>& x, F f);
  bool ReadBody(const std::shared_ptr<Exchange>& x);
  HttpMetrics Http() const;
  std::string CookieFor(std::string_view value, Duration max_age) const;

  // Handlers, one per route.
  void Healthz(const std::shared_ptr<Exchange>& x);
  void Metrics(const std::shared_ptr<Exchange>& x);
  void Login(const std::shared_ptr<Exchange>& x);
  void Logout(const std::shared_ptr<Exchange>& x);
  void Me(const std::shared_ptr<Exchange>& x);
  void ListTokens(const std::shared_ptr<Exchange>& x);
  void IssueToken(const std::shared_ptr<Exchange>& x);
  void RevokeToken(const std::shared_ptr<Exchange>& x);
  void ListAgents(const std::shared_ptr<Exchange>& x);
  void Directory(const std::shared_ptr<Exchange>& x);
  void GetAgent(const std::shared_ptr<Exchange>& x);
  void SetPresence(const std::shared_ptr<Exchange>& x);
  void ListQueues(const std::shared_ptr<Exchange>& x);
  void GetQueue(const std::shared_ptr<Exchange>& x);
  // Answers from the live view's snapshot on this thread (true), or leaves the read to the port
  // (false: no live view, or nothing published yet).
  template <class T, class F>
  bool AnsweredLive(Exchange& x, Result<T> read, F answer);
  void CreateContact(const std::shared_ptr<Exchange>& x);
  void ListContacts(const std::shared_ptr<Exchange>& x);
  void GetContact(const std::shared_ptr<Exchange>& x);
  void AcceptOffer(const std::shared_ptr<Exchange>& x);
  void RejectOffer(const std::shared_ptr<Exchange>& x);
  void EndHandling(const std::shared_ptr<Exchange>& x);
  void WrapUpContact(const std::shared_ptr<Exchange>& x);
  void TransferContact(const std::shared_ptr<Exchange>& x);
  void ConsultContact(const std::shared_ptr<Exchange>& x);
  void PlaceCall(const std::shared_ptr<Exchange>& x);
  void CompleteConsult(const std::shared_ptr<Exchange>& x);
  void CancelConsult(const std::shared_ptr<Exchange>& x);
  void ConferenceConsult(const std::shared_ptr<Exchange>& x);
  void Consult(const std::shared_ptr<Exchange>& x, ports::ContactCenter::ConsultStep step);
  void CancelContact(const std::shared_ptr<Exchange>& x);
  void ExplainContact(const std::shared_ptr<Exchange>& x);
  void SearchCustomers(const std::shared_ptr<Exchange>& x);
  void CreateCustomer(const std::shared_ptr<Exchange>& x);
  void GetCustomer(const std::shared_ptr<Exchange>& x);
  void UpdateCustomer(const std::shared_ptr<Exchange>& x);
  void EraseCustomer(const std::shared_ptr<Exchange>& x);
  void AddCustomerNote(const std::shared_ptr<Exchange>& x);
  void CustomerTimeline(const std::shared_ptr<Exchange>& x);
  void ExportCustomer(const std::shared_ptr<Exchange>& x);
  bool CustomerIdParam(const std::shared_ptr<Exchange>& x, ports::CustomerId& id);
  // Records who read, exported or erased customer data (AuthParts::audit), ok or failed.
  void AuditCustomer(const Exchange& x, std::string action, std::string target, const Status& s);
  void Events(const std::shared_ptr<Exchange>& x);
  // Reports (the answers' shapes in api/reports.h).
  void QueueReport(const std::shared_ptr<Exchange>& x);
  void AgentReport(const std::shared_ptr<Exchange>& x);
  void RunReport(const std::shared_ptr<Exchange>& x, ports::ReportSubject subject);
  // Staffing (api/staffing.h) over ports::Staffing, run off the I/O threads.
  void Staffing(const std::shared_ptr<Exchange>& x);
  // What-if simulations (api/simulation.h) over ports::Simulation, run off the I/O threads.
  void Simulate(const std::shared_ptr<Exchange>& x);
  // The configuration and user routes (api/admin.h), run off the I/O threads.
  void Admin(const std::shared_ptr<Exchange>& x);
  void StaticFile(const std::shared_ptr<Exchange>& x);
  bool ContactIdParam(const std::shared_ptr<Exchange>& x, size_t i, ContactId& id);
  void AnswerOffer(const std::shared_ptr<Exchange>& x, bool accept);
  // Recording (issue 6; the parsing and views are in recordings.cc).
  void ControlRecording(const std::shared_ptr<Exchange>& x);
  void ListRecordings(const std::shared_ptr<Exchange>& x);
  void GetRecording(const std::shared_ptr<Exchange>& x);
  void RecordingAudio(const std::shared_ptr<Exchange>& x);
  void StreamRecording(const std::shared_ptr<Exchange>& x, const ports::RecordingRecord& r);
  // Call control of voice contacts (docs/voice.md, "Call control").
  void HoldContact(const std::shared_ptr<Exchange>& x);
  void ResumeContact(const std::shared_ptr<Exchange>& x);
  void HoldOrResume(const std::shared_ptr<Exchange>& x, bool on_hold);
  void MuteContact(const std::shared_ptr<Exchange>& x);
  void SendDigits(const std::shared_ptr<Exchange>& x);
  void HangupContact(const std::shared_ptr<Exchange>& x);
  void MonitorContact(const std::shared_ptr<Exchange>& x);
  void StopMonitor(const std::shared_ptr<Exchange>& x);
  void Monitor(const std::shared_ptr<Exchange>& x, ContactId id,
               std::optional<ports::MonitorMode> mode);

  // Connections.
  uint64_t Register(std::weak_ptr<Connection> c);
  void Unregister(uint64_t id);

  HttpServerOptions options;
  ports::ContactCenter& center;
  ports::Reports* reports = nullptr;  // HttpServer::AttachReports; null: reports answer 503
  // HttpServer::AttachStaffing; null: staffing answers 503.
  const ports::Staffing* staffing = nullptr;
  // HttpServer::AttachSimulation; null: simulations answer 503.
  const ports::Simulation* simulation = nullptr;
  // HttpServer::AttachLiveView; null: every read goes through the port.
  const ports::LiveView* live = nullptr;
  AuthParts auth;
  const Clock& clock;
  auth::RouteRegistry registry;
  std::vector<Handler> handlers;  // parallel to registry.routes()
  // "METHOD /pattern" of each route, parallel to registry.routes(): the metrics' and logs' key.
  std::vector<std::string> route_keys;
  auth::AccessOptions access;
  bool tls_enabled = false;
  AdminApi admin{nullptr, auth.authenticator, auth.users, auth.audit};

  std::array<std::atomic<uint64_t>, kBadRequestCount> bad_requests{};
  std::atomic<uint64_t> ws_open{0};
  std::atomic<uint64_t> ws_slow_closes{0};
  // Answers per route (parallel to registry.routes(), then one for "unmatched") and status
  // class (index status / 100, 1xx to 5xx): lock-free, since every request counts itself.
  using ClassCounts = std::array<std::atomic<uint64_t>, 6>;
  std::unique_ptr<ClassCounts[]> request_counts;
  std::atomic<uint64_t> next_request_id{1};

  std::mutex conn_mu;
  std::condition_variable conn_cv;
  std::map<uint64_t, std::weak_ptr<Connection>> connections;  // guarded by conn_mu
  uint64_t next_connection = 1;                               // guarded by conn_mu

  std::atomic<bool> stopping{false};
  bool started = false;
  uint16_t bound_port = 0;

  // Declared last: destroyed first, while the rest is still there.
  net::io_context ioc;
  std::optional<ssl::context> tls;
  tcp::acceptor acceptor{net::make_strand(ioc)};
  std::optional<net::executor_work_guard<net::io_context::executor_type>> work;
  std::vector<std::thread> threads;
  // Argon2id logins take ~75 ms each: they run here, not on the I/O threads.
  std::optional<net::thread_pool> blocking;
  // Simulations (seconds each) on threads of their own, so they never delay the administration
  // and staffing work of `blocking`. Two: the port runs one at a time, and a request arriving
  // meanwhile finds it busy (409) at once instead of waiting in a queue.
  std::optional<net::thread_pool> simulations;
};

// ---------------------------------------------------------------------------------------------
// WebSocket event stream

template <class Stream>
class WsSession : public Connection, public std::enable_shared_from_this<WsSession<Stream>> {
 public:
  WsSession(std::shared_ptr<ServerImpl> server, Stream&& stream, ports::Caller caller,
            uint64_t after, bool snapshot, bool queues)
      : server_(std::move(server)),
        ws_(std::move(stream)),
        caller_(std::move(caller)),
        after_(after),
        want_snapshot_(snapshot),
        want_queues_(queues) {}

  ~WsSession() override {
    subscription_.reset();
    if (accepted_) server_->ws_open.fetch_sub(1);
    if (id_) server_->Unregister(id_);
  }

  void Run(Request req) {
    id_ = server_->Register(this->weak_from_this());
    if (server_->stopping) return;  // Stop() began before we registered: drop the connection
    beast::get_lowest_layer(ws_).expires_never();
    websocket::stream_base::timeout t{};
    t.handshake_timeout = std::chrono::seconds(10);
    t.idle_timeout = server_->options.ws_ping_interval;
    t.keep_alive_pings = true;
    ws_.set_option(t);
    ws_.set_option(websocket::stream_base::decorator(
        [](websocket::response_type& res) { res.set(http::field::server, "parley"); }));
    ws_.read_message_max(64 * 1024);
    ws_.async_accept(req,
                     beast::bind_front_handler(&WsSession::OnAccept, this->shared_from_this()));
  }

  void Shutdown() override {
    net::post(ws_.get_executor(), [self = this->shared_from_this()] {
      self->Close(websocket::close_code::going_away, "server shutting down");
    });
  }

  void Abort() override {
    net::post(ws_.get_executor(), [self = this->shared_from_this()] {
      self->subscription_.reset();
      beast::error_code ignored;
      beast::get_lowest_layer(self->ws_).socket().close(ignored);
    });
  }

 private:
  void OnAccept(beast::error_code ec) {
    if (ec) return;
    accepted_ = true;
    server_->ws_open.fetch_add(1);
    if (server_->stopping) return Close(websocket::close_code::going_away, "server shutting down");
    std::weak_ptr<WsSession> weak = this->shared_from_this();
    auto executor = ws_.get_executor();
    // Subscribe before the snapshot is taken, holding events until it is sent, so none falls
    // between the two (a client may see an event already reflected in the snapshot).
    subscription_ = server_->center.Subscribe(
        caller_, after_, [weak, executor](const std::vector<ports::PublishedEvent>& events) {
          auto texts = std::make_shared<std::vector<std::string>>();
          texts->reserve(events.size());
          for (const auto& e : events) texts->push_back(e.json);
          net::post(executor, [weak, texts] {
            if (auto self = weak.lock()) self->OnEvents(std::move(*texts));
          });
        });
    if (want_snapshot_) {
      TakeSnapshot();
    } else {
      snapshot_sent_ = true;
    }
    DoRead();
  }

  void TakeSnapshot() {
    auto self = this->shared_from_this();
    auto executor = ws_.get_executor();
    server_->center.ListAgents(
        caller_, [self, executor](Result<std::vector<ports::AgentSnapshot>> agents) {
          net::post(executor, [self, agents = std::move(agents)]() mutable {
            Json list = Json::array();
            if (agents.ok()) {
              for (const auto& a : *agents) list.push_back(AgentJson(a));
            }
            self->agents_ = std::move(list);
            if (!self->want_queues_) return self->SendSnapshot(Json::array());
            auto executor2 = self->ws_.get_executor();
            self->server_->center.ListQueues(
                self->caller_, [self, executor2](Result<std::vector<ports::QueueSnapshot>> queues) {
                  net::post(executor2, [self, queues = std::move(queues)]() mutable {
                    Json qs = Json::array();
                    if (queues.ok()) {
                      for (const auto& q : *queues) qs.push_back(QueueJson(q));
                    }
                    self->SendSnapshot(std::move(qs));
                  });
                });
          });
        });
  }

  void SendSnapshot(Json queues) {
    Json snapshot = {{"type", "snapshot"},
                     {"schema", 1},
                     {"queues", std::move(queues)},
                     {"agents", std::move(agents_)}};
    snapshot_sent_ = true;
    Enqueue(snapshot.dump(-1, ' ', false, Json::error_handler_t::replace));
    std::vector<std::string> held;
    held.swap(held_);
    for (auto& h : held) Enqueue(std::move(h));
  }

  void OnEvents(std::vector<std::string> texts) {
    for (auto& t : texts) {
      if (!snapshot_sent_) {
        held_.push_back(std::move(t));
        if (held_.size() > server_->options.ws_max_queued_messages) return SlowConsumer();
      } else {
        Enqueue(std::move(t));
      }
    }
  }

  void Enqueue(std::string text) {
    if (closing_) return;
    if (queue_.size() >= server_->options.ws_max_queued_messages) return SlowConsumer();
    queue_.push_back(std::move(text));
    if (!writing_) DoWrite();
  }

  void SlowConsumer() {
    if (closing_) return;
    server_->ws_slow_closes.fetch_add(1);
    Close(websocket::close_code::policy_error,
          "slow consumer: more than " + std::to_string(server_->options.ws_max_queued_messages) +
              " messages waiting");
  }

  void DoWrite() {
    if (queue_.empty() || closing_) {
      writing_ = false;
      return;
    }
    writing_ = true;
    ws_.text(true);
    ws_.async_write(net::buffer(queue_.front()),
                    beast::bind_front_handler(&WsSession::OnWrite, this->shared_from_this()));
  }

  void OnWrite(beast::error_code ec, size_t) {
    if (!queue_.empty()) queue_.pop_front();
    if (ec) {
      writing_ = false;
      closing_ = true;
      subscription_.reset();
      return;
    }
    DoWrite();
  }

  void DoRead() {
    ws_.async_read(read_buffer_,
                   beast::bind_front_handler(&WsSession::OnRead, this->shared_from_this()));
  }

  void OnRead(beast::error_code ec, size_t) {
    if (ec) {
      closing_ = true;
      subscription_.reset();
      return;
    }
    // The stream is one-way; anything a client sends is read and dropped.
    read_buffer_.consume(read_buffer_.size());
    DoRead();
  }

  void Close(websocket::close_code code, std::string reason) {
    if (closing_ || !accepted_) return;
    closing_ = true;
    subscription_.reset();
    queue_.clear();
    held_.clear();
    if (reason.size() > 123) reason.resize(123);  // a close frame carries at most 123 bytes
    ws_.async_close(websocket::close_reason(code, reason),
                    [self = this->shared_from_this()](beast::error_code) {});
  }

  std::shared_ptr<ServerImpl> server_;
  websocket::stream<Stream> ws_;
  ports::Caller caller_;
  uint64_t after_;
  bool want_snapshot_;
  bool want_queues_;
  uint64_t id_ = 0;
  bool accepted_ = false;
  bool snapshot_sent_ = false;
  bool writing_ = false;
  bool closing_ = false;
  Json agents_;
  std::vector<std::string> held_;
  std::deque<std::string> queue_;
  beast::flat_buffer read_buffer_;
  std::unique_ptr<ports::Subscription> subscription_;
};

// ---------------------------------------------------------------------------------------------
// HTTP connection

template <class Stream>
class HttpSession : public Connection,
                    public Responder,
                    public std::enable_shared_from_this<HttpSession<Stream>> {
 public:
  HttpSession(std::shared_ptr<ServerImpl> server, Stream&& stream, std::string peer)
      : server_(std::move(server)),
        stream_(std::move(stream)),
        peer_(std::move(peer)),
        deadline_(beast::get_lowest_layer(stream_).get_executor()) {}

  ~HttpSession() override {
    if (id_) server_->Unregister(id_);
  }

  void Run() {
    id_ = server_->Register(this->weak_from_this());
    // Registered after Stop() took its list of connections: it will not be told, so close.
    if (server_->stopping) return;
    net::dispatch(stream_.get_executor(), [self = this->shared_from_this()] {
      if constexpr (std::is_same_v<Stream, TlsStream>) {
        beast::get_lowest_layer(self->stream_).expires_after(self->server_->options.read_timeout);
        self->stream_.async_handshake(ssl::stream_base::server,
                                      beast::bind_front_handler(&HttpSession::OnHandshake, self));
      } else {
        self->DoRead();
      }
    });
  }

  void Abort() override {
    net::post(stream_.get_executor(), [self = this->shared_from_this()] {
      beast::error_code ignored;
      beast::get_lowest_layer(self->stream_).socket().close(ignored);
    });
  }

  void Shutdown() override {
    net::post(stream_.get_executor(), [self = this->shared_from_this()] {
      self->stop_ = true;
      // An idle keep-alive connection closes now; one with a request in flight closes after
      // its response.
      if (self->reading_) beast::get_lowest_layer(self->stream_).socket().cancel();
    });
  }

 private:
  void OnHandshake(beast::error_code ec) {
    if (ec) return;
    DoRead();
  }

  void DoRead() {
    if (stop_ || server_->stopping) return DoClose();
    parser_.emplace();
    parser_->body_limit(server_->options.max_body_bytes);
    parser_->header_limit(static_cast<uint32_t>(server_->options.max_header_bytes));
    beast::get_lowest_layer(stream_).expires_never();
    timed_out_ = false;
    reading_ = true;
    deadline_.expires_after(server_->options.read_timeout);
    deadline_.async_wait([weak = this->weak_from_this()](beast::error_code ec) {
      if (ec) return;
      if (auto self = weak.lock()) {
        self->timed_out_ = true;
        beast::get_lowest_layer(self->stream_).socket().cancel();
      }
    });
    http::async_read(stream_, buffer_, *parser_,
                     beast::bind_front_handler(&HttpSession::OnRead, this->shared_from_this()));
  }

  void OnRead(beast::error_code ec, size_t) {
    reading_ = false;
    deadline_.cancel();
    const unsigned version = parser_->get().version() ? parser_->get().version() : 11;
    if (timed_out_ && ec) {
      if (parser_->got_some()) {
        return SendEarly(version,
                         ApiError{408, "timeout",
                                  "the request did not arrive within " +
                                      std::to_string(server_->options.read_timeout.count()) + " ms",
                                  BadRequest::kTimeout});
      }
      return DoClose();
    }
    // A request that arrived whole is still answered during Stop(); a cancelled read is not.
    if (ec == http::error::end_of_stream || (ec && stop_)) return DoClose();
    if (ec == http::error::body_limit) {
      return SendEarly(version,
                       ApiError{413, "body_too_large",
                                "the request body is larger than " +
                                    std::to_string(server_->options.max_body_bytes) + " bytes",
                                BadRequest::kBodyTooLarge});
    }
    if (ec == http::error::header_limit) {
      return SendEarly(version,
                       ApiError{431, "headers_too_large",
                                "the request line and headers are larger than " +
                                    std::to_string(server_->options.max_header_bytes) + " bytes",
                                BadRequest::kHeadersTooLarge});
    }
    if (ec && ec.category() == http::make_error_code(http::error::bad_target).category()) {
      return SendEarly(
          version, ApiError{400, "bad_http", "the request is not valid HTTP/1.1: " + ec.message(),
                            BadRequest::kBadHttp});
    }
    if (ec) return DoClose();

    auto executor = stream_.get_executor();
    auto x = std::make_shared<Exchange>(Exchange{.server = server_,
                                                 .req = parser_->release(),
                                                 .peer = peer_,
                                                 .responder = this->shared_from_this(),
                                                 .strand = executor,
                                                 .session_hash_cache = &session_hash_cache_});
    if (websocket::is_upgrade(x->req)) {
      x->upgrade = [self = this->shared_from_this(), executor](Request req, ports::Caller caller,
                                                               uint64_t after, bool snapshot,
                                                               bool queues) {
        net::post(executor, [self, req = std::move(req), caller = std::move(caller), after,
                             snapshot, queues]() mutable {
          auto ws = std::make_shared<WsSession<Stream>>(self->server_, std::move(self->stream_),
                                                        std::move(caller), after, snapshot, queues);
          ws->Run(std::move(req));
        });
      };
    }
    server_->Dispatch(x);
  }

  void SendEarly(unsigned version, const ApiError& e) { Write(server_->EarlyError(version, e)); }

 public:
  void Write(Response res) override {
    if (stop_) res.keep_alive(false);
    response_ = std::make_shared<Response>(std::move(res));
    response_->prepare_payload();
    beast::get_lowest_layer(stream_).expires_after(server_->options.write_timeout);
    http::async_write(stream_, *response_,
                      beast::bind_front_handler(&HttpSession::OnWrite, this->shared_from_this()));
  }

  void OnWrite(beast::error_code ec, size_t) {
    const bool keep_alive = response_ && response_->keep_alive();
    response_.reset();
    if (ec) return;
    if (!keep_alive) return DoClose();
    DoRead();
  }

  // A streamed file: the write timeout plus a second per 64 KiB, so a long recording reaches a
  // slow client.
  void WriteFile(std::shared_ptr<FileResponse> res) override {
    if (stop_) res->keep_alive(false);
    file_response_ = std::move(res);
    file_response_->prepare_payload();
    const auto extra = std::chrono::seconds(file_response_->body().size / 65536);
    beast::get_lowest_layer(stream_).expires_after(server_->options.write_timeout + extra);
    http::async_write(
        stream_, *file_response_, [self = this->shared_from_this()](beast::error_code ec, size_t) {
          const bool keep_alive = self->file_response_ && self->file_response_->keep_alive();
          self->file_response_.reset();
          if (ec) return;
          if (!keep_alive) return self->DoClose();
          self->DoRead();
        });
  }

 private:
  void DoClose() {
    if constexpr (std::is_same_v<Stream, TlsStream>) {
      beast::get_lowest_layer(stream_).expires_after(std::chrono::seconds(2));
      stream_.async_shutdown([self = this->shared_from_this()](beast::error_code) {
        beast::error_code ignored;
        beast::get_lowest_layer(self->stream_).socket().close(ignored);
      });
    } else {
      beast::error_code ignored;
      stream_.socket().shutdown(Socket::shutdown_send, ignored);
      stream_.socket().close(ignored);
    }
  }

  std::shared_ptr<ServerImpl> server_;
  Stream stream_;
  std::string peer_;
  net::steady_timer deadline_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::shared_ptr<Response> response_;
  std::shared_ptr<FileResponse> file_response_;
  SessionHashCache session_hash_cache_;
  uint64_t id_ = 0;
  bool timed_out_ = false;
  bool reading_ = false;
  bool stop_ = false;
};

// ---------------------------------------------------------------------------------------------
// Lifecycle

uint64_t ServerImpl::Register(std::weak_ptr<Connection> c) {
  std::lock_guard lock(conn_mu);
  const uint64_t id = next_connection++;
  connections.emplace(id, std::move(c));
  return id;
}

void ServerImpl::Unregister(uint64_t id) {
  {
    std::lock_guard lock(conn_mu);
    connections.erase(id);
  }
  conn_cv.notify_all();
}

Status ServerImpl::Start() {
  if (started) return InvalidArgument("the HTTP server was already started");
  access.metrics_open_on_loopback = options.metrics_open_on_loopback;
  if (options.io_threads < 1) return InvalidArgument("io_threads must be at least 1");
  if (options.tls_cert_file.empty() != options.tls_key_file.empty()) {
    return InvalidArgument("TLS needs both a certificate file and a key file");
  }
  if (!options.tls_cert_file.empty()) {
    tls.emplace(ssl::context::tls_server);
    tls->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                     ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
    beast::error_code ec;
    tls->use_certificate_chain_file(options.tls_cert_file, ec);
    if (ec) {
      return InvalidArgument("TLS certificate " + options.tls_cert_file + ": " + ec.message());
    }
    tls->use_private_key_file(options.tls_key_file, ssl::context::pem, ec);
    if (ec) return InvalidArgument("TLS key " + options.tls_key_file + ": " + ec.message());
    tls_enabled = true;
  }
  beast::error_code ec;
  const auto address = net::ip::make_address(options.address, ec);
  if (ec) return InvalidArgument("listen address '" + options.address + "' is not an IP address");
  const tcp::endpoint endpoint(address, options.port);
  acceptor.open(endpoint.protocol(), ec);
  if (!ec) acceptor.set_option(net::socket_base::reuse_address(true), ec);
  if (!ec) acceptor.bind(endpoint, ec);
  if (!ec) acceptor.listen(net::socket_base::max_listen_connections, ec);
  if (ec) {
    return Unavailable("cannot listen on " + options.address + ":" + std::to_string(options.port) +
                       ": " + ec.message());
  }
  bound_port = acceptor.local_endpoint().port();
  blocking.emplace(1);
  simulations.emplace(2);
  work.emplace(ioc.get_executor());
  started = true;
  net::post(acceptor.get_executor(), [self = shared_from_this()] { self->DoAccept(); });
  for (int i = 0; i < options.io_threads; ++i) {
    threads.emplace_back([this] {
      NameThisThread("http");
      ioc.run();
    });
  }
  return Status::Ok();
}

void ServerImpl::DoAccept() {
  if (stopping) return;
  acceptor.async_accept(net::make_strand(ioc),
                        beast::bind_front_handler(&ServerImpl::OnAccept, shared_from_this()));
}

void ServerImpl::OnAccept(beast::error_code ec, Socket socket) {
  if (ec == net::error::operation_aborted || stopping) return;
  if (!ec) {
    beast::error_code peer_ec;
    const auto remote = socket.remote_endpoint(peer_ec);
    const std::string peer = peer_ec ? "" : remote.address().to_string();
    if (tls_enabled) {
      std::make_shared<HttpSession<TlsStream>>(
          shared_from_this(), TlsStream(PlainStream(std::move(socket)), *tls), peer)
          ->Run();
    } else {
      std::make_shared<HttpSession<PlainStream>>(shared_from_this(), PlainStream(std::move(socket)),
                                                 peer)
          ->Run();
    }
  }
  DoAccept();
}

void ServerImpl::Stop() {
  if (!started || stopping.exchange(true)) return;
  // Stop accepting first, and wait for it, so no connection slips in after the list below.
  auto closed = std::make_shared<std::promise<void>>();
  net::post(acceptor.get_executor(), [self = shared_from_this(), closed] {
    beast::error_code ignored;
    self->acceptor.close(ignored);
    closed->set_value();
  });
  closed->get_future().wait_for(std::chrono::seconds(2));
  std::vector<std::shared_ptr<Connection>> live;
  {
    std::lock_guard lock(conn_mu);
    for (auto& [id, weak] : connections) {
      if (auto c = weak.lock()) live.push_back(std::move(c));
    }
  }
  for (auto& c : live) c->Shutdown();
  live.clear();  // our references must not keep them alive while we wait
  {
    std::unique_lock lock(conn_mu);
    conn_cv.wait_for(lock, options.shutdown_grace, [this] { return connections.empty(); });
    // Past the grace period: close what is left, so no socket outlives the server.
    for (auto& [id, weak] : connections) {
      if (auto c = weak.lock()) live.push_back(std::move(c));
    }
  }
  for (auto& c : live) c->Abort();
  live.clear();
  {
    std::unique_lock lock(conn_mu);
    conn_cv.wait_for(lock, std::chrono::seconds(1), [this] { return connections.empty(); });
  }
  work.reset();
  ioc.stop();
  for (auto& t : threads) t.join();
  threads.clear();
  beast::error_code ignored;
  acceptor.close(ignored);  // in case the posted close never ran
  if (blocking) blocking->join();
  if (simulations) simulations->join();
}

// ---------------------------------------------------------------------------------------------
// Routing

Status ServerImpl::DeclareRoutes() {
  using P = auth::Permission;
  const std::string v1(kApiPrefix);
  auto perm = [](std::string method, std::string path, P p, Handler h, bool loopback = false) {
    return RouteDef{{std::move(method), std::move(path), p, false, loopback, false}, h};
  };
  auto open = [](std::string method, std::string path, Handler h) {
    return RouteDef{{std::move(method), std::move(path), std::nullopt, true, false, false}, h};
  };
  auto any = [](std::string method, std::string path, Handler h) {
    return RouteDef{{std::move(method), std::move(path), std::nullopt, false, false, true}, h};
  };
  std::vector<RouteDef> defs = {
      open("GET", "/healthz", &ServerImpl::Healthz),
      perm("GET", "/metrics", P::kMetricsRead, &ServerImpl::Metrics, true),
      open("POST", v1 + "/auth/login", &ServerImpl::Login),
      any("POST", v1 + "/auth/logout", &ServerImpl::Logout),
      any("GET", v1 + "/me", &ServerImpl::Me),
      perm("GET", v1 + "/tokens", P::kTokensManage, &ServerImpl::ListTokens),
      perm("POST", v1 + "/tokens", P::kTokensManage, &ServerImpl::IssueToken),
      perm("DELETE", v1 + "/tokens/{prefix}", P::kTokensManage, &ServerImpl::RevokeToken),
      perm("GET", v1 + "/agents", P::kAgentRead, &ServerImpl::ListAgents),
      perm("GET", v1 + "/directory", P::kContactsHandle, &ServerImpl::Directory),
      perm("GET", v1 + "/agents/{agent}", P::kAgentRead, &ServerImpl::GetAgent),
      perm("PUT", v1 + "/agents/{agent}/presence", P::kAgentState, &ServerImpl::SetPresence),
      perm("POST", v1 + "/agents/{agent}/presence", P::kAgentState, &ServerImpl::SetPresence),
      perm("GET", v1 + "/queues", P::kQueuesRead, &ServerImpl::ListQueues),
      perm("GET", v1 + "/queues/{queue}", P::kQueuesRead, &ServerImpl::GetQueue),
      perm("GET", v1 + "/contacts", P::kContactsRead, &ServerImpl::ListContacts),
      perm("POST", v1 + "/contacts", P::kContactsHandle, &ServerImpl::CreateContact),
      perm("GET", v1 + "/contacts/{id}", P::kContactsRead, &ServerImpl::GetContact),
      perm("POST", v1 + "/contacts/{id}/accept", P::kContactsHandle, &ServerImpl::AcceptOffer),
      perm("POST", v1 + "/contacts/{id}/reject", P::kContactsHandle, &ServerImpl::RejectOffer),
      perm("POST", v1 + "/contacts/{id}/end", P::kContactsHandle, &ServerImpl::EndHandling),
      perm("POST", v1 + "/contacts/{id}/wrap-up", P::kContactsHandle, &ServerImpl::WrapUpContact),
      perm("POST", v1 + "/contacts/{id}/transfer", P::kContactsHandle,
           &ServerImpl::TransferContact),
      perm("POST", v1 + "/contacts/{id}/cancel", P::kContactsHandle, &ServerImpl::CancelContact),
      perm("POST", v1 + "/contacts/{id}/consult", P::kContactsHandle, &ServerImpl::ConsultContact),
      perm("POST", v1 + "/calls", P::kContactsHandle, &ServerImpl::PlaceCall),
      perm("POST", v1 + "/contacts/{id}/consult/complete", P::kContactsHandle,
           &ServerImpl::CompleteConsult),
      perm("POST", v1 + "/contacts/{id}/consult/cancel", P::kContactsHandle,
           &ServerImpl::CancelConsult),
      perm("POST", v1 + "/contacts/{id}/consult/conference", P::kContactsHandle,
           &ServerImpl::ConferenceConsult),
      perm("POST", v1 + "/contacts/{id}/hold", P::kContactsHandle, &ServerImpl::HoldContact),
      perm("POST", v1 + "/contacts/{id}/resume", P::kContactsHandle, &ServerImpl::ResumeContact),
      perm("POST", v1 + "/contacts/{id}/mute", P::kContactsHandle, &ServerImpl::MuteContact),
      perm("POST", v1 + "/contacts/{id}/dtmf", P::kContactsHandle, &ServerImpl::SendDigits),
      perm("POST", v1 + "/contacts/{id}/hangup", P::kContactsHandle, &ServerImpl::HangupContact),
      perm("POST", v1 + "/contacts/{id}/monitor", P::kCallsMonitor, &ServerImpl::MonitorContact),
      perm("DELETE", v1 + "/contacts/{id}/monitor", P::kCallsMonitor, &ServerImpl::StopMonitor),
      perm("GET", v1 + "/contacts/{id}/explanation", P::kContactsRead, &ServerImpl::ExplainContact),
      perm("GET", v1 + "/customers", P::kContactsRead, &ServerImpl::SearchCustomers),
      perm("POST", v1 + "/customers", P::kContactsHandle, &ServerImpl::CreateCustomer),
      perm("GET", v1 + "/customers/{id}", P::kContactsRead, &ServerImpl::GetCustomer),
      perm("PUT", v1 + "/customers/{id}", P::kContactsHandle, &ServerImpl::UpdateCustomer),
      perm("DELETE", v1 + "/customers/{id}", P::kContactsExport, &ServerImpl::EraseCustomer),
      perm("POST", v1 + "/customers/{id}/notes", P::kContactsHandle, &ServerImpl::AddCustomerNote),
      perm("GET", v1 + "/customers/{id}/timeline", P::kContactsRead, &ServerImpl::CustomerTimeline),
      perm("GET", v1 + "/customers/{id}/export", P::kContactsExport, &ServerImpl::ExportCustomer),
      perm("GET", v1 + "/events", P::kAgentRead, &ServerImpl::Events),
      perm("GET", v1 + "/reports/queues", P::kReportsRead, &ServerImpl::QueueReport),
      perm("GET", v1 + "/reports/agents", P::kReportsRead, &ServerImpl::AgentReport),
      perm("POST", v1 + "/staffing", P::kStaffingPlan, &ServerImpl::Staffing),
      perm("POST", v1 + "/simulations", P::kStaffingPlan, &ServerImpl::Simulate),
      // Recording (issue 6).
      perm("POST", v1 + "/contacts/{id}/recording", P::kContactsHandle,
           &ServerImpl::ControlRecording),
      perm("GET", v1 + "/recordings", P::kRecordingsListen, &ServerImpl::ListRecordings),
      perm("GET", v1 + "/recordings/{id}", P::kRecordingsListen, &ServerImpl::GetRecording),
      perm("GET", v1 + "/recordings/{id}/audio", P::kRecordingsListen, &ServerImpl::RecordingAudio),
      // Last: the web UI's files answer any other GET.
      open("GET", "/*", &ServerImpl::StaticFile),
  };
  for (const AdminApi::Route& r : AdminApi::Routes()) {
    defs.insert(defs.end() - 1, perm(std::string(r.method), v1 + std::string(r.path), r.permission,
                                     &ServerImpl::Admin));
  }
  for (const RouteDef& d : defs) {
    if (Status s = registry.Add(d.spec); !s.ok()) return s;
    handlers.push_back(d.handler);
    route_keys.push_back(d.spec.method + " " + d.spec.path);
  }
  request_counts = std::make_unique<ClassCounts[]>(route_keys.size() + 1);
  return Status::Ok();
}

Response ServerImpl::Make(const Request& req, http::status status, std::string body,
                          std::string_view type) const {
  Response res{status, req.version()};
  res.set(http::field::server, "parley");
  res.set(http::field::content_type, beast::string_view(type.data(), type.size()));
  res.set(http::field::cache_control, "no-store");
  res.keep_alive(req.keep_alive());
  res.body() = std::move(body);
  return res;
}

Response ServerImpl::EarlyError(unsigned version, const ApiError& e) {
  if (e.bad_request) CountBad(*e.bad_request);
  Count(SIZE_MAX, static_cast<unsigned>(e.http_status));
  Response res{static_cast<http::status>(e.http_status), version};
  res.set(http::field::server, "parley");
  res.set(http::field::content_type, "application/json");
  res.keep_alive(false);
  res.body() = ErrorBody(e);
  return res;
}

void ServerImpl::Count(size_t route_index, unsigned status) {
  const size_t row = std::min(route_index, route_keys.size());
  request_counts[row][std::min<size_t>(status / 100, 5)].fetch_add(1, std::memory_order_relaxed);
}

void ServerImpl::LogAnswer(const Exchange& x, unsigned status, std::string_view error) {
  const log::Level level = status >= 500 ? log::Level::kError : log::Level::kDebug;
  if (!log::Enabled(level)) return;
  log::Write(
      level, "api", status >= 500 ? error : std::string_view("answered"),
      {{"request", x.request_id},
       {"method", std::string_view(x.req.method_string().data(), x.req.method_string().size())},
       {"route", x.route_key},
       {"status", status},
       {"user", x.principal ? x.principal->login : std::string()}});
}

void ServerImpl::Reply(Exchange& x, http::status status, const Json& body) {
  Count(x, static_cast<unsigned>(status));
  LogAnswer(x, static_cast<unsigned>(status));
  std::string text = status == http::status::no_content
                         ? std::string()
                         : body.dump(-1, ' ', false, Json::error_handler_t::replace);
  x.send(Make(x.req, status, std::move(text), "application/json"));
}

void ServerImpl::ReplyText(Exchange& x, http::status status, std::string body,
                           std::string_view type) {
  Count(x, static_cast<unsigned>(status));
  LogAnswer(x, static_cast<unsigned>(status));
  x.send(Make(x.req, status, std::move(body), type));
}

void ServerImpl::Fail(Exchange& x, const ApiError& e) {
  if (e.bad_request) CountBad(*e.bad_request);
  Count(x, static_cast<unsigned>(e.http_status));
  LogAnswer(x, static_cast<unsigned>(e.http_status), e.message);
  Response res =
      Make(x.req, static_cast<http::status>(e.http_status), ErrorBody(e), "application/json");
  if (e.http_status == 401) res.set(http::field::www_authenticate, "Bearer realm=\"parley\"");
  x.send(std::move(res));
}

template <class T, class F>
ports::Reply<T> ServerImpl::Then(const std::shared_ptr<Exchange>& x, F f) {
  // The port replies on its loop thread; the answer is built on the connection's strand.
  return [x, f = std::move(f)](Result<T> r) mutable {
    net::post(x->strand, [x, f = std::move(f), r = std::move(r)]() mutable {
      try {
        if (!r.ok()) return x->server->Fail(*x, FromStatus(r.status()));
        f(std::move(r.value()));
      } catch (const std::exception& e) {
        x->server->Fail(*x, {500, "internal", e.what(), std::nullopt});
      }
    });
  };
}

std::string ServerImpl::CookieFor(std::string_view value, Duration max_age) const {
  auth::CookieOptions c;
  c.secure = tls_enabled;
  return auth::SetCookieValue(auth.sessions.policy().cookie_name, value, max_age, c);
}

bool ServerImpl::ReadBody(const std::shared_ptr<Exchange>& x) {
  const std::string& body = x->req.body();
  if (std::all_of(body.begin(), body.end(),
                  [](char c) { return c == ' ' || c == '\n' || c == '\r' || c == '\t'; })) {
    x->body = Json();
    return true;
  }
  JsonLimits limits;
  limits.max_depth = options.max_json_depth;
  if (auto e = ParseJsonBody(body, limits, x->body)) {
    Fail(*x, *e);
    return false;
  }
  if (x->body.is_null()) {
    Fail(*x, {400, "wrong_type", "the request body must be a JSON object, got null",
              BadRequest::kWrongType});
    return false;
  }
  return true;
}

void ServerImpl::Dispatch(const std::shared_ptr<Exchange>& x) {
  x->request_id = next_request_id.fetch_add(1, std::memory_order_relaxed);
  try {
    const auto raw_target = x->req.target();
    const std::string_view target(raw_target.data(), raw_target.size());
    const size_t q = target.find('?');
    x->path.assign(target.substr(0, q));
    if (q != std::string_view::npos) x->query.assign(target.substr(q + 1));
    const auto raw_method = x->req.method_string();
    const std::string method(raw_method.data(), raw_method.size());
    if (x->path.empty() || x->path.front() != '/') {
      return Fail(
          *x, {400, "bad_http", "the request target must start with '/'", BadRequest::kBadHttp});
    }
    if (!IsValidUtf8(x->path)) {
      return Fail(*x,
                  {400, "bad_utf8", "the request path is not valid UTF-8", BadRequest::kBadUtf8});
    }
    const auth::RouteSpec* route = registry.Find(method, x->path);
    if (!route || (route->path == "/*" && StartsWith(x->path, "/api/"))) {
      std::string allow;
      for (const auth::RouteSpec& r : registry.routes()) {
        if (r.path != "/*" && r.method != method && auth::PathMatches(r.path, x->path)) {
          allow += (allow.empty() ? "" : ", ") + r.method;
        }
      }
      if (!allow.empty()) {
        return Fail(*x, {405, "method_not_allowed",
                         method + " is not allowed on " + x->path + " (allowed: " + allow + ")",
                         BadRequest::kMethodNotAllowed});
      }
      return Fail(*x,
                  {404, "not_found", "no route " + method + " " + x->path, BadRequest::kNotFound});
    }
    x->route = route;
    const size_t index = static_cast<size_t>(route - registry.routes().data());
    x->route_index = index;
    x->route_key = route_keys[index];

    // Who is asking: a bearer token, else the session cookie.
    const TimePoint now = clock.Now();
    std::optional<Status> credential_error;
    const auto auth_header = x->req[http::field::authorization];
    const std::string_view authorization(auth_header.data(), auth_header.size());
    if (!authorization.empty()) {
      const std::string_view scheme = "Bearer ";
      if (authorization.size() > scheme.size() &&
          beast::iequals(beast::string_view(authorization.data(), scheme.size()),
                         beast::string_view(scheme.data(), scheme.size()))) {
        auto p = auth.authenticator.FromToken(authorization.substr(scheme.size()), now);
        if (p.ok()) {
          x->principal = std::move(*p);
        } else {
          credential_error = p.status();
        }
      } else {
        credential_error = PermissionDenied("the Authorization header must be 'Bearer <token>'");
      }
    } else {
      const auto cookie = x->req[http::field::cookie];
      x->session_id = CookieValue(std::string_view(cookie.data(), cookie.size()),
                                  auth.sessions.policy().cookie_name);
      if (!x->session_id.empty()) {
        SessionHashCache* cache = x->session_hash_cache;
        if (cache && cache->session_id != x->session_id) {
          cache->id_hash = auth::Sha256Hex(x->session_id);
          cache->session_id = x->session_id;
        }
        auto p = cache ? auth.authenticator.FromSessionHash(cache->id_hash, now)
                       : auth.authenticator.FromSession(x->session_id, now);
        if (p.ok()) {
          x->principal = std::move(*p);
        } else {
          credential_error = p.status();
        }
      }
    }
    if (credential_error && !route->is_public) {
      return Fail(*x, {401, "unauthenticated", credential_error->message(), std::nullopt});
    }
    const auth::Principal* who = x->principal ? &*x->principal : nullptr;
    if (Status s = auth::CheckRoute(*route, who, x->peer, access); !s.ok()) {
      if (!who) {
        return Fail(*x, {401, "unauthenticated",
                         "login required: send the parley_session cookie or an "
                         "'Authorization: Bearer <token>' header",
                         std::nullopt});
      }
      return Fail(*x, {403, "forbidden", s.message(), std::nullopt});
    }
    if (who) x->caller = CallerFor(*who, route->permission);

    auth::PathParams(route->path, x->path, x->params);
    if ((method == "POST" || method == "PUT") && !ReadBody(x)) return;
    (this->*handlers[index])(x);
  } catch (const std::exception& e) {
    Fail(*x, {500, "internal", std::string("internal error: ") + e.what(), std::nullopt});
  }
}

// ---------------------------------------------------------------------------------------------
// Handlers

namespace {
std::optional<ApiError> QueryOnly(const std::string& query,
                                  const std::vector<std::string_view>& allowed,
                                  std::map<std::string, std::string>& out) {
  return ParseQuery(query, allowed, out);
}
}  // namespace

void ServerImpl::Healthz(const std::shared_ptr<Exchange>& x) {
  Reply(*x, http::status::ok, {{"status", "ok"}});
}

HttpMetrics ServerImpl::Http() const {
  HttpMetrics h;
  // By route key, then status class, as before the counters were lock-free.
  std::vector<std::pair<std::string_view, size_t>> rows;
  for (size_t i = 0; i < route_keys.size(); ++i) rows.emplace_back(route_keys[i], i);
  rows.emplace_back("unmatched", route_keys.size());
  std::sort(rows.begin(), rows.end());
  for (const auto& [key, row] : rows) {
    for (size_t c = 0; c < request_counts[row].size(); ++c) {
      const uint64_t n = request_counts[row][c].load(std::memory_order_relaxed);
      if (n > 0) h.requests.push_back({std::string(key), static_cast<int>(c), n});
    }
  }
  for (size_t i = 0; i < kBadRequestCount; ++i) {
    h.bad_requests.emplace_back(std::string(BadRequestName(static_cast<BadRequest>(i))),
                                bad_requests[i].load());
  }
  h.ws_connections = ws_open.load();
  h.ws_slow_consumer_closes = ws_slow_closes.load();
  h.login = auth.authenticator.counters();
  return h;
}

void ServerImpl::Metrics(const std::shared_ptr<Exchange>& x) {
  center.GetMetrics(Then<ports::MetricsSnapshot>(x, [x](ports::MetricsSnapshot m) {
    auto& s = *x->server;
    // Counted before rendering, so the scrape includes itself.
    s.Count(*x, 200);
    s.LogAnswer(*x, 200);
    x->send(s.Make(x->req, http::status::ok,
                   MetricsText(m, s.Http(),
                               s.options.adapter_metrics ? s.options.adapter_metrics()
                                                         : std::vector<ports::MetricFamily>{}),
                   "text/plain; version=0.0.4; charset=utf-8"));
  }));
}

void ServerImpl::Login(const std::shared_ptr<Exchange>& x) {
  LoginBody body;
  if (auto e = ReadLogin(x->body, body)) return Fail(*x, *e);
  net::post(*blocking, [x, body = std::move(body)] {
    auto& s = *x->server;
    try {
      auto r = s.auth.authenticator.Login(body.login, body.password, x->peer, s.clock.Now());
      if (!r.ok()) {
        if (r.status().code() == StatusCode::kUnavailable) {
          ApiError e{429, "throttled", r.status().message(), std::nullopt};
          s.Count(*x, 429);
          s.LogAnswer(*x, 429);
          Response res =
              s.Make(x->req, http::status::too_many_requests, ErrorBody(e), "application/json");
          const std::string& m = r.status().message();
          if (auto p = m.find(" in "); p != std::string::npos) {
            std::string secs;
            for (size_t i = p + 4; i < m.size() && std::isdigit(static_cast<unsigned char>(m[i]));
                 ++i) {
              secs += m[i];
            }
            if (!secs.empty()) res.set(http::field::retry_after, secs);
          }
          return x->send(std::move(res));
        }
        // One answer for every bad credential (auth::kLoginFailed).
        return s.Fail(*x, {401, "unauthenticated", r.status().message(), std::nullopt});
      }
      const auth::LoginSuccess& ok = *r;
      Json user = Json::object();
      if (auto v = s.auth.users.View(ok.principal.user_id)) user = UserJson(*v);
      s.Count(*x, 200);
      s.LogAnswer(*x, 200);
      Response res = s.Make(x->req, http::status::ok,
                            Json{{"user", user}, {"expires", TimeJson(ok.session.expires)}}.dump(
                                -1, ' ', false, Json::error_handler_t::replace),
                            "application/json");
      res.set(http::field::set_cookie,
              s.CookieFor(ok.session.id, s.auth.sessions.policy().absolute));
      x->send(std::move(res));
    } catch (const std::exception& e) {
      s.Fail(*x, {500, "internal", e.what(), std::nullopt});
    }
  });
}

void ServerImpl::Logout(const std::shared_ptr<Exchange>& x) {
  if (auto e = ReadEmpty(x->body)) return Fail(*x, *e);
  if (!x->session_id.empty()) auth.authenticator.Logout(x->session_id, clock.Now());
  Count(*x, 204);
  LogAnswer(*x, 204);
  Response res = Make(x->req, http::status::no_content, "", "application/json");
  res.set(http::field::set_cookie, CookieFor("", Duration(0)));
  x->send(std::move(res));
}

void ServerImpl::Me(const std::shared_ptr<Exchange>& x) {
  const auth::Principal& p = *x->principal;
  Json user = Json::object();
  if (auto v = auth.users.View(p.user_id)) user = UserJson(*v);
  Json roles = Json::array();
  for (Role r : p.roles) roles.push_back(RoleName(r));
  Json permissions = Json::object();
  for (size_t i = 0; i < auth::kPermissionCount; ++i) {
    const auto perm = static_cast<auth::Permission>(i);
    const auth::Reach reach = auth::PrincipalReach(p, perm);
    if (reach != auth::Reach::kNone) {
      permissions[std::string(auth::PermissionName(perm))] = auth::ReachName(reach);
    }
  }
  Json me = {{"user", std::move(user)},
             {"login", p.login},
             {"roles", std::move(roles)},
             {"team", p.team},
             {"agent", p.agent},
             {"permissions", std::move(permissions)},
             {"via", p.token_prefix.empty() ? "session" : "token"},
             {"reason_codes", Json::array()},
             {"disposition_codes", Json::array()},
             {"time_zone", Json()}};
  if (!reports) return Reply(*x, http::status::ok, me);
  reports->ListWorkCodes(Then<ports::WorkCodes>(x, [x, me](ports::WorkCodes codes) mutable {
    me["reason_codes"] = WorkCodesJson(codes.reason_codes);
    me["disposition_codes"] = WorkCodesJson(codes.disposition_codes);
    if (!codes.time_zone.empty()) me["time_zone"] = codes.time_zone;
    x->server->Reply(*x, http::status::ok, me);
  }));
}

void ServerImpl::ListTokens(const std::shared_ptr<Exchange>& x) {
  const auth::Principal& p = *x->principal;
  const bool all = auth::PrincipalReach(p, auth::Permission::kTokensManage) == auth::Reach::kAll;
  Json list = Json::array();
  for (const auto& t : auth.tokens.List(all ? std::nullopt : std::optional<uint64_t>(p.user_id))) {
    list.push_back(TokenJson(t));
  }
  Reply(*x, http::status::ok, {{"tokens", std::move(list)}});
}

void ServerImpl::IssueToken(const std::shared_ptr<Exchange>& x) {
  TokenBody body;
  if (auto e = ReadTokenIssue(x->body, body)) return Fail(*x, *e);
  const TimePoint now = clock.Now();
  std::optional<TimePoint> expires;
  if (body.expires_in_seconds)
    expires = now + Seconds(static_cast<double>(*body.expires_in_seconds));
  auto r =
      auth.authenticator.IssueToken(*x->principal, body.user_id.value_or(x->principal->user_id),
                                    body.scope, body.description, expires, now);
  if (!r.ok()) return Fail(*x, FromStatus(r.status()));
  Reply(*x, http::status::created, {{"prefix", r->prefix}, {"token", r->token}});
}

void ServerImpl::RevokeToken(const std::shared_ptr<Exchange>& x) {
  std::string prefix;
  if (auto e = ParseName(x->params[0], "token prefix", prefix)) return Fail(*x, *e);
  if (Status s = auth.authenticator.RevokeToken(*x->principal, prefix, clock.Now()); !s.ok()) {
    return Fail(*x, FromStatus(s));
  }
  Reply(*x, http::status::no_content, nullptr);
}

void ServerImpl::ListAgents(const std::shared_ptr<Exchange>& x) {
  std::map<std::string, std::string> query;
  if (auto e = QueryOnly(x->query, {}, query)) return Fail(*x, *e);
  center.ListAgents(x->caller, Then<std::vector<ports::AgentSnapshot>>(x, [x](auto agents) {
                      std::string text = "{\"agents\":[";
                      for (size_t i = 0; i < agents.size(); ++i) {
                        if (i) text += ',';
                        text += AgentJsonText(agents[i]);
                      }
                      text += "]}";
                      x->server->ReplyText(*x, http::status::ok, std::move(text),
                                           "application/json");
                    }));
}

// The colleagues an agent may consult or hand a call to: every agent's name, team, presence and
// whether a voice call can reach them now, whatever the caller's reach (docs/security.md).
void ServerImpl::Directory(const std::shared_ptr<Exchange>& x) {
  std::map<std::string, std::string> query;
  if (auto e = QueryOnly(x->query, {}, query)) return Fail(*x, *e);
  ports::Caller everyone = x->caller;
  everyone.reach = ports::Caller::Reach::kAll;
  center.ListAgents(everyone, Then<std::vector<ports::AgentSnapshot>>(x, [x](auto agents) {
                      Json list = Json::array();
                      for (const auto& a : agents) list.push_back(DirectoryJson(a));
                      x->server->Reply(*x, http::status::ok, {{"agents", std::move(list)}});
                    }));
}

template <class T, class F>
bool ServerImpl::AnsweredLive(Exchange& x, Result<T> read, F answer) {
  if (!read.ok() && read.status().code() == StatusCode::kUnavailable) return false;
  if (!read.ok()) {
    Fail(x, FromStatus(read.status()));
  } else {
    answer(std::move(*read));
  }
  return true;
}

void ServerImpl::GetAgent(const std::shared_ptr<Exchange>& x) {
  std::string agent;
  if (auto e = ParseName(x->params[0], "agent", agent)) return Fail(*x, *e);
  if (live && AnsweredLive(*x, live->Agent(x->caller, agent, clock.Now()),
                           [&](std::shared_ptr<const ports::LiveAgent> a) {
                             ReplyText(*x, http::status::ok,
                                       a->json.empty() ? AgentJsonText(a->view) : a->json,
                                       "application/json");
                           })) {
    return;
  }
  center.GetAgent(x->caller, agent, Then<ports::AgentSnapshot>(x, [x](ports::AgentSnapshot a) {
                    x->server->ReplyText(*x, http::status::ok, AgentJsonText(a),
                                         "application/json");
                  }));
}

void ServerImpl::SetPresence(const std::shared_ptr<Exchange>& x) {
  std::string agent;
  if (auto e = ParseName(x->params[0], "agent", agent)) return Fail(*x, *e);
  PresenceBody body;
  if (auto e = ReadPresence(x->body, body)) return Fail(*x, *e);
  center.SetPresence(x->caller, agent, body.presence, body.reason,
                     Then<ports::AgentSnapshot>(x, [x](ports::AgentSnapshot a) {
                       x->server->ReplyText(*x, http::status::ok, AgentJsonText(a),
                                            "application/json");
                     }));
}

namespace {
Json QueueListJson(const std::vector<ports::QueueSnapshot>& queues) {
  Json list = Json::array();
  for (const auto& q : queues) list.push_back(QueueJson(q));
  return {{"queues", std::move(list)}};
}
}  // namespace

void ServerImpl::ListQueues(const std::shared_ptr<Exchange>& x) {
  std::map<std::string, std::string> query;
  if (auto e = QueryOnly(x->query, {}, query)) return Fail(*x, *e);
  if (live && AnsweredLive(*x, live->Queues(x->caller, clock.Now()), [&](const auto& queues) {
        Reply(*x, http::status::ok, QueueListJson(queues));
      })) {
    return;
  }
  center.ListQueues(x->caller, Then<std::vector<ports::QueueSnapshot>>(x, [x](auto queues) {
                      x->server->Reply(*x, http::status::ok, QueueListJson(queues));
                    }));
}

void ServerImpl::GetQueue(const std::shared_ptr<Exchange>& x) {
  std::string queue;
  if (auto e = ParseName(x->params[0], "queue", queue)) return Fail(*x, *e);
  if (live && AnsweredLive(*x, live->Queue(x->caller, queue, clock.Now()),
                           [&](const ports::QueueSnapshot& q) {
                             Reply(*x, http::status::ok, QueueJson(q));
                           })) {
    return;
  }
  center.GetQueue(x->caller, queue, Then<ports::QueueSnapshot>(x, [x](ports::QueueSnapshot q) {
                    x->server->Reply(*x, http::status::ok, QueueJson(q));
                  }));
}

void ServerImpl::CreateContact(const std::shared_ptr<Exchange>& x) {
  ports::NewContact contact;
  if (auto e = ReadNewContact(x->body, contact)) return Fail(*x, *e);
  center.CreateContact(x->caller, std::move(contact),
                       Then<ports::ContactSnapshot>(x, [x](ports::ContactSnapshot c) {
                         x->server->Reply(*x, http::status::created, ContactJson(c));
                       }));
}

void ServerImpl::ListContacts(const std::shared_ptr<Exchange>& x) {
  std::map<std::string, std::string> query;
  if (auto e = QueryOnly(x->query, {"state", "queue", "agent", "limit"}, query)) {
    return Fail(*x, *e);
  }
  ports::ContactFilter filter;
  if (auto e = ReadContactFilter(query, filter)) return Fail(*x, *e);
  center.ListContacts(x->caller, filter,
                      Then<std::vector<ports::ContactSnapshot>>(x, [x](auto contacts) {
                        Json list = Json::array();
                        for (const auto& c : contacts) list.push_back(ContactJson(c));
                        x->server->Reply(*x, http::status::ok, {{"contacts", std::move(list)}});
                      }));
}

bool ServerImpl::ContactIdParam(const std::shared_ptr<Exchange>& x, size_t i, ContactId& id) {
  if (auto e = ParseContactId(x->params[i], id)) {
    Fail(*x, *e);
    return false;
  }
  return true;
}

void ServerImpl::GetContact(const std::shared_ptr<Exchange>& x) {
  ContactId id;
  if (!ContactIdParam(x, 0, id)) return;
  center.GetContact(x->caller, id, Then<ports::ContactSnapshot>(x, [x](ports::ContactSnapshot c) {
                      x->server->Reply(*x, http::status::ok, ContactJson(c));
                    }));
}

// ---------------------------------------------------------------------------------------------
// Customers

bool ServerImpl::CustomerIdParam(const std::shared_ptr<Exchange>& x, ports::CustomerId& id) {
  if (auto e = ParseCustomerId(x->params[0], id)) {
    Fail(*x, *e);
    return false;
  }
  return true;
}

void ServerImpl::AuditCustomer(const Exchange& x, std::string action, std::string target,
                               const Status& s) {
  if (!auth.audit) return;
  const ports::AuditOutcome outcome =
      s.ok() ? ports::AuditOutcome::kOk
      : s.code() == StatusCode::kNotFound || s.code() == StatusCode::kPermissionDenied
          ? ports::AuditOutcome::kDenied
          : ports::AuditOutcome::kFailed;
  auth.audit->Append(clock.Now(), x.principal ? x.principal->login : x.caller.user,
                     std::move(action), std::move(target), outcome, s.ok() ? "" : s.message());
}

// Like Then, and audits the outcome first (success or refusal).
template <class T, class F>
ports::Reply<T> AuditedThen(ServerImpl& server, const std::shared_ptr<Exchange>& x,
                            std::string action, std::string target, F f) {
  ports::Reply<T> then = server.Then<T>(x, std::move(f));
  return [x, action = std::move(action), target = std::move(target),
          then = std::move(then)](Result<T> r) mutable {
    x->server->AuditCustomer(*x, action, target, r.status());
    then(std::move(r));
  };
}

// ---------------------------------------------------------------------------------------------
// Recording (issue 6)

void ServerImpl::ControlRecording(const std::shared_ptr<Exchange>& x) {
  ContactId id;
  if (!ContactIdParam(x, 0, id)) return;
  ports::RecordingCommand command = ports::RecordingCommand::kStart;
  if (auto e = ReadRecordingCommand(x->body, command)) return Fail(*x, *e);
  center.ControlRecording(x->caller, id, command,
                          Then<ports::ContactSnapshot>(x, [x](ports::ContactSnapshot c) {
                            x->server->Reply(*x, http::status::ok, ContactJson(c));
                          }));
}

void ServerImpl::ListRecordings(const std::shared_ptr<Exchange>& x) {
  std::map<std::string, std::string> query;
  if (auto e = QueryOnly(x->query, {"from", "to", "queue", "agent", "customer", "after", "limit"},
                         query)) {
    return Fail(*x, *e);
  }
  ports::RecordingFilter filter;
  if (auto e = ReadRecordingFilter(query, filter)) return Fail(*x, *e);
  const size_t limit = filter.limit;
  center.ListRecordings(
      x->caller, std::move(filter),
      Then<std::vector<ports::RecordingRecord>>(x, [x, limit](auto recordings) {
        Json list = Json::array();
        for (const auto& r : recordings) list.push_back(RecordingJson(r));
        // The next page starts after the last id; null when this page was not full.
        Json next =
            recordings.size() == limit ? Json(std::to_string(recordings.back().id)) : Json();
        x->server->Reply(*x, http::status::ok,
                         {{"recordings", std::move(list)}, {"next_after", std::move(next)}});
      }));
}

void ServerImpl::GetRecording(const std::shared_ptr<Exchange>& x) {
  uint64_t id = 0;
  if (auto e = ParseRecordingId(x->params[0], id)) return Fail(*x, *e);
  center.GetRecording(x->caller, id, Then<ports::RecordingRecord>(x, [x](ports::RecordingRecord r) {
                        x->server->Reply(*x, http::status::ok, RecordingJson(r));
                      }));
}

void ServerImpl::RecordingAudio(const std::shared_ptr<Exchange>& x) {
  uint64_t id = 0;
  if (auto e = ParseRecordingId(x->params[0], id)) return Fail(*x, *e);
  // Every playback is audited, refused ones too (StreamRecording audits the ones it serves).
  center.GetRecording(x->caller, id, [x, id](Result<ports::RecordingRecord> r) {
    net::post(x->strand, [x, id, r = std::move(r)] {
      if (!r.ok()) {
        x->server->AuditCustomer(*x, "recording.play", "recording:" + std::to_string(id),
                                 r.status());
        return x->server->Fail(*x, FromStatus(r.status()));
      }
      x->server->StreamRecording(x, *r);
    });
  });
}

void ServerImpl::StreamRecording(const std::shared_ptr<Exchange>& x,
                                 const ports::RecordingRecord& r) {
  // The path comes from the store, never from the request.
  RangeFileBody::value_type body;
  body.fd = ::open(r.path.c_str(), O_RDONLY | O_CLOEXEC);
  struct stat st {};
  const std::string target = "recording:" + std::to_string(r.id);
  if (body.fd < 0 || ::fstat(body.fd, &st) != 0) {
    log::Error("api", "recording audio cannot be read",
               {{"request", x->request_id}, {"recording", r.id}, {"path", r.path}});
    const Status missing = Internal("the audio file is missing");
    AuditCustomer(*x, "recording.play", target, missing);
    return Fail(*x,
                {404, "not_found", "the audio of recording " + std::to_string(r.id) + " is missing",
                 std::nullopt});
  }
  const uint64_t size = static_cast<uint64_t>(st.st_size);
  std::optional<ByteRange> range;
  const auto header = x->req[http::field::range];
  if (auto e = ParseByteRange(std::string_view(header.data(), header.size()), size, range)) {
    Count(*x, 416);
    LogAnswer(*x, 416);
    Response res =
        Make(x->req, http::status::range_not_satisfiable, ErrorBody(*e), "application/json");
    res.set(http::field::content_range, "bytes */" + std::to_string(size));
    return x->send(std::move(res));
  }
  AuditCustomer(*x, "recording.play", target, Status::Ok());
  body.first = range ? range->first : 0;
  body.size = range ? range->last - range->first + 1 : size;
  const http::status status = range ? http::status::partial_content : http::status::ok;
  Count(*x, static_cast<unsigned>(status));
  LogAnswer(*x, static_cast<unsigned>(status));
  FileResponse res{status, x->req.version()};
  res.set(http::field::server, "parley");
  res.set(http::field::content_type, "audio/wav");
  res.set(http::field::cache_control, "no-store");
  res.set(http::field::accept_ranges, "bytes");
  res.set(http::field::content_disposition,
          "inline; filename=\"recording-" + std::to_string(r.id) + ".wav\"");
  if (range) {
    res.set(http::field::content_range, "bytes " + std::to_string(range->first) + "-" +
                                            std::to_string(range->last) + "/" +
                                            std::to_string(size));
  }
  res.keep_alive(x->req.keep_alive());
  res.body() = std::move(body);
  x->send_file(std::move(res));
}

void ServerImpl::SearchCustomers(const std::shared_ptr<Exchange>& x) {
  std::map<std::string, std::string> query;
  if (auto e = QueryOnly(x->query, {"q", "limit"}, query)) return Fail(*x, *e);
  size_t limit = 50;
  if (auto it = query.find("limit"); it != query.end()) {
    int64_t v = 0;
    auto [p, ec] = std::from_chars(it->second.data(), it->second.data() + it->second.size(), v);
    if (ec != std::errc() || p != it->second.data() + it->second.size() || v < 1 || v > 1000) {
      return Fail(
          *x, {400, "bad_query", "limit must be a number from 1 to 1000", BadRequest::kBadQuery});
    }
    limit = static_cast<size_t>(v);
  }
  const std::string prefix = query.contains("q") ? query["q"] : "";
  center.SearchCustomers(
      x->caller, prefix, limit,
      AuditedThen<std::vector<ports::Customer>>(
          *this, x, "customer.search", "q=" + prefix, [x](std::vector<ports::Customer> found) {
            Json list = Json::array();
            for (const auto& c : found) list.push_back(CustomerJson(c));
            x->server->Reply(*x, http::status::ok, {{"customers", std::move(list)}});
          }));
}

namespace {
Json CustomerViewJson(const ports::CustomerView& v) {
  Json j = CustomerJson(v.customer);
  Json notes = Json::array();
  for (const auto& n : v.notes) notes.push_back(CustomerNoteJson(n));
  j["notes"] = std::move(notes);
  return j;
}
std::string CustomerTarget(ports::CustomerId id) {
  return "customer:" + std::to_string(id.value());
}
}  // namespace

void ServerImpl::CreateCustomer(const std::shared_ptr<Exchange>& x) {
  ports::Customer customer;
  if (auto e = ReadCustomer(x->body, customer)) return Fail(*x, *e);
  center.CreateCustomer(x->caller, std::move(customer),
                        Then<ports::CustomerView>(x, [x](ports::CustomerView v) {
                          x->server->Reply(*x, http::status::created, CustomerViewJson(v));
                        }));
}

void ServerImpl::GetCustomer(const std::shared_ptr<Exchange>& x) {
  ports::CustomerId id;
  if (!CustomerIdParam(x, id)) return;
  center.GetCustomer(x->caller, id,
                     AuditedThen<ports::CustomerView>(
                         *this, x, "customer.read", CustomerTarget(id), [x](ports::CustomerView v) {
                           x->server->Reply(*x, http::status::ok, CustomerViewJson(v));
                         }));
}

void ServerImpl::UpdateCustomer(const std::shared_ptr<Exchange>& x) {
  ports::CustomerId id;
  if (!CustomerIdParam(x, id)) return;
  ports::Customer customer;
  if (auto e = ReadCustomer(x->body, customer)) return Fail(*x, *e);
  customer.id = id;
  center.UpdateCustomer(x->caller, std::move(customer),
                        Then<ports::CustomerView>(x, [x](ports::CustomerView v) {
                          x->server->Reply(*x, http::status::ok, CustomerViewJson(v));
                        }));
}

void ServerImpl::EraseCustomer(const std::shared_ptr<Exchange>& x) {
  ports::CustomerId id;
  if (!CustomerIdParam(x, id)) return;
  center.EraseCustomer(x->caller, id,
                       AuditedThen<ports::CustomerId>(
                           *this, x, "customer.erase", CustomerTarget(id), [x](ports::CustomerId) {
                             x->server->Reply(*x, http::status::no_content, nullptr);
                           }));
}

void ServerImpl::AddCustomerNote(const std::shared_ptr<Exchange>& x) {
  ports::CustomerId id;
  if (!CustomerIdParam(x, id)) return;
  std::string text;
  if (auto e = ReadCustomerNote(x->body, text)) return Fail(*x, *e);
  center.AddCustomerNote(x->caller, id, std::move(text),
                         Then<ports::CustomerNote>(x, [x](ports::CustomerNote n) {
                           x->server->Reply(*x, http::status::created, CustomerNoteJson(n));
                         }));
}

void ServerImpl::CustomerTimeline(const std::shared_ptr<Exchange>& x) {
  ports::CustomerId id;
  if (!CustomerIdParam(x, id)) return;
  center.CustomerTimeline(
      x->caller, id, 200,
      AuditedThen<std::vector<ports::ContactRecord>>(
          *this, x, "customer.read", CustomerTarget(id) + "/timeline",
          [x](std::vector<ports::ContactRecord> contacts) {
            Json list = Json::array();
            for (const auto& c : contacts) list.push_back(ContactRecordJson(c));
            x->server->Reply(*x, http::status::ok, {{"contacts", std::move(list)}});
          }));
}

void ServerImpl::ExportCustomer(const std::shared_ptr<Exchange>& x) {
  ports::CustomerId id;
  if (!CustomerIdParam(x, id)) return;
  center.ExportCustomer(
      x->caller, id,
      AuditedThen<ports::CustomerExport>(
          *this, x, "customer.export", CustomerTarget(id), [x](ports::CustomerExport data) {
            Json notes = Json::array();
            for (const auto& n : data.notes) notes.push_back(CustomerNoteJson(n));
            Json contacts = Json::array();
            for (const auto& c : data.contacts) contacts.push_back(ContactRecordJson(c));
            x->server->Reply(*x, http::status::ok,
                             {{"customer", CustomerJson(data.customer)},
                              {"notes", std::move(notes)},
                              {"contacts", std::move(contacts)}});
          }));
}

void ServerImpl::AnswerOffer(const std::shared_ptr<Exchange>& x, bool accept) {
  ContactId id;
  if (!ContactIdParam(x, 0, id)) return;
  std::string agent;
  if (auto e = ReadOfferAnswer(x->body, agent)) return Fail(*x, *e);
  if (agent.empty()) agent = x->principal->agent;
  if (agent.empty()) {
    return Fail(*x, {422, "missing_field",
                     "body.agent is required: '" + x->principal->login + "' works as no agent",
                     BadRequest::kMissingField});
  }
  auto done = Then<ports::ContactSnapshot>(
      x, [x](ports::ContactSnapshot c) { x->server->Reply(*x, http::status::ok, ContactJson(c)); });
  if (accept) {
    center.AcceptOffer(x->caller, id, agent, std::move(done));
  } else {
    center.RejectOffer(x->caller, id, agent, std::move(done));
  }
}

void ServerImpl::AcceptOffer(const std::shared_ptr<Exchange>& x) { AnswerOffer(x, true); }
void ServerImpl::RejectOffer(const std::shared_ptr<Exchange>& x) { AnswerOffer(x, false); }

void ServerImpl::EndHandling(const std::shared_ptr<Exchange>& x) {
  ContactId id;
  if (!ContactIdParam(x, 0, id)) return;
  if (auto e = ReadEmpty(x->body)) return Fail(*x, *e);
  center.EndHandling(x->caller, id, Then<ports::ContactSnapshot>(x, [x](ports::ContactSnapshot c) {
                       x->server->Reply(*x, http::status::ok, ContactJson(c));
                     }));
}

void ServerImpl::WrapUpContact(const std::shared_ptr<Exchange>& x) {
  ContactId id;
  if (!ContactIdParam(x, 0, id)) return;
  ports::WrapUp wrap_up;
  if (auto e = ReadWrapUp(x->body.is_null() ? Json::object() : x->body, wrap_up)) {
    return Fail(*x, *e);
  }
  center.CompleteWrapUp(x->caller, id, std::move(wrap_up),
                        Then<ports::ContactSnapshot>(x, [x](ports::ContactSnapshot c) {
                          x->server->Reply(*x, http::status::ok, ContactJson(c));
                        }));
}

void ServerImpl::TransferContact(const std::shared_ptr<Exchange>& x) {
  ContactId id;
  if (!ContactIdParam(x, 0, id)) return;
  ports::TransferTarget target;
  if (auto e = ReadTransfer(x->body.is_null() ? Json::object() : x->body, target)) {
    return Fail(*x, *e);
  }
  center.TransferContact(x->caller, id, std::move(target),
                         Then<ports::ContactSnapshot>(x, [x](ports::ContactSnapshot c) {
                           x->server->Reply(*x, http::status::ok, ContactJson(c));
                         }));
}

void ServerImpl::CancelContact(const std::shared_ptr<Exchange>& x) {
  ContactId id;
  if (!ContactIdParam(x, 0, id)) return;
  if (auto e = ReadEmpty(x->body)) return Fail(*x, *e);
  center.CancelContact(x->caller, id,
                       Then<ports::ContactSnapshot>(x, [x](ports::ContactSnapshot c) {
                         x->server->Reply(*x, http::status::ok, ContactJson(c));
                       }));
}

// Call control: each replies with the contact (on_hold, muted) once the engine applied it.
void ServerImpl::HoldContact(const std::shared_ptr<Exchange>& x) { HoldOrResume(x, true); }
void ServerImpl::ResumeContact(const std::shared_ptr<Exchange>& x) { HoldOrResume(x, false); }

void ServerImpl::HoldOrResume(const std::shared_ptr<Exchange>& x, bool on_hold) {
  ContactId id;
  if (!ContactIdParam(x, 0, id)) return;
  if (auto e = ReadEmpty(x->body)) return Fail(*x, *e);
  center.HoldContact(x->caller, id, on_hold,
                     Then<ports::ContactSnapshot>(x, [x](ports::ContactSnapshot c) {
                       x->server->Reply(*x, http::status::ok, ContactJson(c));
                     }));
}

void ServerImpl::MuteContact(const std::shared_ptr<Exchange>& x) {
  ContactId id;
  if (!ContactIdParam(x, 0, id)) return;
  bool muted = false;
  if (auto e = ReadMute(x->body.is_null() ? Json::object() : x->body, muted)) {
    return Fail(*x, *e);
  }
  center.MuteContact(x->caller, id, muted,
                     Then<ports::ContactSnapshot>(x, [x](ports::ContactSnapshot c) {
                       x->server->Reply(*x, http::status::ok, ContactJson(c));
                     }));
}

void ServerImpl::SendDigits(const std::shared_ptr<Exchange>& x) {
  ContactId id;
  if (!ContactIdParam(x, 0, id)) return;
  std::string digits;
  if (auto e = ReadDigits(x->body.is_null() ? Json::object() : x->body, digits)) {
    return Fail(*x, *e);
  }
  center.SendDigits(x->caller, id, std::move(digits),
                    Then<ports::ContactSnapshot>(x, [x](ports::ContactSnapshot c) {
                      x->server->Reply(*x, http::status::ok, ContactJson(c));
                    }));
}

void ServerImpl::HangupContact(const std::shared_ptr<Exchange>& x) {
  ContactId id;
  if (!ContactIdParam(x, 0, id)) return;
  if (auto e = ReadEmpty(x->body)) return Fail(*x, *e);
  center.HangupContact(x->caller, id,
                       Then<ports::ContactSnapshot>(x, [x](ports::ContactSnapshot c) {
                         x->server->Reply(*x, http::status::ok, ContactJson(c));
                       }));
}

// Click-to-dial (docs/voice.md, "Outbound calls").
void ServerImpl::PlaceCall(const std::shared_ptr<Exchange>& x) {
  ports::OutboundCall call;
  if (auto e = ReadPlaceCall(x->body.is_null() ? Json::object() : x->body, call)) {
    return Fail(*x, *e);
  }
  center.PlaceCall(x->caller, std::move(call),
                   Then<ports::ContactSnapshot>(x, [x](ports::ContactSnapshot c) {
                     x->server->Reply(*x, http::status::created, ContactJson(c));
                   }));
}

// Consultation transfer (docs/voice.md, "Consultation transfer").
void ServerImpl::ConsultContact(const std::shared_ptr<Exchange>& x) {
  ContactId id;
  if (!ContactIdParam(x, 0, id)) return;
  std::string target;
  bool queue = false;
  if (auto e = ReadConsult(x->body.is_null() ? Json::object() : x->body, target, queue)) {
    return Fail(*x, *e);
  }
  center.ConsultContact(x->caller, id,
                        queue ? ports::ContactCenter::ConsultStep::kStartQueue
                              : ports::ContactCenter::ConsultStep::kStart,
                        std::move(target),
                        Then<ports::ContactSnapshot>(x, [x](ports::ContactSnapshot c) {
                          x->server->Reply(*x, http::status::ok, ContactJson(c));
                        }));
}

void ServerImpl::CompleteConsult(const std::shared_ptr<Exchange>& x) {
  Consult(x, ports::ContactCenter::ConsultStep::kComplete);
}

void ServerImpl::CancelConsult(const std::shared_ptr<Exchange>& x) {
  Consult(x, ports::ContactCenter::ConsultStep::kCancel);
}

void ServerImpl::ConferenceConsult(const std::shared_ptr<Exchange>& x) {
  Consult(x, ports::ContactCenter::ConsultStep::kConference);
}

void ServerImpl::Consult(const std::shared_ptr<Exchange>& x,
                         ports::ContactCenter::ConsultStep step) {
  ContactId id;
  if (!ContactIdParam(x, 0, id)) return;
  if (auto e = ReadEmpty(x->body)) return Fail(*x, *e);
  center.ConsultContact(x->caller, id, step, "",
                        Then<ports::ContactSnapshot>(x, [x](ports::ContactSnapshot c) {
                          x->server->Reply(*x, http::status::ok, ContactJson(c));
                        }));
}

// Supervisor monitoring: every command is audited (monitor.listen, .whisper, .barge, .stop on
// contact:<id>, with its outcome), besides the journal's monitor.* events.
void ServerImpl::MonitorContact(const std::shared_ptr<Exchange>& x) {
  ContactId id;
  if (!ContactIdParam(x, 0, id)) return;
  std::optional<ports::MonitorMode> mode;
  if (auto e = ReadMonitorMode(x->body.is_null() ? Json::object() : x->body, mode)) {
    return Fail(*x, *e);
  }
  Monitor(x, id, mode);
}

void ServerImpl::StopMonitor(const std::shared_ptr<Exchange>& x) {
  ContactId id;
  if (!ContactIdParam(x, 0, id)) return;
  if (auto e = ReadEmpty(x->body)) return Fail(*x, *e);
  Monitor(x, id, std::nullopt);
}

void ServerImpl::Monitor(const std::shared_ptr<Exchange>& x, ContactId id,
                         std::optional<ports::MonitorMode> mode) {
  static constexpr std::string_view kModes[] = {"listen", "whisper", "barge"};
  const std::string action =
      "monitor." + std::string(mode ? kModes[static_cast<size_t>(*mode)] : "stop");
  center.MonitorContact(
      x->caller, id, mode,
      AuditedThen<ports::ContactSnapshot>(*this, x, action, "contact:" + std::to_string(id.value()),
                                          [x](ports::ContactSnapshot c) {
                                            x->server->Reply(*x, http::status::ok, ContactJson(c));
                                          }));
}

void ServerImpl::ExplainContact(const std::shared_ptr<Exchange>& x) {
  ContactId id;
  if (!ContactIdParam(x, 0, id)) return;
  center.ExplainContact(x->caller, id, Then<std::string>(x, [x, id](std::string text) {
                          x->server->Reply(*x, http::status::ok,
                                           {{"contact", std::to_string(id.value())},
                                            {"explanation", std::move(text)}});
                        }));
}

void ServerImpl::Events(const std::shared_ptr<Exchange>& x) {
  std::map<std::string, std::string> query;
  if (auto e = QueryOnly(x->query, {"after"}, query)) return Fail(*x, *e);
  uint64_t after = 0;
  if (auto e = ReadAfter(query, after)) return Fail(*x, *e);
  if (!x->upgrade) {
    return Fail(*x, {426, "upgrade_required",
                     "GET /api/v1/events is a WebSocket: send 'Connection: Upgrade' and "
                     "'Upgrade: websocket'",
                     std::nullopt});
  }
  const auth::Principal& p = *x->principal;
  const auth::Reach reach = auth::PrincipalReach(p, auth::Permission::kAgentRead);
  const bool snapshot = reach == auth::Reach::kAll || reach == auth::Reach::kTeam;
  const bool queues = auth::PrincipalReach(p, auth::Permission::kQueuesRead) != auth::Reach::kNone;
  Count(*x, 101);
  LogAnswer(*x, 101);
  x->upgrade(std::move(x->req), x->caller, after, snapshot, queues);
}

// ---------------------------------------------------------------------------------------------
// Reports

void ServerImpl::QueueReport(const std::shared_ptr<Exchange>& x) {
  RunReport(x, ports::ReportSubject::kQueues);
}

void ServerImpl::AgentReport(const std::shared_ptr<Exchange>& x) {
  RunReport(x, ports::ReportSubject::kAgents);
}

void ServerImpl::RunReport(const std::shared_ptr<Exchange>& x, ports::ReportSubject subject) {
  if (!reports) return Fail(*x, {503, "unavailable", "reports are not available", std::nullopt});
  ReportRequest request;
  const auto accept = x->req[http::field::accept];
  if (auto e = ReadReportRequest(x->query, std::string_view(accept.data(), accept.size()), subject,
                                 request)) {
    return Fail(*x, *e);
  }
  const bool csv = request.csv;
  // A CSV is an export: it also needs reports.export (the route itself needs reports.read).
  if (csv &&
      auth::PrincipalReach(*x->principal, auth::Permission::kReportsExport) == auth::Reach::kNone) {
    return Fail(*x, {403, "forbidden",
                     "a CSV report is an export: it needs the reports.export permission "
                     "(JSON needs only reports.read)",
                     std::nullopt});
  }
  reports->RunReport(x->caller, std::move(request.query), [x, csv](Result<ports::Report> r) {
    net::post(x->strand, [x, csv, r = std::move(r)] {
      ServerImpl& s = *x->server;
      try {
        if (!r.ok()) return s.Fail(*x, ReportError(r.status()));
        if (!csv) return s.Reply(*x, http::status::ok, ReportJson(*r));
        s.Count(*x, 200);
        s.LogAnswer(*x, 200);
        s.LogAnswer(*x, 200);
        Response res = s.Make(x->req, http::status::ok, ReportCsv(*r), "text/csv; charset=utf-8");
        res.set(http::field::content_disposition,
                "attachment; filename=\"" + ReportFilename(*r) + "\"");
        x->send(std::move(res));
      } catch (const std::exception& e) {
        s.Fail(*x, {500, "internal", e.what(), std::nullopt});
      }
    });
  });
}

void ServerImpl::Staffing(const std::shared_ptr<Exchange>& x) {
  if (staffing == nullptr) {
    return Fail(*x, {503, "unavailable", "staffing is not available on this server", std::nullopt});
  }
  ports::StaffingQuery query;
  if (auto e = ReadStaffingQuery(x->body, query)) return Fail(*x, *e);
  // Bounded by the port (load, agents, intervals), but long enough to keep off the I/O threads.
  net::post(*blocking, [x, query = std::move(query)] {
    auto& s = *x->server;
    Result<std::string> plan = s.staffing->Plan(query);
    if (!plan.ok()) return s.Fail(*x, StaffingError(plan.status()));
    s.ReplyText(*x, http::status::ok, std::move(*plan), "application/json");
  });
}

void ServerImpl::Simulate(const std::shared_ptr<Exchange>& x) {
  if (simulation == nullptr) {
    return Fail(*x,
                {503, "unavailable", "simulations are not available on this server", std::nullopt});
  }
  ports::SimulationQuery query;
  if (auto e = ReadSimulationQuery(x->body, query)) return Fail(*x, *e);
  // Seconds of computation (the port bounds it): never on the I/O threads.
  net::post(*simulations, [x, query = std::move(query)] {
    auto& s = *x->server;
    Result<std::string> result = s.simulation->Run(query);
    if (!result.ok()) return s.Fail(*x, SimulationError(result.status()));
    s.ReplyText(*x, http::status::ok, std::move(*result), "application/json");
  });
}

void ServerImpl::Admin(const std::shared_ptr<Exchange>& x) {
  net::post(*blocking, [x] {
    auto& s = *x->server;
    try {
      const auto if_match = x->req[http::field::if_match];
      AdminReply r = s.admin.Handle(
          AdminCall{*x->principal, x->route_key, x->body, x->params, x->query,
                    std::string_view(if_match.data(), if_match.size()), s.clock.Now()});
      if (r.error) return s.Fail(*x, *r.error);
      if (r.etag.empty()) return s.Reply(*x, static_cast<http::status>(r.status), r.body);
      s.Count(*x, static_cast<unsigned>(r.status));
      s.LogAnswer(*x, static_cast<unsigned>(r.status));
      Response res =
          s.Make(x->req, static_cast<http::status>(r.status),
                 r.body.dump(-1, ' ', false, Json::error_handler_t::replace), "application/json");
      res.set(http::field::etag, r.etag);
      x->send(std::move(res));
    } catch (const std::exception& e) {
      s.Fail(*x, {500, "internal", e.what(), std::nullopt});
    }
  });
}

void ServerImpl::StaticFile(const std::shared_ptr<Exchange>& x) {
  namespace fs = std::filesystem;
  const ApiError not_found{404, "not_found", "no route GET " + x->path, BadRequest::kNotFound};
  if (options.static_dir.empty() || StartsWith(x->path, "/api/")) return Fail(*x, not_found);
  auto decoded = PercentDecode(x->path);
  if (!decoded || !IsValidUtf8(*decoded) || decoded->find('\0') != std::string::npos ||
      decoded->find('\\') != std::string::npos) {
    return Fail(*x, {400, "bad_value", "the path is not a valid file name", BadRequest::kBadValue});
  }
  // No "." or ".." segment may appear: the file must lie under static_dir.
  fs::path relative;
  size_t i = 0;
  const std::string& d = *decoded;
  while (i < d.size()) {
    if (d[i] == '/') {
      ++i;
      continue;
    }
    const size_t j = std::min(d.find('/', i), d.size());
    const std::string segment = d.substr(i, j - i);
    if (segment == "." || segment == "..") {
      return Fail(*x, {400, "bad_value", "the path may not contain '.' or '..' segments",
                       BadRequest::kBadValue});
    }
    relative /= segment;
    i = j;
  }
  std::error_code ec;
  const fs::path root = fs::canonical(options.static_dir, ec);
  if (ec) return Fail(*x, not_found);
  fs::path file = root / relative;
  if (relative.empty() || !fs::is_regular_file(file, ec)) {
    if (!relative.empty() && relative.filename().has_extension()) return Fail(*x, not_found);
    file = root / "index.html";  // the single-page app routes the rest itself
  }
  const fs::path real = fs::canonical(file, ec);
  const std::string prefix = root.string() + "/";
  if (ec || real.string().compare(0, prefix.size(), prefix) != 0 ||
      !fs::is_regular_file(real, ec)) {
    return Fail(*x, not_found);
  }
  std::ifstream in(real, std::ios::binary);
  std::string content((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  Count(*x, 200);
  LogAnswer(*x, 200);
  Response res = Make(x->req, http::status::ok, std::move(content), MimeType(real.string()));
  res.set(http::field::cache_control, "no-cache");
  res.set("X-Content-Type-Options", "nosniff");
  x->send(std::move(res));
}

// ---------------------------------------------------------------------------------------------

HttpServer::HttpServer(HttpServerOptions options, ports::ContactCenter& center, AuthParts auth,
                       const Clock& clock)
    : impl_(std::make_shared<ServerImpl>(std::move(options), center, auth, clock)) {
  // The route table is fixed in code: an invalid declaration is a programming error.
  const Status s = impl_->DeclareRoutes();
  if (!s.ok()) log::Error("api", s.message());
  PARLEY_CHECK(s.ok());
}

HttpServer::~HttpServer() { Stop(); }

Status HttpServer::Start() { return impl_->Start(); }
void HttpServer::Stop() { impl_->Stop(); }
uint16_t HttpServer::port() const { return impl_->bound_port; }
void HttpServer::SetConfigAdministration(ports::ConfigAdministration* config) {
  impl_->admin.set_config(config);
}
void HttpServer::SetSipRealm(std::string realm) { impl_->admin.set_sip_realm(std::move(realm)); }
const auth::RouteRegistry& HttpServer::routes() const { return impl_->registry; }

void HttpServer::AttachReports(ports::Reports* reports) { impl_->reports = reports; }

void HttpServer::AttachStaffing(const ports::Staffing* staffing) { impl_->staffing = staffing; }

void HttpServer::AttachSimulation(const ports::Simulation* simulation) {
  impl_->simulation = simulation;
}

void HttpServer::AttachLiveView(const ports::LiveView* live) { impl_->live = live; }

}  // namespace parley::api
