#pragma once
// StaffingService: ports::Staffing for the API over the computation of `parley staff --json`
// (app/staff.h, src/wfm). Stateless: thread-safe, owned by RunServe.

#include <string>

#include "ports/staffing.h"

namespace parley::app {

class StaffingService final : public ports::Staffing {
 public:
  Result<std::string> Plan(const ports::StaffingQuery& query) const override;
};

}  // namespace parley::app
