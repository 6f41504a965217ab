// The translation unit that builds the precompiled umbrella header shared by the compile-fail
// programs (tests/CMakeLists.txt, spikelab_add_compile_fail_test).
