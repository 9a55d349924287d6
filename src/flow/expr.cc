#include "flow/expr.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdio>

namespace parley::flow {

std::string ValueText(const Value& v) {
  if (const auto* s = std::get_if<std::string>(&v)) return *s;
  if (const auto* b = std::get_if<bool>(&v)) return *b ? "true" : "false";
  const double d = std::get<double>(v);
  if (std::isfinite(d) && d == std::floor(d) && std::fabs(d) < 1e15) {
    return std::to_string(static_cast<int64_t>(d));
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.15g", d);
  return buf;
}

bool Truthy(const Value& v) {
  if (const auto* s = std::get_if<std::string>(&v)) return !s->empty() && *s != "false";
  if (const auto* b = std::get_if<bool>(&v)) return *b;
  return std::get<double>(v) != 0;
}

namespace {

std::optional<double> AsNumber(const Value& v) {
  if (const auto* d = std::get_if<double>(&v)) return *d;
  if (const auto* b = std::get_if<bool>(&v)) return *b ? 1.0 : 0.0;
  const std::string& s = std::get<std::string>(v);
  if (s.empty()) return std::nullopt;
  double out = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  if (ec != std::errc() || ptr != s.data() + s.size()) return std::nullopt;
  return out;
}

struct Function {
  std::string_view name;
  int arity;
};
constexpr Function kFunctions[] = {
    {"len", 1},   {"matches", 2}, {"contains", 2}, {"lower", 1},
    {"upper", 1}, {"number", 1},  {"open", 1},     {"holiday", 1},
};

constexpr std::string_view kContactVars[] = {"caller", "called", "channel", "language", "id"};
constexpr std::string_view kTimeVars[] = {"hour", "minute", "weekday", "date"};
constexpr std::string_view kQueueVars[] = {"estimated_wait", "agents_available", "waiting",
                                           "position"};

template <size_t N>
bool In(const std::string_view (&list)[N], std::string_view s) {
  return std::find(std::begin(list), std::end(list), s) != std::end(list);
}

}  // namespace

// Recursive descent over the text; one instance per Parse call.
class ExprParser {
 public:
  ExprParser(std::string_view text, const ExprNames& names, Expr* out, ExprError* error)
      : text_(text), names_(names), out_(out), error_(error) {}

  bool Run() {
    int root = Or();
    if (failed_) return false;
    SkipSpace();
    if (pos_ < text_.size()) return Fail(pos_, "unexpected '" + std::string(1, text_[pos_]) + "'");
    out_->root_ = root;
    return true;
  }

 private:
  using Op = Expr::Op;

  bool Fail(size_t at, std::string message) {
    if (!failed_) {
      failed_ = true;
      error_->offset = at;
      error_->message = std::move(message);
    }
    return false;
  }
  void SkipSpace() {
    while (pos_ < text_.size() && std::isspace(static_cast<unsigned char>(text_[pos_]))) ++pos_;
  }
  bool Eat(std::string_view token) {
    SkipSpace();
    if (text_.substr(pos_, token.size()) != token) return false;
    // A word operator must not run into an identifier ("order" is not "or" + "der").
    if (std::isalpha(static_cast<unsigned char>(token[0])) && pos_ + token.size() < text_.size()) {
      const char next = text_[pos_ + token.size()];
      if (std::isalnum(static_cast<unsigned char>(next)) || next == '_' || next == '.')
        return false;
    }
    pos_ += token.size();
    return true;
  }
  int Add(Expr::Node node) {
    out_->nodes_.push_back(std::move(node));
    return static_cast<int>(out_->nodes_.size() - 1);
  }
  int Binary(Op op, int a, int b) { return Add({op, {}, {}, {a, b}, nullptr}); }

  int Or() {
    int left = And();
    while (!failed_ && (Eat("or") || Eat("||"))) left = Binary(Op::kOr, left, And());
    return left;
  }
  int And() {
    int left = Not();
    while (!failed_ && (Eat("and") || Eat("&&"))) left = Binary(Op::kAnd, left, Not());
    return left;
  }
  int Not() {
    SkipSpace();
    if (text_.substr(pos_, 2) != "!=" && (Eat("not") || Eat("!"))) {
      return Add({Op::kNot, {}, {}, {Not()}, nullptr});
    }
    return Compare();
  }
  int Compare() {
    int left = Sum();
    static constexpr std::pair<std::string_view, Op> kOps[] = {
        {"==", Op::kEq}, {"!=", Op::kNe}, {"<=", Op::kLe},
        {">=", Op::kGe}, {"<", Op::kLt},  {">", Op::kGt},
    };
    for (const auto& [token, op] : kOps) {
      if (!failed_ && Eat(token)) return Binary(op, left, Sum());
    }
    return left;
  }
  int Sum() {
    int left = Product();
    while (!failed_) {
      if (Eat("+")) {
        left = Binary(Op::kAdd, left, Product());
      } else if (Eat("-")) {
        left = Binary(Op::kSub, left, Product());
      } else {
        break;
      }
    }
    return left;
  }
  int Product() {
    int left = Unary();
    while (!failed_) {
      if (Eat("*")) {
        left = Binary(Op::kMul, left, Unary());
      } else if (Eat("/")) {
        left = Binary(Op::kDiv, left, Unary());
      } else {
        break;
      }
    }
    return left;
  }
  int Unary() {
    if (Eat("-")) return Add({Op::kNeg, {}, {}, {Unary()}, nullptr});
    return Primary();
  }
  int Primary() {
    SkipSpace();
    if (failed_) return 0;
    if (pos_ >= text_.size()) {
      Fail(pos_, "expected a value at the end of the expression");
      return 0;
    }
    const size_t start = pos_;
    const char c = text_[pos_];
    if (c == '(') {
      ++pos_;
      int inner = Or();
      if (!failed_ && !Eat(")")) Fail(pos_, "expected ')'");
      return inner;
    }
    if (c == '\'' || c == '"') {
      const size_t close = text_.find(c, pos_ + 1);
      if (close == std::string_view::npos) {
        Fail(start, "string not closed");
        return 0;
      }
      std::string s(text_.substr(pos_ + 1, close - pos_ - 1));
      pos_ = close + 1;
      return Add({Op::kLiteral, Value(std::move(s)), {}, {}, nullptr});
    }
    if (std::isdigit(static_cast<unsigned char>(c))) {
      while (pos_ < text_.size() &&
             (std::isdigit(static_cast<unsigned char>(text_[pos_])) || text_[pos_] == '.')) {
        ++pos_;
      }
      double d = 0;
      const std::string_view num = text_.substr(start, pos_ - start);
      auto [ptr, ec] = std::from_chars(num.data(), num.data() + num.size(), d);
      if (ec != std::errc() || ptr != num.data() + num.size()) {
        Fail(start, "bad number '" + std::string(num) + "'");
        return 0;
      }
      return Add({Op::kLiteral, Value(d), {}, {}, nullptr});
    }
    if (std::isalpha(static_cast<unsigned char>(c)) || c == '_') {
      while (pos_ < text_.size() &&
             (std::isalnum(static_cast<unsigned char>(text_[pos_])) || text_[pos_] == '_' ||
              text_[pos_] == '.' || text_[pos_] == '-')) {
        ++pos_;
      }
      std::string name(text_.substr(start, pos_ - start));
      if (name == "true" || name == "false") {
        return Add({Op::kLiteral, Value(name == "true"), {}, {}, nullptr});
      }
      SkipSpace();
      if (pos_ < text_.size() && text_[pos_] == '(') return Call(std::move(name), start);
      if (!KnownVariable(name)) {
        Fail(start,
             "unknown name '" + name +
                 "'; expected attr.NAME, contact.caller|called|channel|language|id, "
                 "time.hour|minute|weekday|date" +
                 std::string(names_.queue_stats ? ", queue.estimated_wait|agents_available|waiting|"
                                                  "position"
                                                : "") +
                 " or a quoted string");
        return 0;
      }
      return Add({Op::kVariable, {}, std::move(name), {}, nullptr});
    }
    Fail(start, "unexpected '" + std::string(1, c) + "'");
    return 0;
  }

  bool KnownVariable(std::string_view name) const {
    const size_t dot = name.find('.');
    if (dot == std::string_view::npos || dot + 1 >= name.size()) return false;
    const std::string_view head = name.substr(0, dot), tail = name.substr(dot + 1);
    if (head == "attr") return true;
    if (head == "contact") return In(kContactVars, tail);
    if (head == "time") return In(kTimeVars, tail);
    if (head == "queue") return names_.queue_stats && In(kQueueVars, tail);
    return false;
  }

  int Call(std::string name, size_t start) {
    const Function* fn = nullptr;
    for (const auto& f : kFunctions) {
      if (f.name == name) fn = &f;
    }
    if (!fn) {
      Fail(start, "unknown function '" + name +
                      "'; expected len, matches, contains, lower, upper, number, open or holiday");
      return 0;
    }
    ++pos_;  // '('
    Expr::Node node{Op::kCall, {}, name, {}, nullptr};
    std::vector<size_t> arg_pos;
    SkipSpace();
    if (!Eat(")")) {
      do {
        SkipSpace();
        arg_pos.push_back(pos_);
        node.args.push_back(Or());
      } while (!failed_ && Eat(","));
      if (!failed_ && !Eat(")")) Fail(pos_, "expected ',' or ')'");
    }
    if (failed_) return 0;
    if (static_cast<int>(node.args.size()) != fn->arity) {
      Fail(start, name + "() takes " + std::to_string(fn->arity) + " argument(s), got " +
                      std::to_string(node.args.size()));
      return 0;
    }
    const auto literal_string = [&](int i) -> const std::string* {
      const auto& n = out_->nodes_[node.args[i]];
      return n.op == Op::kLiteral ? std::get_if<std::string>(&n.literal) : nullptr;
    };
    if (name == "matches") {
      const std::string* pattern = literal_string(1);
      if (!pattern) {
        Fail(arg_pos[1], "the pattern of matches() must be a quoted string");
        return 0;
      }
      try {
        node.regex = std::make_shared<const std::regex>(*pattern, std::regex::ECMAScript);
      } catch (const std::regex_error&) {
        Fail(arg_pos[1],
             "bad pattern '" + *pattern + "': not a valid ECMAScript regular expression");
        return 0;
      }
    }
    if (name == "open" || name == "holiday") {
      const std::string* schedule = literal_string(0);
      if (!schedule) {
        Fail(arg_pos[0], name + "() takes a schedule name as a quoted string");
        return 0;
      }
      if (std::find(names_.schedules.begin(), names_.schedules.end(), *schedule) ==
          names_.schedules.end()) {
        Fail(arg_pos[0], "unknown schedule '" + *schedule + "'");
        return 0;
      }
    }
    return Add(std::move(node));
  }

  std::string_view text_;
  const ExprNames& names_;
  Expr* out_;
  ExprError* error_;
  size_t pos_ = 0;
  bool failed_ = false;
};

std::optional<Expr> Expr::Parse(std::string_view text, const ExprNames& names, ExprError* error) {
  Expr expr;
  expr.text_ = std::string(text);
  ExprParser parser(expr.text_, names, &expr, error);
  if (!parser.Run()) return std::nullopt;
  return expr;
}

Value Expr::Evaluate(const ExprScope& scope) const { return Eval(root_, scope); }

Value Expr::Eval(int index, const ExprScope& scope) const {
  const Node& n = nodes_[index];
  const auto arg = [&](size_t i) { return Eval(n.args[i], scope); };
  const auto compare = [&](const Value& a, const Value& b) -> int {
    auto na = AsNumber(a), nb = AsNumber(b);
    if (na && nb) return *na < *nb ? -1 : (*na > *nb ? 1 : 0);
    const std::string sa = ValueText(a), sb = ValueText(b);
    return sa < sb ? -1 : (sa > sb ? 1 : 0);
  };
  switch (n.op) {
    case Op::kLiteral:
      return n.literal;
    case Op::kVariable:
      return scope.Variable(n.name);
    case Op::kNot:
      return !Truthy(arg(0));
    case Op::kNeg:
      return -AsNumber(arg(0)).value_or(0);
    case Op::kAnd:
      return Truthy(arg(0)) && Truthy(arg(1));
    case Op::kOr:
      return Truthy(arg(0)) || Truthy(arg(1));
    case Op::kEq:
      return compare(arg(0), arg(1)) == 0;
    case Op::kNe:
      return compare(arg(0), arg(1)) != 0;
    case Op::kLt:
      return compare(arg(0), arg(1)) < 0;
    case Op::kLe:
      return compare(arg(0), arg(1)) <= 0;
    case Op::kGt:
      return compare(arg(0), arg(1)) > 0;
    case Op::kGe:
      return compare(arg(0), arg(1)) >= 0;
    case Op::kAdd: {
      Value a = arg(0), b = arg(1);
      auto na = AsNumber(a), nb = AsNumber(b);
      if (na && nb) return *na + *nb;
      return ValueText(a) + ValueText(b);
    }
    case Op::kSub:
      return AsNumber(arg(0)).value_or(0) - AsNumber(arg(1)).value_or(0);
    case Op::kMul:
      return AsNumber(arg(0)).value_or(0) * AsNumber(arg(1)).value_or(0);
    case Op::kDiv: {
      const double d = AsNumber(arg(1)).value_or(0);
      return d == 0 ? 0.0 : AsNumber(arg(0)).value_or(0) / d;
    }
    case Op::kCall:
      break;
  }
  const std::string& f = n.name;
  if (f == "len") return static_cast<double>(ValueText(arg(0)).size());
  if (f == "matches") return std::regex_match(ValueText(arg(0)), *n.regex);
  if (f == "contains") return ValueText(arg(0)).find(ValueText(arg(1))) != std::string::npos;
  if (f == "lower" || f == "upper") {
    std::string s = ValueText(arg(0));
    for (char& c : s) {
      c = static_cast<char>(f == "lower" ? std::tolower(static_cast<unsigned char>(c))
                                         : std::toupper(static_cast<unsigned char>(c)));
    }
    return s;
  }
  if (f == "number") return AsNumber(arg(0)).value_or(0);
  const std::string schedule = ValueText(arg(0));
  if (f == "open") return scope.ScheduleOpen(schedule);
  return scope.ScheduleHoliday(schedule);
}

}  // namespace parley::flow
