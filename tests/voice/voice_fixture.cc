#include "tests/voice/voice_fixture.h"

#include <openssl/evp.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

namespace parley::testing {

int FreePort() {
  for (int attempt = 0; attempt < 50; ++attempt) {
    const int u = socket(AF_INET, SOCK_DGRAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    if (bind(u, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
        getsockname(u, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
      close(u);
      continue;
    }
    const int t = socket(AF_INET, SOCK_STREAM, 0);
    const bool tcp_free = bind(t, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
    close(t);
    close(u);
    if (tcp_free) return ntohs(a.sin_port);
  }
  return 0;
}

namespace {

// Waits (bounded, 10 s) until the kernel's socket table `path` (/proc/net/udp, /proc/net/tcp)
// has a socket on local `port`, a listening one (state 0A) when `listening`. Read from the
// kernel's table rather than tried with a bind or a connect of ours, which would hold the port
// the peer is about to bind, or take the one connection a listener accepts.
bool WaitInSocketTable(const char* path, int port, bool listening) {
  char local[32];
  std::snprintf(local, sizeof local, ":%04X", port);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  do {
    std::ifstream table(path);
    for (std::string line; std::getline(table, line);) {
      // "  sl  local_address rem_address   st ...": the local address is the second field.
      std::istringstream fields(line);
      std::string slot, address, remote, state;
      fields >> slot >> address >> remote >> state;
      if (address.ends_with(local) && (!listening || state == "0A")) return true;
    }
    poll(nullptr, 0, 10);  // a short pause between reads of a bounded poll
  } while (std::chrono::steady_clock::now() < deadline);
  return false;
}

}  // namespace

bool WaitUntilUdpBound(int port) { return WaitInSocketTable("/proc/net/udp", port, false); }

bool WaitUntilTcpListening(int port) { return WaitInSocketTable("/proc/net/tcp", port, true); }

std::string ReadText(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

void ReplaceAll(std::string* s, const std::string& from, const std::string& to) {
  for (size_t at = s->find(from); at != std::string::npos; at = s->find(from, at + to.size())) {
    s->replace(at, from.size(), to);
  }
}

std::string SiteWith(const std::string& config, const std::string& placeholder,
                     const std::string& value, const std::string& dir) {
  std::string text = ReadText(config);
  ReplaceAll(&text, placeholder, value);
  const std::string path = dir + "/" + std::filesystem::path(config).filename().string();
  std::ofstream(path) << text;
  return path;
}

std::string Md5Hex(const std::string& text, bool sha256) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  EVP_Digest(text.data(), text.size(), digest, &size, sha256 ? EVP_sha256() : EVP_md5(), nullptr);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned int i = 0; i < size; ++i) {
    out += kHex[digest[i] >> 4];
    out += kHex[digest[i] & 15];
  }
  return out;
}

std::string RegisterAlice(int sip_port, const std::string& contact, bool sha256,
                          const std::string& password) {
  return RegisterUser(sip_port, "alice", contact, sha256, password);
}

std::string RegisterUser(int sip_port, const std::string& login, const std::string& contact,
                         bool sha256, const std::string& password) {
  UdpPeer peer;
  const auto request = [&](int cseq, const std::string& authorization) {
    return "REGISTER sip:127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:" +
           std::to_string(peer.port()) + ";branch=z9hG4bK-reg" + std::to_string(cseq) +
           "\r\nFrom: <sip:" + login + "@127.0.0.1>;tag=r1\r\nTo: <sip:" + login +
           "@127.0.0.1>\r\nCall-ID: reg-" + login + "-" + std::to_string(peer.port()) +
           "\r\nCSeq: " + std::to_string(cseq) + " REGISTER\r\nContact: <" + contact +
           ">\r\nExpires: 300\r\nMax-Forwards: 70\r\n" + authorization +
           "Content-Length: 0\r\n\r\n";
  };
  peer.Send(sip_port, request(1, ""));
  std::string challenge;
  if (peer.FinalResponse(std::chrono::seconds(5), &challenge) != "SIP/2.0 401 Unauthorized") {
    return "no challenge";
  }
  const std::string authorization =
      DigestAuthorization(challenge, login, "REGISTER", "sip:127.0.0.1", password, sha256);
  if (authorization.empty())
    return std::string("no ") + (sha256 ? "SHA-256" : "MD5") + " challenge";
  peer.Send(sip_port, request(2, authorization));
  return peer.FinalResponse();
}

std::string DigestAuthorization(const std::string& challenge, const std::string& login,
                                const std::string& method, const std::string& uri,
                                const std::string& password, bool sha256) {
  const std::string algorithm = sha256 ? "SHA-256" : "MD5";
  const size_t named = challenge.find("algorithm=" + algorithm);
  const size_t at = challenge.rfind("nonce=\"", named);
  if (named == std::string::npos || at == std::string::npos) return "";
  const std::string nonce = challenge.substr(at + 7, challenge.find('"', at + 7) - at - 7);
  const std::string ha1 = Md5Hex(login + ":parley.test:" + password, sha256);
  const std::string ha2 = Md5Hex(method + ":" + uri, sha256);
  const std::string response = Md5Hex(ha1 + ":" + nonce + ":00000001:c0ffee:auth:" + ha2, sha256);
  return "Authorization: Digest username=\"" + login + "\", realm=\"parley.test\", nonce=\"" +
         nonce + "\", uri=\"" + uri + "\", response=\"" + response + "\", algorithm=" + algorithm +
         ", qop=auth, nc=00000001, cnonce=\"c0ffee\"\r\n";
}

bool WaitForEvent(EventsClient& events, const std::string& type, const std::string& text) {
  return !EventMessage(events, type, text).empty();
}

std::string EventMessage(EventsClient& events, const std::string& type, const std::string& text) {
  while (auto message = events.Next(std::chrono::seconds(20))) {
    if (message->find("\"type\":\"" + type + "\"") != std::string::npos &&
        message->find(text) != std::string::npos) {
      return *message;
    }
  }
  return "";
}

std::string HeaderOf(const std::string& message, const std::string& name) {
  const size_t at = message.find("\r\n" + name + ":");
  if (at == std::string::npos) return "";
  const size_t start = message.find_first_not_of(' ', at + name.size() + 3);
  return message.substr(start, message.find("\r\n", start) - start);
}

std::string AliceAvailableOnPhone(VoiceServer& server, int phone_port, const std::string& cookie) {
  const std::string registered =
      RegisterAlice(server.sip_port(), "sip:alice@127.0.0.1:" + std::to_string(phone_port));
  if (registered != "SIP/2.0 200 OK") return "REGISTER: " + registered;
  auto presence = Http(server.process().port(), "PUT", "/api/v1/agents/alice/presence",
                       R"({"presence":"available"})", cookie);
  if (presence.status != 200) return "presence: " + presence.body;
  return "";
}

std::string FirstContactExported(const std::string& data_dir, const std::string& column) {
  auto exported = RunProgram(PARLEY_BINARY, {"export", "contacts", "--data", data_dir},
                             std::chrono::seconds(30));
  if (exported.exit_code != 0) {
    ADD_FAILURE() << exported.err;
    return "";
  }
  // CSV without quoted commas in these columns: the header line, then one line per contact.
  const auto cells = [](const std::string& line) {
    std::vector<std::string> out;
    std::stringstream in(line);
    for (std::string cell; std::getline(in, cell, ',');) out.push_back(cell);
    return out;
  };
  std::stringstream lines(exported.out);
  std::string header, row;
  std::getline(lines, header);
  std::getline(lines, row);
  if (!header.empty() && header.back() == '\r') header.pop_back();
  if (!row.empty() && row.back() == '\r') row.pop_back();
  const auto names = cells(header);
  const auto values = cells(row);
  for (size_t i = 0; i < names.size() && i < values.size(); ++i) {
    if (names[i] == column) return values[i];
  }
  return "";
}

std::string AgentSettled(int http_port, const std::string& cookie, const std::string& agent) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  do {
    auto a = nlohmann::json::parse(
        Http(http_port, "GET", "/api/v1/agents/" + agent, "", cookie).body, nullptr, false);
    if (a.is_discarded()) continue;
    std::string states;
    bool busy = false;
    for (const auto& c : a["contacts"]) {
      const std::string s = c["state"].get<std::string>();
      busy = busy || s == "handling" || s == "offered";
      states += " " + s;
    }
    if (!busy) return a["presence"].get<std::string>() + states;
  } while (std::chrono::steady_clock::now() < deadline);
  return "";
}

}  // namespace parley::testing
