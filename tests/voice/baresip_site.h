// What the baresip end-to-end tests share (tests/voice/baresip_*_e2e_test.cc): the test's audio
// signals, a server on a baresip test site with its music in place, an admin session and its
// event stream kept as read, and the phones' microphones. One test thread owns a Site; every wait
// has a bounded deadline.
#pragma once

#include <gtest/gtest.h>

#include <cstdio>
#include <ctime>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "tests/voice/audio_check.h"
#include "tests/voice/voice_fixture.h"

namespace parley::testing {

inline constexpr const char* kCallerNumber = "+447700900123";

// The signals: each side plays a 0.2 s noise burst of its own seed every 0.5 s, and the queue's
// music is a third one; they do not correlate with one another.
inline constexpr size_t kBurst = kTestRate / 5;
inline constexpr size_t kPeriod = kTestRate / 2;
inline const Audio kCallerBurst = NoiseBurst(101, kBurst);
inline const Audio kAgentBurst = NoiseBurst(202, kBurst);
inline const Audio kMusicBurst = NoiseBurst(303, kBurst, 6000);

// Seconds since the epoch of an API time ("2026-12-03T03:17:01.811Z", any number of decimals).
inline double ParseUtc(const std::string& text) {
  std::tm tm{};
  double seconds = 0;
  if (std::sscanf(text.c_str(), "%d-%d-%dT%d:%d:%lfZ", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
                  &tm.tm_hour, &tm.tm_min, &seconds) != 6) {
    ADD_FAILURE() << "not a UTC time: '" << text << "'";
    return 0;
  }
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  return static_cast<double>(timegm(&tm)) + seconds;
}

// The event stream kept as it is read, so a test can look for events in any order.
class EventLog {
 public:
  explicit EventLog(EventsClient& client) : client_(client) {}
  // The first event of `type` whose text contains every one of `texts`, or nullopt when none
  // came within 20 s of the last event.
  std::optional<nlohmann::json> Find(const std::string& type,
                                     const std::vector<std::string>& texts = {}) {
    for (size_t i = 0;; ++i) {
      if (i == seen_.size()) {
        auto next = client_.Next(std::chrono::seconds(20));
        if (!next) return std::nullopt;
        seen_.push_back(*next);
      }
      if (Matches(seen_[i], type, texts)) return nlohmann::json::parse(seen_[i]);
    }
  }
  // How many events read so far are of `type` and contain every one of `texts`.
  size_t Count(const std::string& type, const std::vector<std::string>& texts = {}) const {
    size_t n = 0;
    for (const auto& e : seen_) n += Matches(e, type, texts) ? 1 : 0;
    return n;
  }

 private:
  static bool Matches(const std::string& e, const std::string& type,
                      const std::vector<std::string>& texts) {
    if (e.find("\"type\":\"" + type + "\"") == std::string::npos) return false;
    for (const auto& t : texts) {
      if (e.find(t) == std::string::npos) return false;
    }
    return true;
  }
  EventsClient& client_;
  std::vector<std::string> seen_;
};

inline std::string OfContact(const std::string& id) { return "\"contact\":\"" + id + "\""; }

inline nlohmann::json GetJson(int port, const std::string& target, const std::string& cookie) {
  const auto r = Http(port, "GET", target, "", cookie);
  EXPECT_EQ(r.status, 200) << target << ": " << r.body;
  return nlohmann::json::parse(r.body, nullptr, false);
}

// A server on `config` (tests/data/voice_baresip.yaml unless told) where every one of
// `sip_users` has a SIP password, with the queue's music in place, an admin session and its
// event stream.
struct Site {
  explicit Site(const std::string& config = kData + "/voice_baresip.yaml",
                const std::vector<std::string>& sip_users = {"alice"})
      : server(config, sip_users) {
    std::filesystem::create_directories(server.data_dir() + "/prompts");
    EXPECT_EQ(WriteWav(server.data_dir() + "/prompts/music.wav",
                       Repeated(kMusicBurst, kPeriod, 4 * kPeriod)),
              "");
    cookie = Login(server.process().port(), "admin");
    events = std::make_unique<EventsClient>(server.process().port(), "/api/v1/events", cookie);
    log = std::make_unique<EventLog>(*events);
  }
  bool ready() const { return server.started() && !cookie.empty() && events->connected(); }
  // `caller` calls 5001, which queues at once; the id of its queued contact, "" on failure.
  std::string QueuedRawCall(RawCaller& caller) {
    if (caller.Call("5001") != "SIP/2.0 200 OK") return "";
    const auto queued = log->Find("contact.queued", {"\"channel\":\"voice\""});
    return queued ? (*queued)["contact"].get<std::string>() : "";
  }
  int http() { return server.process().port(); }
  std::string entry(const std::string& number) {
    return "sip:" + number + "@127.0.0.1:" + std::to_string(server.sip_port());
  }

  VoiceServer server;
  std::string cookie;
  std::unique_ptr<EventsClient> events;
  std::unique_ptr<EventLog> log;
};

// A microphone for a baresip peer: `burst` every half second for a minute (the test hangs up
// long before the file ends).
inline std::string Microphone(const TempDir& dir, const std::string& name, const Audio& burst) {
  const std::string path = dir.path() + "/" + name + ".wav";
  EXPECT_EQ(WriteWav(path, Repeated(burst, kPeriod, 60 * kTestRate)), "");
  return path;
}

}  // namespace parley::testing
