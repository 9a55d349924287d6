#include "tests/server/server_process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>
#include <thread>
#include <utility>  // before Asio (platform-facts.md)

namespace parley::testing {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;

namespace {

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// fork + exec of the parley binary with stdout on a pipe and stderr in `err_file`.
// Starts `binary ARGS...` (default: the parley binary) with stdout on a pipe, stderr in
// `err_file` ("" = the same pipe as stdout), and stdin from `in_file` ("" = /dev/null).
pid_t Spawn(const std::vector<std::string>& args, int* out_fd, const std::string& err_file,
            std::string binary = PARLEY_BINARY, const std::string& in_file = "") {
  // Close-on-exec: tests start programs from several threads at once (a caller and a phone),
  // and a child forked by another thread must not hold this pipe open, or its reader sees EOF
  // only when that other program exits (a phone's sipp "ran" until the caller's call ended).
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) return -1;
  // Room for the log lines a test reads only at the end (the default 64 KiB could block the
  // server between two reads).
  fcntl(fds[0], F_SETPIPE_SZ, 1 << 20);
  const pid_t pid = fork();
  if (pid == 0) {
    dup2(fds[1], STDOUT_FILENO);
    const int err =
        err_file.empty() ? fds[1] : open(err_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (err >= 0) dup2(err, STDERR_FILENO);
    const int in = open(in_file.empty() ? "/dev/null" : in_file.c_str(), O_RDONLY);
    if (in >= 0) dup2(in, STDIN_FILENO);
    // Nothing else of the test's either (this pipe, other tests' pipes, Asio's sockets, which are
    // not close-on-exec): a sipp holding a test's event stream kept the server's shutdown waiting
    // its 5 s grace for a WebSocket whose client had gone.
    close_range(STDERR_FILENO + 1, ~0U, 0);
    std::vector<char*> argv;
    argv.push_back(binary.data());
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    execvp(binary.c_str(), argv.data());
    _exit(127);
  }
  close(fds[1]);
  *out_fd = fds[0];
  return pid;
}

enum class ReadResult { kData, kEof, kTimeout };

// Reads what is available on `fd` into `out`, waiting at most `timeout` for it.
ReadResult ReadSome(int fd, std::string* out, std::chrono::milliseconds timeout) {
  pollfd p{fd, POLLIN, 0};
  const int r = poll(&p, 1, static_cast<int>(std::max<int64_t>(timeout.count(), 0)));
  if (r == 0) return ReadResult::kTimeout;
  if (r < 0) return ReadResult::kEof;
  char buf[4096];
  const ssize_t n = read(fd, buf, sizeof buf);
  if (n <= 0) return ReadResult::kEof;
  out->append(buf, static_cast<size_t>(n));
  return ReadResult::kData;
}

// Reads `fd` until the child closes it (it exits) or `timeout`; then reaps the child. Returns
// its exit code, -1 when a signal ended it, -2 on timeout (the child is left running).
int ReadUntilExit(pid_t pid, int fd, std::string* out, std::chrono::milliseconds timeout,
                  int* signal_out) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return -2;
    const ReadResult r = ReadSome(fd, out, left);
    if (r == ReadResult::kEof) break;
    if (r == ReadResult::kTimeout) return -2;
  }
  int status = 0;
  waitpid(pid, &status, 0);
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (signal_out != nullptr && WIFSIGNALED(status)) *signal_out = WTERMSIG(status);
  return -1;
}

}  // namespace

TempDir::TempDir() {
  std::string tmpl = (std::filesystem::temp_directory_path() / "parley_e2e_XXXXXX").string();
  path_ = mkdtemp(tmpl.data());
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

ProcessResult RunParley(const std::vector<std::string>& args, std::chrono::seconds timeout) {
  return RunProgram(PARLEY_BINARY, args, timeout);
}

ProcessResult RunProgram(const std::string& program, const std::vector<std::string>& args,
                         std::chrono::seconds timeout, const std::string& input) {
  TempDir tmp;
  const std::string err_file = tmp.path() + "/stderr";
  const std::string in_file = tmp.path() + "/stdin";
  std::ofstream(in_file) << input;
  int out_fd = -1;
  const pid_t pid = Spawn(args, &out_fd, err_file, program, in_file);
  ProcessResult result;
  result.exit_code = ReadUntilExit(pid, out_fd, &result.out, timeout, &result.signal);
  if (result.exit_code == -2) {
    kill(pid, SIGKILL);
    waitpid(pid, nullptr, 0);
    result.exit_code = -1;
    result.err = "(timed out)\n";
  }
  close(out_fd);
  result.err += ReadFile(err_file);
  return result;
}

ServerProcess::ServerProcess(const std::string& data_dir, std::vector<std::string> extra)
    : data_dir_(data_dir) {
  std::vector<std::string> args = {"serve",
                                   "--http",
                                   "127.0.0.1:0",
                                   "--data",
                                   data_dir,
                                   "--weak-password-hashing",
                                   "--initial-password",
                                   kTestPassword};
  for (auto& e : extra) args.push_back(std::move(e));
  // stderr (the log) shares stdout's pipe: tests wait for log lines as for the banner's.
  pid_ = Spawn(args, &out_fd_, "");
  if (pid_ < 0 || !WaitForOutput("listening on http")) return;
  const auto at = out_.find("listening on http://127.0.0.1:");
  port_ = std::atoi(out_.c_str() + at + std::strlen("listening on http://127.0.0.1:"));
}

ServerProcess::~ServerProcess() {
  if (pid_ > 0) Kill();
}

bool ServerProcess::WaitForOutput(const std::string& text, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  size_t scanned = 0;
  while (out_.find(text, scanned) == std::string::npos) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    if (ReadSome(out_fd_, &out_, left) != ReadResult::kData) return false;
  }
  return true;
}

int ServerProcess::Terminate(std::chrono::seconds timeout) {
  if (pid_ <= 0) return -1;
  kill(pid_, SIGTERM);
  const int code = ReadUntilExit(pid_, out_fd_, &out_, timeout, nullptr);
  if (code == -2) {
    Kill();
    return -1;
  }
  close(out_fd_);
  pid_ = -1;
  return code;
}

void ServerProcess::Kill() {
  if (pid_ <= 0) return;
  kill(pid_, SIGKILL);
  waitpid(pid_, nullptr, 0);
  close(out_fd_);
  pid_ = -1;
}

HttpResponse Http(int port, const std::string& method, const std::string& target,
                  const std::string& body, const std::string& cookie, const std::string& bearer) {
  HttpResponse out;
  asio::io_context ioc;
  beast::tcp_stream stream(ioc);
  http::request<http::string_body> req{http::string_to_verb(method), target, 11};
  req.set(http::field::host, "127.0.0.1");
  if (!cookie.empty()) req.set(http::field::cookie, cookie);
  if (!bearer.empty()) req.set(http::field::authorization, "Bearer " + bearer);
  if (!body.empty()) {
    req.set(http::field::content_type, "application/json");
    req.body() = body;
  }
  req.prepare_payload();
  beast::flat_buffer buffer;
  http::response<http::string_body> res;
  stream.expires_after(std::chrono::seconds(20));
  stream.async_connect(
      tcp::endpoint(asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(port)),
      [&](beast::error_code ec) {
        if (ec) return;
        // A server may answer (413, 431) and close before the whole
        // request is written: read its answer even when the write failed.
        http::async_write(stream, req, [&](beast::error_code, size_t) {
          http::async_read(stream, buffer, res, [&](beast::error_code ec3, size_t) {
            if (ec3) return;
            out.status = res.result_int();
          });
        });
      });
  ioc.run();
  if (out.status == 0) return out;
  out.body = res.body();
  for (const auto& f : res) {
    std::string name(f.name_string());
    for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    auto& slot = out.headers[name];
    if (!slot.empty()) slot += "\n";
    slot += std::string(f.value());
  }
  return out;
}

std::string Login(int port, const std::string& login, const std::string& password) {
  const auto r = Http(port, "POST", "/api/v1/auth/login",
                      R"({"login":")" + login + R"(","password":")" + password + R"("})");
  if (r.status != 200) return "";
  auto it = r.headers.find("set-cookie");
  if (it == r.headers.end()) return "";
  return it->second.substr(0, it->second.find(';'));
}

struct HttpReceiver::Impl {
  asio::io_context ioc;
  tcp::acceptor acceptor{ioc, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)};
  std::mutex mu;
  std::condition_variable cv;
  std::vector<ReceivedRequest> received;  // GUARDED_BY(mu)
  int status = 200;                       // GUARDED_BY(mu)
  std::string body;                       // GUARDED_BY(mu)
  std::thread thread;

  void Accept() {
    acceptor.async_accept([this](beast::error_code ec, tcp::socket socket) {
      if (ec) return;
      auto stream = std::make_shared<beast::tcp_stream>(std::move(socket));
      Serve(stream);
      Accept();
    });
  }
  void Serve(std::shared_ptr<beast::tcp_stream> stream) {
    auto buffer = std::make_shared<beast::flat_buffer>();
    auto req = std::make_shared<http::request<http::string_body>>();
    http::async_read(
        *stream, *buffer, *req, [this, stream, buffer, req](beast::error_code ec, size_t) {
          if (ec) return;
          ReceivedRequest r;
          r.method = std::string(req->method_string());
          r.target = std::string(req->target());
          r.body = req->body();
          for (const auto& f : *req) {
            std::string name(f.name_string());
            for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
            r.headers[name] = std::string(f.value());
          }
          auto res = std::make_shared<http::response<http::string_body>>(http::status::ok, 11);
          {
            std::lock_guard lock(mu);
            received.push_back(std::move(r));
            res->result(static_cast<unsigned>(status));
            res->body() = body;
          }
          cv.notify_all();
          if (!res->body().empty()) res->set(http::field::content_type, "application/json");
          res->keep_alive(req->keep_alive());
          res->prepare_payload();
          http::async_write(
              *stream, *res,
              [this, stream, res, keep = req->keep_alive()](beast::error_code ec2, size_t) {
                if (!ec2 && keep) Serve(stream);
              });
        });
  }
};

HttpReceiver::HttpReceiver() : impl_(std::make_unique<Impl>()) {
  impl_->Accept();
  impl_->thread = std::thread([this] { impl_->ioc.run(); });
}

HttpReceiver::~HttpReceiver() {
  impl_->ioc.stop();
  impl_->thread.join();
}

int HttpReceiver::port() const { return impl_->acceptor.local_endpoint().port(); }

void HttpReceiver::Answer(int status, std::string body) {
  std::lock_guard lock(impl_->mu);
  impl_->status = status;
  impl_->body = std::move(body);
}

std::vector<ReceivedRequest> HttpReceiver::WaitFor(size_t n, std::chrono::milliseconds timeout) {
  std::unique_lock lock(impl_->mu);
  impl_->cv.wait_for(lock, timeout, [&] { return impl_->received.size() >= n; });
  return impl_->received;
}

struct EventsClient::Impl {
  asio::io_context ioc;
  websocket::stream<beast::tcp_stream> ws{ioc};
  bool ok = false;
};

EventsClient::EventsClient(int port, const std::string& target, const std::string& cookie)
    : impl_(std::make_unique<Impl>()) {
  beast::error_code ec;
  beast::get_lowest_layer(impl_->ws).expires_after(std::chrono::seconds(20));
  beast::get_lowest_layer(impl_->ws).connect(
      tcp::endpoint(asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(port)), ec);
  if (ec) return;
  impl_->ws.set_option(websocket::stream_base::decorator([cookie](websocket::request_type& req) {
    if (!cookie.empty()) req.set(http::field::cookie, cookie);
  }));
  impl_->ws.handshake("127.0.0.1", target, ec);
  impl_->ok = !ec;
}

EventsClient::~EventsClient() = default;

bool EventsClient::connected() const { return impl_->ok; }

std::optional<std::string> EventsClient::Next(std::chrono::milliseconds timeout) {
  if (!impl_->ok) return std::nullopt;
  beast::flat_buffer buffer;
  bool done = false;
  beast::error_code result;
  beast::get_lowest_layer(impl_->ws).expires_never();
  impl_->ws.async_read(buffer, [&](beast::error_code ec, size_t) {
    result = ec;
    done = true;
  });
  impl_->ioc.restart();
  impl_->ioc.run_for(timeout);
  if (!done) {
    beast::get_lowest_layer(impl_->ws).socket().cancel();
    impl_->ioc.restart();
    impl_->ioc.run();
    impl_->ok = false;  // a cancelled read leaves the stream unusable
    return std::nullopt;
  }
  if (result) {
    impl_->ok = false;
    return std::nullopt;
  }
  return beast::buffers_to_string(buffer.data());
}

}  // namespace parley::testing
