/* arm_id.c: in progress */
