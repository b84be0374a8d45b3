/* auth_cli.c: in progress */
