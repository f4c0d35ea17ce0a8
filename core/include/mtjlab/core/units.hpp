#pragma once
// Small strong unit types. Values are stored in SI (T, A, V, Ohm, s); conversions to the units people
// type (mT, kOhm, ns, ...) happen only at the edges through the named factory/accessor functions below.
#include <compare>

namespace mtjlab::units {

/// A quantity of one physical dimension, stored in SI. Construction from a bare double is explicit.
template <class Tag>
class Quantity {
public:
    constexpr Quantity() = default;
    constexpr explicit Quantity(double si) : si_(si) {}
    /// The value in the SI base unit of this dimension.
    [[nodiscard]] constexpr double si() const { return si_; }

    constexpr Quantity operator-() const { return Quantity(-si_); }
    constexpr Quantity& operator+=(Quantity o) { si_ += o.si_; return *this; }
    constexpr Quantity& operator-=(Quantity o) { si_ -= o.si_; return *this; }
    constexpr Quantity& operator*=(double k) { si_ *= k; return *this; }
    constexpr Quantity& operator/=(double k) { si_ /= k; return *this; }
    friend constexpr Quantity operator+(Quantity a, Quantity b) { return Quantity(a.si_ + b.si_); }
    friend constexpr Quantity operator-(Quantity a, Quantity b) { return Quantity(a.si_ - b.si_); }
    friend constexpr Quantity operator*(Quantity a, double k) { return Quantity(a.si_ * k); }
    friend constexpr Quantity operator*(double k, Quantity a) { return Quantity(a.si_ * k); }
    friend constexpr Quantity operator/(Quantity a, double k) { return Quantity(a.si_ / k); }
    /// Ratio of two quantities of the same dimension (dimensionless).
    friend constexpr double operator/(Quantity a, Quantity b) { return a.si_ / b.si_; }
    friend constexpr auto operator<=>(Quantity, Quantity) = default;
    friend constexpr bool operator==(Quantity, Quantity) = default;

private:
    double si_ = 0.0;
};

using Tesla = Quantity<struct TeslaTag>;
using Ampere = Quantity<struct AmpereTag>;
using Volt = Quantity<struct VoltTag>;
using Ohm = Quantity<struct OhmTag>;
using Second = Quantity<struct SecondTag>;
using Hertz = Quantity<struct HertzTag>;

// Ohm's law keeps the dimensions honest.
constexpr Volt operator*(Ampere i, Ohm r) { return Volt(i.si() * r.si()); }
constexpr Volt operator*(Ohm r, Ampere i) { return Volt(i.si() * r.si()); }
constexpr Ampere operator/(Volt v, Ohm r) { return Ampere(v.si() / r.si()); }
constexpr Ohm operator/(Volt v, Ampere i) { return Ohm(v.si() / i.si()); }
constexpr double operator*(Hertz f, Second t) { return f.si() * t.si(); }

// Edge conversions: construct from user units ...
constexpr Tesla tesla(double v) { return Tesla(v); }
constexpr Tesla millitesla(double v) { return Tesla(v * 1e-3); }
constexpr Ampere amperes(double v) { return Ampere(v); }
constexpr Ampere milliamperes(double v) { return Ampere(v * 1e-3); }
constexpr Volt volts(double v) { return Volt(v); }
constexpr Volt millivolts(double v) { return Volt(v * 1e-3); }
constexpr Ohm ohms(double v) { return Ohm(v); }
constexpr Ohm kiloohms(double v) { return Ohm(v * 1e3); }
constexpr Second seconds(double v) { return Second(v); }
constexpr Second milliseconds(double v) { return Second(v * 1e-3); }
constexpr Second microseconds(double v) { return Second(v * 1e-6); }
constexpr Second nanoseconds(double v) { return Second(v * 1e-9); }
constexpr Hertz hertz(double v) { return Hertz(v); }

// ... and read back in user units.
constexpr double in_mT(Tesla b) { return b.si() * 1e3; }
constexpr double in_mA(Ampere i) { return i.si() * 1e3; }
constexpr double in_kOhm(Ohm r) { return r.si() * 1e-3; }
constexpr double in_ns(Second t) { return t.si() * 1e9; }
constexpr double in_ms(Second t) { return t.si() * 1e3; }

}  // namespace mtjlab::units

namespace mtjlab {
using units::Ampere;
using units::Hertz;
using units::Ohm;
using units::Second;
using units::Tesla;
using units::Volt;
}  // namespace mtjlab
