#pragma once
// Synthetic customers for the demo: plausible names, French mobile numbers and example.com
// addresses (a domain reserved for examples, RFC 2606), so screen-pop and the CRM have something
// to show and nothing reaches a real person. Pure.

#include <string>
#include <vector>

#include "base/random.h"
#include "ports/contact_center.h"

namespace parley::demo {

struct SyntheticCustomer {
  std::string name;   // "Camille Dubois"
  std::string phone;  // E.164, "+33612345678"
  std::string email;  // "camille.dubois@example.com"
  // The customer record to create: the name and one identity per channel the demo uses (voice:
  // the phone; chat and email: the address).
  ports::Customer ToCustomer() const;
  // Who a contact of `channel` is from.
  ports::CustomerIdentity IdentityFor(Channel channel) const;
};

// `count` customers with distinct names, phones and addresses, drawn from `random`.
std::vector<SyntheticCustomer> MakeCustomers(size_t count, Random& random);

// A subject for a contact to `queue` (e.g. "Upgrade to the family plan" for sales).
std::string SubjectFor(const std::string& queue, Random& random);

}  // namespace parley::demo
