// baresip (Debian's baresip-core) as a scripted SIP peer for the voice end-to-end tests: a
// caller that dials the server and presses keys (RFC 4733), or an agent phone that answers by
// itself. Each peer runs its own baresip process on free loopback ports with a configuration
// written into a temporary directory; its microphone is a WAV file and its `sndfile` module
// keeps the audio it sent and received in each call as WAV files, which the tests check with
// tests/voice/audio_check.h. Commands and events go over baresip's ctrl_tcp socket (JSON in
// netstrings). Every wait has a bounded deadline.
//
// One test thread owns a peer; nothing in it is thread-safe.
//
// Registration: baresip 1.0.0 on Debian 12 uses libre 1.1.0, whose digest code gives up with
// ENOSYS ("Register: Function not implemented") when any WWW-Authenticate header names an
// algorithm other than MD5, and Parley challenges with MD5 and SHA-256 (RFC 8760). So an agent
// phone does not register itself: the test registers its address for the agent with the
// agent's SIP password (RegisterAlice in voice_fixture.h), which is what the phone's REGISTER
// would do, and Parley then rings baresip there.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <deque>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "tests/server/server_process.h"
#include "tests/voice/audio_check.h"

namespace parley::testing {

class BaresipPeer {
 public:
  struct Options {
    std::string user;        // the user part of its address: "+447700900123", "alice"
    std::string microphone;  // WAV (8 kHz mono 16-bit) it plays; a call ends when the file does
    bool auto_answer = false;
  };

  // Writes the configuration, starts baresip and connects to its control socket. On failure
  // started() is false and error() says why (baresip missing: run scripts/install-deps.sh).
  explicit BaresipPeer(Options options);
  ~BaresipPeer();  // Stop()
  BaresipPeer(const BaresipPeer&) = delete;
  BaresipPeer& operator=(const BaresipPeer&) = delete;

  bool started() const { return control_fd_ >= 0; }
  const std::string& error() const { return error_; }
  // Its SIP address, where Parley should ring it: sip:USER@127.0.0.1:PORT.
  std::string contact() const;

  // The commands; each returns "" when baresip accepted it, else what went wrong.
  std::string Dial(const std::string& uri);
  std::string SendDigits(const std::string& digits);  // RFC 4733 events in the current call
  std::string HangUp();

  // The next event of `type` (CALL_ESTABLISHED, CALL_CLOSED, ...) not yet taken, or nullopt
  // after `timeout`. Events of other types stay queued.
  std::optional<nlohmann::json> WaitForEvent(
      const std::string& type, std::chrono::milliseconds timeout = std::chrono::seconds(15));

  // The audio of its (latest) call: what it received from the far end and what it sent, read
  // from sndfile's WAVs (also while the call lasts). `error` is set when there is none.
  WavAudio Received() const;
  WavAudio Sent() const;

  // Waits until what it received contains `reference` (correlation >= threshold), re-reading the
  // growing WAV; the match, or nullopt after `timeout`.
  std::optional<Match> WaitToHear(const Audio& reference,
                                  std::chrono::milliseconds timeout = std::chrono::seconds(15),
                                  double threshold = 0.9);

  // Waits until its (latest) call has sent at least `seconds` of audio; false after `timeout`.
  bool WaitToHaveSent(double seconds,
                      std::chrono::milliseconds timeout = std::chrono::seconds(15)) const;

  // Ends baresip (SIGTERM, SIGKILL if it lingers) and returns its exit status (-1 by signal).
  int Stop();
  // baresip's own output, for failure messages.
  std::string log() const;

  // Call control from the phone (tests/voice/baresip_call_control_e2e_test.cc). baresip 1.0.0's
  // commands for its current call: `hold` and `resume` send a re-INVITE with a=sendonly and
  // a=sendrecv; `transfer URI` sends a REFER (blind transfer) to URI. It has no attended
  // transfer (no REFER with Replaces). Each returns "" when baresip accepted it.
  std::string Hold();
  std::string Resume();
  std::string Transfer(const std::string& uri);

 private:
  // One attempt to start baresip on fresh ports; false with error_ set.
  bool Start(const std::string& modules);
  std::string Command(const std::string& command, const std::string& params);
  // Reads from the control socket until one whole message is queued or `deadline`; false on
  // timeout or a closed socket.
  bool ReadMessage(std::chrono::steady_clock::time_point deadline);
  std::string LatestSnd(const std::string& suffix) const;

  Options options_;
  TempDir dir_;
  int sip_port_ = 0;
  int control_port_ = 0;
  pid_t pid_ = -1;
  int control_fd_ = -1;
  std::string error_;
  std::string buffer_;                // bytes read but not yet a whole netstring
  std::deque<nlohmann::json> inbox_;  // messages read and not yet taken
  int next_token_ = 1;

  // For the monitoring, click-to-dial and call-control tests (baresip_monitor_e2e_test.cc).
 public:
  // The port of its SIP address (a site file names it as a trunk's address).
  int sip_port() const { return sip_port_; }
  // How many samples it has received in its (latest) call so far; 0 before any.
  size_t ReceivedSamples() const;
  // Waits until its (latest) call has received at least `samples`; false after `timeout`.
  bool WaitToReceive(size_t samples,
                     std::chrono::milliseconds timeout = std::chrono::seconds(15)) const;
  // As WaitToHear, in what it received from sample `from` on (a moment the test marked with
  // ReceivedSamples); the match's lag counts from `from`.
  std::optional<Match> WaitToHearAfter(const Audio& reference, size_t from,
                                       std::chrono::milliseconds timeout = std::chrono::seconds(15),
                                       double threshold = 0.9) const;
};

}  // namespace parley::testing
