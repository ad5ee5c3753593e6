#include "lra/dist/micro_batches.h"

#include <omp.h>

#include <cmath>
#include <cstring>
#include <memory>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "lra/dist/thread_communicator.h"
#include "models/builtin.h"

namespace lra {
namespace {

using ::testing::HasSubstr;

constexpr int kSeqLen = 6, kBatch = 8, kVocab = 10, kClasses = 3;

ModelConfig TinyModel(int layers = 1) {
  ModelConfig m;
  m.set_vocab_size(kVocab);
  m.set_d_model(8);
  m.set_num_layers(layers);
  m.set_num_heads(2);
  m.set_qkv_dim(8);
  m.set_mlp_dim(16);
  m.set_num_classes(kClasses);
  m.set_dropout(0.1f);  // Masks differ per micro-batch; the test sees them.
  m.set_positional(POSITIONAL_LEARNED);
  m.set_pooling(POOLING_MEAN);
  m.mutable_attention()->set_name("full");
  return m;
}

std::unique_ptr<Encoder> MakeEncoder(int max_batch, int layers = 1) {
  auto encoder = Encoder::Create(TinyModel(layers), {kSeqLen, max_batch, 1},
                                 BuiltinPlugins());
  EXPECT_TRUE(encoder.ok()) << encoder.status();
  (*encoder)->InitParameters(3);
  return std::move(*encoder);
}

// A fixed global batch: tokens [kBatch, kSeqLen] (padding at the end of
// some rows), labels [kBatch].
struct Batch {
  std::vector<int32_t> tokens, labels;
  Batch() : tokens(kBatch * kSeqLen), labels(kBatch) {
    for (int b = 0; b < kBatch; ++b) {
      labels[b] = (b * 7) % kClasses;
      for (int p = 0; p < kSeqLen; ++p) {
        tokens[b * kSeqLen + p] =
            p < kSeqLen - b % 3 ? 1 + (b * 5 + p * 3) % (kVocab - 1) : 0;
      }
    }
  }
  // Micro-batch m of size `size`.
  void Load(int m, int size, int32_t* t, int32_t* l) const {
    std::memcpy(t, tokens.data() + m * size * kSeqLen,
                size * kSeqLen * sizeof(int32_t));
    std::memcpy(l, labels.data() + m * size, size * sizeof(int32_t));
  }
};

std::vector<float> Grads(Encoder& encoder) {
  std::vector<float> out;
  encoder.ForEachParameter([&](const std::string&, Tensor&, Tensor& grad) {
    out.insert(out.end(), grad.data(), grad.data() + grad.size());
  });
  return out;
}

bool SameBits(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() &&
         std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

constexpr uint64_t kStepSeed = 0xabcdef;

TEST(CheckMicroBatchesTest, NamesTheField) {
  EXPECT_TRUE(CheckMicroBatches(32, 4, 2).ok());
  EXPECT_TRUE(CheckMicroBatches(32, 1, 1).ok());
  absl::Status status = CheckMicroBatches(32, 3, 1);
  EXPECT_THAT(status.message(), HasSubstr("train.micro_batches = 3"));
  EXPECT_THAT(status.message(), HasSubstr("train.batch_size = 32"));
  status = CheckMicroBatches(32, 1, 2);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(),
              HasSubstr("train.micro_batches = 1 is not divisible by the "
                        "number of MPI ranks, 2"));
  EXPECT_FALSE(CheckMicroBatches(32, 0, 1).ok());
}

// Two micro-batches on one rank: the gradient is (g0 + g1) / 2 of the two
// halves computed alone, bit for bit, and close to the whole batch's.
TEST(MicroBatchGradientTest, TwoOnOneRankIsTheTreeSum) {
  omp_set_num_threads(1);
  const Batch batch;
  const int micro = kBatch / 2;

  auto reference = MakeEncoder(micro);
  std::vector<std::vector<float>> halves;
  std::vector<float> losses;
  int correct_sum = 0;
  std::vector<int32_t> t(micro * kSeqLen), l(micro);
  for (int m = 0; m < 2; ++m) {
    batch.Load(m, micro, t.data(), l.data());
    reference->ZeroGrad();
    reference->Forward(t.data(), micro, true, MicroBatchSeed(kStepSeed, m));
    int correct = 0;
    losses.push_back(reference->Loss(l.data(), &correct));
    correct_sum += correct;
    reference->Backward();
    halves.push_back(Grads(*reference));
  }
  std::vector<float> want(halves[0].size());
  for (size_t i = 0; i < want.size(); ++i) {
    want[i] = (halves[0][i] + halves[1][i]) * 0.5f;
  }

  auto encoder = MakeEncoder(micro);
  MicroBatchGradient gradient(encoder.get(), &SingleProcess(), 2, micro);
  EXPECT_EQ(gradient.reduced_floats(), static_cast<int64_t>(want.size()) + 4);
  auto figures = gradient.Compute(
      [&](int m, int32_t* tokens, int32_t* labels) {
        batch.Load(m, micro, tokens, labels);
      },
      kStepSeed, false);
  ASSERT_TRUE(figures.ok()) << figures.status();
  EXPECT_TRUE(SameBits(Grads(*encoder), want));
  EXPECT_EQ(figures->loss, (losses[0] + losses[1]) * 0.5f);
  EXPECT_EQ(figures->correct, correct_sum);
  EXPECT_FALSE(figures->stop);

  // The check can fail: g0 + g1 without the 1/2, or one half alone, differ.
  EXPECT_FALSE(SameBits(Grads(*encoder), halves[0]));

  // Without dropout the mean over two halves approximates the whole batch's
  // gradient (the same loss, summed in another order).
  ModelConfig no_dropout = TinyModel();
  no_dropout.set_dropout(0);
  auto half =
      Encoder::Create(no_dropout, {kSeqLen, micro, 1}, BuiltinPlugins());
  auto whole =
      Encoder::Create(no_dropout, {kSeqLen, kBatch, 1}, BuiltinPlugins());
  ASSERT_TRUE(half.ok() && whole.ok());
  (*half)->InitParameters(3);
  (*whole)->InitParameters(3);
  MicroBatchGradient halves_gradient(half->get(), &SingleProcess(), 2, micro);
  ASSERT_TRUE(halves_gradient
                  .Compute(
                      [&](int m, int32_t* tokens, int32_t* labels) {
                        batch.Load(m, micro, tokens, labels);
                      },
                      kStepSeed, false)
                  .ok());
  (*whole)->ZeroGrad();
  (*whole)->Forward(batch.tokens.data(), kBatch, true, kStepSeed);
  (*whole)->Loss(batch.labels.data(), nullptr);
  (*whole)->Backward();
  const std::vector<float> a = Grads(**half), b = Grads(**whole);
  double max_grad = 0;
  for (float x : b) max_grad = std::max(max_grad, double{std::fabs(x)});
  for (size_t i = 0; i < a.size(); ++i) {
    ASSERT_NEAR(a[i], b[i], 1e-5 * max_grad + 1e-7) << "element " << i;
  }
}

// The same global batch as M = 4 micro-batches on 1, 2 and 4 ranks (threads):
// the same gradient bits on every rank for every rank count.
TEST(MicroBatchGradientTest, IndependentOfTheNumberOfRanks) {
  const Batch batch;
  const int micro_batches = 4, micro = kBatch / micro_batches;
  std::vector<float> one_rank;
  float one_rank_loss = 0;
  for (int ranks : {1, 2, 4}) {
    ThreadGroup group(ranks);
    std::vector<std::vector<float>> grads(ranks);
    std::vector<float> loss(ranks);
    std::vector<bool> stop(ranks);
    group.Run([&](int rank) {
      omp_set_num_threads(1);
      ThreadCommunicator comm(&group, rank);
      auto encoder = MakeEncoder(micro);
      MicroBatchGradient gradient(encoder.get(), &comm, micro_batches, micro);
      auto figures = gradient.Compute(
          [&](int m, int32_t* tokens, int32_t* labels) {
            batch.Load(m, micro, tokens, labels);
          },
          kStepSeed, /*stop=*/rank == ranks - 1 && ranks > 1);
      ASSERT_TRUE(figures.ok()) << figures.status();
      grads[rank] = Grads(*encoder);
      loss[rank] = figures->loss;
      stop[rank] = figures->stop;
    });
    if (ranks == 1) {
      one_rank = grads[0];
      one_rank_loss = loss[0];
    }
    for (int r = 0; r < ranks; ++r) {
      EXPECT_TRUE(SameBits(grads[r], one_rank))
          << ranks << " ranks, rank " << r;
      EXPECT_EQ(loss[r], one_rank_loss);
      // One rank's stop wish reaches every rank.
      EXPECT_EQ(stop[r], ranks > 1);
    }
  }
}

// The encoder's gradient-ready hook: points from the top down to 0, and the
// gradients it reports final do not change for the rest of Backward.
TEST(GradientReadyHookTest, ReportedGradientsAreFinal) {
  omp_set_num_threads(1);
  const Batch batch;
  auto encoder = MakeEncoder(kBatch, /*layers=*/3);
  std::vector<Tensor*> grads;
  encoder->ForEachParameter([&](const std::string&, Tensor&, Tensor& grad) {
    grads.push_back(&grad);
  });
  const std::vector<int>& points = encoder->GradientReadyPoints();
  ASSERT_EQ(points.size(), 5u);  // Head and final LN, 3 blocks, embedding.
  EXPECT_EQ(points.back(), 0);
  std::vector<int> reported;
  std::vector<std::vector<float>> at_report(grads.size());
  int end = static_cast<int>(grads.size());
  encoder->SetGradientReadyHook([&](int first) {
    reported.push_back(first);
    for (int p = first; p < end; ++p) {
      at_report[p].assign(grads[p]->data(),
                          grads[p]->data() + grads[p]->size());
    }
    end = first;
  });
  encoder->ZeroGrad();
  encoder->Forward(batch.tokens.data(), kBatch, true, kStepSeed);
  encoder->Loss(batch.labels.data(), nullptr);
  encoder->Backward();
  EXPECT_EQ(reported, points);
  for (size_t p = 0; p < grads.size(); ++p) {
    EXPECT_TRUE(SameBits(
        at_report[p], std::vector<float>(grads[p]->data(),
                                         grads[p]->data() + grads[p]->size())))
        << "parameter " << p;
  }
  // An empty hook calls nothing.
  encoder->SetGradientReadyHook(nullptr);
  reported.clear();
  encoder->Backward();
  EXPECT_TRUE(reported.empty());
}

// Buckets overlapped with the last micro-batch's backward pass, of every
// size from one per ready point to one for everything, with 1, 2 and 4
// leaves per rank: the same bits as one rank without buckets.
TEST(MicroBatchGradientTest, BucketsGiveTheSameBits) {
  const Batch batch;
  const int layers = 3;
  for (int micro_batches : {2, 4, 8}) {
    const int micro = kBatch / micro_batches;
    std::vector<float> want;
    float want_loss = 0;
    {
      omp_set_num_threads(1);
      auto encoder = MakeEncoder(micro, layers);
      MicroBatchGradient gradient(encoder.get(), &SingleProcess(),
                                  micro_batches, micro, /*bucket_mb=*/1e-9);
      EXPECT_EQ(gradient.buckets(), 1);  // One rank: no buckets, no thread.
      auto figures = gradient.Compute(
          [&](int m, int32_t* tokens, int32_t* labels) {
            batch.Load(m, micro, tokens, labels);
          },
          kStepSeed, false);
      ASSERT_TRUE(figures.ok()) << figures.status();
      want = Grads(*encoder);
      want_loss = figures->loss;
    }
    for (double bucket_mb : {1e-9, 0.002, 1.0}) {
      const int ranks = 2;
      ThreadGroup group(ranks);
      std::vector<std::vector<float>> grads(ranks);
      std::vector<float> loss(ranks);
      std::vector<bool> stop(ranks);
      std::vector<int> buckets(ranks);
      group.Run([&](int rank) {
        omp_set_num_threads(1);
        ThreadCommunicator comm(&group, rank);
        auto encoder = MakeEncoder(micro, layers);
        MicroBatchGradient gradient(encoder.get(), &comm, micro_batches, micro,
                                    bucket_mb);
        buckets[rank] = gradient.buckets();
        for (int step = 0; step < 2; ++step) {
          auto figures = gradient.Compute(
              [&](int m, int32_t* tokens, int32_t* labels) {
                batch.Load(m, micro, tokens, labels);
              },
              kStepSeed, /*stop=*/rank == 1 && step == 1);
          ASSERT_TRUE(figures.ok()) << figures.status();
          grads[rank] = Grads(*encoder);
          loss[rank] = figures->loss;
          stop[rank] = figures->stop;
        }
      });
      const std::string where = absl::StrCat(
          micro_batches, " micro-batches, buckets of ", bucket_mb, " MB");
      if (bucket_mb < 1e-6) {
        EXPECT_EQ(buckets[0], layers + 2) << where;
      }
      if (bucket_mb == 1.0) {
        EXPECT_EQ(buckets[0], 1) << where;
      }
      for (int r = 0; r < ranks; ++r) {
        EXPECT_TRUE(SameBits(grads[r], want)) << where << ", rank " << r;
        EXPECT_EQ(loss[r], want_loss) << where;
        EXPECT_TRUE(stop[r]) << where;
        EXPECT_EQ(buckets[r], buckets[0]);
      }
    }
  }
}

// The status each of two rank threads gets from one step over `batch` (four
// micro-batches of 2 examples) with an encoder of `layers` blocks, gradients
// summed in buckets of `bucket_mb` MB (0: as one buffer).
std::vector<absl::Status> TwoRankStatuses(const Batch& batch, int layers,
                                          double bucket_mb) {
  const int micro = 2;
  ThreadGroup group(2);
  std::vector<absl::Status> statuses(2);
  group.Run([&](int rank) {
    omp_set_num_threads(1);
    ThreadCommunicator comm(&group, rank);
    auto encoder = MakeEncoder(micro, layers);
    MicroBatchGradient gradient(encoder.get(), &comm, 4, micro, bucket_mb);
    statuses[rank] = gradient
                         .Compute(
                             [&](int m, int32_t* tokens, int32_t* labels) {
                               batch.Load(m, micro, tokens, labels);
                             },
                             kStepSeed, false)
                         .status();
  });
  return statuses;
}

TEST(MicroBatchGradientTest, BadInputInABucketedMicroBatch) {
  // Out of range in micro-batch 3 of 4: rank 1's last, whose buckets are
  // summed without a backward pass; rank 0's are overlapped as usual.
  Batch batch;
  batch.labels[7] = kClasses;
  for (const absl::Status& status :
       TwoRankStatuses(batch, /*layers=*/2, /*bucket_mb=*/1e-9)) {
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(status.message(), HasSubstr("micro-batch 3 of 4"));
  }
}

TEST(MicroBatchGradientTest, BadInputIsTheSameErrorOnEveryRank) {
  Batch batch;
  batch.labels[5] = kClasses;  // Out of range, in micro-batch 2 of 4.
  const std::vector<absl::Status> statuses =
      TwoRankStatuses(batch, /*layers=*/1, /*bucket_mb=*/0);
  for (const absl::Status& status : statuses) {
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(status.message(), HasSubstr("micro-batch 2 of 4"));
  }
  EXPECT_EQ(statuses[0], statuses[1]);
}

}  // namespace
}  // namespace lra
