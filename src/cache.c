/* cache.c: in progress */
