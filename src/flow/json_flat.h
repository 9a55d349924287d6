#pragma once
// Flattens a JSON document into dotted paths ("customer.tier", "orders.0.id") and their scalar
// values as text (strings unescaped, numbers as written, true/false, null as ""). Untrusted
// input: a malformed document returns false and leaves `out` partly filled; nothing throws.

#include <string_view>

#include "domain/contact.h"

namespace parley::flow {

bool FlattenJson(std::string_view json, Attributes* out);

}  // namespace parley::flow
