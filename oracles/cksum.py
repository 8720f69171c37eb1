"""POSIX cksum (CRC-32, polynomial 0x04C11DB7, unreflected, length
appended), as `cksum` from coreutils and scenarios/programs/vm/checksum.h
compute it. Used to check files read back from a disk after a run."""


def _crc_table() -> list:
    table = []
    for byte in range(256):
        crc = byte << 24
        for _ in range(8):
            crc = ((crc << 1) ^ 0x04C11DB7 if crc & 0x80000000 else crc << 1)
        table.append(crc & 0xFFFFFFFF)
    return table


CRC_TABLE = _crc_table()


def cksum(data: bytes) -> int:
    crc = 0
    n = len(data)
    tail = bytearray()
    while n:
        tail.append(n & 0xFF)
        n >>= 8
    for byte in bytes(data) + bytes(tail):
        crc = ((crc << 8) & 0xFFFFFFFF) ^ CRC_TABLE[(crc >> 24) ^ byte]
    return ~crc & 0xFFFFFFFF
