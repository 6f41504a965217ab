// Counts heap allocations (malloc, and so operator new) while enabled; used to check that the
// online rules do not allocate inside their per-time-step loops. The counting malloc is
// defined in alloc_counter.cpp and forwards to glibc's allocator.
#ifndef SPIKELAB_TESTS_PROBABILISTIC_ALLOC_COUNTER_HPP
#define SPIKELAB_TESTS_PROBABILISTIC_ALLOC_COUNTER_HPP

namespace spikelab::test {
/// Whether this build counts allocations (glibc only).
bool allocation_counting_available();
void start_counting_allocations();
/// Stops counting and returns the number of allocations since start_counting_allocations().
long stop_counting_allocations();
}  // namespace spikelab::test

#endif
