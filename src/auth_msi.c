/* auth_msi.c: in progress */
