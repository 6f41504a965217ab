// Concept: EventFormat
// A FileListDataset decodes its files with an EventFormat reader; a reader without parse(bytes, name) is refused.
#include <spikelab/data/datasets/event_dataset.hpp>

struct ReadOnly {
  static std::string name() { return "ReadOnly"; }
  spikelab::SensorSize sensor() const { return {}; }
  spikelab::EventSample read(const std::filesystem::path&) const { return {}; }
};

int main() {
#ifdef SPIKELAB_SHOULD_FAIL
  spikelab::FileListDataset<ReadOnly> data({}, {}, 2);
#else
  spikelab::FileListDataset<spikelab::EventFormatArchetype> data({}, {}, 2);
#endif
  return int(data.size());
}
