#pragma once
// Rules and encodings shared by every Store implementation, so that the memory, SQLite and later
// PostgreSQL stores accept, reject and order exactly the same things. Pure functions; any thread.

#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "ports/store.h"

namespace parley::store {

std::string_view ContactStateName(ports::ContactState s);
std::string_view DataClassName(ports::DataClass c);

// Checks a customer for CreateCustomer/UpdateCustomer and returns it with identities sorted by
// (channel, address) and tags sorted and deduplicated. kInvalidArgument names the field: empty
// name, fields not a JSON object, an empty address, the same identity twice.
Result<ports::Customer> CheckCustomer(const ports::Customer& customer);

// Attributes as a JSON array of [key, value] pairs (order and duplicates kept).
std::string AttributesToJson(const Attributes& attributes);
Result<Attributes> AttributesFromJson(std::string_view json);

// ASCII lower case, for case-insensitive name search.
std::string LowerAscii(std::string_view s);
// True if `s` starts with `prefix` ignoring ASCII case.
bool StartsWithIgnoreCase(std::string_view s, std::string_view prefix);

// The order of RecoveryState::open_contacts: (queue, queued time, queue_order, id).
bool OpenContactOrder(const ports::ContactRecord& a, const ports::ContactRecord& b);

// A customer's exported data as a JSON document (for `parley customer export` and the API).
std::string CustomerExportToJson(const ports::CustomerExport& data);

// Recordings (issue 6). A record to store: id given, kind "call" or "voicemail", a path and a
// 64-hex-digit SHA-256; kInvalidArgument names what is wrong.
Status CheckRecording(const ports::RecordingRecord& r);
// Whether `r` passes `filter` (every field but after_id and limit).
bool RecordingMatches(const ports::RecordingRecord& r, const ports::RecordingFilter& filter);

}  // namespace parley::store
