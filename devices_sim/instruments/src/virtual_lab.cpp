#include "mtjlab/devices_sim/virtual_lab.hpp"

#include <fcntl.h>
#include <termios.h>
#include <unistd.h>

#include <array>
#include <utility>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <deque>
#include <map>
#include <future>
#include <set>
#include <thread>

#include <boost/asio.hpp>

#include "mtjlab/core/error.hpp"
#include "mtjlab/core/log.hpp"
#include "mtjlab/physics/wafer.hpp"

namespace mtjlab::devices_sim {

namespace asio = boost::asio;
using asio::ip::tcp;

std::vector<LabInstrument> default_lab_instruments() {
    return {{"pulse_gen", "33522B", false},   {"pulse_gen2", "81150A", false}, {"lockin", "SR830", false},
            {"lockin2", "SR860", false},      {"magnet", "BOP 20-10M", true},  {"magnet2", "2400", false},
            {"gaussmeter", "425", true}};
}

namespace {

physics::CompoundDevice make_device(const LabDevice& d) {
    if (d.wafer_seed) {
        physics::Wafer wafer(physics::WaferSpec{}, *d.wafer_seed);
        return wafer.device(d.die, d.device);
    }
    return physics::nominal_device(d.thickness_nm, d.cells);
}

/// One line-oriented connection (TCP socket or pty master) to one instrument. Reads lines (`\n` or
/// `\r\n`), hands each to the instrument in order, writes replies; applies delay/drop faults.
template <class Stream>
class LineSession : public std::enable_shared_from_this<LineSession<Stream>> {
public:
    LineSession(Stream stream, VirtualInstrument& instr, std::size_t max_line, bool can_drop,
                std::function<void()> on_close)
        : stream_(std::move(stream)), timer_(stream_.get_executor()), instr_(instr), max_line_(max_line),
          can_drop_(can_drop), on_close_(std::move(on_close)) {}

    void start() { read(); }
    void close() {
        if (closed_) return;
        closed_ = true;
        boost::system::error_code ec;
        timer_.cancel();
        stream_.close(ec);
        if (on_close_) on_close_();
    }

private:
    void read() {
        auto self = this->shared_from_this();
        stream_.async_read_some(asio::buffer(buf_), [self](boost::system::error_code ec, std::size_t n) {
            if (ec) {
                self->close();
                return;
            }
            self->consume(std::string_view(self->buf_.data(), n));
            self->next();
        });
    }

    void consume(std::string_view data) {
        for (char c : data) {
            if (c == '\n') {
                if (discarding_) {
                    discarding_ = false;
                } else {
                    if (!pending_.empty() && pending_.back() == '\r') pending_.pop_back();
                    lines_.push_back(std::move(pending_));
                }
                pending_.clear();
                continue;
            }
            if (discarding_) continue;
            pending_ += c;
            if (pending_.size() > max_line_) {
                // An absurdly long line: the input buffer overflows; drop it up to the next terminator.
                instr_.push_error(scpi_code::input_buffer_overrun, "line longer than " + std::to_string(max_line_));
                pending_.clear();
                discarding_ = true;
            }
        }
    }

    // Handles the queued lines one at a time (replies in order, delays honoured), then reads again.
    void next() {
        if (closed_) return;
        if (lines_.empty()) {
            read();
            return;
        }
        const std::string line = std::move(lines_.front());
        lines_.pop_front();
        Exchange ex = instr_.process(line);
        if (ex.drop && can_drop_) {
            log::get("vlab")->debug("{}: dropping the connection (fault injection)", instr_.name());
            close();
            return;
        }
        if (!ex.reply || ex.drop) {
            if (ex.delay.si() > 0.0) wait_then([this] { next(); }, ex.delay);
            else next();
            return;
        }
        out_ = *ex.reply + instr_.reply_terminator();
        auto send = [this] {
            auto self = this->shared_from_this();
            asio::async_write(stream_, asio::buffer(out_), [self](boost::system::error_code ec, std::size_t) {
                if (ec) {
                    self->close();
                    return;
                }
                self->next();
            });
        };
        if (ex.delay.si() > 0.0) wait_then(send, ex.delay);
        else send();
    }

    template <class F>
    void wait_then(F f, Second delay) {
        auto self = this->shared_from_this();
        timer_.expires_after(std::chrono::duration_cast<std::chrono::steady_clock::duration>(
            std::chrono::duration<double>(delay.si())));
        timer_.async_wait([self, f](boost::system::error_code ec) {
            if (ec || self->closed_) return;
            f();
        });
    }

    Stream stream_;
    asio::steady_timer timer_;
    VirtualInstrument& instr_;
    std::size_t max_line_;
    bool can_drop_;
    std::function<void()> on_close_;
    std::array<char, 4096> buf_{};
    std::string pending_;
    std::deque<std::string> lines_;
    std::string out_;
    bool discarding_ = false;
    bool closed_ = false;
};

}  // namespace

struct VirtualLab::Impl {
    asio::io_context io;
    std::thread thread;
    std::atomic<bool> running{false};

    struct Served {
        VirtualInstrument* instr = nullptr;
        std::unique_ptr<tcp::acceptor> acceptor;
        std::shared_ptr<LineSession<tcp::socket>> session;
        unsigned port = 0;
        int pty_master = -1;
        int pty_slave = -1;  // kept open so the master never sees a hang-up between clients
        std::string pty_path;
        std::shared_ptr<LineSession<asio::posix::stream_descriptor>> pty_session;
    };
    std::vector<Served> served;
    std::size_t max_line = 4096;

    // One client at a time per instrument: the next connection is accepted when the present one ends.
    void accept(Served& s) {
        s.acceptor->async_accept([this, &s](boost::system::error_code ec, tcp::socket sock) {
            if (ec) return;  // acceptor closed
            boost::system::error_code ignored;
            sock.set_option(tcp::no_delay(true), ignored);
            log::get("vlab")->debug("{}: client connected", s.instr->name());
            s.session = std::make_shared<LineSession<tcp::socket>>(std::move(sock), *s.instr, max_line, true,
                                                                   [this, &s] {
                                                                       if (running) asio::post(io, [this, &s] {
                                                                           s.session.reset();
                                                                           if (s.acceptor && s.acceptor->is_open()) accept(s);
                                                                       });
                                                                   });
            s.session->start();
        });
    }

    void open_pty(Served& s) {
        const int master = ::posix_openpt(O_RDWR | O_NOCTTY);
        if (master < 0 || ::grantpt(master) != 0 || ::unlockpt(master) != 0) {
            if (master >= 0) ::close(master);
            throw TransportError("virtual lab: cannot open a pseudo-terminal for " + s.instr->name());
        }
        const char* name = ::ptsname(master);
        if (name == nullptr) {
            ::close(master);
            throw TransportError("virtual lab: ptsname failed for " + s.instr->name());
        }
        s.pty_path = name;
        const int slave = ::open(name, O_RDWR | O_NOCTTY);
        if (slave < 0) {
            ::close(master);
            throw TransportError("virtual lab: cannot open " + s.pty_path);
        }
        // Raw line discipline on the slave: no echo, no CR/LF translation (a serial cable carries bytes).
        termios t{};
        if (::tcgetattr(slave, &t) == 0) {
            ::cfmakeraw(&t);
            ::tcsetattr(slave, TCSANOW, &t);
        }
        s.pty_master = master;
        s.pty_slave = slave;
        asio::posix::stream_descriptor sd(io, master);
        // A serial line cannot be "dropped" by the instrument: a drop fault loses the reply instead.
        s.pty_session = std::make_shared<LineSession<asio::posix::stream_descriptor>>(std::move(sd), *s.instr,
                                                                                      max_line, false, nullptr);
        s.pty_session->start();
    }
};

VirtualLab::VirtualLab(LabOptions options) : options_(std::move(options)), impl_(std::make_unique<Impl>()) {
    if (options_.max_line < 64) throw InputError("virtual lab: max_line must be >= 64");
    auto device = make_device(options_.device);
    physics::ProbeStation station(std::move(device), physics::ReadChain{}, options_.seed);
    BenchOptions bo = options_.bench;
    if (bo.seed == 1) bo.seed = options_.seed;
    bench_ = std::make_shared<VirtualBench>(std::move(station), bo);
    std::set<std::string> names;
    for (const auto& li : options_.instruments) {
        if (!names.insert(li.name).second) throw InputError("virtual lab: duplicate instrument name '" + li.name + "'");
        instruments_.push_back(make_virtual_instrument(li.model, li.name, bench_));
    }
    impl_->max_line = options_.max_line;
}

VirtualLab::~VirtualLab() { stop(); }

bool VirtualLab::running() const { return impl_->running; }

void VirtualLab::start() {
    if (impl_->running) return;
    auto& im = *impl_;
    im.io.restart();
    im.served.clear();
    im.served.reserve(instruments_.size());
    boost::system::error_code ec;
    const auto addr = asio::ip::make_address(options_.listen, ec);
    if (ec) throw InputError("virtual lab: bad listen address '" + options_.listen + "'");
    try {
        for (std::size_t k = 0; k < instruments_.size(); ++k) {
            Impl::Served s;
            s.instr = instruments_[k].get();
            const auto port = options_.port_base == 0 ? 0u : options_.port_base + static_cast<unsigned>(k);
            if (port > 65535) throw InputError("virtual lab: port " + std::to_string(port) + " out of range");
            s.acceptor = std::make_unique<tcp::acceptor>(im.io);
            const tcp::endpoint ep(addr, static_cast<unsigned short>(port));
            s.acceptor->open(ep.protocol());
            s.acceptor->set_option(tcp::acceptor::reuse_address(true));
            s.acceptor->bind(ep, ec);
            if (ec)
                throw TransportError("virtual lab: cannot bind " + s.instr->name() + " to " + options_.listen + ":" +
                                     std::to_string(port) + ": " + ec.message());
            s.acceptor->listen();
            s.port = s.acceptor->local_endpoint().port();
            im.served.push_back(std::move(s));
        }
        for (std::size_t k = 0; k < im.served.size(); ++k) {
            im.accept(im.served[k]);
            if (options_.serve_pty && options_.instruments[k].pty) im.open_pty(im.served[k]);
        }
    } catch (...) {
        for (auto& s : im.served) {
            if (s.acceptor) s.acceptor->close(ec);
            if (s.pty_session) s.pty_session->close();
            if (s.pty_slave >= 0) ::close(s.pty_slave);
        }
        im.served.clear();
        throw;
    }
    im.running = true;
    im.thread = std::thread([&im] {
        try {
            im.io.run();
        } catch (const std::exception& e) {
            log::get("vlab")->error("virtual lab io thread stopped: {}", e.what());
        }
    });
    log::get("vlab")->info("virtual lab serving {} instruments on {}", im.served.size(), options_.listen);
}

void VirtualLab::stop() {
    auto& im = *impl_;
    if (!im.running) return;
    im.running = false;
    std::promise<void> closed;
    auto done = closed.get_future();
    asio::post(im.io, [&im, &closed] {
        boost::system::error_code ec;
        for (auto& s : im.served) {
            if (s.acceptor) s.acceptor->close(ec);
            if (s.session) s.session->close();
            if (s.pty_session) s.pty_session->close();
        }
        closed.set_value();
    });
    done.wait_for(std::chrono::seconds(5));
    im.io.stop();
    if (im.thread.joinable()) im.thread.join();
    for (auto& s : im.served) {
        s.session.reset();
        s.pty_session.reset();
        if (s.pty_slave >= 0) ::close(s.pty_slave);
        s.pty_slave = -1;
    }
    im.served.clear();
}

std::vector<LabEndpoint> VirtualLab::endpoints() const {
    std::vector<LabEndpoint> out;
    for (std::size_t k = 0; k < instruments_.size(); ++k) {
        LabEndpoint e;
        const auto& in = *instruments_[k];
        e.name = in.name();
        e.model = in.model();
        e.idn = in.idn();
        e.serial = in.serial();
        if (k < impl_->served.size()) {
            const auto& s = impl_->served[k];
            e.port = s.port;
            const std::string host = options_.listen == "0.0.0.0" || options_.listen == "::" ? "127.0.0.1" : options_.listen;
            e.tcp_resource = "TCPIP0::" + host + "::" + std::to_string(s.port) + "::SOCKET";
            if (!s.pty_path.empty()) {
                e.pty_path = s.pty_path;
                e.pty_resource = "ASRL" + s.pty_path + "::INSTR";
            }
        }
        out.push_back(std::move(e));
    }
    return out;
}

VirtualInstrument& VirtualLab::instrument(const std::string& name) {
    for (auto& i : instruments_)
        if (i->name() == name) return *i;
    throw InputError("virtual lab: no instrument named '" + name + "'");
}

InProcessHandler VirtualLab::handler(const std::string& name) {
    VirtualInstrument* in = &instrument(name);
    return [in](std::string_view message) { return in->handle(message); };
}

void VirtualLab::set_coil(double t_per_a, Tesla remanence) {
    std::lock_guard lock(bench_->mutex());
    bench_->set_coil_locked(t_per_a, remanence);
}

void VirtualLab::load_wafer(const physics::WaferSpec& spec, std::uint64_t wafer_seed) {
    wafer_.emplace(spec, wafer_seed);
    probed_.reset();
}

void VirtualLab::probe(int die, int device) {
    if (!wafer_) throw InputError("virtual prober: no wafer loaded");
    physics::CompoundDevice dev = wafer_->device(die, device);  // InputError when out of range
    std::lock_guard lock(bench_->mutex());
    physics::ProbeStation& st = bench_->station_locked();
    const physics::ReadChain chain = st.read_chain();
    const std::uint64_t seed =
        options_.seed * 1000003u + static_cast<std::uint64_t>(die) * 1000u + static_cast<std::uint64_t>(device);
    st = physics::ProbeStation(std::move(dev), chain, seed);
    st.set_field(bench_->field_locked());  // the magnet keeps its state across the move
    probed_ = std::make_pair(die, device);
}

std::optional<std::pair<int, int>> VirtualLab::probed() const { return probed_; }

void VirtualLab::wait(Second dt) {
    Second debt{0.0};
    {
        std::lock_guard lock(bench_->mutex());
        bench_->advance_locked(dt);
        debt = bench_->take_sleep_debt_locked();
    }
    if (debt.si() > 0) std::this_thread::sleep_for(std::chrono::duration<double>(debt.si()));
}

Second VirtualLab::now() const {
    std::lock_guard lock(bench_->mutex());
    return bench_->now_locked();
}

std::string virtual_model_for(std::string_view registry_key) {
    static const std::map<std::string_view, std::string> m = {
        {"keysight_33500b", "33522B"}, {"agilent_81150a", "81150A"}, {"srs_sr830", "SR830"}, {"srs_sr860", "SR860"},
        {"kepco_bop", "BOP 20-10M"},   {"keithley_2400", "2400"},     {"lakeshore_425", "425"}};
    const auto it = m.find(registry_key);
    if (it == m.end()) throw InputError("virtual lab: no virtual model for driver '" + std::string(registry_key) + "'");
    return it->second;
}

StationLab start_lab_for(const std::vector<StationInstrument>& instruments, LabOptions options,
                         double coil_constant_t_per_a, double coil_error, Tesla remanence) {
    if (!(coil_constant_t_per_a > 0.0) || !(1.0 + coil_error > 0.0))
        throw InputError("virtual lab: coil constant * (1 + coil error) must be > 0 T/A");
    options.instruments.clear();
    for (const auto& in : instruments) options.instruments.push_back({in.role, virtual_model_for(in.registry_key), false});
    StationLab out;
    out.lab = std::make_unique<VirtualLab>(std::move(options));
    out.lab->set_coil(coil_constant_t_per_a * (1.0 + coil_error), remanence);
    out.lab->start();
    for (const auto& ep : out.lab->endpoints()) out.resources[ep.name] = ep.tcp_resource;
    return out;
}

}  // namespace mtjlab::devices_sim
