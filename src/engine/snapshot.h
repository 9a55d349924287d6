#pragma once
// LiveSnapshots: the engine's ports::LiveView. After each step the engine stages a snapshot of
// what the cheap reads answer (each agent's GetAgent view with its JSON, each queue's live
// statistics), re-rendering only the records the step touched and sharing the rest with the
// previous snapshot; when the step is durable, and before its replies and events go out, the
// snapshot is published (read-copy-update), so an API thread answers those reads without a hop
// to the loop and still sees every write it was told about.
//
// Ownership and threads: the Engine owns it. Reset, SetAgent, SetQueue, Freeze and Publish run on
// the engine's loop thread only; the ports::LiveView methods run on any thread and read the last
// published snapshot through an atomic shared_ptr. A published snapshot is never changed.
//
// What runs with the clock is stored as its inputs and computed at read time, so answers stay
// exact between steps: a queue's longest wait (from the oldest arrival), and the figures that
// count "today" (zero once the site's day they belong to is over).

#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "base/time.h"
#include "ports/contact_center.h"
#include "ports/live_view.h"

namespace parley::engine {

// A span of UTC time over which the site's local day does not change: [from, until).
struct DayWindow {
  TimePoint from = TimePoint::min();
  TimePoint until = TimePoint::max();
  bool Contains(TimePoint t) const { return t >= from && t < until; }
};

// The window of the local day (as `day_of` counts days) that holds `t`, to the microsecond.
// `day_of` must never decrease as time goes forward and no day may last over 48 hours.
DayWindow DayWindowOf(const std::function<int64_t(TimePoint)>& day_of, TimePoint t);

// ContactCenter's object scope for an agent: kAll reaches everyone, kTeam the caller's team, kSelf
// the caller's own agent.
bool MayReachAgent(const ports::Caller& who, const std::string& agent, const std::string& team);

// A queue's view without what runs with the clock.
struct QueueRecord {
  ports::QueueSnapshot view;                    // longest_wait left 0
  TimePoint oldest_arrival = TimePoint::max();  // of the contacts waiting now
  DayWindow today;                              // when view's today figures hold
  // The view at `now`: the longest wait from the oldest arrival, today's figures zero outside
  // `today` (a new site day with no event yet has nothing so far).
  ports::QueueSnapshot At(TimePoint now) const;
};

struct AgentRecord {
  ports::LiveAgent live;
  DayWindow today;  // when live.view.handled_today holds; 0 outside
};

// Immutable records by index, in chunks of 64 that snapshots share: freezing a table copies the
// chunk pointers only, and setting a record copies its chunk once per frozen table.
template <class T>
class RecordTable {
 public:
  using Record = std::shared_ptr<const T>;

  // The record at `i`, or null.
  const T* Get(size_t i) const {
    if (i / kChunk >= chunks_.size()) return nullptr;
    return (*chunks_[i / kChunk])[i % kChunk].get();
  }
  Record Shared(size_t i) const {
    if (i / kChunk >= chunks_.size()) return nullptr;
    return (*chunks_[i / kChunk])[i % kChunk];
  }
  void Set(size_t i, Record r) {
    const size_t c = i / kChunk;
    if (c >= chunks_.size()) {
      chunks_.resize(c + 1);
      owned_.resize(c + 1, false);
    }
    if (!owned_[c]) {
      chunks_[c] = chunks_[c] ? std::make_shared<Chunk>(*chunks_[c]) : std::make_shared<Chunk>();
      owned_[c] = true;
    }
    (*chunks_[c])[i % kChunk] = std::move(r);
  }
  // A copy sharing every chunk; this table copies a chunk again before changing it.
  RecordTable Freeze() {
    RecordTable out;
    out.chunks_ = chunks_;
    owned_.assign(owned_.size(), false);
    return out;
  }
  void Clear() {
    chunks_.clear();
    owned_.clear();
  }

 private:
  static constexpr size_t kChunk = 64;
  using Chunk = std::array<Record, kChunk>;
  std::vector<std::shared_ptr<Chunk>> chunks_;
  std::vector<bool> owned_;  // chunk copied since the last Freeze: changed in place
};

// Names to indices (the Acd's), and each queue's members, fixed between configurations.
struct LiveDirectory {
  std::unordered_map<std::string, uint32_t> agents;  // configured agents the Acd knows
  std::unordered_map<std::string, uint32_t> queues;  // configured queues the Acd knows
  std::vector<uint32_t> queue_order;                 // ListQueues' order (the configuration's)
  std::vector<std::vector<uint32_t>> members;        // by queue index: agents serving it
};

struct LiveSnapshot {
  std::shared_ptr<const LiveDirectory> directory;
  RecordTable<AgentRecord> agents;
  RecordTable<QueueRecord> queues;
};

class LiveSnapshots final : public ports::LiveView {
 public:
  // Renders an agent's JSON when its record changes; empty: none (readers render the view).
  using Renderer = std::function<std::string(const ports::AgentSnapshot&)>;
  explicit LiveSnapshots(Renderer render) : render_(std::move(render)) {}

  // Loop thread: the snapshot being built. Reset starts over with a new directory.
  void Reset(std::shared_ptr<const LiveDirectory> directory);
  const LiveDirectory& directory() const { return *next_.directory; }
  void SetAgent(uint32_t index, ports::AgentSnapshot view, DayWindow today);
  void SetQueue(uint32_t index, QueueRecord record);
  // The snapshot built so far; later changes do not touch it.
  std::shared_ptr<const LiveSnapshot> Freeze();
  // What readers see from now on (the snapshot of a later step than the one published before).
  void Publish(std::shared_ptr<const LiveSnapshot> snapshot);

  // ports::LiveView
  Result<std::shared_ptr<const ports::LiveAgent>> Agent(const ports::Caller& who,
                                                        const std::string& agent,
                                                        TimePoint now) const override;
  Result<ports::QueueSnapshot> Queue(const ports::Caller& who, const std::string& queue,
                                     TimePoint now) const override;
  Result<std::vector<ports::QueueSnapshot>> Queues(const ports::Caller& who,
                                                   TimePoint now) const override;

 private:
  Result<std::shared_ptr<const LiveSnapshot>> Current() const;
  std::string Render(const ports::AgentSnapshot& view) const {
    return render_ ? render_(view) : std::string();
  }

  Renderer render_;
  LiveSnapshot next_;  // loop thread only
  std::atomic<std::shared_ptr<const LiveSnapshot>> published_;
};

}  // namespace parley::engine
