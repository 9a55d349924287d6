#pragma once
// The recordings API's pure parts (issue 6; docs/voice.md, "Recording"): the listing filter and
// the recording command from untrusted request text, the JSON views, and HTTP Range headers.
// No I/O, no Beast; http_server.cc declares the routes and streams the files. Thread-safe.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "api/request.h"
#include "ports/contact_center.h"

namespace parley::api {

// ?from=&to= (ISO 8601 times, start time in [from, to)), queue=, agent=, customer= (id),
// after= (the last id of the previous page), limit= (1-500, default 50).
std::optional<ApiError> ReadRecordingFilter(const std::map<std::string, std::string>& query,
                                            ports::RecordingFilter& out);
// {"action": "start" | "stop" | "pause" | "resume"}; "mask" and "unmask" are accepted for
// pause and resume (the file goes on with silence, so its timing is kept).
std::optional<ApiError> ReadRecordingCommand(const Json& body, ports::RecordingCommand& out);
// A recording id from the path: decimal, 1 .. 2^64-1. Ids only: a path never reaches a file.
std::optional<ApiError> ParseRecordingId(std::string_view segment, uint64_t& out);

// {"id", "contact", "kind", "bytes", "duration_ms", "sha256", "started_at", "completed_at",
//  "queue", "agent", "customer"}: never the file's path.
Json RecordingJson(const ports::RecordingRecord& r);
// The contact view's additions: "recording" (the latest, or null), "recordings", "legs"
// (loss and jitter per media leg) and "recording_state" ("off", "on", "paused").
void AddRecordingFields(const ports::ContactSnapshot& c, Json& contact);

// A satisfiable byte range of a file of `size` bytes, inclusive.
struct ByteRange {
  uint64_t first = 0;
  uint64_t last = 0;
};
// One range of a "Range: bytes=..." header ("a-b", "a-", "-n"). nullopt with no error: the
// header is absent or names another unit or several ranges (answer the whole file, as RFC 9110
// allows). A 416 error when the range lies outside the file.
std::optional<ApiError> ParseByteRange(std::string_view header, uint64_t size,
                                       std::optional<ByteRange>& out);

}  // namespace parley::api
