/* tree.h: in progress */
