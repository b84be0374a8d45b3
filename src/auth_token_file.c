/* auth_token_file.c: in progress */
