// MediaEngine over real UDP sockets on 127.0.0.1: test peers are plain sockets that send and
// receive RTP; waits are on events with bounded deadlines.

#include "media/media_engine.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <sndfile.h>
#include <spandsp.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <condition_variable>
#include <filesystem>
#include <future>
#include <memory>
#include <mutex>
#include <numbers>
#include <thread>
#include <utility>

#include "media/codec.h"
#include "media/prompt_source.h"
#include "media/recording_writer.h"
#include "media/rtp.h"

namespace parley::media {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using ports::AudioCodec;
using ports::MediaFormat;

constexpr auto kDeadline = 5s;

// A block of 60 ports per test process, so parallel test runs do not collide: 40 for the
// engine, then 20 for peers that need fixed RTP/RTCP pairs. The blocks lie in 10000-19999, below
// the kernel's ephemeral range (32768 up), from which the other tests' phones and sipp take their
// ports, and below the test servers' media range (20000-29999): a server still sending to a phone
// that has just gone must not reach an engine here that took the port meanwhile.
uint16_t BasePort() { return static_cast<uint16_t>(10000 + (::getpid() % 160) * 60); }

class Peer {
 public:
  explicit Peer(uint16_t port = 0) {
    fd_ = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(port);
    bound_ = ::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0;
    if (port == 0) {
      EXPECT_TRUE(bound_);
    }
    socklen_t len = sizeof(a);
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
  }
  ~Peer() { ::close(fd_); }
  bool bound() const { return bound_; }
  uint16_t port() const { return port_; }
  ports::RtpEndpoint endpoint() const { return {"127.0.0.1", port_}; }

  void SendRaw(uint16_t to, std::span<const uint8_t> data) {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(to);
    ::sendto(fd_, data.data(), data.size(), 0, reinterpret_cast<sockaddr*>(&a), sizeof(a));
  }
  void Send(uint16_t to, uint8_t pt, std::span<const uint8_t> payload, bool marker = false) {
    RtpHeader h{marker, pt, seq_++, ts_, 0x5eed};
    ts_ += pt == 101 ? 0 : static_cast<uint32_t>(payload.size());
    std::array<uint8_t, 1500> buf{};
    SendRaw(to, std::span<const uint8_t>(buf.data(), WriteRtp(h, payload, buf)));
  }
  // A packet with the sequence number and timestamp given (a late or reordered one).
  void SendAt(uint16_t to, uint8_t pt, uint16_t seq, uint32_t ts,
              std::span<const uint8_t> payload) {
    RtpHeader h{false, pt, seq, ts, 0x5eed};
    std::array<uint8_t, 1500> buf{};
    SendRaw(to, std::span<const uint8_t>(buf.data(), WriteRtp(h, payload, buf)));
  }
  void SendEvent(uint16_t to, uint8_t pt, uint32_t ts, const TelephoneEvent& e) {
    RtpHeader h{false, pt, seq_++, ts, 0x5eed};
    std::array<uint8_t, 4> payload{};
    WriteTelephoneEvent(e, payload);
    std::array<uint8_t, 64> buf{};
    SendRaw(to, std::span<const uint8_t>(buf.data(), WriteRtp(h, payload, buf)));
  }
  // The next RTP packet, or nullopt after `timeout`.
  std::optional<std::vector<uint8_t>> Receive(std::chrono::milliseconds timeout = 2000ms) {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(timeout.count())) <= 0) return std::nullopt;
    std::vector<uint8_t> buf(1500);
    const ssize_t n = ::recv(fd_, buf.data(), buf.size(), 0);
    if (n < 0) return std::nullopt;
    buf.resize(static_cast<size_t>(n));
    return buf;
  }

 private:
  int fd_ = -1;
  bool bound_ = false;
  uint16_t port_ = 0;
  uint16_t seq_ = 1000;
  uint32_t ts_ = 50000;
};

// Collects MediaEvents; tests wait on it with a deadline.
struct Events {
  std::mutex mu;
  std::condition_variable cv;
  std::string digits;
  std::vector<uint64_t> finished;
  std::vector<ports::LegId> inactive;
  bool inactive_on_batch = false;  // reported on a SCHED_BATCH thread (base/thread_name.h)
  std::vector<ports::RecordingInfo> recordings;

  ports::MediaEvents Make() {
    ports::MediaEvents e;
    e.on_digit = [this](ports::LegId, char d) { Add([&] { digits.push_back(d); }); };
    e.on_play_finished = [this](ports::LegId, uint64_t id) {
      Add([&] { finished.push_back(id); });
    };
    e.on_inactive = [this](ports::LegId leg) {
      Add([&] {
        inactive.push_back(leg);
        inactive_on_batch = sched_getscheduler(0) == SCHED_BATCH;
      });
    };
    e.on_recording_done = [this](ports::LegId, ports::RecordingInfo info) {
      Add([&] { recordings.push_back(std::move(info)); });
    };
    return e;
  }
  template <typename F>
  void Add(F f) {
    std::lock_guard lock(mu);
    f();
    cv.notify_all();
  }
  template <typename P>
  bool WaitFor(P pred, std::chrono::milliseconds timeout = kDeadline) {
    std::unique_lock lock(mu);
    return cv.wait_for(lock, timeout, pred);
  }
};

std::vector<int16_t> Tone(double hz, int rate, size_t n, double amp = 8000, double phase = 0) {
  std::vector<int16_t> s(n);
  for (size_t i = 0; i < n; ++i) {
    s[i] = static_cast<int16_t>(amp * std::sin(2 * std::numbers::pi * hz * i / rate + phase));
  }
  return s;
}

// Share of the signal's energy at `hz` (1.0 for a pure tone at that frequency).
double ToneShare(std::span<const int16_t> x, double hz, int rate) {
  double c = 0, s = 0, e = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    const double w = 2 * std::numbers::pi * hz * i / rate;
    c += x[i] * std::cos(w);
    s += x[i] * std::sin(w);
    e += static_cast<double>(x[i]) * x[i];
  }
  if (e == 0) return 0;
  return 2 * (c * c + s * s) / (static_cast<double>(x.size()) * e);
}

// Highest normalised cross-correlation of `x` against `ref` over lags 0..max_lag, and its lag.
std::pair<double, size_t> BestMatch(std::span<const int16_t> x, std::span<const int16_t> ref,
                                    size_t max_lag) {
  double best = 0;
  size_t best_lag = 0;
  for (size_t lag = 0; lag <= max_lag && lag + ref.size() <= x.size(); ++lag) {
    double xy = 0, xx = 0, yy = 0;
    for (size_t i = 0; i < ref.size(); ++i) {
      xy += static_cast<double>(x[lag + i]) * ref[i];
      xx += static_cast<double>(x[lag + i]) * x[lag + i];
      yy += static_cast<double>(ref[i]) * ref[i];
    }
    if (xx > 0 && yy > 0 && xy / std::sqrt(xx * yy) > best) {
      best = xy / std::sqrt(xx * yy);
      best_lag = lag;
    }
  }
  return {best, best_lag};
}

double BestCorrelation(std::span<const int16_t> x, std::span<const int16_t> ref, size_t max_lag) {
  return BestMatch(x, ref, max_lag).first;
}

void WriteWav(const fs::path& path, const std::vector<int16_t>& s, int rate) {
  SF_INFO info{};
  info.samplerate = rate;
  info.channels = 1;
  info.format = SF_FORMAT_WAV | SF_FORMAT_PCM_16;
  SNDFILE* f = sf_open(path.c_str(), SFM_WRITE, &info);
  ASSERT_NE(f, nullptr);
  sf_write_short(f, s.data(), static_cast<sf_count_t>(s.size()));
  sf_close(f);
}

class MediaEngineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("parley_media_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_ / "prompts");
    fs::create_directories(dir_ / "moh");
  }
  void TearDown() override {
    engine_.reset();
    fs::remove_all(dir_);
  }
  MediaEngine& Start(MediaConfig config = {}) {
    config.address = "127.0.0.1";
    config.port_min = BasePort();
    config.port_max = static_cast<uint16_t>(BasePort() + 39);
    config.prompt_dir = (dir_ / "prompts").string();
    config.tts_cache_dir = (dir_ / "tts").string();
    config.moh_dir = (dir_ / "moh").string();
    auto e = MediaEngine::Create(config);
    EXPECT_TRUE(e.ok()) << e.status().ToString();
    engine_ = std::move(e).value();
    engine_->SetEvents(events_.Make());
    return *engine_;
  }
  // Opens and connects a leg to `peer`; returns our RTP port.
  uint16_t Connect(ports::LegId leg, Peer& peer, MediaFormat format) {
    auto ep = engine_->OpenLeg(leg);
    EXPECT_TRUE(ep.ok());
    EXPECT_EQ(ep->port % 2, 0);
    EXPECT_TRUE(engine_->ConnectLeg(leg, peer.endpoint(), format).ok());
    return ep->port;
  }
  // Decodes packets from `peer` (skipping other payload types) until `samples` are collected.
  static std::vector<int16_t> Collect(Peer& peer, AudioCodec codec, uint8_t pt, size_t samples) {
    Decoder dec(codec);
    std::vector<int16_t> out, pcm;
    while (out.size() < samples) {
      auto pkt = peer.Receive();
      if (!pkt) break;
      auto p = ParseRtp(*pkt);
      if (!p || p->header.payload_type != pt) continue;
      dec.Decode(p->payload, pcm);
      out.insert(out.end(), pcm.begin(), pcm.end());
    }
    return out;
  }
  // Waits until the engine has taken in `n` packets (accepted or dropped).
  bool WaitReceived(uint64_t n) {
    const auto until = std::chrono::steady_clock::now() + kDeadline;
    while (std::chrono::steady_clock::now() < until) {
      const MediaCounters c = engine_->Counters();
      if (c.packets_received + c.packets_dropped >= n) return true;
      std::this_thread::yield();
    }
    return false;
  }

  fs::path dir_;
  Events events_;
  std::unique_ptr<MediaEngine> engine_;
};

const MediaFormat kPcmu{AudioCodec::kPcmu, 0, 101, 20};
const MediaFormat kPcmuNoDtmf{AudioCodec::kPcmu, 0, -1, 20};
const MediaFormat kG722{AudioCodec::kG722, 9, 101, 20};

TEST_F(MediaEngineTest, ConfigurationIsChecked) {
  MediaConfig bad;
  bad.address = "localhost";
  EXPECT_FALSE(MediaEngine::Create(bad).ok());
  bad.address = "127.0.0.1";
  bad.threads = 0;
  EXPECT_FALSE(MediaEngine::Create(bad).ok());
}

TEST_F(MediaEngineTest, PortRangeIsUsedUpThenFreedOnClose) {
  MediaConfig c;
  Start(c);
  std::vector<uint16_t> ports;
  for (ports::LegId leg = 1; leg <= 20; ++leg) {
    auto ep = engine_->OpenLeg(leg);
    ASSERT_TRUE(ep.ok()) << leg;
    ports.push_back(ep->port);
  }
  auto full = engine_->OpenLeg(21);
  EXPECT_EQ(full.status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(engine_->OpenLeg(1).status().code(), StatusCode::kConflict);
  engine_->CloseLeg(5);
  EXPECT_TRUE(engine_->OpenLeg(21).ok());
}

// The SIP thread closes legs without waiting: the figures come on the leg's thread once its
// sockets are closed, and only then is the port pair free again.
TEST_F(MediaEngineTest, ClosingWithoutWaitingHandsOverTheFiguresThenFreesThePorts) {
  Start();
  Peer peer;
  const uint16_t port = Connect(1, peer, kPcmu);
  for (ports::LegId leg = 2; leg <= 20; ++leg) ASSERT_TRUE(engine_->OpenLeg(leg).ok()) << leg;
  ASSERT_EQ(engine_->OpenLeg(21).status().code(), StatusCode::kUnavailable);
  std::array<uint8_t, 160> payload{};
  peer.Send(port, 0, payload);
  ASSERT_TRUE(WaitReceived(1));
  std::promise<ports::LegStats> closed;
  engine_->CloseLeg(1, [&closed](ports::LegStats stats) { closed.set_value(stats); });
  auto stats = closed.get_future();
  ASSERT_EQ(stats.wait_for(std::chrono::seconds(10)), std::future_status::ready);
  EXPECT_EQ(stats.get().packets_received, 1u);
  auto reopened = engine_->OpenLeg(21);
  ASSERT_TRUE(reopened.ok());
  EXPECT_EQ(reopened->port, port);
  // A leg that is not open: at once, with no figures.
  bool called = false;
  engine_->CloseLeg(99, [&called](ports::LegStats stats) {
    called = true;
    EXPECT_EQ(stats.packets_received, 0u);
  });
  EXPECT_TRUE(called);
}

TEST_F(MediaEngineTest, Rfc4733DigitsAreReportedOncePerEvent) {
  Start();
  Peer peer;
  const uint16_t port = Connect(1, peer, kPcmu);
  // The leg's first packet (silence) says it is connected: packets sent before that are dropped
  // as from an unknown source, which made the first digit go missing on a loaded machine.
  ASSERT_TRUE(peer.Receive());
  auto send_digit = [&](uint8_t event, uint32_t ts) {
    for (uint16_t d : {160, 320, 480}) peer.SendEvent(port, 101, ts, {event, false, 10, d});
    for (int i = 0; i < 3; ++i) peer.SendEvent(port, 101, ts, {event, true, 10, 800});
  };
  send_digit(1, 1000);
  send_digit(11, 3000);
  peer.SendEvent(port, 101, 1000, {1, true, 10, 800});  // a late retransmission of the first
  send_digit(1, 5000);  // the same digit pressed again is a new event
  send_digit(9, 7000);
  // A last event of one packet: once it is reported, every packet before it was read.
  peer.SendEvent(port, 101, 9000, {5, true, 10, 800});
  ASSERT_TRUE(events_.WaitFor([&] { return events_.digits.size() >= 5; }));
  const ports::LegStats stats = engine_->CloseLeg(1);
  std::lock_guard lock(events_.mu);
  EXPECT_EQ(events_.digits, "1#195");
  EXPECT_EQ(stats.packets_received, 26u);
  EXPECT_EQ(stats.packets_dropped, 0u);
}

TEST_F(MediaEngineTest, InBandDtmfIsDetectedWithoutTelephoneEvent) {
  Start();
  Peer peer;
  const uint16_t port = Connect(1, peer, kPcmuNoDtmf);
  dtmf_tx_state_t* tx = dtmf_tx_init(nullptr);
  dtmf_tx_put(tx, "7", 1);
  Encoder enc(AudioCodec::kPcmu);
  std::array<int16_t, 160> pcm{};
  std::array<uint8_t, 160> payload{};
  for (int i = 0; i < 25; ++i) {
    pcm.fill(0);
    dtmf_tx(tx, pcm.data(), 160);
    enc.Encode(pcm, payload);
    peer.Send(port, 0, payload);
  }
  dtmf_tx_free(tx);
  ASSERT_TRUE(events_.WaitFor([&] { return !events_.digits.empty(); }));
  std::lock_guard lock(events_.mu);
  EXPECT_EQ(events_.digits, "7");
}

TEST_F(MediaEngineTest, PlaysWavIntoLegAndReportsTheEnd) {
  Start();
  const auto source = Tone(440, 16000, 8000);  // 0.5 s at 16 kHz, resampled to the leg's 8 kHz
  WriteWav(dir_ / "prompts" / "tone.wav", source, 16000);
  Peer peer;
  Connect(1, peer, kPcmu);
  engine_->Play(1, 77, ports::Prompt{"tone.wav", "", "", ""}, false);
  ASSERT_TRUE(events_.WaitFor([&] { return !events_.finished.empty(); }));
  // Everything up to the end was sent before the event: read what is queued at the socket.
  const auto heard = Collect(peer, AudioCodec::kPcmu, 0, 8000);
  const auto expected = Tone(440, 8000, 3000);
  EXPECT_GT(BestCorrelation(heard, std::span(expected).subspan(400, 2000), heard.size()), 0.98);
  std::lock_guard lock(events_.mu);
  EXPECT_EQ(events_.finished, std::vector<uint64_t>{77});
}

TEST_F(MediaEngineTest, MissingPromptStillFinishes) {
  Start();
  Peer peer;
  Connect(1, peer, kPcmu);
  engine_->Play(1, 5, ports::Prompt{"nope.wav", "", "", ""}, false);
  ASSERT_TRUE(events_.WaitFor([&] { return !events_.finished.empty(); }));
}

TEST_F(MediaEngineTest, SpeaksTextAndCachesTheRendering) {
  Start();
  Peer peer;
  Connect(1, peer, kG722);
  engine_->Play(1, 9, ports::Prompt{"", "Welcome to Parley", "en", ""}, false);
  ASSERT_TRUE(events_.WaitFor([&] { return !events_.finished.empty(); }, 20s));
  const auto heard = Collect(peer, AudioCodec::kG722, 9, 32000);
  double energy = 0;
  for (int16_t s : heard) energy += static_cast<double>(s) * s;
  EXPECT_GT(energy / std::max<size_t>(heard.size(), 1), 1000.0);  // speech, not silence
  size_t cached = 0;
  for (const auto& e : fs::directory_iterator(dir_ / "tts"))
    cached += e.path().extension() == ".wav";
  EXPECT_EQ(cached, 1u);
  // The same text again plays from the cache.
  const auto rendered = fs::directory_iterator(dir_ / "tts")->path();
  const auto written = fs::last_write_time(rendered);
  engine_->Play(1, 10, ports::Prompt{"", "Welcome to Parley", "en", ""}, false);
  ASSERT_TRUE(events_.WaitFor([&] { return events_.finished.size() == 2; }, 20s));
  EXPECT_EQ(fs::last_write_time(rendered), written);
}

TEST_F(MediaEngineTest, BridgeTranscodesBetweenPcmuAndG722) {
  Start();
  Peer a, b;
  const uint16_t port_a = Connect(1, a, kPcmu);
  const uint16_t port_b = Connect(2, b, kG722);
  ASSERT_TRUE(engine_->Bridge(1, 2).ok());
  // Wait until the bridge is in place: unbridged legs send silence, bridged ones only forward.
  Encoder enc(AudioCodec::kPcmu);
  const auto tone = Tone(1000, 8000, 8000);
  std::array<uint8_t, 160> payload{};
  std::vector<int16_t> heard;
  Decoder dec(AudioCodec::kG722);
  std::vector<int16_t> pcm;
  for (size_t i = 0; i + 160 <= tone.size() && heard.size() < 12000; i += 160) {
    enc.Encode(std::span(tone).subspan(i, 160), payload);
    a.Send(port_a, 0, payload);
    while (auto pkt = b.Receive(30ms)) {
      auto p = ParseRtp(*pkt);
      if (!p || p->header.payload_type != 9) continue;
      dec.Decode(p->payload, pcm);
      heard.insert(heard.end(), pcm.begin(), pcm.end());
    }
  }
  ASSERT_GT(heard.size(), 4000u);
  // The last 4000 samples at 16 kHz carry the forwarded tone.
  EXPECT_GT(ToneShare(std::span(heard).last(4000), 1000, 16000), 0.9);

  // And back: G.722 at 16 kHz from b arrives at a as mu-law at 8 kHz.
  Encoder enc_b(AudioCodec::kG722);
  const auto tone_b = Tone(600, 16000, 16000);
  Decoder dec_a(AudioCodec::kPcmu);
  std::vector<int16_t> heard_a;
  for (size_t i = 0; i + 320 <= tone_b.size() && heard_a.size() < 4000; i += 320) {
    enc_b.Encode(std::span(tone_b).subspan(i, 320), payload);
    b.Send(port_b, 9, payload);
    while (auto pkt = a.Receive(30ms)) {
      auto p = ParseRtp(*pkt);
      if (!p || p->header.payload_type != 0) continue;
      dec_a.Decode(p->payload, pcm);
      heard_a.insert(heard_a.end(), pcm.begin(), pcm.end());
    }
  }
  ASSERT_GT(heard_a.size(), 2000u);
  EXPECT_GT(ToneShare(std::span(heard_a).last(2000), 600, 8000), 0.9);
}

TEST_F(MediaEngineTest, StrictRtpDropsForeignSourceAndUnknownPayloadType) {
  Start();
  Peer peer, intruder;
  const uint16_t port = Connect(1, peer, kPcmu);
  std::array<uint8_t, 160> payload{};
  payload.fill(0xff);
  for (int i = 0; i < 5; ++i) peer.Send(port, 0, payload);
  ASSERT_TRUE(WaitReceived(5));
  for (int i = 0; i < 6; ++i) intruder.Send(port, 0, payload);  // a burst, but the leg is locked
  for (int i = 0; i < 3; ++i) peer.Send(port, 18, payload);     // G.729 was not negotiated
  const std::array<uint8_t, 3> junk{1, 2, 3};
  peer.SendRaw(port, junk);  // not RTP at all
  ASSERT_TRUE(WaitReceived(15));
  const ports::LegStats stats = engine_->CloseLeg(1);
  EXPECT_EQ(stats.packets_received, 5u);
  EXPECT_EQ(stats.packets_dropped, 10u);
}

TEST_F(MediaEngineTest, LearnsANewSourceFromABurstRightAfterConnect) {
  Start();
  Peer negotiated, natted;
  const uint16_t port = Connect(1, negotiated, kPcmu);
  std::array<uint8_t, 160> payload{};
  payload.fill(0xff);
  for (int i = 0; i < 4; ++i) natted.Send(port, 0, payload);
  ASSERT_TRUE(WaitReceived(4));
  // Our stream now goes to the learnt source.
  ASSERT_TRUE(natted.Receive());
  const ports::LegStats stats = engine_->CloseLeg(1);
  EXPECT_EQ(stats.packets_received, 1u);
  EXPECT_EQ(stats.packets_dropped, 3u);
}

TEST_F(MediaEngineTest, InactivityIsReported) {
  MediaConfig c;
  c.inactivity_timeout = Duration(200'000);
  Start(c);
  Peer peer;
  Connect(7, peer, kPcmu);
  ASSERT_TRUE(events_.WaitFor([&] { return !events_.inactive.empty(); }));
  std::lock_guard lock(events_.mu);
  EXPECT_EQ(events_.inactive, std::vector<ports::LegId>{7});
  EXPECT_TRUE(events_.inactive_on_batch);  // the media thread does not preempt the SIP thread
}

TEST_F(MediaEngineTest, SendsRfc4733Digits) {
  Start();
  Peer peer;
  Connect(1, peer, kPcmu);
  EXPECT_FALSE(engine_->SendDigits(1, "1x").ok());
  ASSERT_TRUE(engine_->SendDigits(1, "4#").ok());
  std::string got;
  std::optional<uint32_t> last_ts;
  int ends = 0;
  while (ends < 6) {
    auto pkt = peer.Receive();
    ASSERT_TRUE(pkt);
    auto p = ParseRtp(*pkt);
    ASSERT_TRUE(p);
    if (p->header.payload_type != 101) continue;
    auto e = ParseTelephoneEvent(p->payload);
    ASSERT_TRUE(e);
    if (!last_ts || *last_ts != p->header.timestamp) got.push_back(EventToDigit(e->event));
    last_ts = p->header.timestamp;
    ends += e->end;
  }
  EXPECT_EQ(got, "4#");
}

TEST_F(MediaEngineTest, HostilePacketsDoNotStopTheLeg) {
  Start();
  Peer peer;
  const uint16_t port = Connect(1, peer, kPcmu);
  std::vector<uint8_t> junk(1400);
  for (size_t i = 0; i < junk.size(); ++i) junk[i] = static_cast<uint8_t>(i * 37);
  for (size_t n : {0, 1, 12, 13, 200, 1400}) {
    peer.SendRaw(port, std::span(junk).first(n));
    peer.SendRaw(static_cast<uint16_t>(port + 1), std::span(junk).first(n));  // RTCP
  }
  std::array<uint8_t, 160> payload{};
  peer.Send(port, 0, payload);
  ASSERT_TRUE(WaitReceived(7));
  EXPECT_EQ(engine_->CloseLeg(1).packets_received, 1u);
}

// Sends `a_tone` from peer a and `b_tone` from peer b, paced like a phone (20 ms packets).
void SendPaced(Peer& a, uint16_t port_a, const std::vector<int16_t>& a_tone, size_t& a_pos, Peer& b,
               uint16_t port_b, const std::vector<int16_t>& b_tone, size_t& b_pos,
               std::chrono::milliseconds length) {
  Encoder ea(AudioCodec::kPcmu), eb(AudioCodec::kPcmu);
  std::array<uint8_t, 160> payload{};
  auto next = std::chrono::steady_clock::now();
  for (auto t = 0ms; t < length; t += 20ms) {
    ea.Encode(std::span(a_tone).subspan(a_pos, 160), payload);
    a.Send(port_a, 0, payload);
    eb.Encode(std::span(b_tone).subspan(b_pos, 160), payload);
    b.Send(port_b, 0, payload);
    a_pos += 160;
    b_pos += 160;
    next += 20ms;
    std::this_thread::sleep_until(next);  // pacing the source, as a phone's clock does
  }
}

struct Stereo {
  int rate = 0;
  std::vector<int16_t> left, right;
};

Stereo ReadStereo(const std::string& path) {
  SF_INFO info{};
  SNDFILE* f = sf_open(path.c_str(), SFM_READ, &info);
  Stereo s;
  if (f == nullptr || info.channels != 2) {
    if (f != nullptr) sf_close(f);
    return s;
  }
  s.rate = info.samplerate;
  std::vector<int16_t> frames(static_cast<size_t>(info.frames) * 2);
  const sf_count_t n = sf_readf_short(f, frames.data(), info.frames);
  sf_close(f);
  for (sf_count_t i = 0; i < n; ++i) {
    s.left.push_back(frames[2 * static_cast<size_t>(i)]);
    s.right.push_back(frames[2 * static_cast<size_t>(i) + 1]);
  }
  return s;
}

TEST_F(MediaEngineTest, RecordsBridgedCallCustomerLeftAgentRight) {
  Start();
  Peer customer, agent;
  const uint16_t port_c = Connect(1, customer, kPcmu);
  const uint16_t port_a = Connect(2, agent, kPcmu);
  ASSERT_TRUE(engine_->Bridge(1, 2).ok());
  const std::string path = (dir_ / "call.wav").string();
  ASSERT_TRUE(engine_->StartRecording(1, 2, path).ok());
  const auto c_tone = Tone(500, 8000, 8000 * 3);
  const auto a_tone = Tone(1300, 8000, 8000 * 3);
  size_t c_pos = 0, a_pos = 0;
  SendPaced(customer, port_c, c_tone, c_pos, agent, port_a, a_tone, a_pos, 600ms);

  engine_->PauseRecording(1, true);
  SendPaced(customer, port_c, c_tone, c_pos, agent, port_a, a_tone, a_pos, 400ms);
  engine_->PauseRecording(1, false);
  SendPaced(customer, port_c, c_tone, c_pos, agent, port_a, a_tone, a_pos, 600ms);
  // While it runs, the file under its temporary name is already a valid WAV with the frames
  // handed to the writer so far (about a second at a time): a crash keeps them.
  const std::string part = path + ".part";
  sf_count_t frames_so_far = 0;
  const auto until = std::chrono::steady_clock::now() + kDeadline;
  while (frames_so_far == 0 && std::chrono::steady_clock::now() < until) {
    SF_INFO info{};
    if (SNDFILE* f = sf_open(part.c_str(), SFM_READ, &info)) {
      frames_so_far = info.frames;
      sf_close(f);
    }
  }
  EXPECT_GT(frames_so_far, 0);
  engine_->StopRecording(1);
  ASSERT_TRUE(events_.WaitFor([&] { return !events_.recordings.empty(); }));
  ports::RecordingInfo info;
  {
    std::lock_guard lock(events_.mu);
    info = events_.recordings[0];
  }
  EXPECT_EQ(info.path, path);
  EXPECT_FALSE(fs::exists(part));
  EXPECT_EQ(info.bytes, fs::file_size(path));
  EXPECT_EQ(info.sha256, Sha256File(path));
  EXPECT_EQ(info.sha256.size(), 64u);

  const Stereo rec = ReadStereo(path);
  ASSERT_EQ(rec.rate, 8000);
  // Timing kept through the pause: about 1.6 s of frames.
  EXPECT_NEAR(ToSeconds(info.duration), rec.left.size() / 8000.0, 0.001);
  EXPECT_GT(rec.left.size(), 8000u * 14 / 10);
  // Each channel is what its side sent (the other side's tone is absent from it).
  const auto c_ref = Tone(500, 8000, 800);
  const auto a_ref = Tone(1300, 8000, 800);
  const std::span<const int16_t> head_l = std::span(rec.left).first(4000);
  const std::span<const int16_t> head_r = std::span(rec.right).first(4000);
  EXPECT_GT(BestCorrelation(head_l, c_ref, 3000), 0.95);
  EXPECT_GT(BestCorrelation(head_r, a_ref, 3000), 0.95);
  EXPECT_LT(ToneShare(head_l, 1300, 8000), 0.05);
  EXPECT_LT(ToneShare(head_r, 500, 8000), 0.05);
  // The pause left at least 300 ms of silence in both channels.
  size_t run = 0, longest = 0;
  for (size_t i = 0; i < rec.left.size(); ++i) {
    run = (rec.left[i] == 0 && rec.right[i] == 0) ? run + 1 : 0;
    longest = std::max(longest, run);
  }
  EXPECT_GE(longest, 2400u);
  // What was said just before the pause (placed, held by the playout delay) is kept: the
  // customer's tone runs up to the pause, about 600 ms in.
  EXPECT_GT(ToneShare(std::span(rec.left).subspan(8000 * 440 / 1000, 800), 500, 8000), 0.9);
  // And the same bridged call still carried audio both ways.
  EXPECT_TRUE(customer.Receive());
  EXPECT_TRUE(agent.Receive());
}

// Issue 6: a phone on a loaded network (or a loaded CI machine) delivers packets late, in clumps
// and out of order; the recording placed them as they came, so silences cut every word and
// reordered pieces scrambled it. It now places each packet by its RTP timestamp.
TEST_F(MediaEngineTest, RecordingPlacesClumpedAndReorderedPacketsByTheirTimestamps) {
  Start();
  Peer customer, agent;
  const uint16_t port_c = Connect(1, customer, kPcmu);
  Connect(2, agent, kPcmu);
  ASSERT_TRUE(engine_->Bridge(1, 2).ok());
  const std::string path = (dir_ / "jitter.wav").string();
  ASSERT_TRUE(engine_->StartRecording(1, 2, path).ok());
  // 1.76 s of noise (what correlates only with itself, at its own lag), G.711 round trip.
  std::vector<int16_t> noise(160 * 88);
  uint32_t state = 12345;
  for (int16_t& v : noise) {
    state = state * 1664525u + 1013904223u;
    v = static_cast<int16_t>(static_cast<int32_t>(state >> 16) % 16000 - 8000);
  }
  Encoder encoder(AudioCodec::kPcmu);
  Decoder decoder(AudioCodec::kPcmu);
  std::vector<int16_t> expected;
  std::vector<std::array<uint8_t, 160>> packets(noise.size() / 160);
  for (size_t k = 0; k < packets.size(); ++k) {
    encoder.Encode(std::span(noise).subspan(k * 160, 160), packets[k]);
    std::vector<int16_t> pcm;
    decoder.Decode(packets[k], pcm);
    expected.insert(expected.end(), pcm.begin(), pcm.end());
  }
  // Every 80 ms, the four packets of those 80 ms at once, newest first.
  const uint32_t ts0 = 90000;
  auto next = std::chrono::steady_clock::now();
  for (size_t group = 0; group < packets.size(); group += 4) {
    next += 80ms;
    std::this_thread::sleep_until(next);  // pacing the source
    for (size_t k = group + 4; k-- > group;) {
      customer.SendAt(port_c, 0, static_cast<uint16_t>(2000 + k),
                      ts0 + static_cast<uint32_t>(k * 160), packets[k]);
    }
  }
  engine_->StopRecording(1);
  ASSERT_TRUE(events_.WaitFor([&] { return !events_.recordings.empty(); }));
  const Stereo rec = ReadStereo(path);
  ASSERT_EQ(rec.rate, 8000);
  // The file holds the whole signal in order: a full second of it matches in one piece, and so
  // do its last 100 ms or so (written out by the stop, not lost in the playout delay).
  EXPECT_GT(rec.left.size(), expected.size());
  EXPECT_GT(BestCorrelation(rec.left, std::span(expected).subspan(2400, 8000), 8000), 0.95);
  const auto tail = std::span(expected).subspan(expected.size() - 1280, 960);
  EXPECT_GT(BestCorrelation(rec.left, tail, rec.left.size() - tail.size()), 0.95);
  // Wall-clock time kept: about the 1.76 s sent, plus the delay, not much more.
  EXPECT_LT(rec.left.size(), expected.size() + 8000 / 2);
  // The file starts when the recording did: the first packets, sent 80 ms after the start, are
  // about 80 ms in (reordered to 20 ms before the newest), not a further playout delay (120 ms)
  // later, which made every file that much longer than its call.
  const auto first_audio =
      std::find_if(rec.left.begin(), rec.left.end(), [](int16_t v) { return v != 0; }) -
      rec.left.begin();
  EXPECT_LT(first_audio, 8000 * 120 / 1000) << "first audio at sample " << first_audio;
}

// Issue 6: the recording clock runs the playout delay (120 ms) behind the call, and a stop wrote
// only what had been placed; so when the last packet came more than the delay before the stop
// (a caller who went quiet, or a stop handled after a busy moment), the file ended that delay
// short of the call. It now ends at the stop: the silence after the last audio is all there.
TEST_F(MediaEngineTest, RecordingRunsToTheStopWhenTheLastPacketCameLongBefore) {
  Start();
  Peer customer, agent;
  const uint16_t port_c = Connect(1, customer, kPcmu);
  const uint16_t port_a = Connect(2, agent, kPcmu);
  ASSERT_TRUE(engine_->Bridge(1, 2).ok());
  const std::string path = (dir_ / "quiet_end.wav").string();
  ASSERT_TRUE(engine_->StartRecording(1, 2, path).ok());
  const auto c_tone = Tone(500, 8000, 8000);
  const auto a_tone = Tone(1300, 8000, 8000);
  size_t c_pos = 0, a_pos = 0;
  SendPaced(customer, port_c, c_tone, c_pos, agent, port_a, a_tone, a_pos, 400ms);
  // Half a second of nothing from either side (the scenario, not a synchronisation), then stop.
  constexpr auto kQuiet = 500ms;
  std::this_thread::sleep_for(kQuiet);
  engine_->StopRecording(1);
  ASSERT_TRUE(events_.WaitFor([&] { return !events_.recordings.empty(); }));
  const Stereo rec = ReadStereo(path);
  ASSERT_EQ(rec.rate, 8000);
  size_t last = 0;  // one past the last audible sample of either channel
  for (size_t i = 0; i < rec.left.size(); ++i) {
    if (rec.left[i] != 0 || rec.right[i] != 0) last = i + 1;
  }
  ASSERT_GT(last, 0u);
  // At least the quiet time after the last audio (less a tick and some scheduling); a file
  // ending the playout delay short has 120 ms less.
  EXPECT_GE(rec.left.size() - last, 8000u * (kQuiet.count() - 60) / 1000)
      << rec.left.size() << " samples, last audio ends at " << last;
}

// Issue 8: an attended transfer closed the first agent's leg, which ended the recording; the
// recording now moves to the consulted agent's leg and goes on in the same file.
TEST_F(MediaEngineTest, MovedRecordingGoesOnWithTheNewAgentInTheRightChannel) {
  MediaConfig c;
  c.threads = 2;  // leg 3 starts on another media thread: the move brings it over
  Start(c);
  Peer customer, agent, second;
  const uint16_t port_c = Connect(1, customer, kPcmu);
  const uint16_t port_a = Connect(2, agent, kPcmu);
  const uint16_t port_s = Connect(3, second, kPcmu);
  ASSERT_TRUE(engine_->Bridge(1, 2).ok());
  const std::string path = (dir_ / "moved.wav").string();
  ASSERT_TRUE(engine_->StartRecording(1, 2, path).ok());
  const auto c_tone = Tone(500, 8000, 8000 * 3);
  const auto a_tone = Tone(1300, 8000, 8000 * 3);
  const auto s_tone = Tone(2100, 8000, 8000 * 3);
  size_t c_pos = 0, a_pos = 0, s_pos = 0;
  SendPaced(customer, port_c, c_tone, c_pos, agent, port_a, a_tone, a_pos, 600ms);
  EXPECT_EQ(engine_->MoveRecording(1, 9).code(), StatusCode::kNotFound);
  ASSERT_TRUE(engine_->MoveRecording(1, 3).ok());
  ASSERT_TRUE(engine_->Bridge(1, 3).ok());
  (void)engine_->CloseLeg(2);  // the first agent's leg goes: the recording does not end
  SendPaced(customer, port_c, c_tone, c_pos, second, port_s, s_tone, s_pos, 600ms);
  engine_->StopRecording(1);
  ASSERT_TRUE(events_.WaitFor([&] { return !events_.recordings.empty(); }));
  {
    std::lock_guard lock(events_.mu);
    ASSERT_EQ(events_.recordings.size(), 1u);  // one file for the whole call
    EXPECT_EQ(events_.recordings[0].path, path);
  }
  const Stereo rec = ReadStereo(path);
  ASSERT_EQ(rec.rate, 8000);
  ASSERT_GT(rec.right.size(), 8000u);
  const auto a_ref = Tone(1300, 8000, 800);
  const auto s_ref = Tone(2100, 8000, 800);
  const auto c_ref = Tone(500, 8000, 800);
  const std::span<const int16_t> head_r = std::span(rec.right).first(4000);
  const std::span<const int16_t> tail_r =
      std::span(rec.right).subspan(rec.right.size() - 5000, 4000);
  const std::span<const int16_t> tail_l = std::span(rec.left).subspan(rec.left.size() - 5000, 4000);
  EXPECT_GT(BestCorrelation(head_r, a_ref, 3000), 0.95);  // the first agent, then
  // up to the move (about 600 ms in): what the playout delay held of the first agent stays.
  EXPECT_GT(ToneShare(std::span(rec.right).subspan(8000 * 440 / 1000, 800), 1300, 8000), 0.9);
  EXPECT_GT(BestCorrelation(tail_r, s_ref, 3000), 0.95);  // the second one
  EXPECT_LT(ToneShare(tail_r, 1300, 8000), 0.05);
  EXPECT_GT(BestCorrelation(tail_l, c_ref, 3000), 0.95);  // the customer throughout
}

TEST_F(MediaEngineTest, BridgeAcrossMediaThreadsForwardsPayloadUntouched) {
  MediaConfig c;
  c.threads = 2;
  Start(c);
  Peer a, b;
  // Legs 1 and 2 start on different media threads; the bridge moves leg 2 to leg 1's.
  const uint16_t port_a = Connect(1, a, kPcmu);
  Connect(2, b, kPcmu);
  ASSERT_TRUE(engine_->Bridge(1, 2).ok());
  engine_->StopPlayback(2);  // a command for a leg in transit waits for it, in order
  std::array<uint8_t, 160> payload{};
  for (size_t i = 0; i < payload.size(); ++i) payload[i] = static_cast<uint8_t>(i);
  bool forwarded = false;
  const auto until = std::chrono::steady_clock::now() + kDeadline;
  while (!forwarded && std::chrono::steady_clock::now() < until) {
    a.Send(port_a, 0, payload);
    while (auto pkt = b.Receive(20ms)) {
      auto p = ParseRtp(*pkt);
      if (p && std::equal(p->payload.begin(), p->payload.end(), payload.begin(), payload.end())) {
        forwarded = true;
      }
    }
  }
  EXPECT_TRUE(forwarded);
  EXPECT_GT(engine_->CloseLeg(2).packets_sent, 0u);
  EXPECT_GT(engine_->CloseLeg(1).packets_received, 0u);
}

// Mute (call control): the agent's audio stops reaching the customer, who gets silence in its
// place; unmuting lets it through again. Packets on one leg leave in the order the media thread
// made them, so once silence arrived no agent packet may follow until the unmute.
TEST_F(MediaEngineTest, MutedLegSendsSilenceToItsPeerUntilUnmuted) {
  Start();
  Peer customer, agent;
  Connect(1, customer, kPcmu);
  const uint16_t agent_port = Connect(2, agent, kPcmu);
  ASSERT_TRUE(engine_->Bridge(1, 2).ok());
  std::array<uint8_t, 160> voice{};
  for (size_t i = 0; i < voice.size(); ++i) voice[i] = static_cast<uint8_t>(i);
  const auto is_voice = [&](const std::vector<uint8_t>& pkt) {
    auto p = ParseRtp(pkt);
    return p && std::equal(p->payload.begin(), p->payload.end(), voice.begin(), voice.end());
  };
  const auto is_silence = [](const std::vector<uint8_t>& pkt) {
    auto p = ParseRtp(pkt);
    return p && p->header.payload_type == 0 && !p->payload.empty() &&
           std::all_of(p->payload.begin(), p->payload.end(), [](uint8_t b) { return b == 0xFF; });
  };
  // Sends agent audio until `want` arrives at the customer; false at the deadline.
  const auto until_customer_gets = [&](auto want) {
    const auto until = std::chrono::steady_clock::now() + kDeadline;
    while (std::chrono::steady_clock::now() < until) {
      agent.Send(agent_port, 0, voice);
      while (auto pkt = customer.Receive(20ms)) {
        if (want(*pkt)) return true;
      }
    }
    return false;
  };
  ASSERT_TRUE(until_customer_gets(is_voice));
  engine_->SetMuted(2, true);
  ASSERT_TRUE(until_customer_gets(is_silence));
  for (int i = 0; i < 10; ++i) agent.Send(agent_port, 0, voice);
  int silent = 0;
  while (silent < 10) {
    auto pkt = customer.Receive();
    ASSERT_TRUE(pkt);
    EXPECT_FALSE(is_voice(*pkt));
    silent += is_silence(*pkt) ? 1 : 0;
  }
  engine_->SetMuted(2, false);
  EXPECT_TRUE(until_customer_gets(is_voice));
}

// Without a music folder, "moh" is the built-in chime: tones, then quiet, to loop.
TEST(PromptSource, MusicOnHoldWithoutAFolderIsTheBuiltInChime) {
  auto parts = LoadPrompt(ports::Prompt{"moh", "", "", ""}, true, PromptDirs{}, 8000);
  ASSERT_TRUE(parts.ok()) << parts.status().ToString();
  ASSERT_EQ(parts->size(), 1u);
  const std::vector<int16_t>& s = *(*parts)[0];
  ASSERT_GT(s.size(), 8000u);
  EXPECT_GT(ToneShare(std::span<const int16_t>(s).subspan(800, 1600), 523.25, 8000), 0.9);
  EXPECT_EQ(s.back(), 0);  // ends in quiet, so the loop does not click
}

TEST_F(MediaEngineTest, SendDigitsThroughThePortNeedsTelephoneEvent) {
  Start();
  Peer peer;
  Connect(1, peer, kPcmuNoDtmf);
  ports::MediaPlane& plane = *engine_;
  EXPECT_EQ(plane.SendDigits(1, "12").code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(plane.SendDigits(7, "1").code(), StatusCode::kNotFound);
}

TEST_F(MediaEngineTest, MusicOnHoldLoopsTheFolderUntilStopped) {
  Start();
  WriteWav(dir_ / "moh" / "a.wav", Tone(400, 8000, 800), 8000);
  WriteWav(dir_ / "moh" / "b.wav", Tone(900, 8000, 800), 8000);
  Peer peer;
  Connect(1, peer, kPcmu);
  engine_->Play(1, 3, ports::Prompt{"moh", "", "", ""}, true);
  // Skip the silence before the folder is loaded, then hear 0.6 s: a, b, a, b, ...
  std::vector<int16_t> heard;
  Decoder dec(AudioCodec::kPcmu);
  std::vector<int16_t> pcm;
  while (heard.size() < 4800) {
    auto pkt = peer.Receive();
    ASSERT_TRUE(pkt);
    auto p = ParseRtp(*pkt);
    ASSERT_TRUE(p);
    dec.Decode(p->payload, pcm);
    const bool silent =
        std::all_of(pcm.begin(), pcm.end(), [](int16_t s) { return std::abs(s) < 8; });
    if (heard.empty() && silent) continue;
    heard.insert(heard.end(), pcm.begin(), pcm.end());
  }
  int tones_a = 0, tones_b = 0;
  for (size_t at = 0; at + 800 <= heard.size(); at += 800) {
    const auto chunk = std::span(heard).subspan(at + 200, 400);
    tones_a += ToneShare(chunk, 400, 8000) > 0.8;
    tones_b += ToneShare(chunk, 900, 8000) > 0.8;
  }
  EXPECT_GE(tones_a, 2);
  EXPECT_GE(tones_b, 2);
  engine_->StopPlayback(1);
  // After the stop the leg falls back to silence, and a loop never reports its end.
  bool silent = false;
  const auto until = std::chrono::steady_clock::now() + kDeadline;
  while (!silent && std::chrono::steady_clock::now() < until) {
    auto pkt = peer.Receive();
    ASSERT_TRUE(pkt);
    auto p = ParseRtp(*pkt);
    silent =
        p && std::all_of(p->payload.begin(), p->payload.end(), [](uint8_t b) { return b == 0xff; });
  }
  EXPECT_TRUE(silent);
  std::lock_guard lock(events_.mu);
  EXPECT_TRUE(events_.finished.empty());
}

// The peer's first packets follow the connect at once. A worker that wakes late finds the connect
// command and those packets ready together, and must take the command first, or it drops them as
// packets for a leg that is not connected (the RTCP test below then saw no reception block).
TEST_F(MediaEngineTest, PacketsRightAfterAConnectCountWhenTheWorkerWakesLate) {
  MediaConfig c;
  c.inactivity_timeout = Duration(100'000);
  Start(c);
  Peer a, quiet;
  auto ep = engine_->OpenLeg(1);
  ASSERT_TRUE(ep.ok());
  const std::array<uint8_t, 3> junk{1, 2, 3};
  a.SendRaw(ep->port, junk);  // its worker has the leg once it counts this as dropped
  ASSERT_TRUE(WaitReceived(1));
  // Leg 2 hears nothing, so the worker reports it inactive; the report holds the worker until
  // the test lets it go (at the latest when it ends, so the engine can stop).
  struct Hold {
    std::promise<void> stalled, release;
    std::shared_future<void> go = release.get_future().share();
    std::atomic<bool> held{false}, released{false};
    void Release() {
      if (!released.exchange(true)) release.set_value();
    }
  };
  auto hold = std::make_shared<Hold>();
  std::unique_ptr<Hold, void (*)(Hold*)> release_at_end(hold.get(), [](Hold* h) { h->Release(); });
  ports::MediaEvents events = events_.Make();
  events.on_inactive = [hold](ports::LegId) {
    if (hold->held.exchange(true)) return;
    hold->stalled.set_value();
    hold->go.wait();
  };
  engine_->SetEvents(events);
  Connect(2, quiet, kPcmu);
  ASSERT_EQ(hold->stalled.get_future().wait_for(kDeadline), std::future_status::ready);
  ASSERT_TRUE(engine_->ConnectLeg(1, a.endpoint(), kPcmu).ok());
  std::array<uint8_t, 160> payload{};
  for (int i = 0; i < 10; ++i) a.Send(ep->port, 0, payload);  // on loopback, queued on return
  hold->Release();
  ASSERT_TRUE(WaitReceived(11));
  const ports::LegStats stats = engine_->CloseLeg(1);
  EXPECT_EQ(stats.packets_received, 10u);
  EXPECT_EQ(stats.packets_dropped, 1u);
}

TEST_F(MediaEngineTest, SendsRtcpReportsWithReceptionFigures) {
  MediaConfig c;
  c.rtcp_interval = Duration(100'000);
  Start(c);
  // A peer with an RTP/RTCP port pair of its own.
  std::unique_ptr<Peer> rtp, rtcp;
  const int first = BasePort() + 40;
  for (int port = first; port < first + 20; port += 2) {
    rtp = std::make_unique<Peer>(static_cast<uint16_t>(port));
    rtcp = std::make_unique<Peer>(static_cast<uint16_t>(port + 1));
    if (rtp->bound() && rtcp->bound()) break;
  }
  ASSERT_TRUE(rtp->bound() && rtcp->bound());
  const uint16_t port = Connect(1, *rtp, kPcmu);
  std::array<uint8_t, 160> payload{};
  for (int i = 0; i < 10; ++i) rtp->Send(port, 0, payload);
  ASSERT_TRUE(WaitReceived(10));
  std::optional<RtcpReport> report;
  const auto until = std::chrono::steady_clock::now() + kDeadline;
  while (std::chrono::steady_clock::now() < until) {
    auto pkt = rtcp->Receive();
    ASSERT_TRUE(pkt);
    report = ParseRtcp(*pkt);
    if (report && report->block) break;
  }
  ASSERT_TRUE(report && report->sender && report->block);
  EXPECT_GT(report->sender->packet_count, 0u);
  EXPECT_EQ(report->block->highest_sequence, 1009u);  // the peer's first sequence is 1000
  EXPECT_EQ(report->block->cumulative_lost, 0);
}

TEST_F(MediaEngineTest, BridgePassesTelephoneEventsOnAndReportsThem) {
  Start();
  Peer a, b;
  const uint16_t port_a = Connect(1, a, kPcmu);
  Connect(2, b, MediaFormat{AudioCodec::kPcmu, 0, 96, 20});  // the peer chose type 96
  ASSERT_TRUE(engine_->Bridge(1, 2).ok());
  // Digits need the bridge in place: send a digit until leg 2 forwards one.
  std::optional<RtpPacket> event;
  std::vector<uint8_t> pkt;
  uint32_t ts = 1000;
  const auto until = std::chrono::steady_clock::now() + kDeadline;
  while (!event && std::chrono::steady_clock::now() < until) {
    a.SendEvent(port_a, 101, ts += 800, {5, true, 10, 800});
    while (auto got = b.Receive(20ms)) {
      auto p = ParseRtp(*got);
      if (p && p->header.payload_type == 96) {
        pkt = *got;
        event = ParseRtp(pkt);
        break;
      }
    }
  }
  ASSERT_TRUE(event);
  auto e = ParseTelephoneEvent(event->payload);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->event, 5);
  EXPECT_TRUE(e->end);
  std::lock_guard lock(events_.mu);
  ASSERT_FALSE(events_.digits.empty());
  EXPECT_EQ(events_.digits[0], '5');
}

TEST_F(MediaEngineTest, ClosingALegFinishesItsRecording) {
  Start();
  Peer customer, agent;
  Connect(1, customer, kPcmu);
  Connect(2, agent, kPcmu);
  ASSERT_TRUE(engine_->Bridge(1, 2).ok());
  const std::string path = (dir_ / "short.wav").string();
  ASSERT_TRUE(engine_->StartRecording(1, 2, path).ok());
  EXPECT_EQ(engine_->StartRecording(1, 3, path).code(), StatusCode::kNotFound);
  engine_->CloseLeg(2);  // the agent hangs up
  ASSERT_TRUE(events_.WaitFor([&] { return !events_.recordings.empty(); }));
  EXPECT_TRUE(fs::exists(path));
  EXPECT_FALSE(fs::exists(path + ".part"));
  const Stereo rec = ReadStereo(path);
  EXPECT_EQ(rec.rate, 8000);
}

struct Mono {
  int rate = 0;
  int channels = 0;
  std::vector<int16_t> samples;
};

Mono ReadMono(const std::string& path) {
  SF_INFO info{};
  SNDFILE* f = sf_open(path.c_str(), SFM_READ, &info);
  Mono m;
  if (f == nullptr) return m;
  m.rate = info.samplerate;
  m.channels = info.channels;
  if (info.channels == 1) {
    m.samples.resize(static_cast<size_t>(info.frames));
    m.samples.resize(static_cast<size_t>(sf_read_short(f, m.samples.data(), info.frames)));
  }
  sf_close(f);
  return m;
}

// Noise packets (G.711 mu-law), and what the far end decodes of them.
struct NoisePackets {
  std::vector<std::array<uint8_t, 160>> packets;
  std::vector<std::vector<int16_t>> decoded;
};
NoisePackets Noise(size_t n) {
  NoisePackets out;
  uint32_t state = 777;
  Encoder encoder(AudioCodec::kPcmu);
  Decoder decoder(AudioCodec::kPcmu);
  for (size_t k = 0; k < n; ++k) {
    std::vector<int16_t> pcm(160);
    for (int16_t& v : pcm) {
      state = state * 1664525u + 1013904223u;
      v = static_cast<int16_t>(static_cast<int32_t>(state >> 16) % 16000 - 8000);
    }
    out.packets.emplace_back();
    encoder.Encode(pcm, out.packets.back());
    out.decoded.emplace_back();
    decoder.Decode(out.packets.back(), out.decoded.back());
  }
  return out;
}

// Voicemail (issue 6): one leg, not bridged, to a mono file. Two bursts sent back to back with
// a 400 ms gap in their RTP timestamps land 600 ms apart, with silence between them, however
// fast they came; the stop writes out what the playout delay held back, renames and hashes.
TEST_F(MediaEngineTest, RecordsOneLegMonoPlacingItsPacketsByTheirTimestamps) {
  Start();
  Peer caller;
  const uint16_t port = Connect(1, caller, kPcmu);
  const std::string path = (dir_ / "voicemail.wav").string();
  EXPECT_EQ(engine_->RecordLeg(9, path, Seconds(0)).code(), StatusCode::kNotFound);
  EXPECT_EQ(engine_->RecordLeg(1, "", Seconds(0)).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(engine_->RecordLeg(1, path, Seconds(-1)).code(), StatusCode::kInvalidArgument);
  ASSERT_TRUE(engine_->RecordLeg(1, path, Seconds(0)).ok());
  // The recording runs once its file exists under the temporary name.
  const auto until = std::chrono::steady_clock::now() + kDeadline;
  while (!fs::exists(path + ".part") && std::chrono::steady_clock::now() < until) {
    std::this_thread::yield();
  }
  ASSERT_TRUE(fs::exists(path + ".part"));

  const NoisePackets noise = Noise(40);
  const uint32_t ts0 = 4000;
  for (size_t k = 0; k < 40; k = k == 9 ? 30 : k + 1) {  // packets 0-9, then 30-39
    caller.SendAt(port, 0, static_cast<uint16_t>(100 + k), ts0 + static_cast<uint32_t>(k * 160),
                  noise.packets[k]);
  }
  ASSERT_TRUE(WaitReceived(20));
  engine_->StopRecording(1);
  ASSERT_TRUE(events_.WaitFor([&] { return !events_.recordings.empty(); }));
  ports::RecordingInfo info;
  {
    std::lock_guard lock(events_.mu);
    ASSERT_EQ(events_.recordings.size(), 1u);
    info = events_.recordings[0];
  }
  EXPECT_EQ(info.path, path);
  EXPECT_FALSE(fs::exists(path + ".part"));
  EXPECT_EQ(info.bytes, fs::file_size(path));
  EXPECT_EQ(info.sha256, Sha256File(path));

  const Mono rec = ReadMono(path);
  ASSERT_EQ(rec.channels, 1);
  ASSERT_EQ(rec.rate, 8000);
  EXPECT_NEAR(ToSeconds(info.duration), rec.samples.size() / 8000.0, 0.001);
  std::vector<int16_t> first, second;
  for (size_t k = 0; k < 10; ++k) {
    first.insert(first.end(), noise.decoded[k].begin(), noise.decoded[k].end());
    second.insert(second.end(), noise.decoded[30 + k].begin(), noise.decoded[30 + k].end());
  }
  const auto [c1, at1] = BestMatch(rec.samples, first, rec.samples.size() - first.size());
  const auto [c2, at2] = BestMatch(rec.samples, second, rec.samples.size() - second.size());
  EXPECT_GT(c1, 0.99);
  EXPECT_GT(c2, 0.99);
  EXPECT_EQ(at2 - at1, 30u * 160);
  // Between the bursts: the silence of the missing timestamps.
  for (size_t i = at1 + first.size(); i < at2; ++i) ASSERT_EQ(rec.samples[i], 0) << i;
}

// A voicemail's maximum length ends the recording by itself, exactly that long.
TEST_F(MediaEngineTest, OneLegRecordingStopsByItselfAtItsMaximumLength) {
  Start();
  Peer caller;
  Connect(1, caller, kPcmu);
  const std::string path = (dir_ / "limit.wav").string();
  ASSERT_TRUE(engine_->RecordLeg(1, path, Seconds(0.3)).ok());
  ASSERT_TRUE(events_.WaitFor([&] { return !events_.recordings.empty(); }));
  ports::RecordingInfo info;
  {
    std::lock_guard lock(events_.mu);
    info = events_.recordings[0];
  }
  EXPECT_EQ(info.duration, Seconds(0.3));
  const Mono rec = ReadMono(path);
  EXPECT_EQ(rec.channels, 1);
  EXPECT_EQ(rec.samples.size(), 2400u);
}

// The caller hangs up while leaving a message: closing the leg finishes the file.
TEST_F(MediaEngineTest, ClosingTheLegFinishesItsOneLegRecording) {
  Start();
  Peer caller;
  Connect(1, caller, kPcmu);
  const std::string path = (dir_ / "hangup.wav").string();
  ASSERT_TRUE(engine_->RecordLeg(1, path, Seconds(120)).ok());
  (void)engine_->CloseLeg(1);
  ASSERT_TRUE(events_.WaitFor([&] { return !events_.recordings.empty(); }));
  EXPECT_TRUE(fs::exists(path));
  EXPECT_FALSE(fs::exists(path + ".part"));
  EXPECT_EQ(ReadMono(path).channels, 1);
}

// The voicemail beep needs no file: Prompt{recording = "beep"} is a built-in 1 kHz tone.
TEST(PromptSource, BeepIsABuiltInOneKilohertzTone) {
  auto parts = LoadPrompt(ports::Prompt{ports::kBeepPrompt, "", "", ""}, false, PromptDirs{}, 8000);
  ASSERT_TRUE(parts.ok()) << parts.status().ToString();
  ASSERT_EQ(parts->size(), 1u);
  const std::vector<int16_t>& s = *(*parts)[0];
  EXPECT_EQ(s.size(), 4000u);
  EXPECT_GT(ToneShare(std::span<const int16_t>(s).subspan(400, 3200), 1000, 8000), 0.9);
}

TEST_F(MediaEngineTest, CommandsFromSeveralThreadsAcrossMediaThreadsSettle) {
  MediaConfig c;
  c.threads = 3;
  Start(c);
  Peer peer;
  constexpr int kLegs = 12;
  for (ports::LegId leg = 1; leg <= kLegs; ++leg) Connect(leg, peer, kPcmu);
  std::atomic<int> started{0};
  auto client = [&](uint32_t seed) {
    for (int i = 0; i < 300; ++i) {
      seed = seed * 1664525u + 1013904223u;
      const ports::LegId x = 1 + (seed >> 8) % kLegs;
      const ports::LegId y = 1 + (seed >> 16) % kLegs;
      switch ((seed >> 24) % 6) {
        case 0:
          (void)engine_->Bridge(x, y);
          break;
        case 1:
          engine_->Unbridge(x);
          break;
        case 2:
          engine_->Play(x, i, ports::Prompt{"missing.wav", "", "", ""}, false);
          break;
        case 3:
          engine_->StopPlayback(x);
          break;
        case 4: {
          const auto path = dir_ / ("rec_" + std::to_string(seed) + ".wav");
          if (engine_->StartRecording(x, y, path.string()).ok()) ++started;
          break;
        }
        default:
          engine_->StopRecording(x);
      }
    }
  };
  std::thread t1(client, 1), t2(client, 2);
  t1.join();
  t2.join();
  for (ports::LegId leg = 1; leg <= kLegs; ++leg) engine_->CloseLeg(leg);
  // Every recording that started is finished and reported exactly once.
  ASSERT_TRUE(events_.WaitFor([&] { return events_.recordings.size() >= size_t(started.load()); }));
  std::lock_guard lock(events_.mu);
  EXPECT_EQ(events_.recordings.size(), static_cast<size_t>(started.load()));
  for (const auto& r : events_.recordings) EXPECT_TRUE(fs::exists(r.path)) << r.path;
}

// Monitoring: customer, agent and supervisor each send their own tone (500, 1300, 2100 Hz); what
// each phone receives is checked for the others' tones in every mode. Each check first waits
// (bounded) for the mode's audible effect, then measures a window.
class Trio {
 public:
  static constexpr std::array<double, 3> kHz = {500, 1300, 2100};
  static constexpr size_t kCustomer = 0, kAgent = 1, kSupervisor = 2;

  std::array<Peer, 3> peers;
  std::array<uint16_t, 3> ports{};

  // Sends 20 ms from each party, paced like a phone's clock, for `length`; returns the last
  // 200 ms each party received (decoded PCMU).
  std::array<std::vector<int16_t>, 3> Window(std::chrono::milliseconds length = 300ms) {
    std::array<std::vector<int16_t>, 3> heard;
    std::array<uint8_t, 160> payload{};
    std::vector<int16_t> pcm;
    auto next = std::chrono::steady_clock::now();
    for (auto t = 0ms; t < length; t += 20ms) {
      for (size_t p = 0; p < 3; ++p) {
        const auto tone =
            Tone(kHz[p], 8000, 160, 8000, 2 * std::numbers::pi * kHz[p] * pos_ / 8000);
        encoders_[p].Encode(tone, payload);
        peers[p].Send(ports[p], 0, payload);
      }
      pos_ += 160;
      next += 20ms;
      std::this_thread::sleep_until(next);  // pacing the sources, as phones' clocks do
      for (size_t p = 0; p < 3; ++p) {
        while (auto pkt = peers[p].Receive(0ms)) {
          auto r = ParseRtp(*pkt);
          if (!r || r->header.payload_type != 0) continue;
          decoders_[p].Decode(r->payload, pcm);
          heard[p].insert(heard[p].end(), pcm.begin(), pcm.end());
        }
      }
    }
    for (auto& h : heard) {
      if (h.size() > 1600) h.erase(h.begin(), h.end() - 1600);
    }
    return heard;
  }
  // Whether `who` hears party `from` in `window`.
  static bool Hears(const std::array<std::vector<int16_t>, 3>& window, size_t who, size_t from) {
    return window[who].size() >= 800 && ToneShare(window[who], kHz[from], 8000) > 0.15;
  }
  static bool Silent(const std::array<std::vector<int16_t>, 3>& window, size_t who, size_t from) {
    return window[who].size() >= 800 && ToneShare(window[who], kHz[from], 8000) < 0.02;
  }
  // Windows until `pred` holds for one (true) or the deadline passes (false).
  template <typename P>
  std::array<std::vector<int16_t>, 3> WaitFor(P pred, bool& ok) {
    const auto until = std::chrono::steady_clock::now() + kDeadline;
    ok = false;
    std::array<std::vector<int16_t>, 3> w;
    while (!ok && std::chrono::steady_clock::now() < until) {
      w = Window();
      ok = pred(w);
    }
    return w;
  }

 private:
  std::array<Encoder, 3> encoders_{Encoder(AudioCodec::kPcmu), Encoder(AudioCodec::kPcmu),
                                   Encoder(AudioCodec::kPcmu)};
  std::array<Decoder, 3> decoders_{Decoder(AudioCodec::kPcmu), Decoder(AudioCodec::kPcmu),
                                   Decoder(AudioCodec::kPcmu)};
  size_t pos_ = 0;
};

TEST_F(MediaEngineTest, MonitorListenWhisperBargeMixWhoHearsWhom) {
  Start();
  Trio t;
  constexpr size_t C = Trio::kCustomer, A = Trio::kAgent, S = Trio::kSupervisor;
  for (size_t p = 0; p < 3; ++p) t.ports[p] = Connect(p + 1, t.peers[p], kPcmu);
  ASSERT_TRUE(engine_->Bridge(1, 2).ok());
  const std::string path = (dir_ / "monitored.wav").string();
  ASSERT_TRUE(engine_->StartRecording(1, 2, path).ok());
  EXPECT_EQ(engine_->Monitor(1, 1, 3, ports::MonitorMode::kListen).code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(engine_->Monitor(1, 2, 9, ports::MonitorMode::kListen).code(), StatusCode::kNotFound);

  // Listen: the supervisor hears both; nobody hears the supervisor.
  ASSERT_TRUE(engine_->Monitor(1, 2, 3, ports::MonitorMode::kListen).ok());
  bool ok = false;
  auto w = t.WaitFor([&](const auto& w) { return t.Hears(w, S, C) && t.Hears(w, S, A); }, ok);
  ASSERT_TRUE(ok) << "the supervisor never heard both parties";
  w = t.Window();
  EXPECT_TRUE(t.Hears(w, S, C) && t.Hears(w, S, A));
  EXPECT_TRUE(t.Hears(w, C, A) && t.Silent(w, C, S));
  EXPECT_TRUE(t.Hears(w, A, C) && t.Silent(w, A, S));

  // Whisper (a mode change on the same legs): the agent hears the supervisor, the customer not.
  ASSERT_TRUE(engine_->Monitor(1, 2, 3, ports::MonitorMode::kWhisper).ok());
  w = t.WaitFor([&](const auto& w) { return t.Hears(w, A, S); }, ok);
  ASSERT_TRUE(ok) << "whisper never reached the agent";
  w = t.Window();
  EXPECT_TRUE(t.Hears(w, A, S) && t.Hears(w, A, C));
  EXPECT_TRUE(t.Hears(w, C, A) && t.Silent(w, C, S));
  EXPECT_TRUE(t.Hears(w, S, C) && t.Hears(w, S, A));

  // Barge: everyone hears the other two, and nobody hears itself.
  ASSERT_TRUE(engine_->Monitor(1, 2, 3, ports::MonitorMode::kBarge).ok());
  w = t.WaitFor([&](const auto& w) { return t.Hears(w, C, S); }, ok);
  ASSERT_TRUE(ok) << "barge never reached the customer";
  w = t.Window();
  for (size_t who = 0; who < 3; ++who) {
    for (size_t from = 0; from < 3; ++from) {
      if (who == from) {
        EXPECT_TRUE(t.Silent(w, who, from)) << who << " hears itself";
      } else {
        EXPECT_TRUE(t.Hears(w, who, from)) << who << " does not hear " << from;
      }
    }
  }

  // Back to listen: the supervisor drops out of what both hear.
  ASSERT_TRUE(engine_->Monitor(1, 2, 3, ports::MonitorMode::kListen).ok());
  w = t.WaitFor([&](const auto& w) { return t.Silent(w, C, S); }, ok);
  ASSERT_TRUE(ok);
  w = t.Window();
  EXPECT_TRUE(t.Silent(w, A, S) && t.Hears(w, A, C));

  // Stopping restores the plain bridge; the supervisor's leg gets silence.
  engine_->StopMonitor(3);
  w = t.WaitFor([&](const auto& w) { return t.Silent(w, S, C) && t.Silent(w, S, A); }, ok);
  ASSERT_TRUE(ok);
  w = t.Window();
  EXPECT_TRUE(t.Hears(w, C, A) && t.Hears(w, A, C));

  // The recording: customer left, agent right with the barging supervisor mixed in; never the
  // supervisor on the customer's side.
  engine_->StopRecording(1);
  ASSERT_TRUE(events_.WaitFor([&] { return !events_.recordings.empty(); }));
  const Stereo rec = ReadStereo(path);
  ASSERT_GT(rec.right.size(), 1600u);
  double barge_in_right = 0;
  for (size_t i = 0; i + 1600 <= rec.right.size(); i += 800) {
    const auto l = std::span(rec.left).subspan(i, 1600);
    const auto r = std::span(rec.right).subspan(i, 1600);
    EXPECT_LT(ToneShare(l, Trio::kHz[S], 8000), 0.02) << "at sample " << i;
    barge_in_right = std::max(barge_in_right, ToneShare(r, Trio::kHz[S], 8000));
  }
  EXPECT_GT(barge_in_right, 0.15);
}

// Closing the supervisor's leg ends monitoring only: customer and agent stay bridged. Closing
// the agent's leg ends the mix too (no crash, the others keep their legs).
TEST_F(MediaEngineTest, ClosingTheSupervisorsLegRestoresThePlainBridge) {
  Start();
  Trio t;
  constexpr size_t C = Trio::kCustomer, A = Trio::kAgent, S = Trio::kSupervisor;
  for (size_t p = 0; p < 3; ++p) t.ports[p] = Connect(p + 1, t.peers[p], kPcmu);
  ASSERT_TRUE(engine_->Bridge(1, 2).ok());
  ASSERT_TRUE(engine_->Monitor(1, 2, 3, ports::MonitorMode::kBarge).ok());
  bool ok = false;
  auto w = t.WaitFor([&](const auto& w) { return t.Hears(w, C, S) && t.Hears(w, A, S); }, ok);
  ASSERT_TRUE(ok);
  engine_->CloseLeg(3);
  w = t.WaitFor([&](const auto& w) { return t.Silent(w, C, S) && t.Silent(w, A, S); }, ok);
  ASSERT_TRUE(ok);
  EXPECT_TRUE(t.Hears(w, C, A) && t.Hears(w, A, C));
  engine_->StopMonitor(3);  // already gone: ignored
  engine_->CloseLeg(2);
  engine_->CloseLeg(1);
}

// Two loud parties mixed for the supervisor saturate instead of wrapping round.
TEST_F(MediaEngineTest, MixSaturatesInsteadOfWrapping) {
  Start();
  Peer customer, agent, supervisor;
  const uint16_t pc = Connect(1, customer, kPcmu);
  const uint16_t pa = Connect(2, agent, kPcmu);
  Connect(3, supervisor, kPcmu);
  ASSERT_TRUE(engine_->Bridge(1, 2).ok());
  ASSERT_TRUE(engine_->Monitor(1, 2, 3, ports::MonitorMode::kListen).ok());
  // Both send the same full-scale positive level: the sum is clipped to the top, never negative.
  Encoder enc(AudioCodec::kPcmu);
  std::array<uint8_t, 160> payload{};
  const std::vector<int16_t> loud(160, 30000);
  enc.Encode(loud, payload);
  Decoder dec(AudioCodec::kPcmu);
  std::vector<int16_t> pcm;
  bool clipped = false;
  const auto until = std::chrono::steady_clock::now() + kDeadline;
  auto next = std::chrono::steady_clock::now();
  while (!clipped && std::chrono::steady_clock::now() < until) {
    customer.Send(pc, 0, payload);
    agent.Send(pa, 0, payload);
    next += 20ms;
    std::this_thread::sleep_until(next);  // pacing the sources
    while (auto pkt = supervisor.Receive(0ms)) {
      auto r = ParseRtp(*pkt);
      if (!r) continue;
      dec.Decode(r->payload, pcm);
      for (int16_t v : pcm) {
        ASSERT_GE(v, 0) << "the sum wrapped round";
        clipped = clipped || v > 31000;
      }
    }
  }
  EXPECT_TRUE(clipped);
}

// The writer runs on its own thread, named `recording` (top -H, perf) and at nice 10, so that
// under CPU contention the media threads, which cannot wait, come first (docs/media.md); and it
// writes what it is given: a finished file of the chunk's samples.
TEST_F(MediaEngineTest, RecordingWriterRunsOnANamedThreadAtNiceTen) {
  std::promise<std::pair<std::string, int>> seen;
  std::promise<ports::RecordingInfo> finished;
  {
    RecordingWriter writer;
    const std::string path = (dir_ / "one.wav").string();
    writer.Open(1, path, 8000, 1, [&](ports::RecordingInfo info) {
      char name[16] = {};
      pthread_getname_np(pthread_self(), name, sizeof name);
      errno = 0;
      const int nice = ::getpriority(PRIO_PROCESS, static_cast<id_t>(::gettid()));
      seen.set_value({name, nice});
      finished.set_value(std::move(info));
    });
    writer.Write({RecordingWriter::Chunk{1, std::vector<int16_t>(800, 100), {}, true}});
    auto f = finished.get_future();
    ASSERT_EQ(f.wait_for(10s), std::future_status::ready);
    EXPECT_EQ(f.get().bytes, 44u + 1600u);
  }
  const auto [name, nice] = seen.get_future().get();
  EXPECT_EQ(name, "recording");
  EXPECT_GE(nice, 10);  // 10, or the process's own when it runs at more already
}

}  // namespace
}  // namespace parley::media
