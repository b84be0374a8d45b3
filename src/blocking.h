/*
 * blocking.h - a thread says it is about to wait.
 *
 * The FUSE loop (fs_loop.c) lets the thread that reads /dev/fuse answer
 * the request it read itself, which is right for the answers that come from
 * the cache in microseconds.  An answer that has to wait (an HTTP request,
 * a fetch another thread is making, a rate limit, a sign-in) calls
 * blocking_begin() first, so that the loop can hand reading to another
 * thread meanwhile.  In any other thread it does nothing.
 *
 * blocking_cancel is set by the FUSE layer while it serves a request whose
 * caller may give up (a signal: the kernel sends FUSE_INTERRUPT); a wait
 * that sees blocking_cancelled() ends with -EINTR, so a killed process is
 * released at once instead of staying in D state until the answer.
 */
#ifndef RPFS_BLOCKING_H
#define RPFS_BLOCKING_H

/* Set per thread by the FUSE loop; NULL elsewhere. */
extern __thread void (*blocking_hook)(void);

static inline void blocking_begin(void)
{
	if (blocking_hook)
		blocking_hook();
}

/* Set per thread by the FUSE layer while a request may be interrupted. */
extern __thread volatile int *blocking_cancel;

/* 1 when the caller of the request being served has given up. */
static inline int blocking_cancelled(void)
{
	return blocking_cancel && *blocking_cancel;
}

/* Sleep ms milliseconds (restarting after signals), saying so first. */
void blocking_sleep_ms(long long ms);

#endif
