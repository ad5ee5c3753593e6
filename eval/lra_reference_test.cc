#include "eval/lra_reference.h"

#include <cmath>
#include <string>
#include <utility>
#include <vector>

#include "gtest/gtest.h"

namespace lra {
namespace {

// The transcribed Table 1 must agree with itself: each published average is
// the mean of its five accuracies (to the paper's rounding). Sinkhorn is the
// exception as published: its row averages 51.48 but the table says 51.39;
// we show the published figure.
TEST(LraReferenceTest, Table1AveragesMatchTheirRows) {
  ASSERT_EQ(LraTable1().size(), 11u);
  for (const LraAccuracyRow& row : LraTable1()) {
    ASSERT_EQ(row.accuracy.size(), LraTaskNames().size()) << row.model;
    double sum = 0;
    for (double value : row.accuracy) sum += value;
    double tolerance = row.model == "Sinkhorn" ? 0.09 : 0.011;
    EXPECT_NEAR(sum / row.accuracy.size(), row.average, tolerance) << row.model;
  }
  EXPECT_EQ(LraTable1()[0].model, "Transformer");
  EXPECT_DOUBLE_EQ(LraTable1()[0].accuracy[0], 36.37);
}

// Every attention variant of the fixed-pattern (issue 3) and the low-rank,
// kernel and learnable-pattern families (issue 10) has its row in the
// paper's Table 1, and in Table 2 where the paper measured it; every row of
// both tables is some variant's. A renamed row, a misspelt variant or a new
// paper row without a variant fails here.
TEST(LraReferenceTest, EveryVariantHasItsPaperRow) {
  const std::vector<std::pair<std::string, std::string>> expected = {
      {"full", "Transformer"},
      {"local", "Local Attention"},
      {"sparse_transformer", "Sparse Transformer"},
      {"longformer", "Longformer"},
      {"bigbird", "BigBird"},
      {"linformer", "Linformer"},
      {"performer", "Performer"},
      {"linear_transformer", "Linear Transformer"},
      {"synthesizer", "Synthesizer"},
      {"reformer", "Reformer"},
      {"sinkhorn", "Sinkhorn"},
  };
  for (const auto& [variant, paper] : expected) {
    EXPECT_EQ(LraPaperModel(variant), paper) << variant;
    const int row1 = LraTable1Row(variant);
    ASSERT_GE(row1, 0) << variant;
    EXPECT_EQ(LraTable1()[row1].model, paper) << variant;
    const int row2 = LraTable2Row(variant);
    if (variant == "sparse_transformer" || variant == "longformer") {
      EXPECT_EQ(row2, -1) << variant << ": Table 2 has no such row";
    } else {
      ASSERT_GE(row2, 0) << variant;
      EXPECT_EQ(LraTable2()[row2].model, paper) << variant;
    }
  }
  EXPECT_EQ(LraPaperVariants().size(), expected.size());
  for (const LraAccuracyRow& row : LraTable1()) {
    bool matched = false;
    for (const auto& [variant, paper] : expected) matched |= paper == row.model;
    EXPECT_TRUE(matched) << "Table 1 row " << row.model << " has no variant";
  }
  for (const LraEfficiencyRow& row : LraTable2()) {
    bool matched = false;
    for (const auto& [variant, paper] : expected) matched |= paper == row.model;
    EXPECT_TRUE(matched) << "Table 2 row " << row.model << " has no variant";
  }
  // Variants the paper did not run have no row, rather than a wrong one.
  for (const char* variant : {"nystromformer", "s4d", "lru", "Linformer"}) {
    EXPECT_EQ(LraPaperModel(variant), "") << variant;
    EXPECT_EQ(LraTable1Row(variant), -1) << variant;
    EXPECT_EQ(LraTable2Row(variant), -1) << variant;
  }
}

// Each state-space row carries its source; where all six tasks are verified
// the published six-task average is their mean, and the Transformer's
// six-task figure is its five tasks plus a failed Path-X counted as 50.
TEST(LraReferenceTest, SsmRowsAverageSixTasksWithSources) {
  ASSERT_GE(SsmReferenceResults().size(), 4u);
  for (const SsmReferenceRow& row : SsmReferenceResults()) {
    ASSERT_EQ(row.accuracy.size(), 6u) << row.model;
    EXPECT_FALSE(row.source.empty()) << row.model;
    double sum = 0;
    bool complete = true;
    for (double value : row.accuracy) {
      complete = complete && !std::isnan(value);
      sum += value;
    }
    if (complete)
      EXPECT_NEAR(sum / 6, row.six_task_average, 0.011) << row.model;
  }
  double sum = 50.0;
  for (double value : LraTable1()[0].accuracy) sum += value;
  EXPECT_NEAR(sum / 6, TransformerSixTaskAverage(), 0.005);
  const std::string md = SsmReferenceMarkdown();
  EXPECT_NE(md.find("*S5* (Smith et al. 2023"), std::string::npos);
  EXPECT_NE(md.find("SIX tasks"), std::string::npos);
  EXPECT_NE(md.find("| *98.58* |"), std::string::npos);
}

TEST(LraReferenceTest, Table2HasFourLengthsPerRow) {
  ASSERT_EQ(LraTable2Lengths().size(), 4u);
  for (const LraEfficiencyRow& row : LraTable2()) {
    EXPECT_EQ(row.steps_per_second.size(), 4u) << row.model;
    EXPECT_EQ(row.memory_gb.size(), 4u) << row.model;
  }
  // Full attention's memory grows with length; Transformer is the baseline.
  EXPECT_EQ(LraTable2()[0].model, "Transformer");
  EXPECT_DOUBLE_EQ(LraTable2()[0].memory_gb[3], 9.48);
}

TaskConfig Task(const std::string& name, int seq_len) {
  TaskConfig task;
  task.set_name(name);
  task.set_seq_len(seq_len);
  return task;
}

TEST(LraReferenceTest, OnlyExactLabelsWithLraLengthsCompare) {
  EXPECT_EQ(WhyNotLraComparable("listops", Task("listops", 2000)), "");
  EXPECT_EQ(WhyNotLraComparable("text", Task("text", 1000)), "");
  EXPECT_EQ(WhyNotLraComparable("text", Task("text", 4000)), "");
  EXPECT_EQ(WhyNotLraComparable("retrieval", Task("retrieval", 8000)), "");
  EXPECT_EQ(WhyNotLraComparable("pathfinder", Task("pathfinder", 1024)), "");

  std::string why = WhyNotLraComparable("listops-short", Task("listops", 64));
  EXPECT_NE(why.find("not one of LRA's tasks"), std::string::npos) << why;
  why = WhyNotLraComparable("listops", Task("listops", 500));
  EXPECT_NE(why.find("seq_len 500"), std::string::npos) << why;
  why = WhyNotLraComparable("image", Task("pathfinder", 1024));
  EXPECT_NE(why.find("names task 'pathfinder'"), std::string::npos) << why;
}

TEST(LraReferenceTest, TaskTitles) {
  EXPECT_EQ(LraTaskTitle("listops"), "ListOps");
  EXPECT_EQ(LraTaskTitle("pathfinder"), "Pathfinder");
  EXPECT_EQ(LraTaskTitle("recall"), "recall");
}

}  // namespace
}  // namespace lra
