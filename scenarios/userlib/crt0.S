/* Program entry. The kernel (Pintos-KAIST ABI) enters _start with
 * rdi = argc, rsi = argv and rsp pointing at a fake return address 0.
 * Nothing guarantees 16-byte stack alignment, so realign before calling C. */
	.section .text
	.globl _start
	.type _start, @function
_start:
	xorl %ebp, %ebp          /* outermost frame for debuggers */
	andq $-16, %rsp
	call __vmuser_start      /* (argc, argv): runs main, never returns */
	ud2
	.size _start, . - _start

	.section .note.GNU-stack, "", @progbits
