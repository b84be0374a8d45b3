/* http.c: in progress */
