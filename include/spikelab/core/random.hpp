/**
 * @file core/random.hpp
 * @brief Rng: an explicit, seedable random number generator (xoshiro256++), passed by
 *        reference wherever randomness is needed. spikelab holds no global RNG state.
 *
 * The distributions below are spikelab's own, so a seed gives the same numbers with every
 * compiler and standard library.
 *
 * @code
 * @article{blackman2021scrambled, title={Scrambled linear pseudorandom number generators},
 *   author={Blackman, David and Vigna, Sebastiano}, journal={ACM TOMS}, year={2021}}
 * @endcode
 */
#ifndef SPIKELAB_CORE_RANDOM_HPP
#define SPIKELAB_CORE_RANDOM_HPP

#include <array>
#include <cmath>
#include <cstdint>
#include <limits>
#include <numbers>

namespace spikelab {

/// Everything an Rng's future output depends on: the four xoshiro words and the spare normal
/// of the polar method. Training checkpoints store it so that a resumed run draws the same
/// numbers as an uninterrupted one.
struct RngState {
  std::array<std::uint64_t, 4> words{};  ///< the four xoshiro256++ words
  double spare = 0.0;  ///< the second normal of the last polar draw
  bool has_spare = false;  ///< whether `spare` is still unused
  /// Equal states continue with equal streams.
  bool operator==(const RngState&) const = default;
};

/// The explicit, seedable random number generator (xoshiro256++, Blackman & Vigna, ACM TOMS
/// 2021) with spikelab's own distributions, so that a seed gives the same numbers with every
/// compiler and standard library; it models std::uniform_random_bit_generator.
class Rng {
 public:
  using result_type = std::uint64_t;  ///< 64 random bits (std::uniform_random_bit_generator)

  /// A generator seeded with `seed` (through splitmix64, so nearby seeds give unrelated streams).
  /// @param seed the seed
  explicit Rng(std::uint64_t seed = 0x5eed5eedULL) { reseed(seed); }

  /// Restarts the generator from `seed`, as a new Rng(seed).
  void reseed(std::uint64_t seed) {
    std::uint64_t x = seed;
    for (auto& w : s_) w = splitmix(x);
    has_spare_ = false;
  }

  /// The generator's complete state; set_state(state()) continues the same stream.
  RngState state() const noexcept { return {{s_[0], s_[1], s_[2], s_[3]}, spare_, has_spare_}; }
  /// Continues the stream saved by state().
  void set_state(const RngState& st) noexcept {
    for (std::size_t k = 0; k < 4; ++k) s_[k] = st.words[k];
    spare_ = st.spare;
    has_spare_ = st.has_spare;
  }

  /// The smallest value operator() returns (std::uniform_random_bit_generator).
  static constexpr result_type min() { return 0; }
  /// The largest value operator() returns (std::uniform_random_bit_generator).
  static constexpr result_type max() { return std::numeric_limits<result_type>::max(); }

  /// The next 64 random bits (xoshiro256++).
  result_type operator()() noexcept {
    const std::uint64_t r = rotl(s_[0] + s_[3], 23) + s_[0];
    const std::uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = rotl(s_[3], 45);
    return r;
  }

  /// A new generator whose stream is derived from this one's state and `stream`
  /// (for per-thread or per-sample streams); this generator is not advanced.
  Rng fork(std::uint64_t stream) const noexcept {
    std::uint64_t x = s_[0] ^ (s_[1] * 0x9E3779B97F4A7C15ULL) ^ (stream * 0xD1B54A32D192ED03ULL) ^ s_[3];
    return Rng(splitmix(x));
  }

  /// Uniform in [0, 1).
  double uniform() noexcept { return static_cast<double>((*this)() >> 11) * 0x1.0p-53; }
  /// Uniform in [lo, hi).
  double uniform(double lo, double hi) noexcept { return lo + (hi - lo) * uniform(); }
  /// Uniform integer in [0, n).
  std::uint64_t below(std::uint64_t n) noexcept {
    // Lemire's nearly divisionless method.
    __uint128_t m = static_cast<__uint128_t>((*this)()) * n;
    auto l = static_cast<std::uint64_t>(m);
    if (l < n) {
      const std::uint64_t t = (0 - n) % n;
      while (l < t) {
        m = static_cast<__uint128_t>((*this)()) * n;
        l = static_cast<std::uint64_t>(m);
      }
    }
    return static_cast<std::uint64_t>(m >> 64);
  }
  /// True with probability p.
  bool bernoulli(double p) noexcept { return uniform() < p; }
  /// Standard normal (Marsaglia polar method).
  double normal() noexcept {
    if (has_spare_) {
      has_spare_ = false;
      return spare_;
    }
    double u, v, q;
    do {
      u = 2.0 * uniform() - 1.0;
      v = 2.0 * uniform() - 1.0;
      q = u * u + v * v;
    } while (q >= 1.0 || q == 0.0);
    const double f = std::sqrt(-2.0 * std::log(q) / q);
    spare_ = v * f;
    has_spare_ = true;
    return u * f;
  }
  /// Normal with the given mean and standard deviation.
  double normal(double mean, double sd) noexcept { return mean + sd * normal(); }

 private:
  static std::uint64_t rotl(std::uint64_t x, int k) noexcept { return (x << k) | (x >> (64 - k)); }
  static std::uint64_t splitmix(std::uint64_t& x) noexcept {
    std::uint64_t z = (x += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
  }
  std::uint64_t s_[4]{};
  double spare_ = 0.0;
  bool has_spare_ = false;
};

}  // namespace spikelab

#endif
