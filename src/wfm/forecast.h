#pragma once
// Forecast files: the contacts expected per interval and their handle time, as CSV text. The
// caller reads the file; this parses the text. Pure; safe from any thread.

#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace parley::wfm {

struct ForecastInterval {
  std::string start;       // as written: ISO 8601 date-time ("2024-05-06T08:30[:00][Z|+01:00]",
                           // a space allowed for the T) or a time of day "HH:MM[:SS]"
  double contacts = 0;     // >= 0
  double aht_seconds = 0;  // > 0
  int line = 0;            // 1-based line number in the text, for messages
};

// Parses lines "interval_start,contacts,aht_seconds". The first non-blank line is a header,
// and skipped, when its first field is not an interval start. Blank lines and lines starting
// with '#' are skipped; fields are trimmed; CRLF is accepted. Errors (kInvalidArgument) name the
// line number and the field, e.g. "line 4, field contacts: 'abc' is not a number >= 0". An input
// with no data line is an error too.
Result<std::vector<ForecastInterval>> ParseForecastCsv(std::string_view text);

// True when `text` is an interval start as accepted above.
bool IsIntervalStart(std::string_view text);

}  // namespace parley::wfm
