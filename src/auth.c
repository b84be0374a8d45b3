/* auth.c: in progress */
