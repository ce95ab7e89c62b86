#!/usr/bin/env python3
"""Checks that kernel modules are listed in an order the kernel can load them.

usage: kmods.py MODULE...

Each MODULE is a .ko, .ko.xz or .ko.gz file. Reads the `name=` and
`depends=` fields of each module's .modinfo ELF section (what `modinfo -F
depends` prints, without needing kmod installed) and fails, naming the module,
when one depends on a module that is not listed before it: `finit_module`
does not resolve dependencies, so `tessera boot` must load them in this order.
Prints one "NAME: depends on A,B" line per module on success.
"""

import gzip
import lzma
import struct
import sys


def module_bytes(path):
    with open(path, "rb") as f:
        raw = f.read()
    if path.endswith(".xz"):
        return lzma.decompress(raw)
    if path.endswith(".gz"):
        return gzip.decompress(raw)
    return raw


def modinfo(path):
    elf = module_bytes(path)
    if elf[:4] != b"\x7fELF" or elf[4] != 2 or elf[5] != 1:
        raise ValueError(f"{path} is not a 64-bit little-endian ELF module")
    shoff, = struct.unpack_from("<Q", elf, 0x28)
    shentsize, shnum, shstrndx = struct.unpack_from("<HHH", elf, 0x3A)

    def section(i):
        # sh_name, sh_type, sh_flags, sh_addr, sh_offset, sh_size
        name, _, _, _, offset, size = struct.unpack_from("<IIQQQQ", elf, shoff + i * shentsize)
        return name, elf[offset:offset + size]

    _, names = section(shstrndx)
    for i in range(shnum):
        name_off, body = section(i)
        if names[name_off:names.index(b"\0", name_off)] == b".modinfo":
            fields = {}
            for entry in body.split(b"\0"):
                key, sep, value = entry.partition(b"=")
                if sep:
                    fields.setdefault(key.decode(), value.decode())
            return fields
    raise ValueError(f"{path} has no .modinfo section")


def main(paths):
    loaded = set()
    for path in paths:
        try:
            info = modinfo(path)
        except (OSError, ValueError, lzma.LZMAError, struct.error) as e:
            sys.exit(f"kmods: {e}")
        name = info.get("name")
        if not name:
            sys.exit(f"kmods: {path} has no name= in its .modinfo")
        depends = [d for d in info.get("depends", "").split(",") if d]
        missing = [d for d in depends if d not in loaded]
        if missing:
            sys.exit(f"kmods: {name} ({path}) depends on {','.join(missing)}, which the list does not load before it")
        print(f"{name}: depends on {','.join(depends) or 'nothing'}")
        loaded.add(name)


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__.strip())
    main(sys.argv[1:])
