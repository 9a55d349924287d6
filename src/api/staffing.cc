#include "api/staffing.h"

#include <cmath>
#include <string>

namespace parley::api {

namespace {

constexpr size_t kMaxForecastBytes = 256 * 1024;

// A finite JSON number; a present field that is not one fails the reader.
void Number(FieldReader& r, std::string_view name, std::optional<double>& out) {
  const Json* v = r.Raw(name, false);
  if (!v) return;
  if (!v->is_number() || !std::isfinite(v->get<double>())) {
    r.Fail({400, "wrong_type",
            r.Path(name) + " must be a number, got " + std::string(JsonTypeName(*v)),
            BadRequest::kWrongType});
    return;
  }
  out = v->get<double>();
}

void Number(FieldReader& r, std::string_view name, double& out) {
  std::optional<double> v;
  Number(r, name, v);
  if (v) out = *v;
}

void Integer(FieldReader& r, std::string_view name, std::optional<int64_t>& out) {
  int64_t v = 0;
  if (r.Int(name, v, false, 0, 1'000'000'000)) out = v;
}

}  // namespace

std::optional<ApiError> ReadStaffingQuery(const Json& body, ports::StaffingQuery& out) {
  // FieldReader keeps a reference: an empty body's object must outlive it.
  const Json empty = Json::object();
  FieldReader r(body.is_null() ? empty : body, "body");
  Number(r, "calls", out.calls);
  Number(r, "interval_seconds", out.interval_seconds);
  Number(r, "aht", out.aht);
  Number(r, "target_sl", out.target_sl);
  Number(r, "target_seconds", out.target_seconds);
  Number(r, "target_asa", out.target_asa);
  Number(r, "max_occupancy", out.max_occupancy);
  Number(r, "shrinkage", out.shrinkage);
  Number(r, "patience", out.patience);
  Integer(r, "agents", out.agents);
  r.Bool("erlang_b", out.erlang_b, false);
  Integer(r, "lines", out.lines);
  Number(r, "target_blocking", out.target_blocking);
  std::string forecast;
  if (r.String("forecast", forecast, false, kMaxForecastBytes)) out.forecast = std::move(forecast);
  out.table_neighbours = kStaffingTableNeighbours;
  return r.Finish();
}

ApiError StaffingError(const Status& s) {
  if (s.code() == StatusCode::kInvalidArgument) {
    return ApiError{400, "bad_value", s.message(), BadRequest::kBadValue};
  }
  return FromStatus(s);
}

}  // namespace parley::api
