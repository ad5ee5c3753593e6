#include "lra/dist/communicator.h"

#include <cmath>
#include <cstdint>
#include <cstring>
#include <random>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "lra/dist/thread_communicator.h"
#include "lra/dist/tree_reduce.h"

namespace lra {
namespace {

using ::testing::HasSubstr;

bool SameBits(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() &&
         (a.empty() ||
          std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0);
}

// Values over many magnitudes, so that sums in different orders round
// differently.
std::vector<std::vector<float>> WideLeaves(int leaves, int count,
                                           uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> mantissa(-1.0f, 1.0f);
  std::uniform_int_distribution<int> exponent(-12, 12);
  std::vector<std::vector<float>> out(leaves, std::vector<float>(count));
  for (auto& leaf : out) {
    for (float& x : leaf) x = std::ldexp(mantissa(rng), exponent(rng));
  }
  return out;
}

std::vector<float> TreeSumOf(const std::vector<std::vector<float>>& leaves,
                             int lo, int hi) {
  const int count = leaves.empty() ? 0 : leaves[0].size();
  TreeSum tree(count, hi - lo);
  std::vector<float> out(count);
  tree.Sum(
      [&](int leaf, float* dst) {
        // With count 0 both pointers may be null, and memcpy from or to a
        // null pointer is undefined even for 0 bytes (UBSan reports it).
        if (count == 0) return;
        std::memcpy(dst, leaves[lo + leaf].data(), count * sizeof(float));
      },
      out.data());
  return out;
}

TEST(SingleProcessTest, OneRankAndCollectivesLeaveDataAlone) {
  Communicator& comm = SingleProcess();
  EXPECT_EQ(comm.rank(), 0);
  EXPECT_EQ(comm.size(), 1);
  float data[3] = {1, 2, 3};
  ASSERT_TRUE(comm.AllReduceSum(data, 3).ok());
  EXPECT_EQ(data[2], 3);
  std::vector<uint64_t> values;
  ASSERT_TRUE(comm.AllGather(7, &values).ok());
  EXPECT_EQ(values, std::vector<uint64_t>{7});
  EXPECT_TRUE(comm.Broadcast(data, sizeof(data), 0).ok());
  EXPECT_FALSE(comm.Broadcast(data, sizeof(data), 1).ok());
  const absl::Status local = absl::NotFoundError("x");
  EXPECT_EQ(AgreeOnStatus(comm, local), local);
  EXPECT_TRUE(CheckSameOnAllRanks(comm, 5, "parameters").ok());
}

TEST(HashFloatsTest, EveryBitCounts) {
  std::vector<float> a = {1.0f, -2.5f, 3.25f, 0.0f};
  const uint64_t h = HashFloats(a.data(), a.size(), 0);
  EXPECT_EQ(h, HashFloats(a.data(), a.size(), 0));
  EXPECT_NE(h, HashFloats(a.data(), a.size(), 1));
  EXPECT_NE(h, HashFloats(a.data(), a.size() - 1, 0));
  std::vector<float> b = a;
  b[3] = -0.0f;  // Equal as floats, different bits.
  EXPECT_NE(h, HashFloats(b.data(), b.size(), 0));
  b = a;
  uint32_t bits;
  std::memcpy(&bits, &b[1], 4);
  bits ^= 1;
  std::memcpy(&b[1], &bits, 4);
  EXPECT_NE(h, HashFloats(b.data(), b.size(), 0));
}

TEST(TreeSumTest, BalancedPairwiseOrder) {
  // (1e8 + 3) + (-1e8 + 3) is 0 in float (floats near 1e8 are 8 apart, so
  // each pair rounds to +-1e8). Left to right it would be 3.
  const std::vector<std::vector<float>> leaves = {
      {1e8f}, {3.0f}, {-1e8f}, {3.0f}};
  EXPECT_EQ(TreeSumOf(leaves, 0, 4)[0], 0.0f);
  // Three leaves: [0, 1) + [1, 3): 3 + (1e8 + -1e8) = 3, where left to
  // right (3 + 1e8) + -1e8 = 0.
  const std::vector<std::vector<float>> three = {{3.0f}, {1e8f}, {-1e8f}};
  EXPECT_EQ(TreeSumOf(three, 0, 3)[0], 3.0f);
}

// The last leaf finished in parts, from the top down as the trainer's
// buckets are (some parts during the leaf's call, the rest after Sum):
// the same bits as Sum adding it at once.
TEST(TreeSumTest, LastLeafInPartsIsTheSameSum) {
  const int count = 37;
  for (int leaves = 1; leaves <= 9; ++leaves) {
    const auto inputs = WideLeaves(leaves, count, 100 + leaves);
    const std::vector<float> want = TreeSumOf(inputs, 0, leaves);
    TreeSum tree(count, leaves);
    std::vector<float> out(count);
    tree.Sum(
        [&](int leaf, float* dst) {
          if (leaf < leaves - 1) {
            std::memcpy(dst, inputs[leaf].data(), count * sizeof(float));
            return;
          }
          // Parts [30, 37), [12, 30) now; [0, 12) after Sum.
          for (auto [lo, hi] : {std::pair<int, int>{30, 37}, {12, 30}}) {
            std::memcpy(dst + lo, inputs[leaf].data() + lo,
                        (hi - lo) * sizeof(float));
            tree.FinishLastLeaf(lo, hi);
          }
          std::memcpy(dst, inputs[leaf].data(), 12 * sizeof(float));
        },
        out.data(), /*last_in_parts=*/true);
    tree.FinishLastLeaf(0, 12);
    EXPECT_TRUE(SameBits(out, want)) << leaves << " leaves";
  }
}

TEST(TreeSumTest, LeavesComputedOnceInOrder) {
  std::vector<int> calls;
  TreeSum tree(2, 5);
  std::vector<float> out(2);
  tree.Sum(
      [&](int leaf, float* dst) {
        calls.push_back(leaf);
        dst[0] = leaf;
        dst[1] = 1;
      },
      out.data());
  EXPECT_EQ(calls, (std::vector<int>{0, 1, 2, 3, 4}));
  EXPECT_EQ(out[0], 10);
  EXPECT_EQ(out[1], 5);
}

// Every rank's buffer after TreeAllReduceSum over `size` thread ranks.
std::vector<std::vector<float>> AllReduceOnThreads(
    const std::vector<std::vector<float>>& inputs) {
  const int size = inputs.size();
  ThreadGroup group(size);
  std::vector<std::vector<float>> outputs = inputs;
  std::vector<absl::Status> statuses(size);
  group.Run([&](int rank) {
    ThreadCommunicator comm(&group, rank);
    statuses[rank] =
        comm.AllReduceSum(outputs[rank].data(), outputs[rank].size());
  });
  for (const absl::Status& status : statuses) EXPECT_TRUE(status.ok());
  return outputs;
}

TEST(TreeAllReduceTest, PowerOfTwoRanksSumInTheTreeOrder) {
  for (int size : {1, 2, 4, 8}) {
    for (int count : {0, 1, 3, 7, 64, 1001}) {
      const auto inputs = WideLeaves(size, count, 100 * size + count);
      const auto outputs = AllReduceOnThreads(inputs);
      const std::vector<float> want = TreeSumOf(inputs, 0, size);
      for (int r = 0; r < size; ++r) {
        EXPECT_TRUE(SameBits(outputs[r], want))
            << "rank " << r << " of " << size << ", count " << count;
      }
    }
  }
}

TEST(TreeAllReduceTest, OtherRankCountsAgreeAcrossRanks) {
  for (int size : {3, 5, 6, 7}) {
    const int count = 257;
    const auto inputs = WideLeaves(size, count, size);
    const auto outputs = AllReduceOnThreads(inputs);
    for (int i = 0; i < count; ++i) {
      double exact = 0;
      for (int r = 0; r < size; ++r) exact += inputs[r][i];
      EXPECT_NEAR(outputs[0][i], exact, 1e-2) << "size " << size;
    }
    for (int r = 1; r < size; ++r) {
      EXPECT_TRUE(SameBits(outputs[r], outputs[0])) << "rank " << r;
    }
  }
}

// The trainer's scheme: M micro-batch gradients, P ranks each summing its
// contiguous M / P in the tree, then the all-reduce: the same bits for every
// P, and the same as one rank summing all M.
TEST(TreeAllReduceTest, MicroBatchesOverRanksEqualOneRank) {
  const int leaves = 8, count = 513;
  const auto micro = WideLeaves(leaves, count, 42);
  const std::vector<float> one_rank = TreeSumOf(micro, 0, leaves);
  for (int size : {2, 4, 8}) {
    const int per_rank = leaves / size;
    std::vector<std::vector<float>> partial(size);
    for (int r = 0; r < size; ++r) {
      partial[r] = TreeSumOf(micro, r * per_rank, (r + 1) * per_rank);
    }
    const auto outputs = AllReduceOnThreads(partial);
    for (int r = 0; r < size; ++r) {
      EXPECT_TRUE(SameBits(outputs[r], one_rank))
          << "rank " << r << " of " << size;
    }
  }
  // The check can fail: a left-to-right sum of the same leaves differs.
  std::vector<float> sequential(count, 0.0f);
  for (const auto& leaf : micro) {
    for (int i = 0; i < count; ++i) sequential[i] += leaf[i];
  }
  EXPECT_FALSE(SameBits(sequential, one_rank));
}

TEST(TreeAllReduceTest, DoublesToo) {
  ThreadGroup group(4);
  std::vector<std::vector<double>> data(4, std::vector<double>(5));
  for (int r = 0; r < 4; ++r) {
    for (int i = 0; i < 5; ++i) data[r][i] = r * 10 + i;
  }
  group.Run([&](int rank) {
    ThreadCommunicator comm(&group, rank);
    EXPECT_TRUE(comm.AllReduceSum(data[rank].data(), 5).ok());
  });
  for (int r = 0; r < 4; ++r) {
    for (int i = 0; i < 5; ++i) EXPECT_EQ(data[r][i], 60 + 4 * i);
  }
}

TEST(AgreeOnStatusTest, LowestFailingRankWinsEverywhere) {
  ThreadGroup group(3);
  std::vector<absl::Status> agreed(3);
  group.Run([&](int rank) {
    ThreadCommunicator comm(&group, rank);
    absl::Status local =
        rank == 0 ? absl::OkStatus()
                  : absl::NotFoundError(absl::StrCat("file of rank ", rank));
    agreed[rank] = AgreeOnStatus(comm, local);
  });
  for (const absl::Status& status : agreed) {
    EXPECT_EQ(status.code(), absl::StatusCode::kNotFound);
    EXPECT_EQ(status.message(), "on rank 1: file of rank 1");
  }
  group.Run([&](int rank) {
    ThreadCommunicator comm(&group, rank);
    agreed[rank] = AgreeOnStatus(comm, absl::OkStatus());
  });
  for (const absl::Status& status : agreed) EXPECT_TRUE(status.ok());
}

TEST(CheckSameOnAllRanksTest, NamesEveryRanksHash) {
  ThreadGroup group(2);
  std::vector<absl::Status> checked(2);
  group.Run([&](int rank) {
    ThreadCommunicator comm(&group, rank);
    checked[rank] = CheckSameOnAllRanks(comm, rank == 0 ? 0xab : 0xcd,
                                        "parameters at step 4");
  });
  for (const absl::Status& status : checked) {
    EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition);
    EXPECT_THAT(status.message(), HasSubstr("parameters at step 4 differ"));
    EXPECT_THAT(status.message(), HasSubstr("rank 1: 00000000000000cd"));
  }
  group.Run([&](int rank) {
    ThreadCommunicator comm(&group, rank);
    checked[rank] = CheckSameOnAllRanks(comm, 7, "parameters");
  });
  for (const absl::Status& status : checked) EXPECT_TRUE(status.ok());
}

TEST(BroadcastStringTest, FromAnyRoot) {
  ThreadGroup group(3);
  std::vector<std::string> text(3);
  group.Run([&](int rank) {
    ThreadCommunicator comm(&group, rank);
    if (rank == 2) text[rank] = "from two";
    EXPECT_TRUE(BroadcastString(comm, &text[rank], 2).ok());
  });
  for (const std::string& t : text) EXPECT_EQ(t, "from two");
}

}  // namespace
}  // namespace lra
