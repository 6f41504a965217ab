// A malloc that counts calls while enabled (glibc: forwards to __libc_malloc).
#include "support/alloc_counter.hpp"

#include <atomic>
#include <cstddef>

#if __has_include(<features.h>)
#include <features.h>  // defines __GLIBC__ on glibc systems
#endif

namespace {
std::atomic<bool> counting{false};
std::atomic<long> allocations{0};
}  // namespace

#if defined(__GLIBC__)
extern "C" void* __libc_malloc(std::size_t);
extern "C" void* malloc(std::size_t n) {
  if (counting.load(std::memory_order_relaxed)) allocations.fetch_add(1, std::memory_order_relaxed);
  return __libc_malloc(n);
}
#endif

namespace spikelab::test {
bool allocation_counting_available() {
#if defined(__GLIBC__)
  return true;
#else
  return false;
#endif
}
void start_counting_allocations() {
  allocations = 0;
  counting = true;
}
long stop_counting_allocations() {
  counting = false;
  return allocations.load();
}
}  // namespace spikelab::test
