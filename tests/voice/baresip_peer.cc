#include "tests/voice/baresip_peer.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <vector>

#include "tests/voice/voice_fixture.h"

extern char** environ;

namespace parley::testing {
namespace {

constexpr int kLongestRunSeconds = 120;  // baresip's own -t: no stray process outlives a test

// Waits a moment between two looks at a condition that has no event to wait on (a socket that
// is not listening yet, a file that grows).
void Pause(std::chrono::milliseconds ms) { poll(nullptr, 0, static_cast<int>(ms.count())); }

int ConnectLoopback(int port) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(static_cast<uint16_t>(port));
  if (connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

// Where Debian's baresip-core installs its modules (the default module_path is ".").
std::string ModuleDirectory() {
  for (const char* dir :
       {"/usr/lib/baresip/modules", "/usr/lib/x86_64-linux-gnu/baresip/modules",
        "/usr/lib/aarch64-linux-gnu/baresip/modules", "/usr/local/lib/baresip/modules"}) {
    if (std::filesystem::exists(std::string(dir) + "/ctrl_tcp.so")) return dir;
  }
  return "";
}

// A free port P (UDP and TCP) whose neighbour P + 1 is free for TCP as well.
int FreePortPair() {
  for (int attempt = 0; attempt < 50; ++attempt) {
    const int port = FreePort();
    if (port <= 0 || port >= 65535) continue;
    const int t = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(static_cast<uint16_t>(port + 1));
    const bool next_free = bind(t, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
    close(t);
    if (next_free) return port;
  }
  return FreePort();
}

}  // namespace

BaresipPeer::BaresipPeer(Options options) : options_(std::move(options)) {
  const std::string modules = ModuleDirectory();
  if (modules.empty()) {
    error_ =
        "baresip's modules (ctrl_tcp.so, ...) were not found: install them with "
        "scripts/install-deps.sh (Debian package baresip-core)";
    return;
  }
  // baresip binds its SIP/TLS transport on the SIP port + 1 and has no setting to leave it out
  // (baresip 1.0.0), so a port another process took between our look and its bind fails the
  // start; it is retried on fresh ports.
  for (int attempt = 0; attempt < 5; ++attempt) {
    if (attempt > 0) Stop();
    error_.clear();
    if (Start(modules) || error_.find("Address already in use") == std::string::npos) return;
  }
}

bool BaresipPeer::Start(const std::string& modules) {
  sip_port_ = FreePortPair();
  control_port_ = FreePort();
  const int rtp_first = FreePort() & ~1;
  const std::string snd = dir_.path() + "/snd";
  std::filesystem::create_directories(snd);
  // Keys as measured in /work/shared/notes/platform-facts.md ("Real SIP peers for tests").
  std::ofstream(dir_.path() + "/config")
      << "poll_method epoll\n"
      << "sip_listen 127.0.0.1:" << sip_port_ << "\n"
      << "net_interface 127.0.0.1\n"
      << "audio_source aufile," << options_.microphone << "\n"
      << "audio_player aufile,/dev/null\n"
      << "audio_alert aufile,/dev/null\n"
      << "ausrc_srate 8000\nausrc_channels 1\n"
      << "rtp_ports " << rtp_first << "-" << std::min(rtp_first + 19, 65535) << "\n"
      << "module_path " << modules << "\n"
      << "module g711.so\nmodule aufile.so\nmodule sndfile.so\n"
      << "module_app account.so\nmodule_app menu.so\n"
      << "module ctrl_tcp.so\nctrl_tcp_listen 127.0.0.1:" << control_port_ << "\n"
      << "snd_path " << snd << "\n";
  std::ofstream(dir_.path() + "/accounts")
      << "<" << contact() << ">;regint=0;audio_codecs=PCMU"
      << (options_.auto_answer ? ";answermode=auto" : ";answermode=manual") << "\n";

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, (dir_.path() + "/baresip.log").c_str(),
                                   O_WRONLY | O_CREAT | O_TRUNC, 0600);
  posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
  // Nothing else of the test's: Asio's sockets are not close-on-exec, and a baresip holding the
  // test's event stream kept the server's shutdown waiting out its 5 s grace for it.
  posix_spawn_file_actions_addclosefrom_np(&actions, STDERR_FILENO + 1);
  std::vector<std::string> args = {"baresip", "-f", dir_.path(), "-t",
                                   std::to_string(kLongestRunSeconds)};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  const int spawned = posix_spawnp(&pid_, "baresip", &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (spawned != 0) {
    pid_ = -1;
    error_ = "cannot start baresip (" + std::string(std::strerror(spawned)) +
             "): install it with scripts/install-deps.sh (Debian package baresip-core)";
    return false;
  }
  // Ready when its control socket accepts a connection.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (std::chrono::steady_clock::now() < deadline) {
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      error_ = "baresip exited at start:\n" + log();
      return false;
    }
    control_fd_ = ConnectLoopback(control_port_);
    if (control_fd_ >= 0) return true;
    Pause(std::chrono::milliseconds(20));
  }
  error_ = "baresip's ctrl_tcp did not listen within 10 s:\n" + log();
  return false;
}

BaresipPeer::~BaresipPeer() { Stop(); }

std::string BaresipPeer::contact() const {
  return "sip:" + options_.user + "@127.0.0.1:" + std::to_string(sip_port_);
}

std::string BaresipPeer::Dial(const std::string& uri) { return Command("dial", uri); }
std::string BaresipPeer::SendDigits(const std::string& digits) {
  return Command("sndcode", digits);
}
std::string BaresipPeer::HangUp() { return Command("hangup", ""); }

std::string BaresipPeer::Command(const std::string& command, const std::string& params) {
  if (control_fd_ < 0) return "baresip is not running: " + error_;
  const std::string token = std::to_string(next_token_++);
  const std::string body =
      nlohmann::json{{"command", command}, {"params", params}, {"token", token}}.dump();
  const std::string message = std::to_string(body.size()) + ":" + body + ",";
  if (send(control_fd_, message.data(), message.size(), MSG_NOSIGNAL) !=
      static_cast<ssize_t>(message.size())) {
    return "cannot send '" + command + "' to baresip";
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (true) {
    for (auto it = inbox_.begin(); it != inbox_.end(); ++it) {
      if (it->value("response", false) && it->value("token", "") == token) {
        const bool ok = it->value("ok", false);
        const std::string data = it->value("data", "");
        inbox_.erase(it);
        return ok ? "" : "baresip refused '" + command + " " + params + "': " + data;
      }
    }
    if (!ReadMessage(deadline)) return "no answer from baresip to '" + command + "'";
  }
}

bool BaresipPeer::ReadMessage(std::chrono::steady_clock::time_point deadline) {
  while (true) {
    // Netstrings: LENGTH ":" JSON ",".
    const size_t colon = buffer_.find(':');
    if (colon != std::string::npos) {
      const size_t length = std::strtoul(buffer_.c_str(), nullptr, 10);
      if (buffer_.size() >= colon + 1 + length + 1) {
        auto message = nlohmann::json::parse(buffer_.substr(colon + 1, length), nullptr, false);
        buffer_.erase(0, colon + 1 + length + 1);
        if (!message.is_discarded()) {
          inbox_.push_back(std::move(message));
          return true;
        }
        continue;
      }
    }
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    pollfd p{control_fd_, POLLIN, 0};
    if (poll(&p, 1, static_cast<int>(left.count())) <= 0) return false;
    char chunk[4096];
    const ssize_t n = recv(control_fd_, chunk, sizeof chunk, 0);
    if (n <= 0) return false;
    buffer_.append(chunk, static_cast<size_t>(n));
  }
}

std::optional<nlohmann::json> BaresipPeer::WaitForEvent(const std::string& type,
                                                        std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  size_t seen = 0;  // inbox_ entries already looked at
  while (true) {
    for (; seen < inbox_.size(); ++seen) {
      const auto& m = inbox_[seen];
      if (m.value("event", false) && m.value("type", "") == type) {
        nlohmann::json found = m;
        inbox_.erase(inbox_.begin() + static_cast<std::ptrdiff_t>(seen));
        return found;
      }
    }
    if (control_fd_ < 0 || !ReadMessage(deadline)) return std::nullopt;
  }
}

std::string BaresipPeer::LatestSnd(const std::string& suffix) const {
  std::string latest;  // sndfile names files dump-YYYY-MM-DD-hh-mm-ss-{enc,dec}.wav
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(dir_.path() + "/snd", ec)) {
    const std::string name = entry.path().string();
    if (name.size() > suffix.size() &&
        name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0) {
      latest = std::max(latest, name);
    }
  }
  return latest;
}

WavAudio BaresipPeer::Received() const {
  const std::string path = LatestSnd("-dec.wav");
  if (path.empty()) return WavAudio{.error = "baresip received no audio (no sndfile -dec.wav)"};
  return ReadWav(path);
}

WavAudio BaresipPeer::Sent() const {
  const std::string path = LatestSnd("-enc.wav");
  if (path.empty()) return WavAudio{.error = "baresip sent no audio (no sndfile -enc.wav)"};
  return ReadWav(path);
}

std::optional<Match> BaresipPeer::WaitToHear(const Audio& reference,
                                             std::chrono::milliseconds timeout, double threshold) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    const WavAudio heard = Received();
    if (heard.error.empty() && !heard.channels.empty()) {
      const Match m = FindSignal(heard.channels[0], reference);
      if (m.peak >= threshold) return m;
    }
    if (std::chrono::steady_clock::now() >= deadline) return std::nullopt;
    Pause(std::chrono::milliseconds(200));
  }
}

bool BaresipPeer::WaitToHaveSent(double seconds, std::chrono::milliseconds timeout) const {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (Sent().seconds() < seconds) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    Pause(std::chrono::milliseconds(200));
  }
  return true;
}

int BaresipPeer::Stop() {
  if (control_fd_ >= 0) {
    close(control_fd_);
    control_fd_ = -1;
  }
  if (pid_ <= 0) return 0;
  kill(pid_, SIGTERM);
  int status = 0;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  pid_t done = 0;
  while ((done = waitpid(pid_, &status, WNOHANG)) == 0 &&
         std::chrono::steady_clock::now() < deadline) {
    Pause(std::chrono::milliseconds(20));
  }
  if (done == 0) {
    kill(pid_, SIGKILL);
    waitpid(pid_, &status, 0);
  }
  pid_ = -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

std::string BaresipPeer::log() const { return ReadText(dir_.path() + "/baresip.log"); }

std::string BaresipPeer::Hold() { return Command("hold", ""); }
std::string BaresipPeer::Resume() { return Command("resume", ""); }
std::string BaresipPeer::Transfer(const std::string& uri) { return Command("transfer", uri); }

size_t BaresipPeer::ReceivedSamples() const {
  const WavAudio heard = Received();
  return heard.error.empty() && !heard.channels.empty() ? heard.channels[0].size() : 0;
}

bool BaresipPeer::WaitToReceive(size_t samples, std::chrono::milliseconds timeout) const {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (ReceivedSamples() < samples) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    Pause(std::chrono::milliseconds(100));
  }
  return true;
}

std::optional<Match> BaresipPeer::WaitToHearAfter(const Audio& reference, size_t from,
                                                  std::chrono::milliseconds timeout,
                                                  double threshold) const {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    const WavAudio heard = Received();
    if (heard.error.empty() && !heard.channels.empty() && heard.channels[0].size() > from) {
      const Audio after(heard.channels[0].begin() + static_cast<std::ptrdiff_t>(from),
                        heard.channels[0].end());
      const Match m = FindSignal(after, reference);
      if (m.peak >= threshold) return m;
    }
    if (std::chrono::steady_clock::now() >= deadline) return std::nullopt;
    Pause(std::chrono::milliseconds(200));
  }
}

}  // namespace parley::testing
