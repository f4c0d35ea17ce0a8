#include <catch2/catch.hpp>

#include "mtjlab/core/error.hpp"
#include "mtjlab/core/log.hpp"
#include "mtjlab/core/version.hpp"

using namespace mtjlab;

TEST_CASE("every error family derives from mtjlab::Error and maps to its exit code", "[unit][core]") {
    CHECK(exit_code_for(InputError("x")) == exit_code::bad_input);
    CHECK(exit_code_for(LimitError("x")) == exit_code::bad_input);
    CHECK(exit_code_for(StorageError("x")) == exit_code::bad_input);
    CHECK(exit_code_for(TransportError("x")) == exit_code::instrument);
    CHECK(exit_code_for(TimeoutError("x")) == exit_code::instrument);
    CHECK(exit_code_for(ProtocolError("x")) == exit_code::instrument);
    CHECK(exit_code_for(InstrumentError("x")) == exit_code::instrument);
    CHECK(exit_code_for(std::runtime_error("x")) == exit_code::failure);
    CHECK_THROWS_AS(throw TimeoutError("t"), Error);
    CHECK_THROWS_WITH(throw LimitError("pulse amplitude 3 V exceeds 2 V"), "pulse amplitude 3 V exceeds 2 V");
}

TEST_CASE("log setup rejects unknown levels and hands out named loggers", "[unit][core]") {
    CHECK_THROWS_AS(log::setup("loud"), InputError);
    log::setup("off");
    auto a = log::get("sr830");
    auto b = log::get("sr830");
    CHECK(a.get() == b.get());
    CHECK(a->level() == spdlog::level::off);
    log::setup("warn");
    CHECK(a->level() == spdlog::level::warn);
}

TEST_CASE("version and git hash are compiled in", "[unit][core]") {
    CHECK(version() == "0.1.0");
    CHECK_FALSE(git_hash().empty());
    CHECK(version_string().find(version()) != std::string_view::npos);
}

TEST_CASE("rethrow_with_context keeps the error's type and adds the context", "[unit]") {
    auto with = [](auto error) {
        try {
            try {
                throw error;
            } catch (...) {
                rethrow_with_context("run 'rv' (out/rv.h5)");
            }
        } catch (const decltype(error)& e) {
            return std::string(e.what());
        }
        return std::string("type lost");
    };
    CHECK(with(TimeoutError("no reply; asking 'X?' to lockin")) == "no reply; asking 'X?' to lockin; run 'rv' (out/rv.h5)");
    CHECK(with(InstrumentError("-222")) == "-222; run 'rv' (out/rv.h5)");
    CHECK(with(StorageError("disk full")) == "disk full; run 'rv' (out/rv.h5)");
    CHECK(with(LimitError("too much")) == "too much; run 'rv' (out/rv.h5)");
    try {
        try {
            throw std::runtime_error("odd");
        } catch (...) {
            rethrow_with_context("here");
        }
    } catch (const Error& e) {
        CHECK(std::string(e.what()) == "odd; here");
        CHECK(exit_code_for(e) == exit_code::failure);
    }
}
