/* arm_err.c: in progress */
