#include "lra/dist/micro_batches.h"

#include <algorithm>
#include <chrono>
#include <cstring>

#include "absl/strings/str_cat.h"

namespace lra {
namespace {

// Slots after the gradient in the summed buffer.
enum FigureSlot { kLoss = 0, kCorrect, kBadInput, kStop, kFigureSlots };

}  // namespace

absl::Status CheckMicroBatches(int batch_size, int micro_batches, int ranks) {
  if (micro_batches < 1 || batch_size % micro_batches != 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "train.micro_batches = ", micro_batches,
        " must be at least 1 and divide train.batch_size = ", batch_size));
  }
  if (micro_batches % ranks != 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "train.micro_batches = ", micro_batches,
        " is not divisible by the number of MPI ranks, ", ranks,
        ": set train.micro_batches to a multiple of the ranks (the same "
        "value for every rank count gives the same results)"));
  }
  return absl::OkStatus();
}

uint64_t MicroBatchSeed(uint64_t step_seed, int micro) {
  if (micro == 0) return step_seed;
  // splitmix64 of (seed, micro).
  uint64_t x = step_seed + 0x9e3779b97f4a7c15ULL * static_cast<uint64_t>(micro);
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

MicroBatchGradient::MicroBatchGradient(Encoder* encoder, Communicator* comm,
                                       int micro_batches, int micro_size,
                                       double bucket_mb)
    : encoder_(encoder),
      comm_(comm),
      micro_batches_(micro_batches),
      micro_size_(micro_size),
      first_micro_(comm->rank() * (micro_batches / comm->size())) {
  encoder_->ForEachParameter([this](const std::string&, Tensor&, Tensor& grad) {
    grads_.push_back(&grad);
    offset_.push_back(grad_floats_);
    grad_floats_ += grad.size();
  });
  offset_.push_back(grad_floats_);
  total_ = grad_floats_ + kFigureSlots;
  sum_.resize(total_);
  tree_ = std::make_unique<TreeSum>(total_, micro_batches / comm->size());
  tokens_.resize(static_cast<int64_t>(micro_size) * encoder->seq_len());
  labels_.resize(micro_size);
  if (comm->size() > 1 && bucket_mb > 0 && comm->CallableFromAnyThread()) {
    // From the top of the buffer (the figures, the head) down, each bucket
    // ends at a ready point and holds at least min_floats, except the last.
    // The same on every rank: it depends on the model only.
    const int64_t min_floats = std::max<int64_t>(
        1, static_cast<int64_t>(bucket_mb * 1e6 / sizeof(float)));
    int64_t hi = total_;
    for (int ready : encoder->GradientReadyPoints()) {
      const int64_t lo = offset_[ready];
      if (hi > lo && (hi - lo >= min_floats || ready == 0)) {
        buckets_.push_back({lo, hi, ready});
        hi = lo;
      }
    }
    overlap_ = std::make_unique<BackgroundAllReduce>(comm);
  }
}

MicroBatchGradient::~MicroBatchGradient() = default;

double MicroBatchGradient::allreduce_seconds() const {
  return overlap_ != nullptr ? overlap_->busy_seconds() : allreduce_seconds_;
}

void MicroBatchGradient::ComputeLeaf(LoadFn load, uint64_t step_seed, int micro,
                                     float* out, bool last, bool stop) {
  const int m = first_micro_ + micro;
  load(m, tokens_.data(), labels_.data());
  float* figures = out + grad_floats_;
  std::memset(figures, 0, kFigureSlots * sizeof(float));
  if (last) {
    last_out_ = out;
    finished_from_ = static_cast<int>(grads_.size());
    next_bucket_ = 0;
  }
  if (!encoder_->CheckInputs(tokens_.data(), labels_.data(), micro_size_)
           .ok()) {
    // Every rank finds the message after the all-reduce (FindBadInput).
    std::memset(out, 0, grad_floats_ * sizeof(float));
    figures[kBadInput] = 1;
    // All buckets, with zeros: every rank sums the same buckets.
    if (last) FinishReady(0, /*copy=*/false, stop);
    return;
  }
  encoder_->ZeroGrad();
  encoder_->Forward(tokens_.data(), micro_size_, /*training=*/true,
                    MicroBatchSeed(step_seed, m));
  int correct = 0;
  figures[kLoss] = encoder_->Loss(labels_.data(), &correct);
  figures[kCorrect] = static_cast<float>(correct);
  if (last) {
    encoder_->SetGradientReadyHook(
        [this, stop](int first) { FinishReady(first, /*copy=*/true, stop); });
    encoder_->Backward();
    encoder_->SetGradientReadyHook(nullptr);
    FinishReady(0, /*copy=*/true, stop);  // Whatever was not reported.
    return;
  }
  encoder_->Backward();
  float* at = out;
  for (const Tensor* grad : grads_) {
    std::memcpy(at, grad->data(), grad->size() * sizeof(float));
    at += grad->size();
  }
}

void MicroBatchGradient::FinishReady(int first, bool copy, bool stop) {
  if (first >= finished_from_) return;
  if (copy) {
    for (int p = first; p < finished_from_; ++p) {
      std::memcpy(last_out_ + offset_[p], grads_[p]->data(),
                  grads_[p]->size() * sizeof(float));
    }
  }
  const bool top = finished_from_ == static_cast<int>(grads_.size());
  const int64_t lo = offset_[first];
  const int64_t hi = top ? total_ : offset_[finished_from_];
  tree_->FinishLastLeaf(lo, hi);
  // The stop flag is this rank's wish, not a sum of micro-batches.
  if (top) sum_[grad_floats_ + kStop] = stop ? 1.0f : 0.0f;
  finished_from_ = first;
  while (next_bucket_ < buckets_.size() && buckets_[next_bucket_].lo >= lo) {
    const Bucket& bucket = buckets_[next_bucket_++];
    overlap_->Start(sum_.data() + bucket.lo, bucket.hi - bucket.lo);
  }
}

absl::Status MicroBatchGradient::FindBadInput(LoadFn load) {
  for (int m = 0; m < micro_batches_; ++m) {
    load(m, tokens_.data(), labels_.data());
    absl::Status status =
        encoder_->CheckInputs(tokens_.data(), labels_.data(), micro_size_);
    if (!status.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("micro-batch ", m, " of ", micro_batches_, " (",
                       micro_size_, " examples from example ",
                       int64_t{m} * micro_size_, "): ", status.message()));
    }
  }
  return absl::InternalError("a rank rejected an input that none rejects now");
}

absl::StatusOr<MicroBatchGradient::Figures> MicroBatchGradient::Compute(
    LoadFn load, uint64_t step_seed, bool stop) {
  float* figures = sum_.data() + grad_floats_;
  absl::Status status;
  if (overlap_ == nullptr) {
    tree_->Sum(
        [&](int micro, float* out) {
          ComputeLeaf(load, step_seed, micro, out, /*last=*/false, stop);
        },
        sum_.data());
    figures[kStop] = stop ? 1.0f : 0.0f;
    const auto start = std::chrono::steady_clock::now();
    status = comm_->AllReduceSum(sum_.data(), total_);
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
            .count();
    allreduce_seconds_ += seconds;
    exposed_seconds_ += seconds;
  } else {
    // The last micro-batch's buckets start during its backward pass.
    const int last = tree_->leaves() - 1;
    tree_->Sum(
        [&](int micro, float* out) {
          ComputeLeaf(load, step_seed, micro, out, micro == last, stop);
        },
        sum_.data(), /*last_in_parts=*/true);
    const auto start = std::chrono::steady_clock::now();
    status = overlap_->Wait();
    exposed_seconds_ +=
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
            .count();
  }
  if (!status.ok()) return status;
  if (figures[kBadInput] > 0) return FindBadInput(load);
  // 1 / M is exact for a power of two M; for another M the rounding is the
  // same on every rank and for every P.
  const float scale = 1.0f / static_cast<float>(micro_batches_);
  const float* at = sum_.data();
  for (Tensor* grad : grads_) {
    float* g = grad->data();
    const int64_t n = grad->size();
    for (int64_t i = 0; i < n; ++i) g[i] = at[i] * scale;
    at += n;
  }
  Figures result;
  result.loss = figures[kLoss] * scale;
  result.correct = static_cast<int>(figures[kCorrect]);
  result.stop = figures[kStop] > 0;
  return result;
}

}  // namespace lra
