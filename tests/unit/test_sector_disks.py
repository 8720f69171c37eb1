"""The disk images served a sector at a time (harness/machine/sector_disks.py)."""

import pytest

from harness.machine.sector_disks import SECTOR, DiskRequestError, SectorDisks, images_digest


@pytest.fixture
def disks(tmp_path):
    first = tmp_path / "a.img"
    first.write_bytes(b"".join(bytes([n]) * SECTOR for n in range(4)))
    second = tmp_path / "b.img"
    second.write_bytes(bytes(2 * SECTOR))
    with SectorDisks.open({0: first, 3: second}) as opened:
        yield opened


def test_reads_the_sector_asked_for(disks):
    assert disks.read(0, 0) == bytes(SECTOR)
    assert disks.read(0, 3) == b"\3" * SECTOR
    assert disks.counts() == {0: (2, 0), 3: (0, 0)}


def test_writes_land_in_the_image_file_at_once(disks, tmp_path):
    disks.write(3, 1, b"\xab" * SECTOR)
    image = (tmp_path / "b.img").read_bytes()   # another reader of the file sees it
    assert image[SECTOR:] == b"\xab" * SECTOR and image[:SECTOR] == bytes(SECTOR)
    assert disks.read(3, 1) == b"\xab" * SECTOR
    assert disks.counts()[3] == (1, 1)


@pytest.mark.parametrize("index, sector, message", [
    (0, 4, "sector 4 is outside disk 0 (a.img: 4 sectors)"),
    (0, -1, "sector -1 is outside disk 0"),
    (3, 2, "sector 2 is outside disk 3 (b.img: 2 sectors)"),
])
def test_a_sector_past_the_end_is_refused(disks, index, sector, message):
    with pytest.raises(DiskRequestError, match=message.replace("(", r"\(").replace(")", r"\)")):
        disks.read(index, sector)
    with pytest.raises(DiskRequestError, match="outside"):
        disks.write(index, sector, bytes(SECTOR))


def test_a_disk_that_does_not_exist_is_refused(disks):
    with pytest.raises(DiskRequestError, match=r"no disk 1 \(disks: 0, 3\)"):
        disks.read(1, 0)
    with pytest.raises(DiskRequestError, match="no disk 2"):
        disks.write(2, 0, bytes(SECTOR))


def test_a_write_must_be_one_sector(disks):
    with pytest.raises(DiskRequestError, match="a sector is 512 bytes, not 511"):
        disks.write(0, 0, bytes(SECTOR - 1))
    assert disks.read(0, 0) == bytes(SECTOR)


def test_closed_disks_refuse_requests(tmp_path):
    image = tmp_path / "c.img"
    image.write_bytes(bytes(SECTOR))
    opened = SectorDisks.open({0: image})
    opened.close()
    with pytest.raises(DiskRequestError, match="closed"):
        opened.read(0, 0)


def test_images_other_than_raw_are_refused(tmp_path):
    image = tmp_path / "d.qcow2"
    image.write_bytes(bytes(SECTOR))
    with pytest.raises(DiskRequestError, match="qcow2 images, not raw"):
        SectorDisks.open({0: image}, "qcow2")


def test_a_missing_image_is_a_request_error(tmp_path):
    with pytest.raises(DiskRequestError, match="cannot open disk image .*missing.img"):
        SectorDisks.open({0: tmp_path / "missing.img"})


def test_the_digest_follows_every_byte_and_the_order(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    a.write_bytes(b"x" * 1000)
    b.write_bytes(b"y")
    first = images_digest([a, b])
    assert images_digest([a, b]) == first
    assert images_digest([b, a]) != first
    a.write_bytes(b"x" * 999 + b"z")
    assert images_digest([a, b]) != first
