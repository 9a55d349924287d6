#pragma once
// SimulationService: ports::Simulation for the API over `parley simulate --json` (app/simulate.h,
// src/sim). One simulation at a time, each stopped past a wall-clock limit or when the server
// stops. Thread-safe, owned by RunServe.

#include <atomic>
#include <chrono>
#include <mutex>
#include <string>

#include "ports/simulation.h"

namespace parley::app {

struct SimulationLimits {
  std::chrono::milliseconds wall{std::chrono::seconds(20)};  // per request, all runs together
  int max_replications = 10;
  int max_sweep_points = 20;
};

class SimulationService final : public ports::Simulation {
 public:
  explicit SimulationService(SimulationLimits limits = {}) : limits_(limits) {}
  Result<std::string> Run(const ports::SimulationQuery& query) const override;
  // The server is stopping: a running simulation ends at its next event batch (its request gets
  // a 409 saying so) and later ones are refused, so shutdown never waits for the wall-clock limit.
  void Stop() { stopping_ = true; }

 private:
  SimulationLimits limits_;
  mutable std::mutex running_;
  std::atomic<bool> stopping_{false};
};

}  // namespace parley::app
