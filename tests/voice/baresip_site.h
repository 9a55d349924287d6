// What the baresip end-to-end tests (tests/voice/baresip_*_test.cc) share: a real `parley serve
// --sip` on a site file with an admin session and its event stream kept as it is read (so a
// test looks for events in any order), JSON reads over the API and its times, the parties'
// voices and microphones for the baresip peers. Header-only; one test thread owns a site; every
// wait has a bounded deadline.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <cstddef>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "tests/voice/audio_check.h"
#include "tests/voice/voice_fixture.h"

namespace parley::testing {

inline constexpr const char* kCallerNumber = "+447700900123";

// The voices: each party plays a 0.2 s burst of seeded noise of its own, repeated (every 0.5 s
// unless a test says otherwise), and a queue's music is another; bursts of different seeds do not
// correlate with one another.
inline constexpr size_t kBurst = kTestRate / 5;
inline constexpr size_t kPeriod = kTestRate / 2;
inline const Audio kCallerBurst = NoiseBurst(101, kBurst);
inline const Audio kAgentBurst = NoiseBurst(202, kBurst);
inline const Audio kMusicBurst = NoiseBurst(303, kBurst, 6000);

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

inline std::string OfContact(const std::string& id) { return "\"contact\":\"" + id + "\""; }

inline nlohmann::json GetJson(int port, const std::string& target, const std::string& cookie) {
  const auto r = Http(port, "GET", target, "", cookie);
  EXPECT_EQ(r.status, 200) << target << ": " << r.body;
  return nlohmann::json::parse(r.body, nullptr, false);
}

// A server on the site file `config` where every one of `sip_users` has the SIP password
// kSipPassword, an admin session and its event stream.
class BaresipSite {
 public:
  explicit BaresipSite(const std::string& config,
                       const std::vector<std::string>& sip_users = {"alice"})
      : server(config, sip_users) {
    if (!server.started()) return;
    cookie = Login(server.process().port(), "admin");
    events = std::make_unique<EventsClient>(server.process().port(), "/api/v1/events", cookie);
    log = std::make_unique<EventLog>(*events);
  }
  bool ready() const {
    return server.started() && !cookie.empty() && events && events->connected();
  }
  int http() { return server.process().port(); }
  // The address of entry point `number` at the server.
  std::string entry(const std::string& number) const {
    return "sip:" + number + "@127.0.0.1:" + std::to_string(server.sip_port());
  }

  VoiceServer server;
  std::string cookie;
  std::unique_ptr<EventsClient> events;
  std::unique_ptr<EventLog> log;
};

// A microphone for a baresip peer: `burst` at the start of every `period` samples for a minute
// (the tests hang up long before the file ends), written into `dir`; its path.
inline std::string Microphone(const TempDir& dir, const std::string& name, const Audio& burst,
                              size_t period = kTestRate / 2) {
  const std::string path = dir.path() + "/" + name + ".wav";
  EXPECT_EQ(WriteWav(path, Repeated(burst, period, 60 * kTestRate)), "");
  return path;
}

// The recording `id`'s audio, fetched through the API into `dir`.
inline WavAudio RecordingAudio(BaresipSite& site, const TempDir& dir, const std::string& id) {
  auto file = Http(site.http(), "GET", "/api/v1/recordings/" + id + "/audio", "", site.cookie);
  EXPECT_EQ(file.status, 200) << file.body;
  const std::string path = dir.path() + "/recording-" + id + ".wav";
  std::ofstream(path, std::ios::binary) << file.body;
  return ReadWav(path);
}

}  // namespace parley::testing
