#!/usr/bin/env python3
"""Builds the hostile corpus: one input per attack class, each with its expectation.

Usage: make_corpus.py OUTDIR

Writes OUTDIR/<case>.<ext> and OUTDIR/cases.json. Every case is made here, by Python's own
archive writers, GNU tar, gzip, zip and mksquashfs, so nothing opaque is committed. The
expectations are read by run_corpus.py, which runs clearbox on each case and checks them
together with the wall-clock, disk and memory bounds.

Case fields: name, file, command ("unpack" or "scan"), args (extra options), why (the
attack), expect_files (manifest paths that must end with these: the rest of the image was
still unpacked), expect_containers (files that must have been carved: a chunk lists them as
container), expect_problems (problem kinds that must be recorded), max_entries (objects under
the output directory), and the bounds max_seconds (applied to the smaller of wall and CPU
time), max_written_bytes, max_rss_bytes.
"""

import gzip
import io
import json
import os
import random
import shutil
import struct
import subprocess
import sys
import tarfile
import zipfile
import zlib

GIB = 1 << 30
MIB = 1 << 20


def case(name, file, why, **kw):
    entry = {
        "name": name,
        "file": file,
        "command": "unpack",
        "args": [],
        "why": why,
        "expect_files": [],
        "expect_containers": [],
        "expect_problems": [],
        "max_entries": None,
        "max_seconds": 10,
        "max_written_bytes": GIB,
        "max_rss_bytes": GIB,
    }
    entry.update(kw)
    return entry


def tar_add(t, name, data=b"x", kind=tarfile.REGTYPE, link="", mode=0o644):
    info = tarfile.TarInfo(name)
    info.type = kind
    info.linkname = link
    info.mode = mode
    info.mtime = 1700000000
    if kind == tarfile.REGTYPE:
        info.size = len(data)
        t.addfile(info, io.BytesIO(data))
    else:
        t.addfile(info)


def gzip_bytes(data, name="inner.txt"):
    buf = io.BytesIO()
    with gzip.GzipFile(filename=name, mode="wb", fileobj=buf, mtime=1700000000) as g:
        g.write(data)
    return buf.getvalue()


def run(cmd, cwd):
    subprocess.run(cmd, cwd=cwd, check=True, shell=True)


def sparse_tar(out, work):
    # GNU tar stores the 17 GiB file as a sparse member of a few blocks; a later member and a
    # later gzip chunk must still be unpacked.
    d = os.path.join(work, "sparse")
    os.makedirs(d)
    with open(os.path.join(d, "huge"), "wb") as f:
        f.truncate(17 * GIB)
        f.seek(17 * GIB - 5)
        f.write(b"tail\n")
    with open(os.path.join(d, "after.txt"), "w") as f:
        f.write("written after the sparse member\n")
    run("tar --sparse --format=gnu -cf ../sparse.tar huge after.txt", d)
    with open(os.path.join(work, "sparse.tar"), "rb") as f:
        data = f.read()
    with open(os.path.join(out, "sparse-17g.bin"), "wb") as f:
        f.write(data + gzip_bytes(b"later chunk\n" * 100, "later.txt"))
    return case("sparse-17g", "sparse-17g.bin",
                "GNU sparse tar member claiming 17 GiB, then a normal member and a gzip chunk",
                expect_files=["after.txt", "0x" + format(len(data), "08x") + ".gzip/later.txt"])


def symlink_chain(out, reverse):
    # s -> ../../.. (the filesystem root, physically) and e -> s/../../.. ../etc/passwd: read
    # as text e stays inside, but followed through s it leaves for the host's /etc/passwd.
    depth = 30
    link_dir = "/".join("d%d" % i for i in range(depth))
    name = "symlink-chain-reverse.tar" if reverse else "symlink-chain.tar"
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.GNU_FORMAT) as t:
        tar_add(t, link_dir + "/", kind=tarfile.DIRTYPE, mode=0o755)
        s = (link_dir + "/s", "/".join([".."] * depth))
        # Read as text, e has one '..' fewer than its depth: inside. Through s: far above.
        e = (link_dir + "/e", "s/" + "/".join([".."] * (depth - 1)) + "/etc/passwd")
        for member, target in ([e, s] if reverse else [s, e]):
            tar_add(t, member, kind=tarfile.SYMTYPE, link=target)
        tar_add(t, "ok.txt", b"still here\n")
    with open(os.path.join(out, name), "wb") as f:
        f.write(buf.getvalue())
    return case("symlink-chain" + ("-reverse" if reverse else ""), name,
                "a symlink whose target leaves the root only when an earlier (or later) "
                "symlink of the same tree is followed",
                expect_files=["ok.txt"])


def deep_dirs(out):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as t:
        for i in range(200):
            path = "/".join("m%03d_%03d" % (i, level) for level in range(200))
            tar_add(t, path + "/f", b"")
    with open(os.path.join(out, "deep-dirs.tar"), "wb") as f:
        f.write(buf.getvalue())
    return case("deep-dirs", "deep-dirs.tar",
                "200 members 200 levels deep: parent directories created implicitly",
                args=["--max-files", "1000"], expect_problems=["limit-exceeded"],
                max_entries=1100)


def nested_zip_bomb(out, work):
    # Layer 1: 64 MiB of zeros deflated (about 65 KB); layers 2 and 3: 16 copies each,
    # deflated again (the copies are identical), so the full output is 16 GiB.
    layer = io.BytesIO()
    with zipfile.ZipFile(layer, "w", zipfile.ZIP_DEFLATED, compresslevel=6) as z:
        with z.open(zipfile.ZipInfo("zeros", (2023, 11, 14, 0, 0, 0)), "w",
                    force_zip64=True) as member:
            block = bytes(16 * MIB)
            for _ in range(4):
                member.write(block)
    data = layer.getvalue()
    for level in (2, 3):
        nxt = io.BytesIO()
        with zipfile.ZipFile(nxt, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
            for i in range(16):
                info = zipfile.ZipInfo("l%d_%02d.zip" % (level, i), (2023, 11, 14, 0, 0, 0))
                info.compress_type = zipfile.ZIP_DEFLATED
                z.writestr(info, data)
        data = nxt.getvalue()
    with open(os.path.join(out, "nested-zip-bomb.zip"), "wb") as f:
        f.write(data)
    return case("nested-zip-bomb", "nested-zip-bomb.zip",
                "zips of zips of 64 MiB zero files (16 GiB in all) from a few dozen KB",
                expect_problems=["limit-exceeded"], max_written_bytes=256 * MIB)


def squashfs_xz_truncated(out, work):
    if shutil.which("mksquashfs") is None:
        return None
    d = os.path.join(work, "sqroot")
    os.makedirs(d)
    # Text of 16 letters that xz compresses about 2:1, in 4 KiB blocks: thousands of xz
    # streams back to back.
    rng = random.Random(12345)
    letters = bytes(b"abcdefghijklmno " * 16)
    for n in range(4):
        with open(os.path.join(d, "log%d.txt" % n), "wb") as f:
            f.write(rng.randbytes(2 * MIB).translate(letters))
    run("mksquashfs sqroot full.sqfs -comp xz -b 4096 -noappend -no-progress -quiet "
        "-all-root -mkfs-time 1700000000 -no-xattrs >/dev/null", work)
    with open(os.path.join(work, "full.sqfs"), "rb") as f:
        full = f.read()
    cut = full[: len(full) // 2]
    with open(os.path.join(out, "squashfs-xz-truncated.sqfs"), "wb") as f:
        f.write(cut)
    return case("squashfs-xz-truncated", "squashfs-xz-truncated.sqfs",
                "a truncated SquashFS whose xz blocks (thousands of streams) are carved one by "
                "one", max_written_bytes=256 * MIB)


def ubifs_probe_flood(out):
    # A UBIFS node header every 64 bytes claiming a length that runs to the end of the file:
    # a CRC over what each one claims would cost the rest of the file per candidate.
    size = 8 * MIB
    buf = bytearray(size)
    for pos in range(0, size - 24, 64):
        struct.pack_into("<IIQIB", buf, pos, 0x06101831, 0xDEADBEEF, 1, size - pos, 6)
    with open(os.path.join(out, "ubifs-probe-flood.bin"), "wb") as f:
        f.write(buf)
    return case("ubifs-probe-flood", "ubifs-probe-flood.bin",
                "131,072 UBIFS superblock candidates each claiming a node as long as the file")


def fit_probe_flood(out):
    # 20,000 device-tree headers that all point at one structure block of a million NOP tokens
    # with no END token: a walk of the whole block per candidate.
    headers = 20000
    nops = 1 << 20
    struct_at = headers * 40
    total = struct_at + nops * 4
    buf = bytearray(total)
    for i in range(headers):
        pos = i * 40
        off_struct = struct_at - pos
        size_struct = nops * 4
        tsize = total - pos
        struct.pack_into(">10I", buf, pos, 0xD00DFEED, tsize, off_struct, 40, 40, 17, 16, 0,
                         0, size_struct)
    buf[struct_at:] = struct.pack(">I", 4) * nops
    with open(os.path.join(out, "fit-probe-flood.bin"), "wb") as f:
        f.write(buf)
    return case("fit-probe-flood", "fit-probe-flood.bin",
                "20,000 FIT/DTB headers sharing a structure block of a million NOPs, no END")


def decoy_extract_names(out):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.GNU_FORMAT) as t:
        tar_add(t, "x.gz", gzip_bytes(b"hidden payload\n" * 50, "x"))
        tar_add(t, "x.gz.extract/", kind=tarfile.DIRTYPE, mode=0o755)
        for i in range(1, 150):
            tar_add(t, "x.gz.extract~%d" % i, b"decoy")
    with open(os.path.join(out, "decoy-extract-names.tar"), "wb") as f:
        f.write(buf.getvalue())
    return case("decoy-extract-names", "decoy-extract-names.tar",
                "decoy x.extract, x.extract~N names to stop x from being unpacked",
                expect_containers=["x.gz"])


def hardlink_onto_directory(out):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.GNU_FORMAT) as t:
        tar_add(t, "f", b"file\n")
        tar_add(t, "d/", kind=tarfile.DIRTYPE, mode=0o755)
        tar_add(t, "d/inside.txt", b"inside\n")
        tar_add(t, "d", kind=tarfile.LNKTYPE, link="f")
        tar_add(t, "z.txt", b"after the bad link\n")
    with open(os.path.join(out, "hardlink-onto-directory.tar"), "wb") as f:
        f.write(buf.getvalue())
    return case("hardlink-onto-directory", "hardlink-onto-directory.tar",
                "a hard link named like an existing directory", expect_files=["z.txt"],
                expect_problems=["malformed"])


def traversal_tricks(out):
    # The classic set (also in tests/hostile_test.cpp): '..', absolute paths, links out,
    # writes through links, a hard link to the host's /etc/passwd, a device node.
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.GNU_FORMAT) as t:
        tar_add(t, "../escape-dotdot")
        tar_add(t, "/tmp/clearbox-corpus-abs-escape")
        tar_add(t, "ok/inner.txt", b"fine")
        tar_add(t, "up", kind=tarfile.SYMTYPE, link="../../../../../../")
        tar_add(t, "up/escape-through-link")
        tar_add(t, "etc", kind=tarfile.SYMTYPE, link="/etc")
        tar_add(t, "etc/passwd-overwrite")
        tar_add(t, "hl", kind=tarfile.LNKTYPE, link="../../../../etc/passwd")
        tar_add(t, "dev/sda", kind=tarfile.BLKTYPE)
    with open(os.path.join(out, "traversal-tricks.tar"), "wb") as f:
        f.write(buf.getvalue())
    return case("traversal-tricks", "traversal-tricks.tar",
                "'..', absolute paths, links out of the tree and writes through them",
                expect_files=["ok/inner.txt"], expect_problems=["traversal"])


def deep_nesting(out):
    data = b"core\n"
    for _ in range(25):
        data = gzip_bytes(data, "l")
        buf = io.BytesIO()
        with tarfile.open(fileobj=buf, mode="w", format=tarfile.GNU_FORMAT) as t:
            tar_add(t, "l", data)
        data = buf.getvalue()
    with open(os.path.join(out, "deep-nesting.bin"), "wb") as f:
        f.write(data)
    return case("deep-nesting", "deep-nesting.bin", "50 levels of tar and gzip",
                expect_problems=["limit-exceeded"])


def many_files(out):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.GNU_FORMAT) as t:
        for i in range(300):
            tar_add(t, "many/f%d" % i, b"%d\n" % i)
    with open(os.path.join(out, "many-files.tar"), "wb") as f:
        f.write(buf.getvalue())
    return case("many-files", "many-files.tar", "more files than --max-files",
                args=["--max-files", "100"], expect_problems=["limit-exceeded"],
                max_entries=110)


def long_paths(out):
    # A gzip stored under a member path of 4,080 bytes: with the output directory and
    # the chunk directory in front, its absolute path is longer than PATH_MAX (4,096).
    parts = ["p%02d_%s" % (i, "x" * 200) for i in range(19)] + ["q" * 177]
    deep = "/".join(parts) + "/deep.gz"
    assert len(deep) == 4080  # under the 4,096 bytes a member path may have
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as t:
        tar_add(t, deep, gzip_bytes(b"found at depth\n" * 20, "deep"))
    with open(os.path.join(out, "long-paths.tar"), "wb") as f:
        f.write(buf.getvalue())
    return case("long-paths", "long-paths.tar",
                "a container whose absolute output path is longer than PATH_MAX",
                expect_containers=["deep.gz"], expect_files=["deep.gz.extract/0x00000000.gzip/deep"])


def costly_shadow(out):
    # One shadow line whose scrypt/yescrypt parameters ask for hours of work per guess.
    # scrypt ($7$): N = 2^15, r = 8, then p = 2^22 (one guess: 2^22 sequential scrypt runs);
    # the second line asks for r = 2^29.
    salt = "2Q9obwLhin8qvQl6sisAO/"
    digest = "sOfLhkwGAZ.dTMn2yFhQ3dgyOT.rgf6pt1CvjrUE4N2"
    shadow = (
        "root:$7$D" + "6...." + "...E." + salt + "$" + digest + ":19000:0:99999:7:::\n"
        "admin:$7$D" + "....U" + "/...." + salt + "$" + digest + ":19000:0:99999:7:::\n"
    )
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.GNU_FORMAT) as t:
        tar_add(t, "etc/shadow", shadow.encode(), mode=0o600)
        tar_add(t, "etc/passwd", b"root:x:0:0:root:/root:/bin/sh\n"
                b"admin:x:1000:1000::/home/admin:/bin/sh\n")
    with open(os.path.join(out, "costly-shadow.tar"), "wb") as f:
        f.write(buf.getvalue())
    return case("costly-shadow", "costly-shadow.tar",
                "shadow hashes whose scrypt/yescrypt parameters (p, t, N) cost hours per guess",
                command="scan", args=["--no-vuln"], expect_files=["etc/shadow"])


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: make_corpus.py OUTDIR")
    out = os.path.abspath(sys.argv[1])
    if os.path.exists(out):
        shutil.rmtree(out)
    work = os.path.join(out, ".work")
    os.makedirs(work)
    cases = [
        sparse_tar(out, work),
        symlink_chain(out, reverse=False),
        symlink_chain(out, reverse=True),
        deep_dirs(out),
        nested_zip_bomb(out, work),
        squashfs_xz_truncated(out, work),
        ubifs_probe_flood(out),
        fit_probe_flood(out),
        decoy_extract_names(out),
        hardlink_onto_directory(out),
        traversal_tricks(out),
        deep_nesting(out),
        many_files(out),
        long_paths(out),
        costly_shadow(out),
    ]
    shutil.rmtree(work)
    cases = [c for c in cases if c is not None]
    with open(os.path.join(out, "cases.json"), "w") as f:
        json.dump(cases, f, indent=1, sort_keys=True)
    print("hostile corpus: %d cases in %s" % (len(cases), out))


if __name__ == "__main__":
    main()
