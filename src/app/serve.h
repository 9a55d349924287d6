#pragma once
// `parley serve`: the contact-center server. One process: the engine's core loop on its own
// thread, HTTP/WebSocket I/O threads, the store's journal writer. Started on the bundled demo
// configuration and ./data by default, so `make run` needs nothing else.

#include <cstdio>
#include <string>

namespace parley::app {

struct ServeOptions {
  std::string config_file;  // seeds a new data directory; "" = the bundled demo configuration
  std::string data_dir = "data";
  std::string http = "127.0.0.1:8080";  // port 0 picks a free one (printed)
  std::string sip;       // SIP over UDP and TCP, "ADDRESS:PORT" (e.g. 0.0.0.0:5060); "" = no voice
  std::string tls_cert;  // PEM files: both given = HTTPS
  std::string tls_key;
  // SIP over TLS on this port of the --sip address (0 = none), with its own PEM files or, when
  // those are empty, tls_cert and tls_key.
  int sip_tls_port = 0;
  std::string sip_tls_cert;
  std::string sip_tls_key;
  // The CA certificates (PEM) a carrier's certificate must chain to when a trunk is reached over
  // TLS; "" = the system's (/etc/ssl/certs/ca-certificates.crt).
  std::string sip_tls_ca;
  std::string web_dir;  // the web UI's built files ("" = none)
  // Users without a password get this one on start (demo, tests); otherwise each gets a random
  // one, printed once.
  std::string initial_password;
  bool weak_password_hashing = false;     // tests only: Argon2id at libsodium's minimum cost
  bool metrics_open_on_loopback = false;  // /metrics without a token for 127.0.0.0/8 and ::1
  int io_threads = 2;
  std::string ready_file;  // written with "http://ADDR:PORT\n" once serving (for scripts, tests)
  // Demo mode (src/demo, docs/operations.md "Demo mode"): synthetic customers and bot agents.
  // Never on unless asked for. demo_rate > 0: a steady stream of that many contacts a minute;
  // 0: a working day's shape compressed into an hour.
  bool demo = false;
  double demo_rate = 0;
  // Structured logs (src/base/log.h, docs/operations.md "Logs"): "text" or "json"; "debug",
  // "info", "warn" or "error"; a file to append to ("" = standard error). The start-up banner
  // (URL, first passwords) stays on `out`, never in the log.
  std::string log_format = "text";
  std::string log_level = "info";
  std::string log_file;
};

// Runs until SIGTERM or SIGINT, then stops accepting, finishes the journal and returns 0; 1 when
// it cannot start (invalid configuration, data directory in use, port taken, bad log options),
// saying why on `err`. What happens while it runs goes to the log.
int RunServe(const ServeOptions& options, std::FILE* out = stdout, std::FILE* err = stderr);

}  // namespace parley::app
