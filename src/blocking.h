/*
 * blocking.h - a thread says it is about to wait.
 *
 * The FUSE loop (fs_loop.c) lets the thread that reads /dev/fuse answer
 * the request it read itself, which is right for the answers that come from
 * the cache in microseconds.  An answer that has to wait (an HTTP request,
 * a fetch another thread is making, a rate limit, a sign-in) calls
 * blocking_begin() first, so that the loop can hand reading to another
 * thread meanwhile.  In any other thread it does nothing.
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

/* Sleep ms milliseconds (restarting after signals), saying so first. */
void blocking_sleep_ms(long long ms);

#endif
