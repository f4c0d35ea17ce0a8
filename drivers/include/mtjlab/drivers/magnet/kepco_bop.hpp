#pragma once
// Kepco BOP bipolar operational power supplies (SCPI), used as a coil current source.
#include <span>
#include <string>
#include <string_view>

#include "mtjlab/drivers/magnet/magnet_supply.hpp"

namespace mtjlab::drivers {

/// One row of the BOP model table: rated output.
struct KepcoBopModel {
    std::string_view name;  ///< as in *IDN?, e.g. "BOP 20-10"
    double volts;           ///< rated |V|
    double amps;            ///< rated |I|
};

/// Kepco BOP. The rated current and voltage come from the table row matched on the *IDN? model field
/// (`identify_model()`), or the constructor's row; default row BOP 20-10.
class KepcoBop final : public MagnetSupply {
public:
    explicit KepcoBop(std::shared_ptr<ScpiSession> session, std::string_view bop_model = "BOP 20-10");
    [[nodiscard]] std::string_view model() const override { return "kepco_bop"; }
    [[nodiscard]] MagnetLimits limits() const override;
    /// Queries *IDN? and selects the matching table row (InstrumentError when unknown).
    void identify_model();
    [[nodiscard]] const KepcoBopModel& rating() const { return *rating_; }
    void configure_current_mode() override;
    void set_current(Ampere i) override;
    void set_compliance(Volt v) override;
    void set_output(bool on) override;
    [[nodiscard]] Ampere measure_current() override;
    void safe_state() override;

protected:
    [[nodiscard]] Ampere query_setpoint_raw() override;

private:
    const KepcoBopModel* rating_;
};

/// The BOP table.
std::span<const KepcoBopModel> kepco_bop_models();

}  // namespace mtjlab::drivers
