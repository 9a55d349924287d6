#pragma once
// Registrar: where each agent user's phones can be reached (RFC 3261 section 10), in memory
// (SipServer stores them through BindingWriter and restores them at start). A user may register
// several contacts (desk phone, softphone); each expires on its own. Pure and single-threaded:
// SipServer owns one on its SIP thread and passes the time in.

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "base/time.h"

namespace parley::sip {

struct Binding {
  std::string contact;  // the Contact URI, e.g. "sip:alice@192.0.2.7:5062"
  std::string call_id;  // of the REGISTER that made it (RFC 3261 10.3 step 7)
  uint32_t cseq = 0;
  TimePoint expires{};
  std::string source;  // address the REGISTER came from, for the logs
};

struct RegistrarPolicy {
  Duration min_expires = Seconds(60);
  Duration max_expires = Seconds(3600);
  Duration default_expires = Seconds(3600);
  size_t max_contacts_per_user = 10;
};

// How many of `expiries` are still ahead of `now` (the registrations_active gauge).
size_t CountUnexpired(const std::vector<TimePoint>& expiries, TimePoint now);

class Registrar {
 public:
  explicit Registrar(RegistrarPolicy policy = {}) : policy_(policy) {}

  struct Change {
    std::string contact;
    Duration expires{0};  // 0 = remove this contact
  };
  // Applies one REGISTER's contacts for `login` (whose agent is `agent`, "" for none).
  // kInvalidArgument (423 Interval Too Brief) when a non-zero expiry is under min_expires;
  // kConflict (500 with Retry-After is what RFC 3261 suggests; we answer 400) for a CSeq not
  // above the binding's own for the same Call-ID; kUnavailable when the user would exceed
  // max_contacts_per_user. Nothing changes unless every contact is acceptable.
  Status Apply(std::string_view login, std::string_view agent, const std::vector<Change>& changes,
               std::string_view call_id, uint32_t cseq, std::string_view source, TimePoint now);
  // "Contact: *" with Expires: 0.
  void RemoveAll(std::string_view login);
  // Puts back a binding stored before a restart (unless expired, already held, or over the
  // user's limit); `agent` is the login's agent now, which may differ from before.
  void Restore(std::string_view login, std::string_view agent, Binding binding, TimePoint now);

  // Expiry clamped to the policy: absent (negative) = default, above max = max.
  Duration Clamp(Duration requested) const;
  const RegistrarPolicy& policy() const { return policy_; }

  // Live bindings, oldest first (expired ones are dropped on the way).
  std::vector<Binding> BindingsOf(std::string_view login, TimePoint now);
  std::vector<Binding> BindingsOfAgent(std::string_view agent, TimePoint now);
  size_t size() const;
  // When each binding held now expires (expired ones included until their user's next change).
  std::vector<TimePoint> Expiries() const;

 private:
  struct User {
    std::string agent;
    std::vector<Binding> bindings;
  };
  void Expire(User& user, TimePoint now);

  RegistrarPolicy policy_;
  std::map<std::string, User, std::less<>> users_;
};

}  // namespace parley::sip
