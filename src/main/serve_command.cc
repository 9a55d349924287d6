#include <memory>
#include <string>

#include "app/serve.h"
#include "main/commands.h"

namespace parley::cli {

void AddServeCommand(CLI::App& app, int* exit_code) {
  auto* cmd = app.add_subcommand("serve", "Run the contact-center server (HTTP API, WebSocket)");
  auto o = std::make_shared<app::ServeOptions>();
  cmd->add_option("--config", o->config_file,
                  "Configuration that seeds a new data directory (default: the bundled demo)");
  cmd->add_option("--data", o->data_dir, "Data directory")->capture_default_str();
  cmd->add_option("--http", o->http, "Listen address, ADDRESS:PORT (port 0: pick a free one)")
      ->capture_default_str();
  cmd->add_option("--sip", o->sip,
                  "SIP listen address, ADDRESS:PORT, UDP and TCP (production: 0.0.0.0:5060); "
                  "none = no voice");
  cmd->add_option("--tls-cert", o->tls_cert, "PEM certificate: serve HTTPS (with --tls-key)");
  cmd->add_option("--tls-key", o->tls_key, "PEM private key for --tls-cert");
  cmd->add_option("--sip-tls-port", o->sip_tls_port,
                  "Also SIP over TLS (sips:) on this port of the --sip address (production: 5061)")
      ->check(CLI::Range(1, 65535));
  cmd->add_option("--sip-tls-cert", o->sip_tls_cert,
                  "PEM certificate for SIP over TLS (default: --tls-cert)");
  cmd->add_option("--sip-tls-key", o->sip_tls_key,
                  "PEM private key for SIP over TLS (default: --tls-key)");
  cmd->add_option("--sip-tls-ca", o->sip_tls_ca,
                  "PEM CA certificates a carrier's TLS certificate must chain to (default: the "
                  "system's, /etc/ssl/certs/ca-certificates.crt)");
  cmd->add_option("--web", o->web_dir, "Directory of the web UI's built files");
  cmd->add_option("--initial-password", o->initial_password,
                  "Password for users that have none yet (default: a random one each, printed)");
  cmd->add_flag("--weak-password-hashing", o->weak_password_hashing,
                "Tests only: hash passwords at libsodium's minimum cost");
  cmd->add_flag("--metrics-open-on-loopback", o->metrics_open_on_loopback,
                "Serve /metrics without a token to clients on 127.0.0.0/8 and ::1");
  cmd->add_option("--io-threads", o->io_threads, "HTTP I/O threads")
      ->capture_default_str()
      ->check(CLI::Range(1, 64));
  cmd->add_option("--ready-file", o->ready_file, "Write the server's URL here once it listens");
  auto* demo = cmd->add_flag("--demo", o->demo,
                             "Demo mode: synthetic customers arrive and bot agents work them "
                             "(a human who acts for an agent takes it over)");
  cmd->add_option("--demo-rate", o->demo_rate,
                  "With --demo: a steady CONTACTS_PER_MINUTE instead of a working day's shape")
      ->check(CLI::PositiveNumber)
      ->needs(demo);
  cmd->add_option("--log-format", o->log_format, "Log lines as text or json (JSON lines)")
      ->capture_default_str()
      ->check(CLI::IsMember({"text", "json"}));
  cmd->add_option("--log-level", o->log_level, "Lowest level logged: debug, info, warn or error")
      ->capture_default_str()
      ->check(CLI::IsMember({"debug", "info", "warn", "error"}));
  cmd->add_option("--log-file", o->log_file,
                  "Append the log to this file (default: standard error)");
  cmd->callback([exit_code, o] { *exit_code = app::RunServe(*o); });
}

}  // namespace parley::cli
