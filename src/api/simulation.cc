#include "api/simulation.h"

#include <string>

namespace parley::api {

namespace {
constexpr size_t kMaxScenarioBytes = 256 * 1024;
constexpr size_t kMaxSets = 50;
}  // namespace

std::optional<ApiError> ReadSimulationQuery(const Json& body, ports::SimulationQuery& out) {
  // FieldReader keeps a reference: an empty body's object must outlive it.
  const Json empty = Json::object();
  FieldReader r(body.is_null() ? empty : body, "body");
  r.String("scenario", out.scenario, true, kMaxScenarioBytes);
  int64_t replications = 1;
  if (r.Int("replications", replications, false, 1, 1000)) {
    out.replications = static_cast<int>(replications);
  }
  int64_t seed = 0;
  if (r.Int("seed", seed, false, 0, INT64_MAX)) out.seed = static_cast<uint64_t>(seed);
  if (const Json* sets = r.Raw("set", false)) {
    if (!sets->is_array() || sets->size() > kMaxSets) {
      r.Fail({400, "wrong_type",
              r.Path("set") + " must be an array of at most " + std::to_string(kMaxSets) +
                  " \"PATH=VALUE\" strings",
              BadRequest::kWrongType});
    } else {
      for (const Json& s : *sets) {
        if (!s.is_string() || s.get_ref<const std::string&>().size() > 1024) {
          r.Fail({400, "wrong_type", r.Path("set") + " items must be strings of at most 1024 bytes",
                  BadRequest::kWrongType});
          break;
        }
        out.sets.push_back(s.get<std::string>());
      }
    }
  }
  std::string sweep;
  if (r.String("sweep", sweep, false, 1024)) out.sweep = std::move(sweep);
  return r.Finish();
}

ApiError SimulationError(const Status& s) {
  switch (s.code()) {
    case StatusCode::kInvalidArgument:
      return ApiError{400, "bad_value", s.message(), BadRequest::kBadValue};
    case StatusCode::kConflict:
      return ApiError{409, "conflict", s.message(), std::nullopt};
    case StatusCode::kUnavailable:
      return ApiError{422, "too_large", s.message(), std::nullopt};
    default:
      return FromStatus(s);
  }
}

}  // namespace parley::api
