/**
 * @file learning/bptt.hpp
 * @brief Bptt<Loss, Regularizer>: surrogate-gradient backpropagation through time for any
 *        Sequential of spikelab layers, with an optional parameter penalty.
 *
 * Forward over all T steps (layers keep what backward needs), loss and dL/d(output),
 * then the reverse sweep layer by layer; each layer's backward is exact BPTT with respect
 * to its surrogate (tested against finite differences on the smooth twin). A non-finite
 * loss raises NumericError naming the first layer whose output is not finite.
 * The Regularizer policy (learning/regularizers.hpp; NoRegularizer by default) adds its
 * penalty to the training loss and its gradient to the parameter gradients after the
 * backward pass; evaluate() reports the data loss only.
 *
 * @code
 * @article{werbos1990backpropagation, title={Backpropagation through time: what it does and how to do it},
 *   author={Werbos, Paul J.}, journal={Proceedings of the IEEE}, volume={78}, number={10}, year={1990}}
 * @endcode
 */
#ifndef SPIKELAB_LEARNING_BPTT_HPP
#define SPIKELAB_LEARNING_BPTT_HPP

#include <spikelab/core/context.hpp>
#include <spikelab/core/error.hpp>
#include <spikelab/core/versioning.hpp>
#include <spikelab/learning/concepts.hpp>
#include <spikelab/learning/regularizers.hpp>
#include <spikelab/losses/concepts.hpp>

#include <cmath>
#include <cstdint>
#include <string>

namespace spikelab {

/// Surrogate-gradient backpropagation through time for any Sequential of spikelab layers: the
/// forward pass over all T steps, the loss and its gradient, then the reverse sweep layer by
/// layer, plus an optional penalty on the parameters (Werbos, Proceedings of the IEEE 1990).
/// @tparam LossT the loss on the network output (a Loss)
/// @tparam Reg the regulariser policy (NoRegularizer by default; learning/regularizers.hpp)
template <class LossT, class Reg = NoRegularizer>
class Bptt {
 public:
  Bptt() = default;
  /// BPTT with the given loss and regulariser.
  /// @param loss the loss on the network output
  /// @param reg the penalty on the parameters
  explicit Bptt(LossT loss, Reg reg = {}) : loss_(std::move(loss)), reg_(std::move(reg)) {}

  /// The loss.
  LossT& loss() noexcept { return loss_; }
  /// The loss.
  const LossT& loss() const noexcept { return loss_; }
  /// The regulariser.
  Reg& regularizer() noexcept { return reg_; }
  /// The regulariser.
  const Reg& regularizer() const noexcept { return reg_; }

  /// The type's name, as signatures, reports and checkpoints spell it.
  static std::string name() { return "Bptt"; }

  /// What a training checkpoint stores of the rule: nothing, since Bptt carries nothing from
  /// one batch to the next (the loss and the regularizer are configuration the caller gives
  /// again; the gradient buffer is rewritten by every batch).
  template <class Ar>
  void serialize(Ar&, std::uint32_t) {}

  /// Forward pass, loss and backward pass of one batch, adding to the gradients (GradientRule).
  template <class Net>
    requires Loss<LossT, typename Net::scalar_type> && Regularizer<Reg, Net>
  StepStats accumulate(Net& net, const Batch<typename Net::scalar_type>& batch, Rng& rng) {
    using S = typename Net::scalar_type;
    batch.validate();
    const TimeSeries<S>& out = net.forward(batch.input, ForwardContext::train(rng));
    StepStats st;
    st.loss = double(loss_.value_and_gradient(out, batch, grad_.template get<S>()));
    if (!std::isfinite(st.loss)) throw_non_finite(net, st.loss);
    st.tally = loss_.tally(out, batch);
    net.backward(grad_.template get<S>());
    if constexpr (!std::same_as<Reg, NoRegularizer>) st.loss += double(reg_.add_gradient(net));
    return st;
  }

  /// Measures loss and decisions on a batch without learning.
  template <class Net>
    requires Loss<LossT, typename Net::scalar_type>
  StepStats evaluate(Net& net, const Batch<typename Net::scalar_type>& batch) {
    batch.validate();
    const auto& out = net.forward(batch.input, ForwardContext::eval());
    StepStats st;
    st.loss = double(loss_.value(out, batch));
    st.tally = loss_.tally(out, batch);
    return st;
  }

 private:
  template <class Net>
  [[noreturn]] static void throw_non_finite(const Net& net, double loss) {
    std::string where = "no layer output is non-finite (the loss itself overflowed)";
    if (auto bad = net.first_non_finite_layer())
      where = "first non-finite output in layer " + std::to_string(bad->first) + " (" + bad->second + ")";
    throw NumericError("Bptt: loss is " + std::to_string(loss) + "; " + where);
  }
  LossT loss_{};
  Reg reg_{};
  detail::PerScalar<TimeSeries<float>, TimeSeries<double>> grad_;
};

}  // namespace spikelab

SPIKELAB_CLASS_VERSION((class L, class R), (spikelab::Bptt<L, R>), 1)

#endif
