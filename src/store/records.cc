#include "store/records.h"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <set>
#include <tuple>
#include <utility>

namespace parley::store {

using ports::ContactRecord;
using ports::ContactState;
using ports::Customer;

std::string_view ContactStateName(ContactState s) {
  switch (s) {
    case ContactState::kInFlow:
      return "in-flow";
    case ContactState::kQueued:
      return "queued";
    case ContactState::kOffered:
      return "offered";
    case ContactState::kHandling:
      return "handling";
    case ContactState::kWrapUp:
      return "wrap-up";
    case ContactState::kClosed:
      return "closed";
  }
  return "unknown";
}

std::string_view DataClassName(ports::DataClass c) {
  switch (c) {
    case ports::DataClass::kEvents:
      return "events";
    case ports::DataClass::kContactHistory:
      return "contact-history";
    case ports::DataClass::kAudit:
      return "audit";
  }
  return "unknown";
}

Result<Customer> CheckCustomer(const Customer& customer) {
  if (customer.name.empty()) return InvalidArgument("customer name: must not be empty");
  const auto fields = nlohmann::json::parse(customer.fields_json, nullptr, false);
  if (fields.is_discarded() || !fields.is_object()) {
    return InvalidArgument("customer fields: must be a JSON object, got '" +
                           customer.fields_json.substr(0, 40) + "'");
  }
  std::set<std::pair<Channel, std::string>> seen;
  for (const auto& identity : customer.identities) {
    if (identity.address.empty()) {
      return InvalidArgument("customer identity on " + std::string(ChannelName(identity.channel)) +
                             ": address must not be empty");
    }
    if (!seen.emplace(identity.channel, identity.address).second) {
      return InvalidArgument("customer identity " + std::string(ChannelName(identity.channel)) +
                             ":" + identity.address + " is listed twice");
    }
  }
  Customer out = customer;
  std::sort(out.identities.begin(), out.identities.end(), [](const auto& a, const auto& b) {
    return std::tie(a.channel, a.address) < std::tie(b.channel, b.address);
  });
  std::sort(out.tags.begin(), out.tags.end());
  out.tags.erase(std::unique(out.tags.begin(), out.tags.end()), out.tags.end());
  std::erase(out.tags, std::string());
  return out;
}

std::string AttributesToJson(const Attributes& attributes) {
  auto array = nlohmann::json::array();
  for (const auto& [key, value] : attributes) array.push_back({key, value});
  return array.dump();
}

Result<Attributes> AttributesFromJson(std::string_view json) {
  const auto parsed = nlohmann::json::parse(json, nullptr, false);
  if (parsed.is_discarded() || !parsed.is_array()) {
    return Internal("stored contact attributes are not a JSON array");
  }
  Attributes out;
  for (const auto& pair : parsed) {
    if (!pair.is_array() || pair.size() != 2 || !pair[0].is_string() || !pair[1].is_string()) {
      return Internal("stored contact attribute is not a [key, value] pair of strings");
    }
    out.emplace_back(pair[0].get<std::string>(), pair[1].get<std::string>());
  }
  return out;
}

std::string LowerAscii(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

bool StartsWithIgnoreCase(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && LowerAscii(s.substr(0, prefix.size())) == LowerAscii(prefix);
}

bool OpenContactOrder(const ContactRecord& a, const ContactRecord& b) {
  return std::tie(a.queue, a.times.queued, a.queue_order, a.id) <
         std::tie(b.queue, b.times.queued, b.queue_order, b.id);
}

namespace {

nlohmann::json ContactJson(const ContactRecord& c) {
  nlohmann::json attributes = nlohmann::json::array();
  for (const auto& [k, v] : c.attributes) attributes.push_back({k, v});
  return {{"id", c.id.value()},
          {"channel", ChannelName(c.channel)},
          {"direction", DirectionName(c.direction)},
          {"state", ContactStateName(c.state)},
          {"queue", c.queue},
          {"agent", c.agent},
          {"attributes", attributes},
          {"arrived_us", ToMicros(c.times.arrived)},
          {"answered_us", ToMicros(c.times.answered)},
          {"closed_us", ToMicros(c.times.closed)}};
}

}  // namespace

std::string CustomerExportToJson(const ports::CustomerExport& data) {
  const Customer& c = data.customer;
  nlohmann::json identities = nlohmann::json::array();
  for (const auto& i : c.identities) {
    identities.push_back({{"channel", ChannelName(i.channel)}, {"address", i.address}});
  }
  nlohmann::json notes = nlohmann::json::array();
  for (const auto& n : data.notes) {
    notes.push_back({{"at_us", ToMicros(n.at)}, {"author", n.author}, {"text", n.text}});
  }
  nlohmann::json contacts = nlohmann::json::array();
  for (const auto& contact : data.contacts) contacts.push_back(ContactJson(contact));
  nlohmann::json fields = nlohmann::json::parse(c.fields_json, nullptr, false);
  if (fields.is_discarded()) fields = nlohmann::json::object();
  const nlohmann::json doc = {{"customer",
                               {{"id", c.id.value()},
                                {"name", c.name},
                                {"identities", identities},
                                {"fields", fields},
                                {"tags", c.tags},
                                {"created_us", ToMicros(c.created)},
                                {"updated_us", ToMicros(c.updated)}}},
                              {"notes", notes},
                              {"contacts", contacts}};
  return doc.dump(2);
}

Status CheckRecording(const ports::RecordingRecord& r) {
  const std::string what = "recording " + std::to_string(r.id);
  if (r.id == 0) return InvalidArgument("recording record: id must not be 0");
  if (!r.contact.valid()) return InvalidArgument(what + ": contact must not be 0");
  if (r.kind != "call" && r.kind != "voicemail") {
    return InvalidArgument(what + ": kind must be 'call' or 'voicemail', not '" + r.kind + "'");
  }
  if (r.path.empty()) return InvalidArgument(what + ": path must not be empty");
  const bool hex =
      r.sha256.size() == 64 && std::all_of(r.sha256.begin(), r.sha256.end(), [](char c) {
        return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
      });
  if (!hex) return InvalidArgument(what + ": sha256 must be 64 lower-case hex digits");
  return Status::Ok();
}

bool RecordingMatches(const ports::RecordingRecord& r, const ports::RecordingFilter& filter) {
  if (filter.from != TimePoint{} && r.started < filter.from) return false;
  if (filter.to != TimePoint{} && r.started >= filter.to) return false;
  if (!filter.queue.empty() && r.queue != filter.queue) return false;
  if (!filter.agents.empty() &&
      std::find(filter.agents.begin(), filter.agents.end(), r.agent) == filter.agents.end()) {
    return false;
  }
  if (filter.customer.valid() && r.customer != filter.customer) return false;
  return true;
}

}  // namespace parley::store
