// mtjlab: the command line. Errors are one line on stderr with a non-zero exit code
// (2 bad input or limits or unreadable files, 3 instrument/link failures, 1 anything else).
#include <cstdio>
#include <exception>
#include <iostream>

#include <CLI/CLI.hpp>

#include "commands.hpp"
#include "mtjlab/core/error.hpp"
#include "mtjlab/core/log.hpp"
#include "mtjlab/core/version.hpp"

int main(int argc, char** argv) {
    using namespace mtjlab;
    CLI::App app{"mtjlab: characterise magnetic tunnel junctions and judge them as synapses", "mtjlab"};
    app.require_subcommand(1);
    app.fallthrough();  // global flags may follow the subcommand
    app.set_version_flag("--version", std::string(version_string()));
    cli::GlobalOptions global;
    app.add_flag("-v,--verbose", global.verbose, "Show the log (info level) on stderr");
    app.add_option("--log-level", global.log_level, "Log level: trace, debug, info, warn, error, off")
        ->capture_default_str();
    app.parse_complete_callback([&global] {
        log::setup(global.verbose && global.log_level == "warn" ? "info" : global.log_level);
    });

    cli::register_h5(app, global);
    cli::register_sim(app, global);
    cli::register_instruments(app, global);
    cli::register_lab(app, global);
    cli::register_analyze(app, global);
    cli::register_ann(app, global);
    cli::register_run(app, global);
    cli::register_campaign(app, global);

    try {
        app.parse(argc, argv);
    } catch (const CLI::CallForHelp& e) {
        return app.exit(e);
    } catch (const CLI::CallForAllHelp& e) {
        return app.exit(e);
    } catch (const CLI::CallForVersion& e) {
        return app.exit(e);
    } catch (const CLI::ParseError& e) {
        std::cerr << "mtjlab: " << e.what() << " (see mtjlab --help)\n";
        return exit_code::bad_input;
    } catch (const std::exception& e) {
        std::cout.flush();
        std::cerr << "mtjlab: error: " << e.what() << '\n';
        return exit_code_for(e);
    }
    return exit_code::ok;
}
