// The `mtjlab ann` commands end to end: JSON keys, sweep outputs, bad input -> one line, exit 2.
#include <catch2/catch.hpp>

#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "mtjlab/ann/idx.hpp"
#include "test_support.hpp"

using namespace mtjlab;
using json = nlohmann::json;

namespace {
std::string q(const std::filesystem::path& p) { return "'" + p.string() + "'"; }
int lines(const std::string& s) {
    int n = 0;
    for (char c : s) n += c == '\n';
    return n;
}
}  // namespace

TEST_CASE("ann train, eval and sweep work end to end", "[integration][ann]") {
    test::TempDir dir("anncli");
    const auto model = dir / "m.h5";
    auto r = test::run_cli("ann train --dataset fashion --epochs 1 --train-limit 3000 --seed 3 --json -o " + q(model));
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    const json t = json::parse(r.out);
    CHECK(t.at("test_accuracy").get<double>() > 0.6);
    CHECK(t.at("test_accuracy").get<double>() <= 1.0);
    CHECK(t.at("train_seconds").get<double>() > 0);
    CHECK(t.at("config").at("epochs") == 1);
    CHECK(t.at("config").at("batch") == 32);
    CHECK(t.at("config").at("seed") == 3);
    CHECK(t.at("config").at("dataset") == "fashion");
    CHECK_THAT(r.err, Catch::Contains("epoch   1/1") && Catch::Contains("loss"));

    r = test::run_cli("ann eval --model " + q(model) + " --tmr 100 --cells 2 --mapping differential --scale mse --json");
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    const json e = json::parse(r.out);
    CHECK(e.at("accuracy").get<double>() > 0.3);
    CHECK(e.at("mapping") == "differential");
    CHECK(e.at("scale") == "mse");
    CHECK(e.at("levels").size() == 3);
    CHECK(e.at("weight_levels").size() == 5);
    CHECK(e.at("float_accuracy").get<double>() == Approx(t.at("test_accuracy").get<double>()));

    std::ofstream(dir / "states.csv") << "thickness_nm,cells,state,g_norm,g_norm_std,r_ohm,r_ohm_std,devices\n"
                                         "1.9,2,0,0.55,0.01,8700,90,4\n1.9,2,1,0.8,0.015,6000,60,4\n"
                                         "1.9,2,2,1.0,0.02,4800,50,4\n";
    r = test::run_cli("ann eval --model " + q(model) + " --states " + q(dir / "states.csv") +
                      " --variation 1 --instances 2 --json");
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    const json m = json::parse(r.out);
    CHECK(m.at("accuracy_per_instance").size() == 2);
    CHECK(m.at("levels").size() == 3);
    CHECK(m.at("mapping") == "mirror");

    const auto out = dir / "sweep";
    r = test::run_cli("ann sweep --dataset fashion --seeds 2 --epochs 1 --train-limit 2000 --tmr 60:260:100 --cells 1:2 "
                      "--mapping all --states " + q(dir / "states.csv") + " -o " + q(out) + " --json --jobs 2");
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    const json s = json::parse(r.out);
    CHECK(s.at("cells").size() == 4 * (3 * 2 + 1));  // 4 mappings x (3 TMR x 2 cell counts + 1 measured group)
    std::ifstream csv(out / "sweep.csv");
    std::stringstream ss;
    ss << csv.rdbuf();
    CHECK(lines(ss.str()) == 2 + 28);
    CHECK(std::filesystem::exists(out / "sweep.h5"));
    CHECK(std::filesystem::exists(out / "fig5de-mirror-contour.svg"));
    CHECK(std::filesystem::exists(out / "fig5de-differential-lines.svg"));
    CHECK(std::filesystem::exists(out / "fig5bc-offset-lines.svg"));
    // the second run reuses the trained models
    r = test::run_cli("ann sweep --dataset fashion --seeds 2 --epochs 1 --train-limit 2000 --tmr 60 --cells 1 "
                      "--no-plots -o " + q(out));
    REQUIRE(r.exit_code == 0);
    CHECK_THAT(r.err, Catch::Contains("reusing"));
    CHECK_THAT(r.err, !Catch::Contains("trained seed"));
}

TEST_CASE("ann commands reject bad input with one line and exit 2", "[integration][ann]") {
    test::TempDir dir("annbad");
    auto expect_bad = [](const std::string& args, const std::string& needle) {
        const auto r = test::run_cli(args);
        INFO(args << "\n" << r.err);
        CHECK(r.exit_code == 2);
        CHECK(lines(r.err) == 1);
        CHECK_THAT(r.err, Catch::Contains(needle));
    };
    // truncated IDX via --data-dir
    ann::IdxImages im;
    im.count = 4;
    im.rows = im.cols = 28;
    im.pixels.assign(4 * 784, 7);
    ann::write_idx_images(dir / "train-images-idx3-ubyte", im);
    ann::write_idx_labels(dir / "train-labels-idx1-ubyte.gz", {1, 2, 3, 4});
    std::filesystem::resize_file(dir / "train-images-idx3-ubyte", 16 + 3 * 784);
    expect_bad("ann train --dataset mnist --data-dir " + q(dir.path()) + " -o " + q(dir / "m.h5"), "truncated");
    // mislabelled: label 11
    ann::write_idx_images(dir / "train-images-idx3-ubyte", im);
    ann::write_idx_labels(dir / "train-labels-idx1-ubyte.gz", {1, 2, 11, 4});
    expect_bad("ann train --dataset mnist --data-dir " + q(dir.path()) + " -o " + q(dir / "m.h5"),
               "label 11 of item 2");

    // a states table with one level, and one with a negative conductance
    const std::string header = "thickness_nm,cells,state,g_norm,g_norm_std,r_ohm,r_ohm_std,devices\n";
    std::ofstream(dir / "one.csv") << header << "1.9,1,0,1.0,0.01,9600,80,5\n";
    std::ofstream(dir / "neg.csv") << header << "1.9,1,0,-0.5,0.01,9600,80,5\n1.9,1,1,1.0,0.01,9600,80,5\n";
    expect_bad("ann eval --model " + q(dir / "m.h5") + " --states " + q(dir / "one.csv"), "at least 2");
    expect_bad("ann eval --model " + q(dir / "m.h5") + " --states " + q(dir / "neg.csv"), "not a positive conductance");
    // a states table that crashes libhdf5 (tests/fuzz/known): one line, exit 2, not a SIGSEGV (exit 139)
    expect_bad("ann eval --model " + q(dir / "m.h5") + " --states " +
                   q(test::source_dir() / "tests/fuzz/known/hdf5_accum_read_null_states_table.h5"),
               "the HDF5 library crashed reading it");
    // a model file that is not a model
    std::ofstream(dir / "notmodel.h5") << "hello";
    expect_bad("ann eval --model " + q(dir / "notmodel.h5") + " --tmr 60 --cells 1", "not an HDF5 file");
    expect_bad("ann eval --model " + q(dir / "m.h5") + " --tmr 60", "--cells");
    expect_bad("ann sweep --dataset fashion --tmr 60:10:5 -o " + q(dir / "s"), "--tmr");
    expect_bad("ann train --dataset cifar -o " + q(dir / "m.h5"), "unknown dataset");
}
