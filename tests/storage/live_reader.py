#!/usr/bin/env python3
"""Follows a growing mtjlab run file as an external client would: h5py, SWMR read, refresh().

usage: live_reader.py FILE EXPECTED_ROWS
Checks that the visible row count never decreases, that every visible row holds the value the test writer
wrote (formula shared with crash_writer.cpp), and that the file is seen growing several times before the
writer marks it complete. Prints one summary line; exit code 0 on success."""
import sys
import time

import h5py


def value(i, c, is_int):
    if is_int:
        return float((i * 7 + c) % 1000) - 500.0
    return i * 0.5 + c * 1000.0 + 0.125


def main():
    path, expected = sys.argv[1], int(sys.argv[2])
    f = h5py.File(path, "r", libver="latest", swmr=True)
    assert f.attrs["mtjlab_format"] == "mtjlab-run", f.attrs["mtjlab_format"]
    names = f["data"].attrs["columns"].split(",")
    dsets = [f["data/" + n] for n in names]
    units = [d.attrs["units"] for d in dsets]
    assert units[names.index("resistance_ohm")] == "Ohm", units
    state = f["status/state"]
    last, seen, checked = 0, set(), 0
    deadline = time.monotonic() + 120
    while True:
        for d in dsets:
            d.refresh()
        state.refresh()
        status = state[()].decode()
        n = min(d.shape[0] for d in dsets)
        if n < last:
            sys.exit(f"row count went back from {last} to {n}")
        if n > last:
            for c, d in enumerate(dsets):
                is_int = d.dtype.kind == "i"
                block = d[last:n]
                for k, v in enumerate(block):
                    want = value(last + k, c, is_int)
                    if float(v) != want:
                        sys.exit(f"row {last + k} column {names[c]}: {v} != {want}")
                    checked += 1
            seen.add(n)
            last = n
        if status == "complete":
            break
        if status != "running":
            sys.exit(f"unexpected status {status}")
        if time.monotonic() > deadline:
            sys.exit(f"timeout at {n} rows")
        time.sleep(0.005)
    if last != expected:
        sys.exit(f"complete with {last} rows, expected {expected}")
    if len(seen) < 5:
        sys.exit(f"saw only {len(seen)} distinct sizes while the file grew: not following it live")
    print(f"live read ok: {last} rows, {len(seen)} distinct sizes seen, {checked} values checked")


if __name__ == "__main__":
    main()
