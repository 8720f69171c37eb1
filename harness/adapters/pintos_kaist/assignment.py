"""What the Pintos-KAIST assignment leaves to the student.

Design choices (harness/run/choices.py) on which a scenario's verdict
would otherwise blame a student for following the assignment: each with
where the assignment or its skeleton says so. Facts of the skeleton every
tree starts from, not of one student's code.
"""

OPEN_CHOICES = {
    "eviction-policy":
        "Pintos-KAIST leaves it to the student (the skeleton's vm/vm.c, "
        "vm_get_victim: \"The policy for eviction is up to you\"), so FIFO or any "
        "other order is correct there",
    "fork-mmap":
        "Pintos-KAIST's fork copies the supplemental page table entry by entry "
        "(supplemental_page_table_copy: \"make an exact copy of the entry\") and does "
        "not say that mmap mappings are left out, so a child that keeps them is "
        "correct there",
    "user-port-io":
        "the Pintos-KAIST skeleton's TSS (userprog/tss.c: a zeroed page; "
        "userprog/gdt.c: limit sizeof (struct task_state)) puts the I/O permission "
        "map at offset 0, inside the TSS, where most bits are 0, so user mode may "
        "read those ports (0x64 among them) without a fault, whatever the student wrote",
    "stack-growth-extent":
        "Pintos-KAIST's vm_stack_growth \"increases the stack size by allocating one or "
        "more anonymous pages so that addr is no longer a faulted address\", so a kernel "
        "that fills the gap up to the stack in one fault is correct there",
}
