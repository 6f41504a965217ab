/**
 * @file core/serialization.hpp
 * @brief cereal support for dense Eigen matrices: rows and cols as int64, then the values
 *        (one binary block in binary archives, a list of numbers in text archives).
 */
#ifndef SPIKELAB_CORE_SERIALIZATION_HPP
#define SPIKELAB_CORE_SERIALIZATION_HPP

#include <Eigen/Core>
#include <cereal/cereal.hpp>
#include <cereal/types/vector.hpp>

#include <cstdint>
#include <stdexcept>
#include <vector>

namespace spikelab::detail {
/// Upper bound on the bytes a matrix being loaded may take (set by load_checkpoint to the
/// file size, so a corrupt shape cannot trigger a huge allocation).
inline std::int64_t& archive_byte_budget() {
  thread_local std::int64_t budget = std::int64_t(1) << 40;
  return budget;
}
}  // namespace spikelab::detail

namespace cereal {

template <class Archive, class S, int R, int C, int O, int MR, int MC>
void save(Archive& ar, const Eigen::Matrix<S, R, C, O, MR, MC>& m) {
  ar(make_nvp("rows", std::int64_t(m.rows())), make_nvp("cols", std::int64_t(m.cols())));
  if constexpr (traits::is_output_serializable<BinaryData<S*>, Archive>::value) {
    ar(binary_data(m.data(), static_cast<std::size_t>(m.size()) * sizeof(S)));
  } else {
    std::vector<S> v(m.data(), m.data() + m.size());
    ar(make_nvp("data", v));
  }
}

template <class Archive, class S, int R, int C, int O, int MR, int MC>
void load(Archive& ar, Eigen::Matrix<S, R, C, O, MR, MC>& m) {
  std::int64_t rows = 0, cols = 0;
  ar(make_nvp("rows", rows), make_nvp("cols", cols));
  const std::int64_t budget = spikelab::detail::archive_byte_budget() / std::int64_t(sizeof(S)) + 1;
  if (rows < 0 || cols < 0 || (rows > 0 && cols > budget / rows) ||
      (R != Eigen::Dynamic && rows != R) || (C != Eigen::Dynamic && cols != C))
    throw Exception("matrix with invalid stored shape " + std::to_string(rows) + "x" + std::to_string(cols));
  m.resize(rows, cols);
  if constexpr (traits::is_input_serializable<BinaryData<S*>, Archive>::value) {
    ar(binary_data(m.data(), static_cast<std::size_t>(m.size()) * sizeof(S)));
  } else {
    std::vector<S> v;
    ar(make_nvp("data", v));
    if (static_cast<std::int64_t>(v.size()) != rows * cols)
      throw Exception("matrix data has " + std::to_string(v.size()) + " values, expected " +
                      std::to_string(rows * cols));
    for (std::int64_t k = 0; k < rows * cols; ++k) m.data()[k] = v[static_cast<std::size_t>(k)];
  }
}

}  // namespace cereal

#endif
