// Security properties (issue 9 item 4, docs/reliability.md):
//  - everything that listens binds to loopback unless the user names an address,
//  - every line and block read from a socket or a file is length-limited (oversize input: a clear error,
//    no unbounded buffering),
//  - names from a recipe cannot make the program write or execute anything outside its output directory.
#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "mtjlab/acquisition/station.hpp"
#include "mtjlab/ann/levels.hpp"
#include "mtjlab/core/error.hpp"
#include "mtjlab/core/text_file.hpp"
#include "mtjlab/devices_sim/virtual_lab.hpp"
#include "mtjlab/drivers/scpi/session.hpp"
#include "mtjlab/drivers/transport/transport.hpp"
#include "mtjlab/recipes/recipe.hpp"
#include "test_support.hpp"

using namespace mtjlab;
namespace fs = std::filesystem;

namespace {

/// Local address (hex, as in /proc/net/tcp[6]) of the listening socket on `port`, or "" if none; `tables` are
/// the socket tables to search (a saved copy of them for a process that is gone).
std::string listener_address(unsigned port,
                             const std::vector<std::string>& tables = {"/proc/net/tcp", "/proc/net/tcp6"}) {
    char want[8];
    std::snprintf(want, sizeof want, "%04X", port);
    for (const auto& file : tables) {
        std::ifstream in(file);
        std::string line;
        std::getline(in, line);  // header
        while (std::getline(in, line)) {
            std::istringstream ss(line);
            std::string sl, local, remote, state;
            ss >> sl >> local >> remote >> state;
            const auto colon = local.find(':');
            if (state == "0A" && colon != std::string::npos && local.substr(colon + 1) == want)
                return local.substr(0, colon);
        }
    }
    return "";
}

int connect_loopback(unsigned port) {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    REQUIRE(fd >= 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<std::uint16_t>(port));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
    timeval tv{5, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    return fd;
}

void send_all(int fd, const std::string& s) {
    std::size_t off = 0;
    while (off < s.size()) {
        const auto n = ::send(fd, s.data() + off, s.size() - off, MSG_NOSIGNAL);
        REQUIRE(n > 0);
        off += static_cast<std::size_t>(n);
    }
}

std::string read_line(int fd) {
    std::string out;
    char c = 0;
    while (::recv(fd, &c, 1, 0) == 1) {
        if (c == '\n') return out;
        out += c;
    }
    return out + "<eof>";
}

/// A hostile "instrument": accepts one client on a loopback port and answers every line with `reply`.
class HostileServer {
public:
    explicit HostileServer(std::string reply) : reply_(std::move(reply)) {
        fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        REQUIRE(::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
        REQUIRE(::listen(fd_, 1) == 0);
        socklen_t len = sizeof a;
        ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
        port_ = ntohs(a.sin_port);
        thread_ = std::thread([this] {
            const int c = ::accept(fd_, nullptr, nullptr);
            if (c < 0) return;
            char buf[256];
            while (!stop_) {
                const auto n = ::recv(c, buf, sizeof buf, 0);
                if (n <= 0) break;
                // Send the reply; the client may hang up half-way (that is the point).
                std::size_t off = 0;
                while (off < reply_.size()) {
                    const auto k = ::send(c, reply_.data() + off, reply_.size() - off, MSG_NOSIGNAL);
                    if (k <= 0) break;
                    off += static_cast<std::size_t>(k);
                }
                if (off < reply_.size()) break;
            }
            ::close(c);
        });
    }
    ~HostileServer() {
        stop_ = true;
        ::shutdown(fd_, SHUT_RDWR);
        ::close(fd_);
        thread_.join();
    }
    [[nodiscard]] unsigned port() const { return port_; }

private:
    std::string reply_;
    int fd_ = -1;
    unsigned port_ = 0;
    std::atomic<bool> stop_{false};
    std::thread thread_;
};

drivers::ScpiSession session_to(unsigned port) {
    drivers::SessionOptions o;
    o.name = "hostile";
    o.timeout = std::chrono::seconds(5);
    return drivers::ScpiSession(drivers::open_transport("TCPIP0::127.0.0.1::" + std::to_string(port) + "::SOCKET", {}),
                                o);
}

void write_file(const fs::path& p, const std::string& text) {
    std::ofstream out(p, std::ios::binary);
    out << text;
}

}  // namespace

TEST_CASE("the virtual lab listens on loopback only unless the user names an address", "[sim][security]") {
    CHECK(devices_sim::LabOptions{}.listen == "127.0.0.1");
    devices_sim::LabOptions o;
    o.serve_pty = false;
    devices_sim::VirtualLab lab(o);
    lab.start();
    for (const auto& e : lab.endpoints()) {
        INFO(e.name << " port " << e.port);
        CHECK(listener_address(e.port) == "0100007F");  // 127.0.0.1 in /proc/net/tcp byte order
        CHECK(e.tcp_resource.find("::127.0.0.1::") != std::string::npos);
    }
    lab.stop();

    // An explicit address is honoured (the user asked for it).
    devices_sim::LabOptions wide;
    wide.serve_pty = false;
    wide.listen = "0.0.0.0";
    wide.instruments = {{"lockin", "SR830", false}};
    devices_sim::VirtualLab open_lab(wide);
    open_lab.start();
    CHECK(listener_address(open_lab.endpoints()[0].port) == "00000000");
}

TEST_CASE("mtjlab lab serve binds loopback by default and warns for another address", "[integration][security]") {
    test::TempDir dir("sec-serve");
    int n = 0;
    // Starts `lab serve`, waits (bounded) until it has printed its last instrument, saves the kernel's socket
    // tables, then interrupts it (SIGKILL if it has not stopped 10 s later, so that the test cannot hang). Each
    // run has its own files: with a file of the run before, the wait could end before this server had even
    // started, and a SIGINT that arrives before it blocks the signal is lost (a background job of a
    // non-interactive shell starts with SIGINT ignored).
    const auto run = [&](const std::string& extra) {
        ++n;
        const auto out = dir / ("out" + std::to_string(n) + ".txt");
        const auto err = dir / ("err" + std::to_string(n) + ".txt");
        const auto tcp = dir / ("tcp" + std::to_string(n) + ".txt");
        const std::string cmd = "'" + test::cli_path().string() + "' lab serve --port-base 0 " + extra + " > '" +
                                out.string() + "' 2> '" + err.string() + "' & pid=$!; for i in $(seq 300); do grep -q " +
                                "gaussmeter '" + out.string() + "' && break; sleep 0.1; done; cat /proc/net/tcp " +
                                "/proc/net/tcp6 > '" + tcp.string() + "'; kill -INT $pid; for i in $(seq 100); do " +
                                "kill -0 $pid 2>/dev/null || break; sleep 0.1; done; kill -KILL $pid 2>/dev/null; " +
                                "wait $pid";
        const auto r = test::run_command(cmd);
        std::ifstream o(out), e(err);
        std::stringstream so, se;
        so << o.rdbuf();
        se << e.rdbuf();
        // The address each printed instrument port listens on, as the kernel had it while the server ran.
        std::vector<std::string> listeners;
        const std::string text = so.str();
        const std::regex port_re(R"(TCPIP0::127\.0\.0\.1::(\d+)::SOCKET)");
        for (auto it = std::sregex_iterator(text.begin(), text.end(), port_re); it != std::sregex_iterator(); ++it)
            listeners.push_back(listener_address(static_cast<unsigned>(std::stoul((*it)[1].str())), {tcp.string()}));
        return std::make_tuple(r.exit_code, text, se.str(), listeners);
    };
    const auto [rc, out, err, listeners] = run("");
    CHECK(rc == 0);
    CHECK(err.find("not only on loopback") == std::string::npos);
    const auto instruments = devices_sim::default_lab_instruments().size();
    CHECK(listeners.size() == instruments);
    for (const auto& a : listeners) CHECK(a == "0100007F");  // 127.0.0.1 in /proc/net/tcp byte order
    const auto [rc2, out2, err2, listeners2] = run("--listen 0.0.0.0");
    CHECK(rc2 == 0);
    CHECK(err2.find("listens on 0.0.0.0, not only on loopback") != std::string::npos);
    CHECK(listeners2.size() == instruments);
    for (const auto& a : listeners2) CHECK(a == "00000000");
}

TEST_CASE("an overlong line to a virtual instrument is discarded with -363; the connection survives",
          "[sim][security]") {
    devices_sim::LabOptions o;
    o.serve_pty = false;
    o.instruments = {{"pulse_gen", "33522B", false}};
    devices_sim::VirtualLab lab(o);
    lab.start();
    const int fd = connect_loopback(lab.endpoints()[0].port);
    send_all(fd, std::string(1 << 20, 'A'));  // 1 MiB without a terminator: never buffered whole
    send_all(fd, "\nSYST:ERR?\n*IDN?\n");
    CHECK(read_line(fd).rfind("-363,", 0) == 0);
    CHECK(read_line(fd).find("33522B") != std::string::npos);
    ::close(fd);
}

TEST_CASE("a reply without a terminator is refused at the session's limit", "[integration][security]") {
    HostileServer server(std::string(1 << 20, 'x'));  // 1 MiB, no newline
    auto s = session_to(server.port());
    try {
        (void)s.query("*IDN?");
        FAIL("an endless reply was accepted");
    } catch (const ProtocolError& e) {
        CHECK(std::string(e.what()).find("longer than 65536 bytes") != std::string::npos);
        CHECK(std::string(e.what()).find("hostile") != std::string::npos);
    }
}

TEST_CASE("an IEEE 488.2 block announcing more than the limit is refused before it is read", "[integration][security]") {
    HostileServer server("#9999999999");  // announces ~1 GB and sends nothing of it
    auto s = session_to(server.port());
    const auto t0 = std::chrono::steady_clock::now();
    CHECK_THROWS_AS(s.query_block("CURV?"), ProtocolError);
    CHECK(std::chrono::steady_clock::now() - t0 < std::chrono::seconds(4));  // not a timeout waiting for 1 GB
}

TEST_CASE("recipe, station and text input files are size-limited", "[unit][security]") {
    test::TempDir dir("sec-files");
    const std::string big = "# " + std::string(max_recipe_bytes, 'x') + "\nkind = \"rh_loop\"\n";
    write_file(dir / "big.toml", big);
    CHECK_THROWS_WITH(recipes::load(dir / "big.toml"), Catch::Contains("larger than 1048576 bytes"));
    CHECK_THROWS_WITH(acquisition::load_station(dir / "big.toml"), Catch::Contains("larger than 1048576 bytes"));
    // An endless "file" ends at the limit, not at the end of memory.
    const auto t0 = std::chrono::steady_clock::now();
    CHECK_THROWS_WITH(recipes::load("/dev/zero"), Catch::Contains("larger than"));
    CHECK(std::chrono::steady_clock::now() - t0 < std::chrono::seconds(20));
    // The helper itself: exactly the limit is fine, one byte more is not.
    write_file(dir / "ten.txt", "0123456789");
    CHECK(read_text_file(dir / "ten.txt", 10, "test") == "0123456789");
    CHECK_THROWS_WITH(read_text_file(dir / "ten.txt", 9, "test"), Catch::Contains("ten.txt: larger than 9 bytes"));
    CHECK_THROWS_WITH(read_text_file(dir / "none.txt", 9, "test"), Catch::Contains("cannot read test file"));
    CHECK(max_csv_bytes >= (std::size_t{64} << 20));
}

TEST_CASE("the ANN conductance-state CSV is size-limited like every CSV import", "[unit][security]") {
    // Was read line by line with std::getline: /dev/zero (one endless line) grew a string without bound.
    const auto t0 = std::chrono::steady_clock::now();
    CHECK_THROWS_WITH(ann::read_states_table("/dev/zero"),
                      Catch::Contains("/dev/zero: larger than " + std::to_string(max_csv_bytes) + " bytes"));
    CHECK(std::chrono::steady_clock::now() - t0 < std::chrono::seconds(60));
    CHECK_THROWS_WITH(ann::read_states_table("/nonexistent/levels.csv"), Catch::Contains("cannot read levels CSV"));
}

TEST_CASE("names from a campaign recipe cannot become paths or shell syntax", "[unit][security]") {
    const std::string base = R"(kind = "campaign"
name = "c"
[wafer]
id = "WAFER"
[select]
thickness_nm = [1.6]
cells = [1]
devices_per_group = 1
[[run]]
kind = "rh_loop"
name = "RUN"
loop = "minor"
)";
    auto with = [&](const std::string& wafer, const std::string& run) {
        std::string t = base;
        t.replace(t.find("WAFER"), 5, wafer);
        t.replace(t.find("RUN"), 3, run);
        return t;
    };
    CHECK_NOTHROW(recipes::parse(with("W1", "rh"), "ok.toml"));
    for (const std::string bad : {"../rh", "/tmp/rh", "a/b", "rh;rm", "..", "rh x"}) {
        INFO(bad);
        CHECK_THROWS_AS(recipes::parse(with("W1", bad), "bad.toml"), InputError);
    }
    // The wafer id is passed to --prober-command as an argument: no shell syntax can get in.
    for (const std::string bad : {"W1;touch x", "$(reboot)", "`id`", "../W1", "W 1", "W1|sh", ""}) {
        INFO(bad);
        CHECK_THROWS_WITH(recipes::parse(with(bad, "rh"), "bad.toml"), Catch::Contains("wafer.id"));
    }
}

TEST_CASE("a single run's name cannot leave the output directory", "[integration][security]") {
    test::TempDir dir("sec-names");
    const fs::path out = dir / "out";
    for (const std::string name : {"../../escape", "/tmp/mtjlab-escape-test", "..", "a/../../b"}) {
        INFO(name);
        fs::remove_all(out);
        write_file(dir / "r.toml", "kind = \"rh_loop\"\nname = \"" + name +
                                        "\"\nfields_mT = [1.0, 0.0]\nsettle_s = 0.01\n[read]\naverages = 1\n");
        const auto r = test::run_cli("run '" + (dir / "r.toml").string() + "' --station '" +
                                     (test::source_dir() / "recipes" / "station.example.toml").string() + "' -o '" +
                                     out.string() + "' --virtual");
        INFO(r.out << r.err);
        CHECK(r.exit_code == 0);
        // Exactly one run file, inside the output directory; nothing next to it.
        std::size_t files = 0;
        for (const auto& e : fs::recursive_directory_iterator(out)) {
            if (!e.is_regular_file()) continue;
            ++files;
            CHECK(e.path().parent_path() == out);
        }
        CHECK(files == 1);
        std::size_t siblings = 0;
        for (const auto& e : fs::directory_iterator(dir.path())) {
            (void)e;
            ++siblings;
        }
        CHECK(siblings == 2);  // r.toml and out/
        CHECK_FALSE(fs::exists("/tmp/mtjlab-escape-test.h5"));
    }
}

TEST_CASE("a campaign manifest is read up to its size limit, even through a link to an endless file",
          "[integration][security]") {
    test::TempDir dir("sec-manifest");
    const fs::path out = dir / "out";
    fs::create_directories(out);
    // The manifest was parsed straight from the stream, without a size limit (/dev/zero happened to stop the
    // parser at its first byte; a large or endless file of JSON-looking text would not). Now the bounded reader
    // refuses it at max_manifest_bytes before parsing.
    fs::create_symlink("/dev/zero", out / "campaign.json");
    write_file(dir / "c.toml", R"(kind = "campaign"
name = "c"
[wafer]
id = "W1"
[select]
thickness_nm = [1.6]
cells = [1]
devices_per_group = 1
[[run]]
kind = "rh_loop"
name = "rh"
loop = "minor"
)");
    const auto t0 = std::chrono::steady_clock::now();
    const auto r = test::run_cli("run '" + (dir / "c.toml").string() + "' --station '" +
                                 (test::source_dir() / "recipes" / "station.example.toml").string() + "' -o '" +
                                 out.string() + "' --virtual --resume");
    INFO(r.out << r.err);
    CHECK(r.exit_code == 2);
    CHECK(r.err.find("campaign.json: larger than " + std::to_string(max_manifest_bytes) + " bytes") !=
          std::string::npos);
    CHECK(std::chrono::steady_clock::now() - t0 < std::chrono::seconds(120));
}

TEST_CASE("resume does not follow a run file's symbolic link out of the output directory",
          "[integration][security]") {
    test::TempDir dir("sec-symlink");
    const fs::path out = dir / "out";
    write_file(dir / "r.toml", "kind = \"rh_loop\"\nname = \"rh\"\nfields_mT = [1.0, 0.0]\nsettle_s = 0.01\n"
                               "[read]\naverages = 1\n");
    const std::string cmd = "run '" + (dir / "r.toml").string() + "' --station '" +
                            (test::source_dir() / "recipes" / "station.example.toml").string() + "' -o '" +
                            out.string() + "' --virtual --resume";
    // A real, unfinished run file outside the output directory: the target a planted link points at.
    const auto first = test::run_cli(cmd);
    INFO(first.out << first.err);
    REQUIRE(first.exit_code == 0);
    const fs::path made = out / "rh.h5";
    REQUIRE(fs::is_regular_file(made));
    const fs::path victim = dir / "victim.h5";
    fs::copy_file(made, victim);
    const auto before = fs::file_size(victim);
    const auto mtime = fs::last_write_time(victim);
    for (const fs::path& target : {fs::path("../victim.h5"), victim /* absolute */}) {
        INFO(target);
        fs::remove_all(out);
        fs::create_directories(out);
        fs::create_symlink(target, made);
        const auto r = test::run_cli(cmd);
        INFO(r.out << r.err);
        CHECK(r.exit_code == 2);
        CHECK(r.err.find("is a symbolic link") != std::string::npos);
        CHECK(fs::file_size(victim) == before);
        CHECK(fs::last_write_time(victim) == mtime);
        CHECK(fs::is_symlink(made));  // left as it was
    }
}

TEST_CASE("resume does not write through a row journal that is a symbolic link out of the output directory",
          "[integration][security]") {
    // `mtjlab run --resume` continues an unfinished run and replaces its stale row journal (<run>.h5.journal).
    // Through a planted link it truncated and rewrote the link's target; storage now refuses the link.
    test::TempDir dir("sec-journal-link");
    const fs::path out = dir / "out";
    write_file(dir / "r.toml", "kind = \"rh_loop\"\nname = \"rh\"\nfields_mT = [1.0, 0.0, -1.0, 0.0, 1.0, 2.0]\n"
                               "settle_s = 0.01\n[read]\naverages = 1\n");
    const std::string base = "run '" + (dir / "r.toml").string() + "' --station '" +
                             (test::source_dir() / "recipes" / "station.example.toml").string() + "' -o '" +
                             out.string() + "' --virtual";
    // An unfinished run: injected instrument errors stop it (status failed). Which seed stops it after the run
    // file exists depends on the message sequence, so try a few.
    const fs::path made = out / "rh.h5";
    bool unfinished = false;
    for (int seed = 1; seed <= 40 && !unfinished; ++seed) {
        fs::remove_all(out);
        const auto r = test::run_cli(base + " --faults rate=0.05,seed=" + std::to_string(seed) + ",kinds=error");
        unfinished = r.exit_code != 0 && fs::is_regular_file(made);
    }
    REQUIRE(unfinished);
    const fs::path victim = dir / "victim.txt";
    write_file(victim, "months of work\n");
    const auto mtime = fs::last_write_time(victim);
    const fs::path saved = dir / "unfinished.h5";
    fs::copy_file(made, saved);
    for (const fs::path& target : {fs::path("../victim.txt"), victim /* absolute */}) {
        INFO(target);
        fs::copy_file(saved, made, fs::copy_options::overwrite_existing);
        fs::remove(out / "rh.h5.journal");
        fs::create_symlink(target, out / "rh.h5.journal");
        const auto r = test::run_cli(base + " --resume");
        INFO(r.out << r.err);
        CHECK(r.exit_code == 2);
        CHECK(r.err.find("rh.h5.journal: the row journal is a symbolic link; refused") != std::string::npos);
        CHECK(test::slurp(victim) == "months of work\n");
        CHECK(fs::last_write_time(victim) == mtime);
        CHECK(fs::is_symlink(out / "rh.h5.journal"));  // left as it was
    }
}
