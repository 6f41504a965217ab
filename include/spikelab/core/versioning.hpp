/**
 * @file core/versioning.hpp
 * @brief SPIKELAB_CLASS_VERSION: cereal class versions for class templates.
 *
 * cereal's CEREAL_CLASS_VERSION needs a concrete type; this macro specialises cereal's
 * version record for every instantiation of a template:
 * @code
 * SPIKELAB_CLASS_VERSION((class S), (spikelab::Linear<S>), 1)
 * @endcode
 * Each class's serialize() then receives the stored version on load and rejects versions
 * newer than it knows with check_version(); validate_loaded() turns the ConfigError of a stored
 * configuration it rejects into a cereal::Exception, and ValidatedConfig is the checked
 * configuration of a policy.
 */
#ifndef SPIKELAB_CORE_VERSIONING_HPP
#define SPIKELAB_CORE_VERSIONING_HPP

#include <spikelab/core/error.hpp>

#include <cereal/cereal.hpp>

#include <cstdint>
#include <string>
#include <typeindex>
#include <utility>

#define SPIKELAB_DETAIL_UNPAREN(...) __VA_ARGS__

/// Registers VERSION as the cereal class version of every instantiation of TYPE, a template
/// with the parameters TPARAMS (both parenthesised; see the file comment).
#define SPIKELAB_CLASS_VERSION(TPARAMS, TYPE, VERSION)                                                  \
  namespace cereal::detail {                                                                           \
  template <SPIKELAB_DETAIL_UNPAREN TPARAMS>                                                           \
  struct Version<SPIKELAB_DETAIL_UNPAREN TYPE> {                                                       \
    static std::uint32_t registerVersion() {                                                           \
      ::cereal::detail::StaticObject<Versions>::getInstance().mapping.emplace(                         \
          std::type_index(typeid(SPIKELAB_DETAIL_UNPAREN TYPE)).hash_code(), VERSION);                 \
      return VERSION;                                                                                  \
    }                                                                                                  \
    static inline const std::uint32_t version = registerVersion();                                     \
  };                                                                                                   \
  }

namespace spikelab::detail {

/// Throws if a stored class version is newer than the one this build understands.
inline void check_version(std::uint32_t stored, std::uint32_t known, const char* what) {
  if (stored > known)
    throw cereal::Exception(std::string(what) + ": stored class version " + std::to_string(stored) +
                            " is newer than this build supports (" + std::to_string(known) + ")");
}

/// Runs `validate` on an object just loaded: its ConfigError (a stored configuration this build
/// rejects) becomes a cereal::Exception, prefixed by `what`, so that a checkpoint reader reports it
/// as a bad file.
template <class F>
void validate_loaded(F&& validate, const std::string& what = {}) {
  try {
    validate();
  } catch (const ConfigError& e) {
    throw cereal::Exception(what + e.what());
  }
}

/// The state of a policy that is one configuration C (with C::validate(), throwing ConfigError):
/// checked when it is given, when it is changed and when it is loaded; stored as ("config", C).
template <class C>
class ValidatedConfig {
 public:
  const C& config() const noexcept { return cfg_; }
  void set_config(C cfg) {
    cfg.validate();
    cfg_ = std::move(cfg);
  }

  template <class Ar>
  void save(Ar& ar, std::uint32_t) const {
    ar(cereal::make_nvp("config", cfg_));
  }
  template <class Ar>
  void load(Ar& ar, std::uint32_t) {
    ar(cereal::make_nvp("config", cfg_));
    validate_loaded([this] { cfg_.validate(); });
  }

 protected:
  ValidatedConfig() = default;
  explicit ValidatedConfig(C cfg) : cfg_(std::move(cfg)) { cfg_.validate(); }

  C cfg_{};
};

}  // namespace spikelab::detail

#endif
