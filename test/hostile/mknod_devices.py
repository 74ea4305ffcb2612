# Makes device nodes in scratch (a character device for kernel memory, a block device for a disk)
# and other special files with mknod.

import errno
import os

# {{PRELUDE attempts}}


import stat

attempt("mknod /dev/mem", os.mknod, "mem", stat.S_IFCHR | 0o600, os.makedev(1, 1))
attempt("mknod a disk", os.mknod, "sda", stat.S_IFBLK | 0o600, os.makedev(8, 0))
attempt("mknod /dev/null", os.mknod, "null", stat.S_IFCHR | 0o666, os.makedev(1, 3))
attempt("mknod a socket", os.mknod, "socket", stat.S_IFSOCK | 0o600)
attempt("mknod a regular file", os.mknod, "plain", stat.S_IFREG | 0o600)
finish()
