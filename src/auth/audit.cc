#include "auth/audit.h"

#include <algorithm>

namespace parley::auth {

std::string_view AuditOutcomeName(AuditOutcome o) {
  switch (o) {
    case AuditOutcome::kOk:
      return "ok";
    case AuditOutcome::kDenied:
      return "denied";
    case AuditOutcome::kFailed:
      return "failed";
  }
  return "?";
}

AuditLog::AuditLog(size_t capacity, ports::AuditSink* sink)
    : capacity_(capacity == 0 ? 1 : capacity), sink_(sink) {}

void AuditLog::ContinueAfter(uint64_t last_sequence) {
  MutexLock lock(mu_);
  next_ = std::max(next_, last_sequence + 1);
}

uint64_t AuditLog::Append(TimePoint at, std::string actor, std::string action, std::string target,
                          AuditOutcome outcome, std::string detail) {
  MutexLock lock(mu_);
  AuditEntry e{next_++,           at,      std::move(actor), std::move(action),
               std::move(target), outcome, std::move(detail)};
  // Under the lock so that the sink sees entries in sequence order.
  if (sink_ && !sink_->AppendAudit(e).ok()) ++sink_failures_;
  entries_.push_back(std::move(e));
  if (entries_.size() > capacity_) entries_.pop_front();
  return entries_.back().sequence;
}

std::vector<AuditEntry> AuditLog::Query(const AuditQuery& q) const {
  MutexLock lock(mu_);
  std::vector<AuditEntry> out;
  for (const AuditEntry& e : entries_) {
    if (out.size() >= q.limit) break;
    if (q.actor && e.actor != *q.actor) continue;
    if (q.action && e.action != *q.action) continue;
    if (q.from && e.at < *q.from) continue;
    if (q.to && e.at >= *q.to) continue;
    out.push_back(e);
  }
  return out;
}

uint64_t AuditLog::last_sequence() const {
  MutexLock lock(mu_);
  return next_ - 1;
}

uint64_t AuditLog::sink_failures() const {
  MutexLock lock(mu_);
  return sink_failures_;
}

}  // namespace parley::auth
