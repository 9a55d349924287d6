#pragma once
// POST /api/v1/simulations (docs/openapi.yaml, docs/simulation.md "From the API"): reading the
// body into a ports::SimulationQuery and the port's errors as API errors. Pure functions, no
// Beast: http_server.cc routes and answers.

#include <optional>

#include "api/request.h"
#include "ports/simulation.h"

namespace parley::api {

// {"scenario": YAML text (required, at most 256 KiB), "replications": 1-1000 (the port has
// the lower limit that counts), "seed": integer, "set": ["PATH=VALUE", ...] (at most 50),
// "sweep": "PATH=FROM:TO:STEP"}. A wrong type or an unknown field is a 400 naming it.
std::optional<ApiError> ReadSimulationQuery(const Json& body, ports::SimulationQuery& out);

// kInvalidArgument: 400 (the scenario's or the body's fault, with file:line:column); kConflict:
// 409 (another simulation runs); kUnavailable: 422 (the run outgrew the time limit: the request
// itself is too big, retrying it will not help); the rest as FromStatus.
ApiError SimulationError(const Status& s);

}  // namespace parley::api
