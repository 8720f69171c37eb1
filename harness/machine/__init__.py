"""The machine: one QEMU process, its QMP link, serial console, guest clock, run folder and
interrupt log."""
