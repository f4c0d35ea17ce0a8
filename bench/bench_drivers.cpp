// Query round trip over loopback TCP: the full driver stack (ScpiSession + TcpTransport, typed
// query) versus a bare Asio request/reply against the same in-bench server, in the same run.
// Prints the ratio (target <= 1.5x).
#include <utility>  // before Asio (Boost 1.74 + C++20)

#include <atomic>
#include <cstdio>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <benchmark/benchmark.h>
#include <boost/asio.hpp>

#include "mtjlab/drivers/scpi/session.hpp"
#include "mtjlab/drivers/transport/transport.hpp"

namespace asio = boost::asio;
using asio::ip::tcp;

namespace {

// Answers every line with "1000\n"; one thread per connection; lives for the whole run.
class EchoServer {
public:
    EchoServer() : acceptor_(io_, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)) {
        thread_ = std::thread([this] {
            for (;;) {
                auto s = std::make_shared<tcp::socket>(io_);
                boost::system::error_code ec;
                acceptor_.accept(*s, ec);
                if (ec) return;
                s->set_option(tcp::no_delay(true));
                std::thread([s] {
                    asio::streambuf buf;
                    boost::system::error_code e;
                    for (;;) {
                        const auto n = asio::read_until(*s, buf, '\n', e);
                        if (e) return;
                        buf.consume(n);
                        asio::write(*s, asio::buffer("1000\n", 5), e);
                        if (e) return;
                    }
                }).detach();
            }
        });
        thread_.detach();
    }
    std::uint16_t port() const { return acceptor_.local_endpoint().port(); }

private:
    asio::io_context io_;
    tcp::acceptor acceptor_;
    std::thread thread_;
};

EchoServer& server() {
    static auto* s = new EchoServer();  // never destroyed: detached threads use it until exit
    return *s;
}

void BM_BareAsioRoundTrip(benchmark::State& state) {
    asio::io_context io;
    tcp::socket s(io);
    s.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), server().port()));
    s.set_option(tcp::no_delay(true));
    asio::streambuf buf;
    double sum = 0;
    for (auto _ : state) {
        asio::write(s, asio::buffer("FREQ?\n", 6));
        const auto n = asio::read_until(s, buf, '\n');
        std::string line(asio::buffers_begin(buf.data()), asio::buffers_begin(buf.data()) + static_cast<long>(n) - 1);
        buf.consume(n);
        sum += std::stod(line);
    }
    benchmark::DoNotOptimize(sum);
}
BENCHMARK(BM_BareAsioRoundTrip)->MinTime(1.0)->UseRealTime();

void BM_DriverStackRoundTrip(benchmark::State& state) {
    mtjlab::drivers::SessionOptions o;
    o.name = "bench";
    mtjlab::drivers::ScpiSession session(
        mtjlab::drivers::open_transport("TCPIP0::127.0.0.1::" + std::to_string(server().port()) + "::SOCKET"), o);
    double sum = 0;
    for (auto _ : state) sum += session.query_double("FREQ?");
    benchmark::DoNotOptimize(sum);
}
BENCHMARK(BM_DriverStackRoundTrip)->MinTime(1.0)->UseRealTime();

// Console output as usual, plus the real time per iteration of each benchmark for the ratio.
class RatioReporter : public benchmark::ConsoleReporter {
public:
    void ReportRuns(const std::vector<Run>& runs) override {
        for (const auto& r : runs)
            if (r.run_type == Run::RT_Iteration) times[r.run_name.function_name] = r.GetAdjustedRealTime();
        ConsoleReporter::ReportRuns(runs);
    }
    std::map<std::string, double> times;
};

}  // namespace

int main(int argc, char** argv) {
    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
    RatioReporter reporter;
    benchmark::RunSpecifiedBenchmarks(&reporter);
    const auto bare = reporter.times.find("BM_BareAsioRoundTrip");
    const auto stack = reporter.times.find("BM_DriverStackRoundTrip");
    if (bare != reporter.times.end() && stack != reporter.times.end() && bare->second > 0) {
        const double ratio = stack->second / bare->second;
        std::printf("driver stack / bare Asio round trip: %.2fx (target <= 1.50x) %s\n", ratio,
                    ratio <= 1.5 ? "OK" : "ABOVE TARGET");
    }
    benchmark::Shutdown();
    return 0;
}
