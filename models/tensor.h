// An owning, 64-byte aligned float32 buffer with a shape.
#ifndef LRA_MODELS_TENSOR_H_
#define LRA_MODELS_TENSOR_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace lra {

// Tensor owns `size()` floats, zero-filled on construction, aligned to 64 bytes
// so that AVX-512 loads of whole rows never split cache lines. Row-major; the
// shape is fixed at construction. Copying makes a deep copy (tests use it to
// snapshot parameters); the training step itself only moves or reuses tensors.
class Tensor {
 public:
  Tensor() = default;
  explicit Tensor(std::vector<int64_t> shape);
  Tensor(const Tensor& other);
  Tensor& operator=(const Tensor& other);
  Tensor(Tensor&& other) noexcept = default;
  Tensor& operator=(Tensor&& other) noexcept = default;

  float* data() { return data_.get(); }
  const float* data() const { return data_.get(); }
  int64_t size() const { return size_; }
  const std::vector<int64_t>& shape() const { return shape_; }
  // Extent of dimension `i`; negative `i` counts from the end.
  int64_t dim(int i) const {
    return shape_[i < 0 ? static_cast<int>(shape_.size()) + i : i];
  }
  float& operator[](int64_t i) { return data_.get()[i]; }
  float operator[](int64_t i) const { return data_.get()[i]; }

  // Sets every element to zero.
  void Zero();
  // "[2, 3]" for error messages and logs.
  std::string ShapeString() const;

 private:
  struct AlignedFree {
    void operator()(float* p) const;
  };

  std::vector<int64_t> shape_;
  int64_t size_ = 0;
  std::unique_ptr<float, AlignedFree> data_;
};

// Allocates a zero-filled float buffer of `count` elements aligned to 64 bytes
// for workspaces that have no shape of their own.
Tensor MakeBuffer(int64_t count);

}  // namespace lra

#endif  // LRA_MODELS_TENSOR_H_
