#include "demo/synthetic_customers.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <set>
#include <string_view>

namespace parley::demo {

namespace {

constexpr std::array<std::string_view, 32> kFirstNames = {
    "Camille", "Lucas",  "Chloe",     "Hugo",   "Manon",  "Louis",   "Emma",  "Gabriel",
    "Lea",     "Arthur", "Ines",      "Jules",  "Sarah",  "Nathan",  "Julie", "Paul",
    "Olivia",  "Noah",   "Amelia",    "Oliver", "Sophie", "Thomas",  "Laura", "Adam",
    "Claire",  "Victor", "Charlotte", "Leo",    "Alice",  "Raphael", "Zoe",   "Maxime"};
constexpr std::array<std::string_view, 32> kLastNames = {
    "Dubois",   "Lefevre", "Moreau",  "Girard",   "Bonnet", "Dupont",  "Lambert", "Fontaine",
    "Rousseau", "Blanc",   "Guerin",  "Muller",   "Henry",  "Roussel", "Nicolas", "Perrin",
    "Morin",    "Mathieu", "Clement", "Gauthier", "Dumont", "Lopez",   "Smith",   "Jones",
    "Taylor",   "Brown",   "Wilson",  "Evans",    "Walker", "Hughes",  "Carter",  "Baker"};

}  // namespace

ports::Customer SyntheticCustomer::ToCustomer() const {
  ports::Customer c;
  c.name = name;
  c.identities = {IdentityFor(Channel::kVoice), IdentityFor(Channel::kChat),
                  IdentityFor(Channel::kEmail)};
  c.tags = {"demo"};
  return c;
}

ports::CustomerIdentity SyntheticCustomer::IdentityFor(Channel channel) const {
  return {channel, channel == Channel::kVoice ? phone : email};
}

std::vector<SyntheticCustomer> MakeCustomers(size_t count, Random& random) {
  count = std::min(count, kFirstNames.size() * kLastNames.size());
  std::vector<SyntheticCustomer> out;
  std::set<std::string> names, phones;
  while (out.size() < count) {
    SyntheticCustomer c;
    const std::string_view first = kFirstNames[random.Below(kFirstNames.size())];
    const std::string_view last = kLastNames[random.Below(kLastNames.size())];
    c.name = std::string(first) + " " + std::string(last);
    if (!names.insert(c.name).second) continue;
    do {
      // French mobile numbers: +33 6 or +33 7, then eight digits.
      c.phone = random.Below(2) == 0 ? "+336" : "+337";
      for (int i = 0; i < 8; ++i) c.phone += static_cast<char>('0' + random.Below(10));
    } while (!phones.insert(c.phone).second);
    for (char ch : std::string(first) + "." + std::string(last)) {
      c.email += static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    }
    c.email += "@example.com";
    out.push_back(std::move(c));
  }
  return out;
}

std::string SubjectFor(const std::string& queue, Random& random) {
  static constexpr std::array<std::string_view, 4> kSales = {
      "Upgrade to the family plan", "Question about the new offer", "Adding a second line",
      "Business pricing"};
  static constexpr std::array<std::string_view, 4> kSupport = {
      "Internet keeps dropping", "Cannot log in to my account", "Router set-up",
      "No signal since yesterday"};
  static constexpr std::array<std::string_view, 4> kBilling = {
      "Invoice looks too high", "Refund for a double charge", "Change of bank details",
      "Payment plan request"};
  static constexpr std::array<std::string_view, 4> kOther = {
      "General question", "Feedback", "Follow-up on my last request", "Change of address"};
  const auto& list = queue == "sales"     ? kSales
                     : queue == "support" ? kSupport
                     : queue == "billing" ? kBilling
                                          : kOther;
  return std::string(list[random.Below(list.size())]);
}

}  // namespace parley::demo
