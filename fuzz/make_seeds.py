#!/usr/bin/env python3
"""Writes seed inputs for the fuzz targets: short cuts of the real recordings in shared/data and
small files built from the format specifications (one per feature a reader handles: overflow
markers, AEDAT 1.0 records, special and invalid events, packets to skip, CRLF and LF text...).

usage: fuzz/make_seeds.py DATA_DIR OUT_DIR

fuzz/run.sh --update-corpus minimises these (libFuzzer -merge=1) into fuzz/corpus/<target>/,
the corpus kept in git. Missing data files are skipped.
"""
import os
import struct
import sys

data, out = sys.argv[1], sys.argv[2]


def put(target, name, blob):
    d = os.path.join(out, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(blob)


def read(rel, n=None):
    p = os.path.join(data, rel)
    if not os.path.exists(p):
        return None
    with open(p, "rb") as f:
        b = f.read()
    return b[:n] if n else b


# ---- N-MNIST / N-Caltech101 40-bit records: x, y, p<<7 | t[22:16], t[15:8], t[7:0]
def nmnist(x, y, p, t):
    return bytes([x, y, (p << 7) | ((t >> 16) & 0x7F), (t >> 8) & 0xFF, t & 0xFF])


for i in (1, 60001):
    b = read("nmnist/NMNISTsmall/%d.bs2" % i, 40 * 5)
    if b:
        put("fuzz_nmnist_bin", "nmnist_%d_head" % i, b)
b = read("nmnist/tonic_sample/sample_nmnist.bin", 20 * 5)
if b:
    put("fuzz_nmnist_bin", "tonic_head", b)
# overflow marker (y == 240 adds 8192 us to what follows), an N-Caltech101 coordinate, a
# record out of time order, the largest 23-bit time, a truncated last record
put("fuzz_nmnist_bin", "spec_overflow",
    nmnist(1, 2, 1, 100) + nmnist(0, 240, 0, 0) + nmnist(3, 4, 0, 50) + nmnist(33, 33, 1, 0x7FFFFF))
put("fuzz_nmnist_bin", "spec_caltech_unordered", nmnist(200, 170, 1, 900) + nmnist(5, 6, 0, 10))
put("fuzz_nmnist_bin", "spec_truncated", nmnist(1, 1, 1, 1) + b"\x02\x02\x80")


# ---- AEDAT 1.0 / 2.0: '#' header lines, big-endian (address, time) records
def dvs_addr(x_raw, y, off):
    return (y << 8) | (x_raw << 1) | off


mnist_dvs = read("mnist_dvs/mnist_0_scale04_0001.aedat")
if mnist_dvs:
    body = mnist_dvs.index(b"\r\n# created") + 2
    body = mnist_dvs.index(b"\r\n", body) + 2
    put("fuzz_aedat2", "mnistdvs_head", mnist_dvs[:body + 30 * 8])
b = read("aedat_misc/sample_aedat_header.aedat")
if b:
    put("fuzz_aedat2", "davis346_header", b)
ev2 = b"".join(struct.pack(">II", dvs_addr(x, y, p), t)
               for x, y, p, t in ((3, 4, 0, 10), (127, 127, 1, 20), (0, 0, 0, 5), (1, 1, 1, 30)))
special = struct.pack(">II", 0x8000, 25)  # bit 15: a special (sync) event, skipped
wrap = struct.pack(">II", dvs_addr(2, 2, 0), 0xFFFFFFF0) + struct.pack(">II", dvs_addr(2, 2, 1), 0x10)
put("fuzz_aedat2", "spec_v2_lf_chip",
    b"#!AER-DAT2.0\n# AEChip: ch.unizh.ini.jaer.chip.retina.DVS128\n# Timestamps tick is 1 us\n" + ev2 + special + wrap)
put("fuzz_aedat2", "spec_v1", b"#!AER-DAT1.0\r\n" +
    b"".join(struct.pack(">HI", dvs_addr(x, y, p), t) for x, y, p, t in ((5, 6, 1, 1), (7, 8, 0, 2))))
put("fuzz_aedat2", "spec_no_header", struct.pack(">HI", dvs_addr(9, 9, 0), 7))

# ---- AEDAT 3.1: header up to #!END-HEADER, then little-endian packets of 28-byte headers
hdr31 = (b"#!AER-DAT3.1\r\n#Format: RAW\r\n#Source 1: DVS128\r\n"
         b"#Start-Time: 2008-04-29 11:36:59 (TZ+0200)\r\n#!END-HEADER\r\n")


def packet(kind, events, size=8, ts_off=4, overflow=0, capacity=None, valid=None):
    n = len(events) // size
    cap = n if capacity is None else capacity
    return struct.pack("<hhiiiiii", kind, 1, size, ts_off, overflow, cap, n, n if valid is None else valid) + events


def pol(x, y, p, t, valid=1):
    return struct.pack("<Ii", (x << 17) | (y << 2) | (p << 1) | valid, t)


a31 = read("derived/aedat31_from_mnist_dvs/mnist_0_scale04_0001_aedat31.aedat")
if a31:
    end = a31.index(b"#!END-HEADER\r\n") + 14
    real = a31[end + 28:end + 28 + 8 * 24]  # the first 24 real polarity events
    put("fuzz_aedat31", "mnistdvs31_head", a31[:end] + packet(1, real))
put("fuzz_aedat31", "spec_special_invalid_overflow",
    hdr31 + packet(0, struct.pack("<Ii", 0, 0), size=8) +  # a special-event packet, skipped
    packet(1, pol(1, 2, 1, 100) + pol(3, 4, 0, 200, valid=0) + pol(127, 127, 1, 300), valid=2) +
    packet(1, pol(5, 6, 0, 7), overflow=1) +  # t = 2^31 + 7
    packet(2, b"\x00" * 12, size=12, ts_off=8))  # a packet of another type, skipped
put("fuzz_aedat31", "spec_lf_wide_events", b"#!AER-DAT3.1\n#!END-HEADER\n" +
    packet(1, struct.pack("<IiI", (9 << 17) | (9 << 2) | 3, 50, 0xABCD), size=12, ts_off=4))

# ---- Prophesee .raw: '%' header lines, then EVT 2.0 32-bit / EVT 3.0 16-bit little-endian words
def evt2_cd(t, x, y, p):
    return struct.pack("<I", (p << 28) | ((t & 63) << 22) | (x << 11) | y)


def evt2_th(t):
    return struct.pack("<I", (0x8 << 28) | ((t >> 6) & 0x0FFFFFFF))


put("fuzz_evt2", "spec_header_triggers",
    b"% evt 2.0\r\n% format EVT2;height=48;width=64\r\n% geometry 64x48\r\n% end\r\n" +
    evt2_cd(0, 1, 1, 0) +  # before any TIME_HIGH: skipped
    evt2_th(100) + evt2_cd(100, 3, 4, 1) + evt2_cd(101, 63, 47, 0) +
    struct.pack("<I", (0xA << 28) | (2 << 8) | 1) +  # EXT_TRIGGER
    struct.pack("<II", 0xE0000001, 0xF0000002) +  # OTHERS, CONTINUED
    evt2_th(5000) + evt2_cd(5000, 10, 10, 1))
put("fuzz_evt2", "spec_no_header_wrap",  # the 34-bit counter wraps
    evt2_th((1 << 34) - 64) + evt2_cd((1 << 34) - 10, 5, 5, 1) + evt2_th(1 << 34) + evt2_cd(1 << 34, 6, 6, 0))


def w16(*words):
    return b"".join(struct.pack("<H", w) for w in words)


put("fuzz_evt3", "spec_header_vectors",
    b"% evt 3.0\n% format EVT3;height=48;width=64\n% end\n" +
    w16(0x2001,  # ADDR_X before any TIME_HIGH: skipped
        0x8000 | 1, 0x6000 | 5, 0x0000 | 7,  # time 4101, row 7
        0x2000 | (1 << 11) | 3,  # one ON event at x = 3
        0x3000 | 10, 0x4000 | 0b100000000101, 0x5000 | 0b10000001,  # vectors from x = 10
        0xA000 | (1 << 8) | 1, 0xE001, 0x7002, 0xF003,  # trigger, vendor words
        0x6000 | 4095, 0x0000 | 47, 0x2000 | 63))
put("fuzz_evt3", "spec_geometry_wrap",  # the 24-bit counter wraps
    b"% geometry 64x48\n" + w16(0x8000 | 4095, 0x6000 | 100, 0x0001, 0x2002, 0x8000 | 0, 0x6000 | 1, 0x2003))

# ---- label lists (NMNISTsmall) and DVS Gesture label CSVs
for rel in ("nmnist/NMNISTsmall/test100.txt", "dvs_gesture/user01_natural_labels.csv"):
    b = read(rel, 160)
    if b:
        put("fuzz_label_files", os.path.basename(rel), b[:b.rindex(b"\n") + 1])
put("fuzz_label_files", "spec_list_lf_spaces", b"# id label\n\n7 3\n  8\t\t4  \n+9 0\n")
put("fuzz_label_files", "spec_gesture_crlf", b"class,startTime_usec,endTime_usec\r\n8,10,20\r\n8,30,45\r\n11,0,5")

# ---- SHD (structure-aware: byte 0 and 1 choose the layout, then rows; see fuzz_shd.cpp)
def shd(flags, flags2, rows):
    b = bytes([flags, flags2, len(rows)])
    for times, units, label in rows:
        b += bytes([len(times), 1])
        for t in times:
            b += bytes([0, t])  # kind < 200: time = t * 0.01 s
        for u in units:
            b += bytes([u, 0])
        b += bytes([label])
    return b


rows = [([1, 2, 3], [4, 5, 6], 3), ([], [], 0), ([9, 9], [1, 2], 19)]
put("fuzz_shd", "spec_float16_all", shd(0, 1 | (3 << 3), rows))
put("fuzz_shd", "spec_float32_vlen_keys", shd(1 | 32, 1 | 4 | (5 << 3), rows))
put("fuzz_shd", "spec_labels_2d_float_units", shd(64 | 128, 0, rows))
put("fuzz_shd", "spec_missing_times", shd(2, 2, rows[:1]))
put("fuzz_shd", "spec_nan_time", bytes([0, 1, 1, 2, 1, 250, 0x7F, 0xC0, 0, 0, 0, 7, 0, 7, 0, 5]))
# the byte after the rows: 1 gzip (level), 2 gzip damaged (how, a, b[, xor]), 3 raw gzip stream
put("fuzz_shd", "spec_gzip_level6", shd(0, 1, rows[:1]) + bytes([1, 6]))
put("fuzz_shd", "spec_gzip_truncated", shd(0, 1, rows[:1]) + bytes([2, 6, 0, 200, 0]))
put("fuzz_shd", "spec_gzip_flipped", shd(0, 1, rows[:1]) + bytes([2, 6, 1, 0, 40, 0x10]))
put("fuzz_shd", "spec_gzip_two_members", shd(0, 1, rows[:1]) + bytes([2, 1, 2, 0, 0]))
put("fuzz_shd", "spec_gzip_stray_bytes", shd(0, 1, rows[:1]) + bytes([2, 0, 3, 0x1f, 0x8b]))
put("fuzz_shd", "spec_gzip_raw_stream", shd(0, 1, []) + bytes([3, 8, 0, 0, 0, 0, 0, 0, 3, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0]))
