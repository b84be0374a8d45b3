/* blocking.c - the per-thread hook of blocking.h. */
#include "config.h"

#include "blocking.h"

#include <errno.h>
#include <time.h>

__thread void (*blocking_hook)(void);
__thread volatile int *blocking_cancel;

/* Sleep ms milliseconds, letting the FUSE loop read on meanwhile. */
void blocking_sleep_ms(long long ms)
{
	struct timespec ts;

	if (ms <= 0)
		return;
	ts.tv_sec = (time_t)(ms / 1000);
	ts.tv_nsec = (long)(ms % 1000) * 1000000L;
	blocking_begin();
	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}
