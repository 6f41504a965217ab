// Conv2d: forward against a direct nested-loop convolution, backward against the adjoint and
// against finite differences in smooth-twin networks, chunking, errors and checkpoints.
#include "support/layers_support.hpp"

using namespace spikelab;

namespace {

struct Variant {
  ImageShape in;
  Index out_channels, kernel, stride, padding;
};

const Variant kVariants[] = {
    {{2, 7, 6}, 3, 3, 1, 0},  // plain, non-square input
    {{2, 7, 7}, 4, 3, 2, 1},  // stride 2, padding 1
    {{1, 6, 5}, 2, 5, 1, 2},  // "same" padding
    {{3, 8, 9}, 2, 2, 3, 1},  // stride larger than the kernel
    {{2, 5, 5}, 3, 1, 1, 0},  // 1x1
    {{1, 4, 4}, 2, 4, 1, 3},  // padding larger than half the kernel
};

template <class S>
void check_forward_matches_direct(std::uint64_t seed, Index chunk_elements) {
  Rng rng(seed);
  for (const Variant& v : kVariants) {
    for (bool bias : {true, false}) {
      Conv2d<S> conv(v.in, v.out_channels, rng,
                     {.kernel = v.kernel, .stride = v.stride, .padding = v.padding, .bias = bias});
      conv.set_chunk_elements(chunk_elements);
      TimeSeries<S> x(v.in.size(), 3, 4), y;
      test::fill_uniform(x, rng, -1.0, 1.0);
      conv.forward(x, y, ForwardContext::eval());
      const Matrix<S> ref = test::direct_conv2d(conv, x);
      INFO(conv.signature() << " chunk " << chunk_elements);
      REQUIRE(y.features() == ref.rows());
      REQUIRE(y.columns() == ref.cols());
      REQUIRE(y.batch() == 3);
      REQUIRE(y.steps() == 4);
      const double tol = std::same_as<S, float> ? 1e-5 : 1e-12;
      CHECK((y.values() - ref).cwiseAbs().maxCoeff() <= tol * (1.0 + ref.cwiseAbs().maxCoeff()));
    }
  }
}

}  // namespace

TEST_CASE("Conv2d forward equals a direct nested-loop convolution", "[conv2d]") {
  check_forward_matches_direct<double>(1, Index(1) << 20);
  check_forward_matches_direct<float>(2, Index(1) << 20);
  // tiny chunks: one column per chunk, and chunk boundaries inside the batch*T columns
  check_forward_matches_direct<double>(3, 1);
  check_forward_matches_direct<float>(4, 700);
}

TEST_CASE("Conv2d output shape follows floor((n + 2p - k)/s) + 1", "[conv2d]") {
  Rng rng(1);
  CHECK(Conv2d<float>({2, 34, 34}, 12, rng, {.kernel = 5}).output_shape() == ImageShape{12, 30, 30});
  CHECK(Conv2d<float>({12, 15, 15}, 32, rng, {.kernel = 5}).output_shape() == ImageShape{32, 11, 11});
  CHECK(Conv2d<float>({3, 32, 32}, 8, rng, {.kernel = 3, .stride = 2, .padding = 1}).output_shape() ==
        ImageShape{8, 16, 16});
  CHECK(Conv2d<float>({1, 5, 8}, 1, rng, {.kernel = 3, .stride = 2}).output_shape() == ImageShape{1, 2, 3});
  Conv2d<float> c({2, 6, 6}, 3, rng, {.kernel = 3});
  CHECK(c.input_size() == 72);
  CHECK(c.output_size() == 48);
  CHECK(c.weight().rows() == 3);
  CHECK(c.weight().cols() == 18);
}

TEST_CASE("Conv2d backward equals the adjoint of the direct convolution", "[conv2d]") {
  // <G, conv(x)> is bilinear: dL/dW and dL/dx must match the sums written out by hand.
  Rng rng(7);
  for (const Variant& v : kVariants) {
    Conv2d<double> conv(v.in, v.out_channels, rng, {.kernel = v.kernel, .stride = v.stride, .padding = v.padding});
    conv.set_chunk_elements(500);
    TimeSeries<double> x(v.in.size(), 2, 3), y, g, gx;
    test::fill_uniform(x, rng, -1.0, 1.0);
    conv.forward(x, y, ForwardContext::eval());
    g.resize(y.features(), 2, 3);
    test::fill_uniform(g, rng, -1.0, 1.0);
    conv.zero_grad();
    conv.backward(x, y, g, &gx);
    const ImageShape i = conv.input_shape(), o = conv.output_shape();
    const Index k = v.kernel, s = v.stride, p = v.padding;
    Matrix<double> gw = Matrix<double>::Zero(conv.weight().rows(), conv.weight().cols());
    Matrix<double> gb = Matrix<double>::Zero(v.out_channels, 1);
    Matrix<double> gxr = Matrix<double>::Zero(x.features(), x.columns());
    for (Index n = 0; n < x.columns(); ++n)
      for (Index co = 0; co < o.channels; ++co)
        for (Index u = 0; u < o.height; ++u)
          for (Index w = 0; w < o.width; ++w) {
            const double gg = g.values()(o.index(co, u, w), n);
            gb(co, 0) += gg;
            for (Index ci = 0; ci < i.channels; ++ci)
              for (Index a = 0; a < k; ++a)
                for (Index b = 0; b < k; ++b) {
                  const Index yy = u * s - p + a, xx = w * s - p + b;
                  if (yy < 0 || yy >= i.height || xx < 0 || xx >= i.width) continue;
                  gw(co, (ci * k + a) * k + b) += gg * x.values()(i.index(ci, yy, xx), n);
                  gxr(i.index(ci, yy, xx), n) += gg * conv.weight()(co, (ci * k + a) * k + b);
                }
          }
    INFO(conv.signature());
    CHECK((conv.weight_grad() - gw).cwiseAbs().maxCoeff() < 1e-11);
    CHECK((conv.bias_grad() - gb).cwiseAbs().maxCoeff() < 1e-11);
    CHECK((gx.values() - gxr).cwiseAbs().maxCoeff() < 1e-11);
    // gradients accumulate over calls
    conv.backward(x, y, g, nullptr);
    CHECK((conv.weight_grad() - 2 * gw).cwiseAbs().maxCoeff() < 1e-10);
  }
}

TEST_CASE("Conv2d sparse path equals the dense path, forward and backward", "[conv2d][sparse]") {
  Rng rng(21);
  for (const Variant& v : kVariants)
    for (double density : {0.04, 0.3})
      for (bool binary : {true, false}) {
        Conv2d<double> dense(v.in, v.out_channels, rng,
                             {.kernel = v.kernel, .stride = v.stride, .padding = v.padding,
                              .sparse = SparseMode::never});
        Conv2dConfig sc = dense.config();
        sc.sparse = SparseMode::always;
        Conv2d<double> sparse(v.in, v.out_channels, rng, sc);
        sparse.weight() = dense.weight();
        sparse.bias() = dense.bias();
        TimeSeries<double> x(v.in.size(), 3, 5), yd, ys, g, gxd, gxs;
        for (Index k = 0; k < x.values().size(); ++k)
          x.values().data()[k] = rng.uniform() < density ? (binary ? 1.0 : rng.uniform(-2, 2)) : 0.0;
        dense.forward(x, yd, ForwardContext::eval());
        sparse.forward(x, ys, ForwardContext::eval());
        INFO(dense.signature() << " density " << density << (binary ? " binary" : " real"));
        CHECK_FALSE(dense.used_sparse());
        CHECK(sparse.used_sparse());
        CHECK((ys.values() - yd.values()).cwiseAbs().maxCoeff() < 1e-12);
        CHECK((ys.values() - test::direct_conv2d(dense, x)).cwiseAbs().maxCoeff() < 1e-12);
        g.resize(yd.features(), 3, 5);
        test::fill_uniform(g, rng, -1, 1);
        dense.zero_grad();
        sparse.zero_grad();
        dense.backward(x, yd, g, &gxd);
        sparse.backward(x, ys, g, &gxs);
        CHECK((sparse.weight_grad() - dense.weight_grad()).cwiseAbs().maxCoeff() < 1e-12);
        CHECK((sparse.bias_grad() - dense.bias_grad()).cwiseAbs().maxCoeff() < 1e-12);
        CHECK((gxs.values() - gxd.values()).cwiseAbs().maxCoeff() < 1e-12);
        // weight gradient alone (first layer: no input gradient wanted)
        sparse.zero_grad();
        sparse.backward(x, ys, g, nullptr);
        CHECK((sparse.weight_grad() - dense.weight_grad()).cwiseAbs().maxCoeff() < 1e-12);
      }
  // automatic mode picks the sparse path for sparse spikes, the dense one otherwise (float, threads)
  Conv2d<float> c({2, 16, 16}, 20, rng, {.kernel = 3, .padding = 1});
  TimeSeries<float> spikes(512, 8, 10), dense_in(512, 8, 10), y1, y2;
  test::fill_spikes(spikes, rng, 0.03);
  test::fill_uniform(dense_in, rng, 0, 1);
  c.forward(spikes, y1, ForwardContext::eval());
  CHECK(c.used_sparse());
  const Matrix<float> ref = test::direct_conv2d(c, spikes);
  CHECK((y1.values() - ref).cwiseAbs().maxCoeff() < 1e-5f);
  c.forward(dense_in, y2, ForwardContext::eval());
  CHECK_FALSE(c.used_sparse());
}

TEST_CASE("Conv2d static path (an image at every step) equals the step-by-step convolution", "[conv2d][static]") {
  Rng rng(8);
  const Index B = 3, T = 6;
  for (const Variant& v : kVariants)
    for (bool bias : {true, false})
      for (bool unit : {true, false}) {
        Conv2d<double> conv(v.in, v.out_channels, rng,
                            {.kernel = v.kernel, .stride = v.stride, .padding = v.padding, .bias = bias});
        if (bias)
          for (Index c = 0; c < v.out_channels; ++c) conv.bias()(c, 0) = rng.uniform(-1, 1);
        Matrix<double> image(v.in.size(), B);
        for (Index k = 0; k < image.size(); ++k) image.data()[k] = rng.uniform(-1, 1);
        std::vector<double> factors;
        for (Index t = 0; t < T; ++t) factors.push_back(unit ? 1.0 : 0.3 + 0.1 * double(t));
        TimeSeries<double> x(v.in.size(), B, T), y, gx;
        if (unit)
          for (Index t = 0; t < T; ++t) x.slot(t) = image;  // found from the data
        else
          x.assign_static(image, factors);
        conv.zero_grad();
        conv.forward(x, y, ForwardContext::eval());
        INFO(conv.signature() << (unit ? " equal steps" : " scaled steps"));
        CHECK(conv.used_static());
        CHECK((y.values() - test::direct_conv2d(conv, x)).cwiseAbs().maxCoeff() < 1e-12);
        TimeSeries<double> g(y.features(), B, T);
        test::fill_uniform(g, rng, -1, 1);
        conv.backward(x, y, g, &gx);
        // the same convolution one step at a time (a one-step series is never static)
        Conv2d<double> ref = conv;
        ref.zero_grad();
        TimeSeries<double> xt(v.in.size(), B, 1), yt, gt(y.features(), B, 1), gxt;
        for (Index t = 0; t < T; ++t) {
          xt.values() = x.slot(t);
          gt.values() = g.slot(t);
          ref.forward(xt, yt, ForwardContext::eval());
          CHECK_FALSE(ref.used_static());
          ref.backward(xt, yt, gt, &gxt);
          CHECK((gx.slot(t) - gxt.values()).cwiseAbs().maxCoeff() < 1e-12);
        }
        CHECK((conv.weight_grad() - ref.weight_grad()).cwiseAbs().maxCoeff() < 1e-11);
        if (bias) CHECK((conv.bias_grad() - ref.bias_grad()).cwiseAbs().maxCoeff() < 1e-11);
        // weight gradient alone (a first layer)
        conv.zero_grad();
        conv.backward(x, y, g, nullptr);
        CHECK((conv.weight_grad() - ref.weight_grad()).cwiseAbs().maxCoeff() < 1e-11);
      }
}

TEST_CASE("BPTT through Conv2d is exact for stride and padding variants", "[conv2d][gradient]") {
  Rng rng(11);
  for (const Variant& v : {kVariants[0], kVariants[1], kVariants[2], kVariants[3]}) {
    Conv2d<double> conv(v.in, v.out_channels, rng, {.kernel = v.kernel, .stride = v.stride, .padding = v.padding});
    const Index h = conv.output_size();
    Sequential<Conv2d<double>, test::TwinLif, Linear<double>, test::Readout> net{
        std::move(conv), test::twin_lif(h), Linear<double>(h, 3, rng), test::readout(3)};
    test::require_exact_gradients(net, test::random_batch(rng, v.in.size(), 2, 6, 3));
  }
}

TEST_CASE("BPTT is exact through two stacked convolutions", "[conv2d][gradient]") {
  Rng rng(12);
  Conv2d<double> c1({2, 9, 9}, 3, rng, {.kernel = 3, .stride = 1, .padding = 1});
  Conv2d<double> c2(c1.output_shape(), 2, rng, {.kernel = 3, .stride = 2, .padding = 0, .bias = false});
  const Index h1 = c1.output_size(), h2 = c2.output_size();
  Sequential<Conv2d<double>, test::TwinLif, Conv2d<double>, test::TwinLif, Linear<double>, test::Readout> net{
      std::move(c1), test::twin_lif(h1), std::move(c2), test::twin_lif(h2), Linear<double>(h2, 3, rng),
      test::readout(3)};
  test::require_exact_gradients(net, test::random_batch(rng, 2 * 81, 2, 5, 3, 0.0, 1.0));
  // the same through the sparse path, on spike input
  Conv2d<double> s1({2, 9, 9}, 3, rng, {.kernel = 3, .stride = 2, .padding = 1, .sparse = SparseMode::always});
  Conv2d<double> s2(s1.output_shape(), 2, rng, {.kernel = 3, .padding = 1, .sparse = SparseMode::always});
  const Index q1 = s1.output_size(), q2 = s2.output_size();
  Sequential<Conv2d<double>, test::TwinLif, Conv2d<double>, test::TwinLif, Linear<double>, test::Readout> snet{
      std::move(s1), test::twin_lif(q1), std::move(s2), test::twin_lif(q2), Linear<double>(q2, 3, rng),
      test::readout(3)};
  Batch<double> spikes = test::random_batch(rng, 2 * 81, 2, 5, 3);
  test::fill_spikes(spikes.input, rng, 0.15);
  test::require_exact_gradients(snet, spikes);
  CHECK(snet.layer<0>().used_sparse());
}

TEST_CASE("Conv2d rejects bad configurations and inputs with clear errors", "[conv2d][errors]") {
  Rng rng(1);
  CHECK_THROWS_AS(Conv2d<float>({2, 4, 4}, 3, rng, {.kernel = 5}), ConfigError);
  CHECK_THROWS_AS(Conv2d<float>({2, 4, 4}, 0, rng), ConfigError);
  CHECK_THROWS_AS(Conv2d<float>({0, 4, 4}, 3, rng), ConfigError);
  CHECK_THROWS_AS(Conv2d<float>({2, 4, 4}, 3, rng, {.kernel = 3, .stride = 0}), ConfigError);
  CHECK_THROWS_AS(Conv2d<float>({2, 4, 4}, 3, rng, {.kernel = 3, .padding = -1}), ConfigError);
  Conv2d<float> c({2, 4, 4}, 3, rng);
  TimeSeries<float> x(31, 2, 2), y;
  CHECK_THROWS_WITH(c.forward(x, y, ForwardContext::eval()), Catch::Contains("Conv2d") && Catch::Contains("2x4x4"));
  TimeSeries<float> good(32, 2, 2), g(5, 2, 2);
  c.forward(good, y, ForwardContext::eval());
  CHECK_THROWS_AS(c.backward(good, y, g, nullptr), ShapeError);
}

TEST_CASE("A conv network survives a checkpoint round trip", "[conv2d][checkpoint]") {
  Rng rng(5);
  using Net = Sequential<Conv2d<float>, Lif<float>, AvgPool2d<float>, Flatten<float>, Linear<float>,
                         LeakyIntegrator<float>>;
  auto make = [](Rng& r) {
    Conv2d<float> c({2, 8, 8}, 4, r, {.kernel = 3, .padding = 1});
    AvgPool2d<float> p(c.output_shape(), {.kernel = 2});
    const Index n = c.output_size();
    const ImageShape ps = p.output_shape();
    return Net{std::move(c), Lif<float>(n, {.threshold = 0.3}), std::move(p), Flatten<float>(ps),
               Linear<float>(ps.size(), 3, r), LeakyIntegrator<float>(3)};
  };
  Net a = make(rng);
  Rng other(99);
  Net b = make(other);
  TimeSeries<float> x(128, 2, 5);
  test::fill_spikes(x, rng, 0.3);
  const Matrix<float> ya = a.forward(x).values();
  const auto dir = test::temp_dir("conv-ckpt");
  for (auto fmt : {CheckpointFormat::binary, CheckpointFormat::json}) {
    save_checkpoint(dir / "net.ckpt", a, fmt);
    load_checkpoint(dir / "net.ckpt", b);
    CHECK(b.forward(x).values() == ya);
  }
  // a network of another conv geometry refuses the checkpoint
  Conv2d<float> c2({2, 8, 8}, 4, rng, {.kernel = 3, .padding = 0});
  AvgPool2d<float> p2(c2.output_shape(), {.kernel = 2});
  const ImageShape ps2 = p2.output_shape();
  Net wrong{std::move(c2), Lif<float>(4 * 36), std::move(p2), Flatten<float>(ps2), Linear<float>(ps2.size(), 3, rng),
            LeakyIntegrator<float>(3)};
  CHECK_THROWS_AS(load_checkpoint(dir / "net.ckpt", wrong), CheckpointError);
  std::filesystem::remove_all(dir);
}
