/* armjson.h: in progress */
