#include <catch2/catch.hpp>

#include "mtjlab/core/error.hpp"
#include "mtjlab/drivers/transport/resource.hpp"
#include "mtjlab/drivers/transport/transport.hpp"

using namespace mtjlab;
using namespace mtjlab::drivers;

TEST_CASE("TCPIP SOCKET resources parse into host and port", "[unit][drivers][resource]") {
    const auto r = std::get<TcpResource>(parse_resource("TCPIP0::192.168.1.17::5025::SOCKET"));
    CHECK(r.board == 0);
    CHECK(r.host == "192.168.1.17");
    CHECK(r.port == 5025);
    const auto r2 = std::get<TcpResource>(parse_resource("tcpip3::localhost::1234::socket"));
    CHECK(r2.board == 3);
    CHECK(r2.host == "localhost");
    CHECK(to_string(Resource{r2}) == "TCPIP3::localhost::1234::SOCKET");
    CHECK(std::get<TcpResource>(parse_resource("TCPIP::h::1::SOCKET")).board == 0);
}

TEST_CASE("USB resources take hex or decimal IDs, serial and interface", "[unit][drivers][resource]") {
    const auto r = std::get<UsbResource>(parse_resource("USB0::0x0957::0x2807::MY12345678::INSTR"));
    CHECK(r.vendor_id == 0x0957);
    CHECK(r.product_id == 0x2807);
    CHECK(r.serial == "MY12345678");
    CHECK_FALSE(r.interface_number);
    const auto r2 = std::get<UsbResource>(parse_resource("USB::2391::10247::SN1::2::INSTR"));
    CHECK(r2.vendor_id == 2391);
    CHECK(r2.product_id == 10247);
    CHECK(r2.interface_number == std::uint8_t{2});
    CHECK(to_string(Resource{r}) == "USB0::0x0957::0x2807::MY12345678::INSTR");
    CHECK(to_string(parse_resource(to_string(Resource{r2}))) == to_string(Resource{r2}));
}

TEST_CASE("ASRL and SIM resources", "[unit][drivers][resource]") {
    CHECK(std::get<SerialResource>(parse_resource("ASRL/dev/ttyUSB0::INSTR")).device == "/dev/ttyUSB0");
    CHECK(std::get<SerialResource>(parse_resource("ASRL/dev/pts/7")).device == "/dev/pts/7");
    CHECK(std::get<SimResource>(parse_resource("SIM::lockin")).name == "lockin");
}

TEST_CASE("bad resource strings say what is wrong", "[unit][drivers][resource]") {
    auto message = [](const char* text) {
        try {
            (void)parse_resource(text);
        } catch (const InputError& e) {
            return std::string(e.what());
        }
        return std::string("no error");
    };
    CHECK_THAT(message(""), Catch::Contains("empty"));
    CHECK_THAT(message("TCPIP0::host::99999::SOCKET"), Catch::Contains("port '99999'"));
    CHECK_THAT(message("TCPIP0::host::abc::SOCKET"), Catch::Contains("port 'abc'"));
    CHECK_THAT(message("TCPIP0::host::INSTR"), Catch::Contains("only raw sockets"));
    CHECK_THAT(message("TCPIP0::::5025::SOCKET"), Catch::Contains("empty host"));
    CHECK_THAT(message("TCPIPx::h::5025::SOCKET"), Catch::Contains("board number"));
    CHECK_THAT(message("USB0::0xZZZZ::0x2807::SN::INSTR"), Catch::Contains("vendor ID '0xZZZZ'"));
    CHECK_THAT(message("USB0::0x0957::0x12345::SN::INSTR"), Catch::Contains("product ID"));
    CHECK_THAT(message("USB0::0x0957::INSTR"), Catch::Contains("expected USB"));
    CHECK_THAT(message("USB0::0x0957::0x2807::SN::RAW"), Catch::Contains("RAW"));
    CHECK_THAT(message("ASRL1::INSTR"), Catch::Contains("not a device path"));
    CHECK_THAT(message("ASRL/dev/ttyS0::SOCKET"), Catch::Contains("expected ASRL"));
    CHECK_THAT(message("GPIB0::12::INSTR"), Catch::Contains("unknown interface"));
    CHECK_THAT(message("SIM::"), Catch::Contains("SIM::<name>"));
    // Every message quotes the string.
    CHECK_THAT(message("GPIB0::12::INSTR"), Catch::Contains("'GPIB0::12::INSTR'"));
}

TEST_CASE("open_transport refuses SIM resources and reports unreachable sockets", "[unit][drivers][resource]") {
    CHECK_THROWS_AS(open_transport("SIM::x"), InputError);
    CHECK_THROWS_AS(open_transport("ASRL/dev/does-not-exist-mtjlab::INSTR"), TransportError);
}

TEST_CASE("serial words parse", "[unit][drivers][resource]") {
    CHECK(parse_parity("Odd") == SerialSettings::Parity::odd);
    CHECK(parse_parity("none") == SerialSettings::Parity::none);
    CHECK(parse_flow_control("rtscts") == SerialSettings::FlowControl::hardware);
    CHECK_THROWS_AS(parse_parity("mark"), InputError);
    CHECK_THROWS_AS(parse_flow_control("dtr"), InputError);
}
