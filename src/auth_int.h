/* auth_int.h: in progress */
