#!/usr/bin/env python3
"""Writes a reproducible cpio "newc" archive (the initramfs format) to stdout.

usage: mkcpio.py STAGING_DIR MTIME [NODE ...]

Every file, directory and symlink under STAGING_DIR goes in, sorted by path
(parents before children), owned by 0:0, with mtime MTIME
(SOURCE_DATE_EPOCH), inode numbers counted from 1 in that order, and modes
normalised to 0755 (directories and executables) or 0644. Each NODE is
"c:PATH:MODE:MAJOR:MINOR" and adds a character device without needing
mknod (the kernel needs /dev/console before devtmpfs is mounted).
Nothing of the build machine (owners, times, inode numbers) reaches the output.
"""

import os
import stat
import sys

S_IFDIR, S_IFREG, S_IFLNK, S_IFCHR = 0o040000, 0o100000, 0o120000, 0o020000


def header(out, ino, mode, nlink, mtime, size, name, rmajor=0, rminor=0):
    encoded = name.encode() + b"\0"
    fields = [ino, mode, 0, 0, nlink, mtime, size, 0, 0, rmajor, rminor, len(encoded), 0]
    out.write(b"070701" + b"".join(b"%08X" % f for f in fields) + encoded)
    out.write(b"\0" * (-(110 + len(encoded)) % 4))


def data(out, blob):
    out.write(blob)
    out.write(b"\0" * (-len(blob) % 4))


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    root, mtime = sys.argv[1], int(sys.argv[2])
    entries = []
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            full = os.path.join(dirpath, name)
            entries.append((os.path.relpath(full, root), full))
    nodes = []
    for spec in sys.argv[3:]:
        kind, path, mode, major, minor = spec.split(":")
        if kind != "c":
            sys.exit(f"mkcpio: unsupported node {spec!r}")
        nodes.append((path.lstrip("/"), int(mode, 8), int(major), int(minor)))
    names = sorted([e[0] for e in entries] + [n[0] for n in nodes])
    if len(set(names)) != len(names):
        sys.exit("mkcpio: a node collides with a staged file")
    by_name = dict(entries)
    node_by_name = {n[0]: n for n in nodes}
    out = sys.stdout.buffer
    for ino, name in enumerate(names, start=1):
        if name in node_by_name:
            _, mode, major, minor = node_by_name[name]
            header(out, ino, S_IFCHR | mode, 1, mtime, 0, name, major, minor)
            continue
        full = by_name[name]
        st = os.lstat(full)
        if stat.S_ISLNK(st.st_mode):
            target = os.readlink(full).encode()
            header(out, ino, S_IFLNK | 0o777, 1, mtime, len(target), name)
            data(out, target)
        elif stat.S_ISDIR(st.st_mode):
            header(out, ino, S_IFDIR | 0o755, 2, mtime, 0, name)
        elif stat.S_ISREG(st.st_mode):
            mode = 0o755 if st.st_mode & 0o111 else 0o644
            with open(full, "rb") as f:
                blob = f.read()
            header(out, ino, S_IFREG | mode, 1, mtime, len(blob), name)
            data(out, blob)
        else:
            sys.exit(f"mkcpio: {name}: unsupported file type")
    header(out, 0, 0, 1, 0, 0, "TRAILER!!!")
    out.flush()


if __name__ == "__main__":
    main()
