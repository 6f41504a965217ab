// libFuzzer target: label lists (NMNISTsmall) and DVS Gesture label CSVs.
#include <spikelab/data/formats/label_files.hpp>

#include "fuzz_check.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace spikelab;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  try {
    for (const LabelEntry& e : parse_label_list(text, "fuzz")) fuzz::require(e.id >= 0 && e.label >= 0, "bad label entry");
  } catch (const FormatError&) {
  }
  try {
    for (const EventWindow& w : parse_gesture_labels(text, "fuzz"))
      fuzz::require(w.start >= 0 && w.end > w.start && w.label >= 0, "bad gesture window");
  } catch (const FormatError&) {
  }
  return 0;
}
