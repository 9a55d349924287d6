#include "flow/json_flat.h"

#include <cctype>
#include <string>

namespace parley::flow {
namespace {

class JsonFlattener {
 public:
  JsonFlattener(std::string_view text, Attributes* out) : s_(text), out_(out) {}
  bool Run() {
    if (!Value("", 0)) return false;
    Space();
    return i_ == s_.size();
  }

 private:
  static constexpr int kMaxDepth = 32;
  void Space() {
    while (i_ < s_.size() && std::isspace(static_cast<unsigned char>(s_[i_]))) ++i_;
  }
  bool String(std::string* out) {
    if (i_ >= s_.size() || s_[i_] != '"') return false;
    ++i_;
    while (i_ < s_.size() && s_[i_] != '"') {
      char c = s_[i_++];
      if (c == '\\') {
        if (i_ >= s_.size()) return false;
        const char e = s_[i_++];
        switch (e) {
          case 'n':
            c = '\n';
            break;
          case 't':
            c = '\t';
            break;
          case 'r':
            c = '\r';
            break;
          case 'b':
            c = '\b';
            break;
          case 'f':
            c = '\f';
            break;
          case 'u': {
            if (i_ + 4 > s_.size()) return false;
            const unsigned code =
                static_cast<unsigned>(std::stoul(std::string(s_.substr(i_, 4)), nullptr, 16));
            i_ += 4;
            // UTF-8 for the basic plane; surrogate pairs are kept as two 3-byte sequences.
            if (code < 0x80) {
              out->push_back(static_cast<char>(code));
            } else if (code < 0x800) {
              out->push_back(static_cast<char>(0xC0 | (code >> 6)));
              out->push_back(static_cast<char>(0x80 | (code & 0x3F)));
            } else {
              out->push_back(static_cast<char>(0xE0 | (code >> 12)));
              out->push_back(static_cast<char>(0x80 | ((code >> 6) & 0x3F)));
              out->push_back(static_cast<char>(0x80 | (code & 0x3F)));
            }
            continue;
          }
          default:
            c = e;
        }
      }
      out->push_back(c);
    }
    if (i_ >= s_.size()) return false;
    ++i_;
    return true;
  }
  bool Value(const std::string& path, int depth) {
    if (depth > kMaxDepth) return false;
    Space();
    if (i_ >= s_.size()) return false;
    const auto join = [&](const std::string& k) { return path.empty() ? k : path + "." + k; };
    const char c = s_[i_];
    if (c == '{') {
      ++i_;
      Space();
      if (i_ < s_.size() && s_[i_] == '}') return ++i_, true;
      while (true) {
        Space();
        std::string key;
        if (!String(&key)) return false;
        Space();
        if (i_ >= s_.size() || s_[i_++] != ':') return false;
        if (!Value(join(key), depth + 1)) return false;
        Space();
        if (i_ < s_.size() && s_[i_] == ',') {
          ++i_;
          continue;
        }
        if (i_ < s_.size() && s_[i_] == '}') return ++i_, true;
        return false;
      }
    }
    if (c == '[') {
      ++i_;
      Space();
      if (i_ < s_.size() && s_[i_] == ']') return ++i_, true;
      for (int n = 0;; ++n) {
        if (!Value(join(std::to_string(n)), depth + 1)) return false;
        Space();
        if (i_ < s_.size() && s_[i_] == ',') {
          ++i_;
          continue;
        }
        if (i_ < s_.size() && s_[i_] == ']') return ++i_, true;
        return false;
      }
    }
    std::string scalar;
    if (c == '"') {
      if (!String(&scalar)) return false;
    } else {
      const size_t start = i_;
      while (i_ < s_.size() && (std::isalnum(static_cast<unsigned char>(s_[i_])) || s_[i_] == '-' ||
                                s_[i_] == '+' || s_[i_] == '.')) {
        ++i_;
      }
      scalar = std::string(s_.substr(start, i_ - start));
      if (scalar.empty()) return false;
      if (scalar == "null") scalar.clear();
    }
    out_->emplace_back(path, std::move(scalar));
    return true;
  }

  std::string_view s_;
  Attributes* out_;
  size_t i_ = 0;
};

}  // namespace

bool FlattenJson(std::string_view json, Attributes* out) {
  try {
    return JsonFlattener(json, out).Run();
  } catch (const std::exception&) {  // std::stoul on a bad \u escape
    return false;
  }
}

}  // namespace parley::flow
