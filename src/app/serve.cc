#include "app/serve.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <future>
#include <iterator>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <utility>  // before Asio (platform-facts.md)
#include <vector>

#include "api/http_server.h"
#include "api/views.h"
#include "app/config_admin.h"
#include "app/data.h"
#include "app/simulation_service.h"
#include "app/staffing_service.h"
#include "app/validate.h"
#include "auth/audit.h"
#include "auth/authenticator.h"
#include "auth/crypto.h"
#include "auth/password.h"
#include "auth/sessions.h"
#include "auth/throttle.h"
#include "auth/tokens.h"
#include "auth/users.h"
#include "base/log.h"
#include "base/random.h"
#include "config/document.h"
#include "demo/demo_driver.h"
#include "engine/engine.h"
#include "media/media_engine.h"
#include "runtime/event_loop.h"
#include "runtime/system_clock.h"
#include "sip/sip_server.h"
#include "webhook/dispatcher.h"
#include "webhook/http_client.h"
#include "webhook/lookup_client.h"

namespace parley::app {

namespace {

// The system's CA certificates (Debian's ca-certificates): whom a carrier's TLS certificate is
// checked against when --sip-tls-ca names no file.
constexpr const char* kSystemCaFile = "/etc/ssl/certs/ca-certificates.crt";

// sofia-sip reads its TLS identity from a directory: agent.pem (private key, then certificate
// chain) and cafile.pem (the certificate authorities a carrier's certificate must chain to).
// They are written under DATA/sip-tls, readable by the owner only, from the PEM files given on
// the command line (`ca_file`: --sip-tls-ca, else the system's), at every start.
Result<std::string> PrepareSipTlsDir(const std::string& data_dir, const std::string& cert_file,
                                     const std::string& key_file, const std::string& ca_file) {
  namespace fs = std::filesystem;
  const auto read = [](const std::string& path) -> Result<std::string> {
    std::ifstream in(path, std::ios::binary);
    if (!in) return InvalidArgument("cannot read " + path);
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (text.find("-----BEGIN") == std::string::npos) {
      return InvalidArgument(path + " is not a PEM file");
    }
    if (!text.empty() && text.back() != '\n') text += '\n';
    return text;
  };
  auto cert = read(cert_file);
  if (!cert.ok()) return cert.status();
  auto key = read(key_file);
  if (!key.ok()) return key.status();
  auto ca = read(ca_file);
  if (!ca.ok()) return ca.status();
  const fs::path dir = fs::path(data_dir) / "sip-tls";
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return Unavailable("cannot create " + dir.string() + ": " + ec.message());
  fs::permissions(dir, fs::perms::owner_all, fs::perm_options::replace, ec);
  const auto write = [](const fs::path& path, const std::string& text) -> Status {
    // Created 0600 before anything is written into it.
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) return Unavailable("cannot write " + path.string() + ": " + std::strerror(errno));
    const bool ok = ::fchmod(fd, 0600) == 0 &&
                    ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
    ::close(fd);
    return ok ? Status::Ok() : Unavailable("cannot write " + path.string());
  };
  if (Status s = write(dir / "agent.pem", *key + *cert); !s.ok()) return s;
  if (Status s = write(dir / "cafile.pem", *ca); !s.ok()) return s;
  return dir.string();
}

// The bundled demo configuration: ./config/demo.yaml from the repository root (make run), else
// the source tree this binary was built from.
std::string DefaultConfigFile() {
  std::error_code ec;
  if (std::filesystem::exists("config/demo.yaml", ec)) return "config/demo.yaml";
  return std::string(PARLEY_SOURCE_DIR) + "/config/demo.yaml";
}

// "127.0.0.1:8080", "[::1]:8080", ":8080" (all IPv4 interfaces) → address and port.
Result<std::pair<std::string, uint16_t>> ParseListen(const std::string& text,
                                                     const std::string& flag = "--http") {
  const size_t colon = text.rfind(':');
  if (colon == std::string::npos) {
    return InvalidArgument(flag + " " + text + ": expected ADDRESS:PORT, e.g. 127.0.0.1:8080");
  }
  std::string address = text.substr(0, colon);
  if (address.size() >= 2 && address.front() == '[' && address.back() == ']') {
    address = address.substr(1, address.size() - 2);
  }
  if (address.empty()) address = "0.0.0.0";
  const std::string port_text = text.substr(colon + 1);
  char* end = nullptr;
  const long port = std::strtol(port_text.c_str(), &end, 10);
  if (port_text.empty() || *end != '\0' || port < 0 || port > 65535) {
    return InvalidArgument(flag + " " + text + ": the port must be a number from 0 to 65535");
  }
  return std::make_pair(address, static_cast<uint16_t>(port));
}

// The configuration the server runs: the store's current one, or `file` seeding a new store.
Result<std::pair<std::shared_ptr<const config::Config>, uint64_t>> LoadServerConfig(
    ports::Store& store, const ServeOptions& options, std::FILE* err) {
  auto current = store.CurrentConfig();
  if (current.ok()) {
    if (!options.config_file.empty()) {
      // Refuse an invalid file even when it would not be used, so a typo is never silent.
      auto checked = LoadCheckedConfig(options.config_file, err);
      if (!checked.ok()) return checked.status();
      std::vector<config::ConfigError> errors;
      auto flat = config::FlattenConfigFile(options.config_file, &errors);
      auto diff = flat.ok() ? config::DiffConfigDocuments(current->yaml, *flat)
                            : Result<std::vector<config::ConfigChange>>(flat.status());
      if (diff.ok() && !diff->empty()) {
        log::Warn("configuration",
                  fmt::format("{} differs from the data directory's configuration (version {}), "
                              "which is used; apply it with `parley config apply {} --data {}`",
                              options.config_file, current->version, options.config_file,
                              options.data_dir),
                  {{"file", options.config_file}, {"version", current->version}});
      }
    }
    auto parsed = ParseStoredConfig(*current);
    if (!parsed.ok()) return parsed.status();
    return std::make_pair(*parsed, current->version);
  }
  if (current.status().code() != StatusCode::kNotFound) return current.status();
  const std::string file = options.config_file.empty() ? DefaultConfigFile() : options.config_file;
  auto checked = LoadCheckedConfig(file, err);
  if (!checked.ok()) return checked.status();
  std::vector<config::ConfigError> errors;
  auto flat = config::FlattenConfigFile(file, &errors);
  if (!flat.ok()) {
    for (const auto& e : errors) std::fprintf(err, "%s\n", e.ToString().c_str());
    return flat.status();
  }
  ports::ConfigDocument doc;
  doc.yaml = *flat;
  doc.applied_by = "serve";
  doc.comment = "seeded from " + file;
  doc.applied_at = runtime::SystemClock().Now();
  auto version = store.PutConfig(doc, 0);
  if (!version.ok()) return version.status();
  doc.version = *version;
  auto parsed = ParseStoredConfig(doc);
  if (!parsed.ok()) return parsed.status();
  log::Info("configuration", fmt::format("seeded version {} from {}", *version, file),
            {{"version", *version}, {"file", file}});
  return std::make_pair(*parsed, *version);
}

// The configuration's webhooks with their secrets read from the environment; kInvalidArgument
// naming the variable when one is not set.
Result<std::vector<webhook::WebhookSubscription>> WebhookSubscriptions(
    const config::Config& config) {
  std::vector<webhook::WebhookSubscription> out;
  for (const auto& def : config.webhooks) {
    webhook::WebhookSubscription sub;
    sub.name = def.name;
    sub.url = def.url;
    sub.events = def.events;
    if (!def.secret_env.empty()) {
      const char* secret = std::getenv(def.secret_env.c_str());
      if (secret == nullptr || *secret == '\0') {
        return InvalidArgument("webhook '" + def.name + "': environment variable " +
                               def.secret_env + " (its secret_env) is not set");
      }
      sub.secret = secret;
    }
    out.push_back(std::move(sub));
  }
  return out;
}

// Removes what retention says is too old, and logs it.
// Has the engine run `config` and waits until it did: its verdict comes once the step is durable
// and the live view shows the new configuration, so whoever reads after "now running" (the log,
// a client's GET /api/v1/queues) sees it. Bounded: a loop that is stopping may never answer.
Status RunConfiguration(engine::Engine& engine, std::shared_ptr<const config::Config> config) {
  auto verdict = std::make_shared<std::promise<Status>>();
  auto result = verdict->get_future();
  Status posted =
      engine.Reconfigure(std::move(config), [verdict](Status s) { verdict->set_value(s); });
  if (!posted.ok()) return posted;
  if (result.wait_for(std::chrono::seconds(10)) != std::future_status::ready) {
    return Unavailable("the engine did not confirm the configuration within 10 s");
  }
  return result.get();
}

void PurgeExpired(ports::Store& store, const config::RetentionDef& retention, TimePoint now) {
  const std::pair<ports::DataClass, Duration> classes[] = {
      {ports::DataClass::kEvents, retention.events},
      {ports::DataClass::kContactHistory, retention.contacts},
      {ports::DataClass::kAudit, retention.audit}};
  const char* names[] = {"events", "closed contacts", "audit entries"};
  for (size_t i = 0; i < 3; ++i) {
    if (classes[i].second <= Duration::zero()) continue;
    auto removed = store.Purge(classes[i].first, now - classes[i].second);
    if (!removed.ok()) {
      log::Error("retention",
                 fmt::format("purging {} failed: {}", names[i], removed.status().message()),
                 {{"data_class", names[i]}});
    } else if (*removed > 0) {
      const int64_t days =
          std::chrono::duration_cast<std::chrono::hours>(classes[i].second).count() / 24;
      log::Info("retention",
                fmt::format("purged {} {} older than {} days", *removed, names[i], days),
                {{"data_class", names[i]}, {"removed", *removed}, {"days", days}});
    }
  }
  if (retention.recordings > Duration::zero()) {
    auto removed = PurgeRecordings(store, now - retention.recordings);
    if (!removed.ok()) {
      log::Error("retention",
                 fmt::format("purging recordings failed: {}", removed.status().message()),
                 {{"data_class", "recordings"}});
    } else if (*removed > 0) {
      log::Info("retention", fmt::format("deleted {} recordings and their audio", *removed),
                {{"data_class", "recordings"}, {"removed", *removed}});
    }
  }
  // Delivered and dead webhook deliveries are kept as long as events.
  if (retention.events > Duration::zero()) {
    auto removed = store.PurgeDeliveries(now - retention.events);
    if (removed.ok() && *removed > 0) {
      log::Info("retention", fmt::format("purged {} finished webhook deliveries", *removed),
                {{"data_class", "webhook deliveries"}, {"removed", *removed}});
    }
  }
}

// The media plane's counters as Prometheus families (docs/operations.md, "Metrics").
std::vector<ports::MetricFamily> MediaMetricFamilies(const media::MediaEngine& m) {
  const media::MediaCounters c = m.Counters();
  return {
      {"parley_media_threads",
       "gauge",
       "Media threads (voice.media_threads).",
       {{"", static_cast<uint64_t>(m.config().threads)}}},
      {"parley_media_packets_total",
       "counter",
       "RTP packets received from and sent to call legs, and received packets dropped (not "
       "from the leg's peer, or of a payload type that was not negotiated).",
       {{"direction=\"received\"", c.packets_received},
        {"direction=\"sent\"", c.packets_sent},
        {"direction=\"dropped\"", c.packets_dropped}}},
      {"parley_media_rtcp_total",
       "counter",
       "RTCP reports received and sent.",
       {{"direction=\"received\"", c.rtcp_received}, {"direction=\"sent\"", c.rtcp_sent}}},
      {"parley_media_ticks_late_total",
       "counter",
       "20 ms media ticks a media thread ran late: a rising count means the threads cannot keep "
       "up (raise voice.media_threads, or move load off the machine).",
       {{"", c.ticks_late}}},
  };
}

// The SIP adapter's counters as Prometheus families (docs/operations.md, "Metrics").
std::vector<ports::MetricFamily> SipMetricFamilies(const sip::SipCounters& c) {
  std::vector<ports::MetricFamily> out;
  const auto one = [&](std::string name, std::string type, std::string help, uint64_t value) {
    out.push_back({std::move(name), std::move(type), std::move(help), {{"", value}}});
  };
  ports::MetricFamily requests{
      "parley_sip_requests_total", "counter", "SIP requests received, by method.", {}};
  for (const auto& [method, n] : c.requests_by_method) {
    requests.samples.emplace_back("method=\"" + method + "\"", n);
  }
  out.push_back(std::move(requests));
  out.push_back({"parley_sip_rejected_total",
                 "counter",
                 "SIP requests refused, by reason (and offers refused in a peer's answer to "
                 "a session refresh).",
                 {{"reason=\"malformed\"", c.bad_requests},
                  {"reason=\"banned\"", c.banned_requests},
                  {"reason=\"call_refused\"", c.calls_refused},
                  {"reason=\"refer_refused\"", c.refers_refused},
                  {"reason=\"refresh_offer_refused\"", c.refresh_offers_refused}}});
  one("parley_sip_auth_challenges_total", "counter", "Digest challenges (401) sent.",
      c.auth_challenges);
  one("parley_sip_auth_failures_total", "counter", "Wrong or unknown SIP credentials.",
      c.auth_failures);
  one("parley_sip_bans_total", "counter", "Source addresses banned after failures.", c.bans);
  one("parley_sip_registrations_total", "counter", "Successful REGISTERs.", c.registrations);
  one("parley_sip_registrations_active", "gauge", "Phone bindings held by the registrar.",
      c.registrations_active);
  one("parley_sip_calls_total", "counter", "Customer calls accepted by the engine.", c.calls_in);
  one("parley_sip_calls_active", "gauge", "Customer calls held by the SIP adapter now.",
      c.calls_active);
  one("parley_sip_agent_legs_total", "counter", "INVITEs sent to agents' phones.", c.agent_legs);
  out.push_back({"parley_sip_outbound_calls_total",
                 "counter",
                 "Click-to-dial calls, by outcome: INVITEs sent to the trunk, answered, failed, "
                 "and refused before dialling (number outside voice.outbound_destinations).",
                 {{"outcome=\"dialled\"", c.calls_out},
                  {"outcome=\"answered\"", c.calls_out_answered},
                  {"outcome=\"failed\"", c.calls_out_failed},
                  {"outcome=\"refused\"", c.calls_out_refused}}});
  ports::MetricFamily responses{"parley_sip_responses_total",
                                "counter",
                                "SIP responses by class: sent by Parley, and received to its "
                                "own requests.",
                                {}};
  for (size_t k = 0; k < c.responses_sent.size(); ++k) {
    const std::string cls = std::to_string(k + 1) + "xx";
    responses.samples.emplace_back("direction=\"sent\",class=\"" + cls + "\"", c.responses_sent[k]);
    responses.samples.emplace_back("direction=\"received\",class=\"" + cls + "\"",
                                   c.responses_received[k]);
  }
  out.push_back(std::move(responses));
  return out;
}

}  // namespace

int RunServe(const ServeOptions& options, std::FILE* out, std::FILE* err) {
  {
    log::Options log_options;
    log_options.file = options.log_file;
    auto format = log::ParseFormat(options.log_format);
    auto level = log::ParseLevel(options.log_level);
    Status s = !format.ok() ? format.status() : !level.ok() ? level.status() : Status::Ok();
    if (s.ok()) {
      log_options.format = *format;
      log_options.level = *level;
      s = log::Configure(log_options);
    }
    if (!s.ok()) {
      std::fprintf(err, "not started: %s\n", s.message().c_str());
      return 1;
    }
  }
  auto listen = ParseListen(options.http);
  if (!listen.ok()) {
    std::fprintf(err, "%s\n", listen.status().message().c_str());
    return 1;
  }
  std::optional<std::pair<std::string, uint16_t>> sip_listen;
  if (!options.sip.empty()) {
    auto parsed = ParseListen(options.sip, "--sip");
    if (!parsed.ok() || parsed->second == 0) {
      std::fprintf(err, "%s\n",
                   parsed.ok() ? "--sip needs a port (5060 in production)"
                               : parsed.status().message().c_str());
      return 1;
    }
    sip_listen = *parsed;
  }
  if (options.tls_cert.empty() != options.tls_key.empty()) {
    std::fprintf(err, "HTTPS needs both --tls-cert and --tls-key\n");
    return 1;
  }
  const std::string sip_tls_cert =
      options.sip_tls_cert.empty() ? options.tls_cert : options.sip_tls_cert;
  const std::string sip_tls_key =
      options.sip_tls_key.empty() ? options.tls_key : options.sip_tls_key;
  if (options.sip_tls_port != 0 && (!sip_listen || sip_tls_cert.empty() || sip_tls_key.empty())) {
    std::fprintf(err, "%s\n",
                 !sip_listen ? "--sip-tls-port needs --sip"
                             : "SIP over TLS needs a certificate and key: --sip-tls-cert and "
                               "--sip-tls-key (or --tls-cert and --tls-key)");
    return 1;
  }
  if (!options.sip_tls_ca.empty() && options.sip_tls_port == 0) {
    std::fprintf(err, "--sip-tls-ca needs --sip-tls-port (carriers over TLS)\n");
    return 1;
  }
  // SIGTERM and SIGINT are taken by sigwait below; block them before any thread starts so that
  // every thread inherits the mask.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  auto store_or = OpenDataStore(options.data_dir, /*create=*/true, kServeGroupWindow);
  if (!store_or.ok()) {
    std::fprintf(err, "%s: %s\n", options.data_dir.c_str(), store_or.status().message().c_str());
    return 1;
  }
  ports::Store& store = **store_or;
  auto loaded = LoadServerConfig(store, options, err);
  if (!loaded.ok()) {
    std::fprintf(err, "not started: %s\n", loaded.status().message().c_str());
    return 1;
  }
  std::shared_ptr<const config::Config> config = loaded->first;
  uint64_t config_version = loaded->second;

  runtime::SystemClock clock;

  // Accounts.
  auth::PasswordHasher hasher(options.weak_password_hashing ? auth::PasswordLimits::ForTests()
                                                            : auth::PasswordLimits::Interactive());
  auth::UserDirectory users(hasher, &store);
  auth::SessionStore sessions(
      {}, auth::CookieOptions{.secure = !options.tls_cert.empty(), .path = "/"}, &store);
  auth::TokenStore tokens(&store);
  auth::LoginThrottle throttle;
  auth::AuditLog audit(100000, &store);
  for (Status s : {users.Load(), sessions.Load(clock.Now()), tokens.Load()}) {
    if (!s.ok()) {
      std::fprintf(err, "not started: loading accounts: %s\n", s.message().c_str());
      return 1;
    }
  }
  if (auto last = store.LastAuditSequence(); last.ok()) audit.ContinueAfter(*last);
  if (auto synced = users.SyncFromConfig(config->users, config->routing, clock.Now());
      !synced.ok()) {
    std::fprintf(err, "not started: users: %s\n", synced.status().message().c_str());
    return 1;
  }
  std::vector<std::pair<std::string, std::string>> new_passwords;
  for (const auto& u : users.List()) {
    if (u.has_password || u.disabled) continue;
    std::string password = options.initial_password.empty() ? auth::GenerateReadablePassword()
                                                            : options.initial_password;
    if (Status s = users.SetPassword(u.id, password, clock.Now()); !s.ok()) {
      std::fprintf(err, "not started: password of %s: %s\n", u.login.c_str(), s.message().c_str());
      return 1;
    }
    new_passwords.emplace_back(u.login, options.initial_password.empty() ? password : "(given)");
  }
  auth::Authenticator authenticator(users, sessions, tokens, hasher, throttle, audit);

  // The core loop.
  runtime::EventLoop loop(clock, "engine");
  // Blocking customer store calls (attaching contacts, the CRM routes) run here, off the loop.
  runtime::EventLoop customer_worker(clock, "customers");
  engine::EngineOptions engine_options;
  engine_options.config_version = config_version;
  // A resume is sent in one go: keep it within what the event stream queues for a client
  // (api::HttpServerOptions::ws_max_queued_messages), with room for the snapshot and live events.
  engine_options.max_resume_events = api::HttpServerOptions{}.ws_max_queued_messages / 2;
  engine_options.customer_worker = [&customer_worker](std::function<void()> work) {
    customer_worker.Post(std::move(work));
  };
  // Report queries (long journal reads) run here, so they stall neither routing nor customers.
  runtime::EventLoop report_worker(clock, "reports");
  engine_options.report_worker = [&report_worker](std::function<void()> work) {
    report_worker.Post(std::move(work));
  };
  // The flows' HTTP lookups (docs/flows.md): performed on the client's workers, their answers
  // posted to the loop through LookupDone. No lookup is sent before the engine exists (flows run
  // only once it serves).
  // Its limits come from the configuration's `lookups:` as loaded at start.
  std::atomic<engine::Engine*> lookup_engine{nullptr};
  webhook::LookupOptions lookup_options;
  lookup_options.workers = config->flows.lookups.workers;
  lookup_options.max_queued = config->flows.lookups.max_queued;
  lookup_options.max_response_bytes = config->flows.lookups.max_response_bytes;
  lookup_options.default_timeout = config->flows.lookups.timeout;
  webhook::HttpLookupClient lookups(
      [&lookup_engine](ContactId contact, webhook::LookupResult r) {
        engine::Engine* e = lookup_engine.load();
        if (e == nullptr) return;
        if (r.answered) {
          e->LookupDone(contact,
                        flow::LookupAnswered{r.request_id, r.http_status, std::move(r.body)});
        } else {
          e->LookupDone(contact, flow::LookupFailed{r.request_id, std::move(r.reason)});
        }
      },
      lookup_options);
  engine_options.http = &lookups;
  // The live view keeps each agent's answer rendered as GET /api/v1/agents/{agent} sends it.
  engine_options.render_agent = [](const ports::AgentSnapshot& a) { return api::AgentJsonText(a); };
  engine::Engine engine(
      clock, loop, [&loop](std::function<void()> work) { loop.Post(std::move(work)); }, store,
      config, engine_options);
  lookup_engine = &engine;
  // On every way out, the lookups stop (no answer after it) before the engine is destroyed.
  struct StopLookups {
    webhook::HttpLookupClient& client;
    ~StopLookups() { client.Stop(); }
  } stop_lookups{lookups};
  {
    std::promise<Status> started;
    loop.Post([&] { started.set_value(engine.Start()); });
    Status s = started.get_future().get();
    if (!s.ok()) {
      std::fprintf(err, "not started: recovery: %s\n", s.message().c_str());
      return 1;
    }
  }

  // Outgoing webhooks: every published event is offered to the dispatcher, which writes matching
  // deliveries to the outbox and sends them from its own thread.
  auto subscriptions = WebhookSubscriptions(*config);
  if (!subscriptions.ok()) {
    std::fprintf(err, "not started: %s\n", subscriptions.status().message().c_str());
    std::promise<void> stopped;
    loop.Post([&] { engine.Shutdown([&] { stopped.set_value(); }); });
    stopped.get_future().wait();
    loop.Stop();
    return 1;
  }
  webhook::BeastHttpPoster poster;
  uint64_t seed = 0;
  const std::string seed_bytes = auth::RandomBytes(sizeof seed);
  std::memcpy(&seed, seed_bytes.data(), sizeof seed);
  webhook::WebhookDispatcher dispatcher(std::move(*subscriptions), store, poster, clock,
                                        Random(seed), webhook::DispatcherOptions{});
  dispatcher.Start();
  auto webhook_feed = engine.Subscribe(
      ports::Caller{.user = "webhooks"}, 0,
      [&dispatcher](std::string_view type) { return dispatcher.Wants(type); },
      [&dispatcher](const std::vector<ports::PublishedEvent>& events) {
        for (const auto& e : events) dispatcher.Offer(e.json, e.type, e.seq);
      });

  // HTTP and WebSocket.
  api::HttpServerOptions http_options;
  http_options.address = listen->first;
  http_options.port = listen->second;
  http_options.io_threads = options.io_threads;
  http_options.static_dir = options.web_dir;
  http_options.tls_cert_file = options.tls_cert;
  http_options.tls_key_file = options.tls_key;
  http_options.metrics_open_on_loopback = options.metrics_open_on_loopback;
  // The SIP adapter's counters on /metrics once it runs (it outlives the HTTP server's threads),
  // then the lookups' (they outlive them too).
  std::atomic<const sip::SipServer*> sip_for_metrics{nullptr};
  std::atomic<const media::MediaEngine*> media_for_metrics{nullptr};
  http_options.adapter_metrics = [&sip_for_metrics, &media_for_metrics, &lookups] {
    const sip::SipServer* s = sip_for_metrics.load();
    std::vector<ports::MetricFamily> out =
        s == nullptr ? std::vector<ports::MetricFamily>{} : SipMetricFamilies(s->counters());
    if (const media::MediaEngine* m = media_for_metrics.load()) {
      for (auto& family : MediaMetricFamilies(*m)) out.push_back(std::move(family));
    }
    for (auto& family : lookups.MetricFamilies()) out.push_back(std::move(family));
    return out;
  };
  // The API's configuration routes apply through the same path as `parley config apply`, and
  // wake the watcher below so a new version runs at once.
  std::mutex watch_mu;
  std::condition_variable watch_cv;
  bool stopping = false;
  bool config_applied = false;
  StoreConfigAdministration config_admin(store, [&](uint64_t) {
    {
      std::lock_guard lock(watch_mu);
      config_applied = true;
    }
    watch_cv.notify_all();
  });
  const StaffingService staffing;  // outlives http, declared before it
  SimulationService simulation;
  api::HttpServer http(http_options, engine,
                       api::AuthParts{authenticator, sessions, tokens, users, &audit}, clock);
  http.AttachReports(&engine);
  http.AttachStaffing(&staffing);
  http.AttachSimulation(&simulation);
  http.AttachLiveView(&engine.live_view());
  http.SetConfigAdministration(&config_admin);
  http.SetSipRealm(config->voice.realm);
  // A start that fails after this point finishes the engine's journal and stops its loop.
  auto stop_engine = [&] {
    std::promise<void> stopped;
    loop.Post([&] { engine.Shutdown([&] { stopped.set_value(); }); });
    stopped.get_future().wait();
    loop.Stop();
    return 1;
  };
  auto abandon_start = [&] {
    http.Stop();
    return stop_engine();
  };
  if (Status s = http.Start(); !s.ok()) {
    std::fprintf(err, "not started: %s\n", s.message().c_str());
    return stop_engine();
  }
  // Demo mode (--demo only): bots on their own loop drive the engine through its inbound port
  // as the caller "demo", with reach over every agent; what they do is audited under that name.
  std::unique_ptr<runtime::EventLoop> demo_loop;
  std::unique_ptr<demo::DemoDriver> demo_driver;
  if (options.demo) {
    demo::DemoOptions d;
    d.caller = ports::Caller{.user = "demo", .reach = ports::Caller::Reach::kAll};
    d.contacts_per_minute = options.demo_rate;
    if (options.demo_rate > 0) d.time_scale = demo::TimeScaleForRate(options.demo_rate);
    d.seed = seed;
    d.voice_by_phone = sip_listen.has_value();  // calls come from SIP; phones answer them
    for (const auto& c : config->reason_codes) d.reason_codes.push_back(c.code);
    for (const auto& c : config->disposition_codes) d.disposition_codes.push_back(c.code);
    demo_loop = std::make_unique<runtime::EventLoop>(clock, "demo");
    auto created = demo::DemoDriver::Create(
        engine, clock, *demo_loop,
        [l = demo_loop.get()](std::function<void()> work) { l->Post(std::move(work)); }, d,
        [&audit, &clock, actor = d.caller.user](const std::string& action,
                                                const std::string& target, const Status& s,
                                                const std::string& detail) {
          audit.Append(clock.Now(), actor, action, target,
                       s.ok() ? ports::AuditOutcome::kOk : ports::AuditOutcome::kFailed,
                       s.ok() ? detail : s.message());
        });
    if (!created.ok()) {
      std::fprintf(err, "not started: %s\n", created.status().message().c_str());
      return abandon_start();
    }
    demo_driver = std::move(*created);
  }
  // Voice: SIP signalling on its own thread.
  std::unique_ptr<media::MediaEngine> media;
  std::unique_ptr<sip::SipServer> sip_server;
  if (sip_listen) {
    media::MediaConfig media_config;
    media_config.address = config->voice.media_address;
    if (media_config.address.empty()) media_config.address = sip_listen->first;
    media_config.port_min = config->voice.media_port_min;
    media_config.port_max = config->voice.media_port_max;
    media_config.threads = config->voice.media_threads;
    media_config.inactivity_timeout = config->voice.media_timeout;
    media_config.prompt_dir = options.data_dir + "/prompts";
    media_config.tts_cache_dir = options.data_dir + "/tts-cache";
    auto created = media::MediaEngine::Create(std::move(media_config));
    if (!created.ok()) {
      std::fprintf(err, "not started: media: %s\n", created.status().message().c_str());
      return abandon_start();
    }
    media = std::move(created).value();
    sip::SipServerOptions sip_options;
    sip_options.address = sip_listen->first;
    sip_options.port = sip_listen->second;
    sip_options.realm = config->voice.realm;
    sip_options.ring_timeout = config->voice.ring_timeout;
    sip_options.session_timer = config->voice.session_timer;
    sip_options.user_agent = std::string("Parley/") + PARLEY_VERSION;
    for (const auto& t : config->voice.trunks) sip_options.trunks.push_back({t.name, t.addresses});
    if (const config::TrunkDef* t = config->voice.OutboundTrunk()) {
      const config::TrunkOutboundDef& o = t->outbound;
      if (o.transport == "tls" && options.sip_tls_port == 0) {
        std::fprintf(err,
                     "not started: voice trunk '%s' reaches its carrier over TLS: that needs "
                     "--sip-tls-port (and a certificate)\n",
                     t->name.c_str());
        return abandon_start();
      }
      std::string password;
      if (!o.password_env.empty()) {
        const char* value = std::getenv(o.password_env.c_str());
        if (value == nullptr || *value == '\0') {
          std::fprintf(err,
                       "not started: voice trunk '%s': the environment variable %s (its "
                       "password_env) is not set\n",
                       t->name.c_str(), o.password_env.c_str());
          return abandon_start();
        }
        password = value;
      }
      sip_options.outbound = {t->name,    o.host,   o.port,     o.transport,
                              o.username, password, o.caller_id};
    }
    sip_options.outbound_destinations = config->voice.outbound_destinations;
    sip_options.recordings_dir = options.data_dir + "/recordings";  // issue 6
    if (options.sip_tls_port != 0) {
      auto dir = PrepareSipTlsDir(options.data_dir, sip_tls_cert, sip_tls_key,
                                  options.sip_tls_ca.empty() ? kSystemCaFile : options.sip_tls_ca);
      if (!dir.ok()) {
        std::fprintf(err, "not started: SIP over TLS: %s\n", dir.status().message().c_str());
        return abandon_start();
      }
      sip_options.tls_port = static_cast<uint16_t>(options.sip_tls_port);
      sip_options.tls_dir = *dir;
    }
    sip_server = std::make_unique<sip::SipServer>(
        std::move(sip_options),
        sip::SipServer::Deps{clock, users, &engine, &engine, *media, &store});
    if (Status s = sip_server->Start(); !s.ok()) {
      std::fprintf(err, "not started: %s\n", s.message().c_str());
      return abandon_start();
    }
    engine.AttachChannel(Channel::kVoice, sip_server.get());
    sip_for_metrics = sip_server.get();
    media_for_metrics = media.get();
  }
  const bool ipv6 = http_options.address.find(':') != std::string::npos;
  const std::string url = std::string(options.tls_cert.empty() ? "http" : "https") + "://" +
                          (ipv6 ? "[" + http_options.address + "]" : http_options.address) + ":" +
                          std::to_string(http.port());
  std::fprintf(out, "Parley %s: %s, data in %s, configuration version %llu\n", PARLEY_VERSION,
               config->site_name.empty() ? "contact center" : config->site_name.c_str(),
               options.data_dir.c_str(), static_cast<unsigned long long>(config_version));
  if (!new_passwords.empty()) {
    std::fprintf(out, "logins created (passwords are shown once and stored only hashed):\n");
    for (const auto& [login, password] : new_passwords) {
      std::fprintf(out, "  %-12s %s\n", login.c_str(), password.c_str());
    }
  }
  if (sip_listen) {
    std::fprintf(out, "SIP on udp and tcp %s:%u, realm %s\n", sip_listen->first.c_str(),
                 static_cast<unsigned>(sip_listen->second), config->voice.realm.c_str());
    if (options.sip_tls_port != 0) {
      std::fprintf(out, "SIP over TLS on %s:%d\n", sip_listen->first.c_str(), options.sip_tls_port);
    }
  }
  if (demo_driver) {
    const std::string pace =
        options.demo_rate > 0
            ? fmt::format("{:g} contacts a minute, times scaled by {:g}", options.demo_rate,
                          demo::TimeScaleForRate(options.demo_rate))
            : "a working day's traffic every hour";
    std::fprintf(out,
                 "demo: synthetic customers and bot agents are running (%s); acting for an agent "
                 "(presence, accept) takes it over from its bot\n",
                 pace.c_str());
  }
  std::fprintf(out, "listening on %s (stop with Ctrl-C or SIGTERM)\n", url.c_str());
  std::fflush(out);
  log::Info("serve", "listening",
            {{"url", url},
             {"version", PARLEY_VERSION},
             {"data", options.data_dir},
             {"config_version", config_version},
             {"sip", options.sip},
             {"demo", options.demo}});
  if (!options.ready_file.empty()) std::ofstream(options.ready_file) << url << "\n";
  if (demo_driver) demo_loop->Post([&demo_driver] { demo_driver->Start(); });

  // Background duties: pick up configurations applied with `parley config apply` or the API, and
  // purge what retention says is too old (at start, then hourly).
  std::thread watcher([&] {
    TimePoint next_purge{};
    std::unique_lock lock(watch_mu);
    while (!stopping) {
      lock.unlock();
      if (clock.Now() >= next_purge) {
        PurgeExpired(store, config->retention, clock.Now());
        next_purge = clock.Now() + std::chrono::hours(1);
      }
      auto current = store.CurrentConfig();
      if (current.ok() && current->version != config_version) {
        auto parsed = ParseStoredConfig(*current);
        if (!parsed.ok()) {
          log::Error(
              "configuration",
              fmt::format("version {} not used: {}", current->version, parsed.status().message()),
              {{"version", current->version}});
        } else {
          auto subs = WebhookSubscriptions(**parsed);
          Status s = subs.ok() ? RunConfiguration(engine, *parsed) : subs.status();
          if (s.ok()) {
            (void)users.SyncFromConfig((*parsed)->users, (*parsed)->routing, clock.Now());
            dispatcher.SetSubscriptions(std::move(*subs));
            config = *parsed;
            log::Info("configuration", fmt::format("now running version {}", current->version),
                      {{"version", current->version}});
          } else {
            log::Error("configuration",
                       fmt::format("version {} refused: {}", current->version, s.message()),
                       {{"version", current->version}});
          }
        }
        config_version = current->version;
      }
      lock.lock();
      watch_cv.wait_for(lock, std::chrono::seconds(2), [&] { return stopping || config_applied; });
      config_applied = false;
    }
  });

  int signal_number = 0;
  sigwait(&signals, &signal_number);
  log::Info("serve", "stopping: no new connections; finishing the journal",
            {{"signal", signal_number == SIGTERM ? "SIGTERM" : "SIGINT"}});
  simulation.Stop();  // a running what-if ends now rather than at its wall-clock limit
  if (demo_driver) {
    std::promise<demo::DemoCounters> stopped;
    demo_loop->Post([&] {
      demo_driver->Stop();
      stopped.set_value(demo_driver->counters());
    });
    const demo::DemoCounters c = stopped.get_future().get();
    log::Info("demo", "bots stopped",
              {{"contacts", c.contacts_created},
               {"gave_up", c.contacts_cancelled},
               {"accepted", c.offers_accepted},
               {"wrapped_up", c.wrap_ups_completed},
               {"breaks", c.breaks},
               {"handovers", c.handovers},
               {"refused_calls", c.failed_calls}});
  }
  {
    std::lock_guard lock(watch_mu);
    stopping = true;
  }
  watch_cv.notify_all();
  watcher.join();
  if (sip_server) {
    engine.AttachChannel(Channel::kVoice, nullptr);
    sip_server->Stop();  // BYE to calls still up, then the stack stops
    const sip::SipCounters c = sip_server->counters();
    log::Info("sip", "stopped",
              {{"requests", c.requests},
               {"bad_requests", c.bad_requests},
               {"auth_challenges", c.auth_challenges},
               {"auth_failures", c.auth_failures},
               {"bans", c.bans},
               {"banned_requests", c.banned_requests},
               {"registrations", c.registrations},
               {"calls_in", c.calls_in},
               {"calls_refused", c.calls_refused},
               {"agent_legs", c.agent_legs},
               {"calls_out", c.calls_out},
               {"calls_out_refused", c.calls_out_refused}});
  }
  http.Stop();
  std::promise<void> stopped;
  loop.Post([&] { engine.Shutdown([&] { stopped.set_value(); }); });
  stopped.get_future().wait();
  // Lookups in flight are abandoned (the engine takes no answer any more); later ones fail.
  lookups.Stop();
  {
    const webhook::LookupCounters c = lookups.counters();
    log::Info("lookup", "stopped",
              {{"ok", c.ok},
               {"http_error", c.http_error},
               {"timeout", c.timeout},
               {"failed", c.failed},
               {"cancelled", c.cancelled}});
  }
  webhook_feed.reset();
  customer_worker.Stop();  // its last replies still reach the loop
  report_worker.Stop();
  loop.Stop();
  if (demo_loop) demo_loop->Stop();  // after the engine's: its last replies are dropped there
  dispatcher.Stop();  // writes offered events to the outbox; they are sent after a restart
  log::Info("serve", "stopped cleanly");
  log::Flush();
  return 0;
}

}  // namespace parley::app
