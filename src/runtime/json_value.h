// A small JSON value, reader and writer for the autotuner's store (the only JSON jagtile reads).
// The reader accepts standard JSON and reports the first error with its byte offset; it never
// throws on malformed input.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace jagtile::runtime {

struct JsonValue {
  enum class Kind : unsigned char { null, boolean, number, string, array, object };
  Kind kind = Kind::null;
  bool boolean = false;
  double number = 0;
  std::string string;
  std::vector<JsonValue> array;
  std::map<std::string, JsonValue> object;

  // The member `name` of an object (nullptr when absent or not an object).
  const JsonValue* find(const std::string& name) const;
  // Member accessors with a fallback for a missing or mistyped member.
  std::string str_or(const std::string& name, const std::string& fallback = {}) const;
  double num_or(const std::string& name, double fallback = 0) const;
};

// Parses `text`; on failure returns false with the reason and byte offset in *error.
bool parse_json(std::string_view text, JsonValue* out, std::string* error);

// A JSON string literal (quotes and escapes included).
std::string json_quote(std::string_view text);
// A number as JSON writes it (integers without a fraction, others with up to 17 digits).
std::string json_number(double v);

}  // namespace jagtile::runtime
