#include "store/memory_store.h"

#include <algorithm>
#include <tuple>
#include <utility>

#include "store/records.h"

namespace parley::store {

using namespace ports;  // NOLINT(google-build-using-namespace): this file implements the port.

void MemoryStore::AppendAsync(JournalBatch batch, AppendCallback done) {
  Result<SequenceRange> result = Append(std::move(batch));
  done(std::move(result));
}

Result<SequenceRange> MemoryStore::Append(JournalBatch batch) {
  std::lock_guard lock(mu_);
  return AppendLocked(std::move(batch));
}

Result<SequenceRange> MemoryStore::AppendLocked(JournalBatch&& batch) {
  // Validate first so that a failing batch changes nothing (as a rolled-back savepoint).
  for (const auto& c : batch.contacts) {
    if (!c.id.valid()) return InvalidArgument("contact record: id must not be 0");
    if (c.customer.valid() && !customers_.contains(c.customer)) {
      return InvalidArgument("contact " + std::to_string(c.id.value()) +
                             " refers to unknown customer " + std::to_string(c.customer.value()));
    }
  }
  for (const auto& a : batch.agents) {
    if (a.name.empty()) return InvalidArgument("agent record: name must not be empty");
  }
  for (const auto& r : batch.recordings) {
    if (Status s = CheckRecording(r); !s.ok()) return s;
    if (recordings_.contains(r.id)) {
      return Conflict("recording " + std::to_string(r.id) + " already exists");
    }
  }
  SequenceRange range{last_seq_ + 1, last_seq_};
  for (auto& e : batch.events) {
    ++range.last;
    events_.emplace(range.last, JournalEntry{range.last, batch.config_version, std::move(e)});
  }
  last_seq_ = range.last;
  for (auto& c : batch.contacts) contacts_[c.id] = std::move(c);
  for (auto& a : batch.agents) agents_[a.name] = std::move(a);
  for (auto& r : batch.recordings) recordings_[r.id] = std::move(r);
  for (auto& l : batch.legs) legs_.push_back(std::move(l));
  return range;
}

Result<std::vector<JournalEntry>> MemoryStore::ReadAfter(Sequence after, size_t limit) {
  std::lock_guard lock(mu_);
  std::vector<JournalEntry> out;
  for (auto it = events_.upper_bound(after); it != events_.end() && out.size() < limit; ++it) {
    out.push_back(it->second);
  }
  return out;
}

Result<Sequence> MemoryStore::LastSequence() {
  std::lock_guard lock(mu_);
  return last_seq_;
}

Result<RecoveryState> MemoryStore::LoadRecoveryState() {
  std::lock_guard lock(mu_);
  RecoveryState state;
  state.last_seq = last_seq_;
  for (const auto& [name, agent] : agents_) state.agents.push_back(agent);
  for (const auto& [id, contact] : contacts_) {
    if (contact.state != ContactState::kClosed) state.open_contacts.push_back(contact);
  }
  std::sort(state.open_contacts.begin(), state.open_contacts.end(), OpenContactOrder);
  return state;
}

Result<ContactRecord> MemoryStore::GetContact(ContactId id) {
  std::lock_guard lock(mu_);
  const auto it = contacts_.find(id);
  if (it == contacts_.end()) return NotFound("contact " + std::to_string(id.value()));
  return it->second;
}

Result<std::vector<ports::CustomerContact>> MemoryStore::CustomerContacts(TimePoint from,
                                                                          TimePoint to) {
  std::lock_guard lock(mu_);
  std::vector<ports::CustomerContact> out;
  for (const auto& [id, c] : contacts_) {
    if (!c.customer.valid() || c.times.arrived < from || c.times.arrived >= to) continue;
    out.push_back({.id = id,
                   .customer = c.customer,
                   .channel = c.channel,
                   .direction = c.direction,
                   .arrived = c.times.arrived});
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) {
    return std::pair(a.arrived, a.id) < std::pair(b.arrived, b.id);
  });
  return out;
}

Result<uint64_t> MemoryStore::PutConfig(const ConfigDocument& doc, uint64_t expected_version) {
  std::lock_guard lock(mu_);
  if (configs_.size() != expected_version) {
    return Conflict("configuration is at version " + std::to_string(configs_.size()) + ", not " +
                    std::to_string(expected_version) + "; reload and apply again");
  }
  ConfigDocument stored = doc;
  stored.version = configs_.size() + 1;
  configs_.push_back(std::move(stored));
  return configs_.back().version;
}

Result<ConfigDocument> MemoryStore::CurrentConfig() {
  std::lock_guard lock(mu_);
  if (configs_.empty()) return NotFound("no configuration has been applied yet");
  return configs_.back();
}

Result<std::vector<ConfigDocument>> MemoryStore::ConfigHistory(size_t limit, bool with_text) {
  std::lock_guard lock(mu_);
  std::vector<ConfigDocument> out;
  for (auto it = configs_.rbegin(); it != configs_.rend() && out.size() < limit; ++it) {
    out.push_back(*it);
    if (!with_text) out.back().yaml.clear();
  }
  return out;
}

Result<ConfigDocument> MemoryStore::GetConfig(uint64_t version) {
  std::lock_guard lock(mu_);
  if (version == 0 || version > configs_.size()) {
    return NotFound("configuration version " + std::to_string(version));
  }
  return configs_[version - 1];
}

Status MemoryStore::CheckIdentitiesFreeLocked(const Customer& customer, CustomerId self) const {
  for (const auto& [id, other] : customers_) {
    if (id == self) continue;
    for (const auto& identity : customer.identities) {
      if (std::find(other.identities.begin(), other.identities.end(), identity) !=
          other.identities.end()) {
        return Conflict("identity " + std::string(ChannelName(identity.channel)) + ":" +
                        identity.address + " already belongs to customer " +
                        std::to_string(id.value()));
      }
    }
  }
  return Status::Ok();
}

Result<CustomerId> MemoryStore::CreateCustomer(const Customer& customer) {
  auto checked = CheckCustomer(customer);
  if (!checked.ok()) return checked.status();
  std::lock_guard lock(mu_);
  if (Status s = CheckIdentitiesFreeLocked(*checked, CustomerId()); !s.ok()) return s;
  Customer stored = std::move(checked).value();
  stored.id = CustomerId(next_customer_++);
  customers_[stored.id] = stored;
  return stored.id;
}

Status MemoryStore::UpdateCustomer(const Customer& customer) {
  auto checked = CheckCustomer(customer);
  if (!checked.ok()) return checked.status();
  std::lock_guard lock(mu_);
  const auto it = customers_.find(customer.id);
  if (it == customers_.end()) return NotFound("customer " + std::to_string(customer.id.value()));
  if (Status s = CheckIdentitiesFreeLocked(*checked, customer.id); !s.ok()) return s;
  Customer stored = std::move(checked).value();
  stored.created = it->second.created;
  it->second = std::move(stored);
  return Status::Ok();
}

Result<Customer> MemoryStore::GetCustomer(CustomerId id) {
  std::lock_guard lock(mu_);
  const auto it = customers_.find(id);
  if (it == customers_.end()) return NotFound("customer " + std::to_string(id.value()));
  return it->second;
}

Result<Customer> MemoryStore::FindCustomerByIdentity(const CustomerIdentity& identity) {
  std::lock_guard lock(mu_);
  for (const auto& [id, customer] : customers_) {
    if (std::find(customer.identities.begin(), customer.identities.end(), identity) !=
        customer.identities.end()) {
      return customer;
    }
  }
  return NotFound("no customer with identity " + std::string(ChannelName(identity.channel)) + ":" +
                  identity.address);
}

Result<std::vector<Customer>> MemoryStore::SearchCustomers(const std::string& prefix,
                                                           size_t limit) {
  std::lock_guard lock(mu_);
  std::vector<Customer> out;
  for (const auto& [id, customer] : customers_) {
    bool match = StartsWithIgnoreCase(customer.name, prefix);
    for (const auto& identity : customer.identities) {
      match = match || identity.address.starts_with(prefix);
    }
    if (match) out.push_back(customer);
  }
  std::sort(out.begin(), out.end(), [](const Customer& a, const Customer& b) {
    return std::tie(a.name, a.id) < std::tie(b.name, b.id);
  });
  if (out.size() > limit) out.resize(limit);
  return out;
}

Result<uint64_t> MemoryStore::AddNote(const CustomerNote& note) {
  std::lock_guard lock(mu_);
  if (!customers_.contains(note.customer)) {
    return NotFound("customer " + std::to_string(note.customer.value()));
  }
  CustomerNote stored = note;
  stored.id = next_note_++;
  notes_[stored.id] = stored;
  return stored.id;
}

Result<std::vector<CustomerNote>> MemoryStore::Notes(CustomerId id) {
  std::lock_guard lock(mu_);
  if (!customers_.contains(id)) return NotFound("customer " + std::to_string(id.value()));
  std::vector<CustomerNote> out;
  for (const auto& [note_id, note] : notes_) {
    if (note.customer == id) out.push_back(note);
  }
  std::stable_sort(out.begin(), out.end(),
                   [](const CustomerNote& a, const CustomerNote& b) { return a.at < b.at; });
  return out;
}

Result<std::vector<ContactRecord>> MemoryStore::Timeline(CustomerId id, size_t limit) {
  std::lock_guard lock(mu_);
  if (!customers_.contains(id)) return NotFound("customer " + std::to_string(id.value()));
  std::vector<ContactRecord> out;
  for (const auto& [contact_id, contact] : contacts_) {
    if (contact.customer == id) out.push_back(contact);
  }
  std::sort(out.begin(), out.end(), [](const ContactRecord& a, const ContactRecord& b) {
    return std::tie(b.times.arrived, b.id) < std::tie(a.times.arrived, a.id);
  });
  if (out.size() > limit) out.resize(limit);
  return out;
}

Result<CustomerExport> MemoryStore::ExportCustomer(CustomerId id) {
  CustomerExport out;
  auto customer = GetCustomer(id);
  if (!customer.ok()) return customer.status();
  out.customer = std::move(customer).value();
  auto notes = Notes(id);
  if (!notes.ok()) return notes.status();
  out.notes = std::move(notes).value();
  auto contacts = Timeline(id, SIZE_MAX);
  if (!contacts.ok()) return contacts.status();
  out.contacts = std::move(contacts).value();
  std::reverse(out.contacts.begin(), out.contacts.end());
  return out;
}

Result<std::vector<std::pair<CustomerIdentity, CustomerId>>> MemoryStore::AllIdentities() {
  std::lock_guard lock(mu_);
  std::vector<std::pair<CustomerIdentity, CustomerId>> out;
  for (const auto& [id, customer] : customers_) {
    for (const auto& identity : customer.identities) out.emplace_back(identity, id);
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) {
    return std::tie(a.first.channel, a.first.address) < std::tie(b.first.channel, b.first.address);
  });
  return out;
}

Status MemoryStore::EraseCustomer(CustomerId id) {
  std::lock_guard lock(mu_);
  if (customers_.erase(id) == 0) return NotFound("customer " + std::to_string(id.value()));
  std::erase_if(notes_, [id](const auto& entry) { return entry.second.customer == id; });
  for (auto& [contact_id, contact] : contacts_) {
    if (contact.customer == id) {
      contact.customer = CustomerId();
      contact.attributes.clear();
    }
  }
  return Status::Ok();
}

Result<uint64_t> MemoryStore::Purge(DataClass data_class, TimePoint cutoff) {
  std::lock_guard lock(mu_);
  switch (data_class) {
    case DataClass::kEvents:
      return static_cast<uint64_t>(
          std::erase_if(events_, [cutoff](const auto& e) { return e.second.event.time < cutoff; }));
    case DataClass::kContactHistory:
      return static_cast<uint64_t>(std::erase_if(contacts_, [cutoff](const auto& c) {
        return c.second.state == ContactState::kClosed && c.second.times.closed < cutoff;
      }));
    case DataClass::kAudit:
      return static_cast<uint64_t>(
          std::erase_if(audit_, [cutoff](const auto& a) { return a.second.at < cutoff; }));
  }
  return InvalidArgument("unknown data class");
}

Status MemoryStore::Backup(const std::string& /*path*/) {
  return Unavailable("the memory store keeps nothing to back up");
}

// ---------------------------------------------------------------------------------------------
// AuthStore and AuditSink

Status MemoryStore::PutUser(const ports::UserRecord& user) {
  std::lock_guard lock(mu_);
  for (const auto& [id, u] : users_) {
    if (id != user.id && u.login == user.login) return Conflict("user login " + user.login);
  }
  users_[user.id] = user;
  return Status::Ok();
}

Status MemoryStore::DeleteUser(uint64_t id) {
  std::lock_guard lock(mu_);
  users_.erase(id);
  std::erase_if(sessions_, [&](const auto& kv) { return kv.second.user_id == id; });
  std::erase_if(tokens_, [&](const auto& kv) { return kv.second.user_id == id; });
  return Status::Ok();
}

Status MemoryStore::PutSession(const ports::SessionRecord& session) {
  std::lock_guard lock(mu_);
  if (!users_.count(session.user_id)) {
    return InvalidArgument("session of unknown user " + std::to_string(session.user_id));
  }
  sessions_[session.id_hash] = session;
  return Status::Ok();
}

Status MemoryStore::DeleteSession(const std::string& id_hash) {
  std::lock_guard lock(mu_);
  sessions_.erase(id_hash);
  return Status::Ok();
}

Status MemoryStore::PutToken(const ports::TokenRecord& token) {
  std::lock_guard lock(mu_);
  if (!users_.count(token.user_id)) {
    return InvalidArgument("token of unknown user " + std::to_string(token.user_id));
  }
  tokens_[token.prefix] = token;
  return Status::Ok();
}

Status MemoryStore::DeleteToken(const std::string& prefix) {
  std::lock_guard lock(mu_);
  tokens_.erase(prefix);
  return Status::Ok();
}

Result<std::vector<ports::UserRecord>> MemoryStore::LoadUsers() {
  std::lock_guard lock(mu_);
  std::vector<ports::UserRecord> out;
  for (const auto& [id, u] : users_) out.push_back(u);
  return out;
}

Result<std::vector<ports::SessionRecord>> MemoryStore::LoadSessions() {
  std::lock_guard lock(mu_);
  std::vector<ports::SessionRecord> out;
  for (const auto& [id, s] : sessions_) out.push_back(s);
  return out;
}

Result<std::vector<ports::TokenRecord>> MemoryStore::LoadTokens() {
  std::lock_guard lock(mu_);
  std::vector<ports::TokenRecord> out;
  for (const auto& [id, t] : tokens_) out.push_back(t);
  return out;
}

Status MemoryStore::AppendAudit(const ports::AuditRecord& record) {
  std::lock_guard lock(mu_);
  if (!audit_.emplace(record.sequence, record).second) {
    return Conflict("audit sequence " + std::to_string(record.sequence));
  }
  return Status::Ok();
}

Result<std::vector<ports::AuditRecord>> MemoryStore::ReadAudit(uint64_t after, size_t limit) {
  std::lock_guard lock(mu_);
  std::vector<ports::AuditRecord> out;
  for (auto it = audit_.upper_bound(after); it != audit_.end() && out.size() < limit; ++it) {
    out.push_back(it->second);
  }
  return out;
}

Result<uint64_t> MemoryStore::LastAuditSequence() {
  std::lock_guard lock(mu_);
  return audit_.empty() ? 0 : audit_.rbegin()->first;
}

// ---------------------------------------------------------------------------------------------
// Webhook outbox

Result<uint64_t> MemoryStore::EnqueueDelivery(const WebhookDelivery& delivery) {
  if (delivery.webhook.empty() || delivery.url.empty()) {
    return InvalidArgument("webhook delivery: webhook and url must not be empty");
  }
  std::lock_guard lock(mu_);
  if (!delivery_keys_.emplace(delivery.webhook, delivery.event_seq).second) {
    return Conflict("webhook " + delivery.webhook + " already has a delivery of event " +
                    std::to_string(delivery.event_seq));
  }
  WebhookDelivery d = delivery;
  d.id = next_delivery_++;
  d.state = DeliveryState::kPending;
  d.attempts = 0;
  d.last_error.clear();
  deliveries_.emplace(d.id, d);
  return d.id;
}

Result<std::vector<WebhookDelivery>> MemoryStore::ClaimDueDeliveries(TimePoint now,
                                                                     TimePoint lease_until,
                                                                     size_t limit) {
  std::lock_guard lock(mu_);
  std::vector<WebhookDelivery*> due;
  for (auto& [id, d] : deliveries_) {
    if (d.state == DeliveryState::kPending && d.next_attempt <= now) due.push_back(&d);
  }
  std::sort(due.begin(), due.end(), [](const WebhookDelivery* a, const WebhookDelivery* b) {
    return std::pair(a->next_attempt, a->id) < std::pair(b->next_attempt, b->id);
  });
  if (due.size() > limit) due.resize(limit);
  std::vector<WebhookDelivery> out;
  out.reserve(due.size());
  for (WebhookDelivery* d : due) {
    d->next_attempt = lease_until;
    out.push_back(*d);
  }
  return out;
}

WebhookDelivery* MemoryStore::PendingDeliveryLocked(uint64_t id) {
  auto it = deliveries_.find(id);
  if (it == deliveries_.end() || it->second.state != DeliveryState::kPending) return nullptr;
  return &it->second;
}

Status MemoryStore::MarkDelivered(uint64_t id, int32_t attempts, TimePoint at) {
  std::lock_guard lock(mu_);
  WebhookDelivery* d = PendingDeliveryLocked(id);
  if (d == nullptr) return NotFound("pending webhook delivery " + std::to_string(id));
  d->state = DeliveryState::kDelivered;
  d->attempts = attempts;
  d->next_attempt = at;
  d->last_error.clear();
  return Status::Ok();
}

Status MemoryStore::RescheduleDelivery(uint64_t id, int32_t attempts, TimePoint next_attempt,
                                       const std::string& error) {
  std::lock_guard lock(mu_);
  WebhookDelivery* d = PendingDeliveryLocked(id);
  if (d == nullptr) return NotFound("pending webhook delivery " + std::to_string(id));
  d->attempts = attempts;
  d->next_attempt = next_attempt;
  d->last_error = error;
  return Status::Ok();
}

Status MemoryStore::MarkDeliveryDead(uint64_t id, int32_t attempts, TimePoint at,
                                     const std::string& error) {
  std::lock_guard lock(mu_);
  WebhookDelivery* d = PendingDeliveryLocked(id);
  if (d == nullptr) return NotFound("pending webhook delivery " + std::to_string(id));
  d->state = DeliveryState::kDead;
  d->attempts = attempts;
  d->next_attempt = at;
  d->last_error = error;
  return Status::Ok();
}

Result<std::vector<WebhookDelivery>> MemoryStore::DeadDeliveries(size_t limit) {
  std::lock_guard lock(mu_);
  std::vector<WebhookDelivery> out;
  for (const auto& [id, d] : deliveries_) {
    if (d.state == DeliveryState::kDead) out.push_back(d);
  }
  std::sort(out.begin(), out.end(), [](const WebhookDelivery& a, const WebhookDelivery& b) {
    return std::pair(a.next_attempt, a.id) < std::pair(b.next_attempt, b.id);
  });
  if (out.size() > limit) out.resize(limit);
  return out;
}

Status MemoryStore::RetryDeadDelivery(uint64_t id, TimePoint at) {
  std::lock_guard lock(mu_);
  auto it = deliveries_.find(id);
  if (it == deliveries_.end() || it->second.state != DeliveryState::kDead) {
    return NotFound("dead webhook delivery " + std::to_string(id));
  }
  it->second.state = DeliveryState::kPending;
  it->second.attempts = 0;
  it->second.next_attempt = at;
  return Status::Ok();
}

Result<WebhookDelivery> MemoryStore::GetDelivery(uint64_t id) {
  std::lock_guard lock(mu_);
  auto it = deliveries_.find(id);
  if (it == deliveries_.end()) return NotFound("webhook delivery " + std::to_string(id));
  return it->second;
}

Result<uint64_t> MemoryStore::PurgeDeliveries(TimePoint cutoff) {
  std::lock_guard lock(mu_);
  uint64_t n = 0;
  for (auto it = deliveries_.begin(); it != deliveries_.end();) {
    const WebhookDelivery& d = it->second;
    if (d.state != DeliveryState::kPending && d.next_attempt < cutoff) {
      delivery_keys_.erase({d.webhook, d.event_seq});
      it = deliveries_.erase(it);
      ++n;
    } else {
      ++it;
    }
  }
  return n;
}

}  // namespace parley::store

namespace parley::store {

// ---------------------------------------------------------------------------------------------
// Recordings (issue 6)

Result<std::vector<ports::RecordingRecord>> MemoryStore::ListRecordings(
    const ports::RecordingFilter& filter) {
  std::lock_guard lock(mu_);
  std::vector<ports::RecordingRecord> out;
  for (auto it = recordings_.upper_bound(filter.after_id);
       it != recordings_.end() && out.size() < filter.limit; ++it) {
    if (RecordingMatches(it->second, filter)) out.push_back(it->second);
  }
  return out;
}

Result<ports::RecordingRecord> MemoryStore::GetRecording(uint64_t id) {
  std::lock_guard lock(mu_);
  auto it = recordings_.find(id);
  if (it == recordings_.end()) return NotFound("no recording " + std::to_string(id));
  return it->second;
}

Result<std::vector<ports::RecordingRecord>> MemoryStore::RecordingsOfContact(ContactId contact) {
  std::lock_guard lock(mu_);
  std::vector<ports::RecordingRecord> out;
  for (const auto& [id, r] : recordings_) {
    if (r.contact == contact) out.push_back(r);
  }
  return out;
}

Status MemoryStore::ReplaceSipBindings(const std::vector<std::string>& logins,
                                       const std::vector<ports::SipBindingRecord>& bindings) {
  std::lock_guard lock(mu_);
  for (const std::string& login : logins) {
    std::erase_if(sip_bindings_, [&login](const auto& e) { return e.first.first == login; });
  }
  for (const auto& b : bindings) sip_bindings_[{b.login, b.contact}] = b;
  return Status::Ok();
}

Result<std::vector<ports::SipBindingRecord>> MemoryStore::LoadSipBindings(TimePoint now) {
  std::lock_guard lock(mu_);
  std::erase_if(sip_bindings_, [now](const auto& e) { return e.second.expires <= now; });
  std::vector<ports::SipBindingRecord> out;
  for (const auto& [key, b] : sip_bindings_) out.push_back(b);
  return out;
}

Result<std::vector<ports::LegQualityRecord>> MemoryStore::LegQualityOf(ContactId contact) {
  std::lock_guard lock(mu_);
  std::vector<ports::LegQualityRecord> out;
  for (const auto& l : legs_) {
    if (l.contact == contact) out.push_back(l);
  }
  return out;
}

Result<uint64_t> MemoryStore::LastRecordingId() {
  std::lock_guard lock(mu_);
  return std::max(purged_recording_id_, recordings_.empty() ? 0 : recordings_.rbegin()->first);
}

Result<std::vector<ports::RecordingRecord>> MemoryStore::PurgeRecordings(TimePoint cutoff) {
  std::lock_guard lock(mu_);
  std::vector<ports::RecordingRecord> out;
  for (auto it = recordings_.begin(); it != recordings_.end();) {
    if (it->second.completed < cutoff) {
      purged_recording_id_ = std::max(purged_recording_id_, it->first);
      out.push_back(std::move(it->second));
      it = recordings_.erase(it);
    } else {
      ++it;
    }
  }
  return out;
}

}  // namespace parley::store
