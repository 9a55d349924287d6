#pragma once
// The Store port: what the engine, the CLI and the API ask of durable storage. Implementations
// live in src/store (SQLite, memory) and later elsewhere (PostgreSQL); the composition root in
// src/app picks one. Every implementation passes src/store/store_conformance.h.
//
// Contract for every implementation:
// - Thread-safe: any method may be called from any thread. AppendAsync never waits for the disk,
//   so the engine's core loop may call it; every other call may block on I/O and belongs on an
//   adapter thread (or in a test).
// - Nothing throws: every fallible call returns Status or Result<T>. Rows read from disk that
//   do not parse are an error value (kInternal), never a crash.
// - Times are given by the caller (the engine's Clock): a store never reads the clock for data.
//
// Recovery design (docs/storage.md): the journal and the recovery state are written in the same
// transaction. A JournalBatch carries the events of one engine step together with the contact and
// agent records that step changed, so after any crash the records are exactly the state as of the
// last durable sequence number: recovery reads them (a snapshot of size O(open contacts + agents))
// and needs no journal replay. The journal is the history (analytics, WebSocket resume, audits).
//
// Extension point for src/auth: users, roles, API tokens and the audit log become one more facet
// (`class AuthRecords`, declared in src/ports/auth_store.h by src/auth's owner) that Store also
// derives from, with its tables as further migration steps in each implementation. Nothing in the
// facets below changes for it.

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"
#include "base/strong_id.h"
#include "base/time.h"
#include "domain/agent_state.h"
#include "domain/channel.h"
#include "domain/contact.h"
#include "domain/event.h"
#include "domain/ids.h"
#include "ports/auth_store.h"
#include "ports/webhook_outbox.h"

namespace parley::ports {

// ---------------------------------------------------------------------------------------------
// Journal and recovery state

// Journal sequence numbers start at 1 and never repeat, even after a purge; 0 means "none".
using Sequence = uint64_t;

// An event as it came back from the journal.
struct JournalEntry {
  Sequence seq = 0;
  uint64_t config_version = 0;  // the configuration whose indices `event` uses
  Event event;
};

// Where a contact is in its life, as recovery needs to know it.
enum class ContactState : uint8_t {
  kInFlow,    // in an IVR or bot flow, not queued
  kQueued,    // waiting in `queue`
  kOffered,   // offered to `agent`, not yet accepted
  kHandling,  // connected to `agent`
  kWrapUp,    // `agent` is wrapping it up
  kClosed,    // history only
};

struct CustomerTag {};
using CustomerId = StrongId<CustomerTag, uint64_t>;

// The durable record of one contact: what recovery needs of an open contact, and what history,
// the customer timeline and retention need of a closed one. Names, not indices, for queue and
// agent, so a record survives configuration changes.
struct ContactRecord {
  ContactId id;
  Channel channel = Channel::kVoice;
  Direction direction = Direction::kInbound;
  ContactState state = ContactState::kInFlow;
  std::string queue;  // current queue ("" while in a flow)
  std::string agent;  // agent offered to, handling or wrapping up ("" otherwise)
  int32_t priority = 0;
  Attributes attributes;  // personal data: cleared when the customer is erased
  CustomerId customer;    // 0: unknown customer
  ContactTimes times;     // arrived, queued, offered, answered, wrap_up, closed
  // Position among contacts of the same queue that entered it at the same time (the engine's
  // enqueue counter); open contacts come back ordered by (queue, queued time, queue_order).
  uint64_t queue_order = 0;
  bool operator==(const ContactRecord&) const = default;
};

// An agent's last known presence, keyed by the agent's configuration name.
struct AgentRecord {
  std::string name;
  Presence presence = Presence::kOffline;
  std::string reason;  // Not Ready reason code
  TimePoint since{};
  bool operator==(const AgentRecord&) const = default;
};

// A finished recording (call: stereo, customer left, agent right; voicemail: mono), stored with
// its contact. `id` is given by the engine (1, 2, ...; never reused).
struct RecordingRecord {
  uint64_t id = 0;
  ContactId contact;
  std::string kind = "call";  // "call" or "voicemail"
  std::string path;           // the finished file (after its atomic rename)
  uint64_t bytes = 0;
  Duration duration{0};
  std::string sha256;  // hex
  TimePoint started{};
  TimePoint completed{};
  std::string queue;  // the contact's queue and agent at completion ("" when none)
  std::string agent;
  CustomerId customer;
  bool operator==(const RecordingRecord&) const = default;
};

// One media leg's quality, stored with its contact when the leg closes.
struct LegQualityRecord {
  ContactId contact;
  std::string leg;    // "customer" or "agent"
  std::string agent;  // the agent leg's agent
  uint64_t packets_received = 0;
  uint64_t packets_sent = 0;
  uint64_t packets_lost = 0;
  uint64_t packets_dropped = 0;
  double jitter_ms = 0;
  TimePoint closed{};
  bool operator==(const LegQualityRecord&) const = default;
};

// One atomic write of the engine: the events of one step and the records that step changed.
// Either all of it becomes durable, with consecutive sequence numbers, or none of it does.
struct JournalBatch {
  std::vector<Event> events;
  std::vector<ContactRecord> contacts;      // upserts; a record in kClosed stays as history
  std::vector<AgentRecord> agents;          // upserts
  std::vector<RecordingRecord> recordings;  // inserts (issue 6)
  std::vector<LegQualityRecord> legs;       // inserts (issue 6)
  uint64_t config_version = 0;              // stored with each event
};

// The sequence numbers a batch received: [first, last]; first == last + 1 when it had no events.
struct SequenceRange {
  Sequence first = 0;
  Sequence last = 0;
};

// What a restarting engine reads: the state as of `last_seq`.
struct RecoveryState {
  Sequence last_seq = 0;
  std::vector<AgentRecord> agents;  // by name
  // Every contact not in kClosed, ordered by (queue, times.queued, queue_order, id).
  std::vector<ContactRecord> open_contacts;
};

// Called exactly once per AppendAsync, when the batch is durable or has failed. It runs on a
// thread of the store (the journal writer for SQLite) or, for the memory store, before
// AppendAsync returns; it must not block and must not call back into the store synchronously:
// the engine posts the result to its loop.
using AppendCallback = std::function<void(Result<SequenceRange>)>;

class EventJournal {
 public:
  virtual ~EventJournal() = default;
  // Queues `batch` for the next group commit and returns at once. Batches are committed in the
  // order AppendAsync was called. A batch that fails (e.g. a contact that names an unknown
  // customer) fails alone: its callback gets the error and later batches still commit.
  virtual void AppendAsync(JournalBatch batch, AppendCallback done) = 0;
  // AppendAsync and wait for the result (tests, tools).
  virtual Result<SequenceRange> Append(JournalBatch batch) = 0;
  // Up to `limit` events with seq > `after`, in order. If older events were purged, the first
  // entry's seq is greater than after + 1 (the caller sees the gap).
  virtual Result<std::vector<JournalEntry>> ReadAfter(Sequence after, size_t limit) = 0;
  // The last sequence number given out (0 for a new store); kept across purges.
  virtual Result<Sequence> LastSequence() = 0;
};

// A contact's link to its customer, as first-contact resolution reads it (docs/metrics.md,
// "Reports"): who started which contact when.
struct CustomerContact {
  ContactId id;
  CustomerId customer;
  Channel channel = Channel::kVoice;
  Direction direction = Direction::kInbound;
  TimePoint arrived{};
  bool operator==(const CustomerContact&) const = default;
};

class ContactRecords {
 public:
  virtual ~ContactRecords() = default;
  virtual Result<RecoveryState> LoadRecoveryState() = 0;
  virtual Result<ContactRecord> GetContact(ContactId id) = 0;  // kNotFound
  // The contacts linked to a customer that arrived in [from, to), open or closed, ordered by
  // (arrived, id): one read per report, however many contacts it judges.
  virtual Result<std::vector<CustomerContact>> CustomerContacts(TimePoint from, TimePoint to) = 0;
};

// Recordings (issue 6): listed and fetched by the API; written through JournalBatch.
struct RecordingFilter {
  TimePoint from{};                 // started at or after (TimePoint{}: no bound)
  TimePoint to{};                   // started before (TimePoint{}: no bound)
  std::string queue;                // "" any
  std::vector<std::string> agents;  // any of these; empty: any agent
  CustomerId customer;              // 0: any
  uint64_t after_id = 0;            // paging: ids greater than this
  size_t limit = 50;
};

class RecordingRecords {
 public:
  virtual ~RecordingRecords() = default;
  // Matching recordings by id, ascending, at most filter.limit.
  virtual Result<std::vector<RecordingRecord>> ListRecordings(const RecordingFilter& filter) = 0;
  virtual Result<RecordingRecord> GetRecording(uint64_t id) = 0;  // kNotFound
  virtual Result<std::vector<RecordingRecord>> RecordingsOfContact(ContactId contact) = 0;
  virtual Result<std::vector<LegQualityRecord>> LegQualityOf(ContactId contact) = 0;
  // The highest recording id stored (0: none), so the engine's numbering continues.
  virtual Result<uint64_t> LastRecordingId() = 0;
};

// ---------------------------------------------------------------------------------------------
// SIP registrations (issue 6): a phone's binding outlives a restart, as a PBX's registrations do,
// so agents' phones ring again at once instead of after their next REGISTER.

struct SipBindingRecord {
  std::string login;    // the SIP user (an account's login)
  std::string contact;  // the Contact URI registered
  std::string call_id;  // of the REGISTER that made it, with its CSeq
  uint32_t cseq = 0;
  TimePoint expires{};
  std::string source;  // address the REGISTER came from
  bool operator==(const SipBindingRecord&) const = default;
};

class SipRegistrations {
 public:
  virtual ~SipRegistrations() = default;
  // In one transaction, for each login in `logins`: its stored bindings become those of
  // `bindings` with that login (none: it has none any more). Other logins are left alone.
  virtual Status ReplaceSipBindings(const std::vector<std::string>& logins,
                                    const std::vector<SipBindingRecord>& bindings) = 0;
  // The bindings that expire after `now`, by login then contact; older ones are deleted.
  virtual Result<std::vector<SipBindingRecord>> LoadSipBindings(TimePoint now) = 0;
};

// ---------------------------------------------------------------------------------------------
// Configuration documents

struct ConfigDocument {
  uint64_t version = 0;  // 1, 2, ... in the order applied
  std::string yaml;      // the whole configuration, includes resolved
  std::string applied_by;
  TimePoint applied_at{};
  std::string comment;
  bool operator==(const ConfigDocument&) const = default;
};

class ConfigDocuments {
 public:
  virtual ~ConfigDocuments() = default;
  // Stores `doc` (its version is ignored) as the new current configuration if the current
  // version is `expected_version` (0: none yet), and returns its version; kConflict otherwise,
  // so two administrators applying at once cannot overwrite each other unseen.
  virtual Result<uint64_t> PutConfig(const ConfigDocument& doc, uint64_t expected_version) = 0;
  virtual Result<ConfigDocument> CurrentConfig() = 0;  // kNotFound for a new store
  // Newest first, at most `limit`; `yaml` is left empty when `with_text` is false.
  virtual Result<std::vector<ConfigDocument>> ConfigHistory(size_t limit, bool with_text) = 0;
  virtual Result<ConfigDocument> GetConfig(uint64_t version) = 0;  // kNotFound
};

// ---------------------------------------------------------------------------------------------
// Customers (CRM basics)

// How a customer reaches us: a phone number (voice, sms, callback), an e-mail address, a chat or
// social handle. (channel, address) belongs to at most one customer. Addresses are stored as
// given; normalising them (E.164, lower-case e-mail) is the caller's job.
struct CustomerIdentity {
  Channel channel = Channel::kVoice;
  std::string address;
  bool operator==(const CustomerIdentity&) const = default;
};

struct Customer {
  CustomerId id;  // given by the store
  std::string name;
  std::vector<CustomerIdentity> identities;  // sorted by (channel, address) on the way out
  std::string fields_json = "{}";            // custom fields: a JSON object
  std::vector<std::string> tags;             // sorted, unique on the way out
  TimePoint created{};
  TimePoint updated{};
  bool operator==(const Customer&) const = default;
};

struct CustomerNote {
  uint64_t id = 0;  // given by the store
  CustomerId customer;
  TimePoint at{};
  std::string author;
  std::string text;
  bool operator==(const CustomerNote&) const = default;
};

// Everything the store holds about one customer (a data subject's access request).
struct CustomerExport {
  Customer customer;
  std::vector<CustomerNote> notes;      // oldest first
  std::vector<ContactRecord> contacts;  // oldest first
};

class CustomerRecords {
 public:
  virtual ~CustomerRecords() = default;
  // kInvalidArgument: empty name, fields not a JSON object, empty address; kConflict: an
  // identity already belongs to another customer.
  virtual Result<CustomerId> CreateCustomer(const Customer& customer) = 0;
  // Replaces name, identities, fields and tags of `customer.id`; `created` is kept.
  virtual Status UpdateCustomer(const Customer& customer) = 0;
  virtual Result<Customer> GetCustomer(CustomerId id) = 0;
  virtual Result<Customer> FindCustomerByIdentity(const CustomerIdentity& identity) = 0;
  // Customers whose name (case-insensitive, ASCII) or any identity address starts with
  // `prefix`, by name then id, at most `limit`.
  virtual Result<std::vector<Customer>> SearchCustomers(const std::string& prefix,
                                                        size_t limit) = 0;
  virtual Result<uint64_t> AddNote(const CustomerNote& note) = 0;
  virtual Result<std::vector<CustomerNote>> Notes(CustomerId id) = 0;  // oldest first
  // The customer's contacts across channels, newest arrival first, at most `limit`.
  virtual Result<std::vector<ContactRecord>> Timeline(CustomerId id, size_t limit) = 0;
  virtual Result<CustomerExport> ExportCustomer(CustomerId id) = 0;
  // Deletes the customer, identities, notes and tags; the customer's contacts stay (their times
  // feed the aggregates) but lose the customer link and their attributes.
  virtual Status EraseCustomer(CustomerId id) = 0;
  // Every identity with its customer, in (channel, address) order: what the engine's in-memory
  // identity index is loaded from at start.
  virtual Result<std::vector<std::pair<CustomerIdentity, CustomerId>>> AllIdentities() = 0;
};

// ---------------------------------------------------------------------------------------------
// Retention and backup

enum class DataClass : uint8_t {
  kEvents,          // journal entries, by event time
  kContactHistory,  // closed contact records, by closing time (open contacts are never purged)
  kAudit,           // audit log entries, by time
  // Recordings: Maintenance::PurgeRecordings (their audio files are the caller's to remove).
};

class Maintenance {
 public:
  virtual ~Maintenance() = default;
  // Deletes the rows of `data_class` older than `cutoff` and returns how many.
  virtual Result<uint64_t> Purge(DataClass data_class, TimePoint cutoff) = 0;
  // Deletes the recordings completed before `cutoff` and returns their records, so that the
  // caller removes their files (rows first: a crash between leaves an unlisted file, never a
  // listed recording without audio). Their ids are never given again (LastRecordingId).
  virtual Result<std::vector<RecordingRecord>> PurgeRecordings(TimePoint cutoff) = 0;
  // Writes a consistent copy of the whole store to `path` (a new file; kConflict if it exists)
  // while the store keeps serving. kUnavailable where the backend has nothing to copy (memory).
  virtual Status Backup(const std::string& path) = 0;
};

// ---------------------------------------------------------------------------------------------

class Store : public EventJournal,
              public ContactRecords,
              public ConfigDocuments,
              public CustomerRecords,
              public Maintenance,
              public RecordingRecords,  // issue 6
              public SipRegistrations,  // issue 6
              public AuthStore,         // users, sessions, API tokens (src/ports/auth_store.h)
              public AuditSink,
              public WebhookOutbox {  // src/ports/webhook_outbox.h
 public:
  ~Store() override = default;
  // The audit trail, oldest first: entries with sequence > `after`, at most `limit`.
  virtual Result<std::vector<AuditRecord>> ReadAudit(uint64_t after, size_t limit) = 0;
  // The highest audit sequence stored (0: none), so numbering continues after a restart.
  virtual Result<uint64_t> LastAuditSequence() = 0;
};
using StorePtr = std::unique_ptr<Store>;

}  // namespace parley::ports
