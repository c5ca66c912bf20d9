// Edit distance and closest-name suggestions (jagtile/names.h).
#include "jagtile/names.h"

#include <algorithm>
#include <cctype>

namespace jagtile {

size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diag = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diag = up;
    }
  }
  return row[b.size()];
}

namespace {

std::string folded(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = c == '_' ? '-' : char(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

}  // namespace

std::string closest_name(std::string_view word, const std::vector<std::string>& candidates,
                         const NameMatch& rule) {
  const std::string key = rule.fold_case_and_dashes ? folded(word) : std::string(word);
  const bool dotted_word = word.find('.') != std::string_view::npos;
  std::string best;
  size_t best_distance = rule.max_distance + 1;
  for (const std::string& candidate : candidates) {
    std::string_view compared = candidate;
    if (rule.last_component && !dotted_word && compared.rfind('.') != std::string_view::npos) {
      compared = compared.substr(compared.rfind('.') + 1);
    }
    // The distance is at least the length difference: skip hopeless candidates cheaply, which
    // also keeps a huge misspelt word from costing word-length x candidate-length work.
    const size_t gap =
        key.size() > compared.size() ? key.size() - compared.size() : compared.size() - key.size();
    if (gap >= best_distance) continue;
    const size_t d = rule.fold_case_and_dashes ? edit_distance(key, folded(compared))
                                               : edit_distance(key, compared);
    if (d >= best_distance) continue;
    if (rule.shorter_than_word && d >= word.size()) continue;
    best_distance = d;
    best = candidate;
  }
  return best;
}

}  // namespace jagtile
