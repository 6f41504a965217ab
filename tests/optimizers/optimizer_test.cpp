// Optimizers: hand-computed first steps, group scales, clipping, projection, schedules,
// and minimisation of simple objectives.
#include <spikelab/core/error.hpp>
#include <spikelab/optimizers/optimizer.hpp>

#include <catch2/catch.hpp>
#include <cereal/archives/json.hpp>

#include <cmath>
#include <sstream>

using namespace spikelab;

namespace {
// A stand-in "network" with parameter blocks and hand-set gradients.
template <class S>
struct Params {
  std::vector<Matrix<S>> value, grad;
  std::vector<ParamGroup> group;
  std::vector<std::pair<S, S>> bounds;
  void add(Matrix<S> v, ParamGroup g = ParamGroup::weight,
           std::pair<S, S> b = {-std::numeric_limits<S>::infinity(), std::numeric_limits<S>::infinity()}) {
    grad.push_back(Matrix<S>::Zero(v.rows(), v.cols()));
    value.push_back(std::move(v));
    group.push_back(g);
    bounds.push_back(b);
  }
  template <class F>
  void for_each_parameter(F&& f) {
    for (std::size_t i = 0; i < value.size(); ++i)
      f(ParamRef<S>{"p", group[i], value[i], grad[i], bounds[i].first, bounds[i].second, i});
  }
};
Matrix<double> m1(double v) { return Matrix<double>::Constant(1, 1, v); }
// Two named blocks with unit gradients, as a delay layer has them.
struct WeightAndPosition {
  Matrix<double> w = m1(0.0), gw = m1(1.0), pos = m1(0.0), gpos = m1(1.0);
  template <class F>
  void for_each_parameter(F&& f) {
    f(ParamRef<double>{"weight", ParamGroup::weight, w, gw});
    f(ParamRef<double>{"position", ParamGroup::other, pos, gpos});
  }
};
}  // namespace

TEST_CASE("Adam's first two steps match the bias-corrected update by hand", "[optim][adam]") {
  Params<double> p;
  p.add(m1(1.0));
  Optimizer<double, Adam> opt({.lr = 0.1});
  p.grad[0](0, 0) = 2.0;
  opt.step(p);
  // m = 0.2, v = 0.004; mhat = 2, vhat = 4 -> step 0.1 * 2 / (2 + 1e-8)
  const double p1 = 1.0 - 0.1 * 2.0 / (2.0 + 1e-8);
  CHECK(p.value[0](0, 0) == Approx(p1).epsilon(1e-12));
  p.grad[0](0, 0) = -1.0;
  opt.step(p);
  const double m = 0.9 * 0.2 + 0.1 * -1.0, v = 0.999 * 0.004 + 0.001 * 1.0;
  const double mhat = m / (1 - 0.81), vhat = v / (1 - 0.999 * 0.999);
  CHECK(p.value[0](0, 0) == Approx(p1 - 0.1 * mhat / (std::sqrt(vhat) + 1e-8)).epsilon(1e-12));
  CHECK(opt.steps() == 2);
}

TEST_CASE("Adam with per-epoch bias correction uses the epoch, not the step count, by hand", "[optim][adam]") {
  // the jax.example_libraries adam the hSNN code calls with the epoch index
  Params<double> p;
  p.add(m1(1.0));
  Optimizer<double, Adam> opt({.lr = 0.1}, Adam{.bias_correction = AdamBiasCorrection::per_epoch});
  double m = 0, v = 0, x = 1.0;
  const double grads[5] = {2.0, -1.0, 0.5, 3.0, -2.0};
  const double epochs[5] = {0.0, 0.5, 1.0, 1.5, 4.25};  // progress: two steps in epoch 0, two in 1, one in 4
  for (int k = 0; k < 5; ++k) {
    opt.set_progress(epochs[k], 10);
    p.grad[0](0, 0) = grads[k];
    opt.step(p);
    m = 0.9 * m + 0.1 * grads[k];
    v = 0.999 * v + 0.001 * grads[k] * grads[k];
    const double e = std::floor(epochs[k]) + 1;
    x -= 0.1 * (m / (1 - std::pow(0.9, e))) / (std::sqrt(v / (1 - std::pow(0.999, e))) + 1e-8);
    INFO("step " << k + 1);
    CHECK(p.value[0](0, 0) == Approx(x).epsilon(1e-12));
  }
  // the default per-step correction differs from the second step on
  Params<double> q;
  q.add(m1(1.0));
  Optimizer<double, Adam> plain({.lr = 0.1});
  for (int k = 0; k < 2; ++k) {
    plain.set_progress(epochs[k], 10);
    q.grad[0](0, 0) = grads[k];
    plain.step(q);
  }
  Params<double> r;
  r.add(m1(1.0));
  Optimizer<double, Adam> by_epoch({.lr = 0.1}, Adam{.bias_correction = AdamBiasCorrection::per_epoch});
  for (int k = 0; k < 2; ++k) {
    by_epoch.set_progress(epochs[k], 10);
    r.grad[0](0, 0) = grads[k];
    by_epoch.step(r);
  }
  CHECK(std::abs(q.value[0](0, 0) - r.value[0](0, 0)) > 1e-3);
}

TEST_CASE("SGD with momentum, Nesterov and weight decay by hand", "[optim][sgd]") {
  Params<double> p;
  p.add(m1(1.0));
  Optimizer<double, Sgd> opt({.lr = 0.5}, Sgd{.momentum = 0.9});
  p.grad[0](0, 0) = 1.0;
  opt.step(p);
  CHECK(p.value[0](0, 0) == Approx(0.5));
  opt.step(p);  // m = 0.9 + 1 = 1.9
  CHECK(p.value[0](0, 0) == Approx(0.5 - 0.95));
  Params<double> q;
  q.add(m1(1.0));
  Optimizer<double, Sgd> nes({.lr = 0.5}, Sgd{.momentum = 0.9, .nesterov = true, .weight_decay = 0.1});
  q.grad[0](0, 0) = 1.0;
  nes.step(q);  // d = 1 + 0.1 = 1.1, m = 1.1, step = d + 0.9 m = 2.09
  CHECK(q.value[0](0, 0) == Approx(1.0 - 0.5 * 2.09));
}

TEST_CASE("SGD with the learning rate inside the velocity (cuda-convnet2) by hand", "[optim][sgd]") {
  // v <- 0.9 v + lr (g + 0.1 p); p <- p - v, with the rate changing between the steps
  Params<double> p;
  p.add(m1(1.0));
  Optimizer<double, Sgd> opt({.lr = 0.5}, Sgd{.momentum = 0.9, .weight_decay = 0.1, .lr_inside = true});
  p.grad[0](0, 0) = 1.0;
  opt.step(p);  // v = 0.5 * 1.1 = 0.55
  CHECK(p.value[0](0, 0) == Approx(0.45));
  opt.config().lr = 0.25;
  p.grad[0](0, 0) = -2.0;
  opt.step(p);  // v = 0.9 * 0.55 + 0.25 * (-2 + 0.045) = 0.495 - 0.48875
  CHECK(p.value[0](0, 0) == Approx(0.45 - (0.495 - 0.48875)).epsilon(1e-12));
  // the PyTorch form scales the whole velocity by the new rate instead: 0.25 * (0.9 * 1.1 - 1.955)
  Params<double> q;
  q.add(m1(1.0));
  Optimizer<double, Sgd> pt({.lr = 0.5}, Sgd{.momentum = 0.9, .weight_decay = 0.1});
  q.grad[0](0, 0) = 1.0;
  pt.step(q);
  CHECK(q.value[0](0, 0) == Approx(0.45));  // equal at the first step
  pt.config().lr = 0.25;
  q.grad[0](0, 0) = -2.0;
  pt.step(q);
  CHECK(q.value[0](0, 0) == Approx(0.45 - 0.25 * (0.99 - 1.955)).epsilon(1e-12));
  CHECK(q.value[0](0, 0) != Approx(p.value[0](0, 0)));
  // Nesterov: p <- p - (lr d + mu v)
  Params<double> r;
  r.add(m1(1.0));
  Optimizer<double, Sgd> nes({.lr = 0.5}, Sgd{.momentum = 0.9, .nesterov = true, .lr_inside = true});
  r.grad[0](0, 0) = 1.0;
  nes.step(r);  // v = 0.5, step = 0.5 + 0.45
  CHECK(r.value[0](0, 0) == Approx(1.0 - 0.95));
}

TEST_CASE("An optimizer with cuda-convnet2's SGD and schedule keeps them through serialisation", "[optim][sgd]") {
  Params<double> p;
  p.add(m1(1.0));
  Optimizer<double, Sgd, ExpDecayLr> opt({.lr = 0.5}, Sgd{.momentum = 0.9, .lr_inside = true},
                                         ExpDecayLr{.target_factor = 50.0, .updates_per_epoch = 3});
  p.grad[0](0, 0) = 1.0;
  opt.step(p);
  std::stringstream ss;
  {
    cereal::JSONOutputArchive ar(ss);
    ar(opt);
  }
  Optimizer<double, Sgd, ExpDecayLr> back;
  {
    cereal::JSONInputArchive ar(ss);
    ar(back);
  }
  CHECK(back.update_policy().lr_inside);
  CHECK(back.schedule().target_factor == 50.0);
  CHECK(back.schedule().updates_per_epoch == 3);
  Params<double> q = p;
  p.grad[0](0, 0) = q.grad[0](0, 0) = 0.5;
  opt.step(p);
  back.step(q);  // the same velocity: the same step
  CHECK(q.value[0](0, 0) == p.value[0](0, 0));
}

TEST_CASE("AdamW decays weights outside the moments", "[optim][adamw]") {
  Params<double> p;
  p.add(m1(2.0));
  Optimizer<double, AdamW> opt({.lr = 0.1}, AdamW{.weight_decay = 0.5});
  p.grad[0](0, 0) = 0.0;
  opt.step(p);  // zero gradient: only the decay acts
  CHECK(p.value[0](0, 0) == Approx(2.0 * (1 - 0.05)));
}

TEST_CASE("Group scales, clipping and bounds", "[optim]") {
  Params<double> p;
  p.add(Matrix<double>::Constant(2, 2, 1.0), ParamGroup::weight);
  p.add(m1(1.0), ParamGroup::threshold, {0.5, 2.0});
  p.add(m1(0.5), ParamGroup::time_constant, {0.0, 0.6});
  OptimizerConfig cfg{.lr = 1.0};
  cfg.lr_scale[ParamGroup::threshold] = 0.0;  // frozen group
  Optimizer<double, Sgd> opt(cfg);
  p.grad[0].setConstant(3.0);
  p.grad[1](0, 0) = 5.0;
  p.grad[2](0, 0) = -1.0;  // would move to 1.5, projected to 0.6
  opt.step(p);
  CHECK(p.value[0](0, 0) == Approx(-2.0));
  CHECK(p.value[1](0, 0) == 1.0);
  CHECK(p.value[2](0, 0) == 0.6);
  // global norm clipping: grads (3,4) -> norm 5 -> scaled to norm 1
  Params<double> q;
  q.add(m1(0.0));
  q.add(m1(0.0));
  Optimizer<double, Sgd> clip({.lr = 1.0, .clip_norm = 1.0});
  q.grad[0](0, 0) = 3.0;
  q.grad[1](0, 0) = 4.0;
  clip.step(q);
  CHECK(clip.last_grad_norm() == Approx(5.0));
  CHECK(q.value[0](0, 0) == Approx(-0.6));
  CHECK(q.value[1](0, 0) == Approx(-0.8));
  Optimizer<double, Sgd> cv({.lr = 1.0, .clip_value = 0.5});
  cv.step(q);
  CHECK(q.value[1](0, 0) == Approx(-1.3));
}

TEST_CASE("A non-finite gradient is reported with its parameter and layer", "[optim][errors]") {
  Params<double> p;
  p.add(m1(1.0));
  p.add(m1(1.0));
  p.grad[1](0, 0) = std::numeric_limits<double>::quiet_NaN();
  Optimizer<double, Adam> opt;
  try {
    opt.step(p);
    FAIL("expected NumericError");
  } catch (const NumericError& e) {
    CHECK(std::string(e.what()).find("layer 1") != std::string::npos);
  }
  CHECK(p.value[0](0, 0) == 1.0);  // nothing was updated
}

TEST_CASE("Schedules give the documented factors", "[optim][schedule]") {
  CHECK(StepLr{.every = 5, .gamma = 0.5, .first = 25}.factor(24.9, 60) == 1.0);
  CHECK(StepLr{.every = 5, .gamma = 0.5, .first = 25}.factor(25.0, 60) == 0.5);
  CHECK(StepLr{.every = 5, .gamma = 0.5, .first = 25}.factor(31.0, 60) == 0.25);
  CHECK(StepLr{.every = 10, .gamma = 0.1}.factor(9.5, 30) == 1.0);
  CHECK(StepLr{.every = 10, .gamma = 0.1}.factor(20.0, 30) == Approx(0.01));
  CHECK(ExponentialLr{0.985}.factor(2.5, 10) == Approx(0.985 * 0.985));
  CHECK(CosineLr{}.factor(0.0, 10) == Approx(1.0));
  CHECK(CosineLr{}.factor(5.0, 10) == Approx(0.5));
  CHECK(CosineLr{.min_factor = 0.1}.factor(10.0, 10) == Approx(0.1));
  CHECK(CosineLr{.warmup_epochs = 2}.factor(1.0, 10) == Approx(0.5));
  Optimizer<double, Sgd, CosineLr> opt({.lr = 0.2});
  opt.set_progress(5.0, 10);
  CHECK(opt.current_lr() == Approx(0.1));
  // ExpDecayLr: 100^(-e/E) continuously; with 6 updates per epoch constant within a sixth
  CHECK(ExpDecayLr{}.factor(0.0, 4) == Approx(1.0));
  CHECK(ExpDecayLr{}.factor(2.0, 4) == Approx(0.1));
  CHECK(ExpDecayLr{}.factor(4.0, 4) == Approx(0.01));
  CHECK(ExpDecayLr{}.factor(1.0, 4) == Approx(std::pow(100.0, -0.25)));
  const ExpDecayLr stepped{.target_factor = 100.0, .updates_per_epoch = 6};
  CHECK(stepped.factor(0.1, 2) == Approx(1.0));
  CHECK(stepped.factor(1.0 / 6.0, 2) == Approx(std::pow(100.0, -1.0 / 12.0)));
  CHECK(stepped.factor(0.3, 2) == Approx(std::pow(100.0, -1.0 / 12.0)));
  // the last data batch of the run: cuda-convnet2's progress (12 - 1) / 12
  CHECK(stepped.factor(1.99, 2) == Approx(std::pow(100.0, -11.0 / 12.0)));
  CHECK(ExpDecayLr{.target_factor = 10.0}.factor(7.0, 4) == Approx(0.1));  // clamped after the end
}

TEST_CASE("OneCycleLr gives PyTorch's OneCycleLR factors", "[optim][schedule]") {
  // Reference values: PyTorch 1.13.1, OneCycleLR(max_lr=m, total_steps=E) stepped once per epoch
  // (as the DCLS code does), lr / m printed at each epoch.
  const OneCycleLr one{};
  CHECK(one.factor(0.0, 150) == Approx(0.04).epsilon(1e-12));
  CHECK(one.factor(1.0, 150) == Approx(0.04122298498707832).epsilon(1e-12));
  CHECK(one.factor(1.9, 150) == Approx(0.04122298498707832).epsilon(1e-12));  // constant within an epoch
  CHECK(one.factor(37.0, 150) == Approx(0.9412859149922826).epsilon(1e-12));
  CHECK(one.factor(44.0, 150) == Approx(1.0).epsilon(1e-12));
  CHECK(one.factor(45.0, 150) == Approx(0.999776217036887).epsilon(1e-12));
  CHECK(one.factor(75.0, 150) == Approx(0.7999117477001674).epsilon(1e-12));
  CHECK(one.factor(148.0, 150) == Approx(0.0002277829631129057).epsilon(1e-9));
  CHECK(one.factor(149.0, 150) == Approx(4e-6).epsilon(1e-9));
  CHECK(one.factor(151.0, 150) == Approx(4e-6).epsilon(1e-9));  // held after the end
  CHECK(one.factor(1.0, 10) == Approx(0.52).epsilon(1e-12));
  CHECK(one.factor(3.0, 10) == Approx(0.9504846320134737).epsilon(1e-12));
  CHECK(one.factor(8.0, 10) == Approx(0.049519367986526286).epsilon(1e-12));
  // k updates per epoch: the same curve over k E steps
  const OneCycleLr per_batch{.updates_per_epoch = 15};
  CHECK(per_batch.factor(1.0 / 15.0, 10) == Approx(one.factor(1.0, 150)).epsilon(1e-12));
  CHECK(per_batch.factor(5.0, 10) == Approx(one.factor(75.0, 150)).epsilon(1e-12));
}

TEST_CASE("SplitSchedule gives the named blocks their own rate and schedule", "[optim][schedule]") {
  const SplitSchedule<OneCycleLr, CosineLr> split{.names = {"position"}, .scale = 20.0};
  CHECK(split.factor(75.0, 150) == Approx(OneCycleLr{}.factor(75.0, 150)));
  CHECK(split.factor(75.0, 150, "weight") == Approx(OneCycleLr{}.factor(75.0, 150)));
  CHECK(split.factor(75.0, 150, "position") == Approx(20.0 * 0.5));
  // in an optimizer: SGD moves each block by its own rate; the group scale still applies
  WeightAndPosition net;
  OptimizerConfig cfg{.lr = 0.1};
  cfg.lr_scale[ParamGroup::other] = 0.5;
  Optimizer<double, Sgd, SplitSchedule<OneCycleLr, CosineLr>> opt(cfg, {}, split);
  opt.set_progress(75.0, 150);
  CHECK(opt.lr_of(ParamGroup::weight, "weight") == Approx(0.1 * OneCycleLr{}.factor(75.0, 150)));
  CHECK(opt.lr_of(ParamGroup::other, "position") == Approx(0.1 * 10.0 * 0.5));
  opt.step(net);
  CHECK(net.w(0, 0) == Approx(-0.1 * OneCycleLr{}.factor(75.0, 150)));
  CHECK(net.pos(0, 0) == Approx(-0.5));
  // kept through serialisation
  std::stringstream ss;
  {
    cereal::JSONOutputArchive ar(ss);
    ar(opt);
  }
  Optimizer<double, Sgd, SplitSchedule<OneCycleLr, CosineLr>> back;
  {
    cereal::JSONInputArchive ar(ss);
    ar(back);
  }
  REQUIRE(back.schedule().names == std::vector<std::string>{"position"});
  CHECK(back.schedule().scale == 20.0);
  CHECK(back.lr_of(ParamGroup::other, "position") == Approx(0.5));
}

TEMPLATE_TEST_CASE("Adam, AdamW and momentum SGD minimise a shifted ill-conditioned quadratic", "[optim]", float,
                   double) {
  using S = TestType;
  auto run = [](auto opt) {
    Params<S> p;
    p.add(Matrix<S>::Zero(3, 1));
    Vector<S> target(3), scale(3);
    target << 1, -2, 0.5;
    scale << 1, 10, 100;
    for (int i = 0; i < 3000; ++i) {
      p.grad[0] = (scale.array() * (p.value[0].col(0) - target).array()).matrix();
      opt.step(p);
    }
    return (p.value[0].col(0) - target).norm();
  };
  CHECK(run(Optimizer<S, Adam>({.lr = 0.01})) < 1e-2);
  CHECK(run(Optimizer<S, AdamW>({.lr = 0.01}, AdamW{.weight_decay = 0.0})) < 1e-2);
  CHECK(run(Optimizer<S, Sgd>({.lr = 0.005}, Sgd{.momentum = 0.9})) < 1e-3);
}
