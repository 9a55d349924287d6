#pragma once
// SipServer: Parley's SIP signalling over sofia-sip (UDP and TCP). It is the registrar for agent
// phones (digest authentication against the users' SIP credentials, bans through SipGuard), the
// user agent server for customers' calls (from trusted trunk addresses or authenticated users;
// the Request-URI user is the entry point), and the client that rings agents' phones when the
// ACD offers a call: a back-to-back user agent with media anchored in the MediaPlane.
//
// Ownership and threads: SipServer owns one thread that runs sofia-sip's su_root and every
// nua call; nothing else touches nua. The ChannelAdapter methods (engine thread) and media
// events (media threads) are posted into that thread. Calls into the engine go through the
// ports, which never block; their replies are posted back. Start/Stop from one owner thread.

#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "auth/sip_digest.h"
#include "auth/users.h"
#include "base/clock.h"
#include "base/status.h"
#include "ports/channel.h"
#include "ports/contact_center.h"
#include "ports/media_plane.h"
#include "ports/store.h"
#include "sip/registrar.h"

namespace parley::sip {

// A carrier's SIP trunk: INVITEs from these source addresses are trusted without digest.
struct SipTrunk {
  std::string name;
  std::vector<std::string> addresses;  // numeric IPv4/IPv6
};

// Where outbound calls go (config's voice.trunks[].outbound of voice.outbound_trunk): INVITEs to
// sip:NUMBER@host:port;transport=..., digest challenges answered with username and password.
struct SipOutboundTrunk {
  std::string name;  // "" = no outbound calls
  std::string host;
  uint16_t port = 5060;
  std::string transport = "udp";  // udp, tcp or tls
  std::string username;
  std::string password;  // never logged
  std::string caller_id;
};

struct SipServerOptions {
  std::string address = "0.0.0.0";  // listen address (UDP and TCP)
  uint16_t port = 5060;
  // SIP over TLS (sips:) on this port of `address` too; 0 = none. `tls_dir` holds agent.pem
  // (private key, then certificate chain) and cafile.pem, as sofia-sip reads them.
  uint16_t tls_port = 0;
  std::string tls_dir;
  std::string realm = "parley";  // digest realm; users' SIP passwords are set for it
  std::vector<SipTrunk> trunks;
  size_t max_message_bytes = 16 * 1024;  // larger messages are refused by the stack
  RegistrarPolicy registrar;
  auth::SipGuardPolicy guard;
  Duration session_timer = Seconds(1800);  // RFC 4028 refresh interval asked of peers
  // Longest ring of a phone: an agent's (`voice.ring_timeout`: a phone that rings out declines
  // the offer, offer.rejected; when the queue's offer timeout is not longer, the engine's offer
  // timeout ends the ring instead, offer.timed_out) and a supervisor's or consulted agent's call.
  Duration ring_timeout = Seconds(20);
  std::string user_agent = "Parley";
  // Call recordings are written under DIR/YYYY/MM/DD/<contact>.wav (UTC date of the start);
  // "" refuses to record (docs/voice.md, "Recording").
  std::string recordings_dir;
  // Click-to-dial (docs/voice.md, "Outbound calls"): the trunk, the number prefixes a call may be
  // placed to (none: no outbound calls), and how long the customer's phone may ring.
  SipOutboundTrunk outbound;
  std::vector<std::string> outbound_destinations;
  Duration outbound_ring_timeout = Seconds(60);
};

struct SipCounters {
  uint64_t requests = 0;
  uint64_t bad_requests = 0;  // answered 400/488 by us (malformed headers, SDP)
  uint64_t auth_challenges = 0;
  uint64_t auth_failures = 0;  // wrong or unknown credentials
  uint64_t banned_requests = 0;
  uint64_t bans = 0;
  uint64_t registrations = 0;       // successful REGISTERs
  uint64_t calls_in = 0;            // customer INVITEs accepted by the engine
  uint64_t calls_refused = 0;       // 403/404/488/503 to a customer INVITE
  uint64_t agent_legs = 0;          // INVITEs sent to agents' phones
  uint64_t calls_out = 0;           // outbound INVITEs sent to the trunk
  uint64_t calls_out_answered = 0;  // ... answered by the customer
  uint64_t calls_out_failed = 0;    // ... that did not connect (busy, no answer, refused, ...)
  uint64_t calls_out_refused = 0;   // click-to-dial refused: number outside outbound_destinations
  // REFERs with Replaces refused (403, 481): the dialog named is not the call's consultation.
  uint64_t refers_refused = 0;
  // Offers refused (malformed, or nothing we take) in a peer's 2xx to a session refresh of ours:
  // ACKed, then the dialog is ended with BYE.
  uint64_t refresh_offers_refused = 0;
  std::map<std::string, uint64_t> requests_by_method;  // requests that reached us, by method
  // Responses by class (index 0: 1xx ... 5: 6xx): those Parley's code sent, and those it received
  // to its own requests (INVITEs to phones, BYE, CANCEL, NOTIFY, ...).
  std::array<uint64_t, 6> responses_sent{};
  std::array<uint64_t, 6> responses_received{};
  uint64_t calls_active = 0;          // customer calls held now (until their last dialog ends)
  uint64_t registrations_active = 0;  // phone bindings not yet expired
};

class SipServer final : public ports::ChannelAdapter {
 public:
  struct Deps {
    const Clock& clock;
    const auth::UserDirectory& users;
    ports::ChannelIntake* intake;  // null: INVITEs get 503 (no engine attached)
    ports::ContactCenter* center;  // for AcceptOffer / RejectOffer / EndHandling
    ports::MediaPlane& media;
    // Phones' registrations are stored here and restored at start (null: in memory only).
    ports::SipRegistrations* registrations = nullptr;
  };
  SipServer(SipServerOptions options, Deps deps);
  ~SipServer() override;
  SipServer(const SipServer&) = delete;
  SipServer& operator=(const SipServer&) = delete;

  // Starts the thread and binds UDP and TCP; kUnavailable when the address cannot be bound.
  Status Start();
  // Ends calls (BYE), stops the stack and joins. Idempotent.
  void Stop();

  SipCounters counters() const;

  // ports::ChannelAdapter (engine thread; each is posted to the SIP thread).
  void Play(ContactId contact, const ports::PlayRequest& request) override;
  void StopPlayback(ContactId contact) override;
  void SendText(ContactId contact, const ports::TextMessage& message) override;
  void Hangup(ContactId contact) override;
  void OfferToAgent(ContactId contact, const std::string& agent, Duration timeout) override;
  void OfferWithdrawn(ContactId contact, const std::string& agent) override;
  void ContactEnded(ContactId contact) override;
  void PrepareRecording(ContactId contact, const ports::RecordingPlan& plan) override;
  void RecordingControl(ContactId contact, ports::RecordingCommand command) override;
  void ControlCall(ContactId contact, ports::CallCommand command,
                   std::function<void(Status)> done) override;
  void PlaceCall(ContactId contact, ports::OutboundDial dial,
                 std::function<void(Status)> done) override;
  void RecordVoicemail(ContactId contact, const ports::VoicemailRequest& request) override;

  class Impl;  // the SIP thread's state (sip_server.cc)

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace parley::sip
