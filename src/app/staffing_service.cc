#include "app/staffing_service.h"

#include "app/staff.h"

namespace parley::app {

Result<std::string> StaffingService::Plan(const ports::StaffingQuery& q) const {
  StaffOptions o;
  o.calls = q.calls;
  o.interval_seconds = q.interval_seconds;
  o.aht_seconds = q.aht;
  o.target_sl = q.target_sl;
  o.target_seconds = q.target_seconds;
  o.target_asa = q.target_asa;
  o.max_occupancy = q.max_occupancy;
  o.shrinkage = q.shrinkage;
  o.patience_seconds = q.patience;
  o.agents = q.agents;
  o.json = true;
  o.erlang_b = q.erlang_b;
  o.lines = q.lines;
  o.target_blocking = q.target_blocking;
  o.forecast_csv = q.forecast;
  o.api_names = true;
  o.table_neighbours = q.table_neighbours;
  return StaffJson(o);
}

}  // namespace parley::app
