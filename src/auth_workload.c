/* auth_workload.c: in progress */
