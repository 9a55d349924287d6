#pragma once
// ConfigAdministration over a data directory's store: what the API's configuration routes call
// (src/api/admin.h). Applying goes through ApplyConfigDocument, the path `parley config apply`
// takes; `applied` is called after a new version was stored so the server picks it up at once
// (the watcher in serve.cc would otherwise find it within seconds). Thread-safe as far as the
// store is; every call may block on it.

#include <functional>
#include <string>
#include <vector>

#include "ports/administration.h"
#include "ports/store.h"

namespace parley::app {

class StoreConfigAdministration : public ports::ConfigAdministration {
 public:
  // `store` must outlive this; `applied` may be empty.
  StoreConfigAdministration(ports::ConfigDocuments& store,
                            std::function<void(uint64_t version)> applied);

  Result<ports::ConfigDocument> CurrentConfig() override;
  Result<std::vector<ports::ConfigDocument>> ConfigHistory(size_t limit) override;
  Result<ports::ConfigApplyOutcome> ApplyConfig(const ports::ConfigApplyRequest& request) override;
  Result<ports::QueueSettings> GetQueueSettings(const std::string& queue) override;
  Result<ports::ConfigApplyOutcome> EditQueue(const std::string& queue,
                                              const ports::QueueEdit& edit) override;
  Result<ports::ConfigNames> Names() override;

 private:
  Result<ports::ConfigApplyOutcome> Apply(const ports::ConfigApplyRequest& request);

  ports::ConfigDocuments& store_;
  std::function<void(uint64_t)> applied_;
};

}  // namespace parley::app
