#include "app/simulation_service.h"

#include <sstream>

#include "app/simulate.h"

namespace parley::app {

Result<std::string> SimulationService::Run(const ports::SimulationQuery& q) const {
  if (q.replications < 1 || q.replications > limits_.max_replications) {
    return InvalidArgument("replications must be between 1 and " +
                           std::to_string(limits_.max_replications) + ", got " +
                           std::to_string(q.replications));
  }
  if (stopping_) return Conflict("the server is stopping");
  std::unique_lock lock(running_, std::try_to_lock);
  if (!lock.owns_lock()) {
    return Conflict("another simulation is running on this server; try again when it ends");
  }
  SimulateOptions o;
  o.path = "scenario.yaml";  // names the text in messages
  o.text = q.scenario;
  o.replications = q.replications;
  o.seed = q.seed;
  o.sets = q.sets;
  o.sweep = q.sweep;
  o.json = true;
  o.show_progress = false;
  o.max_sweep_points = limits_.max_sweep_points;
  const auto deadline = std::chrono::steady_clock::now() + limits_.wall;
  o.should_stop = [this, deadline] {
    return stopping_ || std::chrono::steady_clock::now() > deadline;
  };
  std::ostringstream out, err;
  const int code = RunSimulate(o, out, err);
  if (code == 3 && stopping_) return Conflict("the server is stopping; the simulation ended");
  if (code == 3) {
    return Unavailable("the simulation took longer than " +
                       std::to_string(limits_.wall.count() / 1000) +
                       " s: shorten the scenario's duration, its traffic or the replications");
  }
  if (code == 2) {
    std::string message = err.str();
    while (!message.empty() && message.back() == '\n') message.pop_back();
    return InvalidArgument(message);
  }
  // 0 or 1: the document (expectations that failed are in it, as "failures").
  return out.str();
}

}  // namespace parley::app
