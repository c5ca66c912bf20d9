// Error types: renders UserError messages (location, source line with caret, hint) and the
// InternalError raised by JAGTILE_CHECK.
#include "jagtile/error.h"

#include <string_view>

namespace jagtile {
namespace {

// Strips one trailing "\n" or "\r\n" so a caller may pass a raw line from a file.
std::string_view strip_line_end(std::string_view line) {
  if (!line.empty() && line.back() == '\n') line.remove_suffix(1);
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  return line;
}

std::string render_located(const char* severity, const std::string& message,
                           const std::string& hint, const SourceLoc& loc,
                           const std::string& source_line) {
  std::string out;
  if (!loc.file.empty()) out += loc.file + ":";
  if (loc.line > 0) {
    out += std::to_string(loc.line) + ":";
    if (loc.column > 0) out += std::to_string(loc.column) + ":";
  }
  if (!out.empty()) out += " ";
  out += std::string(severity) + ": " + message;
  if (!source_line.empty()) {
    std::string_view line = strip_line_end(source_line);
    out += "\n";
    out += line;
    if (loc.column > 0) {
      // Copy tabs from the source so the caret lands under the right character whatever the
      // terminal's tab width is.
      std::string caret;
      for (int i = 0; i + 1 < loc.column; ++i) {
        caret += (size_t(i) < line.size() && line[size_t(i)] == '\t') ? '\t' : ' ';
      }
      out += "\n" + caret + "^";
    }
  }
  if (!hint.empty()) out += "\nhint: " + hint;
  return out;
}

}  // namespace

std::string render_warning(const std::string& message, const std::string& hint,
                           const SourceLoc& loc, const std::string& source_line) {
  return render_located("warning", message, hint, loc, source_line);
}

UserError::UserError(std::string message, std::string hint, SourceLoc loc, std::string source_line)
    : Error(render_located("error", message, hint, loc, source_line)),
      message_(std::move(message)),
      hint_(std::move(hint)),
      loc_(std::move(loc)) {}

InternalError::InternalError(const std::string& message)
    : Error("internal error: " + message + " (this is a bug in jagtile; please report it)") {}

namespace detail {
void internal_check_failed(const char* cond, const char* file, int line,
                           const std::string& message) {
  std::string text =
      std::string("check failed: ") + cond + " at " + file + ":" + std::to_string(line);
  if (!message.empty()) text += ": " + message;
  throw InternalError(text);
}
}  // namespace detail

}  // namespace jagtile
