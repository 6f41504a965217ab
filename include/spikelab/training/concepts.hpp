/**
 * @file training/concepts.hpp
 * @brief The EmitsSpikes concept, with its archetype.
 *
 * EmitsSpikes<L>: a layer whose output is spikes, so that spike statistics
 * (training/spike_stats.hpp) count it: a SpikingNeuronLayer (a membrane decay and a threshold,
 * neurons/concepts.hpp), or any layer declaring `static constexpr bool emits_spikes = true`.
 */
#ifndef SPIKELAB_TRAINING_CONCEPTS_HPP
#define SPIKELAB_TRAINING_CONCEPTS_HPP

#include <spikelab/neurons/concepts.hpp>

namespace spikelab {

/// A layer whose output is spikes (see the file comment).
/// @tparam L the layer type
template <class L>
concept EmitsSpikes = SpikingNeuronLayer<L> || requires { requires L::emits_spikes; };

/// The smallest EmitsSpikes: a type that declares it.
struct EmitsSpikesArchetype {
  static constexpr bool emits_spikes = true;  ///< the declaration
};
static_assert(EmitsSpikes<EmitsSpikesArchetype> && EmitsSpikes<SpikingNeuronLayerArchetype> &&
              !EmitsSpikes<LayerArchetype>);

}  // namespace spikelab

#endif
