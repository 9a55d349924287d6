#pragma once
// The audit trail: who changed what, who read or exported customer data, who logged in or was
// refused. Append-only: entries are numbered in order and never changed. The log keeps the most
// recent `capacity` entries in memory for the API and hands every entry to a sink (the store)
// when one is set. Entries never hold secrets: callers pass names and ids, never passwords,
// tokens or session ids. Thread-safe.

#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <vector>

#include "auth/mutex.h"
#include "base/time.h"
#include "ports/auth_store.h"

namespace parley::auth {

using AuditOutcome = ports::AuditOutcome;
using AuditEntry = ports::AuditRecord;

std::string_view AuditOutcomeName(AuditOutcome o);  // "ok", "denied", "failed"

struct AuditQuery {
  std::optional<std::string> actor;
  std::optional<std::string> action;
  std::optional<TimePoint> from;  // inclusive
  std::optional<TimePoint> to;    // exclusive
  size_t limit = 1000;
};

class AuditLog {
 public:
  // `sink` (may be null) must outlive the log.
  explicit AuditLog(size_t capacity = 100000, ports::AuditSink* sink = nullptr);

  // After a restart: numbering continues after `last_sequence` (the sink's last entry), so
  // sequence numbers never repeat. Call before the first Append.
  void ContinueAfter(uint64_t last_sequence);

  // Numbers the entry, keeps it, and passes it to the sink. Returns the sequence number. A sink
  // failure is counted (sink_failures()) and does not lose the in-memory entry.
  uint64_t Append(TimePoint at, std::string actor, std::string action, std::string target,
                  AuditOutcome outcome, std::string detail = "");

  // Matching entries still in memory, oldest first, at most `limit`.
  std::vector<AuditEntry> Query(const AuditQuery& q) const;
  uint64_t last_sequence() const;
  uint64_t sink_failures() const;

 private:
  const size_t capacity_;
  ports::AuditSink* const sink_;
  mutable Mutex mu_;
  std::deque<AuditEntry> entries_ PARLEY_GUARDED_BY(mu_);
  uint64_t next_ PARLEY_GUARDED_BY(mu_) = 1;
  uint64_t sink_failures_ PARLEY_GUARDED_BY(mu_) = 0;
};

}  // namespace parley::auth
