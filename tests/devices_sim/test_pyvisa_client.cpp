// An independent client: PyVISA (Debian python3-pyvisa + python3-pyvisa-py, the @py backend) talks to the
// virtual lab over TCPIP SOCKET resources, as a user's script would talk to the real bench.
#include <catch2/catch.hpp>

#include <filesystem>

#include "mtjlab/devices_sim/virtual_lab.hpp"
#include "test_support.hpp"

using namespace mtjlab::devices_sim;

namespace {

// Debian's interpreter first (a pyenv python3 on PATH may lack the Debian modules).
std::string python_with_pyvisa() {
    for (const std::string py : {"/usr/bin/python3", "python3"}) {
        const auto r = mtjlab::test::run_command(py + " -c 'import pyvisa, pyvisa_py' 2>/dev/null");
        if (r.exit_code == 0) return py;
    }
    return {};
}

}  // namespace

TEST_CASE("PyVISA @py identifies, configures and reads the virtual instruments", "[integration][vlab][pyvisa]") {
    const auto py = python_with_pyvisa();
    if (py.empty()) {
        WARN("pyvisa/pyvisa-py not importable: PyVISA independent-client test skipped (apt install python3-pyvisa-py)");
        return;
    }
    VirtualLab lab{LabOptions{}};
    lab.start();
    std::string args;
    for (const std::string name : {"pulse_gen", "lockin", "magnet", "gaussmeter"})
        for (const auto& e : lab.endpoints())
            if (e.name == name) args += " '" + e.tcp_resource + "'";
    const auto script = mtjlab::test::source_dir() / "tests" / "devices_sim" / "pyvisa_client.py";
    REQUIRE(std::filesystem::exists(script));
    const auto r = mtjlab::test::run_command("timeout 60 " + py + " '" + script.string() + "'" + args);
    INFO("stdout: " << r.out << "\nstderr: " << r.err);
    CHECK(r.exit_code == 0);
    CHECK(r.out.find("PYVISA OK") != std::string::npos);
}
