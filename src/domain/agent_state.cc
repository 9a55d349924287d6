#include "domain/agent_state.h"

namespace parley {

std::string_view PresenceName(Presence p) {
  switch (p) {
    case Presence::kOffline:
      return "offline";
    case Presence::kAvailable:
      return "available";
    case Presence::kNotReady:
      return "not-ready";
  }
  return "?";
}

std::string_view WorkStageName(WorkStage s) {
  switch (s) {
    case WorkStage::kOffered:
      return "offered";
    case WorkStage::kHandling:
      return "handling";
    case WorkStage::kWrapUp:
      return "wrap-up";
  }
  return "?";
}

}  // namespace parley
