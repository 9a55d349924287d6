#pragma once
// Asterisk-compatible queue_log lines from the event stream, for the reporting tools that read
// Asterisk's `queue_log` file. A pure function; docs/metrics.md ("Exports") lists the mapping of
// every event and each field.

#include <cstdint>
#include <string>
#include <vector>

#include "analytics/export_format.h"
#include "domain/event.h"

namespace parley {

// `epoch|callid|queue|agent|EVENT|data1|data2|...`
struct QueueLogLine {
  int64_t epoch = 0;   // whole seconds since the Unix epoch (truncated)
  std::string callid;  // the contact id in decimal; "NONE" for agent lines
  std::string queue;   // queue name; "NONE" for agent lines
  std::string agent;   // agent name; "NONE" when no agent is involved
  std::string event;   // ENTERQUEUE, CONNECT, ...
  std::vector<std::string> data;
  bool operator==(const QueueLogLine&) const = default;
};

// The lines for `events` (in time order), in event order. Durations are whole seconds
// (truncated) except RINGNOANSWER's ring time in milliseconds, as Asterisk writes them.
std::vector<QueueLogLine> QueueLogLines(const std::vector<Event>& events, const ExportNames& names);

// One line without its line end. '|', CR and LF inside a field are written as '_' so that every
// line keeps its field count.
std::string FormatQueueLogLine(const QueueLogLine& line);
// Every line followed by "\n", as Asterisk writes the file.
std::string WriteQueueLog(const std::vector<QueueLogLine>& lines);

}  // namespace parley
