// "Did you mean ...?": the edit distance and the closest-name rule that every user-facing
// suggestion uses (the kernel checker, argument binding, the command-line tool).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace jagtile {

// Levenshtein distance: the fewest single-character insertions, deletions and substitutions
// that turn `a` into `b`.
size_t edit_distance(std::string_view a, std::string_view b);

// How closest_name compares a word with its candidates.
struct NameMatch {
  // A candidate further than this is never suggested.
  size_t max_distance = 2;
  // Compare case-insensitively, with '_' and '-' alike (command-line options, "--max_len").
  bool fold_case_and_dashes = false;
  // When the word has no '.', compare it with the last component of a dotted candidate
  // ("zeros" against "hl.zeros"); the suggestion is still the whole candidate.
  bool last_component = false;
  // Reject a candidate whose distance is not below the word's length (every character of the
  // word would change: "x" is not a typo of "y").
  bool shorter_than_word = false;
};

// The first of the candidates nearest to `word` under `rule`, or "" when none is close enough.
std::string closest_name(std::string_view word, const std::vector<std::string>& candidates,
                         const NameMatch& rule = {});

}  // namespace jagtile
