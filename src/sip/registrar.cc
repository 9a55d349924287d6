#include "sip/registrar.h"

#include <algorithm>

namespace parley::sip {

Duration Registrar::Clamp(Duration requested) const {
  if (requested < Duration::zero()) return policy_.default_expires;
  return std::min(requested, policy_.max_expires);
}

void Registrar::Expire(User& user, TimePoint now) {
  std::erase_if(user.bindings, [now](const Binding& b) { return b.expires <= now; });
}

Status Registrar::Apply(std::string_view login, std::string_view agent,
                        const std::vector<Change>& changes, std::string_view call_id, uint32_t cseq,
                        std::string_view source, TimePoint now) {
  for (const auto& c : changes) {
    if (c.expires > Duration::zero() && c.expires < policy_.min_expires) {
      return InvalidArgument("expiry below the minimum");
    }
  }
  auto it = users_.find(login);
  User scratch;
  if (it != users_.end()) {
    Expire(it->second, now);
    scratch = it->second;
  }
  scratch.agent = std::string(agent);
  for (const auto& c : changes) {
    auto b = std::find_if(scratch.bindings.begin(), scratch.bindings.end(),
                          [&](const Binding& x) { return x.contact == c.contact; });
    if (b != scratch.bindings.end() && b->call_id == call_id && cseq <= b->cseq) {
      return Conflict("REGISTER out of order for " + c.contact);
    }
    if (c.expires <= Duration::zero()) {
      if (b != scratch.bindings.end()) scratch.bindings.erase(b);
      continue;
    }
    if (b == scratch.bindings.end()) {
      if (scratch.bindings.size() >= policy_.max_contacts_per_user) {
        return Unavailable("too many registered contacts");
      }
      scratch.bindings.push_back({.contact = c.contact});
      b = scratch.bindings.end() - 1;
    }
    b->call_id = std::string(call_id);
    b->cseq = cseq;
    b->expires = now + c.expires;
    b->source = std::string(source);
  }
  if (scratch.bindings.empty()) {
    if (it != users_.end()) users_.erase(it);
  } else if (it != users_.end()) {
    it->second = std::move(scratch);
  } else {
    users_.emplace(std::string(login), std::move(scratch));
  }
  return Status::Ok();
}

void Registrar::RemoveAll(std::string_view login) {
  if (auto it = users_.find(login); it != users_.end()) users_.erase(it);
}

void Registrar::Restore(std::string_view login, std::string_view agent, Binding binding,
                        TimePoint now) {
  if (binding.expires <= now) return;
  auto it = users_.find(login);
  if (it == users_.end()) it = users_.emplace(std::string(login), User{}).first;
  User& user = it->second;
  user.agent = std::string(agent);
  const bool held = std::any_of(user.bindings.begin(), user.bindings.end(),
                                [&](const Binding& b) { return b.contact == binding.contact; });
  if (!held && user.bindings.size() < policy_.max_contacts_per_user) {
    user.bindings.push_back(std::move(binding));
  }
  if (user.bindings.empty()) users_.erase(it);
}

std::vector<Binding> Registrar::BindingsOf(std::string_view login, TimePoint now) {
  auto it = users_.find(login);
  if (it == users_.end()) return {};
  Expire(it->second, now);
  std::vector<Binding> out = it->second.bindings;
  if (out.empty()) users_.erase(it);
  return out;
}

std::vector<Binding> Registrar::BindingsOfAgent(std::string_view agent, TimePoint now) {
  std::vector<Binding> out;
  if (agent.empty()) return out;
  for (auto it = users_.begin(); it != users_.end();) {
    Expire(it->second, now);
    if (it->second.agent == agent) {
      out.insert(out.end(), it->second.bindings.begin(), it->second.bindings.end());
    }
    it = it->second.bindings.empty() ? users_.erase(it) : std::next(it);
  }
  return out;
}

size_t Registrar::size() const {
  size_t n = 0;
  for (const auto& [login, user] : users_) n += user.bindings.size();
  return n;
}

size_t CountUnexpired(const std::vector<TimePoint>& expiries, TimePoint now) {
  return static_cast<size_t>(
      std::count_if(expiries.begin(), expiries.end(), [now](TimePoint t) { return t > now; }));
}

std::vector<TimePoint> Registrar::Expiries() const {
  std::vector<TimePoint> out;
  for (const auto& [login, user] : users_) {
    for (const auto& b : user.bindings) out.push_back(b.expires);
  }
  return out;
}

}  // namespace parley::sip
