#include "sip/sip_server.h"

#include <netdb.h>
#include <sofia-sip/msg_addr.h>
#include <sofia-sip/nua.h>
#include <sofia-sip/nua_tag.h>
#include <sofia-sip/sip_header.h>
#include <sofia-sip/sip_status.h>
#include <sofia-sip/su_wait.h>
#include <sofia-sip/tport_tag.h>
#include <sofia-sip/url.h>
#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <deque>
#include <filesystem>
#include <functional>
#include <future>
#include <map>
#include <mutex>
#include <optional>
#include <source_location>
#include <thread>
#include <unordered_map>
#include <utility>

#include "auth/crypto.h"
#include "base/log.h"
#include "base/owed_reply.h"
#include "base/thread_name.h"
#include "sip/binding_writer.h"
#include "sip/call_control.h"
#include "sip/digest_header.h"
#include "sip/recording_recovery.h"
#include "sip/replaces.h"
#include "sip/sdp.h"
#include "sip/voicemail.h"

namespace parley::sip {

namespace {

std::string UrlText(const url_t* url) {
  if (url == nullptr) return "";
  char buf[1024];
  const isize_t n = url_e(buf, sizeof buf, url);
  if (n <= 0 || static_cast<size_t>(n) >= sizeof buf) return "";
  return std::string(buf, static_cast<size_t>(n));
}

std::string Str(const char* s) { return s == nullptr ? "" : s; }

std::string SourceOf(nua_t* nua) {
  msg_t* msg = nua_current_request(nua);
  if (msg == nullptr) return "";
  su_addrinfo_t* ai = msg_addrinfo(msg);
  if (ai == nullptr || ai->ai_addr == nullptr) return "";
  char host[NI_MAXHOST];
  if (getnameinfo(reinterpret_cast<const sockaddr*>(ai->ai_addr),
                  static_cast<socklen_t>(ai->ai_addrlen), host, sizeof host, nullptr, 0,
                  NI_NUMERICHOST) != 0) {
    return "";
  }
  std::string out = host;
  if (out.rfind("::ffff:", 0) == 0) out = out.substr(7);  // IPv4-mapped
  return out;
}

// kExternal: the number a call was blind-transferred to, called through the outbound trunk.
// kTransferor: the agent's own phone calling a colleague about the call (a consultation from
// the phone, dialog A2 of RFC 5589's attended transfer).
enum class Role : uint8_t { kCustomer, kAgent, kSupervisor, kConsulted, kExternal, kTransferor };

// How much later than the engine's offer timeout an unanswered phone is cancelled by Parley itself
// (RingLimit): only when the engine's withdrawal never came.
constexpr Duration kRingBackupMargin = Seconds(5);

// The SIP UDP socket's buffers (SO_RCVBUF/SO_SNDBUF). Linux caps them at net.core.rmem_max and
// wmem_max (208 KiB on a stock kernel, so raise those on a busy server: docs/operations.md).
constexpr unsigned kSipReceiveBuffer = 4u << 20;
constexpr unsigned kSipSendBuffer = 1u << 20;

// The NOTIFY that ends a REFER's implicit subscription with the outcome as a sipfrag (RFC 3515).
void SendReferNotify(nua_handle_t* nh, const std::string& event, int status, const char* phrase) {
  const std::string frag = "SIP/2.0 " + std::to_string(status) + " " + phrase + "\r\n";
  nua_notify(nh, NUTAG_SUBSTATE(nua_substate_terminated), SIPTAG_EVENT_STR(event.c_str()),
             SIPTAG_CONTENT_TYPE_STR("message/sipfrag;version=2.0"),
             SIPTAG_PAYLOAD_STR(frag.c_str()), TAG_END());
}

// The event of a REFER's implicit subscription ("refer;id=..."), for its NOTIFYs.
std::string ReferEventOf(tagi_t tags[]) {
  sip_event_t const* event = nullptr;
  tl_gets(tags, NUTAG_REFER_EVENT_REF(event), TAG_END());
  std::string text = event != nullptr ? Str(event->o_type) : "refer";
  if (event != nullptr && event->o_params != nullptr) {
    for (msg_param_t const* p = event->o_params; *p != nullptr; ++p) text += ";" + Str(*p);
  }
  return text;
}

// A Warning header (RFC 3261 section 20.43) carrying why Parley refused a request.
std::string WarningHeader(std::string why) {
  std::replace(why.begin(), why.end(), '"', '\'');
  return "Warning: 399 parley \"" + why + "\"";
}

}  // namespace

class SipServer::Impl {
 public:
  Impl(SipServerOptions options, Deps deps)
      : options_(std::move(options)),
        deps_(deps),
        nonces_(auth::RandomBytes(32)),
        guard_(options_.guard),
        registrar_(options_.registrar),
        voicemail_(deps_.media, deps_.intake, deps_.clock,
                   [this](ContactId contact) { return VoicemailPath(contact); }) {
    if (deps_.registrations != nullptr) {
      binding_writer_ = std::make_unique<BindingWriter>(*deps_.registrations);
    }
  }

  ~Impl() { Stop(); }

  Status Start() {
    std::promise<Status> started;
    auto result = started.get_future();
    thread_ = std::thread([this, &started] {
      NameThisThread("sip");
      Run(started);
    });
    Status s = result.get();
    if (!s.ok()) thread_.join();
    return s;
  }

  void Stop() {
    {
      std::lock_guard lock(mu_);
      if (!running_) return;
    }
    Post([this] { BeginShutdown(); });
    thread_.join();
    {
      std::unique_lock lock(closing_mu_);
      closing_cv_.wait(lock, [this] { return closing_legs_ == 0; });
    }
    if (binding_writer_) binding_writer_->Flush();
  }

  // Runs `work` on the SIP thread; dropped once the server stopped.
  //
  // Threading rule: nua_*, su_timer_*, the handles and every Call belong to the SIP thread (the
  // one in su_root_run); other threads reach them only through Post. Post may run on any
  // thread: sofia-sip's messages to a task are its documented cross-thread mechanism (the
  // pthread port locks its queue and makes its home thread-safe; su_task_execute does the
  // same), and `mu_` keeps `root_` from going away meanwhile. nua's stack runs in the same
  // loop (threading is off, see Run), so its callbacks come on the SIP thread too. A handle is
  // forgotten (handles_) before nua_handle_destroy, and a Call is freed only by MaybeForget once no
  // handle refers to it: code that calls EndCall or MaybeForget must not use the Call afterwards.
  void Post(std::function<void()> work) {
    std::lock_guard lock(mu_);
    if (!running_ || root_ == nullptr) return;
    queue_.push_back(std::move(work));
    // One wake-up message drains everything queued until it runs: under load the engine posts
    // several effects per step, and each message costs an allocation and a write to sofia's
    // mailbox socket.
    if (wake_pending_) return;
    su_msg_r msg = SU_MSG_R_INIT;
    if (su_msg_create(msg, su_root_task(root_), su_task_null, &Impl::OnWake, 0) == 0) {
      wake_pending_ = su_msg_send(msg) == 0;
    }
  }

  ports::MediaPlane& media() { return deps_.media; }

  SipCounters counters() const {
    std::lock_guard lock(mu_);
    SipCounters c = counters_;
    // Bindings that expired since the last REGISTER are not active any more.
    c.registrations_active = CountUnexpired(binding_expiries_, deps_.clock.Now());
    auto g = guard_.counters();
    c.bans = g.bans;
    c.banned_requests = g.rejected_while_banned;
    return c;
  }

  // ---- ChannelAdapter, on the SIP thread ----
  void Play(ContactId contact, ports::PlayRequest request) {
    if (Call* c = CallOf(contact); c && !c->announcing)
      deps_.media.Play(c->customer_leg, request.play_id, request.prompt, request.loop);
  }
  void StopPlayback(ContactId contact) {
    // The flow stops its music when the agent answers; a recording announcement plays on.
    if (Call* c = CallOf(contact); c && !c->announcing) deps_.media.StopPlayback(c->customer_leg);
  }
  void Hangup(ContactId contact) {
    if (Call* c = CallOf(contact)) EndCall(*c, /*tell_engine=*/false);
  }
  void OfferToAgent(ContactId contact, const std::string& agent, Duration timeout);
  void OfferWithdrawn(ContactId contact, const std::string& agent);
  void PrepareRecording(ContactId contact, const ports::RecordingPlan& plan);
  void RecordingControl(ContactId contact, ports::RecordingCommand command);
  void RecordVoicemail(ContactId contact, const ports::VoicemailRequest& request);

 private:
  struct Fork {
    nua_handle_t* nh = nullptr;
    bool done = false;  // final response seen or cancelled
  };
  struct Call {
    uint64_t id = 0;
    nua_handle_t* customer = nullptr;
    bool customer_gone = false;  // CANCEL, BYE or terminated
    bool answered = false;       // 200 sent to the customer
    ContactId contact;           // zero until the engine replied
    ports::LegId customer_leg = 0;
    ports::RtpEndpoint customer_local;
    ports::MediaFormat customer_format;
    uint64_t sdp_version = 1;
    std::string from_number;
    // The offer to an agent's phone(s).
    std::string agent;
    std::vector<Fork> forks;
    su_timer_t* ring_timer = nullptr;
    nua_handle_t* agent_nh = nullptr;  // the phone that answered
    ports::LegId agent_leg = 0;
    bool agent_leg_open = false;
    bool bridged = false;
    // Recording and media quality (issue 6).
    ports::RecordingPlan recording_plan;  // for the offer being rung
    bool record_requested = false;        // start once bridged (RecordingCommand::kStart)
    bool recording = false;
    bool announcing = false;      // the recording announcement plays; bridged when it ends
    std::string connected_agent;  // the agent whose phone answered
    bool held = false;            // call control: unbridged, music to the customer
    bool phone_held = false;      // the agent's phone asked for it (so only it resumes)
    // A blind transfer the agent's phone asked for (REFER): its implicit subscription's event,
    // answered with a final NOTIFY (RFC 3515) before the phone is released.
    std::string refer_event;
    // Supervisor monitoring (docs/voice.md, "Supervisor monitoring"): the user monitoring (""
    // none), the phones rung for it, the one that answered and its media leg.
    std::string monitor_user;
    ports::MonitorMode monitor_mode = ports::MonitorMode::kListen;
    std::vector<Fork> monitor_forks;
    nua_handle_t* monitor_nh = nullptr;
    su_timer_t* monitor_ring_timer = nullptr;  // ends the ringing after options_.ring_timeout
    ports::LegId monitor_leg = 0;
    bool monitor_leg_open = false;
    ports::RtpEndpoint monitor_local;
    // Consultation transfer (docs/voice.md, "Consultation transfer"): the agent consulted (""
    // none), its phones rung, the one that answered and its media leg, bridged to the agent's.
    std::string consult_agent;
    std::vector<Fork> consult_forks;
    nua_handle_t* consult_nh = nullptr;
    su_timer_t* consult_ring_timer = nullptr;
    ports::LegId consult_leg = 0;
    bool consult_leg_open = false;
    ports::RtpEndpoint consult_local;
    bool conference = false;  // customer, agent and consulted agent in the 3-leg barge mix
    // A consultation the agent's phone started with an INVITE of its own (dialog A2): that
    // dialog and its media leg stand for the agent in the consultation (bridged to the target's)
    // while the call's agent leg (A1) holds; answered when the target answers. A1, A2 and the
    // target's dialog as a REFER with Replaces names them.
    nua_handle_t* transferor_nh = nullptr;
    bool transferor_answered = false;
    ports::LegId transferor_leg = 0;
    bool transferor_leg_open = false;
    ports::RtpEndpoint transferor_local;
    ports::MediaFormat transferor_format;
    std::string transferor_login;
    DialogId transferor_dialog;
    DialogId agent_dialog;
    DialogId consult_dialog;
    // A REFER with Replaces completing the consultation: its dialog and subscription's event,
    // for the final NOTIFY.
    nua_handle_t* replaces_refer_nh = nullptr;
    std::string replaces_refer_event;
    // Click-to-dial (docs/voice.md, "Outbound calls"): the agent's phone rings first; when it
    // answers, `customer` is Parley's INVITE to the trunk for `dial_number`.
    bool outbound = false;
    bool offer = false;  // a callback the ACD offered: the agent's answer accepts it first
    std::string dial_number;
    bool auth_answered = false;  // the carrier's digest challenge was answered once
    bool early_bridged = false;  // bridged on the carrier's early media (ringback)
    // Blind transfer to one agent (docs/voice.md, "Call control"): the consult_* fields ring the
    // target while the first agent is gone; the target answering becomes the agent leg.
    bool blind_transfer = false;
    // Blind transfer to a number: Parley's INVITE to the trunk, its media leg, bridged to the
    // customer on early media or the answer.
    std::string ext_number;
    nua_handle_t* ext_nh = nullptr;
    ports::LegId ext_leg = 0;
    bool ext_leg_open = false;
    ports::RtpEndpoint ext_local;
    ports::MediaFormat ext_format;
    su_timer_t* ext_ring_timer = nullptr;
    bool ext_auth_answered = false;
    bool ext_answered = false;
    bool ext_bridged = false;
  };
  struct HandleRef {
    uint64_t call = 0;
    Role role = Role::kCustomer;
    // The dialog is up: our INVITE on this handle got its 2xx, or the peer's INVITE started it.
    bool established = false;
    // The stack refreshes this dialog with re-INVITEs without SDP and leaves their ACK to us
    // (ChooseRefresh): the 2xx carries the peer's offer, the ACK our answer (AckRefresh).
    bool acks_refreshes = false;
  };
  // The dialogs' handles and the call each belongs to, with a count per call so a call can be
  // forgotten once its last handle goes without a scan of every handle (MaybeForget ran once
  // per dialog event and was the SIP thread's costliest function of ours under call load).
  class HandleTable {
   public:
    using Map = std::unordered_map<nua_handle_t*, HandleRef>;
    // `answered_by_us`: the dialog came with the peer's INVITE, so it has no INVITE of ours
    // still to answer.
    void Add(nua_handle_t* nh, uint64_t call, Role role, bool answered_by_us = false) {
      auto [it, added] = map_.try_emplace(nh, HandleRef{call, role, answered_by_us});
      if (!added) {
        Drop(it->second.call);
        it->second = HandleRef{call, role, answered_by_us};
      }
      ++per_call_[call];
    }
    void SetRole(nua_handle_t* nh, Role role) {
      if (auto it = map_.find(nh); it != map_.end()) it->second.role = role;
    }
    void SetAcksRefreshes(nua_handle_t* nh) {
      if (auto it = map_.find(nh); it != map_.end()) it->second.acks_refreshes = true;
    }
    void erase(Map::iterator it) {
      Drop(it->second.call);
      map_.erase(it);
    }
    Map::iterator find(nua_handle_t* nh) { return map_.find(nh); }
    Map::const_iterator find(nua_handle_t* nh) const { return map_.find(nh); }
    Map::iterator end() { return map_.end(); }
    Map::const_iterator end() const { return map_.end(); }
    size_t count(nua_handle_t* nh) const { return map_.count(nh); }
    bool AnyFor(uint64_t call) const { return per_call_.count(call) != 0; }

   private:
    void Drop(uint64_t call) {
      auto it = per_call_.find(call);
      if (it != per_call_.end() && --it->second == 0) per_call_.erase(it);
    }
    Map map_;
    std::unordered_map<uint64_t, size_t> per_call_;
  };

  static void OnWake(su_root_magic_t* magic, su_msg_r, su_msg_arg_t*) {
    static_cast<Impl*>(magic)->Drain();
  }
  void Drain() {
    std::deque<std::function<void()>> work;
    {
      std::lock_guard lock(mu_);
      work.swap(queue_);
      wake_pending_ = false;
    }
    for (auto& w : work) w();
  }

  static void OnEvent(nua_event_t event, int status, char const* phrase, nua_t* nua,
                      nua_magic_t* magic, nua_handle_t* nh, nua_hmagic_t*, sip_t const* sip,
                      tagi_t tags[]) {
    static_cast<Impl*>(magic)->Event(event, status, phrase, nua, nh, sip, tags);
  }

  void Run(std::promise<Status>& started) {
    su_init();
    su_root_t* root = su_root_create(this);
    if (root == nullptr) {
      su_deinit();
      started.set_value(Internal("sofia-sip: su_root_create failed"));
      return;
    }
    const bool ipv6 = options_.address.find(':') != std::string::npos;
    const std::string host = ipv6 ? "[" + options_.address + "]" : options_.address;
    const std::string url = "sip:" + host + ":" + std::to_string(options_.port);
    // sips: only when asked; TAG_IF leaves the tags out otherwise.
    const std::string sips_url =
        "sips:" + host + ":" + std::to_string(options_.tls_port) + ";transport=tls";
    const bool tls = options_.tls_port != 0;
    // RFC 4028's floor for Min-SE is 90 s; a shorter configured interval (tests, labs) lowers
    // it too, or the stack would stretch every session to 90 s. A peer that insists on 90 s
    // answers 422 and the stack retries with its Min-SE.
    const auto session_seconds = static_cast<unsigned>(
        std::chrono::duration_cast<std::chrono::seconds>(options_.session_timer).count());
    // nua's stack shares this thread's loop instead of running in a thread of its own: each
    // nua_* call and each event was otherwise a message between two threads with a wake-up, and
    // under call load those context switches were most of the SIP CPU. The stack never blocks
    // (its DNS is asynchronous), so one loop does.
    su_root_threading(root, 0);
    nua_ = nua_create(root, &Impl::OnEvent, this, NUTAG_URL(url.c_str()),
                      TAG_IF(tls, NUTAG_SIPS_URL(sips_url.c_str())),
                      TAG_IF(tls, TPTAG_CERTIFICATE(options_.tls_dir.c_str())),
                      // Phones are not asked for a certificate (digest authenticates them);
                      // a carrier's certificate must chain to cafile.pem and name its host.
                      TAG_IF(tls, TPTAG_TLS_VERIFY_POLICY(TPTLS_VERIFY_SUBJECTS_OUT)),
                      NUTAG_MEDIA_ENABLE(0), NUTAG_AUTOANSWER(0), NUTAG_AUTOACK(1),
                      NUTAG_ALLOW("INVITE, ACK, BYE, CANCEL, OPTIONS, REGISTER, UPDATE, REFER"),
                      NUTAG_APPL_METHOD("REGISTER"), NUTAG_APPL_METHOD("REFER"),
                      NUTAG_SESSION_TIMER(session_seconds),
                      NUTAG_MIN_SE(std::min(session_seconds, 90u)),
                      SIPTAG_USER_AGENT_STR(options_.user_agent.c_str()),
                      NTATAG_MAXSIZE(options_.max_message_bytes),
                      // Room for a burst while this thread is busy or off the CPU: at a thousand
                      // calls per second the default 208 KiB holds some 50 ms of requests and
                      // responses, and a datagram dropped there comes back only as the peer's
                      // retransmission 500 ms later (the kernel caps it at net.core.rmem_max).
                      TPTAG_UDP_RMEM(kSipReceiveBuffer), TPTAG_UDP_WMEM(kSipSendBuffer), TAG_END());
    if (nua_ == nullptr) {
      su_root_destroy(root);
      su_deinit();
      started.set_value(Unavailable(
          "cannot listen for SIP on " + url +
          (tls ? " and " + sips_url + " (certificate in " + options_.tls_dir + ")" : "")));
      return;
    }
    RestoreRegistrations();
    {
      std::lock_guard lock(mu_);
      root_ = root;
      running_ = true;
    }
    started.set_value(Status::Ok());
    su_root_run(root);
    std::deque<std::function<void()>> dropped;
    {
      std::lock_guard lock(mu_);
      running_ = false;
      root_ = nullptr;
      dropped.swap(queue_);
    }
    dropped.clear();  // outside the lock: a dropped reply answers its caller (OweReply)
    nua_destroy(nua_);
    nua_ = nullptr;
    su_root_destroy(root);
    su_deinit();
  }

  void BeginShutdown() {
    std::vector<uint64_t> ids;
    for (auto& [id, call] : calls_) ids.push_back(id);
    for (uint64_t id : ids) {
      if (auto it = calls_.find(id); it != calls_.end()) EndCall(*it->second, true);
    }
    nua_shutdown(nua_);
  }

  // Every final or provisional response Parley's code sends goes through here, counted by class
  // (parley_sip_responses_total{direction="sent"}); the stack's own automatic answers (100
  // Trying, 200 to CANCEL, 481 to stray requests) are not.
  template <typename... Tags>
  void Respond(nua_handle_t* nh, int status, char const* phrase, Tags... tags) {
    CountResponse(&SipCounters::responses_sent, status);
    nua_respond(nh, status, phrase, tags...);
  }
  void CountResponse(std::array<uint64_t, 6> SipCounters::*field, int status) {
    if (status < 100 || status > 699) return;  // the stack's internal codes (900+)
    std::lock_guard lock(mu_);
    ++(counters_.*field)[static_cast<size_t>(status / 100 - 1)];
  }

  void Count(uint64_t SipCounters::*field) {
    std::lock_guard lock(mu_);
    ++(counters_.*field);
  }
  void CountRequest(sip_t const* sip) {
    const std::string method =
        sip != nullptr && sip->sip_request != nullptr ? Str(sip->sip_request->rq_method_name) : "";
    std::lock_guard lock(mu_);
    ++counters_.requests;
    if (!method.empty()) ++counters_.requests_by_method[method];
  }
  // The gauges, after calls_ or the registrar changed (SIP thread).
  void UpdateGauges() {
    std::lock_guard lock(mu_);
    counters_.calls_active = calls_.size();
    binding_expiries_ = registrar_.Expiries();
  }

  bool IsTrunk(const std::string& source) const {
    for (const auto& t : options_.trunks) {
      if (std::find(t.addresses.begin(), t.addresses.end(), source) != t.addresses.end()) {
        return true;
      }
    }
    return false;
  }

  Call* CallOf(ContactId contact) {
    auto it = by_contact_.find(contact.value());
    if (it == by_contact_.end()) return nullptr;
    auto c = calls_.find(it->second);
    return c == calls_.end() ? nullptr : c->second.get();
  }

  // ---- authentication ----
  enum class AuthOutcome : uint8_t { kOk, kChallenged, kRefused };
  // Checks the request's digest; on failure answers it (401 challenge, or 403) and says so.
  AuthOutcome Authenticate(nua_t* nua, nua_handle_t* nh, sip_t const* sip,
                           const std::string& source, std::string* login) {
    const TimePoint now = deps_.clock.Now();
    if (guard_.IsBanned(source, now)) {
      Respond(nh, SIP_403_FORBIDDEN, NUTAG_WITH_THIS(nua), TAG_END());
      return AuthOutcome::kRefused;
    }
    std::optional<auth::DigestCredentials> creds;
    for (const msg_auth_t* a = sip->sip_authorization; a != nullptr && !creds; a = a->au_next) {
      std::vector<std::string> params;
      for (msg_param_t const* p = a->au_params; p != nullptr && *p != nullptr; ++p) {
        params.emplace_back(*p);
      }
      creds = ParseDigestParams(Str(a->au_scheme), params);
      if (creds && creds->realm != options_.realm) creds.reset();
    }
    if (!creds) {
      Challenge(nua, nh, false);
      return AuthOutcome::kChallenged;
    }
    const std::string method = Str(sip->sip_request->rq_method_name);
    auto user = deps_.users.FindByLogin(creds->username);
    const auto result = auth::CheckSipCredentials(*creds, method, user ? &*user : nullptr, nonces_,
                                                  guard_, source, now);
    switch (result) {
      case auth::SipAuthResult::kOk:
        *login = creds->username;
        return AuthOutcome::kOk;
      case auth::SipAuthResult::kStale:
        Challenge(nua, nh, true);
        return AuthOutcome::kChallenged;
      case auth::SipAuthResult::kDenied:
      case auth::SipAuthResult::kBanned:
        // Unknown user and wrong password get the same answer.
        Count(&SipCounters::auth_failures);
        Respond(nh, SIP_403_FORBIDDEN, NUTAG_WITH_THIS(nua), TAG_END());
        return AuthOutcome::kRefused;
    }
    return AuthOutcome::kRefused;
  }

  void Challenge(nua_t* nua, nua_handle_t* nh, bool stale) {
    Count(&SipCounters::auth_challenges);
    const std::string nonce = nonces_.Issue(options_.realm, deps_.clock.Now());
    // MD5 first: RFC 8760 asks for the preferred algorithm first, but phones and test tools that
    // know only MD5 (sipp among them) give up when the first challenge is SHA-256, while
    // SHA-256-capable phones still find theirs in the second header.
    const std::string headers =
        "WWW-Authenticate: " +
        DigestChallenge(auth::DigestAlgorithm::kMd5, options_.realm, nonce, stale) +
        "\r\nWWW-Authenticate: " +
        DigestChallenge(auth::DigestAlgorithm::kSha256, options_.realm, nonce, stale);
    Respond(nh, SIP_401_UNAUTHORIZED, NUTAG_WITH_THIS(nua), SIPTAG_HEADER_STR(headers.c_str()),
            TAG_END());
  }

  // ---- events ----
  void Event(nua_event_t event, int status, char const* phrase, nua_t* nua, nua_handle_t* nh,
             sip_t const* sip, tagi_t tags[]) {
    if (event != nua_i_register && log::Enabled(log::Level::kDebug)) {
      const auto h = handles_.find(nh);
      log::Debug("sip", nua_event_name(event),
                 {{"status", status},
                  {"phrase", phrase != nullptr ? phrase : ""},
                  {"call", h != handles_.end() ? h->second.call : 0},
                  {"role", h != handles_.end() ? static_cast<int>(h->second.role) : -1}});
    }
    switch (event) {
      case nua_r_invite:
      case nua_r_bye:
      case nua_r_cancel:
      case nua_r_notify:
      case nua_r_info:
      case nua_r_refer:
      case nua_r_options:
      case nua_r_message:
      case nua_r_update:
        CountResponse(&SipCounters::responses_received, status);
        break;
      default:
        break;
    }
    switch (event) {
      case nua_i_register:
        CountRequest(sip);
        OnRegister(nua, nh, sip);
        nua_handle_destroy(nh);
        return;
      case nua_i_options:
      case nua_i_message:
      case nua_i_subscribe:
      case nua_i_notify:
      case nua_i_info:
      case nua_i_publish:
        CountRequest(sip);
        if (handles_.count(nh) == 0) nua_handle_destroy(nh);
        return;
      case nua_i_invite:
        CountRequest(sip);
        OnInvite(nua, nh, sip);
        return;
      case nua_i_refer:
        CountRequest(sip);
        OnRefer(nua, nh, sip, tags);
        return;
      case nua_r_invite:
        OnInviteResponse(nh, status, sip);
        return;
      case nua_i_ack:
        OnAck(nh, sip);
        return;
      case nua_i_bye:
        CountRequest(sip);
        OnRemoteHangup(nh);
        return;
      case nua_i_cancel:
        CountRequest(sip);
        OnRemoteHangup(nh);
        return;
      case nua_i_state: {
        int state = nua_callstate_init;
        tl_gets(tags, NUTAG_CALLSTATE_REF(state), TAG_END());
        if (state == nua_callstate_terminated) OnTerminated(nh);
        return;
      }
      case nua_r_shutdown:
        if (status >= 200) su_root_break(root_);
        return;
      default:
        (void)phrase;
        return;
    }
  }

  void OnRegister(nua_t* nua, nua_handle_t* nh, sip_t const* sip) {
    const std::string source = SourceOf(nua);
    if (sip->sip_to == nullptr || sip->sip_call_id == nullptr || sip->sip_cseq == nullptr) {
      Count(&SipCounters::bad_requests);
      Respond(nh, SIP_400_BAD_REQUEST, NUTAG_WITH_THIS(nua), TAG_END());
      return;
    }
    std::string login;
    if (Authenticate(nua, nh, sip, source, &login) != AuthOutcome::kOk) return;
    // A user registers only its own address of record.
    if (Str(sip->sip_to->a_url->url_user) != login) {
      Count(&SipCounters::auth_failures);
      Respond(nh, SIP_403_FORBIDDEN, NUTAG_WITH_THIS(nua), TAG_END());
      return;
    }
    auto user = deps_.users.FindByLogin(login);
    const std::string agent = user ? user->agent : "";
    const TimePoint now = deps_.clock.Now();
    const Duration header_expires =
        sip->sip_expires ? Seconds(static_cast<double>(sip->sip_expires->ex_delta)) : Seconds(-1);
    std::vector<Registrar::Change> changes;
    bool wildcard = false;
    for (const sip_contact_t* m = sip->sip_contact; m != nullptr; m = m->m_next) {
      if (m->m_url->url_type == url_any) {
        wildcard = true;
        continue;
      }
      Duration expires = header_expires;
      if (m->m_expires != nullptr) {
        char* end = nullptr;
        const unsigned long v = std::strtoul(m->m_expires, &end, 10);
        if (end == m->m_expires || *end != '\0' || v > 0xFFFFFFFFul) {
          Count(&SipCounters::bad_requests);
          Respond(nh, SIP_400_BAD_REQUEST, NUTAG_WITH_THIS(nua), TAG_END());
          return;
        }
        expires = Seconds(static_cast<double>(v));
      }
      const std::string uri = UrlText(m->m_url);
      if (uri.empty()) {
        Count(&SipCounters::bad_requests);
        Respond(nh, SIP_400_BAD_REQUEST, NUTAG_WITH_THIS(nua), TAG_END());
        return;
      }
      changes.push_back({uri, expires == Duration::zero() ? expires : registrar_.Clamp(expires)});
    }
    if (wildcard) {
      // RFC 3261 10.3 step 6: "*" only alone and with Expires: 0.
      if (!changes.empty() || header_expires != Duration::zero()) {
        Count(&SipCounters::bad_requests);
        Respond(nh, SIP_400_BAD_REQUEST, NUTAG_WITH_THIS(nua), TAG_END());
        return;
      }
      registrar_.RemoveAll(login);
    } else if (!changes.empty()) {
      Status s = registrar_.Apply(login, agent, changes, Str(sip->sip_call_id->i_id),
                                  sip->sip_cseq->cs_seq, source, now);
      if (!s.ok()) {
        if (s.code() == StatusCode::kInvalidArgument) {
          const std::string min =
              "Min-Expires: " + std::to_string(std::chrono::duration_cast<std::chrono::seconds>(
                                                   registrar_.policy().min_expires)
                                                   .count());
          Respond(nh, SIP_423_INTERVAL_TOO_BRIEF, NUTAG_WITH_THIS(nua),
                  SIPTAG_HEADER_STR(min.c_str()), TAG_END());
        } else if (s.code() == StatusCode::kUnavailable) {
          Respond(nh, 403, "Too Many Contacts", NUTAG_WITH_THIS(nua), TAG_END());
        } else {
          Count(&SipCounters::bad_requests);
          Respond(nh, SIP_400_BAD_REQUEST, NUTAG_WITH_THIS(nua), TAG_END());
        }
        return;
      }
    }
    Count(&SipCounters::registrations);
    UpdateGauges();
    StoreBindings(login, now);
    // 200 lists every current binding with its remaining time.
    std::string contacts;
    for (const auto& b : registrar_.BindingsOf(login, now)) {
      const auto left = std::chrono::duration_cast<std::chrono::seconds>(b.expires - now).count();
      if (!contacts.empty()) contacts += ", ";
      contacts += "<" + b.contact + ">;expires=" + std::to_string(left);
    }
    if (contacts.empty()) {
      Respond(nh, SIP_200_OK, NUTAG_WITH_THIS(nua), TAG_END());
    } else {
      Respond(nh, SIP_200_OK, NUTAG_WITH_THIS(nua), SIPTAG_CONTACT_STR(contacts.c_str()),
              TAG_END());
    }
  }

  // The login's bindings after its REGISTER, handed to the writer (docs/voice.md, "Phones").
  void StoreBindings(const std::string& login, TimePoint now) {
    if (!binding_writer_) return;
    std::vector<ports::SipBindingRecord> records;
    for (auto& b : registrar_.BindingsOf(login, now)) {
      records.push_back({.login = login,
                         .contact = std::move(b.contact),
                         .call_id = std::move(b.call_id),
                         .cseq = b.cseq,
                         .expires = b.expires,
                         .source = std::move(b.source)});
    }
    binding_writer_->Save(login, std::move(records));
  }

  // At start, before any request: the bindings stored before a restart that have not expired,
  // for users that still exist and are enabled (their agent as configured now).
  void RestoreRegistrations() {
    if (deps_.registrations == nullptr) return;
    const TimePoint now = deps_.clock.Now();
    auto stored = deps_.registrations->LoadSipBindings(now);
    if (!stored.ok()) {
      log::Warn("sip", "stored phone registrations not read; phones register again",
                {{"error", stored.status().message()}});
      return;
    }
    size_t restored = 0;
    for (auto& b : *stored) {
      auto user = deps_.users.FindByLogin(b.login);
      if (!user || user->disabled) continue;
      registrar_.Restore(b.login, user->agent,
                         {.contact = std::move(b.contact),
                          .call_id = std::move(b.call_id),
                          .cseq = b.cseq,
                          .expires = b.expires,
                          .source = std::move(b.source)},
                         now);
      ++restored;
    }
    UpdateGauges();
    if (!stored->empty()) {
      log::Info("sip", "phone registrations restored",
                {{"bindings", restored}, {"stored", stored->size()}});
    }
  }

  void OnInvite(nua_t* nua, nua_handle_t* nh, sip_t const* sip) {
    if (auto h = handles_.find(nh); h != handles_.end()) {
      OnReinvite(nua, nh, h->second, sip);
      return;
    }
    const std::string source = SourceOf(nua);
    if (!IsTrunk(source)) {
      std::string login;
      if (Authenticate(nua, nh, sip, source, &login) != AuthOutcome::kOk) {
        Count(&SipCounters::calls_refused);
        return;
      }
      if (Call* on_call = CallOfAgentPhone(login)) {
        OnConsultInvite(nua, nh, sip, *on_call, login);
        return;
      }
    }
    if (sip->sip_payload == nullptr || sip->sip_payload->pl_len == 0) {
      // Late offer (SDP in the ACK) is not supported.
      Count(&SipCounters::calls_refused);
      Respond(nh, SIP_488_NOT_ACCEPTABLE, NUTAG_WITH_THIS(nua), TAG_END());
      return;
    }
    auto offer = ParseSdp(std::string_view(sip->sip_payload->pl_data, sip->sip_payload->pl_len));
    if (!offer.ok()) {
      Count(&SipCounters::bad_requests);
      Respond(nh, 400, "Bad Session Description", NUTAG_WITH_THIS(nua), TAG_END());
      return;
    }
    auto negotiated = Negotiate(*offer);
    if (!negotiated.ok()) {
      Count(&SipCounters::calls_refused);
      Respond(nh, SIP_488_NOT_ACCEPTABLE, NUTAG_WITH_THIS(nua), TAG_END());
      return;
    }
    if (deps_.intake == nullptr) {
      log::Warn("sip", "call refused: no engine attached");
      Count(&SipCounters::calls_refused);
      Respond(nh, SIP_503_SERVICE_UNAVAILABLE, NUTAG_WITH_THIS(nua), TAG_END());
      return;
    }
    auto call = std::make_unique<Call>();
    call->id = next_call_++;
    call->customer = nh;
    call->customer_leg = next_leg_++;
    call->customer_format = negotiated->format;
    auto local = deps_.media.OpenLeg(call->customer_leg);
    if (!local.ok()) {
      log::Error("sip", "call refused: no media: " + local.status().message());
      Count(&SipCounters::calls_refused);
      Respond(nh, SIP_503_SERVICE_UNAVAILABLE, NUTAG_WITH_THIS(nua), TAG_END());
      return;
    }
    call->customer_local = *local;
    if (Status s =
            deps_.media.ConnectLeg(call->customer_leg, negotiated->remote, negotiated->format);
        !s.ok()) {
      CloseLeg(call->customer_leg);
      Count(&SipCounters::calls_refused);
      Respond(nh, SIP_488_NOT_ACCEPTABLE, NUTAG_WITH_THIS(nua), TAG_END());
      return;
    }
    // No 180: the stack has answered 100 Trying, which stops the caller's retransmissions, and
    // the 200 follows as soon as the engine has taken the contact (one step and its commit); a
    // 180 a few milliseconds before it was one message in thirteen of a call's set-up for nothing.

    ports::ArrivingContact arriving;
    arriving.channel = Channel::kVoice;
    arriving.entry = Str(sip->sip_request->rq_url->url_user);
    if (sip->sip_from != nullptr) {
      call->from_number = Str(sip->sip_from->a_url->url_user);
      if (!call->from_number.empty()) {
        arriving.from = ports::CustomerIdentity{Channel::kVoice, call->from_number};
      }
      if (sip->sip_from->a_display != nullptr) {
        arriving.attributes.emplace_back("sip.from_display", sip->sip_from->a_display);
      }
    }
    if (sip->sip_call_id != nullptr) {
      arriving.attributes.emplace_back("sip.call_id", Str(sip->sip_call_id->i_id));
    }
    const uint64_t id = call->id;
    handles_.Add(nh, id, Role::kCustomer, true);
    calls_[id] = std::move(call);
    ChooseRefresh(nh, sip);
    UpdateGauges();
    deps_.intake->ContactArrived(std::move(arriving), [this, id](Result<ports::ContactSnapshot> r) {
      if (r.ok()) {
        const ContactId contact = r->record.id;
        Post([this, id, contact] { OnArrived(id, contact); });
      } else {
        const StatusCode code = r.status().code();
        Post([this, id, code, why = r.status().message()] { OnArrivalRefused(id, code, why); });
      }
    });
  }

  // RFC 4028 leaves the refreshes of a dialog the peer's INVITE started to Parley when the peer
  // lacks `timer` in its Supported or asks for refresher=uas. The stack then refreshes at half
  // the interval: with an UPDATE without SDP where the peer allows UPDATE; otherwise with a
  // re-INVITE, also without SDP (the media is Parley's, not the stack's), so the peer's 2xx
  // carries an offer that the ACK must answer: the stack leaves that ACK to us (AckRefresh).
  void ChooseRefresh(nua_handle_t* nh, sip_t const* sip) {
    const sip_session_expires_t* se = sip->sip_session_expires;
    const bool peer_refreshes =
        sip_has_supported(sip->sip_supported, "timer") &&
        !(se != nullptr && se->x_refresher != nullptr && strcasecmp(se->x_refresher, "uas") == 0);
    if (peer_refreshes) return;
    if (sip_is_allowed(sip->sip_allow, sip_method_update, "UPDATE")) {
      nua_set_hparams(nh, NUTAG_UPDATE_REFRESH(1), TAG_END());
    } else {
      nua_set_hparams(nh, NUTAG_AUTOACK(0), TAG_END());
      handles_.SetAcksRefreshes(nh);
    }
  }

  // The 2xx to the stack's refresh re-INVITE of a dialog that ACKs its refreshes (ChooseRefresh):
  // the peer's offer is connected to the leg and answered in the ACK (RFC 3264). An offer we
  // cannot take is still ACKed (RFC 3261 wants every 2xx ACKed), and then the dialog is ended
  // with BYE, and with it (OnTerminated) the call.
  void AckRefresh(nua_handle_t* nh, const HandleRef& ref, sip_t const* sip) {
    auto it = calls_.find(ref.call);
    Call* c = it == calls_.end() ? nullptr : it->second.get();
    const bool customer = ref.role == Role::kCustomer;
    const bool open = c != nullptr && (customer ? nh == c->customer && !c->customer_gone
                                                : nh == c->transferor_nh && c->transferor_leg_open);
    if (!open || sip == nullptr || sip->sip_payload == nullptr || sip->sip_payload->pl_len == 0) {
      nua_ack(nh, TAG_END());
      return;
    }
    const OfferOutcome offer = ConnectOffer(sip, customer ? c->customer_leg : c->transferor_leg,
                                            customer ? &c->customer_format : &c->transferor_format);
    if (offer.refusal != 0) {
      Count(&SipCounters::refresh_offers_refused);
      nua_ack(nh, TAG_END());
      nua_bye(
          nh,
          SIPTAG_REASON_STR(offer.refusal == 400 ? "SIP;cause=400;text=\"Bad Session Description\""
                                                 : "SIP;cause=488;text=\"Not Acceptable Here\""),
          TAG_END());
      return;
    }
    const std::string sdp = ReanswerSdp(*c, ref.role, offer.direction);
    nua_ack(nh, SIPTAG_CONTENT_TYPE_STR("application/sdp"), SIPTAG_PAYLOAD_STR(sdp.c_str()),
            TAG_END());
  }

  // Our answer to a new offer in a dialog the peer started: the caller's or the transferring
  // phone's, at the same address and with the format the offer settled on.
  static std::string ReanswerSdp(const Call& c, Role role, std::string_view offer_direction) {
    const std::string sdp =
        role == Role::kTransferor
            ? BuildSdp(c.transferor_local, c.transferor_format, c.id + 5000000, 2)
            : BuildSdp(c.customer_local, c.customer_format, c.id, c.sdp_version);
    return WithDirection(sdp, AnswerDirection(offer_direction));
  }

  void OnArrived(uint64_t id, ContactId contact) {
    auto it = calls_.find(id);
    if (it == calls_.end() || it->second->customer_gone) {
      // The caller left before the engine answered.
      deps_.intake->ChannelInputFor(contact, ports::CustomerLeft{});
      return;
    }
    Call& c = *it->second;
    c.contact = contact;
    by_contact_[contact.value()] = id;
    {
      std::lock_guard lock(mu_);
      ++counters_.calls_in;
    }
    const std::string sdp =
        BuildSdp(c.customer_local, c.customer_format, c.id, c.sdp_version, false);
    c.answered = true;
    Respond(c.customer, SIP_200_OK, SIPTAG_CONTENT_TYPE_STR("application/sdp"),
            SIPTAG_PAYLOAD_STR(sdp.c_str()), TAG_END());
  }

  void OnArrivalRefused(uint64_t id, StatusCode code, const std::string& why) {
    log::Warn("sip", "call refused by the engine: " + why, {{"call", id}});
    auto it = calls_.find(id);
    if (it == calls_.end()) return;
    Call& c = *it->second;
    Count(&SipCounters::calls_refused);
    if (!c.customer_gone) {
      if (code == StatusCode::kNotFound) {
        Respond(c.customer, SIP_404_NOT_FOUND, TAG_END());
      } else {
        Respond(c.customer, SIP_503_SERVICE_UNAVAILABLE, TAG_END());
      }
      c.customer_gone = true;
    }
    CloseLeg(c.customer_leg);
    c.customer_leg = 0;
  }

  // An SDP offer in a dialog (a re-INVITE's, or a 2xx's to the stack's refresh) negotiated and
  // connected to `leg`, the format kept in `format` when given: the offer's direction
  // ("sendrecv" without SDP), or the status that refuses it: 400 (not a session description) or
  // 488 (nothing in it we can take).
  struct OfferOutcome {
    std::string direction;
    int refusal = 0;
  };
  OfferOutcome ConnectOffer(sip_t const* sip, ports::LegId leg, ports::MediaFormat* format) {
    if (sip->sip_payload == nullptr || sip->sip_payload->pl_len == 0) return {"sendrecv"};
    auto offer = ParseSdp(std::string_view(sip->sip_payload->pl_data, sip->sip_payload->pl_len));
    if (!offer.ok()) return {"", 400};
    auto n = Negotiate(*offer);
    if (!n.ok()) return {"", 488};
    (void)deps_.media.ConnectLeg(leg, n->remote, n->format);
    if (format != nullptr) *format = n->format;
    return {offer->direction};
  }

  // A re-INVITE's offer connected as ConnectOffer does: its direction, or nullopt once a bad or
  // unacceptable offer has been answered 400 or 488.
  std::optional<std::string> ConnectReinviteOffer(nua_t* nua, nua_handle_t* nh, sip_t const* sip,
                                                  ports::LegId leg, ports::MediaFormat* format) {
    OfferOutcome offer = ConnectOffer(sip, leg, format);
    if (offer.refusal == 400) {
      Count(&SipCounters::bad_requests);
      Respond(nh, 400, "Bad Session Description", NUTAG_WITH_THIS(nua), TAG_END());
    } else if (offer.refusal != 0) {
      Respond(nh, SIP_488_NOT_ACCEPTABLE, NUTAG_WITH_THIS(nua), TAG_END());
    }
    if (offer.refusal != 0) return std::nullopt;
    return std::move(offer.direction);
  }

  void OnReinvite(nua_t* nua, nua_handle_t* nh, const HandleRef& ref, sip_t const* sip) {
    auto it = calls_.find(ref.call);
    if (it == calls_.end()) {
      Respond(nh, SIP_481_NO_TRANSACTION, NUTAG_WITH_THIS(nua), TAG_END());
      return;
    }
    Call& c = *it->second;
    if (ref.role == Role::kSupervisor) {
      OnSupervisorReinvite(nua, nh, c, sip);
      return;
    }
    if (ref.role == Role::kExternal) {
      OnExternalReinvite(nua, nh, c, sip);
      return;
    }
    if (ref.role == Role::kTransferor) {
      OnTransferorReinvite(nua, nh, c, sip);
      return;
    }
    if (ref.role == Role::kConsulted) {
      if (nh != c.consult_nh || !c.consult_leg_open) {
        Respond(nh, SIP_481_NO_TRANSACTION, NUTAG_WITH_THIS(nua), TAG_END());
        return;
      }
      const auto direction = ConnectReinviteOffer(nua, nh, sip, c.consult_leg, nullptr);
      if (!direction) return;
      const std::string sdp =
          WithDirection(BuildSdp(c.consult_local, DefaultOfferFormat(), c.id + 3000000, 1),
                        AnswerDirection(*direction));
      Respond(nh, SIP_200_OK, NUTAG_WITH_THIS(nua), SIPTAG_CONTENT_TYPE_STR("application/sdp"),
              SIPTAG_PAYLOAD_STR(sdp.c_str()), TAG_END());
      return;
    }
    const bool customer = ref.role == Role::kCustomer;
    const auto direction =
        ConnectReinviteOffer(nua, nh, sip, customer ? c.customer_leg : c.agent_leg,
                             customer ? &c.customer_format : nullptr);
    if (!direction) return;
    const std::string_view answer_direction = AnswerDirection(*direction);
    if (customer) {
      const std::string sdp = ReanswerSdp(c, Role::kCustomer, *direction);
      Respond(nh, SIP_200_OK, NUTAG_WITH_THIS(nua), SIPTAG_CONTENT_TYPE_STR("application/sdp"),
              SIPTAG_PAYLOAD_STR(sdp.c_str()), TAG_END());
    } else {
      const std::string agent_sdp = WithDirection(
          BuildSdp(agent_local_[c.id], DefaultOfferFormat(), c.id + 1000000, 1), answer_direction);
      Respond(nh, SIP_200_OK, NUTAG_WITH_THIS(nua), SIPTAG_CONTENT_TYPE_STR("application/sdp"),
              SIPTAG_PAYLOAD_STR(agent_sdp.c_str()), TAG_END());
      if (nh == c.agent_nh) PhoneHold(c, IsHoldDirection(*direction));
    }
  }

  // BYE or CANCEL from a peer.
  void OnRemoteHangup(nua_handle_t* nh) {
    auto h = handles_.find(nh);
    if (h == handles_.end()) return;
    auto it = calls_.find(h->second.call);
    if (it == calls_.end()) return;
    Call& c = *it->second;
    if (h->second.role == Role::kSupervisor) {
      // The supervisor hung up: monitoring ends, the call goes on.
      if (nh == c.monitor_nh) {
        c.monitor_nh = nullptr;
        EndMonitor(c, ports::MonitorEnd::kSupervisorHungUp);
      }
      return;
    }
    if (h->second.role == Role::kConsulted) {
      // The consulted agent hung up: the customer is back with the first agent.
      if (nh == c.consult_nh) {
        c.consult_nh = nullptr;
        EndConsult(c, ports::ConsultEnd::kTargetHungUp);
      }
      return;
    }
    if (h->second.role == Role::kExternal) {
      ExternalGone(c, nh);  // a blind transfer's number hung up: the call is over
      return;
    }
    if (h->second.role == Role::kTransferor) {
      TransferorGone(c, nh);  // the agent's phone gave up its consultation
      return;
    }
    if (h->second.role == Role::kCustomer) {
      c.customer_gone = true;
      if (c.contact.value() != 0) {
        deps_.intake->ChannelInputFor(c.contact, ports::CustomerLeft{});
      }
      EndCall(c, false);
    } else if (nh == c.agent_nh && TransferorLeft(c)) {
      // The consultation went on without the first agent (TransferorLeft).
    } else if (nh == c.agent_nh && c.outbound && !c.answered) {
      // The agent gave up before the customer answered: the trunk's INVITE is cancelled.
      c.agent_nh = nullptr;
      OutboundFailed(c, "cancelled", 0);
    } else if (nh == c.agent_nh) {
      // The agent hung up: the agent goes into wrap-up, the caller is released.
      c.agent_nh = nullptr;
      if (deps_.center != nullptr && c.contact.value() != 0) {
        deps_.center->EndHandling(ports::Caller{.user = "sip"}, c.contact,
                                  [](Result<ports::ContactSnapshot>) {});
      }
      EndCall(c, false);
    }
  }

  // The first agent's phone hung up during a consultation. Once the target answered, the
  // transfer completes (as Asterisk's atxfer does): customer and target are bridged and the
  // engine hands the call over (ConsultEnd::kAgentLeft). While the target still rings, its
  // phones are cancelled and the customer goes on hearing music; the engine puts the call back
  // in its queue (kAgentLeftRinging), which releases the agent's leg. False when no
  // consultation runs (the agent's hang-up ends the call as usual).
  bool TransferorLeft(Call& c) {
    if (c.consult_agent.empty() || c.customer_gone || deps_.intake == nullptr ||
        c.contact.value() == 0) {
      return false;
    }
    c.agent_nh = nullptr;
    const std::string target = c.consult_agent;
    if (c.consult_nh != nullptr && c.consult_leg_open) {
      (void)CompleteConsult(c);
      deps_.intake->ConsultEnded(c.contact, target, ports::ConsultEnd::kAgentLeft);
    } else {
      EndConsult(c, ports::ConsultEnd::kAgentLeftRinging);
    }
    return true;
  }

  // Hangs up every leg of the call still up (BYE/CANCEL/final response), closes media.
  // May destroy `c` (MaybeForget): callers must not use it afterwards.
  void EndCall(Call& c, bool /*shutdown*/,
               std::source_location where = std::source_location::current()) {
    if (log::Enabled(log::Level::kDebug)) {
      log::Debug("sip", "call ends",
                 {{"call", c.id},
                  {"contact", c.contact.value()},
                  {"line", static_cast<int64_t>(where.line())},
                  {"customer_gone", c.customer_gone}});
    }
    EndMonitor(c, ports::MonitorEnd::kCallEnded);
    EndConsult(c, ports::ConsultEnd::kCallEnded);
    EndTransferorLeg(c, SIP_487_REQUEST_TERMINATED);
    EndExternal(c);
    StopRinging(c);
    // The engine withdraws a pending offer itself when the contact ends: no RejectOffer follows
    // for the phones' 487s, and a phone answering late is hung up.
    c.agent.clear();
    if (c.agent_nh != nullptr) {
      nua_bye(c.agent_nh, TAG_END());
      c.agent_nh = nullptr;
    }
    if (!c.customer_gone) {
      c.customer_gone = true;
      if (c.outbound) {
        // Our INVITE to the trunk: BYE once answered, CANCEL while it rings, nothing before.
        if (c.customer != nullptr) {
          if (c.answered) {
            nua_bye(c.customer, TAG_END());
          } else {
            nua_cancel(c.customer, TAG_END());
          }
        }
      } else if (c.answered) {
        nua_bye(c.customer, TAG_END());
      } else {
        Respond(c.customer, SIP_480_TEMPORARILY_UNAVAILABLE, TAG_END());
      }
    }
    if (c.agent_leg_open) {
      CloseAndReportLeg(c, ports::LegRole::kAgent, c.agent_leg);
      c.agent_leg_open = false;
    }
    if (c.customer_leg != 0) {
      voicemail_.LegClosing(c.customer_leg);
      CloseAndReportLeg(c, ports::LegRole::kCustomer, c.customer_leg);
      c.customer_leg = 0;
    }
    if (c.contact.value() != 0) by_contact_.erase(c.contact.value());
    MaybeForget(c.id);
  }

  // A one-shot timer on the SIP thread that calls `fire` with the call's id after `after`.
  su_timer_t* StartCallTimer(uint64_t call, su_timer_f fire, Duration after) {
    su_timer_t* t = su_timer_create(su_root_task(root_), 0);
    const auto ms =
        std::max<int64_t>(1, std::chrono::duration_cast<std::chrono::milliseconds>(after).count());
    su_timer_set_interval(t, fire, reinterpret_cast<su_timer_arg_t*>(static_cast<uintptr_t>(call)),
                          static_cast<su_duration_t>(ms));
    return t;
  }
  static void StopCallTimer(su_timer_t*& t) {
    if (t != nullptr) {
      su_timer_destroy(t);
      t = nullptr;
    }
  }

  // CANCELs every fork still ringing but `keep` (the phone that answered, or none).
  static void CancelForks(std::vector<Fork>& forks, nua_handle_t* keep) {
    for (auto& f : forks) {
      if (!f.done && f.nh != keep) {
        f.done = true;
        nua_cancel(f.nh, TAG_END());
      }
    }
  }

  // Points `leg` at the media of the SDP answer a phone's 2xx carries (nothing when it has none).
  void ConnectAnsweredLeg(ports::LegId leg, sip_t const* sip) {
    if (sip == nullptr || sip->sip_payload == nullptr) return;
    auto answer = ParseSdp(std::string_view(sip->sip_payload->pl_data, sip->sip_payload->pl_len));
    if (!answer.ok()) return;
    if (auto n = Negotiate(*answer); n.ok())
      (void)deps_.media.ConnectLeg(leg, n->remote, n->format);
  }

  void StopRinging(Call& c) {
    StopCallTimer(c.ring_timer);
    CancelForks(c.forks, c.agent_nh);
  }

  // A handle's dialog is over: forget it; the call goes when none of its handles remain.
  void OnTerminated(nua_handle_t* nh) {
    auto h = handles_.find(nh);
    if (h == handles_.end()) {
      nua_handle_destroy(nh);
      return;
    }
    const uint64_t id = h->second.call;
    const Role role = h->second.role;
    handles_.erase(h);
    nua_handle_destroy(nh);
    auto it = calls_.find(id);
    if (it == calls_.end()) return;
    Call& c = *it->second;
    if (role == Role::kSupervisor) {
      SupervisorTerminated(c, nh);
      MaybeForget(id);
      return;
    }
    if (role == Role::kExternal) {
      ExternalGone(c, nh);
      MaybeForget(id);
      return;
    }
    if (role == Role::kTransferor) {
      TransferorGone(c, nh);
      MaybeForget(id);
      return;
    }
    if (role == Role::kConsulted) {
      for (auto& f : c.consult_forks) {
        if (f.nh == nh) {
          f.done = true;
          f.nh = nullptr;
        }
      }
      if (c.consult_nh == nh) {
        c.consult_nh = nullptr;
        EndConsult(c, ports::ConsultEnd::kTargetHungUp);
      }
      MaybeForget(id);
      return;
    }
    if (role == Role::kCustomer) {
      c.customer = nullptr;
      // The stack ended the caller's dialog without a BYE or CANCEL event first (under load:
      // the caller's BYE crossing our answer, 481s). EndCall then forgets the call when no
      // phone's handle is left, so nothing may touch `c` after it: writing `c.customer` after
      // EndCall corrupted the heap ("free(): corrupted unsorted chunks" past the sustained
      // call rate).
      if (!c.customer_gone) {
        c.customer_gone = true;
        if (c.contact.value() != 0) deps_.intake->ChannelInputFor(c.contact, ports::CustomerLeft{});
        EndCall(c, false);  // may forget the call: `c` is not touched afterwards
        return;
      }
    } else {
      for (auto& f : c.forks) {
        if (f.nh == nh) {
          f.done = true;
          f.nh = nullptr;
        }
      }
      if (c.agent_nh == nh && !c.customer_gone && TransferorLeft(c)) {
        // The consultation went on without the first agent (TransferorLeft).
      } else if (c.agent_nh == nh) {
        c.agent_nh = nullptr;
        if (deps_.center != nullptr && c.contact.value() != 0 && !c.customer_gone) {
          deps_.center->EndHandling(ports::Caller{.user = "sip"}, c.contact,
                                    [](Result<ports::ContactSnapshot>) {});
          EndCall(c, false);
        }
      }
    }
    MaybeForget(id);
  }

  void MaybeForget(uint64_t id) {
    auto it = calls_.find(id);
    if (it == calls_.end()) return;
    Call& c = *it->second;
    if (!c.customer_gone || handles_.AnyFor(id)) return;
    StopCallTimer(c.ring_timer);
    StopCallTimer(c.monitor_ring_timer);
    StopCallTimer(c.consult_ring_timer);
    StopCallTimer(c.ext_ring_timer);
    if (c.contact.value() != 0) by_contact_.erase(c.contact.value());
    agent_local_.erase(id);
    calls_.erase(it);
    UpdateGauges();
  }

  static void OnRingTimeout(su_root_magic_t* magic, su_timer_t*, su_timer_arg_t* arg) {
    auto* self = static_cast<Impl*>(magic);
    const uint64_t id = reinterpret_cast<uintptr_t>(arg);
    auto it = self->calls_.find(id);
    if (it == self->calls_.end()) return;
    self->RingFailed(*it->second);
  }

  // No phone answered (timeout, busy, decline, unreachable): stop ringing and tell the ACD.
  void RingFailed(Call& c) {
    const std::string agent = c.agent;
    StopRinging(c);
    c.forks.clear();
    c.agent.clear();
    if (c.agent_leg_open) {
      CloseLeg(c.agent_leg);
      c.agent_leg_open = false;
    }
    if (c.outbound && !c.offer) {
      OutboundFailed(c, "agent_no_answer", 0);
      return;
    }
    if (deps_.center != nullptr && !agent.empty()) {
      deps_.center->RejectOffer(ports::Caller{.user = "sip"}, c.contact, agent,
                                [](Result<ports::ContactSnapshot>) {});
    }
    if (c.outbound) EndCall(c, false);  // a callback's customer leg goes too
  }

  void OnInviteResponse(nua_handle_t* nh, int status, sip_t const* sip) {
    auto h = handles_.find(nh);
    // Parley sends no re-INVITE of its own: a response on a dialog we already established
    // answers the stack's RFC 4028 session refresh (we refresh when the peer leaves it to us).
    // The stack ACKs it (we do where the 2xx carries the peer's offer: AckRefresh) and ends the
    // dialog itself when the refresh fails (nua_i_state). Taken for a phone answering, it hung
    // up every such call at half the session interval.
    if (h != handles_.end()) {
      if (h->second.established) {
        if (h->second.acks_refreshes && status >= 200 && status < 300) {
          AckRefresh(nh, h->second, sip);
        }
        return;
      }
      if (status >= 200 && status < 300) h->second.established = true;
    }
    if (h != handles_.end() && h->second.role == Role::kSupervisor) {
      if (auto it = calls_.find(h->second.call); it != calls_.end()) {
        OnSupervisorAnswer(*it->second, nh, status, sip);
      }
      return;
    }
    if (h != handles_.end() && h->second.role == Role::kConsulted) {
      if (auto it = calls_.find(h->second.call); it != calls_.end()) {
        OnConsultAnswer(*it->second, nh, status, sip);
      }
      return;
    }
    if (h != handles_.end() && h->second.role == Role::kExternal) {
      if (auto it = calls_.find(h->second.call); it != calls_.end()) {
        OnExternalResponse(*it->second, nh, status, sip);
      }
      return;
    }
    if (h != handles_.end() && h->second.role == Role::kCustomer) {
      if (auto it = calls_.find(h->second.call); it != calls_.end() && it->second->outbound) {
        OnTrunkResponse(*it->second, nh, status, sip);
      }
      return;
    }
    if (h == handles_.end() || h->second.role != Role::kAgent) return;
    auto it = calls_.find(h->second.call);
    if (it == calls_.end()) return;
    Call& c = *it->second;
    Fork* fork = nullptr;
    for (auto& f : c.forks) {
      if (f.nh == nh) fork = &f;
    }
    if (status < 200) return;
    if (status >= 300) {
      if (fork != nullptr) fork->done = true;
      if (c.agent_nh == nullptr && !c.forks.empty() &&
          std::all_of(c.forks.begin(), c.forks.end(), [](const Fork& f) { return f.done; })) {
        RingFailed(c);
      }
      return;
    }
    // 2xx: the first phone to answer wins; a later one is hung up.
    if (fork == nullptr || c.agent_nh != nullptr || c.customer_gone || c.agent.empty()) {
      nua_bye(nh, TAG_END());
      return;
    }
    fork->done = true;
    c.agent_nh = nh;
    c.agent_dialog = AnsweredDialog(sip);
    StopRinging(c);
    ConnectAnsweredLeg(c.agent_leg, sip);
    c.connected_agent = c.agent;
    if (c.outbound && c.offer) {
      // A callback: the answer accepts the offer; once the engine took it, the customer.
      const uint64_t id = c.id;
      if (deps_.center == nullptr) return;
      deps_.center->AcceptOffer(ports::Caller{.user = "sip"}, c.contact, c.agent,
                                [this, id](Result<ports::ContactSnapshot> r) {
                                  const bool accepted = r.ok();
                                  Post([this, id, accepted] {
                                    auto it = calls_.find(id);
                                    if (it == calls_.end() || it->second->customer_gone) return;
                                    Call& call = *it->second;
                                    if (accepted && call.agent_nh != nullptr) {
                                      DialCustomer(call);
                                    } else {
                                      EndCall(call,
                                              false);  // withdrawn meanwhile: the phone is let go
                                    }
                                  });
                                });
      return;
    }
    if (c.outbound) {
      // Click-to-dial: the agent is on the line; now the customer.
      DialCustomer(c);
      return;
    }
    ConnectAgent(c);
    const uint64_t id = c.id;
    const std::string agent = c.agent;
    if (deps_.center != nullptr) {
      deps_.center->AcceptOffer(ports::Caller{.user = "sip"}, c.contact, agent,
                                [this, id](Result<ports::ContactSnapshot> r) {
                                  if (r.ok()) return;
                                  // The offer was no longer valid (withdrawn meanwhile): release
                                  // the phone.
                                  Post([this, id] {
                                    auto it = calls_.find(id);
                                    if (it == calls_.end() || it->second->agent_nh == nullptr)
                                      return;
                                    nua_bye(it->second->agent_nh, TAG_END());
                                    it->second->agent_nh = nullptr;
                                    if (it->second->bridged)
                                      deps_.media.Unbridge(it->second->customer_leg);
                                  });
                                });
    }
  }

 public:
  void DoOfferToAgent(ContactId contact, const std::string& agent, Duration timeout) {
    Call* c = CallOf(contact);
    auto reject = [&] {
      if (c != nullptr && c->outbound && !c->offer) {
        OutboundFailed(*c, "agent_no_answer", 0);
        return;
      }
      if (deps_.center != nullptr) {
        deps_.center->RejectOffer(ports::Caller{.user = "sip"}, contact, agent,
                                  [](Result<ports::ContactSnapshot>) {});
      }
    };
    if (c == nullptr || c->customer_gone || !c->agent.empty() || c->agent_nh != nullptr) {
      reject();
      return;
    }
    const auto phones = registrar_.BindingsOfAgent(agent, deps_.clock.Now());
    if (phones.empty()) {
      // An agent whose phone is not registered cannot take any call: Not Ready, saying why, so
      // the ACD stops choosing her (the reject below then returns the call to its place).
      if (deps_.center != nullptr) {
        deps_.center->SetPresence(ports::Caller{.user = "sip"}, agent, Presence::kNotReady,
                                  std::string(kNoPhoneReason), [](Result<ports::AgentSnapshot>) {});
      }
      reject();
      return;
    }
    c->agent_leg = next_leg_++;
    auto local = deps_.media.OpenLeg(c->agent_leg);
    if (!local.ok()) {
      reject();
      return;
    }
    c->agent_leg_open = true;
    agent_local_[c->id] = *local;
    c->agent = agent;
    const std::string sdp = BuildSdp(*local, DefaultOfferFormat(), c->id + 1000000, 1, true);
    const std::string from = "<sip:" + (c->from_number.empty() ? "parley" : c->from_number) + "@" +
                             options_.address + ">";
    for (const auto& phone : phones) {
      nua_handle_t* nh =
          nua_handle(nua_, nullptr, SIPTAG_TO_STR(("<" + phone.contact + ">").c_str()),
                     SIPTAG_FROM_STR(from.c_str()), TAG_END());
      if (nh == nullptr) continue;
      handles_.Add(nh, c->id, Role::kAgent);
      c->forks.push_back({nh, false});
      {
        std::lock_guard lock(mu_);
        ++counters_.agent_legs;
      }
      nua_invite(nh, NUTAG_URL(phone.contact.c_str()), SIPTAG_CONTENT_TYPE_STR("application/sdp"),
                 SIPTAG_PAYLOAD_STR(sdp.c_str()), TAG_END());
    }
    if (c->forks.empty()) {
      RingFailed(*c);
      return;
    }
    c->ring_timer = StartCallTimer(c->id, &Impl::OnRingTimeout, RingLimit(timeout));
  }

  // How long an offered agent's phones ring before Parley gives up itself. The engine's offer
  // timeout is the one clock of an offer: when voice.ring_timeout does not end the ring sooner,
  // the phones ring until the engine withdraws the offer (offer.timed_out, then OfferWithdrawn),
  // and this timer only backs that up a little later. Both firing at the same instant let a
  // timed-out offer end as a decline, a race the tests saw under load.
  Duration RingLimit(Duration offer_timeout) const {
    const Duration ring = options_.ring_timeout;
    if (offer_timeout <= Duration::zero()) return ring > Duration::zero() ? ring : Seconds(60);
    if (ring > Duration::zero() && ring < offer_timeout) return ring;
    return offer_timeout + kRingBackupMargin;
  }

  void DoOfferWithdrawn(ContactId contact, const std::string& agent) {
    Call* c = CallOf(contact);
    if (c == nullptr || c->agent != agent || c->agent_nh != nullptr) return;
    if (c->outbound) {
      EndCall(*c, false);  // a callback's offer: nothing is left of the call
      return;
    }
    StopRinging(*c);
    c->forks.clear();
    c->agent.clear();
    if (c->agent_leg_open) {
      CloseLeg(c->agent_leg);
      c->agent_leg_open = false;
    }
  }

  void DoContactEnded(ContactId contact) {
    if (Call* c = CallOf(contact)) EndCall(*c, false);
  }

  // ---- Click-to-dial (docs/voice.md, "Outbound calls") ----
  void DoPlaceCall(ContactId contact, const ports::OutboundDial& dial,
                   const std::function<void(Status)>& done) {
    if (Status s = CheckOutbound(contact, dial.number); !s.ok()) return done(s);
    if (CallOf(contact) != nullptr) return done(Conflict("contact already has a call"));
    if (registrar_.BindingsOfAgent(dial.agent, deps_.clock.Now()).empty()) {
      return done(InvalidArgument("agent " + dial.agent +
                                  " has no registered phone to place the call from"));
    }
    auto call = std::make_unique<Call>();
    call->id = next_call_++;
    call->outbound = true;
    call->offer = dial.offer;
    call->dial_number = dial.number;
    call->from_number = dial.number;  // what the agent's phone shows
    call->contact = contact;
    call->recording_plan = dial.recording;
    call->customer_leg = next_leg_++;
    call->customer_format = DefaultOfferFormat();
    auto local = deps_.media.OpenLeg(call->customer_leg);
    if (!local.ok())
      return done(Unavailable("no media port for the call: " + local.status().message()));
    call->customer_local = *local;
    const uint64_t id = call->id;
    calls_[id] = std::move(call);
    by_contact_[contact.value()] = id;
    UpdateGauges();
    DoOfferToAgent(contact, dial.agent, dial.ring_timeout);
    auto it = calls_.find(id);
    if (it == calls_.end() || it->second->forks.empty()) {
      // Every INVITE failed at once: a callback's offer was rejected (RingFailed); click-to-dial
      // was told (OutboundFailed) and the reply says it too.
      if (it != calls_.end()) EndCall(*it->second, false);
      if (dial.offer) return done(Status::Ok());
      return done(Unavailable("cannot ring the phone of agent " + dial.agent));
    }
    done(Status::Ok());
  }

  // A trunk takes outbound calls (kUnavailable) and `number` is an allowed destination
  // (kInvalidArgument, counted as refused): click-to-dial and blind transfers to a number.
  Status CheckOutbound(ContactId contact, const std::string& number) {
    const SipOutboundTrunk& trunk = options_.outbound;
    if (trunk.name.empty() || trunk.host.empty()) {
      return Unavailable("no trunk takes outbound calls (voice.trunks[].outbound)");
    }
    if (DestinationAllowed(number)) return Status::Ok();
    Count(&SipCounters::calls_out_refused);
    std::string allowed;
    for (const auto& p : options_.outbound_destinations) {
      allowed += (allowed.empty() ? "" : ", ") + p;
    }
    log::Warn("sip", "outbound call refused: destination not allowed",
              {{"contact", contact.value()}, {"number", number}});
    return InvalidArgument(
        allowed.empty()
            ? "number " + number +
                  " is not an allowed destination: no outbound destinations are configured "
                  "(voice.outbound_destinations)"
            : "number " + number +
                  " is not an allowed destination (voice.outbound_destinations: " + allowed + ")");
  }

  bool DestinationAllowed(const std::string& number) const {
    for (const auto& p : options_.outbound_destinations) {
      if (number.rfind(p, 0) == 0) return true;
    }
    return false;
  }

  // The agent's phone answered: INVITE sip:NUMBER@host:port through the trunk.
  void DialCustomer(Call& c) {
    nua_handle_t* nh = InviteTrunk(c, c.dial_number, c.customer_local, c.id, Role::kCustomer);
    if (nh == nullptr) {
      OutboundFailed(c, "failed", 0);
      return;
    }
    c.customer = nh;
    c.ring_timer = StartCallTimer(c.id, &Impl::OnTrunkRingTimeout, options_.outbound_ring_timeout);
  }

  // INVITE sip:NUMBER@host:port through the outbound trunk with the SDP of `local`, the handle
  // registered as `role` of the call; nullptr when no handle could be made.
  nua_handle_t* InviteTrunk(Call& c, const std::string& number, const ports::RtpEndpoint& local,
                            uint64_t sdp_id, Role role) {
    const SipOutboundTrunk& t = options_.outbound;
    const bool v6 = t.host.find(':') != std::string::npos;
    const std::string host = (v6 ? "[" + t.host + "]" : t.host) + ":" + std::to_string(t.port);
    const std::string scheme = t.transport == "tls" ? "sips:" : "sip:";
    const std::string uri =
        scheme + number + "@" + host + (t.transport == "udp" ? "" : ";transport=" + t.transport);
    const std::string caller =
        !t.caller_id.empty() ? t.caller_id : (!t.username.empty() ? t.username : "parley");
    const std::string from = "<sip:" + caller + "@" + options_.address + ">";
    nua_handle_t* nh = nua_handle(nua_, nullptr, SIPTAG_TO_STR(("<" + uri + ">").c_str()),
                                  SIPTAG_FROM_STR(from.c_str()), TAG_END());
    if (nh == nullptr) return nullptr;
    handles_.Add(nh, c.id, role);
    Count(&SipCounters::calls_out);
    log::Info("sip", "outbound call",
              {{"contact", c.contact.value()}, {"number", number}, {"trunk", t.name}});
    const std::string sdp = BuildSdp(local, DefaultOfferFormat(), sdp_id, c.sdp_version, true);
    nua_invite(nh, NUTAG_URL(uri.c_str()), SIPTAG_CONTENT_TYPE_STR("application/sdp"),
               SIPTAG_PAYLOAD_STR(sdp.c_str()), TAG_END());
    return nh;
  }

  static void OnTrunkRingTimeout(su_root_magic_t* magic, su_timer_t*, su_timer_arg_t* arg) {
    auto* self = static_cast<Impl*>(magic);
    auto it = self->calls_.find(reinterpret_cast<uintptr_t>(arg));
    if (it == self->calls_.end()) return;
    Call& c = *it->second;
    StopCallTimer(c.ring_timer);
    if (!c.answered && !c.customer_gone) self->OutboundFailed(c, "no_answer", 0);
  }

  // `leg` connects to the media of a 18x or 2xx carrying SDP (its format kept in `format`);
  // false without one.
  bool ConnectTrunkMedia(ports::LegId leg, ports::MediaFormat& format, sip_t const* sip) {
    if (sip == nullptr || sip->sip_payload == nullptr || sip->sip_payload->pl_len == 0) {
      return false;
    }
    auto answer = ParseSdp(std::string_view(sip->sip_payload->pl_data, sip->sip_payload->pl_len));
    if (!answer.ok()) return false;
    auto n = Negotiate(*answer);
    if (!n.ok()) return false;
    if (!deps_.media.ConnectLeg(leg, n->remote, n->format).ok()) return false;
    format = n->format;
    return true;
  }

  // A 401/407 from the carrier is answered once with the trunk's credentials (`answered` says
  // whether it was already); true when it was answered now.
  bool AnswerTrunkChallenge(nua_handle_t* nh, int status, sip_t const* sip, bool& answered) {
    if ((status != 401 && status != 407) || answered || options_.outbound.username.empty()) {
      return false;
    }
    const msg_auth_t* challenge =
        status == 401 ? sip->sip_www_authenticate : sip->sip_proxy_authenticate;
    const char* realm =
        challenge != nullptr ? msg_params_find(challenge->au_params, "realm=") : nullptr;
    if (realm == nullptr) return false;
    answered = true;
    const std::string credentials = "Digest:" + std::string(realm) + ":" +
                                    options_.outbound.username + ":" + options_.outbound.password;
    nua_authenticate(nh, NUTAG_AUTH(credentials.c_str()), TAG_END());
    return true;
  }

  void OnTrunkResponse(Call& c, nua_handle_t* nh, int status, sip_t const* sip) {
    if (nh != c.customer || c.customer_gone) {
      if (status >= 200 && status < 300) nua_bye(nh, TAG_END());  // answered after we gave up
      return;
    }
    if (status < 200) {
      // Early media (183 with SDP, or 180 with it): the agent hears the carrier's ringback.
      if (status > 100 && !c.early_bridged && c.agent_leg_open &&
          ConnectTrunkMedia(c.customer_leg, c.customer_format, sip)) {
        c.early_bridged = deps_.media.Bridge(c.customer_leg, c.agent_leg).ok();
      }
      return;
    }
    if (AnswerTrunkChallenge(nh, status, sip, c.auth_answered)) return;
    if (status >= 300) {
      c.customer_gone = true;  // the INVITE is over: nothing to cancel
      OutboundFailed(c, FailureReason(status), status);
      return;
    }
    // 2xx: connected.
    StopCallTimer(c.ring_timer);
    (void)ConnectTrunkMedia(c.customer_leg, c.customer_format, sip);
    c.answered = true;
    Count(&SipCounters::calls_out_answered);
    if (c.early_bridged) {
      deps_.media.Unbridge(c.customer_leg);
      c.early_bridged = false;
    }
    if (c.agent_nh == nullptr || !c.agent_leg_open) {
      // The agent left meanwhile: nobody to talk to.
      OutboundFailed(c, "cancelled", 0);
      return;
    }
    ConnectAgent(c);
    ports::OutboundUpdate answered;
    answered.stage = ports::OutboundUpdate::Stage::kAnswered;
    answered.sip_status = status;
    if (deps_.intake != nullptr) deps_.intake->OutboundProgress(c.contact, std::move(answered));
  }

  static std::string FailureReason(int status) {
    switch (status) {
      case 486:
      case 600:
        return "busy";
      case 408:
      case 480:
      case 487:
        return "no_answer";
      case 403:
      case 603:
        return "rejected";
      case 404:
      case 484:
      case 604:
        return "not_found";
      default:
        return "failed";
    }
  }

  // The outbound call did not connect: the engine hears why, every leg is let go. May destroy
  // `c` (EndCall).
  void OutboundFailed(Call& c, const std::string& reason, int status) {
    Count(&SipCounters::calls_out_failed);
    log::Info("sip", "outbound call failed",
              {{"contact", c.contact.value()}, {"reason", reason}, {"status", status}});
    if (deps_.intake != nullptr && c.contact.value() != 0) {
      deps_.intake->OutboundProgress(
          c.contact, ports::OutboundUpdate{ports::OutboundUpdate::Stage::kFailed, reason, status});
    }
    StopCallTimer(c.ring_timer);
    c.agent.clear();
    EndCall(c, false);
  }

  // ---- Call control (docs/voice.md, "Call control") ----
  void DoControlCall(ContactId contact, const ports::CallCommand& command,
                     const std::function<void(Status)>& done) {
    Call* c = CallOf(contact);
    Status s = c == nullptr || c->customer_gone
                   ? NotFound("no call for contact " + std::to_string(contact.value()))
                   : ApplyControl(*c, command);
    if (done) done(s);
  }

  Status ApplyControl(Call& c, const ports::CallCommand& command) {
    if (const auto* hold = std::get_if<ports::HoldCall>(&command)) {
      if (hold->on_hold) {
        deps_.media.Unbridge(c.customer_leg);
        c.bridged = false;
        PlayHoldMusic(c);
      } else {
        if (c.agent_nh == nullptr || !c.agent_leg_open) {
          return Conflict("the agent's phone is no longer on the call");
        }
        c.bridged = deps_.media.Bridge(c.customer_leg, c.agent_leg).ok();  // ends the music
      }
      c.held = hold->on_hold;
      if (!c.held) c.phone_held = false;
      return Status::Ok();
    }
    if (const auto* mute = std::get_if<ports::MuteAgent>(&command)) {
      if (!c.agent_leg_open) return Conflict("the agent's phone is not on the call");
      deps_.media.SetMuted(c.agent_leg, mute->muted);
      return Status::Ok();
    }
    if (const auto* digits = std::get_if<ports::SendDigitsToCustomer>(&command)) {
      Status s = deps_.media.SendDigits(c.customer_leg, digits->digits);
      if (s.code() == StatusCode::kInvalidArgument) {
        return InvalidArgument("the customer's leg cannot take these digits: " + s.message());
      }
      return s;
    }
    if (const auto* monitor = std::get_if<ports::MonitorCall>(&command)) {
      return ApplyMonitor(c, *monitor);
    }
    if (const auto* consult = std::get_if<ports::ConsultCall>(&command)) {
      return ApplyConsult(c, *consult);
    }
    if (std::get_if<ports::ReleaseAgent>(&command) != nullptr) {
      EndMonitor(c, ports::MonitorEnd::kCallEnded);
      EndConsult(c, ports::ConsultEnd::kCallEnded);
      ReleaseAgentLeg(c);
      return Status::Ok();
    }
    if (const auto* blind = std::get_if<ports::BlindTransferCall>(&command)) {
      return blind->kind == ports::BlindTransferCall::Kind::kAgent
                 ? BlindTransferToAgent(c, blind->target)
                 : BlindTransferToNumber(c, blind->target);
    }
    return InvalidArgument("unknown call command");
  }

  // Blind transfer: the agent's phone is hung up; the customer waits with music until the next
  // leg bridges it again. A phone that asked with REFER hears that it worked first.
  void ReleaseAgentLeg(Call& c) {
    NotifyRefer(c, 200, "OK");
    StopRinging(c);
    c.forks.clear();
    c.agent.clear();
    if (c.agent_nh != nullptr) {
      nua_bye(c.agent_nh, TAG_END());
      c.agent_nh = nullptr;
    }
    if (c.agent_leg_open) {
      CloseLeg(c.agent_leg);
      c.agent_leg_open = false;
    }
    c.bridged = false;
    c.held = false;
    PlayHoldMusic(c);
  }

  // ---- Supervisor monitoring (docs/voice.md, "Supervisor monitoring") ----
  Status ApplyMonitor(Call& c, const ports::MonitorCall& m) {
    if (!m.mode) {
      if (c.monitor_user.empty()) return NotFound("nobody monitors this call");
      EndMonitor(c, std::nullopt);
      return Status::Ok();
    }
    if (!c.monitor_user.empty()) {
      if (c.monitor_user != m.supervisor) {
        return Conflict(c.monitor_user + " already monitors this call");
      }
      c.monitor_mode = *m.mode;
      JoinMonitor(c);
      return Status::Ok();
    }
    if (c.agent_nh == nullptr || !c.agent_leg_open) {
      return Conflict("the agent's phone is not on the call");
    }
    const auto phones = registrar_.BindingsOf(m.supervisor, deps_.clock.Now());
    if (phones.empty()) {
      return InvalidArgument("user " + m.supervisor + " has no registered phone to monitor with");
    }
    const ports::LegId leg = next_leg_++;
    auto local = deps_.media.OpenLeg(leg);
    if (!local.ok()) return local.status();
    c.monitor_leg = leg;
    c.monitor_leg_open = true;
    c.monitor_local = *local;
    c.monitor_user = m.supervisor;
    c.monitor_mode = *m.mode;
    const std::string sdp = BuildSdp(*local, DefaultOfferFormat(), c.id + 2000000, 1, true);
    const std::string from =
        "<sip:" + (c.from_number.empty() ? "parley" : c.from_number) + "@" + options_.address + ">";
    for (const auto& phone : phones) {
      nua_handle_t* nh =
          nua_handle(nua_, nullptr, SIPTAG_TO_STR(("<" + phone.contact + ">").c_str()),
                     SIPTAG_FROM_STR(from.c_str()), TAG_END());
      if (nh == nullptr) continue;
      handles_.Add(nh, c.id, Role::kSupervisor);
      c.monitor_forks.push_back({nh, false});
      nua_invite(nh, NUTAG_URL(phone.contact.c_str()), SIPTAG_CONTENT_TYPE_STR("application/sdp"),
                 SIPTAG_PAYLOAD_STR(sdp.c_str()), TAG_END());
    }
    if (c.monitor_forks.empty()) {
      EndMonitor(c, std::nullopt);
      return Unavailable("cannot ring the phone of " + m.supervisor);
    }
    // Nobody answering within the ring timeout ends the attempt as if every phone refused.
    c.monitor_ring_timer = StartCallTimer(c.id, &Impl::OnMonitorRingTimeout, options_.ring_timeout);
    return Status::Ok();
  }

  static void OnMonitorRingTimeout(su_root_magic_t* magic, su_timer_t*, su_timer_arg_t* arg) {
    auto* self = static_cast<Impl*>(magic);
    auto it = self->calls_.find(reinterpret_cast<uintptr_t>(arg));
    if (it == self->calls_.end()) return;
    Call& c = *it->second;
    self->StopMonitorRinging(c);
    if (c.monitor_nh == nullptr) self->EndMonitor(c, ports::MonitorEnd::kNoAnswer);
  }

  void StopMonitorRinging(Call& c) { StopCallTimer(c.monitor_ring_timer); }

  // ---- Consultation transfer (docs/voice.md, "Consultation transfer") ----
  Status ApplyConsult(Call& c, const ports::ConsultCall& k) {
    using Step = ports::ConsultCall::Step;
    if (k.step == Step::kCancel) {
      if (c.consult_agent.empty()) return NotFound("no consultation on this call");
      EndConsult(c, std::nullopt);
      return Status::Ok();
    }
    if (k.step == Step::kConference) {
      if (c.consult_agent.empty()) return NotFound("no consultation on this call");
      if (c.consult_nh == nullptr || !c.consult_leg_open || !c.agent_leg_open) {
        return Conflict("agent " + c.consult_agent + " has not answered yet");
      }
      if (c.conference) return Conflict("the call is already a conference");
      if (c.transferor_nh != nullptr) {
        return Conflict("the consultation runs on the agent's phone: its REFER completes it");
      }
      // Customer and agent bridged again (the music stops), then the consulted agent joins as a
      // barging third leg: everyone hears the two others.
      deps_.media.Unbridge(c.agent_leg);
      c.bridged = deps_.media.Bridge(c.customer_leg, c.agent_leg).ok();
      if (Status s = deps_.media.Monitor(c.customer_leg, c.agent_leg, c.consult_leg,
                                         ports::MonitorMode::kBarge);
          !s.ok()) {
        return s;
      }
      c.held = false;
      c.phone_held = false;
      c.conference = true;
      return Status::Ok();
    }
    if (k.step == Step::kComplete) {
      if (c.consult_agent.empty()) return NotFound("no consultation on this call");
      if (c.consult_nh == nullptr || !c.consult_leg_open) {
        return Conflict("agent " + c.consult_agent + " has not answered yet");
      }
      return CompleteConsult(c);
    }
    if (!c.consult_agent.empty()) return Conflict(c.consult_agent + " is consulted already");
    if (c.agent_nh == nullptr || !c.agent_leg_open) {
      return Conflict("the agent's phone is not on the call");
    }
    if (Status s = RingConsulted(c, k.target, "consult"); !s.ok()) return s;
    // The customer holds with music while the agents talk.
    deps_.media.Unbridge(c.customer_leg);
    c.bridged = false;
    c.held = true;
    PlayHoldMusic(c);
    return Status::Ok();
  }

  // Rings every registered phone of agent `target` on a leg of its own (the consult_* fields)
  // for the ring timeout: a consultation's target, or a blind transfer's.
  Status RingConsulted(Call& c, const std::string& target, const std::string& why) {
    const auto phones = registrar_.BindingsOfAgent(target, deps_.clock.Now());
    if (phones.empty()) {
      return InvalidArgument("agent " + target + " has no registered phone to " + why);
    }
    const ports::LegId leg = next_leg_++;
    auto local = deps_.media.OpenLeg(leg);
    if (!local.ok()) return local.status();
    c.consult_leg = leg;
    c.consult_leg_open = true;
    c.consult_local = *local;
    c.consult_agent = target;
    const std::string sdp = BuildSdp(*local, DefaultOfferFormat(), c.id + 3000000, 1, true);
    const std::string from =
        "<sip:" + (c.from_number.empty() ? "parley" : c.from_number) + "@" + options_.address + ">";
    for (const auto& phone : phones) {
      nua_handle_t* nh =
          nua_handle(nua_, nullptr, SIPTAG_TO_STR(("<" + phone.contact + ">").c_str()),
                     SIPTAG_FROM_STR(from.c_str()), TAG_END());
      if (nh == nullptr) continue;
      handles_.Add(nh, c.id, Role::kConsulted);
      c.consult_forks.push_back({nh, false});
      nua_invite(nh, NUTAG_URL(phone.contact.c_str()), SIPTAG_CONTENT_TYPE_STR("application/sdp"),
                 SIPTAG_PAYLOAD_STR(sdp.c_str()), TAG_END());
    }
    if (c.consult_forks.empty()) {
      EndConsult(c, std::nullopt);
      return Unavailable("cannot ring the phone of " + target);
    }
    c.consult_ring_timer = StartCallTimer(c.id, &Impl::OnConsultRingTimeout, options_.ring_timeout);
    return Status::Ok();
  }

  static void OnConsultRingTimeout(su_root_magic_t* magic, su_timer_t*, su_timer_arg_t* arg) {
    auto* self = static_cast<Impl*>(magic);
    auto it = self->calls_.find(reinterpret_cast<uintptr_t>(arg));
    if (it == self->calls_.end()) return;
    Call& c = *it->second;
    self->StopConsultRinging(c);
    if (c.consult_nh == nullptr) self->EndConsult(c, ports::ConsultEnd::kNoAnswer);
  }

  void StopConsultRinging(Call& c) { StopCallTimer(c.consult_ring_timer); }

  void OnConsultAnswer(Call& c, nua_handle_t* nh, int status, sip_t const* sip) {
    Fork* fork = nullptr;
    for (auto& f : c.consult_forks) {
      if (f.nh == nh) fork = &f;
    }
    if (status < 200) return;
    if (status >= 300) {
      if (fork != nullptr) fork->done = true;
      if (c.consult_nh == nullptr && !c.consult_forks.empty() &&
          std::all_of(c.consult_forks.begin(), c.consult_forks.end(),
                      [](const Fork& f) { return f.done; })) {
        // Busy or decline is a refusal; anything else (408, 480, 5xx, ...) did not answer.
        const bool refused = status == 486 || status == 600 || status == 603;
        EndConsult(c, refused ? ports::ConsultEnd::kRefused : ports::ConsultEnd::kNoAnswer);
      }
      return;
    }
    if (fork == nullptr || c.consult_nh != nullptr || c.consult_agent.empty() || c.customer_gone ||
        (!c.agent_leg_open && !c.blind_transfer)) {
      nua_bye(nh, TAG_END());
      return;
    }
    fork->done = true;
    c.consult_nh = nh;
    c.consult_dialog = AnsweredDialog(sip);
    StopConsultRinging(c);
    CancelForks(c.consult_forks, nh);
    ConnectAnsweredLeg(c.consult_leg, sip);
    if (c.blind_transfer) {
      BlindTargetAnswered(c);
      return;
    }
    if (c.transferor_nh != nullptr && c.transferor_leg_open) {
      AnswerTransferor(c);  // the agent's own call to the target connects
    } else {
      (void)deps_.media.Bridge(c.agent_leg, c.consult_leg);  // the two agents talk
    }
    // Whichever side started it (the API or the agent's phone), the engine learns the answer:
    // `consult.answered`, the consultation's state `talking`.
    if (deps_.intake != nullptr && c.contact.value() != 0) {
      deps_.intake->ConsultAnswered(c.contact, c.consult_agent);
    }
  }

  // The consulted agent's phone becomes the call's agent leg; the first agent's phone goes.
  Status CompleteConsult(Call& c) {
    NotifyReplacesRefer(c, 200, "OK");  // before the phone's dialogs get BYE
    if (c.conference) deps_.media.StopMonitor(c.consult_leg);
    c.conference = false;
    // A running recording goes on in the same file, the target's voice in its agent channel;
    // moved before the first agent's leg closes, which would end it.
    // (A blind transfer moved it when the first agent's leg went.)
    if (c.recording && c.agent_leg_open) {
      if (Status s = deps_.media.MoveRecording(c.customer_leg, c.consult_leg); !s.ok()) {
        log::Error("sip", "the recording did not follow the transfer: " + s.message(),
                   {{"contact", c.contact.value()}});
      }
    }
    deps_.media.Unbridge(c.agent_leg);
    if (c.agent_nh != nullptr) {
      nua_bye(c.agent_nh, TAG_END());
      c.agent_nh = nullptr;
    }
    if (c.agent_leg_open) {
      CloseAndReportLeg(c, ports::LegRole::kAgent, c.agent_leg);
      c.agent_leg_open = false;
    }
    EndTransferorLeg(c, SIP_487_REQUEST_TERMINATED);
    c.agent_dialog = std::move(c.consult_dialog);
    c.consult_dialog = DialogId{};
    handles_.SetRole(c.consult_nh, Role::kAgent);
    c.agent_nh = c.consult_nh;
    c.agent_leg = c.consult_leg;
    c.agent_leg_open = true;
    agent_local_[c.id] = c.consult_local;
    c.agent = c.consult_agent;
    c.connected_agent = c.consult_agent;
    c.forks = std::move(c.consult_forks);
    c.consult_forks.clear();
    c.consult_nh = nullptr;
    c.consult_leg_open = false;
    c.consult_agent.clear();
    c.held = false;
    c.phone_held = false;
    c.bridged = deps_.media.Bridge(c.customer_leg, c.agent_leg).ok();  // ends the music
    return Status::Ok();
  }

  // Ends the consultation on our side: CANCEL ringing phones, BYE the answered one, close its
  // leg, and (unless the call itself ends) bridge customer and first agent again. `why` set:
  // the engine did not ask for it, so it hears of it.
  void EndConsult(Call& c, std::optional<ports::ConsultEnd> why) {
    StopConsultRinging(c);
    if (c.consult_agent.empty()) return;
    for (auto& f : c.consult_forks) {
      if (!f.done && f.nh != nullptr && f.nh != c.consult_nh) {
        f.done = true;
        nua_cancel(f.nh, TAG_END());
      }
    }
    c.consult_forks.clear();
    if (c.consult_nh != nullptr) {
      nua_bye(c.consult_nh, TAG_END());
      c.consult_nh = nullptr;
    }
    if (c.consult_leg_open) {
      if (c.conference) deps_.media.StopMonitor(c.consult_leg);
      if (c.agent_leg_open) deps_.media.Unbridge(c.agent_leg);
      CloseLeg(c.consult_leg);
      c.consult_leg_open = false;
    }
    const std::string target = std::move(c.consult_agent);
    c.consult_agent.clear();
    c.consult_dialog = DialogId{};
    c.conference = false;
    if (why == ports::ConsultEnd::kNoAnswer) {
      EndTransferorLeg(c, SIP_480_TEMPORARILY_UNAVAILABLE);
    } else {
      EndTransferorLeg(c, SIP_487_REQUEST_TERMINATED);
    }
    NotifyReplacesRefer(c, 487, "Request Terminated");
    if (why != ports::ConsultEnd::kCallEnded && !c.customer_gone && c.agent_nh != nullptr &&
        c.agent_leg_open) {
      c.bridged = deps_.media.Bridge(c.customer_leg, c.agent_leg).ok();  // ends the music
      c.held = false;
      c.phone_held = false;
    }
    const bool blind = c.blind_transfer;
    c.blind_transfer = false;
    if (blind) {
      if (why && why != ports::ConsultEnd::kCallEnded) {
        BlindTransferFailed(c, target,
                            why == ports::ConsultEnd::kRefused ? "rejected" : "no_answer");
      }
      return;
    }
    if (why && deps_.intake != nullptr && c.contact.value() != 0) {
      deps_.intake->ConsultEnded(c.contact, target, *why);
    }
  }

  // Joins the answered supervisor's leg to the call's mix in the current mode.
  void JoinMonitor(Call& c) {
    if (c.monitor_nh == nullptr || !c.monitor_leg_open || !c.agent_leg_open) return;
    if (Status s = deps_.media.Monitor(c.customer_leg, c.agent_leg, c.monitor_leg, c.monitor_mode);
        !s.ok()) {
      log::Error("sip", "monitoring failed: " + s.message(), {{"contact", c.contact.value()}});
    }
  }

  // Ends monitoring on our side: CANCEL ringing phones, BYE the answered one, close the leg.
  // `why` set: the engine did not ask for it, so it hears of it.
  void EndMonitor(Call& c, std::optional<ports::MonitorEnd> why) {
    StopMonitorRinging(c);
    if (c.monitor_user.empty()) return;
    for (auto& f : c.monitor_forks) {
      if (!f.done && f.nh != nullptr && f.nh != c.monitor_nh) {
        f.done = true;
        nua_cancel(f.nh, TAG_END());
      }
    }
    c.monitor_forks.clear();
    if (c.monitor_nh != nullptr) {
      nua_bye(c.monitor_nh, TAG_END());
      c.monitor_nh = nullptr;
    }
    if (c.monitor_leg_open) {
      deps_.media.StopMonitor(c.monitor_leg);
      CloseLeg(c.monitor_leg);
      c.monitor_leg_open = false;
    }
    const std::string user = std::move(c.monitor_user);
    c.monitor_user.clear();
    if (why && deps_.intake != nullptr && c.contact.value() != 0) {
      deps_.intake->MonitorEnded(c.contact, user, *why);
    }
  }

  void OnSupervisorAnswer(Call& c, nua_handle_t* nh, int status, sip_t const* sip) {
    Fork* fork = nullptr;
    for (auto& f : c.monitor_forks) {
      if (f.nh == nh) fork = &f;
    }
    if (status < 200) return;
    if (status >= 300) {
      if (fork != nullptr) fork->done = true;
      if (c.monitor_nh == nullptr && !c.monitor_forks.empty() &&
          std::all_of(c.monitor_forks.begin(), c.monitor_forks.end(),
                      [](const Fork& f) { return f.done; })) {
        EndMonitor(c, ports::MonitorEnd::kNoAnswer);
      }
      return;
    }
    // 2xx: the first phone wins; a late one, or one answering a session already ended, is hung up.
    if (fork == nullptr || c.monitor_nh != nullptr || c.monitor_user.empty() || c.customer_gone) {
      nua_bye(nh, TAG_END());
      return;
    }
    fork->done = true;
    c.monitor_nh = nh;
    StopMonitorRinging(c);
    CancelForks(c.monitor_forks, nh);
    ConnectAnsweredLeg(c.monitor_leg, sip);
    JoinMonitor(c);
  }

  void SupervisorTerminated(Call& c, nua_handle_t* nh) {
    for (auto& f : c.monitor_forks) {
      if (f.nh == nh) {
        f.done = true;
        f.nh = nullptr;
      }
    }
    if (c.monitor_nh == nh) {
      c.monitor_nh = nullptr;
      EndMonitor(c, ports::MonitorEnd::kSupervisorHungUp);
    }
  }

  void OnSupervisorReinvite(nua_t* nua, nua_handle_t* nh, Call& c, sip_t const* sip) {
    if (nh != c.monitor_nh || !c.monitor_leg_open) {
      Respond(nh, SIP_481_NO_TRANSACTION, NUTAG_WITH_THIS(nua), TAG_END());
      return;
    }
    const auto direction = ConnectReinviteOffer(nua, nh, sip, c.monitor_leg, nullptr);
    if (!direction) return;
    const std::string sdp =
        WithDirection(BuildSdp(c.monitor_local, DefaultOfferFormat(), c.id + 2000000, 1),
                      AnswerDirection(*direction));
    Respond(nh, SIP_200_OK, NUTAG_WITH_THIS(nua), SIPTAG_CONTENT_TYPE_STR("application/sdp"),
            SIPTAG_PAYLOAD_STR(sdp.c_str()), TAG_END());
  }

  // REFER (RFC 3515), answered here (NUTAG_APPL_METHOD). Only the agent's phone may transfer
  // its call: a REFER outside any dialog of ours, or in the dialog of another leg (the caller,
  // a consulted or supervising phone), is 403 Forbidden, and one in an agent's dialog that no
  // longer carries the call is 481 (RFC 3261 12.2.2); both are counted as bad requests and
  // change nothing. Accepted: 202, then the Refer-To user names a queue or an entry point. The
  // engine's transfer releases the phone (ReleaseAgent: NOTIFY 200 first); a refusal ends the
  // subscription with the error in the sipfrag and the call stays as it was.
  void OnRefer(nua_t* nua, nua_handle_t* nh, sip_t const* sip, tagi_t tags[]) {
    auto h = handles_.find(nh);
    if (h == handles_.end()) {
      Count(&SipCounters::bad_requests);
      Respond(nh, SIP_403_FORBIDDEN, NUTAG_WITH_THIS(nua), TAG_END());
      nua_handle_destroy(nh);
      return;
    }
    auto it = calls_.find(h->second.call);
    if (it != calls_.end() && sip->sip_refer_to != nullptr &&
        sip->sip_refer_to->r_url->url_headers != nullptr) {
      auto replaces = ReplacesOfReferTo(sip->sip_refer_to->r_url->url_headers);
      if (!replaces.ok()) {
        Count(&SipCounters::bad_requests);
        const std::string warning = WarningHeader(replaces.status().message());
        Respond(nh, 400, "Bad Replaces", NUTAG_WITH_THIS(nua), SIPTAG_HEADER_STR(warning.c_str()),
                TAG_END());
        return;
      }
      if (replaces->has_value()) {
        OnReferReplaces(nua, nh, *it->second, h->second.role, **replaces, tags);
        return;
      }
    }
    if (it == calls_.end() || h->second.role != Role::kAgent) {
      Count(&SipCounters::bad_requests);
      Respond(nh, SIP_403_FORBIDDEN, NUTAG_WITH_THIS(nua), TAG_END());
      return;
    }
    if (nh != it->second->agent_nh || it->second->contact.value() == 0 || deps_.center == nullptr) {
      Count(&SipCounters::bad_requests);
      Respond(nh, SIP_481_NO_TRANSACTION, NUTAG_WITH_THIS(nua), TAG_END());
      return;
    }
    if (sip->sip_refer_to == nullptr || sip->sip_refer_to->r_url->url_user == nullptr ||
        *sip->sip_refer_to->r_url->url_user == '\0') {
      Count(&SipCounters::bad_requests);
      Respond(nh, 400, "Bad Refer-To", NUTAG_WITH_THIS(nua), TAG_END());
      return;
    }
    Respond(nh, SIP_202_ACCEPTED, NUTAG_WITH_THIS(nua), TAG_END());
    Call& c = *it->second;
    const std::string target = Str(sip->sip_refer_to->r_url->url_user);
    c.refer_event = ReferEventOf(tags);
    const uint64_t id = c.id;
    // Resolved by the engine: a queue, an entry point, an agent's id, the agent of a SIP login,
    // then a number (docs/voice.md, "Call control").
    ports::TransferTarget to{ports::TransferTarget::Kind::kAny, target, ""};
    if (auto user = deps_.users.FindByLogin(target)) to.login_agent = user->agent;
    deps_.center->TransferContact(ports::Caller{.user = "sip"}, c.contact, std::move(to),
                                  [this, id](Result<ports::ContactSnapshot> r) {
                                    if (r.ok()) return;  // ReleaseAgent notified the phone
                                    const StatusCode code = r.status().code();
                                    Post([this, id, code] {
                                      auto it = calls_.find(id);
                                      if (it == calls_.end()) return;
                                      if (code == StatusCode::kNotFound) {
                                        NotifyRefer(*it->second, 404, "Not Found");
                                      } else if (code == StatusCode::kInvalidArgument) {
                                        NotifyRefer(*it->second, 488, "Not Acceptable Here");
                                      } else if (code == StatusCode::kConflict) {
                                        NotifyRefer(*it->second, 486, "Busy Here");
                                      } else {
                                        NotifyRefer(*it->second, 503, "Service Unavailable");
                                      }
                                    });
                                  });
  }

  // ---- Consultation from the agent's phone (docs/voice.md, "Consultation transfer") ----

  // The call a new INVITE from `login`'s phone is about: a live call of the user's agent whose
  // phone answered and still carries it, one on hold first; null when there is none (the INVITE
  // is then a call like any other). A scan of the calls: it runs only for INVITEs of
  // authenticated users, which customers' calls through trunks are not.
  Call* CallOfAgentPhone(const std::string& login) {
    auto user = deps_.users.FindByLogin(login);
    if (!user || user->agent.empty()) return nullptr;
    Call* found = nullptr;
    for (auto& [id, c] : calls_) {
      if (c->customer_gone || c->contact.value() == 0 || c->agent_nh == nullptr ||
          !c->agent_leg_open || c->connected_agent != user->agent) {
        continue;
      }
      if (found == nullptr || (c->held && !found->held)) found = c.get();
    }
    return found;
  }

  // An INVITE from the phone of an agent on a live call (dialog A2 of RFC 5589's attended
  // transfer): its Request-URI user names the colleague (an agent's id or SIP login) or a queue.
  // The engine starts the consultation as for the API (ConsultContact kStart, then kStartQueue
  // when no agent has that name); the target's phones ring (180 here) and this INVITE is
  // answered when one answers, bridged to it. Refused: 486 while a consultation runs, then the
  // engine's refusals (404 unknown name, 486 busy or conflicting, 480 no phone or the agent
  // himself), each with the reason in a Warning header.
  void OnConsultInvite(nua_t* nua, nua_handle_t* nh, sip_t const* sip, Call& c,
                       const std::string& login) {
    if (deps_.center == nullptr) {
      RefuseConsultInvite(nua, nh, SIP_503_SERVICE_UNAVAILABLE, "no engine attached");
      return;
    }
    if (!c.consult_agent.empty() || c.transferor_nh != nullptr) {
      RefuseConsultInvite(nua, nh, SIP_486_BUSY_HERE, "a consultation of this call runs already");
      return;
    }
    if (sip->sip_payload == nullptr || sip->sip_payload->pl_len == 0) {
      RefuseConsultInvite(nua, nh, SIP_488_NOT_ACCEPTABLE, "an SDP offer is required");
      return;
    }
    const ports::LegId leg = next_leg_++;
    auto local = deps_.media.OpenLeg(leg);
    if (!local.ok()) {
      RefuseConsultInvite(nua, nh, SIP_503_SERVICE_UNAVAILABLE, local.status().message());
      return;
    }
    if (!ConnectReinviteOffer(nua, nh, sip, leg, &c.transferor_format)) {
      CloseLeg(leg);
      Count(&SipCounters::calls_refused);
      return;
    }
    handles_.Add(nh, c.id, Role::kTransferor, true);
    ChooseRefresh(nh, sip);
    c.transferor_nh = nh;
    c.transferor_answered = false;
    c.transferor_leg = leg;
    c.transferor_leg_open = true;
    c.transferor_local = *local;
    c.transferor_login = login;
    // Our tag is known once the phone ACKs our answer (OnAck).
    c.transferor_dialog =
        DialogId{.call_id = sip->sip_call_id != nullptr ? Str(sip->sip_call_id->i_id) : "",
                 .local_tag = "",
                 .remote_tag = sip->sip_from != nullptr ? Str(sip->sip_from->a_tag) : ""};
    const std::string dialled = Str(sip->sip_request->rq_url->url_user);
    std::string agent = dialled;
    if (auto user = deps_.users.FindByLogin(dialled); user && !user->agent.empty()) {
      agent = user->agent;
    }
    StartPhoneConsult(c, nh, agent, dialled, false);
  }

  // The engine's kStart (or kStartQueue once no agent had the name) for the consultation the
  // phone's INVITE `nh` asked for, on the agent's own scope.
  void StartPhoneConsult(Call& c, nua_handle_t* nh, const std::string& agent,
                         const std::string& dialled, bool queue) {
    using Step = ports::ContactCenter::ConsultStep;
    const uint64_t id = c.id;
    deps_.center->ConsultContact(
        TransferorCaller(c), c.contact, queue ? Step::kStartQueue : Step::kStart,
        queue ? dialled : agent,
        [this, id, nh, agent, dialled, queue](Result<ports::ContactSnapshot> r) {
          Post([this, id, nh, agent, dialled, queue, s = r.status()] {
            auto it = calls_.find(id);
            if (it == calls_.end()) return;
            Call& c = *it->second;
            if (s.ok() && c.transferor_nh != nh) {
              // The phone gave up while the engine started it: cancelled as for the API.
              CancelPhoneConsult(c);
            } else if (s.ok()) {
              if (!c.transferor_answered) Respond(nh, SIP_180_RINGING, TAG_END());
            } else if (s.code() == StatusCode::kNotFound && !queue && c.transferor_nh == nh &&
                       s.message().rfind("no agent", 0) == 0) {
              StartPhoneConsult(c, nh, agent, dialled, true);
            } else if (c.transferor_nh == nh && !c.transferor_answered) {
              log::Info("sip", "consultation from the phone refused: " + s.message(),
                        {{"contact", c.contact.value()}, {"target", dialled}});
              Count(&SipCounters::calls_refused);
              const std::string why = queue && s.code() == StatusCode::kNotFound
                                          ? "no agent or queue '" + dialled + "'"
                                          : s.message();
              switch (s.code()) {
                case StatusCode::kNotFound:
                  EndTransferorLeg(c, SIP_404_NOT_FOUND, why);
                  break;
                case StatusCode::kConflict:
                  EndTransferorLeg(c, SIP_486_BUSY_HERE, why);
                  break;
                case StatusCode::kInvalidArgument:
                  EndTransferorLeg(c, SIP_480_TEMPORARILY_UNAVAILABLE, why);
                  break;
                case StatusCode::kPermissionDenied:
                  EndTransferorLeg(c, SIP_403_FORBIDDEN, why);
                  break;
                default:
                  EndTransferorLeg(c, SIP_503_SERVICE_UNAVAILABLE, why);
                  break;
              }
            }
          });
        });
  }

  void RefuseConsultInvite(nua_t* nua, nua_handle_t* nh, int status, char const* phrase,
                           const std::string& why) {
    Count(&SipCounters::calls_refused);
    const std::string warning = WarningHeader(why);
    Respond(nh, status, phrase, NUTAG_WITH_THIS(nua), SIPTAG_HEADER_STR(warning.c_str()),
            TAG_END());
  }

  // Who acts when the agent's phone drives the consultation: its user, reaching only the calls
  // of its own agent.
  ports::Caller TransferorCaller(const Call& c) const {
    return ports::Caller{.user = c.transferor_login.empty() ? "sip" : c.transferor_login,
                         .reach = ports::Caller::Reach::kSelf,
                         .agent = c.connected_agent};
  }

  void CancelPhoneConsult(Call& c) {
    if (deps_.center == nullptr || c.contact.value() == 0) return;
    deps_.center->ConsultContact(TransferorCaller(c), c.contact,
                                 ports::ContactCenter::ConsultStep::kCancel, "",
                                 [](Result<ports::ContactSnapshot>) {});
  }

  // The target answered a consultation the agent's phone started: its INVITE gets 200 and the
  // two talk.
  void AnswerTransferor(Call& c) {
    const std::string sdp =
        BuildSdp(c.transferor_local, c.transferor_format, c.id + 5000000, 1, false);
    Respond(c.transferor_nh, SIP_200_OK, SIPTAG_CONTENT_TYPE_STR("application/sdp"),
            SIPTAG_PAYLOAD_STR(sdp.c_str()), TAG_END());
    c.transferor_answered = true;
    (void)deps_.media.Bridge(c.transferor_leg, c.consult_leg);
  }

  // Ends the phone's consultation dialog (A2) on our side: BYE once answered, else the final
  // response `status` (with `why` as a Warning when given); its media leg closes.
  void EndTransferorLeg(Call& c, int status, char const* phrase, const std::string& why = "") {
    if (c.transferor_nh != nullptr) {
      if (c.transferor_answered) {
        nua_bye(c.transferor_nh, TAG_END());
      } else if (why.empty()) {
        Respond(c.transferor_nh, status, phrase, TAG_END());
      } else {
        const std::string warning = WarningHeader(why);
        Respond(c.transferor_nh, status, phrase, SIPTAG_HEADER_STR(warning.c_str()), TAG_END());
      }
      c.transferor_nh = nullptr;
    }
    c.transferor_answered = false;
    if (c.transferor_leg_open) {
      deps_.media.Unbridge(c.transferor_leg);
      CloseLeg(c.transferor_leg);
      c.transferor_leg_open = false;
    }
  }

  // The phone hung up (or cancelled) its consultation dialog before completing: the
  // consultation is cancelled as the API cancels it, the customer back with the agent.
  void TransferorGone(Call& c, nua_handle_t* nh) {
    if (nh != c.transferor_nh) return;
    c.transferor_nh = nullptr;  // its dialog is over: nothing to send on it
    EndTransferorLeg(c, 0, nullptr);
    // Not started yet: the engine's reply cancels it (StartPhoneConsult).
    if (!c.consult_agent.empty()) CancelPhoneConsult(c);
  }

  // A session refresh (or hold) in the phone's consultation dialog.
  void OnTransferorReinvite(nua_t* nua, nua_handle_t* nh, Call& c, sip_t const* sip) {
    if (nh != c.transferor_nh || !c.transferor_leg_open) {
      Respond(nh, SIP_481_NO_TRANSACTION, NUTAG_WITH_THIS(nua), TAG_END());
      return;
    }
    const auto direction =
        ConnectReinviteOffer(nua, nh, sip, c.transferor_leg, &c.transferor_format);
    if (!direction) return;
    const std::string sdp = ReanswerSdp(c, Role::kTransferor, *direction);
    Respond(nh, SIP_200_OK, NUTAG_WITH_THIS(nua), SIPTAG_CONTENT_TYPE_STR("application/sdp"),
            SIPTAG_PAYLOAD_STR(sdp.c_str()), TAG_END());
  }

  // The dialog a phone's 2xx to our INVITE established, as Replaces names it: its Call-ID, our
  // tag (From) and the phone's (To).
  static DialogId AnsweredDialog(sip_t const* sip) {
    if (sip == nullptr || sip->sip_call_id == nullptr || sip->sip_from == nullptr ||
        sip->sip_to == nullptr) {
      return DialogId{};
    }
    return DialogId{.call_id = Str(sip->sip_call_id->i_id),
                    .local_tag = Str(sip->sip_from->a_tag),
                    .remote_tag = Str(sip->sip_to->a_tag)};
  }

  // The ACK of our answer to the phone's consultation INVITE carries our tag in its To.
  void OnAck(nua_handle_t* nh, sip_t const* sip) {
    auto h = handles_.find(nh);
    if (h == handles_.end() || h->second.role != Role::kTransferor || sip == nullptr ||
        sip->sip_to == nullptr) {
      return;
    }
    auto it = calls_.find(h->second.call);
    if (it != calls_.end() && it->second->transferor_nh == nh) {
      it->second->transferor_dialog.local_tag = Str(sip->sip_to->a_tag);
    }
  }

  // REFER with Replaces from the agent's phone (RFC 5589 section 7): in the call's dialog (A1)
  // naming the consultation's (A2), or in A2 naming A1. 202, then the engine completes the
  // consultation as for the API (ConsultContact kComplete): CompleteConsult sends the final
  // NOTIFY (200) before both of the phone's dialogs get BYE; a refusal is the NOTIFY's sipfrag.
  // Anything else changes nothing and is counted (refers_refused): a REFER outside the call's
  // two dialogs of the agent's phone or naming a dialog of another call 403, naming no dialog
  // of ours (unknown, ended, or not answered yet) 481, each with the reason in a Warning.
  void OnReferReplaces(nua_t* nua, nua_handle_t* nh, Call& c, Role role,
                       const ReplacesTarget& replaces, tagi_t tags[]) {
    const auto refuse = [&](int status, char const* phrase, const std::string& why) {
      Count(&SipCounters::refers_refused);
      log::Info("sip", "REFER with Replaces refused: " + why,
                {{"contact", c.contact.value()}, {"status", status}});
      const std::string warning = WarningHeader(why);
      Respond(nh, status, phrase, NUTAG_WITH_THIS(nua), SIPTAG_HEADER_STR(warning.c_str()),
              TAG_END());
    };
    if (role != Role::kAgent && role != Role::kTransferor) {
      refuse(SIP_403_FORBIDDEN, "only the agent's phone may transfer its call");
      return;
    }
    const bool in_call = role == Role::kAgent && nh == c.agent_nh;
    const bool in_consult = role == Role::kTransferor && nh == c.transferor_nh;
    if ((!in_call && !in_consult) || c.customer_gone || c.contact.value() == 0 ||
        deps_.center == nullptr) {
      refuse(SIP_481_NO_TRANSACTION, "the REFER's dialog no longer carries the call");
      return;
    }
    std::optional<DialogId> expected;
    if (in_call && c.transferor_nh != nullptr && c.transferor_answered) {
      expected = c.transferor_dialog;
    } else if (in_consult && c.agent_nh != nullptr) {
      expected = c.agent_dialog;
    }
    std::vector<DialogId> others;  // a REFER is rare: a scan of the calls is cheap enough
    for (const auto& [id, other] : calls_) {
      if (other.get() == &c) continue;
      if (other->agent_nh != nullptr) others.push_back(other->agent_dialog);
      if (other->transferor_nh != nullptr) others.push_back(other->transferor_dialog);
    }
    switch (MatchReplaces(replaces, expected, others)) {
      case ReplacesMatch::kAnotherCall:
        refuse(SIP_403_FORBIDDEN, "Replaces names a dialog of another call");
        return;
      case ReplacesMatch::kNoDialog:
        refuse(SIP_481_NO_TRANSACTION, "Replaces names no answered consultation of this call");
        return;
      case ReplacesMatch::kExpected:
        break;
    }
    Respond(nh, SIP_202_ACCEPTED, NUTAG_WITH_THIS(nua), TAG_END());
    c.replaces_refer_nh = nh;
    c.replaces_refer_event = ReferEventOf(tags);
    const uint64_t id = c.id;
    deps_.center->ConsultContact(
        TransferorCaller(c), c.contact, ports::ContactCenter::ConsultStep::kComplete, "",
        [this, id](Result<ports::ContactSnapshot> r) {
          if (r.ok()) return;  // CompleteConsult notified the phone
          Post([this, id, why = r.status().message()] {
            auto it = calls_.find(id);
            if (it == calls_.end()) return;
            log::Info("sip", "attended transfer from the phone refused: " + why,
                      {{"contact", it->second->contact.value()}});
            NotifyReplacesRefer(*it->second, 503, "Service Unavailable");
          });
        });
  }

  // The final NOTIFY of a pending REFER with Replaces, if any.
  void NotifyReplacesRefer(Call& c, int status, const char* phrase) {
    nua_handle_t* nh = c.replaces_refer_nh;
    c.replaces_refer_nh = nullptr;
    if (nh == nullptr || c.replaces_refer_event.empty() || handles_.count(nh) == 0) return;
    SendReferNotify(nh, c.replaces_refer_event, status, phrase);
    c.replaces_refer_event.clear();
  }

  // ---- Blind transfer to one agent or a number (docs/voice.md, "Call control") ----

  // The target's phones ring on the consultation's leg; the first agent's phone goes at once
  // (a running recording moves to the target's leg first, so the file goes on) and the customer
  // hears music until the target answers (BlindTargetAnswered) or not (BlindTransferFailed).
  Status BlindTransferToAgent(Call& c, const std::string& target) {
    if (c.agent_nh == nullptr || !c.agent_leg_open) {
      return Conflict("the agent's phone is not on the call");
    }
    if (!c.consult_agent.empty()) return Conflict(c.consult_agent + " is consulted already");
    EndMonitor(c, ports::MonitorEnd::kCallEnded);
    if (Status s = RingConsulted(c, target, "take the transfer"); !s.ok()) return s;
    c.blind_transfer = true;
    deps_.media.Unbridge(c.customer_leg);
    if (c.recording) {
      if (Status s = deps_.media.MoveRecording(c.customer_leg, c.consult_leg); !s.ok()) {
        log::Error("sip", "the recording did not follow the transfer: " + s.message(),
                   {{"contact", c.contact.value()}});
      }
    }
    ReleaseAgentLeg(c);
    return Status::Ok();
  }

  // The target answered: his leg becomes the call's agent leg, bridged to the customer.
  void BlindTargetAnswered(Call& c) {
    const std::string target = c.consult_agent;
    c.blind_transfer = false;
    (void)CompleteConsult(c);
    if (deps_.intake == nullptr || c.contact.value() == 0) return;
    ports::TransferUpdate answered;
    answered.stage = ports::TransferUpdate::Stage::kAnswered;
    answered.target = target;
    deps_.intake->TransferProgress(c.contact, std::move(answered));
  }

  // The target did not take the call: the customer goes on hearing music, the engine puts the
  // call back in its queue.
  void BlindTransferFailed(Call& c, const std::string& target, const std::string& reason,
                           int status = 0) {
    log::Info("sip", "blind transfer not answered",
              {{"contact", c.contact.value()}, {"target", target}, {"reason", reason}});
    if (!c.customer_gone) PlayHoldMusic(c);
    if (deps_.intake == nullptr || c.contact.value() == 0) return;
    deps_.intake->TransferProgress(
        c.contact,
        ports::TransferUpdate{ports::TransferUpdate::Stage::kFailed, target, reason, status});
  }

  // The number is called through the outbound trunk, as click-to-dial calls its customer; the
  // first agent's phone goes once the INVITE is out, the customer hears music or the carrier's
  // early media.
  Status BlindTransferToNumber(Call& c, const std::string& number) {
    if (c.agent_nh == nullptr || !c.agent_leg_open) {
      return Conflict("the agent's phone is not on the call");
    }
    if (!c.consult_agent.empty()) return Conflict(c.consult_agent + " is consulted already");
    if (Status s = CheckOutbound(c.contact, number); !s.ok()) return s;
    const ports::LegId leg = next_leg_++;
    auto local = deps_.media.OpenLeg(leg);
    if (!local.ok()) return Unavailable("no media port for the call: " + local.status().message());
    nua_handle_t* nh = InviteTrunk(c, number, *local, c.id + 4000000, Role::kExternal);
    if (nh == nullptr) {
      CloseLeg(leg);
      return Unavailable("cannot call " + number);
    }
    c.ext_number = number;
    c.ext_nh = nh;
    c.ext_leg = leg;
    c.ext_leg_open = true;
    c.ext_local = *local;
    c.ext_format = DefaultOfferFormat();
    c.ext_ring_timer =
        StartCallTimer(c.id, &Impl::OnExternalRingTimeout, options_.outbound_ring_timeout);
    EndMonitor(c, ports::MonitorEnd::kCallEnded);
    deps_.media.Unbridge(c.customer_leg);
    // The recording goes on in the same file with the number in the agent channel (silence
    // while it rings); if the number does not take the call, its leg closing ends the file.
    if (c.recording) {
      if (Status s = deps_.media.MoveRecording(c.customer_leg, leg); !s.ok()) {
        log::Error("sip", "the recording did not follow the transfer: " + s.message(),
                   {{"contact", c.contact.value()}});
      }
    }
    ReleaseAgentLeg(c);
    return Status::Ok();
  }

  static void OnExternalRingTimeout(su_root_magic_t* magic, su_timer_t*, su_timer_arg_t* arg) {
    auto* self = static_cast<Impl*>(magic);
    auto it = self->calls_.find(reinterpret_cast<uintptr_t>(arg));
    if (it == self->calls_.end()) return;
    Call& c = *it->second;
    StopCallTimer(c.ext_ring_timer);
    if (!c.ext_answered && c.ext_nh != nullptr) self->ExternalFailed(c, "no_answer", 0);
  }

  void OnExternalResponse(Call& c, nua_handle_t* nh, int status, sip_t const* sip) {
    if (nh != c.ext_nh || c.customer_gone) {
      if (status >= 200 && status < 300) nua_bye(nh, TAG_END());  // answered after we gave up
      return;
    }
    if (status < 200) {
      // Early media: the customer hears the carrier's ringback instead of the music.
      if (status > 100 && !c.ext_bridged && ConnectTrunkMedia(c.ext_leg, c.ext_format, sip)) {
        c.ext_bridged = deps_.media.Bridge(c.customer_leg, c.ext_leg).ok();
      }
      return;
    }
    if (AnswerTrunkChallenge(nh, status, sip, c.ext_auth_answered)) return;
    if (status >= 300) {
      ExternalFailed(c, FailureReason(status), status);
      return;
    }
    StopCallTimer(c.ext_ring_timer);
    (void)ConnectTrunkMedia(c.ext_leg, c.ext_format, sip);
    c.ext_answered = true;
    Count(&SipCounters::calls_out_answered);
    if (!c.ext_bridged) c.ext_bridged = deps_.media.Bridge(c.customer_leg, c.ext_leg).ok();
    c.bridged = c.ext_bridged;
    if (deps_.intake == nullptr || c.contact.value() == 0) return;
    ports::TransferUpdate answered;
    answered.stage = ports::TransferUpdate::Stage::kAnswered;
    answered.target = c.ext_number;
    answered.sip_status = status;
    deps_.intake->TransferProgress(c.contact, std::move(answered));
  }

  // The number did not answer (busy, refused, rang out, unreachable): its leg goes, the
  // customer is back on music and the engine queues the call again.
  void ExternalFailed(Call& c, const std::string& reason, int status) {
    Count(&SipCounters::calls_out_failed);
    StopCallTimer(c.ext_ring_timer);
    if (c.ext_nh != nullptr && status == 0) nua_cancel(c.ext_nh, TAG_END());
    c.ext_nh = nullptr;
    CloseExternalLeg(c);
    BlindTransferFailed(c, c.ext_number, reason, status);
  }

  void CloseExternalLeg(Call& c) {
    if (!c.ext_leg_open) return;
    if (c.ext_bridged) deps_.media.Unbridge(c.customer_leg);
    c.ext_bridged = false;
    CloseLeg(c.ext_leg);
    c.ext_leg_open = false;
  }

  // The number's side hung up (BYE, or its dialog ended): once answered the call is over for the
  // customer too; before, the transfer failed.
  void ExternalGone(Call& c, nua_handle_t* nh) {
    if (nh != c.ext_nh) return;
    c.ext_nh = nullptr;  // its dialog is over: nothing to cancel
    if (!c.ext_answered) {
      ExternalFailed(c, "failed", 0);
      return;
    }
    if (!c.customer_gone && c.contact.value() != 0 && deps_.intake != nullptr) {
      deps_.intake->ChannelInputFor(c.contact, ports::CustomerLeft{});
    }
    EndCall(c, false);  // may forget the call
  }

  // A session refresh (or any re-INVITE) from the number's side.
  void OnExternalReinvite(nua_t* nua, nua_handle_t* nh, Call& c, sip_t const* sip) {
    if (nh != c.ext_nh || !c.ext_leg_open) {
      Respond(nh, SIP_481_NO_TRANSACTION, NUTAG_WITH_THIS(nua), TAG_END());
      return;
    }
    const auto direction = ConnectReinviteOffer(nua, nh, sip, c.ext_leg, &c.ext_format);
    if (!direction) return;
    const std::string sdp =
        WithDirection(BuildSdp(c.ext_local, c.ext_format, c.id + 4000000, c.sdp_version + 1),
                      AnswerDirection(*direction));
    Respond(nh, SIP_200_OK, NUTAG_WITH_THIS(nua), SIPTAG_CONTENT_TYPE_STR("application/sdp"),
            SIPTAG_PAYLOAD_STR(sdp.c_str()), TAG_END());
  }

  // EndCall's part: the number's leg goes with the call (BYE once answered, CANCEL before).
  void EndExternal(Call& c) {
    StopCallTimer(c.ext_ring_timer);
    if (c.ext_nh != nullptr) {
      if (c.ext_answered) {
        nua_bye(c.ext_nh, TAG_END());
      } else {
        nua_cancel(c.ext_nh, TAG_END());
      }
      c.ext_nh = nullptr;
    }
    CloseExternalLeg(c);
  }

  // The final NOTIFY of a pending REFER of the agent's phone, if any.
  void NotifyRefer(Call& c, int status, const char* phrase) {
    if (c.refer_event.empty() || c.agent_nh == nullptr) return;
    SendReferNotify(c.agent_nh, c.refer_event, status, phrase);
    c.refer_event.clear();
  }

  void PlayHoldMusic(Call& c) {
    deps_.media.Play(c.customer_leg, kHoldMusicPlay, ports::Prompt{.recording = "moh"},
                     /*loop=*/true);
  }

  // The agent's phone put the call on hold (a=sendonly or a=inactive) or took it off (sendrecv):
  // the engine journals it and answers with ControlCall, as for the API.
  void PhoneHold(Call& c, bool on_hold) {
    if (on_hold == c.held || deps_.center == nullptr || c.contact.value() == 0) return;
    if (!on_hold && !c.phone_held) return;  // held from the API: a refresh does not resume it
    c.phone_held = on_hold;
    deps_.center->HoldContact(ports::Caller{.user = "sip"}, c.contact, on_hold,
                              [](Result<ports::ContactSnapshot>) {});
  }

  void OnMediaInactive(ports::LegId leg) {
    for (auto& [id, c] : calls_) {
      if (c->customer_leg == leg || (c->agent_leg_open && c->agent_leg == leg) ||
          (c->ext_leg_open && c->ext_leg == leg)) {
        if (c->contact.value() != 0 && !c->customer_gone) {
          deps_.intake->ChannelInputFor(c->contact, ports::CustomerLeft{});
        }
        EndCall(*c, false);
        return;
      }
    }
  }
  void OnDigit(ports::LegId leg, char digit) {
    if (voicemail_.OnDigit(leg, digit)) return;
    for (auto& [id, c] : calls_) {
      if (c->customer_leg == leg && c->contact.value() != 0) {
        deps_.intake->ChannelInputFor(c->contact, ports::DigitsPressed{std::string(1, digit)});
        return;
      }
    }
  }
  void OnPlayFinished(ports::LegId leg, uint64_t play_id) {
    if (voicemail_.OnPlayFinished(leg, play_id)) return;
    if (play_id == kAnnouncementPlay) {
      AnnouncementEnded(leg);
      return;
    }
    for (auto& [id, c] : calls_) {
      if (c->customer_leg == leg && c->contact.value() != 0) {
        deps_.intake->ChannelInputFor(c->contact, ports::PromptEnded{play_id});
        return;
      }
    }
  }

  // ---- Recording and media quality (issue 6; docs/voice.md, "Recording") ----

  // The play id of the recording announcement; the flow's ids count up from 1.
  static constexpr uint64_t kAnnouncementPlay = ~uint64_t{0};

  void DoPrepareRecording(ContactId contact, const ports::RecordingPlan& plan) {
    if (Call* c = CallOf(contact)) c->recording_plan = plan;
  }

  void DoRecordingControl(ContactId contact, ports::RecordingCommand command) {
    Call* c = CallOf(contact);
    if (c == nullptr) return;
    switch (command) {
      case ports::RecordingCommand::kStart:
        if (c->bridged) {
          StartRecordingOf(*c);
        } else {
          c->record_requested = true;
        }
        break;
      case ports::RecordingCommand::kStop:
        c->record_requested = false;
        if (c->recording) {
          deps_.media.StopRecording(c->customer_leg);
          c->recording = false;
        }
        break;
      case ports::RecordingCommand::kPause:
      case ports::RecordingCommand::kResume:
        if (c->recording) {
          deps_.media.PauseRecording(c->customer_leg, command == ports::RecordingCommand::kPause);
        }
        break;
    }
  }

  // The agent's phone answered: the announcement first (if any), then the bridge and, by the
  // queue's policy or an earlier request, the recording.
  void ConnectAgent(Call& c) {
    if (!c.recording_plan.announcement.empty()) {
      c.announcing = true;
      deps_.media.Play(c.customer_leg, kAnnouncementPlay, c.recording_plan.announcement, false);
      c.recording_plan.announcement = {};
      return;
    }
    c.bridged = deps_.media.Bridge(c.customer_leg, c.agent_leg).ok();
    if (c.bridged && (c.recording_plan.record || c.record_requested)) StartRecordingOf(c);
  }

  void AnnouncementEnded(ports::LegId leg) {
    for (auto& [id, c] : calls_) {
      if (c->customer_leg != leg || !c->announcing) continue;
      c->announcing = false;
      if (c->agent_nh != nullptr && c->agent_leg_open) ConnectAgent(*c);
      return;
    }
  }

  void StartRecordingOf(Call& c) {
    c.record_requested = false;
    if (c.recording || c.contact.value() == 0 || !c.agent_leg_open) return;
    if (options_.recordings_dir.empty()) {
      log::Error("sip", "not recorded: no recordings directory", {{"contact", c.contact.value()}});
      return;
    }
    const TimePoint now = deps_.clock.Now();
    auto path = RecordingPath(now, c.contact);
    if (!path.ok()) {
      log::Error("sip", "not recorded: " + path.status().message(),
                 {{"contact", c.contact.value()}});
      return;
    }
    if (Status s = deps_.media.StartRecording(c.customer_leg, c.agent_leg, *path); !s.ok()) {
      log::Error("sip", "not recorded: " + s.message(), {{"contact", c.contact.value()}});
      return;
    }
    c.recording = true;
    recordings_[c.customer_leg].push_back({c.contact, now});
  }

  // DIR/YYYY/MM/DD/<contact>.wav (UTC), or <contact>-N.wav for the contact's N-th recording.
  Result<std::string> RecordingPath(TimePoint now, ContactId contact) const {
    const auto day = std::chrono::floor<std::chrono::days>(now);
    const std::chrono::year_month_day ymd{day};
    char date[16];
    std::snprintf(date, sizeof date, "%04d/%02u/%02u", static_cast<int>(ymd.year()),
                  static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()));
    const std::filesystem::path dir = std::filesystem::path(options_.recordings_dir) / date;
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (ec) return Unavailable("cannot create " + dir.string() + ": " + ec.message());
    const std::string base = std::to_string(contact.value());
    for (int n = 1; n < 1000; ++n) {
      const std::filesystem::path p =
          dir / (n == 1 ? base + ".wav" : base + "-" + std::to_string(n) + ".wav");
      if (!std::filesystem::exists(p, ec) && !std::filesystem::exists(p.string() + ".part", ec)) {
        return p.string();
      }
    }
    return Unavailable("too many recordings of contact " + base);
  }

  // Where a voicemail of `contact` is written: beside the call recordings.
  Result<std::string> VoicemailPath(ContactId contact) const {
    if (options_.recordings_dir.empty()) return Unavailable("no recordings directory");
    return RecordingPath(deps_.clock.Now(), contact);
  }

 public:
  // Recordings a crash left under their temporary name: finalised and reported (at start).
  void RecoverRecordings() {
    std::vector<std::string> problems;
    for (auto& r : FinaliseLeftoverRecordings(options_.recordings_dir, &problems)) {
      log::Warn("sip", "recovered a recording after a crash",
                {{"contact", r.contact.value()}, {"path", r.info.path}, {"bytes", r.info.bytes}});
      if (deps_.intake == nullptr) continue;
      ports::RecordedAudio audio;
      audio.info = std::move(r.info);
      audio.started = r.started;
      audio.channels = r.channels;
      deps_.intake->RecordingFinished(r.contact, std::move(audio));
    }
    for (const std::string& p : problems) log::Error("sip", "recording: " + p);
  }

  void OnRecordingDone(ports::LegId leg, ports::RecordingInfo info) {
    if (voicemail_.OnRecordingDone(leg, info)) return;
    auto it = recordings_.find(leg);
    if (it == recordings_.end() || it->second.empty()) return;
    const RecordingStart start = it->second.front();
    it->second.pop_front();
    if (it->second.empty()) recordings_.erase(it);
    for (auto& [id, c] : calls_) {
      if (c->customer_leg == leg && c->recording && recordings_.count(leg) == 0) {
        c->recording = false;
      }
    }
    if (deps_.intake == nullptr) return;
    ports::RecordedAudio audio;
    audio.info = std::move(info);
    audio.started = start.started;
    audio.channels = 2;
    deps_.intake->RecordingFinished(start.contact, std::move(audio));
  }

 private:
  // Closes a leg without waiting for its media thread (every hang-up closes two, and waiting cost
  // this thread a round trip to that one for each).
  void CloseLeg(ports::LegId leg) { deps_.media.CloseLeg(leg, nullptr); }
  // The same, and the leg's figures go to the contact from the media thread.
  void CloseAndReportLeg(const Call& c, ports::LegRole role, ports::LegId leg) {
    if (deps_.intake == nullptr || c.contact.value() == 0 ||
        (role == ports::LegRole::kAgent && c.connected_agent.empty())) {  // never answered
      return CloseLeg(leg);
    }
    {
      std::lock_guard lock(closing_mu_);
      ++closing_legs_;
    }
    deps_.media.CloseLeg(
        leg, [this, intake = deps_.intake, contact = c.contact, role,
              agent = role == ports::LegRole::kAgent ? c.connected_agent
                                                     : std::string()](ports::LegStats stats) {
          intake->LegClosed(contact, role, agent, stats);
          std::lock_guard lock(closing_mu_);
          if (--closing_legs_ == 0) closing_cv_.notify_all();
        });
  }

  struct RecordingStart {
    ContactId contact;
    TimePoint started{};
  };

 private:
  const SipServerOptions options_;
  const Deps deps_;
  const auth::NonceIssuer nonces_;
  auth::SipGuard guard_;

  // Legs whose figures are still on their way to the engine: Stop waits for them.
  std::mutex closing_mu_;
  std::condition_variable closing_cv_;
  size_t closing_legs_ = 0;  // GUARDED_BY(closing_mu_)

  mutable std::mutex mu_;
  su_root_t* root_ = nullptr;  // guarded by mu_ for Post
  bool running_ = false;
  std::deque<std::function<void()>> queue_;
  bool wake_pending_ = false;  // a wake-up message is on its way to Drain
  SipCounters counters_;
  std::vector<TimePoint> binding_expiries_;  // the registrar's, copied by UpdateGauges
  std::thread thread_;

  // SIP thread only.
  nua_t* nua_ = nullptr;
  Registrar registrar_;
  std::unique_ptr<BindingWriter> binding_writer_;  // null: registrations in memory only
  std::map<uint64_t, std::unique_ptr<Call>> calls_;
  HandleTable handles_;
  std::unordered_map<uint64_t, uint64_t> by_contact_;  // contact id -> call id
  std::unordered_map<uint64_t, ports::RtpEndpoint> agent_local_;
  // Recordings under way, by customer leg, oldest first (a stopped one reports after a restart).
  std::unordered_map<ports::LegId, std::deque<RecordingStart>> recordings_;
  uint64_t next_call_ = 1;
  ports::LegId next_leg_ = 1;
  // Play id of music on hold (loops report no end; a failed load's end is ignored by the flow).
  static constexpr uint64_t kHoldMusicPlay = 0;
  VoicemailRecorder voicemail_;  // SIP thread only
};

void SipServer::Impl::OfferToAgent(ContactId contact, const std::string& agent, Duration timeout) {
  DoOfferToAgent(contact, agent, timeout);
}
void SipServer::Impl::OfferWithdrawn(ContactId contact, const std::string& agent) {
  DoOfferWithdrawn(contact, agent);
}
void SipServer::Impl::PrepareRecording(ContactId contact, const ports::RecordingPlan& plan) {
  DoPrepareRecording(contact, plan);
}
void SipServer::Impl::RecordingControl(ContactId contact, ports::RecordingCommand command) {
  DoRecordingControl(contact, command);
}
void SipServer::Impl::RecordVoicemail(ContactId contact, const ports::VoicemailRequest& request) {
  Call* c = CallOf(contact);
  if (c == nullptr || c->customer_gone || c->customer_leg == 0) {
    voicemail_.NothingRecorded(contact);
    return;
  }
  voicemail_.Start(contact, c->customer_leg, request);
}

SipServer::SipServer(SipServerOptions options, Deps deps)
    : impl_(std::make_unique<Impl>(std::move(options), deps)) {}
SipServer::~SipServer() { Stop(); }

Status SipServer::Start() {
  Impl* impl = impl_.get();
  ports::MediaEvents events;
  events.on_digit = [impl](ports::LegId leg, char d) {
    impl->Post([impl, leg, d] { impl->OnDigit(leg, d); });
  };
  events.on_play_finished = [impl](ports::LegId leg, uint64_t id) {
    impl->Post([impl, leg, id] { impl->OnPlayFinished(leg, id); });
  };
  events.on_inactive = [impl](ports::LegId leg) {
    impl->Post([impl, leg] { impl->OnMediaInactive(leg); });
  };
  events.on_recording_done = [impl](ports::LegId leg, ports::RecordingInfo info) {
    impl->Post([impl, leg, info = std::move(info)]() mutable {
      impl->OnRecordingDone(leg, std::move(info));
    });
  };
  impl_->media().SetEvents(std::move(events));
  Status started = impl_->Start();
  if (started.ok()) impl_->RecoverRecordings();
  return started;
}
void SipServer::Stop() {
  impl_->media().SetEvents({});  // no media event may reach the server after it stopped
  impl_->Stop();
}
SipCounters SipServer::counters() const { return impl_->counters(); }

void SipServer::Play(ContactId contact, const ports::PlayRequest& request) {
  impl_->Post([impl = impl_.get(), contact, request] { impl->Play(contact, request); });
}
void SipServer::StopPlayback(ContactId contact) {
  impl_->Post([impl = impl_.get(), contact] { impl->StopPlayback(contact); });
}
void SipServer::SendText(ContactId, const ports::TextMessage&) {}  // no text on a call
void SipServer::Hangup(ContactId contact) {
  impl_->Post([impl = impl_.get(), contact] { impl->Hangup(contact); });
}
void SipServer::OfferToAgent(ContactId contact, const std::string& agent, Duration timeout) {
  impl_->Post([impl = impl_.get(), contact, agent, timeout] {
    impl->OfferToAgent(contact, agent, timeout);
  });
}
void SipServer::OfferWithdrawn(ContactId contact, const std::string& agent) {
  impl_->Post([impl = impl_.get(), contact, agent] { impl->OfferWithdrawn(contact, agent); });
}
void SipServer::ContactEnded(ContactId contact) {
  impl_->Post([impl = impl_.get(), contact] { impl->DoContactEnded(contact); });
}
void SipServer::PrepareRecording(ContactId contact, const ports::RecordingPlan& plan) {
  impl_->Post([impl = impl_.get(), contact, plan] { impl->PrepareRecording(contact, plan); });
}
void SipServer::RecordingControl(ContactId contact, ports::RecordingCommand command) {
  impl_->Post([impl = impl_.get(), contact, command] { impl->RecordingControl(contact, command); });
}
// Work posted after Stop, or still queued when the SIP thread ends, is dropped; its caller (an API
// request behind the engine) is answered all the same.
static std::function<void(Status)> AnsweredEvenIfStopped(std::function<void(Status)> done) {
  return OweReply(std::move(done), Unavailable("the SIP server is stopping"));
}

void SipServer::ControlCall(ContactId contact, ports::CallCommand command,
                            std::function<void(Status)> done) {
  done = AnsweredEvenIfStopped(std::move(done));
  impl_->Post([impl = impl_.get(), contact, command = std::move(command), done = std::move(done)] {
    impl->DoControlCall(contact, command, done);
  });
}

void SipServer::RecordVoicemail(ContactId contact, const ports::VoicemailRequest& request) {
  impl_->Post([impl = impl_.get(), contact, request] { impl->RecordVoicemail(contact, request); });
}

void SipServer::PlaceCall(ContactId contact, ports::OutboundDial dial,
                          std::function<void(Status)> done) {
  done = AnsweredEvenIfStopped(std::move(done));
  impl_->Post([impl = impl_.get(), contact, dial = std::move(dial), done = std::move(done)] {
    impl->DoPlaceCall(contact, dial, done);
  });
}

}  // namespace parley::sip
