#pragma once
// Shared pieces of the exports (contact facts, queue_log, interval reports): the names that turn
// the core's dense indices into the configuration's names, and the text formats the exports
// write (RFC 4180 CSV fields, ISO 8601 UTC times, seconds with millisecond precision).

#include <string>
#include <string_view>
#include <vector>

#include "base/time.h"
#include "domain/ids.h"
#include "domain/routing.h"

namespace parley {

// Agent and queue names by index, as in the configuration snapshot the events were made with.
// An index without a name (kNone, or beyond the vectors) has the name "" here; each export says
// what it writes instead.
struct ExportNames {
  std::vector<std::string> agents;  // by AgentIndex
  std::vector<std::string> queues;  // by QueueIndex
  // By AgentIndex, the queues each agent is a member of, for the queue_log's member lines
  // (ADDMEMBER, PAUSE, ...): one line per queue, or one with queue "NONE" when empty or absent.
  std::vector<std::vector<QueueIndex>> agent_queues;

  std::string_view Agent(AgentIndex a) const {
    return a < agents.size() ? std::string_view(agents[a]) : std::string_view();
  }
  std::string_view Queue(QueueIndex q) const {
    return q < queues.size() ? std::string_view(queues[q]) : std::string_view();
  }
};

// The names of `routing`'s agents and queues, by index, and each agent's explicit queues (its
// routing profile and the queues that list it as a member; skill-based eligibility is not
// membership here), in queue order.
ExportNames ExportNamesFrom(const RoutingConfig& routing);

// `2026-12-02T09:00:05.250Z`: UTC, milliseconds (truncated toward the past).
std::string FormatIsoUtcMillis(TimePoint t);
// `12.345`: seconds with three decimals, truncated toward zero to whole milliseconds.
std::string FormatSecondsMillis(Duration d);
// Appends `field` to `out` as one RFC 4180 field: quoted (with quotes doubled) when it holds a
// comma, a quote, CR or LF, or starts or ends with a space; as is otherwise.
void AppendCsvField(std::string& out, std::string_view field);
// Appends the fields joined by commas and a CRLF line end (RFC 4180).
void AppendCsvRow(std::string& out, const std::vector<std::string>& fields);

}  // namespace parley
