#pragma once
// The expression language of `set` and `branch`: literals ('text', "text", 12, 1.5, true,
// false), variables (attr.NAME, contact.caller, contact.called, contact.channel,
// contact.language, time.hour, time.minute, time.weekday, time.date, queue.estimated_wait,
// queue.agents_available, queue.waiting, queue.position), comparisons (== != < <= > >=), and /
// or / not (also && || !), + - * /, parentheses and the functions len(s), matches(s, 'regex'),
// contains(s, part), lower(s), upper(s), number(s), open('schedule'), holiday('schedule').
// Parsing checks names, arities and regex literals, so a parsed expression cannot fail to
// evaluate; evaluation never throws. Values are immutable after parsing and may be shared.

#include <cstdint>
#include <memory>
#include <optional>
#include <regex>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "base/status.h"

namespace parley::flow {

// A string, a number or a boolean.
using Value = std::variant<std::string, double, bool>;
std::string ValueText(const Value& v);  // 3 -> "3", 1.5 -> "1.5", true -> "true"
bool Truthy(const Value& v);            // false, 0, "" and "false" are false

// What an expression reads while it is evaluated.
class ExprScope {
 public:
  virtual ~ExprScope() = default;
  // The value of a variable the parser accepted (an attribute that is not set is "").
  virtual Value Variable(std::string_view name) const = 0;
  // open('x') and holiday('x') for a schedule the parser accepted.
  virtual bool ScheduleOpen(std::string_view schedule) const = 0;
  virtual bool ScheduleHoliday(std::string_view schedule) const = 0;
};

// What a parser accepts besides the built-in names.
struct ExprNames {
  std::vector<std::string> schedules;
  bool queue_stats = false;  // queue.* allowed (a branch step with `queue:`)
};

// A parse error: what and where (0-based offset into the text).
struct ExprError {
  size_t offset = 0;
  std::string message;
};

class Expr {
 public:
  // Parses `text`; on failure returns nullopt and fills `error`.
  static std::optional<Expr> Parse(std::string_view text, const ExprNames& names, ExprError* error);
  Value Evaluate(const ExprScope& scope) const;
  const std::string& text() const { return text_; }

 private:
  friend class ExprParser;
  enum class Op : uint8_t {
    kLiteral,
    kVariable,
    kNot,
    kNeg,
    kAnd,
    kOr,
    kEq,
    kNe,
    kLt,
    kLe,
    kGt,
    kGe,
    kAdd,
    kSub,
    kMul,
    kDiv,
    kCall,
  };
  struct Node {
    Op op = Op::kLiteral;
    Value literal;
    std::string name;                         // variable or function
    std::vector<int> args;                    // operand node indices
    std::shared_ptr<const std::regex> regex;  // matches() with a literal pattern
  };
  Value Eval(int node, const ExprScope& scope) const;

  std::string text_;
  std::vector<Node> nodes_;
  int root_ = 0;
};

}  // namespace parley::flow
