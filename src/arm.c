/* arm.c: in progress */
