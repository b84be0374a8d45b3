/* fs.h: in progress */
