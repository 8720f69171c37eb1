"""The machine: one QEMU process, its QMP link, serial console, guest clock and run folder."""
