/* tree.c: in progress */
