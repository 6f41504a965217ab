/**
 * @file data/concepts.hpp
 * @brief The concepts of the data pipeline, with their archetypes: event readers, event data
 *        sets, transforms and static encoders.
 *
 *  - EventFormat<F>: one interface for every single-recording event reader. `F::name()` (the
 *    format's name for messages); `f.sensor()` (the SensorSize the events must fit: a record
 *    outside it is an error); `f.parse(bytes, name)` decodes a whole file already in memory
 *    (`name` is used in errors); `f.read(path)` reads and decodes a file. Both return an
 *    EventSample (label -1) whose events are time-ordered; every problem throws FileError
 *    (cannot open) or FormatError (bad content) naming the file and the byte offset.
 *  - EventDataset<D>: what the loader reads from. `d.size()`, `d.get(i)` (the i-th EventSample,
 *    label set), `d.sensor()` and `d.classes()`. `get` may read from disk; the loader calls it
 *    from one worker thread at a time.
 *  - InPlaceTransform<T, X>: a stage `t(x, rng)` that modifies a value of type X in place and
 *    returns void (it may ignore the Rng). EventTransform<T>: an in-place transform of
 *    EventSamples.
 *  - FrameTransform<T>: a transform whose application to an EventSample (apply_transform, in
 *    place or converting) gives Frames, what the loader batches.
 *  - StaticEncoder<E, S>: `e.encode(x, b, out, rng)` writes sample column b of every step of
 *    `out` (a `TimeSeries<S>`) from the F values x[0..F) of a static input (out.features() == F);
 *    `E::name()`.
 */
#ifndef SPIKELAB_DATA_CONCEPTS_HPP
#define SPIKELAB_DATA_CONCEPTS_HPP

#include <spikelab/core/random.hpp>
#include <spikelab/core/time_series.hpp>
#include <spikelab/data/event.hpp>
#include <spikelab/data/frames.hpp>

#include <concepts>
#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <type_traits>
#include <utility>

namespace spikelab {

/// The bytes of a whole file in memory.
using ByteSpan = std::span<const std::uint8_t>;

/// A single-recording event reader (see the file comment).
/// @tparam F the reader type
template <class F>
concept EventFormat = requires(const F& f, ByteSpan bytes, const std::string& name, const std::filesystem::path& p) {
  { F::name() } -> std::convertible_to<std::string>;
  { f.sensor() } -> std::same_as<SensorSize>;
  { f.parse(bytes, name) } -> std::same_as<EventSample>;
  { f.read(p) } -> std::same_as<EventSample>;
};

/// The smallest EventFormat: every file holds no event.
struct EventFormatArchetype {
  /// The type's name, as signatures, reports and checkpoints spell it.
  static std::string name() { return "EventFormatArchetype"; }
  /// The sensor the samples live on.
  SensorSize sensor() const { return {}; }
  /// An empty sample.
  EventSample parse(ByteSpan, const std::string&) const { return {}; }
  /// An empty sample.
  EventSample read(const std::filesystem::path&) const { return {}; }
};
static_assert(EventFormat<EventFormatArchetype>);

/// What the loader reads from (see the file comment).
/// @tparam D the data set type
template <class D>
concept EventDataset = requires(const D& d, Index i) {
  { d.size() } -> std::convertible_to<Index>;
  { d.get(i) } -> std::same_as<EventSample>;
  { d.sensor() } -> std::same_as<SensorSize>;
  { d.classes() } -> std::convertible_to<int>;
};

/// The smallest EventDataset: no recording.
struct EventDatasetArchetype {
  /// The number of samples.
  Index size() const { return 0; }
  /// An empty sample.
  EventSample get(Index) const { return {}; }
  /// The sensor the samples live on.
  SensorSize sensor() const { return {}; }
  /// The number of classes.
  int classes() const { return 0; }
};
static_assert(EventDataset<EventDatasetArchetype>);

/// A stage that modifies a value of type X in place.
/// @tparam T the transform type
/// @tparam X the type it changes (EventSample)
template <class T, class X>
concept InPlaceTransform = requires(const T& t, X& x, Rng& rng) {
  { t(x, rng) } -> std::same_as<void>;
};

/// The smallest InPlaceTransform of X: the identity.
/// @tparam X the type it changes
template <class X>
struct InPlaceTransformArchetype {
  /// Leaves the sample as it is.
  void operator()(X&, Rng&) const {}
};
static_assert(InPlaceTransform<InPlaceTransformArchetype<EventSample>, EventSample> &&
              InPlaceTransform<InPlaceTransformArchetype<Frames>, Frames>);

/// An in-place transform of event samples.
/// @tparam T the transform type
template <class T>
concept EventTransform = InPlaceTransform<T, EventSample>;

/// The smallest EventTransform: the identity on event samples.
using EventTransformArchetype = InPlaceTransformArchetype<EventSample>;
static_assert(EventTransform<EventTransformArchetype>);

/// Applies one stage to x and returns the result (x itself for an in-place stage).
template <class T, class X>
auto apply_transform(const T& t, X x, Rng& rng) {
  if constexpr (InPlaceTransform<T, X>) {
    t(x, rng);
    return x;
  } else {
    static_assert(std::is_invocable_v<const T&, X&&, Rng&>, "this transform cannot be applied to this value type");
    return t(std::move(x), rng);
  }
}

/// What applying T to an X gives.
template <class T, class X>
using transform_result_t = decltype(apply_transform(std::declval<const T&>(), std::declval<X>(), std::declval<Rng&>()));

/// A transform that maps event samples to Frames (what the loader batches).
/// @tparam T the transform type
template <class T>
concept FrameTransform = std::same_as<transform_result_t<T, EventSample>, Frames>;

/// The smallest FrameTransform: every sample becomes empty Frames.
struct FrameTransformArchetype {
  /// Empty frames.
  Frames operator()(const EventSample&, Rng&) const { return {}; }
};
static_assert(FrameTransform<FrameTransformArchetype>);

/// An encoder of static inputs into T steps of network input (see the file comment).
/// @tparam E the encoder type
/// @tparam S the scalar type of the series it writes
template <class E, class S>
concept StaticEncoder = requires(const E& e, const float* x, Index b, TimeSeries<S>& out, Rng& rng) {
  e.encode(x, b, out, rng);
  { E::name() } -> std::convertible_to<std::string>;
};

/// The smallest StaticEncoder: leaves the input as it is.
struct StaticEncoderArchetype {
  /// The type's name, as signatures, reports and checkpoints spell it.
  static std::string name() { return "StaticEncoderArchetype"; }
  /// Writes the T steps of sample column b of `out` from the F values x (StaticEncoder).
  template <Scalar S>
  void encode(const float*, Index, TimeSeries<S>&, Rng&) const {}
};
static_assert(StaticEncoder<StaticEncoderArchetype, float> && StaticEncoder<StaticEncoderArchetype, double>);

}  // namespace spikelab

#endif
