"""POSIX cksum (CRC-32, polynomial 0x04C11DB7, unreflected, length
appended), as `cksum` from coreutils and scenarios/programs/vm/checksum.h
compute it. Used to check files read back from a disk after a run.

zlib's CRC-32 is the same polynomial run the other way round (each byte
least significant bit first, the register reflected). Feeding it every
byte with its bits reversed and reversing the register's 32 bits at the
end gives the unreflected CRC, in C: a 2 MB file in a few milliseconds
instead of a quarter of a second of Python a byte at a time."""

import zlib

_REVERSED_BITS = bytes(int(f"{byte:08b}"[::-1], 2) for byte in range(256))


def _reverse32(value: int) -> int:
    return int(f"{value:032b}"[::-1], 2)


def cksum(data: bytes) -> int:
    n = len(data)
    length = bytearray()
    while n:
        length.append(n & 0xFF)
        n >>= 8
    # zlib.crc32(x, 0xFFFFFFFF) starts its register at 0 (it complements the
    # value passed) and returns the complement of the final register, which
    # reversed is cksum's complemented result
    running = zlib.crc32(bytes(data).translate(_REVERSED_BITS), 0xFFFFFFFF)
    return _reverse32(zlib.crc32(bytes(length).translate(_REVERSED_BITS), running))
