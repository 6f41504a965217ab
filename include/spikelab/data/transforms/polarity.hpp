/**
 * @file data/transforms/polarity.hpp
 * @brief MergePolarities (tonic's name): every event gets polarity 0 and the sensor keeps one
 *        channel, so frames count ON and OFF events together (C = 1; MNIST-DVS's "C_1" data):
 *        \f$ p' = 0 \f$, \f$ P' = 1 \f$.
 *
 * @code
 * @misc{lenz2021tonic, title={Tonic: event-based datasets and transformations}, author={Lenz, Gregor
 *   and Chaney, Kenneth and Shrestha, Sumit Bam and others}, year={2021},
 *   note={https://github.com/neuromorphs/tonic}}
 * @endcode
 */
#ifndef SPIKELAB_DATA_TRANSFORMS_POLARITY_HPP
#define SPIKELAB_DATA_TRANSFORMS_POLARITY_HPP

#include <spikelab/core/random.hpp>
#include <spikelab/data/event.hpp>

namespace spikelab {

/// Gives every event polarity 0 and the sensor one channel, \f$ p' = 0,\ P' = 1 \f$, so frames
/// count ON and OFF events together.
struct MergePolarities {
  /// Applies the transform to the sample in place (an InPlaceTransform).
  void operator()(EventSample& s, Rng&) const noexcept {
    for (Event& e : s.events) e.p = 0;
    s.sensor.polarities = 1;
  }
};

}  // namespace spikelab

#endif
