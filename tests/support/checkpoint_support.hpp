// Helpers shared by the checkpoint tests: a network's parameter values, compared bit for bit.
#ifndef SPIKELAB_TESTS_CHECKPOINT_SUPPORT_HPP
#define SPIKELAB_TESTS_CHECKPOINT_SUPPORT_HPP

#include <spikelab/core/parameter.hpp>

#include <cstring>
#include <vector>

namespace spikelab::test {

/// Copies of every parameter block of `net`, in for_each_parameter order.
template <class Net>
std::vector<Matrix<float>> params(Net& net) {
  std::vector<Matrix<float>> v;
  net.for_each_parameter([&](ParamRef<float> p) { v.push_back(p.value); });
  return v;
}

/// Same shapes and the same bits (so -0.0 differs from 0.0, and NaNs compare by payload).
inline bool bit_equal(const std::vector<Matrix<float>>& a, const std::vector<Matrix<float>>& b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (a[i].rows() != b[i].rows() || a[i].cols() != b[i].cols() ||
        std::memcmp(a[i].data(), b[i].data(), sizeof(float) * std::size_t(a[i].size())) != 0)
      return false;
  return true;
}

}  // namespace spikelab::test

#endif
