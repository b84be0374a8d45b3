/* cache.h: in progress */
