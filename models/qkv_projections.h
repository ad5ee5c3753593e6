// The four projections of multi-head attention, x Wq + bq, x Wk + bk,
// x Wv + bv and the merged heads' x Wo + bo, as values or as their
// gradients: the weights of the attention mixer and of each of the ISAB
// mixer's two attentions.
#ifndef LRA_MODELS_QKV_PROJECTIONS_H_
#define LRA_MODELS_QKV_PROJECTIONS_H_

#include <cstdint>

#include "models/tensor.h"

namespace lra {

struct QkvProjections {
  // d: the model width D; q: all heads' width Q. wk and bk stay empty for a
  // shared-QK attention.
  QkvProjections(int64_t d, int64_t q, bool shared_qk = false)
      : wq({d, q}),
        bq({q}),
        wk(shared_qk ? Tensor() : Tensor({d, q})),
        bk(shared_qk ? Tensor() : Tensor({q})),
        wv({d, q}),
        bv({q}),
        wo({q, d}),
        bo({d}) {}
  Tensor wq, bq, wk, bk, wv, bv;  // [D, Q], [Q]
  Tensor wo, bo;                  // [Q, D], [D]
};

}  // namespace lra

#endif  // LRA_MODELS_QKV_PROJECTIONS_H_
