/**
 * @file neurons/neuron_parameter.hpp
 * @brief NeuronParameter<S>: a per-neuron quantity of a neuron layer (threshold, decay, ...)
 *        that is fixed, trainable as one value per layer, or trainable per neuron (Train).
 *
 * Values are kept per neuron whatever the mode (so a fixed parameter may still be
 * heterogeneous, as in Moro et al. 2024); a per-layer parameter is one trainable scalar
 * broadcast to all neurons, and its gradient is the sum of the per-neuron gradients.
 * Bounds are enforced by the optimizer's projection after every update, and by set().
 */
#ifndef SPIKELAB_NEURONS_NEURON_PARAMETER_HPP
#define SPIKELAB_NEURONS_NEURON_PARAMETER_HPP

#include <spikelab/core/error.hpp>
#include <spikelab/core/parameter.hpp>
#include <spikelab/io/eigen.hpp>
#include <spikelab/io/versioning.hpp>

#include <cereal/cereal.hpp>

#include <algorithm>
#include <cereal/types/vector.hpp>
#include <vector>
#include <string>

namespace spikelab {

template <Scalar S>
class NeuronParameter {
 public:
  NeuronParameter() = default;
  NeuronParameter(Train mode, Index neurons, double init, double lower, double upper)
      : mode_(mode), n_(neurons), lower_(lower), upper_(upper) {
    if (!(lower <= init && init <= upper))
      throw ConfigError("neuron parameter initial value " + std::to_string(init) + " outside [" +
                        std::to_string(lower) + ", " + std::to_string(upper) + "]");
    value_.setConstant(mode == Train::per_layer ? 1 : neurons, 1, S(init));
    grad_.setZero(value_.rows(), 1);
    refresh();
  }

  Train mode() const noexcept { return mode_; }
  bool trainable() const noexcept { return mode_ != Train::fixed; }
  Index neurons() const noexcept { return n_; }
  double lower() const noexcept { return lower_; }
  double upper() const noexcept { return upper_; }

  /// Per-neuron values (a per-layer value broadcast); valid after refresh().
  const Vector<S>& values() const noexcept { return eff_; }
  /// Recomputes the per-neuron values from the stored parameter (after an optimizer step).
  void refresh() {
    eff_.resize(n_);
    if (value_.rows() == 1)
      eff_.setConstant(value_(0, 0));
    else
      eff_ = value_.col(0);
  }

  /// Sets every neuron to v.
  void set(double v) {
    check(v);
    value_.setConstant(S(v));
    refresh();
  }
  /// Sets per-neuron values (not allowed for a per-layer parameter unless all equal).
  void set(const Vector<S>& v) {
    if (v.size() != n_) throw ShapeError("neuron parameter: expected " + std::to_string(n_) + " values, got " + std::to_string(v.size()));
    for (Index i = 0; i < v.size(); ++i) check(double(v[i]));
    if (mode_ == Train::per_layer) {
      if ((v.array() != v[0]).any()) throw ConfigError("a per-layer parameter must have one value for all neurons");
      value_(0, 0) = v[0];
    } else {
      value_.col(0) = v;
    }
    refresh();
  }

  Matrix<S>& raw() noexcept { return value_; }
  const Matrix<S>& raw() const noexcept { return value_; }
  Matrix<S>& grad() noexcept { return grad_; }
  void zero_grad() { grad_.setZero(); }

  /// Adds a per-neuron gradient (summed over neurons for a per-layer parameter).
  template <class V>
  void add_grad(const V& per_neuron) {
    if (mode_ == Train::per_layer)
      grad_(0, 0) += per_neuron.sum();
    else if (mode_ == Train::per_neuron)
      grad_.col(0) += per_neuron;
  }

  /// Visits the parameter if it is trainable.
  template <class F>
  void visit(F&& f, std::string_view name, ParamGroup group) {
    if (trainable()) f(ParamRef<S>{name, group, value_, grad_, S(lower_), S(upper_)});
  }

  static std::string mode_name(Train m) {
    switch (m) {
      case Train::fixed: return "fixed";
      case Train::per_layer: return "layer";
      case Train::per_neuron: return "neuron";
    }
    return "?";
  }

  template <class Ar>
  void save(Ar& ar, std::uint32_t) const {
    ar(cereal::make_nvp("mode", static_cast<std::uint8_t>(mode_)), cereal::make_nvp("neurons", std::int64_t(n_)),
       cereal::make_nvp("lower", lower_), cereal::make_nvp("upper", upper_));
    ar(cereal::make_nvp("value", value_));
  }
  template <class Ar>
  void load(Ar& ar, std::uint32_t) {
    std::uint8_t m = 0;
    std::int64_t n = 0;
    ar(cereal::make_nvp("mode", m), cereal::make_nvp("neurons", n), cereal::make_nvp("lower", lower_),
       cereal::make_nvp("upper", upper_));
    Matrix<S> v;
    ar(cereal::make_nvp("value", v));
    if (m > 2 || n < 0 || v.cols() != 1 || v.rows() != (Train(m) == Train::per_layer ? 1 : n))
      throw cereal::Exception("neuron parameter: inconsistent stored sizes");
    mode_ = Train(m);
    n_ = n;
    value_ = std::move(v);
    grad_.setZero(value_.rows(), 1);
    refresh();
  }

 private:
  void check(double v) const {
    if (!(lower_ <= v && v <= upper_))
      throw ConfigError("neuron parameter value " + std::to_string(v) + " outside [" + std::to_string(lower_) + ", " +
                        std::to_string(upper_) + "]");
  }
  Train mode_ = Train::fixed;
  Index n_ = 0;
  double lower_ = 0, upper_ = 0;
  Matrix<S> value_, grad_;
  Vector<S> eff_;
};

}  // namespace spikelab

SPIKELAB_CLASS_VERSION((class S), (spikelab::NeuronParameter<S>), 1)

#endif
