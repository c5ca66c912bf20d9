// Parser and printer for the Python dict literal in a .npy header. Accepts the subset numpy
// writes (strings, True/False/None, integers, tuples, lists) plus comments, which jagtile uses to
// mark bfloat16 data without breaking numpy's own reader.
#include "core/npy_header.h"

#include <cctype>
#include <stdexcept>

namespace jagtile::core_detail {
namespace {

struct PyValue {
  enum class Kind { string, integer, boolean, none, sequence } kind = Kind::none;
  std::string text;
  int64_t integer = 0;
  bool boolean = false;
  std::vector<PyValue> items;
};

class HeaderParser {
 public:
  explicit HeaderParser(const std::string& text) : s_(text) {}

  NpyHeader parse() {
    NpyHeader header;
    bool have_descr = false, have_order = false, have_shape = false;
    expect('{');
    while (!peek_is('}')) {
      PyValue key = value();
      if (key.kind != PyValue::Kind::string) fail("dict keys must be strings");
      expect(':');
      PyValue v = value();
      if (key.text == "descr") {
        if (v.kind == PyValue::Kind::sequence) {
          fail("structured dtypes (a list as 'descr') are not supported");
        }
        if (v.kind != PyValue::Kind::string) fail("'descr' must be a string");
        header.descr = v.text;
        have_descr = true;
      } else if (key.text == "fortran_order") {
        if (v.kind != PyValue::Kind::boolean) fail("'fortran_order' must be True or False");
        header.fortran_order = v.boolean;
        have_order = true;
      } else if (key.text == "shape") {
        if (v.kind != PyValue::Kind::sequence) fail("'shape' must be a tuple");
        for (const PyValue& d : v.items) {
          if (d.kind != PyValue::Kind::integer) fail("'shape' must hold integers");
          if (d.integer < 0) fail("'shape' has a negative dimension");
          header.shape.push_back(d.integer);
        }
        have_shape = true;
      } else if (key.text == "jagtile_dtype") {
        if (v.kind != PyValue::Kind::string) fail("'jagtile_dtype' must be a string");
        header.jagtile_dtype = v.text;
      }
      // Other keys are ignored: they cannot change how the bytes are laid out.
      if (!peek_is(',')) break;
      expect(',');
    }
    expect('}');
    skip_space();
    if (pos_ != s_.size()) fail("unexpected text after the dict");
    if (!have_descr) fail("the 'descr' key is missing");
    if (!have_order) fail("the 'fortran_order' key is missing");
    if (!have_shape) fail("the 'shape' key is missing");
    if (!header.jagtile_dtype) header.jagtile_dtype = marker_from_comments();
    return header;
  }

 private:
  [[noreturn]] void fail(const std::string& why) {
    throw std::invalid_argument(why + " (at offset " + std::to_string(pos_) + ")");
  }

  void skip_space() {
    while (pos_ < s_.size()) {
      char c = s_[pos_];
      if (c == '#') {
        size_t end = s_.find('\n', pos_);
        if (end == std::string::npos) end = s_.size();
        comments_.push_back(s_.substr(pos_ + 1, end - pos_ - 1));
        pos_ = end;
      } else if (std::isspace(static_cast<unsigned char>(c))) {
        ++pos_;
      } else {
        break;
      }
    }
  }

  bool peek_is(char c) {
    skip_space();
    return pos_ < s_.size() && s_[pos_] == c;
  }

  void expect(char c) {
    if (!peek_is(c)) fail(std::string("expected '") + c + "'");
    ++pos_;
  }

  PyValue value() {
    skip_space();
    if (pos_ >= s_.size()) fail("unexpected end of header");
    char c = s_[pos_];
    if (c == '\'' || c == '"') return string_value(c);
    if (c == '(' || c == '[') return sequence_value(c == '(' ? ')' : ']');
    if (c == '-' || c == '+' || std::isdigit(static_cast<unsigned char>(c))) return integer_value();
    if (std::isalpha(static_cast<unsigned char>(c))) {
      size_t start = pos_;
      while (pos_ < s_.size() && std::isalnum(static_cast<unsigned char>(s_[pos_]))) ++pos_;
      std::string word = s_.substr(start, pos_ - start);
      PyValue v;
      if (word == "True" || word == "False") {
        v.kind = PyValue::Kind::boolean;
        v.boolean = word == "True";
      } else if (word != "None") {
        pos_ = start;
        fail("unknown name '" + word + "'");
      }
      return v;
    }
    fail(std::string("unexpected character '") + c + "'");
  }

  PyValue string_value(char quote) {
    PyValue v;
    v.kind = PyValue::Kind::string;
    ++pos_;
    while (pos_ < s_.size() && s_[pos_] != quote) {
      if (s_[pos_] == '\\' && pos_ + 1 < s_.size()) ++pos_;
      v.text += s_[pos_++];
    }
    if (pos_ >= s_.size()) fail("unterminated string");
    ++pos_;
    return v;
  }

  PyValue integer_value() {
    size_t start = pos_;
    bool negative = false;
    if (s_[pos_] == '-' || s_[pos_] == '+') negative = s_[pos_++] == '-';
    if (pos_ >= s_.size() || !std::isdigit(static_cast<unsigned char>(s_[pos_]))) {
      pos_ = start;
      fail("malformed integer");
    }
    uint64_t magnitude = 0;
    while (pos_ < s_.size() && std::isdigit(static_cast<unsigned char>(s_[pos_]))) {
      magnitude = magnitude * 10 + uint64_t(s_[pos_++] - '0');
      if (magnitude > uint64_t(INT64_MAX)) {
        pos_ = start;
        fail("integer too large");
      }
    }
    if (pos_ < s_.size() && (s_[pos_] == 'L' || s_[pos_] == 'l')) ++pos_;  // Python 2 longs
    PyValue v;
    v.kind = PyValue::Kind::integer;
    v.integer = negative ? -int64_t(magnitude) : int64_t(magnitude);
    return v;
  }

  PyValue sequence_value(char close) {
    PyValue v;
    v.kind = PyValue::Kind::sequence;
    ++pos_;
    while (!peek_is(close)) {
      v.items.push_back(value());
      if (!peek_is(',')) break;
      expect(',');
    }
    expect(close);
    return v;
  }

  // Finds "jagtile_dtype" followed by ':' and a (possibly quoted) word in a comment.
  std::optional<std::string> marker_from_comments() {
    for (const std::string& comment : comments_) {
      size_t at = comment.find("jagtile_dtype");
      if (at == std::string::npos) continue;
      size_t colon = comment.find(':', at);
      if (colon == std::string::npos) continue;
      std::string word;
      for (size_t i = colon + 1; i < comment.size(); ++i) {
        char c = comment[i];
        if (std::isalnum(static_cast<unsigned char>(c)) || c == '_') {
          word += c;
        } else if (!word.empty()) {
          break;
        }
      }
      if (!word.empty()) return word;
    }
    return std::nullopt;
  }

  const std::string& s_;
  size_t pos_ = 0;
  std::vector<std::string> comments_;
};

}  // namespace

NpyHeader parse_npy_header(const std::string& text) {
  return HeaderParser(text).parse();
}

std::string render_npy_header(const NpyHeader& header) {
  std::string shape = "(";
  for (size_t i = 0; i < header.shape.size(); ++i) {
    if (i) shape += ", ";
    shape += std::to_string(header.shape[i]);
  }
  if (header.shape.size() == 1) shape += ",";
  shape += ")";
  std::string text = "{'descr': '" + header.descr +
                     "', 'fortran_order': " + (header.fortran_order ? "True" : "False") +
                     ", 'shape': " + shape + ", }";
  if (header.jagtile_dtype) text += " # 'jagtile_dtype': '" + *header.jagtile_dtype + "'";
  return text;
}

}  // namespace jagtile::core_detail
