/* armjson.c: in progress */
