#pragma once
// Each subcommand group lives in its own cmd_*.cpp and registers itself on the root app here.
// Subcommands are thin: parse, call the library, print. Library errors propagate to main().
#include <CLI/CLI.hpp>

namespace mtjlab::cli {

/// Options every subcommand shares.
struct GlobalOptions {
    bool verbose = false;
    std::string log_level = "warn";
};

void register_h5(CLI::App& app, const GlobalOptions& global);           // h5 info, recover
void register_sim(CLI::App& app, const GlobalOptions& global);          // sim ...
void register_instruments(CLI::App& app, const GlobalOptions& global);  // scpi, instruments probe
void register_lab(CLI::App& app, const GlobalOptions& global);          // lab serve
void register_analyze(CLI::App& app, const GlobalOptions& global);      // analyze
void register_ann(CLI::App& app, const GlobalOptions& global);          // ann train|eval|sweep
void register_run(CLI::App& app, const GlobalOptions& global);          // run RECIPE --station ...
void register_campaign(CLI::App& app, const GlobalOptions& global);     // campaign --virtual --preset paper

}  // namespace mtjlab::cli
