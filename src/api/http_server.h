#pragma once
// HttpServer: the REST + WebSocket adapter over the inbound port ports::ContactCenter, on one
// listening port (Boost.Beast, plain HTTP/1.1 or TLS). It authenticates every request (session
// cookie or bearer token, src/auth), checks the route's declared permission, turns the caller's
// reach into a ports::Caller for object scope, validates the body (api/request.h) and answers
// JSON. It also serves /healthz, /metrics, the event stream WebSocket and the web UI's static
// files.
//
// Ownership and threads: the server owns its io_context and `io_threads` threads; it borrows
// the port, the auth objects and the clock, which must outlive it. Each connection runs on its
// own strand; port replies (which arrive on the engine's loop thread) are posted back to it.
// Start and Stop are called from one controlling thread; everything else is internal.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "auth/audit.h"
#include "auth/authenticator.h"
#include "auth/routes.h"
#include "auth/sessions.h"
#include "auth/tokens.h"
#include "auth/users.h"
#include "base/clock.h"
#include "base/status.h"
#include "ports/administration.h"
#include "ports/contact_center.h"
#include "ports/live_view.h"
#include "ports/reports.h"
#include "ports/simulation.h"
#include "ports/staffing.h"

namespace parley::api {

struct HttpServerOptions {
  std::string address = "127.0.0.1";  // IPv4 or IPv6 literal
  uint16_t port = 0;                  // 0: the system picks; see HttpServer::port()
  int io_threads = 1;
  // The web UI: GET of a path outside /api/, /healthz and /metrics serves a file from here,
  // falling back to index.html for paths without an extension. "" = no web UI.
  std::string static_dir;
  // PEM files; both set = TLS only (cookies then carry Secure). Both empty = plain HTTP.
  std::string tls_cert_file;
  std::string tls_key_file;
  // /metrics without a token for clients on 127.0.0.0/8 and ::1.
  bool metrics_open_on_loopback = false;
  // Channel adapters' counters for /metrics (the SIP adapter's); called on an I/O thread.
  std::function<std::vector<ports::MetricFamily>()> adapter_metrics;

  size_t max_body_bytes = 1 << 20;      // larger bodies: 413
  size_t max_header_bytes = 16 * 1024;  // larger request heads: 431
  size_t max_json_depth = 32;           // deeper JSON: 400
  // A request must arrive whole within this (else 408, or a silent close when idle).
  std::chrono::milliseconds read_timeout{30'000};
  std::chrono::milliseconds write_timeout{30'000};
  // Stop() waits this long for in-flight requests to finish.
  std::chrono::milliseconds shutdown_grace{5'000};

  // WebSocket event stream: messages queued for one slow client before it is closed, and the
  // idle time after which the server pings (and closes if no pong comes back in as long).
  size_t ws_max_queued_messages = 4096;
  std::chrono::milliseconds ws_ping_interval{20'000};
};

// The auth objects the server calls; all must outlive it. The composition root builds them
// (with a real store) and passes them in.
struct AuthParts {
  auth::Authenticator& authenticator;
  auth::SessionStore& sessions;
  auth::TokenStore& tokens;
  auth::UserDirectory& users;
  // Where reads, exports and erasures of customer data are recorded; null: not recorded.
  auth::AuditLog* audit = nullptr;
};

struct ServerImpl;

class HttpServer {
 public:
  HttpServer(HttpServerOptions options, ports::ContactCenter& center, AuthParts auth,
             const Clock& clock);
  ~HttpServer();  // Stop()s
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds, listens and starts the I/O threads. InvalidArgument for a bad address or TLS files,
  // Unavailable when the port cannot be bound.
  Status Start();
  // Stops accepting, closes idle connections and event streams, waits up to shutdown_grace for
  // in-flight requests, then joins the threads. Idempotent.
  void Stop();

  // Serves the configuration routes (/api/v1/config...) from `config`, which must outlive the
  // server; without it they answer 503. Call before Start.
  void SetConfigAdministration(ports::ConfigAdministration* config);
  // The digest realm of the server's SIP (voice.realm): SIP passwords set over the API are for
  // it. Before Start.
  void SetSipRealm(std::string realm);

  // The bound port (after Start).
  uint16_t port() const;
  // The reports port for /api/v1/reports/* and the code lists of /api/v1/me; before Start().
  // Without one, reports answer 503 and the code lists are empty. It must outlive the server.
  void AttachReports(ports::Reports* reports);
  // The staffing port for POST /api/v1/staffing; before Start(). Without one it answers 503.
  // It must outlive the server.
  void AttachStaffing(const ports::Staffing* staffing);
  // The simulation port for POST /api/v1/simulations; before Start(). Without one: 503.
  void AttachSimulation(const ports::Simulation* simulation);
  // The live view for GET /api/v1/agents/{agent}, /queues and /queues/{queue}: answered on the
  // I/O thread from its snapshot, with the port's scope and answers; before Start(). Without one
  // (or before it has a snapshot) those reads go through the port. It must outlive the server.
  void AttachLiveView(const ports::LiveView* live);

  // Every route the server answers, with its permission (the access matrix's source).
  const auth::RouteRegistry& routes() const;

 private:
  std::shared_ptr<ServerImpl> impl_;
};

}  // namespace parley::api
