#include "sip/binding_writer.h"

#include <utility>

#include "base/log.h"

namespace parley::sip {

BindingWriter::BindingWriter(ports::SipRegistrations& store)
    : store_(store), thread_([this] { Run(); }) {}

BindingWriter::~BindingWriter() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  wake_.notify_one();
  thread_.join();
}

void BindingWriter::Save(const std::string& login, std::vector<ports::SipBindingRecord> bindings) {
  {
    std::lock_guard lock(mu_);
    pending_[login] = std::move(bindings);
    ++submitted_;
  }
  wake_.notify_one();
}

void BindingWriter::Flush() {
  std::unique_lock lock(mu_);
  const uint64_t target = submitted_;
  written_cv_.wait(lock, [&] { return written_ >= target; });
}

uint64_t BindingWriter::failures() const {
  std::lock_guard lock(mu_);
  return failures_;
}

void BindingWriter::Run() {
  std::unique_lock lock(mu_);
  for (;;) {
    wake_.wait(lock, [this] { return stop_ || !pending_.empty(); });
    if (pending_.empty()) return;  // stopping with nothing left to write
    auto batch = std::exchange(pending_, {});
    const uint64_t covered = submitted_;
    lock.unlock();
    std::vector<std::string> logins;
    std::vector<ports::SipBindingRecord> bindings;
    for (auto& [login, list] : batch) {
      logins.push_back(login);
      for (auto& b : list) bindings.push_back(std::move(b));
    }
    const Status s = store_.ReplaceSipBindings(logins, bindings);
    if (!s.ok()) {
      log::Warn("sip", "phone registrations not stored",
                {{"logins", logins.size()}, {"error", s.message()}});
    }
    lock.lock();
    if (!s.ok()) ++failures_;
    written_ = covered;
    written_cv_.notify_all();
  }
}

}  // namespace parley::sip
