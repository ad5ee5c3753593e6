#include "models/sequence/memory_segments.h"

#include <algorithm>
#include <cstring>
#include <string>
#include <utility>

#include "models/rng.h"

namespace lra {

MemorySegments::MemorySegments(const SequenceShape& shape,
                               const MemorySegmentsOptions& options)
    : shape_(shape), options_(options) {
  n_ = shape.seq_len;
  d_ = shape.d_model;
  m_ = options.memory_slots;
  s_ = options.segment_len > 0 ? std::min(options.segment_len, n_) : n_;
  g_ = (n_ + s_ - 1) / s_;
  k_ = options.bptt_segments > 0 ? std::min(options.bptt_segments, g_) : g_;
  const int64_t B = shape.max_seqs, P = m_ + s_, D = d_;
  memory_ = Tensor({m_, D});
  dmemory_ = Tensor({m_, D});
  for (int g = 0; g < g_; ++g)
    seg_in_.emplace_back(std::vector<int64_t>{B, P, D});
  seg_mask_.assign(static_cast<size_t>(g_) * B * P, 0);
  active_.assign(static_cast<size_t>(g_) * B, 0);
  streams_.resize(1);
  for (int l = 0; l < shape.num_layers; ++l) {
    streams_[0].emplace_back(std::vector<int64_t>{B, P, D});
  }
  final_memory_ = Tensor({B, m_, D});
  dstream_ = Tensor({B, P, D});
  dmem_ = Tensor({B, m_, D});
}

void MemorySegments::ForEachWeight(const WeightVisitor& fn) {
  fn("embed.memory", memory_, dmemory_, {Init::kNormal});
}

void MemorySegments::UseBlockCopies(BlockList* blocks,
                                    std::vector<BlockList>* copies) {
  if (options_.recompute || copies->empty()) return;
  copies_ = copies;
  const int64_t B = shape_.max_seqs, P = m_ + s_, D = d_;
  streams_.resize(1 + copies->size());
  for (size_t list = 1; list < streams_.size(); ++list) {
    for (int l = 0; l < shape_.num_layers; ++l) {
      streams_[list].emplace_back(std::vector<int64_t>{B, P, D});
    }
  }
  // The copies are built like the encoder's blocks, so their weights are
  // visited in the same order with the same shapes.
  copied_.clear();
  for (BlockList& copy : *copies) {
    for (size_t i = 0; i < blocks->size(); ++i) {
      std::vector<std::pair<Tensor*, Tensor*>> own, theirs;
      (*blocks)[i]->ForEachWeight(
          [&](const std::string&, Tensor& value, Tensor& grad,
              const WeightSpec&) { own.emplace_back(&value, &grad); });
      copy[i]->ForEachWeight(
          [&](const std::string&, Tensor& value, Tensor& grad,
              const WeightSpec&) { theirs.emplace_back(&value, &grad); });
      for (size_t w = 0; w < own.size() && w < theirs.size(); ++w) {
        copied_.push_back(
            {own[w].first, own[w].second, theirs[w].first, theirs[w].second});
      }
    }
  }
}

int MemorySegments::ListOf(int g) const {
  if (copies_ == nullptr) return 0;
  return std::max(0, g - (g_ - k_));
}

void MemorySegments::RunSegment(BlockList& blocks, int list, int g) {
  const int64_t P = m_ + s_;
  BlockStep step;
  step.seqs = step_.seqs;
  step.key_mask =
      seg_mask_.data() + static_cast<int64_t>(g) * shape_.max_seqs * P;
  step.training = step_.training;
  // Each segment's dropout masks are their own and the same when recomputed.
  step.dropout_seed = DeriveSeed(step_.dropout_seed, 0x5e9000 + g);
  const float* in = seg_in_[g].data();
  std::vector<Tensor>& streams = streams_[list];
  for (size_t i = 0; i < blocks.size(); ++i) {
    blocks[i]->Forward(i == 0 ? in : streams[i - 1].data(), step,
                       streams[i].data());
  }
}

void MemorySegments::Forward(BlockList& blocks, const float* x,
                             const SequenceStep& step, float* out,
                             uint8_t* pool_mask) {
  step_ = step;
  const int B = step.seqs, M = m_, S = s_, D = d_, N = n_;
  const int64_t P = M + S;
  const size_t mem_row = sizeof(float) * static_cast<size_t>(M) * D;
  // The copies run with the weights of the encoder's blocks.
  for (const CopiedWeight& w : copied_) {
    std::memcpy(w.copy_value->data(), w.value->data(),
                sizeof(float) * w.value->size());
  }
  // Memory entering segment 0: the learned slots, for every sequence.
  float* mem = final_memory_.data();  // [B', M, D], updated segment by segment
  for (int b = 0; b < B; ++b) {
    std::memcpy(mem + static_cast<int64_t>(b) * M * D, memory_.data(), mem_row);
  }
  for (int g = 0; g < g_; ++g) {
    float* in = seg_in_[g].data();  // [B', M + S, D]
    uint8_t* mask =
        seg_mask_.data() + static_cast<int64_t>(g) * shape_.max_seqs * P;
    for (int b = 0; b < B; ++b) {
      float* row = in + b * P * D;
      uint8_t* m = mask + b * P;
      // Cut memory: every segment starts from the learned slots.
      std::memcpy(row,
                  options_.carry_memory ? mem + static_cast<int64_t>(b) * M * D
                                        : memory_.data(),
                  mem_row);
      bool any = false;
      for (int t = 0; t < S; ++t) {
        const int pos = g * S + t;
        float* dst = row + static_cast<int64_t>(M + t) * D;
        if (pos < N) {
          std::memcpy(dst, x + (static_cast<int64_t>(b) * N + pos) * D,
                      sizeof(float) * D);
          m[M + t] = step.key_mask[static_cast<int64_t>(b) * N + pos];
        } else {
          std::memset(dst, 0, sizeof(float) * D);
          m[M + t] = 0;
        }
        any = any || m[M + t] != 0;
      }
      for (int i = 0; i < M; ++i) m[i] = 1;
      active_[static_cast<size_t>(g) * shape_.max_seqs + b] = any;
    }
    const int list = ListOf(g);
    RunSegment(Blocks(blocks, list), list, g);
    const float* y = streams_[list].back().data();
    for (int b = 0; b < B; ++b) {
      if (active_[static_cast<size_t>(g) * shape_.max_seqs + b]) {
        std::memcpy(mem + static_cast<int64_t>(b) * M * D, y + b * P * D,
                    mem_row);
      }
      if (!options_.pool_memory) {
        for (int t = 0; t < S && g * S + t < N; ++t) {
          std::memcpy(out + (static_cast<int64_t>(b) * N + g * S + t) * D,
                      y + (b * P + M + t) * D, sizeof(float) * D);
        }
      }
    }
  }
  if (options_.pool_memory) {
    std::memcpy(out, mem, mem_row * B);
    std::memset(pool_mask, 1, static_cast<size_t>(B) * M);
  } else {
    std::memcpy(pool_mask, step.key_mask, static_cast<size_t>(B) * N);
  }
}

void MemorySegments::Backward(BlockList& blocks, const float* dout, float* dx) {
  const int B = step_.seqs, M = m_, S = s_, D = d_, N = n_;
  const int64_t P = M + S;
  const size_t mem_row = sizeof(float) * static_cast<size_t>(M) * D;
  std::memset(dx, 0, sizeof(float) * static_cast<size_t>(B) * N * D);
  float* dmem = dmem_.data();  // [B', M, D] gradient of the memory out of g
  if (options_.pool_memory) {
    std::memcpy(dmem, dout, mem_row * B);
  } else {
    std::memset(dmem, 0, mem_row * B);
  }
  const int first = g_ - k_;
  // Each copy gathers its segment's share of the gradients from zero; they
  // are added into the encoder's blocks at the end.
  for (const CopiedWeight& w : copied_) w.copy_grad->Zero();
  for (int g = g_ - 1; g >= first; --g) {
    const int list = ListOf(g);
    BlockList& segment_blocks = Blocks(blocks, list);
    // With one list only the last segment's state is still in the blocks.
    if (copies_ == nullptr && g != g_ - 1) {
      RunSegment(segment_blocks, list, g);
    }
    float* dy = dstream_.data();  // [B', M + S, D]
    for (int b = 0; b < B; ++b) {
      float* row = dy + b * P * D;
      const bool active = active_[static_cast<size_t>(g) * shape_.max_seqs + b];
      if (active) {
        std::memcpy(row, dmem + static_cast<int64_t>(b) * M * D, mem_row);
      } else {
        std::memset(row, 0, mem_row);
      }
      for (int t = 0; t < S; ++t) {
        const int pos = g * S + t;
        float* dst = row + static_cast<int64_t>(M + t) * D;
        if (!options_.pool_memory && pos < N) {
          std::memcpy(dst, dout + (static_cast<int64_t>(b) * N + pos) * D,
                      sizeof(float) * D);
        } else {
          std::memset(dst, 0, sizeof(float) * D);
        }
      }
    }
    for (int i = static_cast<int>(segment_blocks.size()) - 1; i >= 0; --i) {
      segment_blocks[i]->Backward(dy);
    }
    for (int b = 0; b < B; ++b) {
      const float* row = dy + b * P * D;
      for (int t = 0; t < S && g * S + t < N; ++t) {
        std::memcpy(dx + (static_cast<int64_t>(b) * N + g * S + t) * D,
                    row + static_cast<int64_t>(M + t) * D, sizeof(float) * D);
      }
      // An inactive segment passed the memory through unchanged.
      if (active_[static_cast<size_t>(g) * shape_.max_seqs + b]) {
        float* dm = dmem + static_cast<int64_t>(b) * M * D;
        if (options_.carry_memory) {
          std::memcpy(dm, row, mem_row);
        } else {
          // The segment read the learned slots, not the memory before it.
          float* gm = dmemory_.data();
          for (int64_t i = 0; i < static_cast<int64_t>(M) * D; ++i) {
            gm[i] += row[i];
          }
          std::memset(dm, 0, mem_row);
        }
      }
      if (options_.broken_memory_gradient) {
        std::memset(dmem + static_cast<int64_t>(b) * M * D, 0, mem_row);
      }
    }
  }
  // Inside the window all the way back: the learned slots get the gradient.
  if (first == 0) {
    float* gm = dmemory_.data();
    for (int b = 0; b < B; ++b) {
      const float* src = dmem + static_cast<int64_t>(b) * M * D;
      for (int64_t i = 0; i < static_cast<int64_t>(M) * D; ++i) gm[i] += src[i];
    }
  }
  for (const CopiedWeight& w : copied_) {
    float* dst = w.grad->data();
    const float* src = w.copy_grad->data();
    for (int64_t i = 0; i < w.grad->size(); ++i) dst[i] += src[i];
  }
}

}  // namespace lra
