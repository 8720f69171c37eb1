/* seg-byte: ELF segments whose file part ends one byte into a page. The
 * read-only segment's last page holds one byte of the file (ro_byte, 0x21,
 * alone on a page-aligned page of .rodata) and the data segment holds one
 * byte in all (rw_byte, 0x22, no .bss): a loader must read that one byte
 * from the executable and zero the other 4,095, in both. The program
 * exits with the sum of the two bytes, 67; a kernel that skips a file
 * part of one byte (generated mutant spt-102: `read_bytes > 1` where the
 * segment's file is opened) loads the data page from no file: the
 * reference kernel's load then faults on the NULL file (a kernel panic;
 * a kernel that zero-fills instead would exit 33).
 * Assembly, because the user library brings .data and .bss of its own. */
	.section .text
	.globl _start
	.type _start, @function
_start:
	movzbl ro_byte(%rip), %edi
	movzbl rw_byte(%rip), %eax
	addl %eax, %edi          /* status: 0x21 + 0x22 = 67 */
	movl $1, %eax            /* SYS_EXIT */
	syscall
	ud2                      /* exit does not return */
	.size _start, . - _start

	.section .rodata
	.balign 4096
ro_byte:
	.byte 0x21

	.section .data
rw_byte:
	.byte 0x22

	.section .note.GNU-stack, "", @progbits
