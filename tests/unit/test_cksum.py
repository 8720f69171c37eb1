"""oracles.cksum against the definition (a byte at a time, MSB first) and
against coreutils' `cksum`, over lengths whose appended length bytes differ."""
import random
import shutil
import subprocess

import pytest

from oracles.cksum import cksum


def by_definition(data: bytes) -> int:
    crc = 0
    n, tail = len(data), bytearray()
    while n:
        tail.append(n & 0xFF)
        n >>= 8
    for byte in bytes(data) + bytes(tail):
        crc ^= byte << 24
        for _ in range(8):
            crc = ((crc << 1) ^ 0x04C11DB7 if crc & 0x80000000 else crc << 1) & 0xFFFFFFFF
    return ~crc & 0xFFFFFFFF


LENGTHS = (0, 1, 2, 255, 256, 257, 4095, 4096, 65535, 65536, 65537, 70001)


def test_the_published_check_values():
    assert cksum(b"") == 4294967295
    assert cksum(b"123456789") == 930766865


@pytest.mark.parametrize("n", LENGTHS)
def test_matches_the_definition(n):
    data = random.Random(n).randbytes(n)
    assert cksum(data) == by_definition(data)
    assert cksum(bytearray(data)) == cksum(memoryview(data)) == cksum(data)


@pytest.mark.skipif(shutil.which("cksum") is None, reason="coreutils cksum is not on PATH")
@pytest.mark.parametrize("n", LENGTHS + (1 << 20,))
def test_matches_coreutils(n):
    data = random.Random(-n).randbytes(n)
    out = subprocess.run(["cksum"], input=data, capture_output=True, check=True).stdout
    assert cksum(data) == int(out.split()[0])


def test_one_bit_changes_it():
    data = bytearray(random.Random(7).randbytes(5000))
    before = cksum(data)
    data[1234] ^= 0x10
    assert cksum(data) != before
