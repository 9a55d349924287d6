#pragma once
// POST /api/v1/staffing (docs/openapi.yaml, docs/staffing.md "From the browser"): reading the
// body into a ports::StaffingQuery and the port's errors as API errors. Pure functions, no Beast:
// http_server.cc routes and answers.

#include <optional>

#include "api/request.h"
#include "ports/staffing.h"

namespace parley::api {

// The staffing performance of N +- this many agents that the answer's "table" carries.
inline constexpr int64_t kStaffingTableNeighbours = 10;

// {"calls", "interval_seconds", "aht", "target_sl", "target_seconds", "target_asa",
//  "max_occupancy", "shrinkage", "patience" (numbers), "agents", "lines" (integers), "erlang_b"
// (boolean), "target_blocking" (number), "forecast" (CSV text, at most 256 KiB)}: the inputs of
// `parley staff`, all optional here (the port says which combination is missing). A wrong type,
// a number that is not finite or an unknown field is a 400 naming it.
std::optional<ApiError> ReadStaffingQuery(const Json& body, ports::StaffingQuery& out);

// The port's kInvalidArgument is the body's fault (400, the message names the field); the rest as
// FromStatus.
ApiError StaffingError(const Status& s);

}  // namespace parley::api
