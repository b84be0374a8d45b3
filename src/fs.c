/* fs.c: in progress */
