/* auth_env.c: in progress */
