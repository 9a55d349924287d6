#pragma once
// StrongId<Tag>: an integer id that cannot be mixed up with another kind of id.

#include <cstdint>
#include <functional>

namespace parley {

template <typename Tag, typename Rep = uint64_t>
class StrongId {
 public:
  using rep = Rep;
  constexpr StrongId() = default;
  constexpr explicit StrongId(Rep v) : v_(v) {}
  constexpr Rep value() const { return v_; }
  constexpr bool valid() const { return v_ != 0; }
  constexpr auto operator<=>(const StrongId&) const = default;

 private:
  Rep v_ = 0;
};

}  // namespace parley

template <typename Tag, typename Rep>
struct std::hash<parley::StrongId<Tag, Rep>> {
  size_t operator()(const parley::StrongId<Tag, Rep>& id) const noexcept {
    return std::hash<Rep>()(id.value());
  }
};
