/* http.h: in progress */
