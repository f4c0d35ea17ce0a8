#!/usr/bin/env python3
"""Independent client for the virtual lab: PyVISA with the pure-Python @py backend, exactly as a user's
script would talk to the real instruments over raw sockets. Usage:
    pyvisa_client.py PULSE_GEN_RESOURCE LOCKIN_RESOURCE MAGNET_RESOURCE GAUSSMETER_RESOURCE
Exits non-zero (with a message) on the first mismatch."""
import sys

import pyvisa


def check(cond, what):
    if not cond:
        print("PYVISA FAIL: " + what)
        sys.exit(1)


def main(argv):
    pg_res, li_res, mg_res, gm_res = argv[1:5]
    rm = pyvisa.ResourceManager("@py")

    def open_(res, read_term="\n"):
        return rm.open_resource(res, read_termination=read_term, write_termination="\n", timeout=5000)

    pg = open_(pg_res)
    idn = pg.query("*IDN?")
    check("33522B" in idn and len(idn.split(",")) == 4, "pulse generator *IDN?: " + idn)
    pg.write("*RST;*CLS")
    pg.write("FUNC PULS")
    pg.write("FUNC:PULS:WIDT 200 NS")
    check(abs(float(pg.query("FUNC:PULS:WIDT?")) - 200e-9) < 1e-12, "pulse width read back")
    pg.write("VOLT:LOW 0;:VOLT:HIGH 0.3")
    check(abs(float(pg.query("VOLT?")) - 0.3) < 1e-9, "amplitude read back")
    check(pg.query("SYST:ERR?").startswith("0,"), "no error after valid settings")
    pg.write("FUNC:PULS:WIDT 1 NS")
    check(pg.query("SYST:ERR?").startswith("-222,"), "-222 for a too narrow pulse")

    li = open_(li_res)
    check(li.query("*IDN?").startswith("Stanford_Research_Systems,SR830,"), "lock-in *IDN?")
    li.write("SENS 19;OFLT 8;SLVL 0.100;FREQ 137")
    check(li.query("SENS?").strip() == "19", "SENS read back")
    check(abs(float(li.query("FREQ?")) - 137.0) < 1e-9, "FREQ read back")
    x = float(li.query("OUTP? 1"))
    check(1e-3 < x < 5e-3, "X of a ~25-60 kOhm junction behind 1 MOhm at 0.1 V: %g" % x)
    snap = li.query_ascii_values("SNAP? 1,2")
    check(len(snap) == 2 and abs(snap[0] - x) < 0.05 * x, "SNAP? 1,2 agrees with OUTP? 1")

    mg = open_(mg_res)
    check(mg.query("*IDN?").startswith("KEPCO,BOP"), "magnet *IDN?")
    mg.write("FUNC:MODE CURR;:VOLT 20;:CURR 0.2;:OUTP ON")
    check(abs(float(mg.query("MEAS:CURR?")) - 0.2) < 1e-9, "magnet current")

    gm = open_(gm_res, read_term="\r\n")
    check(gm.query("*IDN?").startswith("LSCI,MODEL425,"), "gaussmeter *IDN?")
    gm.write("UNIT 2")
    b = float(gm.query("RDGFIELD?"))
    check(abs(b - 0.01) < 1e-4, "gaussmeter reads the magnet's 10 mT: %g" % b)

    for r in (pg, li, mg, gm):
        r.close()
    print("PYVISA OK x=%g B=%g" % (x, b))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
