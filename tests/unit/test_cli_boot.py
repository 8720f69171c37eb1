"""`./vmcheck boot` argument and infrastructure errors: the right exit code
and a message without a traceback. Uses a fake build directory, so no
kernel is needed."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
VMCHECK = REPO_ROOT / "vmcheck"


@pytest.fixture
def fake_build(tmp_path) -> Path:
    """A build directory whose "kernel" is not a kernel (QEMU refuses it)."""
    build = tmp_path / "build"
    (build / "kernel").mkdir(parents=True)
    (build / "programs").mkdir()
    (build / "kernel" / "kernel32.elf").write_bytes(b"not an ELF")
    (build / "kernel" / "kernel.elf").write_bytes(b"not an ELF")
    (build / "programs" / "hello").write_bytes(b"not an ELF either")
    return build


@pytest.fixture
def vmcheck(tmp_path):
    """Runs ./vmcheck with run directories (kept on errors) under tmp_path."""
    def run(*args: str, build: Path | None = None, **env: str) -> subprocess.CompletedProcess:
        full_env = {**os.environ, "TMPDIR": str(tmp_path), **env}
        if build is not None:
            full_env["VMCHECK_BUILD_DIR"] = str(build)
        return subprocess.run([str(VMCHECK), *args], capture_output=True, text=True,
                              timeout=60, env=full_env)
    return run


def assert_error(done: subprocess.CompletedProcess, code: int, text: str, lines: int = 1):
    assert done.returncode == code, done.stderr
    assert "Traceback" not in done.stderr
    assert text in done.stderr
    assert len(done.stderr.strip().splitlines()) <= lines, done.stderr


@pytest.mark.parametrize("args, text", [
    (["boot"], "no PROGRAM given"),
    (["boot", "--mem", "x", "--", "hello"], "--mem"),
    (["boot", "--mem", "0", "--", "hello"], "not between"),
    (["boot", "--swap-mb", "-1", "--", "hello"], "--swap-mb"),
    (["boot", "--timeout", "0", "--", "hello"], "--timeout"),
    (["boot", "--accel", "xen", "--", "hello"], "--accel"),
    (["boot", "--kernel", "nope", "--", "hello"], "unknown --kernel"),
    (["boot", "hello", "--", "hello"], "not both"),
    (["frobnicate"], "invalid choice"),
])
def test_bad_arguments_exit_2_in_one_line(vmcheck, fake_build, args, text):
    assert_error(vmcheck(*args, build=fake_build), 2, text)


def test_missing_program_exits_2(vmcheck, fake_build):
    assert_error(vmcheck("boot", "--", "no-such-program", build=fake_build), 2,
                 "no program 'no-such-program'")


def test_missing_put_file_exits_2(vmcheck, fake_build):
    assert_error(vmcheck("boot", "--put", "/no/such/file", "--", "hello", build=fake_build), 2,
                 "--put /no/such/file")


def test_missing_kernel_build_exits_3(vmcheck, tmp_path):
    assert_error(vmcheck("boot", "--", "hello", build=tmp_path), 3, "kernel not built")


def test_missing_qemu_exits_3(vmcheck, fake_build):
    assert_error(vmcheck("boot", "--", "hello", build=fake_build, VMCHECK_QEMU="/no/qemu"), 3,
                 "QEMU not found")


def test_qemu_dying_at_start_exits_3_with_its_stderr(vmcheck, fake_build):
    done = vmcheck("boot", "--", "hello", build=fake_build)
    assert_error(done, 3, "QEMU exited unexpectedly", lines=4)
    assert "qemu" in done.stderr.lower() and "full log:" in done.stderr


def test_bad_timeout_scale_in_the_environment_exits_2(vmcheck, fake_build):
    assert_error(vmcheck("boot", "--", "hello", build=fake_build,
                         VMCHECK_TIMEOUT_SCALE="fast"), 2, "VMCHECK_TIMEOUT_SCALE")


# ---- verdicts: boot() itself is replaced by a canned result ----

def canned_boot(console: str, qemu_status: int):
    from harness.adapters.reference.adapter import ReferenceAdapter
    from harness.run.boot import BootResult

    def fake_boot(adapter, request, options):
        outcome = ReferenceAdapter().parse_exit(console, qemu_status)
        return BootResult(outcome=outcome, console=console, run_dir=Path("/nonexistent"),
                          kept=False, disks=None, files={}, seconds=0.1)
    return fake_boot


@pytest.mark.parametrize("console, qemu_status, code, verdict", [
    ("hello: exit(0)\n", 33, 0, "hello exited with status 0"),
    ("hello: exit(-1)\n", 33, 255, "hello exited with status -1"),
    ("Kernel PANIC at vm/vm.c:1 in f(): boom\n", 35, 1,
     "KERNEL_PANIC: Kernel PANIC at vm/vm.c:1 in f(): boom"),
    ("", 0, 1, "TRIPLE_FAULT"),
    ("no exit line\n", 33, 1, "FAIL: the kernel powered off without an exit line for 'hello'"),
])
def test_boot_verdicts_and_exit_codes(monkeypatch, capsys, fake_build, console, qemu_status,
                                      code, verdict):
    from harness.run import boot as boot_module
    from harness.cli import main as cli
    monkeypatch.setenv("VMCHECK_BUILD_DIR", str(fake_build))
    monkeypatch.setattr(boot_module, "boot", canned_boot(console, qemu_status))
    assert cli.main(["boot", "--", "hello"]) == code
    assert f"vmcheck: {verdict}" in capsys.readouterr().err


def simulate_host(monkeypatch, tmp_path, modules=(), device=False) -> None:
    """Points the KVM probes (harness.machine.qemu.SYS_MODULE, KVM_DEVICE) at a
    host made of MODULES loaded and a /dev/kvm that exists or not."""
    from harness.machine import qemu as machine
    sys_module = tmp_path / "sys-module"
    for name in modules:
        (sys_module / name).mkdir(parents=True)
    sys_module.mkdir(exist_ok=True)
    node = tmp_path / "dev-kvm"
    if device:
        node.write_bytes(b"")
    monkeypatch.setattr(machine, "SYS_MODULE", sys_module)
    monkeypatch.setattr(machine, "KVM_DEVICE", node)


@pytest.mark.parametrize("modules, device, code, text", [
    (("kvm_pvm",), False, 3, "this host's KVM is PVM"),     # PVM loaded, no /dev/kvm
    (("kvm_pvm",), True, 3, "this host's KVM is PVM"),      # PVM serving /dev/kvm
    ((), False, 3, "dev-kvm is missing or not accessible"),  # no KVM at all
    (("kvm_intel",), True, None, None),                     # hardware KVM: accepted
], ids=["pvm-without-dev-kvm", "pvm-with-dev-kvm", "no-kvm", "hardware-kvm"])
def test_kvm_is_refused_before_anything_runs_on_hosts_that_cannot_run_it(
        monkeypatch, tmp_path, capsys, fake_build, modules, device, code, text):
    """One line, exit code 3 (infrastructure), before QEMU starts; the
    scenario commands refuse as early (RunnerOptions checks the
    accelerator, so there is not one harness error per scenario). The
    host is simulated, so the test holds on any machine."""
    from harness.cli import main as cli
    from harness.errors import HarnessError
    from harness.machine.qemu import Machine
    from harness.run.runner import RunnerOptions
    from harness.machine.qemu import MachineOptions
    simulate_host(monkeypatch, tmp_path, modules, device)
    monkeypatch.setenv("VMCHECK_BUILD_DIR", str(fake_build))
    monkeypatch.setattr(Machine, "start", lambda *a: pytest.fail("QEMU was started"))
    if code is None:
        RunnerOptions(machine=MachineOptions(accel="kvm"))   # no refusal
        return
    assert cli.main(["boot", "--accel", "kvm", "--", "hello"]) == code
    err = capsys.readouterr().err
    assert text in err and len(err.strip().splitlines()) == 1, err
    with pytest.raises(HarnessError, match=text):
        RunnerOptions(machine=MachineOptions(accel="kvm"))
