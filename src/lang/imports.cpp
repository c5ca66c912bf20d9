// Resolution of a kernel file's imports (imports.h): which names they bind, what each stands for,
// and the located error for a kernel that uses one the kernel language does not understand.
#include "lang/imports.h"

#include "lang/known.h"

namespace jagtile::lang {

std::map<std::string, ImportedName> imported_names(const ast::Module& m) {
  std::map<std::string, ImportedName> out;
  for (const auto& [name, path] : default_modules()) out[name] = ImportedName{path, true, {}};
  for (const auto& s : m.body) {
    if (s->kind != ast::StmtKind::import) continue;
    for (size_t i = 0; i < s->import_names.size() && i < s->import_targets.size(); ++i) {
      const std::string& name = s->import_names[i];
      if (name == "*") continue;
      const std::string& target = s->import_targets[i];
      out[name] = ImportedName{target, is_language_module(target), s->pos};
    }
  }
  return out;
}

namespace {

std::string trimmed_line(const ast::Module& m, int line) {
  if (line < 1 || size_t(line) > m.lines.size()) return "";
  const std::string& text = m.lines[size_t(line) - 1];
  size_t b = text.find_first_not_of(" \t");
  size_t e = text.find_last_not_of(" \t\r");
  return b == std::string::npos ? "" : text.substr(b, e - b + 1);
}

// The kernel-language function or constant spelt `module.member` for a foreign module's member
// of the same name ("torch.exp" for np.exp), or "".
std::string language_equivalent(const std::string& member) {
  if (member.empty()) return "";
  for (const char* module : {"torch.", "F.", "hl.", "math."}) {
    std::string c = module + member;
    if (is_known_function(c) || is_known_constant(c)) return c;
  }
  return "";
}

}  // namespace

UserError foreign_import_error(const ast::Module& m, ast::Pos use, const std::string& name,
                               const ImportedName& imported, const std::string& member) {
  std::string where = "'" + name + "' comes from '" + trimmed_line(m, imported.pos.line) +
                      "' on line " + std::to_string(imported.pos.line);
  // `from helion.language import tile`: a member of a language module, imported by itself.
  std::string canonical = canonical_member(imported.target);
  if (!canonical.empty() && (is_known_function(canonical) || is_known_constant(canonical))) {
    return ast::error_at(m, use,
                         where + ": kernels use a module's functions only through the module",
                         "write " + canonical + " instead of " + name + ", with '" +
                             import_line_for(canonical) + "' at the top of the file");
  }
  std::string message = where + ", and kernels cannot use '" + imported.target + "'";
  std::string hint =
      "kernels understand torch, torch.nn.functional, helion, helion.language and math (under "
      "any alias)";
  std::string equivalent = language_equivalent(member);
  if (!equivalent.empty()) {
    hint += "; write " + equivalent + " instead of " + name + "." + member;
  } else {
    hint += "; compute with their functions, or move this code out of the kernel";
  }
  return ast::error_at(m, use, message, hint);
}

}  // namespace jagtile::lang
