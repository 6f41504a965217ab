// spikelab-na-train: trains the spiking networks of neighbourhood aggregation (Yang, Zhang & Li, ICML
// 2021) with NA or, on the very same network, with surrogate-gradient BPTT.
//
//  - MNIST (--dataset mnist --data DIR with idx files): 15C5-P2-40C5-P2-300-10, T = 5, images
//    repeated as analog input (normalised as torchvision's Normalize(0.1307, 0.3081)) and PSP-filtered, NA-LIF layers (tau_m 5, tau_s 2, threshold 1),
//    non-spiking sum pooling with weight 1.1, PSP-kernel MSE loss (all-ones desired train);
//    AdamW betas (0, 0.999), lr 5e-4, ExponentialLR 0.985 per epoch, gradient-norm clip 1,
//    weights clamped to [-4, 4] after every step.
//  - Fashion-MNIST (--dataset fashion --data DIR, the same idx layout; Debian's package puts it in
//    /usr/share/datasets/fashion-mnist): the MNIST pipeline with --arch cnn (--channels1/2, --padding,
//    --hidden) or an MLP.
//  - N-MNIST (--dataset nmnist --data DIR, N-MNIST Train/Test folders or NMNISTsmall):
//    12C5(pad 1)-P2-64C5-P2-dropout 0.2-10, T = 30 binary frames of 10 ms at 34 x 34 x 2, tau_m 8,
//    tau_s 4, count loss (15 desired / 3 undesired), conv weights x3 (--init-scale; see main()).
//    --channels1/--channels2 shrink it.
// --protocol na-paper sets what the official code sets for the paper's Fashion-MNIST networks
// (Networks/FashionMNIST_400_400.yaml with --arch mlp2, FashionMNIST_CNN.yaml with --arch cnn) and
// prints every value. --rule na (default) | surrogate; --form poster (default; official under the
// protocol) | first-order | official | custom (see NaConfig). --arch mlp replaces a CNN by
// PSP -> in-H-10, mlp2 by PSP -> in-H-H-10. --csv FILE appends one row per epoch (with the rule and
// seed), --resume FILE continues a run from its training checkpoint and keeps it up to date.
#include <spikelab/spikelab.hpp>

#include "common/command_line.hpp"
#include "common/report.hpp"
#include "common/training.hpp"

#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <optional>

namespace sl = spikelab;
using spikelab_examples::CommandLine;
using spikelab_examples::fixed;

namespace {

struct Options {
  std::string protocol;
  std::string dataset = "mnist";
  std::string data;
  std::string rule = "na";
  std::string form = "poster";
  std::string arch = "cnn";
  double na_power = 1.0, na_clip = 0.0;
  int na_rescale = 0;
  int epochs = 3;
  long batch = 64;
  long steps = 5;
  double lr = 5e-4;
  double beta1 = 0.0;
  double gamma = 0.985;
  double clip = 1.0;
  double weight_bound = 4.0;
  double weight_decay = 0.01;
  double tau_m = 5.0, tau_s = 2.0, threshold = 1.0;
  double slope = 2.0;
  double init_scale = 1.0;
  int normalize = 1;
  int augment = 0;
  int sum_loss = 0;
  long channels1 = 15, channels2 = 40, hidden = 300, padding = 0;
  double dropout = 0.0;
  double desired = 15.0, undesired = 3.0;
  double bin_ms = 10.0;
  long train_limit = 0, test_limit = 0;
  long test_batch = 500;
  int threads = 2;
  std::uint64_t seed = 1;
  std::string checkpoint;
  std::string csv;
  std::string resume;
  long resume_batches = 200;
  double time_limit = 0;
};

// The rule as it appears in the summary and the CSV: surrogate, na-poster, na-first-order, ...
std::string rule_label(const Options& o) { return o.rule == "na" ? "na-" + o.form : o.rule; }

// --protocol na-paper: the official code's settings for the paper's Fashion-MNIST networks (bf8b564,
// the state behind the published numbers; Networks/FashionMNIST_400_400.yaml and FashionMNIST_CNN.yaml).
// Set before the command line is parsed, so that any option given explicitly still wins.
void apply_protocol(Options& o) {
  if (o.protocol.empty()) return;
  if (o.protocol != "na-paper") throw std::invalid_argument("--protocol must be na-paper (or empty)");
  o.dataset = "fashion";
  if (o.arch != "cnn") o.arch = "mlp2";
  o.steps = 5;
  o.tau_m = 5.0;
  o.threshold = 1.0;
  o.lr = 5e-4;
  o.beta1 = 0.9;
  o.weight_decay = 0.01;  // PyTorch's AdamW default (the code sets none)
  o.gamma = 0.985;
  o.clip = 1.0;
  o.weight_bound = 4.0;
  o.init_scale = 1.0;
  o.normalize = 1;
  o.sum_loss = 1;
  o.augment = 1;  // datasets/loadFashionMNIST.py: RandomCrop(28, 4), RandomHorizontalFlip, RandomRotation(5)
  o.form = "official";
  if (o.arch == "cnn") {  // FashionMNIST_CNN.yaml (the NA author's edit: tau_s 2, 200 epochs)
    o.tau_s = 2.0;
    o.batch = 50;
    o.epochs = 200;
    o.channels1 = 32;
    o.channels2 = 64;
    o.padding = 2;
    o.hidden = 1024;
  } else {  // FashionMNIST_400_400.yaml
    o.tau_s = 3.0;
    o.batch = 100;
    o.epochs = 100;
    o.hidden = 400;
  }
  o.test_batch = o.batch;
}

// Every value the run uses, one per line (what --protocol set, or what was given).
void print_settings(const Options& o) {
  const bool fashion_or_mnist = o.dataset != "nmnist";
  std::cout << "settings" << (o.protocol.empty() ? "" : " (--protocol " + o.protocol + ", then the options given)")
            << ":\n"
            << "  dataset " << o.dataset << ", T = " << o.steps << " steps, batch " << o.batch << " (test batch "
            << o.test_batch << "), epochs " << o.epochs << "\n"
            << "  neurons: NA-LIF, tau_m " << fixed(o.tau_m, 2) << ", tau_s " << fixed(o.tau_s, 2) << ", threshold "
            << fixed(o.threshold, 2) << " (spike when u > threshold, reset to 0; the layer outputs its PSP)\n"
            << "  rule: " << rule_label(o);
  if (o.rule == "surrogate") std::cout << " (fast sigmoid, slope " << fixed(o.slope, 2) << ")";
  std::cout << "\n  loss: " << (o.dataset == "nmnist" ? "PSP count MSE (desired " + fixed(o.desired, 1) + ", undesired " +
                                                            fixed(o.undesired, 1) + ")"
                                                      : std::string("PSP kernel MSE (all-ones desired train)"))
            << ", " << (o.sum_loss ? "summed over the batch" : "averaged over the batch") << "\n"
            << "  optimiser: AdamW lr " << o.lr << ", betas (" << o.beta1 << ", 0.999), eps 1e-8, weight decay "
            << o.weight_decay << "; ExponentialLR gamma " << o.gamma << " per epoch; global gradient-norm clip "
            << o.clip << "; weights clamped to [-" << o.weight_bound << ", " << o.weight_bound << "] after every step\n"
            << "  init: linear N(0, 2/fan_in) (kaiming normal), conv U(+-1/sqrt(fan_in)) x " << o.init_scale
            << "; no biases\n";
  if (fashion_or_mnist)
    std::cout << "  input: pixels " << (o.normalize ? "(x - 0.1307) / 0.3081" : "x in [0, 1]")
              << " repeated over T, PSP-filtered (tau_s); augmentation "
              << (o.augment ? "RandomCrop(28, padding 4) + horizontal flip + rotation U(-5, 5) deg (nearest)" : "none")
              << "\n";
  std::cout << "  network: --arch " << o.arch;
  if (o.arch == "cnn" && fashion_or_mnist)
    std::cout << ", " << o.channels1 << "C5(pad " << o.padding << ")-P2(sum, x1.1)-" << o.channels2 << "C5(pad "
              << o.padding << ")-P2-" << o.hidden << "-10";
  if (o.arch == "mlp") std::cout << ", PSP -> in-" << o.hidden << "-10";
  if (o.arch == "mlp2") std::cout << ", PSP -> in-" << o.hidden << "-" << o.hidden << "-10";
  std::cout << "\n  reported: best test accuracy over the epochs (as the official code) and the final one\n";
}

// One CSV row per epoch, with the rule and seed, appended (several runs may share one file).
class EpochCsv {
 public:
  EpochCsv(std::string path, const Options& o) : path_(std::move(path)), o_(o) {}
  void on_train_begin(const sl::TrainInfo&) {
    if (path_.empty()) return;
    std::error_code ec;
    if (std::filesystem::exists(path_, ec) && std::filesystem::file_size(path_, ec) > 0) return;
    std::ofstream os(path_);
    if (!os) throw sl::FileError(path_, -1, "cannot open the CSV file for writing");
    os << "protocol,dataset,arch,rule,seed,epoch,train_loss,train_accuracy,test_loss,test_accuracy,lr,epoch_seconds\n";
  }
  void on_epoch_end(const sl::TrainInfo& i) {
    if (path_.empty()) return;
    std::ofstream os(path_, std::ios::app);
    if (!os) throw sl::FileError(path_, -1, "cannot append to the CSV file");
    os << (o_.protocol.empty() ? "none" : o_.protocol) << ',' << o_.dataset << ',' << o_.arch << ','
       << rule_label(o_) << ',' << o_.seed << ',' << i.epoch << ',' << i.loss << ',' << i.accuracy << ','
       << i.val_loss << ',' << i.val_accuracy << ',' << i.lr << ',' << i.epoch_seconds << '\n';
  }

 private:
  std::string path_;
  const Options& o_;
};

// --resume FILE: TrainingCheckpointEvery(FILE) when given (every epoch and every --resume-batches
// batches), nothing otherwise.
struct ResumeFile {
  std::optional<sl::TrainingCheckpointEvery> every;
  template <class N, class R, class P>
  void on_train_begin(const sl::TrainInfo& i, sl::Trainer<N, R, P>& t) {
    if (every) every->on_train_begin(i, t);
  }
  template <class N, class R, class P>
  void on_batch_end(const sl::TrainInfo& i, sl::Trainer<N, R, P>& t) {
    if (every) every->on_batch_end(i, t);
  }
  template <class N, class R, class P>
  void on_epoch_end(const sl::TrainInfo& i, sl::Trainer<N, R, P>& t) {
    if (every) every->on_epoch_end(i, t);
  }
  template <class N, class R, class P>
  void on_train_end(const sl::TrainInfo& i, sl::Trainer<N, R, P>& t) {
    if (every) every->on_train_end(i, t);
  }
};

// Weight clamp after every optimizer step (the official code's weight_clipper, [-4, 4]).
struct ClampWeights {
  double bound;
  template <class Net>
  void on_batch_end(const sl::TrainInfo&, Net& net) {
    if (bound <= 0) return;
    const float b = float(bound);
    net.for_each_parameter([&](sl::ParamRef<float> p) {
      if (p.group == sl::ParamGroup::weight) p.value = p.value.cwiseMax(-b).cwiseMin(b);
    });
  }
};

// MNIST / Fashion-MNIST input as in the official code (torchvision Normalize(0.1307, 0.3081)), the
// same analog value at every step: x_t = (x - mean) / std. With `augment` (training only), first the
// official Fashion-MNIST loader's transforms on the 28 x 28 image: RandomCrop(28, padding 4) (zero
// padding), RandomHorizontalFlip(0.5), RandomRotation(5 degrees, nearest, fill 0), drawn from the
// source's per-epoch generator so that a run is reproducible and resumable.
struct NormalizedEncoder {
  double mean = 0.1307, std = 0.3081;
  bool augment = false;
  static std::string name() { return "normalized"; }
  template <sl::Scalar S>
  void encode(const float* x, sl::Index b, sl::TimeSeries<S>& out, sl::Rng& rng) const {
    const sl::Index F = out.features();
    float moved[784];
    if (augment && F == 784) {
      const int dy = int(rng.below(9)) - 4, dx = int(rng.below(9)) - 4;
      const bool flip = rng.uniform() < 0.5;
      const double angle = rng.uniform(-5.0, 5.0) * 3.14159265358979323846 / 180.0;
      const double cs = std::cos(angle), sn = std::sin(angle), c0 = 13.5;
      for (int r = 0; r < 28; ++r)
        for (int c = 0; c < 28; ++c) {
          // inverse map: rotated -> flipped/cropped image -> original image
          const double yr = r - c0, xr = c - c0;
          const int ry = int(std::lround(c0 + cs * yr - sn * xr)), rx = int(std::lround(c0 + sn * yr + cs * xr));
          float v = 0.0f;
          if (ry >= 0 && ry < 28 && rx >= 0 && rx < 28) {
            const int sy = ry + dy, sx = (flip ? 27 - rx : rx) + dx;
            if (sy >= 0 && sy < 28 && sx >= 0 && sx < 28) v = x[sy * 28 + sx];
          }
          moved[r * 28 + c] = v;
        }
      x = moved;
    }
    for (sl::Index t = 0; t < out.steps(); ++t) {
      S* col = out.data() + out.column(b, t) * F;
      for (sl::Index f = 0; f < F; ++f) col[f] = S((double(x[f]) - mean) / std);
    }
  }
};
static_assert(sl::StaticEncoder<NormalizedEncoder, float>);

sl::NaConfig na_config(const Options& o) {
  if (o.form == "poster") return sl::NaConfig::poster();
  if (o.form == "first-order") return sl::NaConfig::first_order();
  if (o.form == "official") return sl::NaConfig::official_code();
  if (o.form == "custom")
    return sl::NaConfig{.distance_power = o.na_power, .clip = o.na_clip, .layer_rescale = o.na_rescale != 0};
  throw std::invalid_argument("--form must be poster, first-order, official or custom (the former 'code' is "
                              "'first-order'; 'official' adds the code's twice-filtered error and rounded rescaling)");
}

std::string na_description(const sl::NaConfig& c) {
  return "NA (" + c.form_name() + " form: weight " +
         (c.clip > 0 ? "clamp(1/d^" + fixed(c.distance_power, 1) + ", " + fixed(c.clip, 1) + ")"
                     : "1/d^" + fixed(c.distance_power, 1)) +
         ", error " + (c.loss_change == sl::NaLossChange::filtered_twice ? "back-accumulated (filtered twice)"
                                                                         : "dL/da (exact first order)") +
         (c.layer_rescale ? std::string(", per-layer rescaling") + (c.round_norms ? " with means rounded to 3 decimals" : "")
                          : std::string()) +
         ")";
}

using Opt = sl::Optimizer<float, sl::AdamW, sl::ExponentialLr>;
Opt make_optimizer(const Options& o) {
  return Opt({.lr = o.lr, .clip_norm = o.clip}, {.beta1 = o.beta1, .beta2 = 0.999, .weight_decay = o.weight_decay},
             {.gamma = o.gamma});
}

// Spike rates of every NA-LIF layer on one batch (a training-mode forward keeps the potentials).
template <class Net, class Src>
std::string spike_rates(Net& net, Src& src) {
  sl::Batch<float> b;
  src.start_epoch(0);
  if (!src.next(b)) return "-";
  sl::Rng rng(1);
  net.forward(b.input, sl::ForwardContext::train(rng));
  std::string s;
  net.for_each_layer([&](auto& l, std::size_t) {
    if constexpr (requires { l.membrane(); l.dynamics(); }) {
      const float th = l.dynamics().threshold;
      const double r = (l.membrane().values().array() > th).template cast<double>().mean();
      s += (s.empty() ? "" : " ") + fixed(r, 3);
    }
  });
  return s;
}

template <class Net, class Loss, class Train, class Test>
int train_and_report(Net& net, Loss loss, Train& train, Test& test, const Options& o, const std::string& what) {
  sl::NaGradientNorms norms;
  const int na_layers = sl::connect_gradient_norms(net, norms);
  std::cout << "network: " << net.signature() << "\n"
            << "parameters: " << net.parameter_count() << "; rule: "
            << (o.rule == "na" ? na_description(na_config(o)) + ", " + std::to_string(na_layers) + " NA layers"
                               : "surrogate BPTT (fast sigmoid, slope " + fixed(o.slope, 2) + ")")
            << "\n";
  loss.sum_over_batch = o.sum_loss != 0;
  sl::Trainer trainer(net, sl::Bptt<Loss>(loss), make_optimizer(o), {.seed = o.seed});
  if (!o.resume.empty() && std::filesystem::exists(o.resume)) {
    spikelab_examples::load_checkpoint_warning_on_changes(o.resume, trainer, o.epochs, std::cout);
    std::cout << "resumed from " << o.resume << ": " << trainer.progress().epoch << " epochs and "
              << trainer.progress().batch << " batches done\n";
  } else {
    std::cout << "spike rates per NA-LIF layer at the start (one test batch): " << spike_rates(net, test) << "\n";
  }
  sl::ProgressPrinter progress(std::cout);
  sl::TimeLimit limit(o.time_limit);
  ClampWeights clamp{o.weight_bound};
  ResumeFile resume;
  if (!o.resume.empty()) resume.every.emplace(o.resume, 1, o.resume_batches);
  EpochCsv csv(o.csv, o);
  // the clamp runs before the checkpoint of a batch, the checkpoint before the CSV row of an epoch
  const sl::FitResult r = trainer.fit(train, test, o.epochs, clamp, resume, csv, progress, limit);
  if (limit.reached()) {
    std::cout << "time limit reached after " << fixed(r.seconds, 1) << " s; "
              << (o.resume.empty() ? "no --resume file" : "continue with the same command (--resume " + o.resume + ")")
              << "\n";
    return 0;
  }
  const sl::EvalResult final_test = trainer.evaluate(test);
  const std::string rates = spike_rates(net, test);
  if (!o.checkpoint.empty()) sl::save_checkpoint(o.checkpoint, net);
  std::cout << "summary: dataset " << o.dataset << ", arch " << o.arch << ", rule " << rule_label(o) << ", seed "
            << o.seed << ", " << r.epochs_run << " epochs, " << fixed(r.seconds, 1) << " s in this call\n"
            << "train accuracy (last epoch): " << fixed(100.0 * r.train_accuracy, 2) << "%\n"
            << "best test accuracy: " << fixed(100.0 * r.best_val_accuracy, 2) << "% (epoch "
            << r.best_epoch << ")\n"
            << "test accuracy: " << fixed(100.0 * final_test.accuracy, 2) << "% on "
            << final_test.tally.total << " " << what << " (loss " << fixed(final_test.loss, 4) << ")\n"
            << "spike rates per NA-LIF layer at the end (one test batch): " << rates << "\n";
  if (!o.checkpoint.empty())
    std::cout << "checkpoint written to: " << std::filesystem::absolute(o.checkpoint).string() << "\n";
  return 0;
}

// ---- --arch mlp: PSP -> in-H-10, --arch mlp2: PSP -> in-H-H-10 (the same NA-LIF neurons and loss) --------

template <class N>
using MlpNet = sl::Sequential<sl::PspFilter<float>, sl::Linear<float>, N, sl::Linear<float>, N>;
template <class N>
using Mlp2Net = sl::Sequential<sl::PspFilter<float>, sl::Linear<float>, N, sl::Linear<float>, N, sl::Linear<float>, N>;

template <class N>
MlpNet<N> make_mlp(sl::Index in, const Options& o, const typename N::derivative_type& derivative) {
  sl::Rng rng(o.seed);
  const sl::NaLifConfig cfg{.tau_m = o.tau_m, .tau_s = o.tau_s, .threshold = o.threshold};
  const sl::LinearConfig lc{.bias = false, .init = sl::Init::kaiming_normal};
  return MlpNet<N>{sl::PspFilter<float>(in, o.tau_s), sl::Linear<float>(in, o.hidden, rng, lc), N(o.hidden, cfg, derivative),
                   sl::Linear<float>(o.hidden, 10, rng, lc), N(10, cfg, derivative)};
}

template <class N>
Mlp2Net<N> make_mlp2(sl::Index in, const Options& o, const typename N::derivative_type& derivative) {
  sl::Rng rng(o.seed);
  const sl::NaLifConfig cfg{.tau_m = o.tau_m, .tau_s = o.tau_s, .threshold = o.threshold};
  const sl::LinearConfig lc{.bias = false, .init = sl::Init::kaiming_normal};
  const sl::Index h = o.hidden;
  return Mlp2Net<N>{sl::PspFilter<float>(in, o.tau_s), sl::Linear<float>(in, h, rng, lc), N(h, cfg, derivative),
                    sl::Linear<float>(h, h, rng, lc),    N(h, cfg, derivative),           sl::Linear<float>(h, 10, rng, lc),
                    N(10, cfg, derivative)};
}

// ---- MNIST / Fashion-MNIST: c1 C5 - P2 - c2 C5 - P2 - H - 10 (MNIST 15/40/300, Fashion 32/64/1024 pad 2) ----

template <class N>
using MnistNet = sl::Sequential<sl::PspFilter<float>, sl::Conv2d<float>, N, sl::SumPool2d<float>, sl::Conv2d<float>, N,
                                sl::SumPool2d<float>, sl::Linear<float>, N, sl::Linear<float>, N>;

template <class D>
int run_images(const Options& o, D derivative) {
  using N = sl::NaLifType<float, D>;
  const std::filesystem::path dir = o.data;
  const sl::ImageDataset train = sl::load_idx_split(dir, "train").head(o.train_limit);
  const sl::ImageDataset test = sl::load_idx_split(dir, "test").head(o.test_limit);
  std::cout << "data: " << dir.string() << ": train " << train.count << " images, test " << test.count << ", T = "
            << o.steps << "\n";
  if (train.height != 28 || train.width != 28) throw std::invalid_argument("the image networks need 28 x 28 images");
  const double mean = o.normalize ? 0.1307 : 0.0, sd = o.normalize ? 0.3081 : 1.0;
  const NormalizedEncoder enc{mean, sd, o.augment != 0}, plain{mean, sd, false};
  sl::ImageSource<float, NormalizedEncoder> train_src(train, enc, {.batch_size = o.batch, .steps = o.steps, .seed = o.seed});
  sl::ImageSource<float, NormalizedEncoder> test_src(test, plain,
                                                     {.batch_size = o.test_batch, .steps = o.steps, .shuffle = false});
  const sl::PspKernelMse loss{.tau_s = o.tau_s};
  if (o.arch == "mlp") {
    auto mlp = make_mlp<N>(784, o, derivative);
    return train_and_report(mlp, loss, train_src, test_src, o, "test images");
  }
  if (o.arch == "mlp2") {
    auto mlp = make_mlp2<N>(784, o, derivative);
    return train_and_report(mlp, loss, train_src, test_src, o, "test images");
  }
  sl::Rng rng(o.seed);
  const sl::NaLifConfig cfg{.tau_m = o.tau_m, .tau_s = o.tau_s, .threshold = o.threshold};
  // PyTorch's default conv init U(+-1/sqrt(fan_in)) times --init-scale, no bias (official code)
  const sl::Conv2dConfig cc{.kernel = 5, .padding = o.padding, .bias = false, .init_scale = o.init_scale};
  sl::Conv2d<float> c1({1, 28, 28}, o.channels1, rng, cc);
  sl::SumPool2d<float> p1(c1.output_shape(), {.kernel = 2, .scale = 1.1});
  sl::Conv2d<float> c2(p1.output_shape(), o.channels2, rng, cc);
  sl::SumPool2d<float> p2(c2.output_shape(), {.kernel = 2, .scale = 1.1});
  const sl::LinearConfig lc{.bias = false, .init = sl::Init::kaiming_normal};
  const sl::Index n1 = c1.output_size(), n2 = c2.output_size(), flat = p2.output_size();
  MnistNet<N> net{sl::PspFilter<float>(784, o.tau_s), std::move(c1), N(n1, cfg, derivative), std::move(p1),
                  std::move(c2), N(n2, cfg, derivative), std::move(p2), sl::Linear<float>(flat, o.hidden, rng, lc),
                  N(o.hidden, cfg, derivative), sl::Linear<float>(o.hidden, 10, rng, lc), N(10, cfg, derivative)};
  return train_and_report(net, loss, train_src, test_src, o, "test images");
}

// ---- N-MNIST: 12C5-P2-64C5-P2-10 -----------------------------------------------------------------

template <class N>
using NmnistNet = sl::Sequential<sl::PspFilter<float>, sl::Conv2d<float>, N, sl::SumPool2d<float>, sl::Conv2d<float>, N,
                                 sl::SumPool2d<float>, sl::Dropout<float>, sl::Linear<float>, N>;

template <class D>
int run_nmnist(const Options& o, D derivative) {
  using N = sl::NaLifType<float, D>;
  const sl::NMnistDataset train = sl::NMnist::load(o.data, "train").head(o.train_limit);
  const sl::NMnistDataset test = sl::NMnist::load(o.data, "test").head(o.test_limit);
  const sl::ToFrame tf = sl::ToFrame::fixed_bins(std::int64_t(o.bin_ms * 1000.0), o.steps, 0, true);
  std::cout << "data: " << o.data << ": train " << train.size() << " recordings, test " << test.size() << "; T = "
            << o.steps << " binary frames of " << o.bin_ms << " ms at 2 x 34 x 34\n";
  using Loader = sl::EventLoader<float, sl::NMnistDataset, sl::ToFrame>;
  Loader train_src(train, tf, {.batch_size = o.batch, .seed = o.seed, .steps = o.steps, .cache = true});
  Loader test_src(test, tf, {.batch_size = 100, .shuffle = false, .steps = o.steps, .cache = true});
  const sl::PspCountMse loss{.desired = o.desired, .undesired = o.undesired};
  if (o.arch == "mlp") {
    auto mlp = make_mlp<N>(2 * 34 * 34, o, derivative);
    return train_and_report(mlp, loss, train_src, test_src, o, "test recordings");
  }
  if (o.arch == "mlp2") {
    auto mlp = make_mlp2<N>(2 * 34 * 34, o, derivative);
    return train_and_report(mlp, loss, train_src, test_src, o, "test recordings");
  }
  sl::Rng rng(o.seed);
  const sl::NaLifConfig cfg{.tau_m = o.tau_m, .tau_s = o.tau_s, .threshold = o.threshold};
  sl::Conv2d<float> c1({2, 34, 34}, o.channels1, rng, {.kernel = 5, .padding = 1, .bias = false, .init_scale = o.init_scale});
  sl::SumPool2d<float> p1(c1.output_shape(), {.kernel = 2, .scale = 1.1});
  sl::Conv2d<float> c2(p1.output_shape(), o.channels2, rng, {.kernel = 5, .bias = false, .init_scale = o.init_scale});
  sl::SumPool2d<float> p2(c2.output_shape(), {.kernel = 2, .scale = 1.1});
  const sl::Index n1 = c1.output_size(), n2 = c2.output_size(), flat = p2.output_size();
  NmnistNet<N> net{sl::PspFilter<float>(2 * 34 * 34, o.tau_s),
                   std::move(c1),
                   N(n1, cfg, derivative),
                   std::move(p1),
                   std::move(c2),
                   N(n2, cfg, derivative),
                   std::move(p2),
                   sl::Dropout<float>(flat, {.p = o.dropout}),
                   sl::Linear<float>(flat, 10, rng, {.bias = false, .init = sl::Init::kaiming_normal}),
                   N(10, cfg, derivative)};
  return train_and_report(net, loss, train_src, test_src, o, "test recordings");
}

template <class D>
int run(const Options& o, D derivative) {
  return o.dataset == "nmnist" ? run_nmnist(o, derivative) : run_images(o, derivative);
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  // read first because they decide the defaults of the other options
  o.protocol = spikelab_examples::early_value(argc, argv, {"protocol"}, "");
  o.dataset = spikelab_examples::early_value(argc, argv, {"dataset"}, o.protocol.empty() ? "mnist" : "fashion");
  o.arch = spikelab_examples::early_value(argc, argv, {"arch"}, o.protocol.empty() ? "cnn" : "mlp2");
  if (o.dataset == "nmnist") {  // NMNIST_CNN.yaml
    o.steps = 30;
    o.tau_m = 8.0;
    o.tau_s = 4.0;
    o.batch = 50;
    o.test_batch = 100;
    o.channels1 = 12;
    o.channels2 = 64;
    o.dropout = 0.2;
    // The official config has weight_scale 1, but with our binary 10 ms frames (PSP-filtered) that leaves
    // the CNN almost silent at the start (spike rates 0.002 / 0.001 / 0.001 per NA-LIF layer); x3 gives
    // 0.02 / 0.11 / 0.23. Pass --init-scale 1 for the official value.
    o.init_scale = 3.0;
  }
  if (o.dataset == "fashion" && o.protocol.empty()) {  // the Fashion-MNIST CNN's shape, MNIST's other defaults
    o.channels1 = 32;
    o.channels2 = 64;
    o.padding = 2;
    o.hidden = o.arch == "cnn" ? 1024 : 400;
  }
  try {
    apply_protocol(o);
  } catch (const std::invalid_argument& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 2;
  }
  CommandLine cli("spikelab-na-train",
                  "Trains the spiking networks of neighbourhood aggregation (NA, Yang, Zhang & Li, ICML 2021) with NA or\n"
                  "with surrogate-gradient BPTT on the same network: --dataset mnist (15C5-P2-40C5-P2-300-10, T = 5, kernel\n"
                  "loss), fashion (32C5-P2-64C5-P2-1024-10 with padding 2, or --arch mlp2 784-400-400-10) or nmnist\n"
                  "(12C5-P2-64C5-P2-10, T = 30, count loss). --protocol na-paper sets the official code's Fashion-MNIST\n"
                  "configuration. --data DIR is required: idx files (plain or .gz) for mnist and fashion, N-MNIST\n"
                  "Train/Test folders or SLAYER's NMNISTsmall for nmnist.");
  cli.protocol(o.protocol, "na-paper: the official code's Fashion-MNIST settings (printed); empty = none")
      .option("dataset", o.dataset, "mnist | fashion | nmnist")
      .option("data", o.data, "data directory (idx files for mnist and fashion; N-MNIST recordings for nmnist)")
      .option("rule", o.rule, "na | surrogate (fast-sigmoid BPTT through the same NA-LIF neurons)")
      .option("arch", o.arch, "cnn (the paper's CNN) | mlp (PSP -> in-H-10) | mlp2 (PSP -> in-H-H-10, H = --hidden)")
      .option("form", o.form,
              "NA form: poster (1/d) | first-order (dL/da, clamp(1/d^3, 5), rescaling) | official (the code: twice-"
              "filtered error, clamp(1/d^3, 5), rescaling with rounded means) | custom")
      .option("na-power", o.na_power, "--form custom: distance power p of the weight 1/d^p")
      .option("na-clip", o.na_clip, "--form custom: upper bound on 1/d^p (0 = none)")
      .option("na-rescale", o.na_rescale, "--form custom: 1 = the official code's per-layer gradient rescaling")
      .option("epochs", o.epochs, "training epochs (the total, also when resuming)")
      .option("batch", o.batch, "batch size")
      .option("test-batch", o.test_batch, "batch size of the evaluation (no effect on the accuracy)")
      .option("steps", o.steps, "time steps T")
      .option("lr", o.lr, "AdamW learning rate")
      .option("beta1", o.beta1, "AdamW beta1 (the code at the paper's time 0.9; its 2022 state 0)")
      .option("gamma", o.gamma, "ExponentialLR factor per epoch")
      .option("clip", o.clip, "global gradient-norm clip (0 = off)")
      .option("weight-bound", o.weight_bound, "clamp weights to [-b, b] after each step (0 = off)")
      .option("weight-decay", o.weight_decay, "AdamW decoupled weight decay (PyTorch's default 0.01)")
      .option("sum-loss", o.sum_loss, "1 = loss summed over the batch (the official code), 0 = averaged")
      .option("tau-m", o.tau_m, "membrane time constant (steps)")
      .option("tau-s", o.tau_s, "PSP time constant (steps)")
      .option("threshold", o.threshold, "firing threshold")
      .option("slope", o.slope, "surrogate rule: fast-sigmoid slope")
      .option("normalize", o.normalize, "mnist, fashion: 1 = pixels (x - 0.1307) / 0.3081 as the official code, 0 = x in [0, 1]")
      .option("augment", o.augment,
              "mnist, fashion: 1 = the official Fashion loader's RandomCrop(28, pad 4) + flip + rotation(5 deg) on the "
              "training images")
      .option("init-scale", o.init_scale, "scale of the convolutions' initial weights (the code's weight_scale; mnist 1, nmnist 3)")
      .option("channels1", o.channels1, "channels of the first convolution")
      .option("channels2", o.channels2, "channels of the second convolution")
      .option("padding", o.padding, "mnist, fashion: zero padding of both convolutions (fashion CNN 2)")
      .option("hidden", o.hidden, "neurons of the dense hidden layer(s) (cnn, mlp, mlp2)")
      .option("dropout", o.dropout, "nmnist: dropout before the output layer")
      .option("desired", o.desired, "nmnist count loss: target count of the labelled class")
      .option("undesired", o.undesired, "nmnist count loss: target count of the other classes")
      .option("bin-ms", o.bin_ms, "nmnist: frame length in ms")
      .option("train-limit", o.train_limit, "use only the first N training samples (0 = all)")
      .option("test-limit", o.test_limit, "use only the first N test samples (0 = all)")
      .threads(o.threads)
      .seed(o.seed, "random seed (weights, shuffling, augmentation, dropout)")
      .option("checkpoint", o.checkpoint, "write the trained network here (empty = no checkpoint)")
      .csv(o.csv, "append one row per epoch (protocol, dataset, arch, rule, seed, epoch, losses, accuracies) here")
      .resume(o.resume, "training checkpoint: continue from it when it exists, keep it up to date (same --threads to be exact)")
      .option("resume-batches", o.resume_batches, "--resume: also write the checkpoint every N batches (0 = epochs only)")
      .option("time-limit", o.time_limit, "stop training after this many seconds (0 = no limit; resume later)");
  if (const auto rc = cli.parse(argc, argv)) return *rc;
  try {
    if (o.dataset != "mnist" && o.dataset != "fashion" && o.dataset != "nmnist")
      throw std::invalid_argument("--dataset must be mnist, fashion or nmnist");
    if (o.protocol == "na-paper" && o.dataset != "fashion")
      throw std::invalid_argument("--protocol na-paper covers the paper's Fashion-MNIST networks (--dataset fashion)");
    if (o.arch != "cnn" && o.arch != "mlp" && o.arch != "mlp2") throw std::invalid_argument("--arch must be cnn, mlp or mlp2");
    if (o.test_batch <= 0 || o.resume_batches < 0) throw std::invalid_argument("--test-batch must be positive, --resume-batches >= 0");
    if (o.data.empty()) throw std::invalid_argument("--data DIR is required (try --help)");
    if (!std::filesystem::is_directory(o.data)) {
      std::cerr << "error: no data directory at " << o.data << "\n";
      return 2;
    }
    sl::set_num_threads(o.threads);
    std::cout << "spikelab " << sl::version::as_string() << ", " << sl::num_threads() << " threads\n";
    if (o.rule == "na") na_config(o);  // rejects an unknown --form before anything is printed
    print_settings(o);
    if (o.rule == "na") return run(o, sl::NeighborhoodAggregation(na_config(o)));
    if (o.rule == "surrogate") return run(o, sl::SurrogateSpikeDerivative<sl::FastSigmoid>{{o.slope}});
    throw std::invalid_argument("--rule must be na or surrogate");
  } catch (const std::invalid_argument& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 2;
  } catch (const sl::Error& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 1;
  }
}
