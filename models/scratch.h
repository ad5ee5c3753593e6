// Temporaries that the layers of one encoder share. A block uses a scratch
// buffer only inside one Forward or Backward call, so every block can use the
// same memory: the encoder's footprint grows with activations it must keep,
// not with temporaries. Buffers are reserved while the model is built and
// only read during steps, so steps allocate nothing.
#ifndef LRA_MODELS_SCRATCH_H_
#define LRA_MODELS_SCRATCH_H_

#include <cstdint>
#include <deque>
#include <map>
#include <string>

#include "models/tensor.h"

namespace lra {

class ScratchBuffers;

// A handle on one shared buffer; valid once every Reserve has been made.
class ScratchRef {
 public:
  ScratchRef() = default;
  float* data() const;

 private:
  friend class ScratchBuffers;
  ScratchRef(ScratchBuffers* owner, int index) : owner_(owner), index_(index) {}
  ScratchBuffers* owner_ = nullptr;
  int index_ = -1;
};

class ScratchBuffers {
 public:
  // The buffer called `name`, at least `floats` long: callers that reserve
  // the same name share one buffer of the largest size asked for. Only while
  // building; the data pointer behind a ref is fixed after the last Reserve.
  ScratchRef Reserve(const std::string& name, int64_t floats);

  // Total floats held, for memory accounting in tests.
  int64_t TotalFloats() const;

 private:
  friend class ScratchRef;
  std::map<std::string, int> index_;
  std::deque<Tensor> buffers_;
};

}  // namespace lra

#endif  // LRA_MODELS_SCRATCH_H_
