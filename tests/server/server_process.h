#pragma once
// Test helpers for end-to-end tests of `parley serve`: start the real binary on a free loopback
// port with a temporary data directory, talk to it over HTTP and WebSocket (Boost.Beast), stop
// it with SIGTERM or kill it with SIGKILL. Waiting is always on an event (a line on the
// server's stdout, a reply, process exit) with a bounded timeout, never a sleep.

#include <sys/types.h>

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>  // before Asio (platform-facts.md)
#include <vector>

namespace parley::testing {

// A temporary directory removed on destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

struct ProcessResult {
  int exit_code = -1;  // -1 when killed by a signal
  int signal = 0;
  std::string out;
  std::string err;
};

// Runs `parley ARGS...` to completion (bounded by `timeout`) and captures its output.
ProcessResult RunParley(const std::vector<std::string>& args,
                        std::chrono::seconds timeout = std::chrono::seconds(60));

// Runs `program ARGS...` (found on PATH, e.g. "sipp") to completion, bounded by `timeout`,
// with `input` as its standard input.
ProcessResult RunProgram(const std::string& program, const std::vector<std::string>& args,
                         std::chrono::seconds timeout = std::chrono::seconds(60),
                         const std::string& input = "");

class ServerProcess {
 public:
  // Starts `parley serve --http 127.0.0.1:0 --data DATA --weak-password-hashing
  // --initial-password PASSWORD EXTRA...` and waits for its "listening on http://..." line.
  ServerProcess(const std::string& data_dir, std::vector<std::string> extra = {});
  ~ServerProcess();  // SIGKILL if still running
  ServerProcess(const ServerProcess&) = delete;
  ServerProcess& operator=(const ServerProcess&) = delete;

  bool started() const { return port_ != 0; }
  int port() const { return port_; }
  const std::string& output() const { return out_; }  // stdout and stderr (the log) read so far
  const std::string& data_dir() const { return data_dir_; }
  // Reads stdout and stderr until a line contains `text` (true) or the timeout/EOF (false).
  bool WaitForOutput(const std::string& text,
                     std::chrono::milliseconds timeout = std::chrono::seconds(30));

  // SIGTERM and wait for exit; returns the exit code (-1 on signal or timeout).
  int Terminate(std::chrono::seconds timeout = std::chrono::seconds(30));
  void Kill();  // SIGKILL and reap

 private:
  pid_t pid_ = -1;
  int out_fd_ = -1;
  int port_ = 0;
  std::string out_;
  std::string data_dir_;
};

inline constexpr const char* kTestPassword = "correct-horse-battery";

struct HttpResponse {
  int status = 0;
  std::string body;
  std::map<std::string, std::string> headers;  // lower-case names
};

// One HTTP/1.1 request on a new connection to 127.0.0.1:port. `auth` is "Cookie: ..." value or
// "Bearer ..." (sent as Authorization).
HttpResponse Http(int port, const std::string& method, const std::string& target,
                  const std::string& body = "", const std::string& cookie = "",
                  const std::string& bearer = "");

// Logs in and returns the session cookie ("parley_session=..."), or "" on failure.
std::string Login(int port, const std::string& login, const std::string& password = kTestPassword);

// An HTTP receiver on 127.0.0.1 (a free port) that answers every request with 200 (or what
// Answer set) and keeps what it got: the stand-in for an integration's webhook endpoint, or for a
// CRM that contact flows look customers up in.
struct ReceivedRequest {
  std::string method;
  std::string target;
  std::string body;
  std::map<std::string, std::string> headers;  // lower-case names
};
class HttpReceiver {
 public:
  HttpReceiver();
  ~HttpReceiver();
  int port() const;
  // Answers later requests with `status` and `body` (Content-Type: application/json when the body
  // is not empty). Until called: 200 with an empty body.
  void Answer(int status, std::string body);
  // Waits until at least `n` requests arrived (or the timeout) and returns what arrived.
  std::vector<ReceivedRequest> WaitFor(
      size_t n, std::chrono::milliseconds timeout = std::chrono::seconds(30));

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// A WebSocket client on /api/v1/events.
class EventsClient {
 public:
  EventsClient(int port, const std::string& target, const std::string& cookie);
  ~EventsClient();
  bool connected() const;
  // The next text message, or nullopt after `timeout`.
  std::optional<std::string> Next(std::chrono::milliseconds timeout = std::chrono::seconds(10));

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace parley::testing
