#pragma once
// Contact flows, schedules and entry points as plain data, as src/config reads them from YAML.
// A step's parameters are kept as written (a tree of scalars, lists and maps with positions):
// src/flow owns the step table, and so the meaning and the checking of every parameter, and
// compiles these definitions into runnable flow versions. Header-only.

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/time.h"
#include "domain/channel.h"

namespace parley {

// Where something was written: file and 1-based line and column (0 when unknown).
struct SourcePos {
  std::string file;
  int line = 0;
  int column = 0;
  bool operator==(const SourcePos&) const = default;
};

// A parameter value as written: a scalar, a list or a map (entries in file order).
struct FlowValue {
  enum class Kind : uint8_t { kScalar, kList, kMap };
  Kind kind = Kind::kScalar;
  std::string key;  // the entry's key when this value is in a map
  SourcePos key_pos;
  std::string scalar;
  bool quoted = false;  // a quoted scalar: its text starts one column after `pos`
  std::vector<FlowValue> items;
  SourcePos pos;

  // The entry `k` of a map, or nullptr.
  const FlowValue* Find(std::string_view k) const {
    if (kind != Kind::kMap) return nullptr;
    for (const auto& e : items) {
      if (e.key == k) return &e;
    }
    return nullptr;
  }
  bool operator==(const FlowValue&) const = default;
};

struct StepDef {
  std::string id;  // unique in its flow
  SourcePos pos;   // of the id
  std::string type;
  SourcePos type_pos;
  FlowValue params;  // a map of every key but `id` and `type`
  bool operator==(const StepDef&) const = default;
};

struct FlowDef {
  std::string name;
  SourcePos pos;  // of the name
  std::string description;
  std::string start;  // id of the first step; "" means the first listed
  SourcePos start_pos;
  std::string time_zone;  // for time.* in expressions; "" means the site's
  std::vector<StepDef> steps;
  bool operator==(const FlowDef&) const = default;
};

// Opening hours within one day: [begin, end) in minutes after local midnight (end <= 1440).
struct TimeRange {
  int begin = 0;
  int end = 0;
  bool operator==(const TimeRange&) const = default;
};

// A date with its own hours (a holiday when `hours` is empty).
struct ScheduleException {
  int year = 0;
  int month = 0;  // 1-12
  int day = 0;    // 1-31
  std::string name;
  std::vector<TimeRange> hours;
  SourcePos pos;
  bool operator==(const ScheduleException&) const = default;
};

struct ScheduleDef {
  std::string name;
  SourcePos pos;
  std::string time_zone;                       // tz database name
  std::array<std::vector<TimeRange>, 7> week;  // [0] is Monday
  std::vector<ScheduleException> exceptions;
  bool operator==(const ScheduleDef&) const = default;
};

// Where contacts meet a flow: a dialled number or trunk (voice), a website or widget id (chat),
// an email address, an API task type.
struct EntryPointDef {
  Channel channel = Channel::kVoice;
  std::string address;
  std::string flow;
  SourcePos pos;
  bool operator==(const EntryPointDef&) const = default;
};

// The limits of the flows' HTTP lookups (`lookups:`; docs/flows.md, "HTTP lookups"). The
// timeout applies when flows are compiled; the rest when `parley serve` starts its lookup client.
struct LookupLimits {
  Duration timeout = Seconds(5);             // a lookup step's timeout when it names none
  uint32_t workers = 8;                      // lookups in flight at once
  uint32_t max_queued = 256;                 // lookups waiting for a worker; more fail at once
  uint64_t max_response_bytes = 256 * 1024;  // a longer answer takes the step's `failure`
  bool operator==(const LookupLimits&) const = default;
};

struct FlowConfig {
  std::vector<FlowDef> flows;
  std::vector<ScheduleDef> schedules;
  std::vector<EntryPointDef> entry_points;
  LookupLimits lookups;
  bool operator==(const FlowConfig&) const = default;
};

}  // namespace parley
