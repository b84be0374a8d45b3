/* blocking.c - the per-thread hook of blocking.h. */
#include "config.h"

#include "blocking.h"

__thread void (*blocking_hook)(void);
__thread volatile int *blocking_cancel;
