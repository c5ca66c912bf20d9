// closest_name and edit_distance (jagtile/names.h): the distance itself, and each rule the
// checker, argument binding and the command-line tool rely on for "did you mean".
#include "jagtile/names.h"

#include <gtest/gtest.h>

namespace jagtile {
namespace {

TEST(Names, EditDistanceCountsInsertionsDeletionsAndSubstitutions) {
  EXPECT_EQ(edit_distance("kitten", "sitting"), 3u);
  EXPECT_EQ(edit_distance("", "abc"), 3u);
  EXPECT_EQ(edit_distance("abc", ""), 3u);
  EXPECT_EQ(edit_distance("same", "same"), 0u);
  EXPECT_EQ(edit_distance("ab", "ba"), 2u);  // a swap is two edits
}

TEST(Names, ClosestIsTheFirstNearestWithinTwoEdits) {
  EXPECT_EQ(closest_name("x_offset", {"x_values", "x_offsets"}), "x_offsets");
  EXPECT_EQ(closest_name("abcd", {"abxy", "abzz"}), "abxy");  // ties: the first wins
  EXPECT_EQ(closest_name("values", {"offsets", "counts"}), "");
  EXPECT_EQ(closest_name("anything", {}), "");
}

TEST(Names, MaxDistanceBoundsTheSuggestion) {
  NameMatch strict;
  strict.max_distance = 1;
  EXPECT_EQ(closest_name("bech", {"bench"}, strict), "bench");
  EXPECT_EQ(closest_name("bnch", {"bench"}, strict), "bench");
  EXPECT_EQ(closest_name("bh", {"bench"}, strict), "");
}

TEST(Names, FoldingTreatsCaseAndDashesAlike) {
  NameMatch cli;
  cli.fold_case_and_dashes = true;
  EXPECT_EQ(closest_name("--MAX_LEN_X", {"--max-len", "--batch"}, cli), "--max-len");
  EXPECT_EQ(closest_name("--MAX_LEN_X", {"--max-len", "--batch"}), "");  // without folding
}

TEST(Names, LastComponentComparesPlainWordsWithDottedCandidates) {
  NameMatch lang;
  lang.last_component = true;
  EXPECT_EQ(closest_name("zero", {"hl.zeros", "torch.exp"}, lang), "hl.zeros");
  EXPECT_EQ(closest_name("zero", {"hl.zeros", "torch.exp"}), "");
  // A dotted word is compared with whole candidates.
  EXPECT_EQ(closest_name("hl.zero", {"hl.zeros"}, lang), "hl.zeros");
}

TEST(Names, ShorterThanWordRejectsReplacingTheWholeWord) {
  NameMatch typo;
  typo.shorter_than_word = true;
  EXPECT_EQ(closest_name("x", {"y"}), "y");
  EXPECT_EQ(closest_name("x", {"y"}, typo), "");
  EXPECT_EQ(closest_name("ab", {"ax"}, typo), "ax");
}

}  // namespace
}  // namespace jagtile
