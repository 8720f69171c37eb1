"""capstone's unused `import distutils.sysconfig` is not paid for, and
leaves nothing behind (harness/x86/capstone_loader.py)."""
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

PROBE = """
import sys
sys.path.insert(0, {root!r})
import harness.x86.fault_decode
from harness.x86.disasm import x86_64_decoder
insns = list(x86_64_decoder().disasm_lite(bytes.fromhex("4889e5c3"), 0x1000))
loaded = sorted(m for m in ("setuptools", "pkg_resources", "distutils", "distutils.sysconfig")
                if m in sys.modules)
import distutils.sysconfig
print(len(insns), loaded, callable(getattr(distutils.sysconfig, "get_python_lib", None)))
"""


def test_capstone_loads_without_distutils_and_leaves_the_real_one_importable():
    out = subprocess.run([sys.executable, "-W", "ignore", "-c", PROBE.format(root=str(ROOT))],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    # two instructions decoded, no distutils/setuptools loaded on the way,
    # and a later `import distutils.sysconfig` gets the real module
    assert out.stdout.split() == ["2", "[]", "True"], out.stdout
