#pragma once
// MemoryStore: the Store port in memory, for unit tests of the core and of the engine. It keeps
// the same rules as SqliteStore (both pass store_conformance.h and
// webhook_outbox_conformance.h) but nothing survives the object.
// Thread-safe: every call takes one mutex; AppendAsync commits at once and runs its callback on
// the calling thread before returning. Backup is kUnavailable.

#include <cstdint>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "ports/store.h"

namespace parley::store {

class MemoryStore final : public ports::Store {
 public:
  MemoryStore() = default;
  static ports::StorePtr Create() { return std::make_unique<MemoryStore>(); }

  // EventJournal
  void AppendAsync(ports::JournalBatch batch, ports::AppendCallback done) override;
  Result<ports::SequenceRange> Append(ports::JournalBatch batch) override;
  Result<std::vector<ports::JournalEntry>> ReadAfter(ports::Sequence after, size_t limit) override;
  Result<ports::Sequence> LastSequence() override;

  // ContactRecords
  Result<ports::RecoveryState> LoadRecoveryState() override;
  Result<ports::ContactRecord> GetContact(ContactId id) override;
  Result<std::vector<ports::CustomerContact>> CustomerContacts(TimePoint from,
                                                               TimePoint to) override;

  // ConfigDocuments
  Result<uint64_t> PutConfig(const ports::ConfigDocument& doc, uint64_t expected_version) override;
  Result<ports::ConfigDocument> CurrentConfig() override;
  Result<std::vector<ports::ConfigDocument>> ConfigHistory(size_t limit, bool with_text) override;
  Result<ports::ConfigDocument> GetConfig(uint64_t version) override;

  // CustomerRecords
  Result<ports::CustomerId> CreateCustomer(const ports::Customer& customer) override;
  Status UpdateCustomer(const ports::Customer& customer) override;
  Result<ports::Customer> GetCustomer(ports::CustomerId id) override;
  Result<ports::Customer> FindCustomerByIdentity(const ports::CustomerIdentity& identity) override;
  Result<std::vector<ports::Customer>> SearchCustomers(const std::string& prefix,
                                                       size_t limit) override;
  Result<uint64_t> AddNote(const ports::CustomerNote& note) override;
  Result<std::vector<ports::CustomerNote>> Notes(ports::CustomerId id) override;
  Result<std::vector<ports::ContactRecord>> Timeline(ports::CustomerId id, size_t limit) override;
  Result<ports::CustomerExport> ExportCustomer(ports::CustomerId id) override;
  Status EraseCustomer(ports::CustomerId id) override;
  Result<std::vector<std::pair<ports::CustomerIdentity, ports::CustomerId>>> AllIdentities()
      override;

  // Maintenance
  Result<uint64_t> Purge(ports::DataClass data_class, TimePoint cutoff) override;
  Result<std::vector<ports::RecordingRecord>> PurgeRecordings(TimePoint cutoff) override;

  // SipRegistrations
  Status ReplaceSipBindings(const std::vector<std::string>& logins,
                            const std::vector<ports::SipBindingRecord>& bindings) override;
  Result<std::vector<ports::SipBindingRecord>> LoadSipBindings(TimePoint now) override;
  // RecordingRecords
  Result<std::vector<ports::RecordingRecord>> ListRecordings(
      const ports::RecordingFilter& filter) override;
  Result<ports::RecordingRecord> GetRecording(uint64_t id) override;
  Result<std::vector<ports::RecordingRecord>> RecordingsOfContact(ContactId contact) override;
  Result<std::vector<ports::LegQualityRecord>> LegQualityOf(ContactId contact) override;
  Result<uint64_t> LastRecordingId() override;
  Status Backup(const std::string& path) override;

  // AuthStore, AuditSink
  Status PutUser(const ports::UserRecord& user) override;
  Status DeleteUser(uint64_t id) override;
  Status PutSession(const ports::SessionRecord& session) override;
  Status DeleteSession(const std::string& id_hash) override;
  Status PutToken(const ports::TokenRecord& token) override;
  Status DeleteToken(const std::string& prefix) override;
  Result<std::vector<ports::UserRecord>> LoadUsers() override;
  Result<std::vector<ports::SessionRecord>> LoadSessions() override;
  Result<std::vector<ports::TokenRecord>> LoadTokens() override;
  Status AppendAudit(const ports::AuditRecord& record) override;
  Result<std::vector<ports::AuditRecord>> ReadAudit(uint64_t after, size_t limit) override;
  Result<uint64_t> LastAuditSequence() override;

  // WebhookOutbox
  Result<uint64_t> EnqueueDelivery(const ports::WebhookDelivery& delivery) override;
  Result<std::vector<ports::WebhookDelivery>> ClaimDueDeliveries(TimePoint now,
                                                                 TimePoint lease_until,
                                                                 size_t limit) override;
  Status MarkDelivered(uint64_t id, int32_t attempts, TimePoint at) override;
  Status RescheduleDelivery(uint64_t id, int32_t attempts, TimePoint next_attempt,
                            const std::string& error) override;
  Status MarkDeliveryDead(uint64_t id, int32_t attempts, TimePoint at,
                          const std::string& error) override;
  Result<std::vector<ports::WebhookDelivery>> DeadDeliveries(size_t limit) override;
  Status RetryDeadDelivery(uint64_t id, TimePoint at) override;
  Result<ports::WebhookDelivery> GetDelivery(uint64_t id) override;
  Result<uint64_t> PurgeDeliveries(TimePoint cutoff) override;

 private:
  ports::WebhookDelivery* PendingDeliveryLocked(uint64_t id);

  Result<ports::SequenceRange> AppendLocked(ports::JournalBatch&& batch);
  Status CheckIdentitiesFreeLocked(const ports::Customer& customer, ports::CustomerId self) const;

  std::mutex mu_;
  ports::Sequence last_seq_ = 0;                            // GUARDED_BY(mu_)
  std::map<ports::Sequence, ports::JournalEntry> events_;   // GUARDED_BY(mu_)
  std::map<ContactId, ports::ContactRecord> contacts_;      // GUARDED_BY(mu_)
  std::map<std::string, ports::AgentRecord> agents_;        // GUARDED_BY(mu_)
  std::vector<ports::ConfigDocument> configs_;              // GUARDED_BY(mu_), version i+1 at i
  uint64_t next_customer_ = 1;                              // GUARDED_BY(mu_)
  std::map<ports::CustomerId, ports::Customer> customers_;  // GUARDED_BY(mu_)
  uint64_t next_note_ = 1;                                  // GUARDED_BY(mu_)
  std::map<uint64_t, ports::CustomerNote> notes_;           // GUARDED_BY(mu_)
  std::map<uint64_t, ports::UserRecord> users_;             // GUARDED_BY(mu_)
  std::map<std::string, ports::SessionRecord> sessions_;    // GUARDED_BY(mu_)
  std::map<std::string, ports::TokenRecord> tokens_;        // GUARDED_BY(mu_)
  std::map<uint64_t, ports::AuditRecord> audit_;            // GUARDED_BY(mu_)
  std::map<uint64_t, ports::RecordingRecord> recordings_;   // GUARDED_BY(mu_)
  uint64_t purged_recording_id_ = 0;  // largest id purged, never given again; GUARDED_BY(mu_)
  std::vector<ports::LegQualityRecord> legs_;  // GUARDED_BY(mu_)
  // SIP bindings by (login, contact).
  std::map<std::pair<std::string, std::string>, ports::SipBindingRecord>
      sip_bindings_;                                       // GUARDED_BY(mu_)
  uint64_t next_delivery_ = 1;                             // GUARDED_BY(mu_)
  std::map<uint64_t, ports::WebhookDelivery> deliveries_;  // GUARDED_BY(mu_)
  // (webhook, event_seq) of every delivery. GUARDED_BY(mu_)
  std::set<std::pair<std::string, uint64_t>> delivery_keys_;
};

}  // namespace parley::store
