// Quantization: exact level sets of every mapping, limits, scale policies, tables, non-idealities.
#include <catch2/catch.hpp>

#include <hdf5.h>

#include <cmath>
#include <fstream>
#include <random>

#include "mtjlab/ann/levels.hpp"
#include "mtjlab/ann/quantize.hpp"
#include "mtjlab/core/error.hpp"
#include "test_support.hpp"

using namespace mtjlab;
using namespace mtjlab::ann;
using test::error_of;

namespace {

void check_values(const std::vector<double>& got, const std::vector<double>& want) {
    REQUIRE(got.size() == want.size());
    for (std::size_t i = 0; i < got.size(); ++i) CHECK(got[i] == Approx(want[i]).margin(1e-12));
}

/// Weights shaped like a trained layer: Laplace-distributed with a few outliers.
RowMatrixF laplace_weights(Eigen::Index rows, Eigen::Index cols, std::uint64_t seed) {
    std::mt19937_64 rng(seed);
    std::exponential_distribution<double> e(12.0);
    RowMatrixF w(rows, cols);
    for (Eigen::Index i = 0; i < w.size(); ++i) {
        const double mag = e(rng);
        w.data()[i] = static_cast<float>((rng() & 1) ? mag : -mag);
    }
    return w;
}

double sse(const RowMatrixF& w, const LevelSet& l, Mapping m) {
    const auto v = weight_levels(m, l).values();
    const std::span<const float> ws(w.data(), static_cast<std::size_t>(w.size()));
    return quantization_sse(ws, v, choose_scale(ws, v, ScalePolicy::mse));
}

// Writes a conductance-state table in its HDF5 form: group /conductance_states, one 1-D float64 dataset
// per column.
void write_states_h5(const std::filesystem::path& file,
                     const std::vector<std::pair<const char*, std::vector<double>>>& columns) {
    H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
    const hid_t f = H5Fcreate(file.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    const hid_t g = H5Gcreate2(f, "/conductance_states", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    for (const auto& [name, v] : columns) {
        const hsize_t n = v.size();
        const hid_t sp = H5Screate_simple(1, &n, nullptr);
        const hid_t d = H5Dcreate2(g, name, H5T_IEEE_F64LE, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
        H5Dwrite(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, v.data());
        H5Dclose(d);
        H5Sclose(sp);
    }
    H5Gclose(g);
    H5Fclose(f);
}

}  // namespace

TEST_CASE("parametric law gives n+1 levels with the lowest at 1/(1+TMR)", "[unit][ann]") {
    const LevelSet l = parametric_levels(0.6, 3);
    REQUIRE(l.states() == 4);
    CHECK(l.g[0] == Approx(1 / 1.6));
    CHECK(l.g[3] == 1.0);
    CHECK(l.g[1] == Approx((1 + 2 / 1.6) / 3));
    CHECK(l.tmr() == Approx(0.6));
    CHECK_THROWS_AS(parametric_levels(0.0, 1), InputError);
    CHECK_THROWS_AS(parametric_levels(0.5, 0), InputError);
}

TEST_CASE("each mapping produces exactly its level set", "[unit][ann]") {
    const LevelSet l = parametric_levels(1.0, 2);  // g = 0.5, 0.75, 1
    check_values(weight_levels(Mapping::mirror, l).values(), {-1, -0.75, -0.5, 0.5, 0.75, 1});
    check_values(weight_levels(Mapping::mirror_zero, l).values(), {-1, -0.75, -0.5, 0, 0.5, 0.75, 1});
    check_values(weight_levels(Mapping::differential, l).values(), {-0.5, -0.25, 0, 0.25, 0.5});
    check_values(weight_levels(Mapping::offset, l).values(), {-0.5, 0, 0.5});

    LevelSet measured;  // non-uniform levels, as measured devices give
    measured.g = {0.3, 0.6, 1.0};
    measured.g_std = {0, 0, 0};
    check_values(weight_levels(Mapping::differential, measured).values(), {-0.7, -0.4, -0.3, 0, 0.3, 0.4, 0.7});
    check_values(weight_levels(Mapping::offset, measured).values(), {-0.5, (0.6 - 0.65) / 0.7, 0.5});

    // the quantized layer uses only s * v for v in the set
    const RowMatrixF w = laplace_weights(50, 10, 4);
    const RowVectorF b = RowVectorF::Zero(10);
    for (const Mapping m : all_mappings()) {
        QuantConfig q;
        q.mapping = m;
        q.scale = ScalePolicy::mse;
        q.scope = ScaleScope::column;
        const auto v = weight_levels(m, measured).values();
        const QuantizedLayer out = quantize_layer(w, b, measured, q, {}, 1);
        REQUIRE(out.scales.size() == 10);
        for (Eigen::Index i = 0; i < w.rows(); ++i) {
            for (Eigen::Index j = 0; j < w.cols(); ++j) {
                const double s = out.scales[static_cast<std::size_t>(j)];
                const double x = out.w(i, j) / s;
                const double nearest = v[nearest_index(v, x)];
                CHECK(x == Approx(nearest).margin(1e-6));
                // and it is the nearest level to the float weight
                CHECK(nearest == Approx(v[nearest_index(v, w(i, j) / s)]).margin(1e-12));
            }
        }
    }
}

TEST_CASE("mirror limits: binary +-s at TMR -> 0, sign * {0, s} at TMR -> infinity", "[unit][ann]") {
    const RowMatrixF w = laplace_weights(100, 8, 5);
    const RowVectorF b = RowVectorF::Zero(8);
    QuantConfig q;  // mirror, max|w|
    const float s = w.cwiseAbs().maxCoeff();
    {
        // TMR -> 0: both levels equal, every weight becomes sign(w) * s (BinaryConnect)
        const QuantizedLayer out = quantize_layer(w, b, parametric_levels(1e-9, 1), q, {}, 1);
        for (Eigen::Index i = 0; i < w.size(); ++i) {
            CHECK(out.w.data()[i] == Approx(std::copysign(s, w.data()[i])).epsilon(1e-6));
        }
    }
    {
        // TMR -> infinity with n = 1: the device is binary (AP ~ off, P = on); weights are sign(w) * {0, s}
        const QuantizedLayer out = quantize_layer(w, b, parametric_levels(1e9, 1), q, {}, 1);
        int zeros = 0, full = 0;
        for (Eigen::Index i = 0; i < w.size(); ++i) {
            const float x = out.w.data()[i];
            const bool is_zero = std::abs(x) <= 1e-8f * s;
            const bool is_full = std::abs(std::abs(x) - s) <= 1e-6f * s;
            CHECK((is_zero || is_full));
            zeros += is_zero;
            full += is_full;
            if (is_full) CHECK(std::signbit(x) == std::signbit(w.data()[i]));
            CHECK(is_full == (std::abs(w.data()[i]) >= 0.5f * s));
        }
        CHECK(zeros > 0);
        CHECK(full > 0);
    }
}

TEST_CASE("differential pair and offset column are TMR-invariant; mirror is not", "[unit][ann]") {
    const RowMatrixF w = laplace_weights(200, 16, 6);
    const RowVectorF b = RowVectorF::Zero(16);
    for (const ScalePolicy policy : {ScalePolicy::max_abs, ScalePolicy::mse, ScalePolicy::percentile}) {
        for (int n = 1; n <= 4; ++n) {
            QuantConfig q;
            q.scale = policy;
            q.mapping = Mapping::differential;
            const auto ref = quantize_layer(w, b, parametric_levels(0.33, n), q, {}, 1).w;
            q.mapping = Mapping::offset;
            const auto ref_off = quantize_layer(w, b, parametric_levels(0.33, n), q, {}, 1).w;
            for (const double tmr : {0.6, 1.0, 2.6, 50.0}) {
                q.mapping = Mapping::differential;
                const auto d = quantize_layer(w, b, parametric_levels(tmr, n), q, {}, 1).w;
                CHECK((d - ref).cwiseAbs().maxCoeff() <= 1e-5f * ref.cwiseAbs().maxCoeff());
                q.mapping = Mapping::offset;
                const auto o = quantize_layer(w, b, parametric_levels(tmr, n), q, {}, 1).w;
                CHECK((o - ref_off).cwiseAbs().maxCoeff() <= 1e-5f * ref_off.cwiseAbs().maxCoeff());
            }
        }
    }
    QuantConfig q;
    const auto m1 = quantize_layer(w, b, parametric_levels(0.33, 1), q, {}, 1).w;
    const auto m2 = quantize_layer(w, b, parametric_levels(2.6, 1), q, {}, 1).w;
    CHECK((m1 - m2).cwiseAbs().maxCoeff() > 0.1f * m1.cwiseAbs().maxCoeff());
}

TEST_CASE("more states never lose to fewer on MSE-optimal quantization error", "[unit][ann]") {
    for (const std::uint64_t seed : {1u, 2u, 3u}) {
        const RowMatrixF w = laplace_weights(784, 16, seed);
        for (const Mapping m : all_mappings()) {
            for (const double tmr : {0.33, 0.78, 1.0, 2.6}) {
                double prev = std::numeric_limits<double>::infinity();
                for (int n = 1; n <= 6; ++n) {
                    const double e = sse(w, parametric_levels(tmr, n), m);
                    INFO("mapping " << to_string(m) << " TMR " << tmr << " cells " << n << " seed " << seed);
                    CHECK(e <= prev * (1 + 1e-9));
                    prev = e;
                }
            }
        }
    }
}

TEST_CASE("scale policies", "[unit][ann]") {
    const RowMatrixF w = laplace_weights(300, 4, 7);
    const std::span<const float> ws(w.data(), static_cast<std::size_t>(w.size()));
    const auto v = weight_levels(Mapping::mirror_zero, parametric_levels(1.0, 2)).values();
    const double maxw = w.cwiseAbs().maxCoeff();
    CHECK(choose_scale(ws, v, ScalePolicy::max_abs) == Approx(maxw));
    CHECK(choose_scale(ws, v, ScalePolicy::none) == 1.0);
    CHECK(choose_scale(ws, v, ScalePolicy::percentile, 100.0) == Approx(maxw));
    CHECK(choose_scale(ws, v, ScalePolicy::percentile, 50.0) < 0.5 * maxw);
    CHECK_THROWS_AS(choose_scale(ws, v, ScalePolicy::percentile, 0.0), InputError);
    const double s_mse = choose_scale(ws, v, ScalePolicy::mse);
    const double e_mse = quantization_sse(ws, v, s_mse);
    // better than max|w| and than every point of a brute-force scan
    CHECK(e_mse <= quantization_sse(ws, v, maxw));
    for (int i = 1; i <= 200; ++i) CHECK(e_mse <= quantization_sse(ws, v, maxw * i / 100.0) * (1 + 1e-6));
    // per-column scales: one per output column, each the column's own max
    QuantConfig q;
    q.scope = ScaleScope::column;
    const auto scales = choose_scales(w, v, q);
    REQUIRE(scales.size() == 4);
    for (int j = 0; j < 4; ++j) CHECK(scales[static_cast<std::size_t>(j)] == Approx(w.col(j).cwiseAbs().maxCoeff()));
    CHECK(nearest_index(std::vector<double>{0, 1}, 0.5) == 1);  // ties go up
    CHECK(nearest_index(std::vector<double>{0, 1}, 0.49) == 0);
}

TEST_CASE("biases float or quantized", "[unit][ann]") {
    const RowMatrixF w = laplace_weights(20, 5, 8);
    RowVectorF b(5);
    b << 0.3f, -0.1f, 0.05f, -0.7f, 0.2f;
    QuantConfig q;
    const LevelSet l = parametric_levels(1.0, 1);  // mirror values +-0.5, +-1
    CHECK(quantize_layer(w, b, l, q, {}, 1).b == b);
    q.quantize_biases = true;
    const auto out = quantize_layer(w, b, l, q, {}, 1);
    CHECK(out.bias_scale == Approx(0.7));
    for (Eigen::Index j = 0; j < 5; ++j) {
        const double x = std::abs(out.b(j)) / 0.7;
        CHECK((std::abs(x - 0.5) < 1e-6 || std::abs(x - 1.0) < 1e-6));
    }
}

TEST_CASE("non-idealities: frozen variation, stuck devices, read noise", "[unit][ann]") {
    const RowMatrixF w = laplace_weights(100, 10, 9);
    const RowVectorF b = RowVectorF::Zero(10);
    LevelSet l = parametric_levels(1.0, 2, 0.05);
    QuantConfig q;
    NonIdealities ni;
    ni.variation = 1.0;
    const auto a = quantize_layer(w, b, l, q, ni, 42);
    const auto a2 = quantize_layer(w, b, l, q, ni, 42);
    const auto c = quantize_layer(w, b, l, q, ni, 43);
    const auto ideal = quantize_layer(w, b, l, q, {}, 42);
    CHECK(a.w == a2.w);  // frozen per instance
    CHECK(a.w != c.w);   // another instance differs
    const double rel = ((a.w - ideal.w).cwiseAbs().array() / ideal.w.cwiseAbs().array()).mean();
    CHECK(rel == Approx(0.05 * std::sqrt(2.0 / 3.14159265)).epsilon(0.15));  // mean |N(0, 5 %)|

    NonIdealities stuck;
    stuck.stuck_p = 1.0;
    const auto sp = quantize_layer(w, b, l, q, stuck, 1);
    CHECK(sp.w.cwiseAbs().minCoeff() == Approx(w.cwiseAbs().maxCoeff()));  // every device at the top level
    stuck.stuck_p = 0.0;
    stuck.stuck_ap = 1.0;
    const auto sap = quantize_layer(w, b, l, q, stuck, 1);
    CHECK(sap.w.cwiseAbs().maxCoeff() == Approx(0.5 * w.cwiseAbs().maxCoeff()));

    NonIdealities rn;
    rn.read_noise = 0.1;
    const auto n = quantize_layer(w, b, l, q, rn, 1);
    REQUIRE(n.w_noise_var.rows() == w.rows());
    CHECK(n.w == ideal.w);  // read noise is drawn per inference, not frozen
    CHECK(n.w_noise_var(0, 0) == Approx(std::pow(0.1 * ideal.w(0, 0), 2)).epsilon(1e-5));
    NonIdealities bad;
    bad.stuck_p = 0.7;
    bad.stuck_ap = 0.7;
    CHECK_THROWS_AS(quantize_layer(w, b, l, q, bad, 1), InputError);
}

TEST_CASE("conductance-state tables (contract D)", "[unit][ann]") {
    test::TempDir dir("states");
    const std::string header = "thickness_nm,cells,state,g_norm,g_norm_std,r_ohm,r_ohm_std,devices\n";
    {
        std::ofstream(dir / "good.csv") << header << "1.9,1,0,0.6,0.01,16000,100,5\n1.9,1,1,1.0,0.02,9600,80,5\n"
                                        << "1.9,2,2,1.0,0.02,4800,50,4\n1.9,2,0,0.55,0.01,8700,90,4\n"
                                        << "1.9,2,1,0.8,0.015,6000,60,4\n"
                                        << "2.2,1,0,0.5,0.01,20000,100,3\n2.2,1,1,0.98,0.02,10000,100,3\n";
    }
    const auto groups = read_states_table(dir / "good.csv");
    REQUIRE(groups.size() == 3);
    CHECK(groups[0].cells == 1);
    CHECK(groups[1].cells == 2);
    CHECK(groups[1].g == std::vector<double>{0.55, 0.8, 1.0});
    CHECK(groups[2].g[0] == Approx(0.5 / 0.98));  // renormalised to the top state
    CHECK(groups[2].g.back() == 1.0);
    CHECK(groups[0].tmr() == Approx(1 / 0.6 - 1));
    CHECK(select_group(groups, "good.csv", 1.9, 2).states() == 3);
    CHECK_THROWS_AS(select_group(groups, "good.csv", std::nullopt, 1), InputError);  // two 1-cell groups

    std::ofstream(dir / "one.csv") << header << "1.9,1,0,1.0,0.01,9600,80,5\n";
    CHECK_THAT(error_of([&] { read_states_table(dir / "one.csv"); }),
               Catch::Contains("one.csv") && Catch::Contains("at least 2"));
    std::ofstream(dir / "neg.csv") << header << "1.9,1,0,-0.2,0.01,9600,80,5\n1.9,1,1,1.0,0.01,9600,80,5\n";
    CHECK_THAT(error_of([&] { read_states_table(dir / "neg.csv"); }),
               Catch::Contains("neg.csv:2") && Catch::Contains("not a positive conductance"));
    std::ofstream(dir / "hdr.csv") << "a,b\n1,2\n";
    CHECK_THAT(error_of([&] { read_states_table(dir / "hdr.csv"); }), Catch::Contains("no column 'thickness_nm'"));
    std::ofstream(dir / "nan.csv") << header << "1.9,1,0,abc,0.01,9600,80,5\n";
    CHECK_THAT(error_of([&] { read_states_table(dir / "nan.csv"); }), Catch::Contains("nan.csv:2: column g_norm"));

    // the same table in HDF5: group /conductance_states, one 1-D dataset per column
    write_states_h5(dir / "t.h5", {{"thickness_nm", {1.9, 1.9}}, {"cells", {1, 1}}, {"state", {0, 1}},
                                  {"g_norm", {0.6, 1.0}}, {"g_norm_std", {0.01, 0.02}},
                                  {"r_ohm", {16000, 9600}}, {"r_ohm_std", {1, 1}}, {"devices", {5, 5}}});
    const auto h = read_states_table(dir / "t.h5");
    REQUIRE(h.size() == 1);
    CHECK(h[0].g == std::vector<double>{0.6, 1.0});
    CHECK(h[0].r_ohm.front() == 16000);
    CHECK(h[0].devices == 5);
}

TEST_CASE("conductance-state tables: integer columns must hold whole numbers, thickness a thickness",
          "[unit][ann]") {
    // fuzz_ann_files (session 7): cells = 2.48e9 was cast to int unchecked (undefined behaviour; UBSan stopped
    // the fuzzer at once); the HDF5 reader cast before its finiteness check.
    test::TempDir dir("states_bad");
    const std::string header = "thickness_nm,cells,state,g_norm,g_norm_std,r_ohm,r_ohm_std,devices\n";
    const std::string second = "1.9,1,1,1.0,0.02,9600,80,5\n";
    auto csv_error = [&](const std::string& name, const std::string& row) {
        std::ofstream(dir / name) << header << row << second;
        return error_of([&] { read_states_table(dir / name); });
    };
    CHECK_THAT(csv_error("big.csv", "1.9,2482380000,0,0.6,0.01,16000,100,5\n"),
               Catch::Contains("big.csv:2: column cells") && Catch::Contains("not a whole number"));
    CHECK_THAT(csv_error("half.csv", "1.9,1,0.5,0.6,0.01,16000,100,5\n"), Catch::Contains("half.csv:2: column state"));
    CHECK_THAT(csv_error("negdev.csv", "1.9,1,0,0.6,0.01,16000,100,-3\n"), Catch::Contains("column devices"));
    CHECK_THAT(csv_error("thick.csv", "1e300,1,0,0.6,0.01,16000,100,5\n"),
               Catch::Contains("thick.csv:2") && Catch::Contains("thickness_nm"));
    write_states_h5(dir / "t.h5", {{"thickness_nm", {1.9, 1.9}}, {"cells", {1, std::nan("")}}, {"state", {0, 1}},
                                  {"g_norm", {0.6, 1.0}}, {"g_norm_std", {0.01, 0.02}}, {"devices", {5, 1e300}}});
    CHECK_THAT(error_of([&] { read_states_table(dir / "t.h5"); }),
               Catch::Contains("t.h5: row 2") && Catch::Contains("non-finite"));
}

TEST_CASE("a state table that crashes libhdf5 is refused with one error, and this process lives on", "[unit][ann]") {
    // fuzz_ann_files (session 7): an old-format file whose root group's cached symbol-table entry names a local
    // heap and B-tree that are not there. libhdf5 1.10.8 dereferences NULL (H5F__accum_read under H5Lexists);
    // `mtjlab ann eval --states` died with SIGSEGV. The reads now run in a probe process first (h5.hpp).
    const auto known = test::source_dir() / "tests/fuzz/known/hdf5_accum_read_null_states_table.h5";
    CHECK_THAT(test::error_of([&] { (void)read_states_table(known); }),
               Catch::Contains("hdf5_accum_read_null_states_table.h5: corrupt HDF5 file") &&
                   Catch::Contains("crashed reading it"));
}
