# Drops the neutered helper module and imports a fresh copy of it.
import sys
del sys.modules["_posixsubprocess"]
import _posixsubprocess
print(_posixsubprocess.fork_exec)
