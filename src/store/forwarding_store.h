#pragma once
// ForwardingStore: a Store that passes every call to another one. Tests derive from it to
// intercept one call (hold journal completions, inject a failure) and leave the rest alone.

#include <string>
#include <vector>

#include "ports/store.h"

namespace parley::store {

class ForwardingStore : public ports::Store {
 public:
  explicit ForwardingStore(ports::Store& inner) : inner_(inner) {}
  void AppendAsync(ports::JournalBatch batch, ports::AppendCallback done) override {
    inner_.AppendAsync(std::move(batch), std::move(done));
  }
  Result<ports::SequenceRange> Append(ports::JournalBatch b) override { return inner_.Append(b); }
  Result<std::vector<ports::JournalEntry>> ReadAfter(ports::Sequence a, size_t l) override {
    return inner_.ReadAfter(a, l);
  }
  Result<ports::Sequence> LastSequence() override { return inner_.LastSequence(); }
  Result<ports::RecoveryState> LoadRecoveryState() override { return inner_.LoadRecoveryState(); }
  Result<ports::ContactRecord> GetContact(ContactId id) override { return inner_.GetContact(id); }
  Result<std::vector<ports::CustomerContact>> CustomerContacts(TimePoint f, TimePoint t) override {
    return inner_.CustomerContacts(f, t);
  }
  Result<uint64_t> PutConfig(const ports::ConfigDocument& d, uint64_t v) override {
    return inner_.PutConfig(d, v);
  }
  Result<ports::ConfigDocument> CurrentConfig() override { return inner_.CurrentConfig(); }
  Result<std::vector<ports::ConfigDocument>> ConfigHistory(size_t l, bool t) override {
    return inner_.ConfigHistory(l, t);
  }
  Result<ports::ConfigDocument> GetConfig(uint64_t v) override { return inner_.GetConfig(v); }
  Result<ports::CustomerId> CreateCustomer(const ports::Customer& c) override {
    return inner_.CreateCustomer(c);
  }
  Status UpdateCustomer(const ports::Customer& c) override { return inner_.UpdateCustomer(c); }
  Result<ports::Customer> GetCustomer(ports::CustomerId id) override {
    return inner_.GetCustomer(id);
  }
  Result<ports::Customer> FindCustomerByIdentity(const ports::CustomerIdentity& i) override {
    return inner_.FindCustomerByIdentity(i);
  }
  Result<std::vector<ports::Customer>> SearchCustomers(const std::string& p, size_t l) override {
    return inner_.SearchCustomers(p, l);
  }
  Result<uint64_t> AddNote(const ports::CustomerNote& n) override { return inner_.AddNote(n); }
  Result<std::vector<ports::CustomerNote>> Notes(ports::CustomerId id) override {
    return inner_.Notes(id);
  }
  Result<std::vector<ports::ContactRecord>> Timeline(ports::CustomerId id, size_t l) override {
    return inner_.Timeline(id, l);
  }
  Result<ports::CustomerExport> ExportCustomer(ports::CustomerId id) override {
    return inner_.ExportCustomer(id);
  }
  Status EraseCustomer(ports::CustomerId id) override { return inner_.EraseCustomer(id); }
  Result<std::vector<std::pair<ports::CustomerIdentity, ports::CustomerId>>> AllIdentities()
      override {
    return inner_.AllIdentities();
  }
  Result<uint64_t> Purge(ports::DataClass c, TimePoint t) override { return inner_.Purge(c, t); }
  Result<std::vector<ports::RecordingRecord>> PurgeRecordings(TimePoint cutoff) override {
    return inner_.PurgeRecordings(cutoff);
  }
  Status Backup(const std::string& p) override { return inner_.Backup(p); }

  Result<std::vector<ports::RecordingRecord>> ListRecordings(
      const ports::RecordingFilter& f) override {
    return inner_.ListRecordings(f);
  }
  Result<ports::RecordingRecord> GetRecording(uint64_t id) override {
    return inner_.GetRecording(id);
  }
  Result<std::vector<ports::RecordingRecord>> RecordingsOfContact(ContactId c) override {
    return inner_.RecordingsOfContact(c);
  }
  Result<std::vector<ports::LegQualityRecord>> LegQualityOf(ContactId c) override {
    return inner_.LegQualityOf(c);
  }
  Result<uint64_t> LastRecordingId() override { return inner_.LastRecordingId(); }
  Status ReplaceSipBindings(const std::vector<std::string>& l,
                            const std::vector<ports::SipBindingRecord>& b) override {
    return inner_.ReplaceSipBindings(l, b);
  }
  Result<std::vector<ports::SipBindingRecord>> LoadSipBindings(TimePoint now) override {
    return inner_.LoadSipBindings(now);
  }

  Status PutUser(const ports::UserRecord& u) override { return inner_.PutUser(u); }
  Status DeleteUser(uint64_t id) override { return inner_.DeleteUser(id); }
  Status PutSession(const ports::SessionRecord& r) override { return inner_.PutSession(r); }
  Status DeleteSession(const std::string& h) override { return inner_.DeleteSession(h); }
  Status PutToken(const ports::TokenRecord& t) override { return inner_.PutToken(t); }
  Status DeleteToken(const std::string& p) override { return inner_.DeleteToken(p); }
  Result<std::vector<ports::UserRecord>> LoadUsers() override { return inner_.LoadUsers(); }
  Result<std::vector<ports::SessionRecord>> LoadSessions() override {
    return inner_.LoadSessions();
  }
  Result<std::vector<ports::TokenRecord>> LoadTokens() override { return inner_.LoadTokens(); }
  Status AppendAudit(const ports::AuditRecord& r) override { return inner_.AppendAudit(r); }
  Result<std::vector<ports::AuditRecord>> ReadAudit(uint64_t a, size_t l) override {
    return inner_.ReadAudit(a, l);
  }
  Result<uint64_t> LastAuditSequence() override { return inner_.LastAuditSequence(); }
  Result<uint64_t> EnqueueDelivery(const ports::WebhookDelivery& d) override {
    return inner_.EnqueueDelivery(d);
  }
  Result<std::vector<ports::WebhookDelivery>> ClaimDueDeliveries(TimePoint now, TimePoint lease,
                                                                 size_t limit) override {
    return inner_.ClaimDueDeliveries(now, lease, limit);
  }
  Status MarkDelivered(uint64_t id, int32_t attempts, TimePoint at) override {
    return inner_.MarkDelivered(id, attempts, at);
  }
  Status RescheduleDelivery(uint64_t id, int32_t attempts, TimePoint next,
                            const std::string& error) override {
    return inner_.RescheduleDelivery(id, attempts, next, error);
  }
  Status MarkDeliveryDead(uint64_t id, int32_t attempts, TimePoint at,
                          const std::string& error) override {
    return inner_.MarkDeliveryDead(id, attempts, at, error);
  }
  Result<std::vector<ports::WebhookDelivery>> DeadDeliveries(size_t limit) override {
    return inner_.DeadDeliveries(limit);
  }
  Status RetryDeadDelivery(uint64_t id, TimePoint at) override {
    return inner_.RetryDeadDelivery(id, at);
  }
  Result<ports::WebhookDelivery> GetDelivery(uint64_t id) override {
    return inner_.GetDelivery(id);
  }
  Result<uint64_t> PurgeDeliveries(TimePoint cutoff) override {
    return inner_.PurgeDeliveries(cutoff);
  }

 protected:
  ports::Store& inner_;
};

}  // namespace parley::store
