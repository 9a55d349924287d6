#pragma once
// BindingWriter: the registrar's bindings written to the store off the SIP thread, so phones'
// registrations survive a restart (docs/voice.md, "Phones"). The SIP thread hands over a login's
// current bindings after each REGISTER that changed them (the latest wins); one thread writes
// whatever piled up in one transaction, so a storm of REGISTERs costs one commit per batch and
// never waits on the disk. A failed write is logged and counted; the phone's next REGISTER
// writes its bindings again.

#include <condition_variable>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "ports/store.h"

namespace parley::sip {

class BindingWriter {
 public:
  explicit BindingWriter(ports::SipRegistrations& store);
  ~BindingWriter();  // writes what is pending, then joins
  BindingWriter(const BindingWriter&) = delete;
  BindingWriter& operator=(const BindingWriter&) = delete;

  // `bindings` are all of `login`'s now (empty: it has none any more). Never blocks on I/O.
  void Save(const std::string& login, std::vector<ports::SipBindingRecord> bindings);
  // Returns once everything handed over before the call is written (or failed).
  void Flush();
  uint64_t failures() const;

 private:
  void Run();

  ports::SipRegistrations& store_;
  mutable std::mutex mu_;
  std::condition_variable wake_;
  std::condition_variable written_cv_;
  std::map<std::string, std::vector<ports::SipBindingRecord>> pending_;  // GUARDED_BY(mu_)
  uint64_t submitted_ = 0;                                               // GUARDED_BY(mu_)
  uint64_t written_ = 0;                                                 // GUARDED_BY(mu_)
  uint64_t failures_ = 0;                                                // GUARDED_BY(mu_)
  bool stop_ = false;                                                    // GUARDED_BY(mu_)
  std::thread thread_;
};

}  // namespace parley::sip
