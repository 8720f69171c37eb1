/* one-frame: a program that runs in a single user frame. It touches no
 * memory but the page it executes (no stack: no call, no push, argv
 * unread), so at any moment it needs one page; with a pool of one frame
 * (-ul=1) the kernel must evict the stack page (argv, written at exec) to
 * load the code page. Then exit(7). Assembly, because crt0's `call` and
 * any C function touch the stack, and an instruction that touches a page
 * other than its own needs two frames at once. */
	.section .text
	.globl _start
	.type _start, @function
_start:
	movl $1, %eax            /* SYS_EXIT */
	movl $7, %edi            /* status */
	syscall
	ud2                      /* exit does not return */
	.size _start, . - _start

	/* A data segment as every program has (user.ld), never touched: its
	 * page stays lazy. */
	.section .data
	.quad 0

	.section .note.GNU-stack, "", @progbits
